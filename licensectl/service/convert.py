"""Stored rows → the public models of the contract, with a constant number of queries."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Final, NoReturn, TypeVar

from pydantic import BaseModel
from sqlalchemy import ARRAY, Integer, Table, any_, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.contract.models import (
    ActivationPublic,
    CustomerDetail,
    CustomerPublic,
    EventPublic,
    LicensePublic,
    PartnerPublic,
)
from licensectl.models import (
    Activation,
    Customer,
    CustomerEmail,
    Event,
    License,
    Partner,
    SmartServer,
)
from licensectl.store.engine import StoredValueError


def keys_in(s: Session, column: Any, keys: Collection[int | None]) -> Any:
    """`column IN (keys)` for integer keys. On PostgreSQL `column = ANY(:keys)`, one array
    parameter whatever the number of keys: the statement's text stays the same, so it is
    prepared once by the driver and the server, and nothing is rendered per key (an
    `IN` of 100 customers' keys was 100 parameters, each rendered and cast anew at every
    execution, and a new statement for every new count)."""
    return _keys_param(column, None, _is_pg(s), list(keys))


#: `Session.info`'s key for the names of the partners read in that session.
_PARTNER_NAMES: Final = "licensectl_partner_names"


def remember_partner(s: Session, p: Partner) -> None:
    """Note a partner read in this session: `customers_public` then has its name."""
    s.info.setdefault(_PARTNER_NAMES, {})[p.id] = p.name


def forget_partners(s: Session) -> None:
    """Forget the partners noted in this session (a rename: to be read anew)."""
    s.info.pop(_PARTNER_NAMES, None)


def partner_public(p: Partner) -> PartnerPublic:
    return PartnerPublic(name=p.name, email=p.email, created_at=p.created_at)


def customers_public(
    s: Session, customers: Sequence[Customer] | Sequence[Any]
) -> list[CustomerPublic]:
    """Many customers (`Customer` objects or `customer_rows`) with two queries in all
    (their partners' names, their emails), or one: rows carry their partner's name, and
    a partner the session has read already (`remember_partner`) is not read again."""
    # Built without validation, as licenses are: each value's kind is checked instead.
    return list(map(trusted(CustomerPublic), _customer_values(s, customers)))


def _customer_values(
    s: Session, customers: Sequence[Customer] | Sequence[Any]
) -> list[dict[str, Any]]:
    """The fields of each customer's `CustomerPublic`, in the order of `customers`."""
    if not customers:
        return []
    conn = s.connection()
    pg = _is_pg(s)
    names: dict[int, str] = {}
    for c in customers:
        if not isinstance(c, Customer):
            names[c.partner_id] = c.partner_name
        elif (known := s.info.get(_PARTNER_NAMES, {}).get(c.partner_id)) is not None:
            names[c.partner_id] = known  # read in this session (`customer show`)
    partner_ids = list({c.partner_id for c in customers} - names.keys())
    if partner_ids:
        names.update(conn.execute(_partner_names(pg), {"ids": partner_ids}).all())
    emails: dict[int, list[str]] = {}
    for pk, email in conn.execute(_emails_of(pg), {"pks": [c.id for c in customers]}):
        emails.setdefault(pk, []).append(email)
    for c in customers:
        if not (
            isinstance(c.customer_id, str)
            and isinstance(c.name, str)
            and isinstance(c.note, _OPTIONAL_STR)
        ):
            # Made without validation, as licenses are (see _LICENSE_KINDS).
            raise StoredValueError(f"customer {c.customer_id!r} holds {c.name!r}, {c.note!r}")
    return [
        {
            "customer_id": c.customer_id,
            "name": c.name,
            "partner": names.get(c.partner_id, "?"),
            "emails": emails.get(c.id or 0, []),
            "note": c.note,
            "created_at": c.created_at,
        }
        for c in customers
    ]


def customer_public(s: Session, c: Customer) -> CustomerPublic:
    return customers_public(s, [c])[0]


def customer_details(
    s: Session, customers: Sequence[Customer] | Sequence[Any]
) -> list[CustomerDetail]:
    """Customers (objects or CUSTOMER_FIELDS rows) with their licenses (retired ones
    included), in a constant number of queries however many customers there are."""
    pks = [c.id for c in customers]
    by_customer: dict[str, list[LicensePublic]] = {}
    if pks:
        # Their names joined in: one statement for all the licenses.
        rows = s.connection().execute(_licenses_of_customers(_is_pg(s)), {"pks": pks}).all()
        for lp in named_public(rows):
            by_customer.setdefault(lp.customer_id or "", []).append(lp)
    make = trusted(CustomerDetail)
    values = _customer_values(s, customers)
    for v in values:
        v["licenses"] = by_customer.get(v["customer_id"], [])
    return list(map(make, values))


def license_public(
    lic: License, partner_name: str, customer: Customer | None, *, minted: bool = True
) -> LicensePublic:
    """`minted=False` for a license a dry run only plans: it has no License ID yet.

    Built without validation (`model_construct`): every value comes typed from the store
    (a value it could not load is refused there as damage), and validating a thousand
    licenses was most of `customer show`'s time."""
    return LicensePublic.model_construct(
        license_id=lic.license_id if minted else None,
        type=lic.type,
        devices=lic.devices,
        quantity=lic.quantity,
        free_copies=domain.free_copies(
            status=lic.status, quantity=lic.quantity, active_copies=lic.active_copies
        ),
        term_months=lic.term_months,
        purchase_order=lic.purchase_order,
        po_line=lic.po_line,
        status=lic.status,
        partner=partner_name,
        customer_id=customer.customer_id if customer else None,
        customer=customer.name if customer else None,
        parent_id=lic.parent_id,
        note=lic.note,
        created_at=lic.created_at,
    )


#: The license columns a `LicensePublic` is made of, read as plain rows: loading ORM
#: objects (SQLModel initialises each like a pydantic model) was most of the time of a
#: page of licenses. A row has the same attribute names as a `License`.
LICENSE_FIELDS: Final[tuple[Any, ...]] = (
    License.seq,
    License.license_id,
    License.partner_id,
    License.customer_pk,
    License.type,
    License.devices,
    License.quantity,
    License.term_months,
    License.purchase_order,
    License.po_line,
    License.status,
    License.active_copies,
    License.parent_id,
    License.note,
    License.created_at,
)

#: The customer columns a `CustomerPublic` is made of (as plain rows, likewise).
CUSTOMER_FIELDS: Final[tuple[Any, ...]] = (
    Customer.id,
    Customer.customer_id,
    Customer.partner_id,
    Customer.name,
    Customer.note,
    Customer.created_at,
)


def license_rows(s: Session, stmt: Any) -> list[Any]:
    """The licenses `stmt` (a `select(License)`, its conditions and order kept) selects,
    as rows of LICENSE_FIELDS."""
    return list(s.connection().execute(stmt.with_only_columns(*LICENSE_FIELDS)).all())


def customer_rows(s: Session, stmt: Any) -> list[Any]:
    """The customers `stmt` (a `select(Customer)`) selects, as rows of CUSTOMER_FIELDS and
    their partner's name (`partner_name`), joined in: one statement fewer a page."""
    named = stmt.with_only_columns(*CUSTOMER_FIELDS, col(Partner.name).label("partner_name"))
    return list(
        s.connection().execute(named.join(Partner, col(Partner.id) == Customer.partner_id)).all()
    )


def licenses_public(
    s: Session,
    licenses: Sequence[License] | Sequence[Any],
    *,
    known: Sequence[Customer] | Sequence[Any] = (),
) -> list[LicensePublic]:
    """Convert many licenses (`License` objects or LICENSE_FIELDS rows) with two extra
    queries in all, not two per license: their partners' names and their customers
    (those not among the `known` customers)."""
    partner_ids = {lic.partner_id for lic in licenses}
    customers: dict[int | None, tuple[str, str]] = {c.id: (c.customer_id, c.name) for c in known}
    customer_pks = {
        lic.customer_pk
        for lic in licenses
        if lic.customer_pk is not None and lic.customer_pk not in customers
    }
    partners: dict[int, str] = (
        dict(
            s.connection()
            .execute(
                select(Partner.id, Partner.name).where(keys_in(s, col(Partner.id), partner_ids))
            )
            .all()
        )
        if partner_ids
        else {}
    )
    if customer_pks:
        found = s.connection().execute(
            select(Customer.id, Customer.customer_id, Customer.name).where(
                keys_in(s, col(Customer.id), customer_pks)
            )
        )
        customers.update({pk: (cid, name) for pk, cid, name in found})
    return _made(
        (*row, partners.get(row[2], "?"), *customers.get(row[3], (None, None)))
        for row in map(_license_row, licenses)
    )


def licenses_named(s: Session, where: Any, *order_by: Any) -> list[LicensePublic]:
    """The licenses `where` selects, in that order, with their partners' and customers'
    names joined in: one statement (for a page of keys: `seq IN (…)`)."""
    stmt = named_select().where(where).order_by(*order_by)
    return named_public(s.connection().execute(stmt).all())


def named_public(rows: Iterable[Any]) -> list[LicensePublic]:
    """Licenses from rows of `named_select()` (columns it has after those are ignored)."""
    return _made(
        (*row[:15], row[15] if row[15] is not None else "?", row[16], row[17]) for row in rows
    )


# Statements run for every page, built once with their values as parameters: executing
# the same statement object again spares SQLAlchemy building it, computing its cache key
# and adapting the cached compilation's result columns to a new statement object.


def _is_pg(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def _keys_param(column: Any, name: str | None, pg: bool, keys: list[Any] | None = None) -> Any:
    """`column IN (:name)` for a list of integer keys, given now (`keys_in`) or bound at
    each execution of a statement built once: one array parameter on PostgreSQL, an
    expanding one on SQLite."""
    if pg:
        return column == any_(bindparam(name, keys, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, keys, expanding=True))


@functools.cache
def _partner_names(pg: bool) -> Any:
    partner: Table = Partner.__table__  # type: ignore[attr-defined]
    return sa_select(partner.c.id, partner.c.name).where(_keys_param(partner.c.id, "ids", pg))


@functools.cache
def _emails_of(pg: bool) -> Any:
    email: Table = CustomerEmail.__table__  # type: ignore[attr-defined]
    return (
        sa_select(email.c.customer_pk, email.c.email)
        .where(_keys_param(email.c.customer_pk, "pks", pg))
        .order_by(email.c.id)
    )


@functools.cache
def _licenses_of_customers(pg: bool) -> Any:
    """Every license of the customers `pks`, oldest first, with their names."""
    licenses: Table = License.__table__  # type: ignore[attr-defined]
    return (
        named_select()
        .where(_keys_param(licenses.c.customer_pk, "pks", pg))
        .order_by(licenses.c.seq)
    )


@functools.cache
def named_select() -> Any:
    """The licenses joined with their partners' and customers' names, built once: made
    anew for every page, the select and its joins were about a twentieth of the page's
    work (callgrind: 11.0 to 10.4 million instructions a `license list` page)."""
    partner: Table = Partner.__table__  # type: ignore[attr-defined]
    customer: Table = Customer.__table__  # type: ignore[attr-defined]
    licenses: Table = License.__table__  # type: ignore[attr-defined]
    return sa_select(
        *LICENSE_FIELDS, partner.c.name, customer.c.customer_id, customer.c.name
    ).select_from(
        licenses.outerjoin(partner, partner.c.id == licenses.c.partner_id).outerjoin(
            customer, customer.c.id == licenses.c.customer_pk
        )
    )


def _made(rows: Iterable[Any]) -> list[LicensePublic]:
    """Licenses from LICENSE_FIELDS rows followed by partner name, Customer ID and name.

    The public models are made without validation, and SQLite keeps a value of any kind
    in any column: each value's kind is checked here (enums and times are checked by
    their result processors), so that one written behind licensectl's back is damage,
    not a bug nor `"devices": "abc"` in JSON."""
    make = trusted(LicensePublic)
    free = domain.free_copies
    made: list[LicensePublic] = []
    append = made.append
    for row in rows:
        (_seq, lid, _partner_id, _customer_pk, typ, devices, quantity, term, po, line,
         status, active, parent, note, created, partner_name, customer_id,
         customer_name) = row  # fmt: skip
        if not (
            type(devices) is int
            and type(quantity) is int
            and type(line) is int
            and type(active) is int
            and type(lid) is str
            and type(po) is str
            and type(partner_name) is str
            and (term is None or type(term) is int)
            and (parent is None or type(parent) is str)
            and (note is None or type(note) is str)
            and (customer_id is None or type(customer_id) is str)
            and (customer_name is None or type(customer_name) is str)
        ):
            _refuse(row)
        append(
            make(
                {
                    "license_id": lid,
                    "type": typ,
                    "devices": devices,
                    "quantity": quantity,
                    "free_copies": free(status=status, quantity=quantity, active_copies=active),
                    "term_months": term,
                    "purchase_order": po,
                    "po_line": line,
                    "status": status,
                    "partner": partner_name,
                    "customer_id": customer_id,
                    "customer": customer_name,
                    "parent_id": parent,
                    "note": note,
                    "created_at": created,
                }
            )
        )
    return made


_OPTIONAL_STR: Final = (str, type(None))
#: What each value of a license row (`_made`'s) may be: `object` where a result
#: processor checks it.
_LICENSE_KINDS: Final[tuple[Any, ...]] = (
    int, str, int, (int, type(None)), object, int, int, (int, type(None)), str, int, object,
    int, _OPTIONAL_STR, _OPTIONAL_STR, object, str, _OPTIONAL_STR, _OPTIONAL_STR,
)  # fmt: skip
_LICENSE_NAMES: Final = (
    *(f.key for f in LICENSE_FIELDS),
    "partner (its name)",
    "customer (its Customer ID)",
    "customer (its name)",
)


def _refuse(row: Any) -> NoReturn:
    """Name the first value of a license row that is not of its kind."""
    for value, kind, field in zip(row, _LICENSE_KINDS, _LICENSE_NAMES, strict=True):
        if isinstance(value, bool) or not isinstance(value, kind):
            raise StoredValueError(f"license.{field} holds {value!r}")
    raise StoredValueError(f"a license row holds a value licensectl never writes: {row!r}")


def _license_row(lic: License | Any) -> Any:
    """A LICENSE_FIELDS row as it is, a `License` object as such a row."""
    if isinstance(lic, License):
        return tuple(getattr(lic, f.key) for f in LICENSE_FIELDS)
    return lic


_M = TypeVar("_M", bound=BaseModel)


def trusted(cls: type[_M]) -> Callable[[dict[str, Any]], _M]:
    """`cls.model_construct(**values)` for values that name every field, as the store's
    typed rows do, without its per-field loop over aliases and defaults (seven times
    the cost of the rest of the instance, per row of a page). The public models have no
    aliases, private attributes or post-init hook (tests/test_paging.py checks that the
    two make equal models)."""
    new = cls.__new__
    put = object.__setattr__

    def make(values: dict[str, Any]) -> _M:
        m = new(cls)
        put(m, "__dict__", values)
        put(m, "__pydantic_fields_set__", set(values))
        put(m, "__pydantic_extra__", None)
        put(m, "__pydantic_private__", None)
        return m

    return make


def one_public(s: Session, lic: License) -> LicensePublic:
    return licenses_public(s, [lic])[0]


def event_public(e: Event) -> EventPublic:
    return EventPublic.model_construct(
        at=e.at,
        actor=e.actor,
        action=e.action,
        license_id=e.license_id,
        customer_id=e.customer_id,
        details=e.details,
    )


def activations_public(s: Session, lic: License) -> list[ActivationPublic]:
    rows = s.exec(
        select(Activation, SmartServer.install_code)
        .join(SmartServer, col(SmartServer.id) == Activation.smartserver_id)
        .where(Activation.license_seq == lic.seq, Activation.copies > 0)
        .order_by(col(Activation.id))
    ).all()
    now = domain.utcnow()
    return [activation_public(a, lic, code, now=now) for a, code in rows]


def activation_public(
    a: Activation, lic: License, install_code: str, *, now: datetime
) -> ActivationPublic:
    # A returned activation keeps its expiry in the store (the license's term stays
    # fixed) but shows none: the SmartServer holds no maintenance from it any more.
    expires = a.maintenance_expires if a.copies > 0 else None
    return ActivationPublic(
        license_id=lic.license_id,
        install_code=install_code,
        copies=a.copies,
        mode=a.mode,
        activated_at=a.activated_at,
        maintenance_expires=expires,
        maintenance_status=(
            domain.maintenance_status(expires, now=now) if expires is not None else None
        ),
        type=lic.type,
        devices=lic.devices,
    )
