"""The operations of licensectl, as one Backend protocol.

`LocalBackend` holds every business rule (through `licensectl.domain`) over a store.
The CLI, and later the server, only translate arguments and results; a remote
backend speaks the same protocol over HTTP. Each public method is one transaction,
unless the caller wraps several in `atomic()`.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.domain import (
    Inventory,
    LicenseState,
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
    CustomerDetail,
    CustomerEmail,
    CustomerPublic,
    Event,
    EventPublic,
    License,
    LicenseDetail,
    LicenseHistory,
    LicensePage,
    LicensePublic,
    Partner,
    PartnerPublic,
    SmartServer,
    TransferResult,
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


class Backend(Protocol):
    """Every store operation; local and remote backends behave the same."""

    def partner_add(self, name: str, *, email: str | None = None) -> PartnerPublic: ...
    def partner_list(self) -> list[PartnerPublic]: ...
    def customer_add(
        self, name: str, *, partner: str | None = None, emails: Sequence[str] = ()
    ) -> CustomerPublic: ...
    def customer_list(self, *, partner: str | None = None) -> list[CustomerPublic]: ...
    def customer_show(self, customer: str, *, partner: str | None = None) -> CustomerDetail: ...
    def customer_email_add(
        self, customer: str, email: str, *, partner: str | None = None
    ) -> CustomerPublic: ...
    def customer_email_remove(
        self, customer: str, email: str, *, partner: str | None = None
    ) -> CustomerPublic: ...
    def license_add(
        self,
        *,
        partner: str | None,
        purchase_order: str,
        po_line: int,
        type: LicenseType,
        devices: int,
        quantity: int,
        term_months: int | None,
        note: str | None = None,
    ) -> LicensePublic: ...
    def license_list(
        self, filters: LicenseFilter, *, limit: int | None = DEFAULT_LIMIT, after: str | None = None
    ) -> LicensePage: ...
    def license_show(self, license_id: str) -> LicenseDetail: ...
    def license_history(self, license_id: str) -> LicenseHistory: ...
    def transfer(
        self, license_id: str, *, to: str, quantity: int | None = None, dry_run: bool = False
    ) -> TransferResult: ...
    def search_customers(
        self, text: str, *, limit: int | None = DEFAULT_LIMIT
    ) -> list[CustomerDetail]: ...
    def search_po(
        self,
        text: str,
        *,
        exact: bool = False,
        limit: int | None = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> LicensePage: ...


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


class LocalBackend:
    """The rules of DOMAIN.md over a SQLite or PostgreSQL store."""

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
    def open(cls, url: str, **kwargs: Any) -> LocalBackend:
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

    # --- partners ---------------------------------------------------------------

    def partner_add(self, name: str, *, email: str | None = None) -> PartnerPublic:
        name = domain.clean_name(name, what="partner name")
        clean_email = domain.clean_email(email) if email else None
        with self._write() as s:
            key = domain.name_key(name)
            if s.exec(select(Partner.id).where(Partner.name_key == key)).first() is not None:
                raise ConflictError(f"a partner named {name!r} already exists")
            partner = Partner(name=name, name_key=key, email=clean_email)
            _insert(s, partner, f"a partner named {name!r} already exists")
            self._event(s, "partner.add", partner_id=partner.id, name=name, email=clean_email)
            return self._partner_public(partner)

    def partner_list(self) -> list[PartnerPublic]:
        with self._read() as s:
            return [
                self._partner_public(p) for p in s.exec(select(Partner).order_by(col(Partner.id)))
            ]

    # --- customers --------------------------------------------------------------

    def customer_add(
        self, name: str, *, partner: str | None = None, emails: Sequence[str] = ()
    ) -> CustomerPublic:
        name = domain.clean_name(name, what="customer name")
        clean_emails = list(dict.fromkeys(domain.clean_email(e) for e in emails))
        with self._write() as s:
            p = self._partner(s, partner)
            return self._customer_add(s, p, name, clean_emails)

    def _customer_add(
        self, s: Session, p: Partner, name: str, emails: Sequence[str]
    ) -> CustomerPublic:
        key = domain.name_key(name)
        exists = s.exec(
            select(Customer.customer_id).where(
                Customer.partner_id == p.id, Customer.name_key == key
            )
        ).first()
        if exists is not None:
            raise ConflictError(
                f"partner {p.name!r} already has a customer named {name!r} ({exists})"
            )
        assert p.id is not None
        customer = Customer(customer_id=domain.new_id(), partner_id=p.id, name=name, name_key=key)
        _insert(s, customer, f"partner {p.name!r} already has a customer named {name!r}")
        assert customer.id is not None
        for email in emails:
            s.add(CustomerEmail(customer_pk=customer.id, email=email, email_key=email.casefold()))
        self._event(
            s,
            "customer.add",
            customer_id=customer.customer_id,
            partner_id=p.id,
            name=name,
            partner=p.name,
            emails=list(emails),
        )
        s.flush()
        return self._customer_public(s, customer, p.name)

    def customer_list(self, *, partner: str | None = None) -> list[CustomerPublic]:
        with self._read() as s:
            stmt = select(Customer).order_by(col(Customer.id))
            if partner is not None:
                stmt = stmt.where(Customer.partner_id == self._partner(s, partner).id)
            lookup = _Lookup()
            return [
                self._customer_public(s, c, self._partner_name(s, lookup, c.partner_id))
                for c in s.exec(stmt)
            ]

    def customer_show(self, customer: str, *, partner: str | None = None) -> CustomerDetail:
        with self._read() as s:
            c = self._customer(s, customer, partner=partner)
            return self._customer_details(s, [c])[0]

    def _customer_details(self, s: Session, customers: Sequence[Customer]) -> list[CustomerDetail]:
        pks = [c.id for c in customers]
        licenses = (
            s.exec(
                select(License).where(col(License.customer_pk).in_(pks)).order_by(col(License.seq))
            ).all()
            if pks
            else []
        )
        publics = self._licenses_public(s, licenses)
        by_customer: dict[str, list[LicensePublic]] = {}
        for lp in publics:
            by_customer.setdefault(lp.customer_id or "", []).append(lp)
        lookup = _Lookup()
        return [
            CustomerDetail(
                **self._customer_public(
                    s, c, self._partner_name(s, lookup, c.partner_id)
                ).model_dump(),
                licenses=by_customer.get(c.customer_id, []),
            )
            for c in customers
        ]

    def customer_email_add(
        self, customer: str, email: str, *, partner: str | None = None
    ) -> CustomerPublic:
        address = domain.clean_email(email)
        with self._write() as s:
            c = self._customer(s, customer, partner=partner)
            assert c.id is not None
            exists = s.exec(
                select(CustomerEmail.id).where(
                    CustomerEmail.customer_pk == c.id, CustomerEmail.email_key == address.casefold()
                )
            ).first()
            if exists is not None:
                raise ConflictError(f"{address} is already a contact of customer {c.name!r}")
            s.add(CustomerEmail(customer_pk=c.id, email=address, email_key=address.casefold()))
            self._event(
                s,
                "customer.email.add",
                customer_id=c.customer_id,
                partner_id=c.partner_id,
                email=address,
            )
            s.flush()
            return self._customer_public(s, c, self._partner_name(s, _Lookup(), c.partner_id))

    def customer_email_remove(
        self, customer: str, email: str, *, partner: str | None = None
    ) -> CustomerPublic:
        address = domain.clean_email(email)
        with self._write() as s:
            c = self._customer(s, customer, partner=partner)
            row = s.exec(
                select(CustomerEmail).where(
                    CustomerEmail.customer_pk == c.id, CustomerEmail.email_key == address.casefold()
                )
            ).first()
            if row is None:
                raise NotFoundError(f"{address} is not a contact of customer {c.name!r}")
            s.delete(row)
            self._event(
                s,
                "customer.email.remove",
                customer_id=c.customer_id,
                partner_id=c.partner_id,
                email=row.email,
            )
            s.flush()
            return self._customer_public(s, c, self._partner_name(s, _Lookup(), c.partner_id))

    # --- licenses ----------------------------------------------------------------

    def license_add(
        self,
        *,
        partner: str | None,
        purchase_order: str,
        po_line: int,
        type: LicenseType,
        devices: int,
        quantity: int,
        term_months: int | None,
        note: str | None = None,
    ) -> LicensePublic:
        po = domain.clean_po(purchase_order)
        domain.check_license_values(
            type=type, devices=devices, quantity=quantity, term_months=term_months, po_line=po_line
        )
        clean_note = domain.clean_name(note, what="note", max_len=domain.NOTE_MAX) if note else None
        with self._write() as s:
            p = self._partner(s, partner)
            existing = s.exec(
                select(License.license_id).where(
                    License.partner_id == p.id,
                    License.po_key == domain.po_key(po),
                    License.po_line == po_line,
                    col(License.parent_id).is_(None),
                )
            ).first()
            if existing is not None:
                raise ConflictError(
                    f"purchase order {po!r} line {po_line} of partner {p.name!r} already exists "
                    f"(License ID {existing}); use another --po-line"
                )
            assert p.id is not None
            lic = License(
                license_id=domain.new_id(),
                partner_id=p.id,
                type=type,
                devices=devices,
                quantity=quantity,
                term_months=term_months,
                purchase_order=po,
                po_key=domain.po_key(po),
                po_line=po_line,
                note=clean_note,
            )
            _insert(
                s, lic, f"purchase order {po!r} line {po_line} of partner {p.name!r} already exists"
            )
            self._event(
                s,
                "license.add",
                license_id=lic.license_id,
                partner_id=p.id,
                partner=p.name,
                purchase_order=po,
                po_line=po_line,
                type=type.value,
                devices=devices,
                quantity=quantity,
                term_months=term_months,
            )
            return self._license_public(lic, p.name, None)

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

    def license_list(
        self, filters: LicenseFilter, *, limit: int | None = DEFAULT_LIMIT, after: str | None = None
    ) -> LicensePage:
        with self._read() as s:
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
                if filters.expiring_within < 0:
                    raise UsageError("--expiring-within must be 0 or more days")
                horizon = utcnow() + timedelta(days=filters.expiring_within)
                expiring = select(Activation.license_seq).where(
                    Activation.copies > 0,
                    col(Activation.maintenance_expires).is_not(None),
                    col(Activation.maintenance_expires) <= horizon,
                )
                stmt = stmt.where(col(License.seq).in_(expiring))
            return self._page(s, stmt, limit=limit, after=after)

    def license_show(self, license_id: str) -> LicenseDetail:
        with self._read() as s:
            lic = self._license(s, license_id)
            public = self._one_public(s, lic)
            successors = s.exec(
                select(License.license_id)
                .where(License.parent_id == lic.license_id)
                .order_by(col(License.seq))
            ).all()
            return LicenseDetail(
                **public.model_dump(),
                successors=list(successors),
                activations=self._activations(s, lic),
            )

    def _activations(self, s: Session, lic: License) -> list[ActivationPublic]:
        rows = s.exec(
            select(Activation, SmartServer.install_code)
            .join(SmartServer, col(SmartServer.id) == Activation.smartserver_id)
            .where(Activation.license_seq == lic.seq, Activation.copies > 0)
            .order_by(col(Activation.id))
        ).all()
        now = utcnow()
        return [
            ActivationPublic(
                license_id=lic.license_id,
                install_code=code,
                copies=a.copies,
                mode=a.mode,
                activated_at=a.activated_at,
                maintenance_expires=a.maintenance_expires,
                maintenance_status=(
                    domain.maintenance_status(a.maintenance_expires, now=now)
                    if a.maintenance_expires is not None
                    else None
                ),
            )
            for a, code in rows
        ]

    def license_history(self, license_id: str) -> LicenseHistory:
        with self._read() as s:
            lic = self._license(s, license_id)
            ancestors: list[License] = []
            parent_id = lic.parent_id
            while parent_id is not None:
                parent = s.exec(select(License).where(License.license_id == parent_id)).first()
                if parent is None:
                    break
                ancestors.append(parent)
                parent_id = parent.parent_id
            ancestors.reverse()
            descendants: list[License] = []
            frontier = [lic.license_id]
            while frontier:
                children = s.exec(
                    select(License)
                    .where(col(License.parent_id).in_(frontier))
                    .order_by(col(License.seq))
                ).all()
                descendants.extend(children)
                frontier = [c.license_id for c in children]
            events = s.exec(
                select(Event).where(Event.license_id == lic.license_id).order_by(col(Event.id))
            ).all()
            return LicenseHistory(
                license=self._one_public(s, lic),
                ancestors=self._licenses_public(s, ancestors),
                descendants=self._licenses_public(s, descendants),
                events=[
                    EventPublic(
                        at=e.at,
                        actor=e.actor,
                        action=e.action,
                        license_id=e.license_id,
                        customer_id=e.customer_id,
                        details=e.details,
                    )
                    for e in events
                ],
            )

    # --- transfer ----------------------------------------------------------------

    def transfer(
        self, license_id: str, *, to: str, quantity: int | None = None, dry_run: bool = False
    ) -> TransferResult:
        try:
            with self._write() as s:
                result = self._transfer(s, license_id, to=to, quantity=quantity, dry_run=dry_run)
                if dry_run:
                    raise _DryRun(result)
                return result
        except _DryRun as dry:
            assert isinstance(dry.result, TransferResult)
            return dry.result

    def _transfer(
        self, s: Session, license_id: str, *, to: str, quantity: int | None, dry_run: bool
    ) -> TransferResult:
        lic = self._license(s, license_id, lock=True)
        target = self._transfer_target(s, lic, to)
        assert target.id is not None and lic.seq is not None
        plan = domain.plan_transfer(
            LicenseState(
                license_id=lic.license_id,
                partner_id=lic.partner_id,
                customer_pk=lic.customer_pk,
                status=lic.status,
                quantity=lic.quantity,
                active_copies=lic.active_copies,
            ),
            target_partner_id=target.partner_id,
            target_customer_pk=target.id,
            quantity=quantity,
        )
        before = self._one_public(s, lic)
        source_customer = s.get(Customer, lic.customer_pk) if lic.customer_pk is not None else None
        now = utcnow()

        def successor(customer_pk: int | None, copies: int) -> License:
            return License(
                license_id=domain.new_id(),
                partner_id=lic.partner_id,
                customer_pk=customer_pk,
                type=lic.type,
                devices=lic.devices,
                quantity=copies,
                term_months=lic.term_months,
                purchase_order=lic.purchase_order,
                po_key=lic.po_key,
                po_line=lic.po_line,
                parent_id=lic.license_id,
                note=lic.note,
                created_at=now,
            )

        moved = successor(target.id, plan.moved)
        remainder = successor(lic.customer_pk, plan.remainder) if plan.remainder else None
        # A conditional update: even if a lock were somehow missing, only the writer
        # that still sees the license available can retire it.
        retired = s.execute(
            License.__table__.update()  # type: ignore[attr-defined]
            .where(License.__table__.c.seq == lic.seq)  # type: ignore[attr-defined]
            .where(License.__table__.c.status != LicenseStatus.TRANSFERRED.value)  # type: ignore[attr-defined]
            .values(status=LicenseStatus.TRANSFERRED.value)
        )
        if retired.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                f"license {lic.license_id} was transferred by someone else just now"
            )
        s.add(moved)
        if remainder is not None:
            s.add(remainder)
        s.flush()
        s.refresh(lic)
        partner_name = before.partner
        source = (
            {"customer_id": source_customer.customer_id, "customer": source_customer.name}
            if source_customer
            else {"customer_id": None, "inventory": "partner"}
        )
        if not dry_run:
            self._event(
                s,
                "license.transfer",
                license_id=lic.license_id,
                customer_id=target.customer_id,
                partner_id=lic.partner_id,
                source=source,
                to_customer_id=target.customer_id,
                to_customer=target.name,
                quantity=plan.moved,
                transferred=moved.license_id,
                remainder=remainder.license_id if remainder else None,
            )
            self._event(
                s,
                "license.mint",
                license_id=moved.license_id,
                customer_id=target.customer_id,
                partner_id=lic.partner_id,
                parent_id=lic.license_id,
                reason="transfer",
                quantity=plan.moved,
                to_customer=target.name,
            )
            if remainder is not None:
                self._event(
                    s,
                    "license.mint",
                    license_id=remainder.license_id,
                    customer_id=source.get("customer_id"),
                    partner_id=lic.partner_id,
                    parent_id=lic.license_id,
                    reason="transfer remainder",
                    quantity=plan.remainder,
                )
        return TransferResult(
            original=self._license_public(lic, partner_name, source_customer),
            transferred=self._license_public(moved, partner_name, target),
            remainder=(
                self._license_public(remainder, partner_name, source_customer)
                if remainder is not None
                else None
            ),
            dry_run=dry_run,
        )

    def _transfer_target(self, s: Session, lic: License, to: str) -> Customer:
        """`--to` by Customer ID anywhere, or by name among the license's partner's customers."""
        ref = to.strip()
        if domain.looks_like_uuid(ref):
            target = self._customer(s, ref, partner=None)
            if target.partner_id != lic.partner_id:
                raise ConflictError(
                    f"customer {target.customer_id} belongs to another partner; a license moves "
                    "only to customers of its own partner"
                )
            return target
        key = domain.name_key(" ".join(ref.split()))
        target_or_none = s.exec(
            select(Customer).where(Customer.partner_id == lic.partner_id, Customer.name_key == key)
        ).first()
        if target_or_none is None:
            partner = s.get(Partner, lic.partner_id)
            raise NotFoundError(
                f"partner {partner.name if partner else '?'!r} has no customer named {ref!r} "
                "(see 'licensectl customer list')"
            )
        return target_or_none

    # --- search ------------------------------------------------------------------

    def search_customers(
        self, text: str, *, limit: int | None = DEFAULT_LIMIT
    ) -> list[CustomerDetail]:
        needle = domain.name_key(" ".join(text.split()))
        if not needle:
            raise UsageError("search text must not be empty")
        with self._read() as s:
            stmt = (
                select(Customer)
                .where(col(Customer.name_key).contains(needle, autoescape=True))
                .order_by(col(Customer.id))
            )
            if limit is not None:
                stmt = stmt.limit(limit)
            return self._customer_details(s, s.exec(stmt).all())

    def search_po(
        self,
        text: str,
        *,
        exact: bool = False,
        limit: int | None = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> LicensePage:
        key = domain.po_key(text.strip())
        if not key:
            raise UsageError("purchase order must not be empty")
        with self._read() as s:
            stmt = select(License)
            if exact:
                stmt = stmt.where(License.po_key == key)
            else:
                # A prefix as an index range: po_key >= key AND po_key < key + U+10FFFF.
                stmt = stmt.where(
                    col(License.po_key) >= key, col(License.po_key) < key + "\U0010ffff"
                )
            return self._page(s, stmt, limit=limit, after=after)
