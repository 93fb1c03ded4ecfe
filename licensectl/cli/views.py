"""Table columns and list helpers shared by several command groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import Application
from licensectl.cli.output import Column
from licensectl.contract.fields import default, doc
from licensectl.domain import Inventory, LicenseStatus, LicenseType

if TYPE_CHECKING:
    from licensectl.contract.models import LicensePage
    from licensectl.contract.requests import LicenseFilter, Page


def _owner(row: dict[str, Any]) -> str:
    return f"{row['customer']}" if row.get("customer_id") else "My Inventory"


def _term(row: dict[str, Any]) -> str:
    return f"{row['term_months']} mo" if row.get("term_months") else ""


LICENSE_COLUMNS = [
    Column("License ID", "license_id", no_wrap=True),
    Column("Type", "type"),
    Column("Devices", "devices", justify="right"),
    Column("Qty", "quantity", justify="right"),
    Column("Free", "free_copies", justify="right"),
    Column("Term", _term, optional=True),
    Column("PO", "purchase_order"),
    Column("Line", "po_line", justify="right"),
    Column("Status", "status"),
    Column("Partner", "partner", optional=True),
    Column("Owner", _owner),
    Column("Parent", "parent_id", optional=True, no_wrap=True),
    Column("Created", "created_at", optional=True),
]

PARTNER_COLUMNS = [
    Column("Name", "name"),
    Column("Email", "email"),
    Column("Created", "created_at"),
]

CUSTOMER_COLUMNS = [
    Column("Customer ID", "customer_id", no_wrap=True),
    Column("Name", "name"),
    Column("Partner", "partner"),
    Column("Emails", lambda r: ", ".join(r.get("emails") or [])),
    Column("Created", "created_at"),
]

EVENT_COLUMNS = [
    Column("At", "at"),
    Column("Actor", "actor"),
    Column("Action", "action"),
    Column("License ID", "license_id"),
    Column("Details", "details"),
]

ACTIVATION_COLUMNS = [
    Column("Install code", "install_code"),
    Column("Copies", "copies", justify="right"),
    Column("Mode", "mode"),
    Column("Activated", "activated_at"),
    Column("Maintenance expires", "maintenance_expires"),
    Column("Maintenance", "maintenance_status"),
]


SMARTSERVER_COLUMNS = [
    Column("Install code", "install_code"),
    Column("Name", "name"),
    Column("Capacity", "capacity", justify="right"),
    Column("Maintenance devices", "maintenance_devices", justify="right"),
    Column("Covered", "covered"),
    Column("Maintenance", "maintenance_status"),
]

#: A SmartServer's activations: which licenses it holds and what they are worth.
HELD_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type"),
    Column("Devices", "devices", justify="right"),
    Column("Copies", "copies", justify="right"),
    Column("Mode", "mode"),
    Column("Activated", "activated_at"),
    Column("Maintenance expires", "maintenance_expires"),
    Column("Maintenance", "maintenance_status"),
]

#: The lines of an activation request.
REQUEST_LINE_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Copies", "copies", justify="right"),
]

#: The lines of an activation response.
GRANTED_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type"),
    Column("Devices", "devices", justify="right"),
    Column("Copies", "copies", justify="right"),
    Column("Term", _term),
    Column("Maintenance expires", "maintenance_expires"),
    Column("Maintenance", "maintenance_status"),
]

KEY_COLUMNS = [
    Column("Key ID", "key_id"),
    Column("Active", "active"),
    Column("Created", "created_at"),
    Column("Public key", "public_key"),
]


def emit_license_page(
    app: Application, page: LicensePage, *, limit: int | None, title: str | None = None
) -> None:
    app.out.listing(page.items, columns=LICENSE_COLUMNS, title=title, empty="no licenses match")
    warn_more(app, page.next_after, limit, what="licenses")


def warn_more(app: Application, next_after: str | None, limit: int | None, *, what: str) -> None:
    """A page cut short says so on stderr, with how to get the rest (CLI.md, Lists)."""
    if next_after is not None:
        app.out.warn(
            f"showing the first {limit or default('limit')} {what}; more exist. Use --all for "
            f"everything, or --after {next_after} for the next page"
        )


def page_of(limit: int | None, *, all_: bool, after: str | None) -> Page:
    """The page the --limit/--all/--after options ask for."""
    from licensectl.contract.requests import Page

    if all_:
        return Page(limit=None, after=after)
    return Page(after=after) if limit is None else Page(limit=limit, after=after)


def license_filter(
    *,
    partner: str | None,
    customer: str | None,
    inventory: Inventory | None,
    status: LicenseStatus | None,
    type_: LicenseType | None,
    expiring_within: int | None,
) -> LicenseFilter:
    from licensectl.contract.requests import LicenseFilter

    return LicenseFilter(
        partner=partner,
        customer=customer,
        inventory=inventory,
        status=status,
        type=type_,
        expiring_within=expiring_within,
    )


# The filters of `license list`, which `export` takes too.
PartnerFilter = Annotated[str | None, typer.Option("--partner", "-p", help=doc("filter_partner"))]
CustomerFilter = Annotated[
    str | None, typer.Option("--customer", "-c", help=doc("filter_customer"))
]
InventoryFilter = Annotated[
    Inventory | None,
    typer.Option("--inventory", case_sensitive=False, help=doc("inventory")),
]
StatusFilter = Annotated[
    LicenseStatus | None,
    typer.Option("--status", case_sensitive=False, help=doc("status")),
]
TypeFilter = Annotated[
    LicenseType | None, typer.Option("--type", case_sensitive=False, help=doc("filter_type"))
]
ExpiringFilter = Annotated[
    int | None,
    typer.Option("--expiring-within", min=0, metavar="DAYS", help=doc("expiring_within")),
]

# Paging, for every list that can grow.
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help=doc("limit"))]
AllOpt = Annotated[bool, typer.Option("--all", help="Every row, no limit.")]
AfterOpt = Annotated[str | None, typer.Option("--after", metavar="ID", help=doc("after"))]
