"""Enums, value checks and the pure rules of docs/domain.md.

Nothing here touches a store: the service layer loads state, asks these functions
whether a change is allowed, and writes. Keeping the rules pure means the CLI, the
server and the importer all get the same answer from one place.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from licensectl.errors import ConflictError, PermissionDeniedError, UsageError
from licensectl.safe_text import describe_char, unsafe_at

NAME_MAX = 200
PO_MAX = 100
NOTE_MAX = 2000
EMAIL_MAX = 254
INSTALL_CODE_MAX = 128
#: Maintenance whose expiry is this close counts as "expiring" (decided: docs/domain.md).
EXPIRING_WINDOW_DAYS = 60
MAINTENANCE_TERMS = (12, 36)
#: Counts are stored as 32-bit integers (PostgreSQL INTEGER).
COUNT_MAX = 2**31 - 1
#: The largest page a list returns in one go (`--limit`); `--all` has no limit.
PAGE_MAX = COUNT_MAX


class LicenseType(StrEnum):
    CAPACITY = "capacity"
    MAINTENANCE = "maintenance"
    CORE = "core"


class LicenseStatus(StrEnum):
    AVAILABLE = "available"
    ACTIVATED = "activated"
    TRANSFERRED = "transferred"
    #: Added by mistake and withdrawn: kept, read-only, listed only when asked for.
    VOID = "void"


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


#: ASCII's whitespace controls, which tidying turns into spaces rather than refusing.
_ASCII_WHITESPACE = str.maketrans("\t\n\v\f\r", "     ")
#: Every other ASCII control: what `safe_text.unsafe_at` finds in ASCII text.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def clean_name(value: str, *, what: str = "name", max_len: int = NAME_MAX) -> str:
    """Trim and tidy spaces; refuse empty, over-long, control or invisible characters.

    Every name, purchase order, install code and note goes through here. Whitespace at
    either end is dropped and runs of it inside become one space (so a tab or a line
    break, as in a quoted CSV cell, is stored as a space); any other character that
    `safe_text` calls unsafe (control, format, bidi, separator, private-use, unassigned
    or invisible) is refused, so that no stored text can drive a terminal or pass for
    another. The limit applies to the comparison key too (`name_key`), which NFKC and
    case folding may lengthen (`ß` is `ss`).
    """
    text = value if value is not None else ""
    if text.isascii():  # the common case, checked at import speed
        found = _ASCII_CONTROL.search(text)
        bad = found.start() if found else None
    else:
        bad = unsafe_at(text.translate(_ASCII_WHITESPACE))
    if bad is not None:
        raise UsageError(
            f"{what} must not contain control characters or invisible ones "
            f"(found {describe_char(text[bad])} at position {bad + 1})"
        )
    name = " ".join(text.split())
    if not name:
        raise UsageError(f"{what} must not be empty")
    if len(name) > max_len:
        raise UsageError(f"{what} is {len(name)} characters long; the limit is {max_len}")
    folded = len(name) if name.isascii() else len(name_key(name))
    if folded > max_len:
        raise UsageError(
            f"{what} is {folded} characters long once normalised for comparison "
            f"(NFKC, case folded); the limit is {max_len}"
        )
    return name


def clean_customer_name(value: str) -> str:
    """A customer name; one that parses as a UUID is refused (docs/domain.md, Entities).

    A customer is given by Customer ID or by name, and anything that parses as a UUID is
    taken for an ID, so such a name could never be reached, and `--to NAME` would
    silently mean another customer.
    """
    name = clean_name(value, what="customer name")
    if looks_like_uuid(name):
        raise UsageError(
            f"customer name {name!r} parses as a UUID, so it would be taken for a Customer ID "
            "wherever a customer is given: choose a name that is not a UUID",
            field="name",
        )
    return name


def name_key(name: str) -> str:
    """The form names are compared in: NFKC-normalised, case-folded, spaces tidied.

    So `ACME`, `Ａcme` (fullwidth) and `acme` are one name; invisible characters that
    could tell look-alikes apart are refused by `clean_name` before a key is made.
    """
    return _fold(name)


def _fold(text: str) -> str:
    if text.isascii():  # the common case, and NFKC leaves ASCII as it is
        return " ".join(text.lower().split())
    # NFKC both before and after case folding: folding can yield sequences that are
    # not normalised (Unicode's NFKC_Casefold does the same).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


def clean_email(value: str) -> str:
    email = value.strip()
    if len(email) > EMAIL_MAX or not _EMAIL_RE.match(email) or ".." in email.split("@")[0]:
        raise UsageError(f"not a valid email address: {value!r}")
    local, _, domain = email.partition("@")
    return f"{local}@{domain.lower()}"


def install_code_key(code: str) -> str:
    """The form install codes compare in: upper case (Python's full Unicode mapping)."""
    return code.upper()


def clean_install_code(value: str) -> str:
    """A SmartServer's identity in its one canonical form: whitespace tidied, upper case.

    Install codes compare case-insensitively (docs/domain.md): `5a7c-…` and `5A7C-…` are one
    SmartServer. Every way a code enters (options, request files, batch lines,
    `smartserver show`) goes through here, so the store holds each code one way only.
    """
    code = install_code_key(clean_name(value, what="install code", max_len=INSTALL_CODE_MAX))
    if len(code) > INSTALL_CODE_MAX:  # a few characters grow in upper case (ß → SS)
        raise UsageError(
            f"install code is {len(code)} characters long in upper case; "
            f"the limit is {INSTALL_CODE_MAX}"
        )
    return code


def clean_po(value: str) -> str:
    return clean_name(value, what="purchase order", max_len=PO_MAX)


def po_key(po: str) -> str:
    """Purchase orders are matched like names: NFKC-normalised and case-folded
    (docs/domain.md, Entities)."""
    return _fold(po)


def parse_uuid(value: str, *, what: str = "ID") -> str:
    """Canonical lower-case UUID text, or a usage error (exit 2) for a malformed one."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise UsageError(f"malformed {what}: {value!r} is not a UUID") from None


def looks_like_uuid(value: str) -> bool:
    if len(value) < 32:  # a UUID's 32 hex digits at least, whatever its spelling
        return False
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return False
    return True


def new_id() -> str:
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """`count` fresh IDs like `new_id`, four times faster: one urandom call for all.

    A bulk import mints one or two IDs a row; `uuid.uuid4()` alone would cost about a
    tenth of its time budget.
    """
    digits = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, 32 * count, 32):
        h = digits[start : start + 32]
        # Version 4 in the 13th digit, the RFC 4122 variant (8, 9, a or b) in the 17th.
        ids.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}")
    return ids


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def check_license_values(
    *, type: LicenseType, devices: int, quantity: int, term_months: int | None, po_line: int
) -> None:
    """The shape rules of a purchased license (raise UsageError, exit 2)."""
    for what, field, value in (
        ("devices", "devices", devices),
        ("quantity", "quantity", quantity),
        ("PO line", "po_line", po_line),
    ):
        if value < 1:
            raise UsageError(f"{what} must be at least 1", field=field)
        if value > COUNT_MAX:
            raise UsageError(f"{what} must be at most {COUNT_MAX}", field=field)
    if type is LicenseType.MAINTENANCE:
        if term_months is None:
            raise UsageError(
                "a maintenance license needs a term of 12 or 36 months", field="term_months"
            )
        if term_months not in MAINTENANCE_TERMS:
            raise UsageError(
                f"term must be 12 or 36 months, not {term_months}", field="term_months"
            )
    elif term_months is not None:
        raise UsageError(
            f"a term applies only to maintenance licenses, not {type.value}", field="term_months"
        )


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
    """Rules 1–3 (docs/domain.md): may this license move to that customer, and in what parts."""
    if lic.status is LicenseStatus.VOID:
        raise ConflictError(f"license {lic.license_id} is void; it can no longer be transferred")
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
        raise UsageError("the quantity to transfer must be at least 1", field="quantity")
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
    if status in (LicenseStatus.TRANSFERRED, LicenseStatus.VOID):
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


def activation_expiry(
    *,
    type: LicenseType,
    term_months: int | None,
    activated_at: datetime,
    fixed_expiry: datetime | None,
) -> datetime | None:
    """The maintenance expiry a new activation of a license carries (None unless maintenance).

    Decided: a maintenance license's term starts at its first activation (of any copy, on
    any SmartServer, before any transfer) and every later activation keeps that expiry.
    `fixed_expiry` is the expiry an earlier activation already fixed, if any. Returning
    and activating again therefore never extends maintenance.
    """
    if type is not LicenseType.MAINTENANCE:
        return None
    if fixed_expiry is not None:
        return fixed_expiry
    if term_months is None:
        raise ValueError("a maintenance license without a term")
    return maintenance_expiry(activated_at, term_months)


def expiring_horizon(days: int, *, now: datetime | None = None) -> datetime:
    """`--expiring-within DAYS`: maintenance expiring up to this moment needs renewal
    (expired maintenance still in use included). Days beyond the calendar mean all."""
    if days < 0:
        raise UsageError("expiring within must be 0 or more days", field="expiring_within")
    try:
        return (now or utcnow()) + timedelta(days=days)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def maintenance_status(expires: datetime, *, now: datetime | None = None) -> MaintenanceStatus:
    now = now or utcnow()
    if expires <= now:
        return MaintenanceStatus.EXPIRED
    if expires - now <= timedelta(days=EXPIRING_WINDOW_DAYS):
        return MaintenanceStatus.EXPIRING
    return MaintenanceStatus.ACTIVE


# --- activation rules (docs/domain.md, rules 4, 5, 7, 8) ----------------------------


def check_copies(copies: int) -> int:
    """The count a SmartServer should hold afterwards (rule 8): 0 returns them all."""
    if copies < 0:
        raise UsageError(f"copies must be 0 or more, not {copies} (0 returns the license)")
    if copies > COUNT_MAX:
        raise UsageError(f"copies must be at most {COUNT_MAX}")
    return copies


def copies_text(n: int) -> str:
    """`1 copy`, `2 copies`."""
    return f"{n} cop{'y' if n == 1 else 'ies'}"


def plan_activation(lic: LicenseState, *, install_code: str, held: int, wanted: int) -> int:
    """Rule 4: may this SmartServer go from `held` to `wanted` copies? Returns the change.

    Holding fewer copies (a return) is always allowed, and holding as many as now is no
    change at all, so repeating any activation or return succeeds and changes nothing.
    """
    check_copies(wanted)
    delta = wanted - held
    if delta <= 0:
        return delta
    if lic.status is LicenseStatus.VOID:
        raise ConflictError(f"license {lic.license_id} is void; it can no longer be activated")
    if lic.status is LicenseStatus.TRANSFERRED:
        raise ConflictError(
            f"license {lic.license_id} was transferred and can no longer be activated; "
            f"activate its successor (see 'licensectl license history {lic.license_id}')"
        )
    if lic.customer_pk is None:
        raise ConflictError(
            f"license {lic.license_id} is in the partner's own inventory; transfer it to a "
            "customer account before activating it"
        )
    free = lic.quantity - lic.active_copies
    if delta > free:
        raise ConflictError(
            f"not enough free copies of license {lic.license_id}: {install_code} would need "
            f"{copies_text(delta)} more; {free} of {lic.quantity} free"
        )
    return delta


def check_activation_grant(
    role: Role,
    *,
    license_id: str,
    type: LicenseType,
    held: int,
    wanted: int,
    mode: ActivationMode,
) -> None:
    """Rule 5 and the roles: who may grant maintenance copies.

    Offline, only an admin (Customer Success) may grant maintenance copies; online, a
    partner may too, but never a customer login, which activates capacity and core
    licenses only. Lines that grant nothing new (unchanged, or a return) stay allowed,
    so a customer's request may still list the maintenance an admin activated earlier.
    """
    if type is not LicenseType.MAINTENANCE or wanted <= held or role is Role.ADMIN:
        return
    if mode is ActivationMode.OFFLINE:
        raise PermissionDeniedError(
            f"license {license_id} is a maintenance license: offline maintenance activation is "
            "issued by Customer Success (admin) only; a customer login may activate capacity "
            "and core licenses"
        )
    if role is Role.CUSTOMER:
        raise PermissionDeniedError(
            f"license {license_id} is a maintenance license: a customer login may activate "
            "capacity and core licenses; maintenance is activated by the partner or Customer "
            "Success"
        )


@dataclass(frozen=True)
class Holding:
    """Copies of one license a SmartServer holds, as coverage needs them."""

    type: LicenseType
    devices: int
    copies: int
    maintenance_expires: datetime | None


@dataclass(frozen=True)
class Coverage:
    capacity: int
    maintenance_devices: int
    covered: bool
    maintenance_status: MaintenanceStatus | None


def coverage(holdings: Iterable[Holding], *, now: datetime | None = None) -> Coverage:
    """Rule 7: licensed capacity, unexpired maintenance devices, and whether they cover it.

    The SmartServer's maintenance status is that of its maintenance most in need of
    attention: `expiring` if any unexpired maintenance ends within the window, else
    `active` if any is unexpired, else `expired` if it had some; None if it never had any.
    """
    now = now or utcnow()
    capacity = maintenance = 0
    statuses: set[MaintenanceStatus] = set()
    for h in holdings:
        if h.copies <= 0:
            continue
        if h.type is LicenseType.CAPACITY:
            capacity += h.devices * h.copies
        elif h.type is LicenseType.MAINTENANCE and h.maintenance_expires is not None:
            status = maintenance_status(h.maintenance_expires, now=now)
            statuses.add(status)
            if status is not MaintenanceStatus.EXPIRED:
                maintenance += h.devices * h.copies
    overall = next(
        (
            s
            for s in (
                MaintenanceStatus.EXPIRING,
                MaintenanceStatus.ACTIVE,
                MaintenanceStatus.EXPIRED,
            )
            if s in statuses
        ),
        None,
    )
    return Coverage(
        capacity=capacity,
        maintenance_devices=maintenance,
        covered=maintenance >= capacity,
        maintenance_status=overall,
    )
