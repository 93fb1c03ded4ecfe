"""Partners, customer/project accounts and their email contacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.contract.base import Page
from licensectl.contract.models import (
    CustomerPage,
    CustomerPublic,
    CustomerShow,
    PartnerPublic,
)
from licensectl.domain import Role
from licensectl.errors import ConflictError, NotFoundError
from licensectl.models import Customer, License, Partner
from licensectl.models import CustomerEmail as EmailRow
from licensectl.service.base import _insert
from licensectl.service.convert import (
    customer_public,
    customers_public,
    partner_public,
)
from licensectl.service.lookup import Lookups

if TYPE_CHECKING:
    from licensectl.contract.requests import CustomerAdd, CustomerEmail, PartnerAdd


class AccountOps(Lookups):
    """Partners (admin), customers and their email contacts (admin and partner)."""

    # --- partners ---------------------------------------------------------------

    def partner_add(self, request: PartnerAdd) -> PartnerPublic:
        self._allow(Role.ADMIN, action="add partners")
        name = domain.clean_name(request.name, what="partner name")
        email = domain.clean_email(request.email) if request.email else None
        with self._write() as s:
            key = domain.name_key(name)
            if s.exec(select(Partner.id).where(Partner.name_key == key)).first() is not None:
                raise ConflictError(f"a partner named {name!r} already exists")
            partner = Partner(name=name, name_key=key, email=email)
            _insert(s, partner, f"a partner named {name!r} already exists")
            self._event(s, "partner.add", partner_id=partner.id, name=name, email=email)
            return partner_public(partner)

    def partner_list(self) -> list[PartnerPublic]:
        with self._read() as s:
            stmt = select(Partner).order_by(col(Partner.id))
            scope = self._scope_of(s)
            if scope.partner_id is not None:
                stmt = stmt.where(Partner.id == scope.partner_id)
            return [partner_public(p) for p in s.exec(stmt)]

    # --- customers --------------------------------------------------------------

    def customer_add(self, request: CustomerAdd) -> CustomerPublic:
        name = domain.clean_customer_name(request.name)
        emails = list(dict.fromkeys(domain.clean_email(e) for e in request.emails))
        with self._write() as s:
            partner = self._partner(s, request.partner)
            self._allow(Role.ADMIN, Role.PARTNER, action="add customer accounts")
            return self._customer_add(s, partner, name, emails)

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
            s.add(EmailRow(customer_pk=customer.id, email=email, email_key=email.casefold()))
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
        return customer_public(s, customer)

    def customer_list(self, *, partner: str | None = None, page: Page = Page()) -> CustomerPage:
        with self._read() as s:
            stmt = select(Customer)
            if partner is not None:
                stmt = stmt.where(Customer.partner_id == self._partner(s, partner).id)
            rows, more = self._customer_page(s, stmt, page)
            items = customers_public(s, rows)
            return CustomerPage(items=items, next_after=items[-1].customer_id if more else None)

    def customer_show(
        self, customer: str, *, partner: str | None = None, page: Page = Page()
    ) -> CustomerShow:
        with self._read() as s:
            c = self._customer(s, customer, partner=partner)
            # Its licenses a page at a time (retired and void ones included), oldest first.
            licenses = self._page(s, select(License).where(License.customer_pk == c.id), page)
            return CustomerShow(
                **customer_public(s, c).model_dump(),
                licenses=licenses.items,
                licenses_next_after=licenses.next_after,
            )

    def customer_email_add(self, request: CustomerEmail) -> CustomerPublic:
        return self._email_change(request, add=True)

    def customer_email_remove(self, request: CustomerEmail) -> CustomerPublic:
        return self._email_change(request, add=False)

    def _email_change(self, request: CustomerEmail, *, add: bool) -> CustomerPublic:
        address = domain.clean_email(request.email)
        with self._write() as s:
            c = self._customer(s, request.customer, partner=request.partner)
            self._allow(Role.ADMIN, Role.PARTNER, action="change a customer's email contacts")
            assert c.id is not None
            row = s.exec(
                select(EmailRow).where(
                    EmailRow.customer_pk == c.id, EmailRow.email_key == address.casefold()
                )
            ).first()
            if add and row is not None:
                raise ConflictError(f"{address} is already a contact of customer {c.name!r}")
            if not add and row is None:
                raise NotFoundError(f"{address} is not a contact of customer {c.name!r}")
            if row is None:
                s.add(EmailRow(customer_pk=c.id, email=address, email_key=address.casefold()))
            else:
                s.delete(row)
            self._event(
                s,
                "customer.email.add" if add else "customer.email.remove",
                customer_id=c.customer_id,
                partner_id=c.partner_id,
                email=address if row is None else row.email,
            )
            s.flush()
            return customer_public(s, c)
