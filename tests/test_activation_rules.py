"""The pure activation rules of licensectl.domain: rules 4, 5, 7 and 8 of docs/domain.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from licensectl import domain
from licensectl.domain import (
    ActivationMode,
    Holding,
    LicenseState,
    LicenseStatus,
    LicenseType,
    MaintenanceStatus,
    Role,
)
from licensectl.errors import ConflictError, PermissionDeniedError, UsageError

NOW = datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
LID = "b1e52546-f2db-4053-b2dd-2ab2fa7732d2"


def _offline_grant(role: Role, **kwargs: Any) -> None:
    domain.check_activation_grant(role, mode=ActivationMode.OFFLINE, **kwargs)


def state(
    *,
    status: LicenseStatus = LicenseStatus.AVAILABLE,
    customer_pk: int | None = 7,
    quantity: int = 5,
    active: int = 0,
) -> LicenseState:
    return LicenseState(
        license_id=LID,
        partner_id=1,
        customer_pk=customer_pk,
        status=status,
        quantity=quantity,
        active_copies=active,
    )


def test_plan_activation_returns_the_change() -> None:
    assert domain.plan_activation(state(), install_code="S", held=0, wanted=3) == 3
    assert domain.plan_activation(state(active=3), install_code="S", held=3, wanted=5) == 2
    assert domain.plan_activation(state(active=3), install_code="S", held=3, wanted=1) == -2
    assert domain.plan_activation(state(active=3), install_code="S", held=3, wanted=3) == 0


def test_not_enough_free_copies_counts_other_smartservers() -> None:
    # 4 of 5 active, 1 of them here: this SmartServer may grow to 2, not 3.
    lic = state(active=4)
    assert domain.plan_activation(lic, install_code="S", held=1, wanted=2) == 1
    with pytest.raises(ConflictError, match="1 of 5 free"):
        domain.plan_activation(lic, install_code="S", held=1, wanted=3)


@pytest.mark.parametrize(
    ("lic", "fragment"),
    [
        (state(status=LicenseStatus.TRANSFERRED), "was transferred"),
        (state(customer_pk=None), "partner's own inventory"),
        (state(quantity=2), "not enough free copies"),
    ],
)
def test_activation_refusals_are_conflicts(lic: LicenseState, fragment: str) -> None:
    with pytest.raises(ConflictError, match=fragment) as raised:
        domain.plan_activation(lic, install_code="S", held=0, wanted=3)
    assert raised.value.exit_code == 4


@pytest.mark.parametrize(
    "lic", [state(status=LicenseStatus.TRANSFERRED), state(customer_pk=None), state(quantity=1)]
)
def test_holding_nothing_more_is_never_refused(lic: LicenseState) -> None:
    """Rule 8: a return, or asking for what is held, succeeds whatever the license's state."""
    assert domain.plan_activation(lic, install_code="S", held=0, wanted=0) == 0


def test_copies_must_be_a_count() -> None:
    with pytest.raises(UsageError):
        domain.check_copies(-1)
    with pytest.raises(UsageError):
        domain.check_copies(domain.COUNT_MAX + 1)
    assert domain.check_copies(0) == 0


def test_install_codes_are_tidied_and_compared_in_upper_case() -> None:
    assert domain.clean_install_code("  5A7C-31F2  ") == "5A7C-31F2"
    assert domain.clean_install_code("ab  cd") == "AB CD"
    assert domain.clean_install_code("5a7c-31f2") == domain.clean_install_code("5A7C-31f2")
    assert domain.clean_install_code("straße") == "STRASSE"
    for bad in ("", "   ", "x" * 129, "a\tb\x00", "ß" * 65):
        with pytest.raises(UsageError):
            domain.clean_install_code(bad)


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_offline_maintenance_is_for_admins_only(role: Role) -> None:
    kwargs = {"license_id": LID, "held": 0, "wanted": 1}
    with pytest.raises(PermissionDeniedError) as raised:
        _offline_grant(role, type=LicenseType.MAINTENANCE, **kwargs)
    assert raised.value.exit_code == 5
    _offline_grant(Role.ADMIN, type=LicenseType.MAINTENANCE, **kwargs)
    _offline_grant(role, type=LicenseType.CAPACITY, **kwargs)
    _offline_grant(role, type=LicenseType.CORE, **kwargs)
    # granting nothing new (unchanged or a return) stays allowed
    _offline_grant(
        role,
        type=LicenseType.MAINTENANCE,
        license_id=LID,
        held=1,
        wanted=1,
    )
    _offline_grant(
        role,
        type=LicenseType.MAINTENANCE,
        license_id=LID,
        held=1,
        wanted=0,
    )


