"""Enums, value checks and the pure rules of DOMAIN.md.

Nothing here touches a store: the service layer loads state, asks these functions
whether a change is allowed, and writes. Keeping the rules pure means the CLI, the
server and the importer all get the same answer from one place.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from licensectl.errors import ConflictError, UsageError

NAME_MAX = 200
PO_MAX = 100
NOTE_MAX = 2000
EMAIL_MAX = 254
INSTALL_CODE_MAX = 128
#: Maintenance whose expiry is this close counts as "expiring" (decided in DOMAIN.md).
EXPIRING_WINDOW_DAYS = 60
MAINTENANCE_TERMS = (12, 36)
#: Counts are stored as 32-bit integers (PostgreSQL INTEGER).
COUNT_MAX = 2**31 - 1


class LicenseType(StrEnum):
    CAPACITY = "capacity"
    MAINTENANCE = "maintenance"
    CORE = "core"


class LicenseStatus(StrEnum):
    AVAILABLE = "available"
    ACTIVATED = "activated"
    TRANSFERRED = "transferred"


class Inventory(StrEnum):
    MINE = "mine"
    CUSTOMER = "customer"


class ActivationMode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class MaintenanceStatus(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"


class Role(StrEnum):
    ADMIN = "admin"
    PARTNER = "partner"
    CUSTOMER = "customer"


def utcnow() -> datetime:
    """Aware UTC: every stored time is UTC, and SQLModel refuses naive datetimes."""
    return datetime.now(UTC)


# --- value checks -----------------------------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(value: str, *, what: str = "name", max_len: int = NAME_MAX) -> str:
    """Trim; refuse empty, over-long or control-character names."""
    name = " ".join(value.split()) if value is not None else ""
    if not name:
        raise UsageError(f"{what} must not be empty")
    if len(name) > max_len:
        raise UsageError(f"{what} is {len(name)} characters long; the limit is {max_len}")
    if _CONTROL_RE.search(name):
        raise UsageError(f"{what} must not contain control characters")
    return name


def name_key(name: str) -> str:
    """The form names are compared in: uniqueness and look-ups ignore case."""
    return name.casefold()


def clean_email(value: str) -> str:
    email = value.strip()
    if len(email) > EMAIL_MAX or not _EMAIL_RE.match(email) or ".." in email.split("@")[0]:
        raise UsageError(f"not a valid email address: {value!r}")
    local, _, domain = email.partition("@")
    return f"{local}@{domain.lower()}"


def clean_po(value: str) -> str:
    return clean_name(value, what="purchase order", max_len=PO_MAX)


def po_key(po: str) -> str:
    """Purchase orders are matched case-insensitively (CLI.md)."""
    return po.casefold()


def parse_uuid(value: str, *, what: str = "ID") -> str:
    """Canonical lower-case UUID text, or a usage error (exit 2) for a malformed one."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise UsageError(f"malformed {what}: {value!r} is not a UUID") from None


def looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return False
    return True


def new_id() -> str:
    return str(uuid.uuid4())


def check_license_values(
    *, type: LicenseType, devices: int, quantity: int, term_months: int | None, po_line: int
) -> None:
    """The shape rules of a purchased license (raise UsageError, exit 2)."""
    for what, value in (("devices", devices), ("quantity", quantity), ("PO line", po_line)):
        if value < 1:
            raise UsageError(f"{what} must be at least 1")
        if value > COUNT_MAX:
            raise UsageError(f"{what} must be at most {COUNT_MAX}")
    if type is LicenseType.MAINTENANCE:
        if term_months is None:
            raise UsageError("a maintenance license needs --term 12 or 36 (months)")
        if term_months not in MAINTENANCE_TERMS:
            raise UsageError(f"term must be 12 or 36 months, not {term_months}")
    elif term_months is not None:
        raise UsageError(f"--term applies only to maintenance licenses, not {type.value}")


# --- transfer rules -------------------------------------------------------------


@dataclass(frozen=True)
class LicenseState:
    """What the transfer and activation rules need to know about one license."""

    license_id: str
    partner_id: int
    customer_pk: int | None
    status: LicenseStatus
    quantity: int
    active_copies: int


@dataclass(frozen=True)
class TransferPlan:
    moved: int
    remainder: int


def plan_transfer(
    lic: LicenseState, *, target_partner_id: int, target_customer_pk: int, quantity: int | None
) -> TransferPlan:
    """DOMAIN.md rules 1–3: may this license move to that customer, and in what parts."""
    if lic.status is LicenseStatus.TRANSFERRED:
        raise ConflictError(
            f"license {lic.license_id} was already transferred; it is kept for tracking only "
            f"(see 'licensectl license history {lic.license_id}')"
        )
    if lic.active_copies > 0:
        raise ConflictError(
            f"license {lic.license_id} has {lic.active_copies} active cop"
            f"{'y' if lic.active_copies == 1 else 'ies'}; return them before transferring"
        )
    if target_partner_id != lic.partner_id:
        raise ConflictError("the receiving customer belongs to another partner")
    if lic.customer_pk == target_customer_pk:
        raise ConflictError("the license already belongs to that customer")
    moved = lic.quantity if quantity is None else quantity
    if moved < 1:
        raise UsageError("--quantity must be at least 1")
    if moved > lic.quantity:
        raise ConflictError(
            f"cannot transfer {moved} copies: license {lic.license_id} has {lic.quantity}"
        )
    return TransferPlan(moved=moved, remainder=lic.quantity - moved)


def license_status(*, transferred: bool, active_copies: int) -> LicenseStatus:
    if transferred:
        return LicenseStatus.TRANSFERRED
    return LicenseStatus.ACTIVATED if active_copies > 0 else LicenseStatus.AVAILABLE


def free_copies(*, status: LicenseStatus, quantity: int, active_copies: int) -> int:
    if status is LicenseStatus.TRANSFERRED:
        return 0
    return quantity - active_copies


# --- maintenance ----------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Calendar months, clamping to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def maintenance_expiry(activated_at: datetime, term_months: int) -> datetime:
    """Expiry = activation date + term (decided: terms count from activation)."""
    day = add_months(activated_at.date(), term_months)
    return datetime.combine(day, activated_at.timetz())


def maintenance_status(expires: datetime, *, now: datetime | None = None) -> MaintenanceStatus:
    now = now or utcnow()
    if expires <= now:
        return MaintenanceStatus.EXPIRED
    if expires - now <= timedelta(days=EXPIRING_WINDOW_DAYS):
        return MaintenanceStatus.EXPIRING
    return MaintenanceStatus.ACTIVE
