"""Fixing mistakes: renames, notes, removing an unused account, voiding a license.

Each change writes an event with the old and the new value, so the history says what
was fixed, by whom and when (docs/domain.md, Fixing mistakes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, delete, func, select

from licensectl import domain
from licensectl.domain import LicenseStatus, Role
from licensectl.errors import ConflictError
from licensectl.models import Activation, ApiToken, Customer, License, Partner
from licensectl.models import CustomerEmail as EmailRow
from licensectl.service.convert import (
    customer_public,
    forget_partners,
    one_public,
    partner_public,
)
from licensectl.service.lookup import Lookups

if TYPE_CHECKING:
    from licensectl.contract.models import CustomerPublic, LicensePublic, PartnerPublic
    from licensectl.contract.requests import (
        CustomerNote,
        CustomerRemove,
        CustomerRename,
        LicenseNote,
        LicenseVoid,
        PartnerRename,
    )


def _note(value: str | None) -> str | None:
    """A note as stored: tidied, or None when empty (clearing it)."""
    if value is None or not value.strip():
        return None
    return domain.clean_name(value, what="note", max_len=domain.NOTE_MAX)


class CorrectionOps(Lookups):
    """Renames and notes (admin and partner; partners' own names: admin), customer
    removal (admin and partner) and voiding licenses (admin)."""

    def partner_rename(self, request: PartnerRename) -> PartnerPublic:
        new = domain.clean_name(request.name, what="partner name")
        with self._write() as s:
            p = self._partner(s, request.partner)
            self._allow(Role.ADMIN, action="rename partners")
            key = domain.name_key(new)
            if key != p.name_key:
                taken = s.exec(select(Partner.id).where(Partner.name_key == key)).first()
                if taken is not None:
                    raise ConflictError(f"a partner named {new!r} already exists")
            old = p.name
            if old == new:
                return partner_public(p)
            p.name, p.name_key = new, key
            s.add(p)
            forget_partners(s)  # a batch's later operations read the name anew
            self._event(s, "partner.rename", partner_id=p.id, old=old, new=new)
            s.flush()
            return partner_public(p)

    def customer_rename(self, request: CustomerRename) -> CustomerPublic:
        new = domain.clean_customer_name(request.name)
        with self._write() as s:
            c = self._customer(s, request.customer, partner=request.partner)
            self._allow(Role.ADMIN, Role.PARTNER, action="rename customer accounts")
            key = domain.name_key(new)
            if key != c.name_key:
                taken = s.exec(
                    select(Customer.customer_id).where(
                        Customer.partner_id == c.partner_id, Customer.name_key == key
                    )
                ).first()
                if taken is not None:
                    raise ConflictError(
                        f"this partner already has a customer named {new!r} ({taken})"
                    )
            old = c.name
            if old != new:
                c.name, c.name_key = new, key
                s.add(c)
                self._event(
                    s,
                    "customer.rename",
                    customer_id=c.customer_id,
                    partner_id=c.partner_id,
                    old=old,
                    new=new,
                )
                s.flush()
            return customer_public(s, c)

    def customer_note(self, request: CustomerNote) -> CustomerPublic:
        note = _note(request.note)
        with self._write() as s:
            c = self._customer(s, request.customer, partner=request.partner)
            self._allow(Role.ADMIN, Role.PARTNER, action="change a customer's note")
            if c.note != note:
                old, c.note = c.note, note
                s.add(c)
                self._event(
                    s,
                    "customer.note",
                    customer_id=c.customer_id,
                    partner_id=c.partner_id,
                    old=old,
                    new=note,
                )
                s.flush()
            return customer_public(s, c)

    def customer_remove(self, request: CustomerRemove) -> CustomerPublic:
        with self._write() as s:
            c = self._customer(s, request.customer, partner=request.partner)
            self._allow(Role.ADMIN, Role.PARTNER, action="remove customer accounts")
            assert c.id is not None
            held = s.exec(
                select(func.count()).select_from(License).where(License.customer_pk == c.id)
            ).one()
            if held:
                raise ConflictError(
                    f"customer {c.name!r} ({c.customer_id}) has held "
                    f"{held} license{'' if held == 1 else 's'}, so its history must stay: "
                    "only an account that never held a license can be removed "
                    "(rename it instead with 'licensectl customer rename')"
                )
            tokens = s.exec(
                select(func.count()).select_from(ApiToken).where(ApiToken.customer_pk == c.id)
            ).one()
            if tokens:
                raise ConflictError(
                    f"customer {c.name!r} ({c.customer_id}) has API tokens issued for it, "
                    "which its history must keep naming: it cannot be removed"
                )
            before = customer_public(s, c)
            s.exec(delete(EmailRow).where(col(EmailRow.customer_pk) == c.id))
            s.delete(c)
            self._event(
                s,
                "customer.remove",
                customer_id=c.customer_id,
                partner_id=c.partner_id,
                name=c.name,
                emails=before.emails,
            )
            s.flush()
            return before

    def license_note(self, request: LicenseNote) -> LicensePublic:
        note = _note(request.note)
        with self._write() as s:
            lic = self._license(s, request.license_id, lock=True)
            self._allow(Role.ADMIN, Role.PARTNER, action="change a license's note")
            if lic.note != note:
                old, lic.note = lic.note, note
                s.add(lic)
                self._event(s, "license.note", **self._on(s, lic), old=old, new=note)
                s.flush()
            return one_public(s, lic)

    def license_void(self, request: LicenseVoid) -> LicensePublic:
        reason = domain.clean_name(request.reason, what="reason", max_len=domain.NOTE_MAX)
        with self._write() as s:
            lic = self._license(s, request.license_id, lock=True)
            self._allow(Role.ADMIN, action="void licenses (they undo a purchase)")
            assert lic.seq is not None
            if lic.status is LicenseStatus.VOID:
                raise ConflictError(f"license {lic.license_id} is already void")
            why = _not_voidable(s, lic)
            if why is not None:
                raise ConflictError(
                    f"license {lic.license_id} {why}: only a license never transferred or "
                    "activated can be voided"
                )
            lic.status = LicenseStatus.VOID
            s.add(lic)
            self._event(
                s,
                "license.void",
                **self._on(s, lic),
                reason=reason,
                purchase_order=lic.purchase_order,
                po_line=lic.po_line,
                old=LicenseStatus.AVAILABLE.value,
                new=LicenseStatus.VOID.value,
            )
            s.flush()
            return one_public(s, lic)

    def _on(self, s: Session, lic: License) -> dict[str, Any]:
        """The objects an event about this license names."""
        customer = s.get(Customer, lic.customer_pk) if lic.customer_pk is not None else None
        return {
            "license_id": lic.license_id,
            "partner_id": lic.partner_id,
            "customer_id": customer.customer_id if customer else None,
        }


def _not_voidable(s: Session, lic: License) -> str | None:
    """Why this license cannot be voided, or None when it can."""
    if lic.status is LicenseStatus.TRANSFERRED:
        return "was transferred"
    if lic.parent_id is not None or lic.customer_pk is not None:
        return "came from a transfer"
    ever = s.exec(select(Activation.id).where(Activation.license_seq == lic.seq).limit(1)).first()
    if ever is not None or lic.active_copies:
        return "was activated"
    return None