def maint(devices: int, copies: int, days_left: float) -> Holding:
    return Holding(
        type=LicenseType.MAINTENANCE,
        devices=devices,
        copies=copies,
        maintenance_expires=NOW + timedelta(days=days_left),
    )


def cap(devices: int, copies: int) -> Holding:
    return Holding(
        type=LicenseType.CAPACITY, devices=devices, copies=copies, maintenance_expires=None
    )


def test_coverage_sums_devices_times_copies() -> None:
    c = domain.coverage(
        [
            cap(200, 2),
            cap(1000, 1),
            Holding(LicenseType.CORE, 1, 1, None),
            maint(1000, 1, 300),
            maint(200, 2, 300),
        ],
        now=NOW,
    )
    assert (c.capacity, c.maintenance_devices, c.covered) == (1400, 1400, True)
    assert c.maintenance_status is MaintenanceStatus.ACTIVE


def test_expired_maintenance_does_not_cover() -> None:
    c = domain.coverage([cap(200, 1), maint(1000, 1, -1)], now=NOW)
    assert (c.capacity, c.maintenance_devices, c.covered) == (200, 0, False)
    assert c.maintenance_status is MaintenanceStatus.EXPIRED


def test_the_status_is_the_one_most_in_need_of_attention() -> None:
    expiring = domain.coverage([maint(1000, 1, 30), maint(1000, 1, 700)], now=NOW)
    assert expiring.maintenance_status is MaintenanceStatus.EXPIRING
    # an expired one beside an active one: the SmartServer still has maintenance
    active = domain.coverage([maint(1000, 1, -30), maint(1000, 1, 700)], now=NOW)
    assert active.maintenance_status is MaintenanceStatus.ACTIVE
    assert active.maintenance_devices == 1000


def test_no_maintenance_and_no_capacity() -> None:
    nothing = domain.coverage([], now=NOW)
    assert (nothing.capacity, nothing.maintenance_devices, nothing.covered) == (0, 0, True)
    assert nothing.maintenance_status is None
    bare = domain.coverage([cap(200, 1), cap(200, 0)], now=NOW)
    assert (bare.capacity, bare.covered, bare.maintenance_status) == (200, False, None)


def test_maintenance_expiry_of_a_new_activation() -> None:
    first = domain.activation_expiry(
        type=LicenseType.MAINTENANCE, term_months=36, activated_at=NOW, fixed_expiry=None
    )
    assert first == datetime(2029, 11, 29, 10, 15, tzinfo=UTC)
    later = domain.activation_expiry(
        type=LicenseType.MAINTENANCE,
        term_months=36,
        activated_at=NOW + timedelta(days=100),
        fixed_expiry=first,
    )
    assert later == first  # a return and a new activation never extend the term
    assert (
        domain.activation_expiry(
            type=LicenseType.CAPACITY, term_months=None, activated_at=NOW, fixed_expiry=None
        )
        is None
    )


@pytest.mark.parametrize(
    ("days_left", "status"),
    [
        (-0.001, MaintenanceStatus.EXPIRED),
        (0, MaintenanceStatus.EXPIRED),
        (1, MaintenanceStatus.EXPIRING),
        (domain.EXPIRING_WINDOW_DAYS, MaintenanceStatus.EXPIRING),
        (domain.EXPIRING_WINDOW_DAYS + 0.001, MaintenanceStatus.ACTIVE),
    ],
)
def test_maintenance_status_window(days_left: float, status: MaintenanceStatus) -> None:
    assert domain.maintenance_status(NOW + timedelta(days=days_left), now=NOW) is status


def test_expiring_horizon() -> None:
    assert domain.expiring_horizon(30, now=NOW) == NOW + timedelta(days=30)
    assert domain.expiring_horizon(10**12, now=NOW).year == 9999
    with pytest.raises(UsageError):
        domain.expiring_horizon(-1, now=NOW)
