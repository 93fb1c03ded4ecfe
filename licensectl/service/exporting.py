"""`export`: every license a filter selects, streamed in batches.

One joined SELECT (license, its partner, its customer) read as it goes, each row made a
`LicensePublic` without validation (`model_construct`: the store's rows are valid by
construction), so memory stays flat and no ORM object is ever loaded: ORM loading and
validation were two thirds of an export's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import String, Table, func, select, type_coerce

from licensectl import domain
from licensectl.contract.models import LicensePublic
from licensectl.domain import LicenseStatus, LicenseType
from licensectl.models import Customer, License, Partner
from licensectl.service.lookup import Lookups
from licensectl.store.engine import StoredValueError, damaged

if TYPE_CHECKING:
    from licensectl.contract.requests import LicenseFilter
    from licensectl.exporter import ExportRow

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
        make = LicensePublic.model_construct
        for rows in self._joined_rows(filters, batch_size=batch_size):
            yield [make(**_fields(row._mapping)) for row in rows]

    def _joined_rows(
        self, filters: LicenseFilter, *, batch_size: int, plain: bool = False
    ) -> Iterator[Any]:
        """`plain`: type and status as their stored text, and on SQLite created_at too
        (no enum or datetime made per row: export_rows formats them itself)."""
        with self._read(transaction=True) as s:  # a server-side cursor: in a transaction
            # The filters' conditions, as `license list` builds them, on a joined SELECT.
            where = self._license_select(s, filters).whereclause
            lic, partner, customer = LICENSES, PARTNERS, CUSTOMERS
            typ: Any = lic.c.type
            status: Any = lic.c.status
            created: Any = lic.c.created_at
            if plain:
                typ, status = type_coerce(typ, String), type_coerce(status, String)
                if self.store.is_sqlite:
                    created = type_coerce(created, String)
                else:  # the server spells format_utc's text: no datetime per row
                    created = func.to_char(func.timezone("UTC", created), _PG_UTC)
            stmt = (
                select(
                    lic.c.license_id,
                    typ,
                    lic.c.devices,
                    lic.c.quantity,
                    status,
                    lic.c.active_copies,
                    lic.c.term_months,
                    lic.c.purchase_order,
                    lic.c.po_line,
                    partner.c.name.label("partner"),
                    customer.c.customer_id,
                    customer.c.name.label("customer"),
                    lic.c.parent_id,
                    lic.c.note,
                    created,
                )
                .join(partner, partner.c.id == lic.c.partner_id)
                .outerjoin(customer, customer.c.id == lic.c.customer_pk)
                .order_by(lic.c.seq)
            )
            if where is not None:
                stmt = stmt.where(where)
            result = s.connection().execute(stmt.execution_options(yield_per=batch_size))
            yield from result.partitions()

    def export_rows(
        self, filters: LicenseFilter, *, batch_size: int = EXPORT_BATCH
    ) -> Iterator[list[ExportRow]]:
        """The same licenses as `export_licenses`, as tuples of their JSON values in the
        order of `LicensePublic`'s keys (exporter.export_row_chunks writes them)."""
        transferred = LicenseStatus.TRANSFERRED.value
        sqlite = self.store.is_sqlite
        for rows in self._joined_rows(filters, batch_size=batch_size, plain=True):
            try:
                yield _export_batch(rows, transferred, sqlite=sqlite)
            except (LookupError, ValueError) as exc:
                # What loading the models would have refused: a damaged store (exit 7).
                raise damaged(self.store.url, str(exc)) from None


def _export_batch(rows: Any, transferred: str, *, sqlite: bool) -> list[ExportRow]:
    """ExportRows of joined rows, each checked as loading the models would check it
    in the same pass."""
    out: list[ExportRow] = []
    append = out.append
    types, statuses = _TYPES, _STATUSES
    for (lid, typ, devices, quantity, status, active, term, po, line, partner,
         customer_id, customer, parent, note, created) in rows:  # fmt: skip
        if typ not in types:
            raise LookupError(f"{typ!r} is not a license type")
        if status not in statuses:
            raise LookupError(f"{status!r} is not a license status")
        if type(quantity) is not int or type(active) is not int:  # free copies are counted
            raise StoredValueError(f"quantity {quantity!r}, active copies {active!r}")
        if sqlite:
            # Spelled as format_utc spells it, from the text SQLite keeps (a number or
            # bytes there, or text that is no time, is damage).
            if not isinstance(created, str):
                raise StoredValueError(f"{created!r} is not a time")
            datetime.fromisoformat(created)  # ValueError if it is no time
            created = f"{created[:10]}T{created[11:19]}Z"
        append((lid, typ, devices, quantity, 0 if status == transferred else quantity - active,
                term, po, line, status, partner, customer_id, customer, parent, note,
                created))  # fmt: skip
    return out


#: format_utc's spelling (`2026-11-29T10:15:00Z`) as a PostgreSQL to_char() pattern.
_PG_UTC: Final = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


_TYPES: Final = frozenset(t.value for t in LicenseType)
_STATUSES: Final = frozenset(s.value for s in LicenseStatus)


def _fields(row: Any) -> dict[str, Any]:
    fields = dict(row)
    active = fields.pop("active_copies")
    fields["free_copies"] = domain.free_copies(
        status=fields["status"], quantity=fields["quantity"], active_copies=active
    )
    return fields
