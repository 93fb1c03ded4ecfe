"""What every backend returns: the public read models and operation results.

These are the JSON shapes of docs/json.md. The CLI renders them, the server sends them,
the remote client parses them back. This module imports pydantic, the standard library
and `licensectl.domain` only, so a remote client never loads the database stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

from licensectl.domain import (
    ActivationMode,
    LicenseStatus,
    LicenseType,
    MaintenanceStatus,
    Role,
)


def format_utc(value: datetime) -> str:
    """ISO 8601 UTC with a Z, to the second (`2026-11-29T10:15:00Z`)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


UtcDateTime = Annotated[datetime, PlainSerializer(format_utc, return_type=str, when_used="json")]


class Public(BaseModel):
    """Base of every result: extra keys from a newer server are kept, not refused."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


# --- accounts ---------------------------------------------------------------------


class PartnerPublic(Public):
    name: str
    email: str | None
    created_at: UtcDateTime


class CustomerPublic(Public):
    customer_id: str
    name: str
    partner: str
    emails: list[str]
    note: str | None = None
    created_at: UtcDateTime


class CustomerPage(Public):
    items: list[CustomerPublic]
    #: The last Customer ID of this page when more follow (pass it as `after`).
    next_after: str | None


# --- licenses ---------------------------------------------------------------------


class LicensePublic(Public):
    #: None only in a dry-run transfer result, for a license that would be minted.
    license_id: str | None
    type: LicenseType
    devices: int
    quantity: int
    free_copies: int
    term_months: int | None
    purchase_order: str
    po_line: int
    status: LicenseStatus
    partner: str
    customer_id: str | None
    customer: str | None
    parent_id: str | None
    note: str | None
    created_at: UtcDateTime


class LicensePage(Public):
    items: list[LicensePublic]
    #: The last License ID of this page when more follow (pass it as `after`).
    next_after: str | None


class ActivationPublic(Public):
    """Copies of one license on one SmartServer; copies 0 once returned (or never held)."""

    license_id: str
    install_code: str
    copies: int
    mode: ActivationMode
    #: Null only when the SmartServer never held the license.
    activated_at: UtcDateTime | None
    maintenance_expires: UtcDateTime | None
    maintenance_status: MaintenanceStatus | None
    type: LicenseType
    devices: int


class LicenseDetail(LicensePublic):
    successors: list[str]
    activations: list[ActivationPublic]


class CustomerDetail(CustomerPublic):
    licenses: list[LicensePublic]


class CustomerShow(CustomerDetail):
    """`customer show`: a customer with a page of its licenses, oldest first."""

    #: The last License ID of this page when more licenses follow (pass it as `after`).
    licenses_next_after: str | None = None


class CustomerSearchPage(Public):
    items: list[CustomerDetail]
    next_after: str | None


class EventPublic(Public):
    at: UtcDateTime
    actor: str
    action: str
    license_id: str | None
    customer_id: str | None
    details: dict[str, Any]


class LicenseHistory(Public):
    license: LicensePublic
    ancestors: list[LicensePublic]
    descendants: list[LicensePublic]
    #: A page of its events, oldest first.
    events: list[EventPublic]
    #: The last event's number when more events follow (pass it as `after`).
    events_next_after: str | None = None


class TransferResult(Public):
    original: LicensePublic
    transferred: LicensePublic
    remainder: LicensePublic | None
    dry_run: bool


class SmartServerPublic(Public):
    install_code: str
    name: str | None
    capacity: int
    maintenance_devices: int
    covered: bool
    maintenance_status: MaintenanceStatus | None
    created_at: UtcDateTime
    activations: list[ActivationPublic]


# --- bulk -------------------------------------------------------------------------


class RowError(Public):
    """One problem with one row of an import file (`row` is the file's line number)."""

    row: int
    field: str
    message: str

    def __init__(self, row: int, field: str, message: str) -> None:
        # Positional, as the importer makes them by the thousand.
        super().__init__(row=row, field=field, message=message)


class ImportSummary(Public):
    created: int = 0
    unchanged: int = 0
    customers_created: int = 0
    errors: list[RowError] = []
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class BatchError(Public):
    message: str
    exit_code: int
    kind: str


class BatchResult(Public):
    """What one line of a batch did."""

    line: int
    op: str | None
    ok: bool
    result: Any = None
    error: BatchError | None = None

    def wire(self) -> dict[str, Any]:
        """The result line: `result` on success, `error` on failure, never both."""
        data: dict[str, Any] = {"line": self.line, "op": self.op, "ok": self.ok}
        if self.ok:
            data["result"] = self.result
        else:
            assert self.error is not None
            data["error"] = self.error.model_dump()
        return data


# --- reports ----------------------------------------------------------------------


class ChartBar(Public):
    """One bar of a report's chart: a label (a month, a day) and its value."""

    label: str
    value: int


class RenewalRow(Public):
    """Maintenance expiring in one month, of one customer, on one SmartServer."""

    month: str
    customer_id: str | None
    customer: str | None
    install_code: str
    smartserver: str | None
    #: Maintenance devices (devices × copies) expiring.
    devices: int
    first_expiry: UtcDateTime


class RenewalsReport(Public):
    within_days: int
    #: Maintenance devices expiring, month by month (every month of the window).
    months: list[ChartBar]
    rows: list[RenewalRow]


class CoverageRow(Public):
    """A SmartServer whose unexpired maintenance covers less than its capacity."""

    install_code: str
    smartserver: str | None
    customer: str | None
    capacity: int
    maintenance_devices: int
    shortfall: int


class CoverageReport(Public):
    rows: list[CoverageRow]


class InventoryRow(Public):
    """Licenses of one group (a customer, a purchase order or a type)."""

    group: str
    #: Licenses in force (available or activated) and their copies.
    licenses: int
    copies: int
    free: int
    activated: int
    #: Transferred licenses, kept for tracking.
    retired: int
    void: int


class InventoryReport(Public):
    by: str
    rows: list[InventoryRow]
    #: Every license in scope, whether or not its group is among `rows`.
    total: InventoryRow
    #: More groups exist than `rows` shows (the query's `limit`; `all` shows every one).
    more: bool = False


class ActivityRow(Public):
    day: str
    actor: str
    action: str
    count: int


class ActivityReport(Public):
    since: str
    #: Events a day, every day since `since`.
    days: list[ChartBar]
    rows: list[ActivityRow]


# --- completion ---------------------------------------------------------------------


class Completion(Public):
    """One candidate a shell offers: the word, and a line about it."""

    value: str
    help: str = ""


class Completions(Public):
    items: list[Completion]


# --- the store and the portal's keys ------------------------------------------------


class CheckResult(Public):
    name: str
    ok: bool
    #: How many problems were found (0 when ok).
    problems: int
    #: The first problems, one sentence each.
    details: list[str]


class StoreCheckReport(Public):
    store: str
    ok: bool
    checks: list[CheckResult]
    #: The store's schema revision (None: no licensectl schema yet) and the latest known.
    revision: str | None = None
    latest_revision: str | None = None
    #: Revisions `db upgrade` would apply, oldest first.
    pending: list[str] = []
    #: What serves customer substring search: `fts5 trigram`, `pg_trgm` or `scan`.
    search_index: str | None = None


class StoreBackup(Public):
    store: str
    path: str
    bytes: int
    licenses: int


class StoreSchema(Public):
    store: str
    version: int
    latest: int
    #: The store's Alembic revision now, and the latest this licensectl knows.
    revision: str | None = None
    latest_revision: str | None = None


class KeyPublic(Public):
    """A signing key as it may be shown: never the private part."""

    key_id: str
    active: bool
    created_at: UtcDateTime
    #: The SubjectPublicKeyInfo PEM that devices verify with.
    public_key_pem: str


# --- who is asking ----------------------------------------------------------------


class Principal(Public):
    """Who is acting: recorded on every event, and what they may see and change.

    `partner` scopes a partner or customer principal; `customer_id` a customer one.
    An admin is scoped by neither.
    """

    model_config = ConfigDict(frozen=True)

    role: Role
    #: Who, for the audit log: `local:alice`, or a token's name.
    name: str
    partner: str | None = None
    customer_id: str | None = None
    #: The API token this principal authenticated with, if any (its id, never its secret).
    token_id: str | None = None

    @property
    def actor(self) -> str:
        """How events name this principal: `admin:local:alice`, `partner:acme-bot`."""
        return f"{self.role.value}:{self.name}"


class TokenPublic(Public):
    """An API token as it may be shown: never its secret (the store keeps only a hash)."""

    token_id: str
    name: str
    role: Role
    partner: str | None
    customer_id: str | None
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None
    expires_at: UtcDateTime | None
    revoked_at: UtcDateTime | None


class TokenCreated(Public):
    """A new token: the only time its secret is ever shown."""

    token: TokenPublic
    secret: str


# --- errors over HTTP ---------------------------------------------------------------


class ErrorDetail(Public):
    message: str
    #: A stable machine-readable kind (`not_found`, `conflict`, …; licensectl.errors).
    kind: str
    #: The exit code a local run would have exited with.
    exit_code: int
    #: The request field at fault, if one is.
    field: str | None = None


class ErrorBody(Public):
    """Every error answer of `licensectl serve` (contract/api.py, `error_body`)."""

    error: ErrorDetail
