"""Finding partners, customers and licenses, always within the principal's scope.

Every look-up and listing goes through here, so what a partner or customer login sees is
decided in one place: an object outside the scope is answered exactly as a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import and_, bindparam, tuple_
from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.contract.models import LicensePage
from licensectl.domain import Inventory, LicenseStatus
from licensectl.errors import NotFoundError, UsageError
from licensectl.models import Activation, Customer, Event, License, Partner
from licensectl.service.base import BaseBackend, Scope
from licensectl.service.convert import (
    customer_rows,
    license_rows,
    licenses_named,
    licenses_public,
    remember_partner,
)
from licensectl.store.search_index import SearchMode, search_mode

if TYPE_CHECKING:
    from licensectl.contract.requests import LicenseFilter, Page

#: Bound values per IN (...) list; SQLite builds before 3.32 allow 999 in a statement.
IN_CHUNK = 900


class Lookups(BaseBackend):
    """Scoped look-ups and the license queries `list`, `search po` and `export` share."""

    def _partner(self, s: Session, name: str | None) -> Partner:
        """The named partner, or the only one (or the profile's default, or the login's)."""
        found = self._find_partner(s, name)
        remember_partner(s, found)
        return found

    def _find_partner(self, s: Session, name: str | None) -> Partner:
        scope = self._scope_of(s)
        if scope.partner_id is not None:
            own = s.get(Partner, scope.partner_id)
            assert own is not None, "a scope names an existing partner"
            if name is not None and domain.name_key(name.strip()) != own.name_key:
                raise NotFoundError(f"no partner named {name!r} (see 'licensectl partner list')")
            return own
        name = name if name is not None else self.default_partner
        if name is not None:
            key = domain.name_key(name.strip())
            found = s.exec(select(Partner).where(Partner.name_key == key)).first()
            if found is None:
                raise NotFoundError(f"no partner named {name!r} (see 'licensectl partner list')")
            return found
        candidates = s.exec(select(Partner).limit(2)).all()
        if not candidates:
            raise NotFoundError("no partners yet: add one with 'licensectl partner add NAME'")
        if len(candidates) > 1:
            raise UsageError("this store holds several partners: say which", field="partner")
        return candidates[0]

    def _customer(self, s: Session, ref: str, *, partner: str | None) -> Customer:
        """A customer by Customer ID, or by name (within `partner` when given), or by a
        unique prefix of its Customer ID (a name that matches comes first)."""
        scope = self._scope_of(s)
        ref = ref.strip()
        if not domain.looks_like_uuid(ref) and (prefix := id_prefix(ref)) is not None:
            try:
                return self._customer_by_name(s, ref, partner=partner)
            except NotFoundError:
                pass
            try:
                found_by_prefix = self._customer_prefix(s, prefix)
            except NotFoundError:
                raise NotFoundError(
                    f"no customer named {ref!r} and no Customer ID starts with {prefix} "
                    "(see 'licensectl customer list')"
                ) from None
            if partner is not None and found_by_prefix.partner_id != self._partner(s, partner).id:
                raise NotFoundError(
                    f"customer {found_by_prefix.customer_id} does not belong to partner {partner!r}"
                )
            return found_by_prefix
        if domain.looks_like_uuid(ref):
            cid = domain.parse_uuid(ref, what="Customer ID")
            stmt = scoped_customers(select(Customer).where(Customer.customer_id == cid), scope)
            found: Customer | None = s.exec(stmt).first()
            if found is None:
                raise NotFoundError(f"no customer with Customer ID {cid}")
            if partner is not None and found.partner_id != self._partner(s, partner).id:
                raise NotFoundError(f"customer {cid} does not belong to partner {partner!r}")
            return found
        return self._customer_by_name(s, ref, partner=partner)

    def _customer_by_name(self, s: Session, ref: str, *, partner: str | None) -> Customer:
        scope = self._scope_of(s)
        key = domain.name_key(" ".join(ref.split()))
        stmt = scoped_customers(select(Customer).where(Customer.name_key == key), scope)
        if partner is not None or self.default_partner is not None:
            stmt = stmt.where(Customer.partner_id == self._partner(s, partner).id)
        matches: list[Customer] = list(s.exec(stmt.limit(2)).all())
        if not matches:
            of = f" of partner {partner!r}" if partner else ""
            raise NotFoundError(f"no customer named {ref!r}{of} (see 'licensectl customer list')")
        if len(matches) > 1:
            raise UsageError(
                f"several partners have a customer named {ref!r}: say which partner, or use "
                "the Customer ID",
                field="partner",
            )
        return matches[0]

    def _customer_prefix(self, s: Session, prefix: str) -> Customer:
        """The one customer in scope whose Customer ID starts with `prefix`."""
        stmt = scoped_customers(
            select(Customer).where(prefix_range(col(Customer.customer_id), prefix)),
            self._scope_of(s),
        )
        found: list[Customer] = list(s.exec(stmt.order_by(col(Customer.id)).limit(11)).all())
        return _one_of(found, prefix, "Customer ID", lambda c: f"{c.customer_id} ({c.name})")

    def _license(self, s: Session, license_id: str, *, lock: bool = False) -> License:
        prefix = None if domain.looks_like_uuid(license_id) else id_prefix(license_id)
        if prefix is not None:
            # A short ID (git's habit): resolved to the one License ID it starts, in scope.
            stmt = scoped_licenses(
                select(License).where(prefix_range(col(License.license_id), prefix)),
                self._scope_of(s),
            )
            many: list[License] = list(s.exec(stmt.order_by(col(License.seq)).limit(11)).all())
            license_id = _one_of(
                many, prefix, "License ID", lambda x: f"{x.license_id} ({x.status.value})"
            ).license_id
        lid = domain.parse_uuid(license_id, what="License ID")
        stmt = scoped_licenses(select(License).where(License.license_id == lid), self._scope_of(s))
        if lock:
            # PostgreSQL: hold the row for this read-check-write. SQLite ignores it;
            # there BEGIN IMMEDIATE already serialises the whole transaction.
            stmt = stmt.with_for_update()
        found: License | None = s.exec(stmt).first()
        if found is None:
            raise NotFoundError(f"no license with License ID {lid}")
        return found

    def _visible(self, s: Session, licenses: list[_L]) -> list[_L]:
        """Those of `licenses` the principal may see (lineage crosses inventories)."""
        scope = self._scope_of(s)
        return [lic for lic in licenses if _can_see(lic, scope)]

    def _events_of(self, s: Session, license_id: str, page: Page) -> tuple[list[Event], bool]:
        """A page of a license's events in scope, oldest first (`page.after`: an event
        number); and whether more follow."""
        limit = check_page(page)
        stmt = select(Event).where(Event.license_id == license_id)
        if page.after is not None:
            stmt = stmt.where(col(Event.id) > event_number(page.after))
        scope = self._scope_of(s)
        if scope.partner_id is not None:
            stmt = stmt.where(Event.partner_id == scope.partner_id)
        if scope.customer_pk is not None:
            own = s.get(Customer, scope.customer_pk)
            assert own is not None
            stmt = stmt.where(Event.customer_id == own.customer_id)
        stmt = stmt.order_by(col(Event.id))
        if limit is not None:
            stmt = stmt.limit(limit + 1)
        rows: list[Event] = list(s.exec(stmt).all())
        more = limit is not None and len(rows) > limit
        return (rows[:limit] if more else rows), more

    def _search_mode(self, s: Session) -> SearchMode:
        """Which index serves customer substring search here (asked once per process)."""
        mode: SearchMode | None = getattr(self.store, "_search_mode", None)
        if mode is None:
            mode = search_mode(s.connection())
            self.store._search_mode = mode  # type: ignore[attr-defined]
        return mode

    def _customer_page(self, s: Session, stmt: Any, page: Page) -> tuple[list[Any], bool]:
        """One page of the customers `stmt` selects in scope, oldest first, as rows of
        `customer_rows` (with their partner's name); and whether more follow."""
        limit = check_page(page)
        stmt = scoped_customers(stmt, self._scope_of(s))
        if page.after is not None:
            anchor = self._customer(s, page.after, partner=None)
            stmt = stmt.where(col(Customer.id) > anchor.id)
        stmt = stmt.order_by(col(Customer.id))
        if limit is not None:
            stmt = stmt.limit(limit + 1)
        rows = customer_rows(s, stmt)
        more = limit is not None and len(rows) > limit
        return (rows[:limit] if more else rows), more

    # --- license queries ------------------------------------------------------------

    def _license_select(self, s: Session, filters: LicenseFilter) -> Any:
        """The licenses a `LicenseFilter` selects in scope (unordered)."""
        stmt = scoped_licenses(select(License), self._scope_of(s))
        if filters.partner is not None:
            stmt = stmt.where(License.partner_id == self._partner(s, filters.partner).id)
        if filters.customer is not None:
            c = self._customer(s, filters.customer, partner=filters.partner)
            stmt = stmt.where(License.customer_pk == c.id)
        if filters.inventory is Inventory.MINE:
            stmt = stmt.where(col(License.customer_pk).is_(None))
        elif filters.inventory is Inventory.CUSTOMER:
            stmt = stmt.where(col(License.customer_pk).is_not(None))
        if filters.status is not None:
            stmt = stmt.where(License.status == filters.status)
        else:
            # Void licenses were mistakes: listed only when asked for (`--status void`).
            stmt = stmt.where(License.status != LicenseStatus.VOID)
        if filters.type is not None:
            stmt = stmt.where(License.type == filters.type)
        if filters.expiring_within is not None:
            horizon = domain.expiring_horizon(filters.expiring_within)
            expiring = select(Activation.license_seq).where(
                Activation.copies > 0,
                col(Activation.maintenance_expires).is_not(None),
                col(Activation.maintenance_expires) <= horizon,
            )
            stmt = stmt.where(col(License.seq).in_(expiring))
        return stmt

    def _page(self, s: Session, stmt: Any, page: Page, *, po: Any = None) -> LicensePage:
        """A page of the licenses `stmt` selects, oldest first; with `po` (the PO key's
        column, collated as its index is), by PO and then oldest first, as the index on
        `(po_key, seq)` holds them, so a prefix matching thousands reads one page."""
        limit = check_page(page)
        seq = col(License.seq)
        order = (seq,) if po is None else (po, seq)
        if page.after is not None:
            anchor = s.exec(
                select(License.seq, License.po_key).where(
                    License.license_id == domain.parse_uuid(page.after, what="after License ID")
                )
            ).first()
            if anchor is None:
                raise NotFoundError(f"no license with License ID {page.after} (given as after)")
            # Bound values (not a subquery): the planner then still picks the index that
            # serves the conditions.
            if po is None:
                stmt = stmt.where(seq > anchor[0])
            else:
                stmt = stmt.where(tuple_(po, seq) > tuple_(anchor[1], anchor[0]))
        stmt = stmt.order_by(*order)
        if limit is None:
            items = licenses_public(s, license_rows(s, stmt))
            return LicensePage.model_construct(items=items, next_after=None)
        # A deferred join: the page's keys first (from the index alone where it covers the
        # conditions), then only those rows, their names joined in. Sorting whole rows made
        # a PO prefix matching 36,000 licenses read all of them to show 100.
        keys = stmt.with_only_columns(seq).limit(limit + 1)
        items = licenses_named(s, seq.in_(keys), *order)
        more = len(items) > limit
        if more:
            items = items[:limit]
        last = items[-1].license_id if more else None
        return LicensePage.model_construct(items=items, next_after=last)


#: The fewest hex digits a short ID may have (git and docker show 7-12).
SHORT_ID_MIN = 8
_DASHES = (8, 12, 16, 20)
_SHORT_RE = re.compile(r"^[0-9a-f][0-9a-f-]*$")


def id_prefix(text: str) -> str | None:
    """`text` as the canonical start of a UUID (lower case, dashes where UUIDs have
    them), if it is one of at least 8 hex digits and not a whole UUID; else None."""
    given = text.strip().lower()
    if not _SHORT_RE.match(given):
        return None
    digits = given.replace("-", "")
    if not SHORT_ID_MIN <= len(digits) < 32:
        return None
    canonical = _with_dashes(digits)
    if "-" in given and not (canonical + "-").startswith(given):
        return None  # dashes where a UUID has none
    return canonical


def _with_dashes(digits: str) -> str:
    parts, start = [], 0
    for end in (*_DASHES, 32):
        if start >= len(digits):
            break
        parts.append(digits[start:end])
        start = end
    return "-".join(parts)


def prefix_range(column: Any, prefix: str) -> Any:
    """IDs starting with `prefix`, as an index range scan: `prefix <= id < next`, where
    `next` is the prefix's hex value plus one (so no collation's view of `-` or of a
    sentinel character matters); LIKE then keeps exactly the matches."""
    digits = prefix.replace("-", "")
    upper = int(digits, 16) + 1
    clauses = [column >= prefix, column.like(prefix + "%")]
    if upper < 16 ** len(digits):
        clauses.append(column < _with_dashes(format(upper, f"0{len(digits)}x")))
    return and_(*clauses)


_T = TypeVar("_T")
#: A license as an object or as a row of its columns (convert.LICENSE_FIELDS).
_L = TypeVar("_L")


def _one_of(found: list[_T], prefix: str, what: str, show: Callable[[_T], str]) -> _T:
    """The one object a short ID names; none is not found (3), several a usage error (2)."""
    if not found:
        raise NotFoundError(f"no {what} starts with {prefix}")
    if len(found) > 1:
        listed = ", ".join(show(x) for x in found[:10])
        more = " and more" if len(found) > 10 else ""
        raise UsageError(
            f"{what} prefix {prefix} is ambiguous: it matches {listed}{more}; give more characters"
        )
    return found[0]


def event_number(text: str) -> int:
    """An event's number as `after` takes it (a history's `events_next_after`)."""
    given = text.strip()
    if not given.isascii() or not given.isdigit() or len(given) > 18:
        raise UsageError(
            f"after must be an event number (a history's events_next_after), not {text!r}",
            field="after",
        )
    return int(given)


def check_page(page: Page) -> int | None:
    """The page's limit, refused when it is no use (below 1) or beyond any store."""
    if page.limit is None:
        return None
    if page.limit < 1:
        raise UsageError("limit must be at least 1", field="limit")
    if page.limit > domain.PAGE_MAX:
        raise UsageError(f"limit must be at most {domain.PAGE_MAX:,}", field="limit")
    return page.limit


def scoped_licenses(stmt: Any, scope: Scope) -> Any:
    if scope.partner_id is not None:
        stmt = stmt.where(License.partner_id == scope.partner_id)
    if scope.customer_pk is not None:
        stmt = stmt.where(License.customer_pk == scope.customer_pk)
    return stmt


def scoped_customers(stmt: Any, scope: Scope) -> Any:
    return _scoped_customers(stmt, partner=scope.partner_id, customer=scope.customer_pk)


def scoped_customers_bound(stmt: Any, *, partner: bool, customer: bool) -> Any:
    """`scoped_customers` for a statement built once and run for any principal: the
    scope's keys are parameters, whose values `scope_params` gives at each execution."""
    return _scoped_customers(
        stmt,
        partner=bindparam("scope_partner") if partner else None,
        customer=bindparam("scope_customer") if customer else None,
    )


def scope_params(scope: Scope) -> dict[str, int]:
    """The parameters of a `scoped_customers_bound` statement for this scope."""
    params = {"scope_partner": scope.partner_id, "scope_customer": scope.customer_pk}
    return {name: key for name, key in params.items() if key is not None}


def _scoped_customers(stmt: Any, *, partner: Any, customer: Any) -> Any:
    if partner is not None:
        stmt = stmt.where(Customer.partner_id == partner)
    if customer is not None:
        stmt = stmt.where(col(Customer.id) == customer)
    return stmt


def _can_see(lic: License | Any, scope: Scope) -> bool:
    if scope.partner_id is not None and lic.partner_id != scope.partner_id:
        return False
    return scope.customer_pk is None or lic.customer_pk == scope.customer_pk
