"""Purchased licenses: adding, listing, showing, lineage; and search."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Integer,
    String,
    Table,
    bindparam,
    column,
    literal,
    literal_column,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy import text as sql_text
from sqlmodel import col, select

from licensectl import domain
from licensectl.contract.base import Page
from licensectl.contract.models import (
    CustomerSearchPage,
    LicenseDetail,
    LicenseHistory,
    LicensePage,
    LicensePublic,
)
from licensectl.domain import LicenseStatus, Role
from licensectl.errors import ConflictError, UsageError
from licensectl.models import Customer, License, Partner
from licensectl.service.base import _insert
from licensectl.service.convert import (
    CUSTOMER_FIELDS,
    activations_public,
    customer_details,
    event_public,
    license_public,
    named_public,
    named_select,
    one_public,
)
from licensectl.service.lookup import (
    Lookups,
    check_page,
    scope_params,
    scoped_customers_bound,
    scoped_licenses,
)
from licensectl.store.search_index import PG_SEARCHED, TRIGRAM, fts_phrase, like_contains

if TYPE_CHECKING:
    from licensectl.contract.requests import LicenseAdd, LicenseFilter

LICENSES: Table = License.__table__  # type: ignore[attr-defined]
CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
PARTNERS: Table = Partner.__table__  # type: ignore[attr-defined]


class LicenseOps(Lookups):
    def license_add(self, request: LicenseAdd) -> LicensePublic:
        po = domain.clean_po(request.purchase_order)
        domain.check_license_values(
            type=request.type,
            devices=request.devices,
            quantity=request.quantity,
            term_months=request.term_months,
            po_line=request.po_line,
        )
        note = (
            domain.clean_name(request.note, what="note", max_len=domain.NOTE_MAX)
            if request.note
            else None
        )
        with self._write() as s:
            p = self._partner(s, request.partner)
            self._allow(Role.ADMIN, action="add purchased licenses")
            assert p.id is not None
            taken = (
                f"purchase order {po!r} line {request.po_line} of partner {p.name!r} already exists"
            )
            existing = s.exec(
                select(License.license_id).where(
                    License.partner_id == p.id,
                    License.po_key == domain.po_key(po),
                    License.po_line == request.po_line,
                    col(License.parent_id).is_(None),
                    License.status != LicenseStatus.VOID,
                )
            ).first()
            if existing is not None:
                raise ConflictError(
                    f"{taken} (License ID {existing}); use another PO line",
                    field="po_line",
                )
            lic = License(
                license_id=domain.new_id(),
                partner_id=p.id,
                type=request.type,
                devices=request.devices,
                quantity=request.quantity,
                term_months=request.term_months,
                purchase_order=po,
                po_key=domain.po_key(po),
                po_line=request.po_line,
                note=note,
            )
            _insert(s, lic, taken)
            self._event(
                s,
                "license.add",
                license_id=lic.license_id,
                partner_id=p.id,
                partner=p.name,
                purchase_order=po,
                po_line=request.po_line,
                type=request.type.value,
                devices=request.devices,
                quantity=request.quantity,
                term_months=request.term_months,
            )
            return license_public(lic, p.name, None)

    def license_list(self, filters: LicenseFilter, *, page: Page = Page()) -> LicensePage:
        with self._read() as s:
            return self._page(s, self._license_select(s, filters), page)

    def license_show(self, license_id: str) -> LicenseDetail:
        with self._read() as s:
            lic = self._license(s, license_id)
            successors = self._visible(
                s,
                list(
                    s.exec(
                        select(License)
                        .where(License.parent_id == lic.license_id)
                        .order_by(col(License.seq))
                    ).all()
                ),
            )
            return LicenseDetail(
                **one_public(s, lic).model_dump(),
                successors=[c.license_id for c in successors],
                activations=activations_public(s, lic),
            )

    def license_history(self, license_id: str, *, page: Page = Page()) -> LicenseHistory:
        with self._read() as s:
            lic = self._license(s, license_id)
            events, more = self._events_of(s, lic.license_id, page)
            # The whole lineage with its names, the license itself included: one statement.
            ancestors: list[Any] = []
            itself: list[Any] = []
            descendants: list[Any] = []
            for row in s.connection().execute(_lineage_stmt(), {"start": lic.license_id}):
                depth = row[-1]
                (ancestors if depth < 0 else descendants if depth > 0 else itself).append(row)
            ancestors, descendants = self._visible(s, ancestors), self._visible(s, descendants)
            everyone = named_public([*ancestors, *itself, *descendants])
            up = len(ancestors)
            return LicenseHistory.model_construct(
                license=everyone[up],
                ancestors=everyone[:up],
                descendants=everyone[up + 1 :],
                events=[event_public(e) for e in events],
                events_next_after=str(events[-1].id) if more else None,
            )

    # --- search ------------------------------------------------------------------

    def search_customers(self, text: str, *, page: Page = Page()) -> CustomerSearchPage:
        needle = domain.name_key(" ".join(text.split()))
        if not needle:
            raise UsageError("search text must not be empty", field="text")
        with self._read() as s:
            limit = check_page(page)
            scope = self._scope_of(s)
            params: dict[str, Any] = {"pattern": like_contains(needle)}
            if page.after is not None:
                params["after"] = self._customer(s, page.after, partner=None).id
            if limit is not None:
                params["limit"] = limit + 1
            params.update(scope_params(scope))
            mode = self._search_mode(s)
            # FTS5's query syntax ends a string at a NUL: such a needle scans.
            fts = mode == "fts5 trigram" and len(needle) >= TRIGRAM and "\x00" not in needle
            if fts:
                params["phrase"] = fts_phrase(needle)
            stmt = _customer_search(
                pg_trgm=not self.store.is_sqlite and mode == "pg_trgm",
                fts=fts,
                params=frozenset(params),
            )
            found = list(s.connection().execute(stmt, params).all())
            more = limit is not None and len(found) > limit
            items = customer_details(s, found[:limit] if more else found)
            return CustomerSearchPage(
                items=items, next_after=items[-1].customer_id if more else None
            )

    def search_po(self, text: str, *, exact: bool = False, page: Page = Page()) -> LicensePage:
        key = domain.po_key(text.strip())
        if not key:
            raise UsageError("purchase order must not be empty", field="text")
        with self._read() as s:
            stmt = scoped_licenses(select(License), self._scope_of(s))
            # In code-point order: SQLite's BINARY; on PostgreSQL "C", whatever the
            # database's collation (ix_license_po_key_c, revision 0004, on (po_key, seq)).
            po: Any = col(License.po_key)
            if not self.store.is_sqlite:
                po = po.collate("C")
            if exact:
                stmt = stmt.where(po == key)
            else:
                # A prefix as an index range: po_key >= key AND po_key < key + U+10FFFF.
                stmt = stmt.where(po >= key, po < key + "\U0010ffff")
            # By PO, then oldest first: the index's own order, so a prefix matching
            # thousands of licenses reads one page of them.
            return self._page(s, stmt, page, po=po)


@functools.cache
def _customer_search(*, pg_trgm: bool, fts: bool, params: frozenset[str]) -> Any:
    """The statement of a page of `search customer`, oldest first, as rows of
    CUSTOMER_FIELDS; built once for each shape (which index serves it, which of the
    parameters a call binds: the scope's keys, the anchor of `--after`, the limit)."""
    c, partner = CUSTOMERS.c, PARTNERS.c
    # With its partner's name joined in (`customer_rows`' shape): one statement fewer.
    stmt = (
        sa_select(*CUSTOMER_FIELDS, partner.name.label("partner_name"))
        .select_from(CUSTOMERS.join(PARTNERS, partner.id == c.partner_id))
        .where(c.name_key.like(bindparam("pattern"), escape="\\"))
    )
    if pg_trgm:
        # The GIN index's expression, its column qualified: partner has a name_key too.
        searched = literal_column(PG_SEARCHED.replace("name_key", "customer.name_key", 1), String)
        stmt = stmt.where(searched.like(bindparam("pattern"), escape="\\"))
    if fts:
        # The trigram index finds the candidates; the LIKE above decides.
        candidates = sql_text(
            "SELECT rowid FROM customer_fts WHERE customer_fts MATCH :phrase"
        ).columns(column("rowid", Integer))
        stmt = stmt.where(c.id.in_(candidates))
    stmt = scoped_customers_bound(
        stmt, partner="scope_partner" in params, customer="scope_customer" in params
    )
    if "after" in params:
        stmt = stmt.where(c.id > bindparam("after"))
    stmt = stmt.order_by(c.id)
    if "limit" in params:
        stmt = stmt.limit(bindparam("limit", type_=Integer))
    return stmt


@functools.cache
def _lineage_stmt() -> Any:
    """A license's whole lineage, each with its partner's and customer's names and its
    generation (`depth`, last): its ancestors oldest first (depth -n … -1), the license
    itself (0), then every license minted from it, generation by generation (1 … n).
    Built once: constructing the recursive CTEs cost more than running them."""
    up = (
        select(LICENSES.c.license_id, LICENSES.c.parent_id, literal(0).label("depth"))
        .where(LICENSES.c.license_id == bindparam("start"))
        .cte("ancestors", recursive=True)
    )
    parent = LICENSES.alias("parent")
    up = up.union_all(
        select(parent.c.license_id, parent.c.parent_id, (up.c.depth - 1).label("depth")).join(
            up, parent.c.license_id == up.c.parent_id
        )
    )
    down = (
        select(LICENSES.c.license_id, literal(1).label("depth"))
        .where(LICENSES.c.parent_id == bindparam("start"))
        .cte("descendants", recursive=True)
    )
    child = LICENSES.alias("child")
    down = down.union_all(
        select(child.c.license_id, (down.c.depth + 1).label("depth")).join(
            down, child.c.parent_id == down.c.license_id
        )
    )
    lineage = union_all(
        sa_select(up.c.license_id, up.c.depth), sa_select(down.c.license_id, down.c.depth)
    ).subquery("lineage")
    return (
        named_select()
        .add_columns(lineage.c.depth)
        .join(lineage, lineage.c.license_id == LICENSES.c.license_id)
        .order_by(lineage.c.depth, LICENSES.c.seq)
    )
