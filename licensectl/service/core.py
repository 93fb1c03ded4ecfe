"""Partners, customers, licenses, transfers and search: DOMAIN.md rules 1–3."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.domain import (
    LicenseStatus,
    LicenseType,
    utcnow,
)
from licensectl.errors import ConflictError, NotFoundError, UsageError
from licensectl.models import (
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
    TransferResult,
)
from licensectl.service.base import (
    DEFAULT_LIMIT,
    BaseBackend,
    LicenseFilter,
    _DryRun,
    _insert,
    _Lookup,
    license_state,
)


class CoreOps(BaseBackend):
    """The operations of the core issue."""

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
        name = domain.clean_customer_name(name)
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

    def license_list(
        self, filters: LicenseFilter, *, limit: int | None = DEFAULT_LIMIT, after: str | None = None
    ) -> LicensePage:
        with self._read() as s:
            stmt = self._license_select(s, filters)
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
            license_state(lic),
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
