"""`export`: every license a filter selects, streamed in batches.

One joined SELECT (license, its partner, its customer) read as it goes, each row made a
`LicensePublic` without validation (`model_construct`: the store's rows are valid by
construction), so memory stays flat and no ORM object is ever loaded: ORM loading and
validation were two thirds of an export's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy import Table, select

from licensectl import domain
from licensectl.contract.models import LicensePublic
from licensectl.contract.requests import LicenseFilter
from licensectl.models import Customer, License, Partner
from licensectl.service.lookup import Lookups

EXPORT_BATCH: Final = 1000

LICENSES: Final[Table] = License.__table__  # type: ignore[attr-defined]
PARTNERS: Final[Table] = Partner.__table__  # type: ignore[attr-defined]
CUSTOMERS: Final[Table] = Customer.__table__  # type: ignore[attr-defined]


class ExportOps(Lookups):
    def export_licenses(
        self, filters: LicenseFilter, *, batch_size: int = EXPORT_BATCH
    ) -> Iterator[list[LicensePublic]]:
        """The licenses `license list` would show with these filters, all of them, oldest
        first, in batches: one query read as it goes, so memory stays flat."""
        with self._read() as s:
            # The filters' conditions, as `license list` builds them, on a joined SELECT.
            where = self._license_select(s, filters).whereclause
            lic, partner, customer = LICENSES, PARTNERS, CUSTOMERS
            stmt = (
                select(
                    lic.c.license_id,
                    lic.c.type,
                    lic.c.devices,
                    lic.c.quantity,
                    lic.c.status,
                    lic.c.active_copies,
                    lic.c.term_months,
                    lic.c.purchase_order,
                    lic.c.po_line,
                    partner.c.name.label("partner"),
                    customer.c.customer_id,
                    customer.c.name.label("customer"),
                    lic.c.parent_id,
                    lic.c.note,
                    lic.c.created_at,
                )
                .join(partner, partner.c.id == lic.c.partner_id)
                .outerjoin(customer, customer.c.id == lic.c.customer_pk)
                .order_by(lic.c.seq)
            )
            if where is not None:
                stmt = stmt.where(where)
            result = s.connection().execute(stmt.execution_options(yield_per=batch_size))
            make = LicensePublic.model_construct
            for rows in result.partitions():
                yield [make(**_fields(row._mapping)) for row in rows]


def _fields(row: Any) -> dict[str, Any]:
    fields = dict(row)
    active = fields.pop("active_copies")
    fields["free_copies"] = domain.free_copies(
        status=fields["status"], quantity=fields["quantity"], active_copies=active
    )
    return fields
