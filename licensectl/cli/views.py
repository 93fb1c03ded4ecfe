"""Table columns and list helpers shared by several command groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import Application
from licensectl.cli.output import Column
from licensectl.domain import Inventory, LicenseStatus, LicenseType

if TYPE_CHECKING:
    from licensectl.models import LicensePage


def _owner(row: dict[str, Any]) -> str:
    return f"{row['customer']}" if row.get("customer_id") else "My Inventory"


def _term(row: dict[str, Any]) -> str:
    return f"{row['term_months']} mo" if row.get("term_months") else ""


# Column priorities: 0 always shows; on a narrow terminal the highest number gives way
# first (cli/output.py, `_fit_columns`). IDs stay whole and are never dropped.

LICENSE_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type", priority=2),
    Column("Devices", "devices", justify="right", priority=3),
    Column("Qty", "quantity", justify="right", priority=6),
    Column("Free", "free_copies", justify="right", priority=4),
    Column("Term", _term, priority=9),
    Column("PO", "purchase_order", priority=7),
    Column("Line", "po_line", justify="right", priority=8),
    Column("Status", "status", priority=1),
    Column("Partner", "partner", priority=10),
    Column("Owner", _owner, priority=5),
    Column("Parent", "parent_id", priority=11),
    Column("Created", "created_at", priority=12),
]

PARTNER_COLUMNS = [
    Column("Name", "name"),
    Column("Email", "email", priority=1),
    Column("Created", "created_at", priority=2),
]

CUSTOMER_COLUMNS = [
    Column("Customer ID", "customer_id"),
    Column("Name", "name", priority=1),
    Column("Partner", "partner", priority=3),
    Column("Emails", lambda r: ", ".join(r.get("emails") or []), priority=2),
    Column("Created", "created_at", priority=4),
]

EVENT_COLUMNS = [
    Column("At", "at", priority=1),
    Column("Actor", "actor", priority=4),
    Column("Action", "action"),
    Column("License ID", "license_id", priority=2),
    Column("Details", "details", priority=3, wrap=True),
]

ACTIVATION_COLUMNS = [
    Column("Install code", "install_code"),
    Column("Copies", "copies", justify="right", priority=1),
    Column("Mode", "mode", priority=5),
    Column("Activated", "activated_at", priority=4),
    Column("Maintenance expires", "maintenance_expires", priority=3),
    Column("Maintenance", "maintenance_status", priority=2),
]


SMARTSERVER_COLUMNS = [
    Column("Install code", "install_code"),
    Column("Name", "name", priority=5),
    Column("Capacity", "capacity", justify="right", priority=1),
    Column("Maintenance devices", "maintenance_devices", justify="right", priority=3),
    Column("Covered", "covered", priority=2),
    Column("Maintenance", "maintenance_status", priority=4),
]

#: A SmartServer's activations: which licenses it holds and what they are worth.
HELD_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type", priority=2),
    Column("Devices", "devices", justify="right", priority=3),
    Column("Copies", "copies", justify="right", priority=1),
    Column("Mode", "mode", priority=7),
    Column("Activated", "activated_at", priority=6),
    Column("Maintenance expires", "maintenance_expires", priority=5),
    Column("Maintenance", "maintenance_status", priority=4),
]

#: The lines of an activation request.
REQUEST_LINE_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Copies", "copies", justify="right"),
]

#: The lines of an activation response.
GRANTED_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type", priority=2),
    Column("Devices", "devices", justify="right", priority=3),
    Column("Copies", "copies", justify="right", priority=1),
    Column("Term", _term, priority=6),
    Column("Maintenance expires", "maintenance_expires", priority=5),
    Column("Maintenance", "maintenance_status", priority=4),
]

KEY_COLUMNS = [
    Column("Key ID", "key_id"),
    Column("Active", "active", priority=1),
    Column("Created", "created_at", priority=3),
    Column("Public key", "public_key", priority=2),
]


def emit_license_page(
    app: Application, page: LicensePage, *, limit: int | None, title: str | None = None
) -> None:
    app.out.listing(page.items, columns=LICENSE_COLUMNS, title=title, empty="no licenses match")
    if page.next_after is not None:
        app.out.warn(
            f"showing the first {limit} licenses; more exist. Use --all for everything, "
            f"or --after {page.next_after} for the next page"
        )


# The filters of `license list`, which `export` takes too.
PartnerFilter = Annotated[str | None, typer.Option("--partner", "-p", help="Only this partner's.")]
CustomerFilter = Annotated[
    str | None, typer.Option("--customer", "-c", help="Only this customer's (ID or name).")
]
InventoryFilter = Annotated[
    Inventory | None,
    typer.Option(
        "--inventory", case_sensitive=False, help="mine = partner inventory; customer = customers'."
    ),
]
StatusFilter = Annotated[
    LicenseStatus | None,
    typer.Option("--status", case_sensitive=False, help="Only this status."),
]
TypeFilter = Annotated[
    LicenseType | None, typer.Option("--type", case_sensitive=False, help="Only this type.")
]
ExpiringFilter = Annotated[
    int | None,
    typer.Option(
        "--expiring-within",
        min=0,
        metavar="DAYS",
        help="Maintenance expiring within DAYS (beyond the calendar: all of it).",
    ),
]
