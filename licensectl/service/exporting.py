"""`export`: every license a filter selects, streamed in batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmodel import col

from licensectl.contract.models import LicensePublic
from licensectl.contract.requests import LicenseFilter
from licensectl.models import License
from licensectl.service.convert import licenses_public
from licensectl.service.lookup import Lookups

EXPORT_BATCH: Final = 1000


class ExportOps(Lookups):
    def export_licenses(
        self, filters: LicenseFilter, *, batch_size: int = EXPORT_BATCH
    ) -> Iterator[list[LicensePublic]]:
        """The licenses `license list` would show with these filters, all of them, oldest
        first, in batches: one query read as it goes, so memory stays flat."""
        with self._read() as s:
            stmt = self._license_select(s, filters).order_by(col(License.seq))
            result = s.exec(stmt.execution_options(yield_per=batch_size))
            for licenses in result.partitions():
                yield licenses_public(s, licenses)
