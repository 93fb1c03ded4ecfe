"""Shell completion of objects through the Backend: what a remote profile's completion asks.

The same candidates, in the same order and with the same help, as the fast path answers
from a local store (cli/complete.py), but within the principal's scope: License IDs
starting with the prefix (available first, then activated, then, unless only licenses in
force are wanted, transferred and void ones), customer names then Customer IDs, partner
names. Each is an index range scan that stops at COMPLETE_LIMIT rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.contract.fields import COMPLETE_LIMIT
from licensectl.contract.models import Completion, Completions
from licensectl.domain import LicenseStatus, LicenseType
from licensectl.models import Customer, License, Partner
from licensectl.service.lookup import Lookups, scoped_customers, scoped_licenses

if TYPE_CHECKING:
    from licensectl.contract.requests import CompleteQuery

#: Above every character a name key can hold: `key <= x < key + TOP` is "starts with key".
_TOP = "\U0010ffff"
_HEX = set("0123456789abcdef-")
#: License IDs read in order before looking further by status (cli/complete.py WINDOW).
WINDOW = 1000


class CompletionOps(Lookups):
    def complete(self, query: CompleteQuery) -> Completions:
        with self._read() as s:
            if query.kind in ("license", "license_in_force"):
                items = self._complete_licenses(s, query.prefix, query.kind == "license")
            elif query.kind == "customer":
                items = self._complete_customers(s, query.prefix)
            else:
                items = self._complete_partners(s, query.prefix)
        return Completions(items=items)

    def _complete_licenses(self, s: Session, prefix: str, retired_too: bool) -> list[Completion]:
        """As the fast path's `_licenses` (cli/complete.py): the first WINDOW IDs of the
        range from the License ID index, then, for a status too rare to be among them,
        the rest from the status index, from where the window ended."""
        start = prefix.strip().lower()
        end = start + "~"
        statuses = [LicenseStatus.AVAILABLE, LicenseStatus.ACTIVATED]
        if retired_too:
            statuses += [LicenseStatus.TRANSFERRED, LicenseStatus.VOID]
        scope = self._scope_of(s)
        lid = col(License.license_id)
        columns: tuple[Any, ...] = (
            lid,
            col(License.status),
            License.type,
            License.devices,
            License.quantity,
            License.purchase_order,
        )
        ranged: Any = sql_select(*columns).where(lid >= start, lid < end).order_by(lid)
        window = list(s.execute(scoped_licenses(ranged.limit(WINDOW), scope)))
        after = window[-1][0] if len(window) == WINDOW else None
        found: list[Completion] = []
        for status in statuses:
            wanted = COMPLETE_LIMIT - len(found)
            if wanted <= 0:
                break
            rows = [r for r in window if r[1] == status][:wanted]
            if after is not None and len(rows) < wanted:
                rest: Any = (
                    sql_select(*columns)
                    .where(col(License.status) == status, lid > after, lid < end)
                    .order_by(lid)
                    .limit(wanted - len(rows))
                )
                rows += list(s.execute(scoped_licenses(rest, scope)))
            found.extend(
                Completion(
                    value=license_id,
                    help=f"{status.value} {LicenseType(kind).value} {devices}×{quantity} PO {po}",
                )
                for license_id, _, kind, devices, quantity, po in rows
            )
        return found

    def _complete_customers(self, s: Session, prefix: str) -> list[Completion]:
        scope = self._scope_of(s)
        key = domain.name_key(prefix) if prefix.strip() else ""
        named: Any = (
            select(Customer.name, Customer.customer_id, Partner.name)
            .join(Partner, col(Partner.id) == Customer.partner_id)
            .where(col(Customer.name_key) >= key, col(Customer.name_key) < key + _TOP)
            .order_by(col(Customer.name_key))
            .limit(COMPLETE_LIMIT)
        )
        found = [
            Completion(value=name, help=f"{cid} ({partner})")
            for name, cid, partner in s.exec(scoped_customers(named, scope))
        ]
        start = prefix.strip().lower()
        if len(found) < COMPLETE_LIMIT and set(start) <= _HEX:
            by_id: Any = (
                select(Customer.customer_id, Customer.name)
                .where(col(Customer.customer_id) >= start, col(Customer.customer_id) < start + "~")
                .order_by(col(Customer.customer_id))
                .limit(COMPLETE_LIMIT - len(found))
            )
            found.extend(
                Completion(value=cid, help=name)
                for cid, name in s.exec(scoped_customers(by_id, scope))
            )
        return found

    def _complete_partners(self, s: Session, prefix: str) -> list[Completion]:
        scope = self._scope_of(s)
        key = domain.name_key(prefix) if prefix.strip() else ""
        stmt: Any = (
            select(Partner.name, Partner.email)
            .where(col(Partner.name_key) >= key, col(Partner.name_key) < key + _TOP)
            .order_by(col(Partner.name_key))
            .limit(COMPLETE_LIMIT)
        )
        if scope.partner_id is not None:
            stmt = stmt.where(Partner.id == scope.partner_id)
        return [Completion(value=name, help=email or "") for name, email in s.exec(stmt)]


__all__ = ["CompletionOps"]
