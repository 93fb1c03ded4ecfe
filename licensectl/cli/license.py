"""`licensectl license …`: purchased licenses, their listing, details and lineage."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.views import (
    ACTIVATION_COLUMNS,
    EVENT_COLUMNS,
    LICENSE_COLUMNS,
    CustomerFilter,
    ExpiringFilter,
    InventoryFilter,
    PartnerFilter,
    StatusFilter,
    TypeFilter,
    emit_license_page,
)
from licensectl.domain import COUNT_MAX, LicenseType

app = typer.Typer(
    help="Licenses: add purchased ones, list, show, trace lineage.", no_args_is_help=True
)

LicenseArg = Annotated[str, typer.Argument(metavar="LICENSE_ID", help="License ID (UUID).")]
LimitOpt = Annotated[
    int, typer.Option("--limit", min=1, max=COUNT_MAX, help="At most this many rows (default 100).")
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every row, no limit.")]
AfterOpt = Annotated[
    str | None, typer.Option("--after", help="Next page: rows after this License ID.")
]


@app.command("add")
def add(
    ctx: typer.Context,
    po: Annotated[str, typer.Option("--po", help="Purchase order number.")],
    type_: Annotated[
        LicenseType, typer.Option("--type", case_sensitive=False, help="License type.")
    ],
    devices: Annotated[
        int, typer.Option("--devices", max=COUNT_MAX, help="Device count of one copy.")
    ],
    partner: Annotated[
        str | None,
        typer.Option("--partner", "-p", help="Partner (optional when the store has one)."),
    ] = None,
    po_line: Annotated[
        int, typer.Option("--po-line", max=COUNT_MAX, help="Line within the PO.")
    ] = 1,
    quantity: Annotated[
        int,
        typer.Option("--quantity", max=COUNT_MAX, help="Copies (each for one SmartServer)."),
    ] = 1,
    term: Annotated[
        int | None,
        typer.Option("--term", max=COUNT_MAX, help="Maintenance term in months: 12 or 36."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free-text note.")] = None,
) -> None:
    """Add a purchased license to a partner's inventory; prints the new License ID."""
    application = get_app(ctx)
    lic = application.backend().license_add(
        partner=partner,
        purchase_order=po,
        po_line=po_line,
        type=type_,
        devices=devices,
        quantity=quantity,
        term_months=term,
        note=note,
    )
    application.out.ids(
        lic, [lic.license_id], saved=f"license created (License ID {lic.license_id})"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    partner: PartnerFilter = None,
    customer: CustomerFilter = None,
    inventory: InventoryFilter = None,
    status: StatusFilter = None,
    type_: TypeFilter = None,
    expiring_within: ExpiringFilter = None,
    limit: LimitOpt = 100,
    all_: AllOpt = False,
    after: AfterOpt = None,
) -> None:
    """List licenses (oldest first), retired ones included and marked."""
    from licensectl.service import LicenseFilter

    application = get_app(ctx)
    page = application.backend().license_list(
        LicenseFilter(
            partner=partner,
            customer=customer,
            inventory=inventory,
            status=status,
            type=type_,
            expiring_within=expiring_within,
        ),
        limit=None if all_ else limit,
        after=after,
    )
    emit_license_page(application, page, limit=limit)


@app.command("show")
def show(ctx: typer.Context, license_id: LicenseArg) -> None:
    """Show one license with its activations and successors."""
    application = get_app(ctx)
    detail = application.backend().license_show(license_id)
    out = application.out
    out.document(detail, title=f"License {detail.license_id}")
    if out.format == "table" and detail.activations:
        out.listing(detail.activations, columns=ACTIVATION_COLUMNS, title="Activations")


@app.command("history")
def history(ctx: typer.Context, license_id: LicenseArg) -> None:
    """Lineage (ancestors and successors) and the events of one license."""
    application = get_app(ctx)
    hist = application.backend().license_history(license_id)
    out = application.out
    if out.format != "table":
        out.document(hist)
        return
    everyone = [*hist.ancestors, hist.license, *hist.descendants]
    labels = {
        lic.license_id: (
            f"{lic.license_id}  {lic.status.value}  ×{lic.quantity}  "
            f"{lic.customer or 'My Inventory'}"
            + ("  ◀ this license" if lic.license_id == hist.license.license_id else "")
        )
        for lic in everyone
    }
    children: dict[str, list[str]] = {}
    for lic in everyone:
        if lic.parent_id is not None:
            children.setdefault(lic.parent_id, []).append(lic.license_id)
    root = everyone[0]
    out.tree(
        f"Lineage of PO {root.purchase_order} line {root.po_line} "
        f"({root.type.value}, {root.devices} devices)",
        children,
        labels,
        root.license_id,
    )
    out.listing(hist.events, columns=EVENT_COLUMNS, title="Events", empty="no events")


__all__ = ["LICENSE_COLUMNS", "app"]
