"""Transfers: a license, or some of its copies, moves to a customer of its partner.

The rules are `domain.plan_transfer`'s; this module loads, locks and writes. A transfer
always mints new License IDs and retires the original, which stays for tracking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from licensectl import domain
from licensectl.contract.models import TransferResult
from licensectl.domain import LicenseStatus, Role, utcnow
from licensectl.errors import ConflictError, NotFoundError
from licensectl.models import Customer, License, Partner
from licensectl.service.base import _DryRun, license_state
from licensectl.service.convert import license_public, one_public
from licensectl.service.lookup import Lookups, id_prefix

if TYPE_CHECKING:
    from licensectl.contract.requests import Transfer

LICENSES: Any = License.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Minted:
    """The licenses a transfer makes: the part that moves, and what the sender keeps."""

    moved: License
    remainder: License | None


class TransferOps(Lookups):
    def transfer(self, request: Transfer) -> TransferResult:
        try:
            with self._write() as s:
                result = self._transfer(s, request)
                if request.dry_run:
                    raise _DryRun(result)
                return result
        except _DryRun as dry:
            assert isinstance(dry.result, TransferResult)
            return dry.result

    def _transfer(self, s: Session, request: Transfer) -> TransferResult:
        lic = self._license(s, request.license_id, lock=True)
        self._allow(Role.ADMIN, Role.PARTNER, action="transfer licenses")
        target = self._transfer_target(s, lic, request.to)
        assert target.id is not None and lic.seq is not None
        plan = domain.plan_transfer(
            license_state(lic),
            target_partner_id=target.partner_id,
            target_customer_pk=target.id,
            quantity=request.quantity,
        )
        partner = one_public(s, lic).partner
        source = s.get(Customer, lic.customer_pk) if lic.customer_pk is not None else None
        minted = _mint(lic, target, plan, now=utcnow())
        _retire(s, lic)
        s.add(minted.moved)
        if minted.remainder is not None:
            s.add(minted.remainder)
        s.flush()
        s.refresh(lic)
        if not request.dry_run:
            self._transfer_events(s, lic, source, target, plan, minted)
        real = not request.dry_run
        return TransferResult(
            original=license_public(lic, partner, source),
            transferred=license_public(minted.moved, partner, target, minted=real),
            remainder=(
                license_public(minted.remainder, partner, source, minted=real)
                if minted.remainder is not None
                else None
            ),
            dry_run=request.dry_run,
        )

    def _transfer_target(self, s: Session, lic: License, to: str) -> Customer:
        """`to` by Customer ID, or by name among the license's partner's customers."""
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
        found = s.exec(
            select(Customer).where(Customer.partner_id == lic.partner_id, Customer.name_key == key)
        ).first()
        if found is None and id_prefix(ref) is not None:
            target = self._customer(s, ref, partner=None)  # a short Customer ID
            if target.partner_id != lic.partner_id:
                raise ConflictError(
                    f"customer {target.customer_id} belongs to another partner; a license moves "
                    "only to customers of its own partner"
                )
            return target
        if found is None:
            partner = s.get(Partner, lic.partner_id)
            raise NotFoundError(
                f"partner {partner.name if partner else '?'!r} has no customer named {ref!r} "
                "(see 'licensectl customer list')"
            )
        return found

    def _transfer_events(
        self,
        s: Session,
        lic: License,
        source: Customer | None,
        target: Customer,
        plan: domain.TransferPlan,
        minted: _Minted,
    ) -> None:
        moved, remainder = minted.moved, minted.remainder
        self._event(
            s,
            "license.transfer",
            license_id=lic.license_id,
            customer_id=target.customer_id,
            partner_id=lic.partner_id,
            source=(
                {"customer_id": source.customer_id, "customer": source.name}
                if source
                else {"customer_id": None, "inventory": "partner"}
            ),
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
                customer_id=source.customer_id if source else None,
                partner_id=lic.partner_id,
                parent_id=lic.license_id,
                reason="transfer remainder",
                quantity=plan.remainder,
            )


def _mint(lic: License, target: Customer, plan: domain.TransferPlan, *, now: datetime) -> _Minted:
    """The successors a plan makes: copies of the original's terms under new IDs."""

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

    return _Minted(
        moved=successor(target.id, plan.moved),
        remainder=successor(lic.customer_pk, plan.remainder) if plan.remainder else None,
    )


def _retire(s: Session, lic: License) -> None:
    """Mark the original transferred, as a conditional update: even if a lock were somehow
    missing, only the writer that still sees the license available can retire it."""
    retired = s.execute(
        LICENSES.update()
        .where(LICENSES.c.seq == lic.seq)
        .where(LICENSES.c.status != LicenseStatus.TRANSFERRED.value)
        .values(status=LicenseStatus.TRANSFERRED.value)
    )
    if retired.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"license {lic.license_id} was transferred by someone else just now")
