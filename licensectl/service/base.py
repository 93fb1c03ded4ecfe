"""The shared machinery of the local backend: transactions, look-ups, conversions."""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.domain import (
    Inventory,
    LicenseStatus,
    LicenseType,
    Role,
    utcnow,
)
from licensectl.errors import ConflictError, NotFoundError, UsageError
from licensectl.models import (
    Activation,
    ActivationPublic,
    Customer,
    CustomerEmail,
    CustomerPublic,
    Event,
    License,
    LicensePage,
    LicensePublic,
    Partner,
    PartnerPublic,
    SmartServer,
)
from licensectl.store.engine import Store
from licensectl.store.schema import ensure_schema

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Principal:
    """Who is acting: recorded on every event, and (remotely) what they may see."""

    role: Role
    name: str

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.name}"


def local_operator() -> Principal:
    """On a local store the operator acts as admin (DOMAIN.md)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Principal(role=Role.ADMIN, name=f"local:{user}")


@dataclass(frozen=True)
class LicenseFilter:
    partner: str | None = None
    customer: str | None = None
    inventory: Inventory | None = None
    status: LicenseStatus | None = None
    type: LicenseType | None = None
    expiring_within: int | None = None


@dataclass
class _Lookup:
    """Names resolved inside one transaction, so a list does not re-query per row."""

    partners: dict[int, str] = field(default_factory=dict)


def _insert(s: Session, row: Any, conflict: str) -> None:
    """Insert one row; a unique-key race lost to another writer becomes a conflict.

    The explicit checks before each insert give the precise message; this catches the
    window between check and insert on PostgreSQL, where we lock rows, not the table.
    The savepoint keeps the outer transaction usable for a clean rollback.
    """
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError:
        raise ConflictError(conflict) from None


class _DryRun(Exception):
    """Raised inside a write transaction to roll it back while keeping a result."""

    def __init__(self, result: Any) -> None:
        super().__init__("dry run")
        self.result = result


def license_state(lic: License) -> domain.LicenseState:
    """What the pure transfer and activation rules need to know about a stored license."""
    return domain.LicenseState(
        license_id=lic.license_id,
        partner_id=lic.partner_id,
        customer_pk=lic.customer_pk,
        status=lic.status,
        quantity=lic.quantity,
        active_copies=lic.active_copies,
    )


class BaseBackend:
    """Transactions, look-ups and public conversions every group of operations uses."""

    def __init__(
        self,
        store: Store,
        *,
        principal: Principal | None = None,
        default_partner: str | None = None,
    ) -> None:
        self.store = store
        self.principal = principal or local_operator()
        self.default_partner = default_partner
        self._outer: Session | None = None
        ensure_schema(store)

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> Self:
        return cls(Store(url), **kwargs)

    def close(self) -> None:
        self.store.dispose()

    # --- transactions ---------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run several operations as one transaction: all of them or none."""
        if self._outer is not None:
            yield
            return
        with self.store.write() as session:
            self._outer = session
            try:
                yield
            finally:
                self._outer = None

    @contextmanager
    def _write(self) -> Iterator[Session]:
        if self._outer is not None:
            # Inside atomic(): a failed operation must not leave half its rows behind
            # while the batch goes on, so each runs in a savepoint of the outer one.
            with self._outer.begin_nested():
                yield self._outer
            return
        with self.store.write() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        if self._outer is not None:
            yield self._outer
            return
        with self.store.read() as session:
            yield session

    def _event(
        self,
        session: Session,
        action: str,
        *,
        license_id: str | None = None,
        customer_id: str | None = None,
        partner_id: int | None = None,
        **details: Any,
    ) -> None:
        session.add(
            Event(
                actor=self.principal.actor,
                action=action,
                license_id=license_id,
                customer_id=customer_id,
                partner_id=partner_id,
                details=details,
            )
        )

    # --- look-ups ---------------------------------------------------------------

    def _partner(self, session: Session, name: str | None) -> Partner:
        """The named partner, or the only one (or the profile's default)."""
        name = name if name is not None else self.default_partner
        if name is not None:
            key = domain.name_key(name.strip())
            found = session.exec(select(Partner).where(Partner.name_key == key)).first()
            if found is None:
                raise NotFoundError(f"no partner named {name!r} (see 'licensectl partner list')")
            return found
        candidates = session.exec(select(Partner).limit(2)).all()
        if not candidates:
            raise NotFoundError("no partners yet: add one with 'licensectl partner add NAME'")
        if len(candidates) > 1:
            raise UsageError("this store holds several partners: say which with --partner NAME")
        return candidates[0]

    def _customer(self, session: Session, ref: str, *, partner: str | None) -> Customer:
        """A customer by Customer ID, or by name (within --partner when given)."""
        ref = ref.strip()
        if domain.looks_like_uuid(ref):
            cid = domain.parse_uuid(ref, what="Customer ID")
            found = session.exec(select(Customer).where(Customer.customer_id == cid)).first()
            if found is None:
                raise NotFoundError(f"no customer with Customer ID {cid}")
            if partner is not None and found.partner_id != self._partner(session, partner).id:
                raise NotFoundError(f"customer {cid} does not belong to partner {partner!r}")
            return found
        key = domain.name_key(" ".join(ref.split()))
        stmt = select(Customer).where(Customer.name_key == key)
        if partner is not None or self.default_partner is not None:
            stmt = stmt.where(Customer.partner_id == self._partner(session, partner).id)
        matches = session.exec(stmt.limit(2)).all()
        if not matches:
            scope = f" of partner {partner!r}" if partner else ""
            raise NotFoundError(
                f"no customer named {ref!r}{scope} (see 'licensectl customer list')"
            )
        if len(matches) > 1:
            raise UsageError(
                f"several partners have a customer named {ref!r}: say which with --partner "
                "or use the Customer ID"
            )
        return matches[0]

    def _license(self, session: Session, license_id: str, *, lock: bool = False) -> License:
        lid = domain.parse_uuid(license_id, what="License ID")
        stmt = select(License).where(License.license_id == lid)
        if lock:
            # PostgreSQL: hold the row for this read-check-write. SQLite ignores it;
            # there BEGIN IMMEDIATE already serialises the whole transaction.
            stmt = stmt.with_for_update()
        found = session.exec(stmt).first()
        if found is None:
            raise NotFoundError(f"no license with License ID {lid}")
        return found

    def _partner_name(self, session: Session, lookup: _Lookup, partner_id: int) -> str:
        if partner_id not in lookup.partners:
            p = session.get(Partner, partner_id)
            lookup.partners[partner_id] = p.name if p else "?"
        return lookup.partners[partner_id]

    # --- public converters --------------------------------------------------------

    @staticmethod
    def _partner_public(p: Partner) -> PartnerPublic:
        return PartnerPublic(name=p.name, email=p.email, created_at=p.created_at)

    def _customer_public(self, session: Session, c: Customer, partner_name: str) -> CustomerPublic:
        emails = session.exec(
            select(CustomerEmail.email)
            .where(CustomerEmail.customer_pk == c.id)
            .order_by(col(CustomerEmail.id))
        ).all()
        return CustomerPublic(
            customer_id=c.customer_id,
            name=c.name,
            partner=partner_name,
            emails=list(emails),
            created_at=c.created_at,
        )

    @staticmethod
    def _license_public(
        lic: License, partner_name: str, customer: Customer | None
    ) -> LicensePublic:
        return LicensePublic(
            license_id=lic.license_id,
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

    def _licenses_public(
        self, session: Session, licenses: Sequence[License]
    ) -> list[LicensePublic]:
        """Convert many licenses with two extra queries in all, not two per license."""
        partner_ids = {lic.partner_id for lic in licenses}
        customer_pks = {lic.customer_pk for lic in licenses if lic.customer_pk is not None}
        partners = (
            {
                p.id: p.name
                for p in session.exec(select(Partner).where(col(Partner.id).in_(partner_ids)))
            }
            if partner_ids
            else {}
        )
        customers = (
            {
                c.id: c
                for c in session.exec(select(Customer).where(col(Customer.id).in_(customer_pks)))
            }
            if customer_pks
            else {}
        )
        return [
            self._license_public(
                lic,
                partners.get(lic.partner_id, "?"),
                customers.get(lic.customer_pk) if lic.customer_pk is not None else None,
            )
            for lic in licenses
        ]

    def _one_public(self, session: Session, lic: License) -> LicensePublic:
        return self._licenses_public(session, [lic])[0]

    def _license_select(self, s: Session, filters: LicenseFilter) -> Any:
        """The licenses a `LicenseFilter` selects (unordered; `license list` and `export`)."""
        stmt = select(License)
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

    def _page(self, s: Session, stmt: Any, *, limit: int | None, after: str | None) -> LicensePage:
        if after is not None:
            anchor = s.exec(
                select(License.seq).where(
                    License.license_id == domain.parse_uuid(after, what="--after License ID")
                )
            ).first()
            if anchor is None:
                raise NotFoundError(f"no license with License ID {after} (given as --after)")
            stmt = stmt.where(col(License.seq) > anchor)
        stmt = stmt.order_by(col(License.seq))
        if limit is not None:
            if limit < 1:
                raise UsageError("--limit must be at least 1")
            stmt = stmt.limit(limit + 1)
        rows = list(s.exec(stmt).all())
        more = limit is not None and len(rows) > limit
        if more:
            rows = rows[:limit]
        items = self._licenses_public(s, rows)
        return LicensePage(items=items, next_after=items[-1].license_id if more else None)

    def _activations(self, s: Session, lic: License) -> list[ActivationPublic]:
        rows = s.exec(
            select(Activation, SmartServer.install_code)
            .join(SmartServer, col(SmartServer.id) == Activation.smartserver_id)
            .where(Activation.license_seq == lic.seq, Activation.copies > 0)
            .order_by(col(Activation.id))
        ).all()
        now = utcnow()
        return [self._activation_public(a, lic, code, now=now) for a, code in rows]

    @staticmethod
    def _activation_public(
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
