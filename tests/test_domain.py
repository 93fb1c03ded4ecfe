"""The pure rules, without a store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from licensectl import domain
from licensectl.domain import LicenseState, LicenseStatus
from licensectl.errors import ConflictError, UsageError


def state(**kw: object) -> LicenseState:
    base: dict[str, object] = {
        "license_id": "L",
        "partner_id": 1,
        "customer_pk": None,
        "status": LicenseStatus.AVAILABLE,
        "quantity": 5,
        "active_copies": 0,
    }
    base.update(kw)
    return LicenseState(**base)  # type: ignore[arg-type]


def test_plan_transfer_whole_and_partial() -> None:
    whole = domain.plan_transfer(state(), target_partner_id=1, target_customer_pk=7, quantity=None)
    assert (whole.moved, whole.remainder) == (5, 0)
    part = domain.plan_transfer(state(), target_partner_id=1, target_customer_pk=7, quantity=2)
    assert (part.moved, part.remainder) == (2, 3)


@pytest.mark.parametrize(
    ("lic", "partner", "customer", "qty", "error"),
    [
        (state(status=LicenseStatus.TRANSFERRED), 1, 7, None, ConflictError),
        (state(active_copies=1, status=LicenseStatus.ACTIVATED), 1, 7, None, ConflictError),
        (state(), 2, 7, None, ConflictError),
        (state(customer_pk=7), 1, 7, None, ConflictError),
        (state(), 1, 7, 6, ConflictError),
        (state(), 1, 7, 0, UsageError),
    ],
)
def test_plan_transfer_refusals(
    lic: LicenseState, partner: int, customer: int, qty: int | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        domain.plan_transfer(
            lic, target_partner_id=partner, target_customer_pk=customer, quantity=qty
        )


def test_clean_name_and_email() -> None:
    assert domain.clean_name("  a   b ") == "a b"
    for bad in ("", "   ", "x" * 201, "a\x00b"):
        with pytest.raises(UsageError):
            domain.clean_name(bad)
    assert domain.clean_email(" Ops@Example.COM ") == "Ops@example.com"
    for bad in ("a", "a@", "@b.c", "a@b", "a b@c.d", "a..b@c.d"):
        with pytest.raises(UsageError):
            domain.clean_email(bad)


def test_uuid_parsing() -> None:
    assert domain.parse_uuid("B1E52546-F2DB-4053-B2DD-2AB2FA7732D2") == (
        "b1e52546-f2db-4053-b2dd-2ab2fa7732d2"
    )
    with pytest.raises(UsageError):
        domain.parse_uuid("b1e52546")


def test_maintenance_expiry_and_status() -> None:
    assert domain.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert domain.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert domain.add_months(date(2026, 11, 29), 36) == date(2029, 11, 29)
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    expires = domain.maintenance_expiry(start, 12)
    assert expires == datetime(2027, 1, 1, 12, tzinfo=UTC)
    assert domain.maintenance_status(expires, now=expires - timedelta(days=61)) == "active"
    assert domain.maintenance_status(expires, now=expires - timedelta(days=60)) == "expiring"
    assert domain.maintenance_status(expires, now=expires) == "expired"


def test_license_values() -> None:
    ok = {"devices": 1, "quantity": 1, "po_line": 1}
    domain.check_license_values(type=domain.LicenseType.CORE, term_months=None, **ok)
    with pytest.raises(UsageError):
        domain.check_license_values(type=domain.LicenseType.MAINTENANCE, term_months=None, **ok)
