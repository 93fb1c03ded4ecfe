"""`licensectl license …`: purchased licenses, their listing, details and lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.views import (
    ACTIVATION_COLUMNS,
    EVENT_COLUMNS,
    LICENSE_COLUMNS,
    emit_license_page,
    warn_more,
    with_license_filter,
    with_page,
)
from licensectl.contract.fields import doc
from licensectl.domain import COUNT_MAX, LicenseType

if TYPE_CHECKING:
    from licensectl.cli.output import Output
    from licensectl.contract.models import LicenseHistory
    from licensectl.contract.requests import LicenseFilter, Page

app = typer.Typer(
    help="Licenses: add purchased ones, list, show, trace lineage.", no_args_is_help=True
)

LicenseArg = Annotated[str, typer.Argument(metavar="LICENSE_ID", help=doc("license_id"))]


@app.command("add")
def add(
    ctx: typer.Context,
    po: Annotated[str, typer.Option("--po", help=doc("purchase_order"))],
    type_: Annotated[LicenseType, typer.Option("--type", case_sensitive=False, help=doc("type"))],
    devices: Annotated[int, typer.Option("--devices", max=COUNT_MAX, help=doc("devices"))],
    partner: Annotated[str | None, typer.Option("--partner", "-p", help=doc("partner"))] = None,
    po_line: Annotated[
        int | None, typer.Option("--po-line", max=COUNT_MAX, help=doc("po_line"))
    ] = None,
    quantity: Annotated[
        int | None, typer.Option("--quantity", max=COUNT_MAX, help=doc("quantity"))
    ] = None,
    term: Annotated[
        int | None,
        typer.Option("--term", metavar="MONTHS", max=COUNT_MAX, help=doc("term_months")),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help=doc("note"))] = None,
) -> None:
    """Add a purchased license to a partner's inventory; prints the new License ID."""
    from licensectl.cli.context import given
    from licensectl.contract.requests import LicenseAdd

    application = get_app(ctx)
    request = LicenseAdd(
        purchase_order=po,
        type=type_,
        devices=devices,
        **given(partner=partner, po_line=po_line, quantity=quantity, term_months=term, note=note),
    )
    lic = application.backend().license_add(request)
    application.out.ids(
        lic, [lic.license_id or ""], saved=f"license created (License ID {lic.license_id})"
    )


@app.command("list")
@with_page
@with_license_filter
def list_(ctx: typer.Context, filters: LicenseFilter, page: Page) -> None:
    """List licenses (oldest first), retired ones included and marked."""
    application = get_app(ctx)
    emit_license_page(application, application.backend().license_list(filters, page=page), page)


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
@with_page
def history(ctx: typer.Context, license_id: LicenseArg, page: Page) -> None:
    """Lineage (ancestors and successors) and the events of one license (a page of them,
    oldest first; --after takes an event number)."""
    application = get_app(ctx)
    hist = application.backend().license_history(license_id, page=page)
    _show_history(application.out, hist)
    warn_more(application, hist.events_next_after, page, what="events")


def _show_history(out: Output, hist: LicenseHistory) -> None:
    if out.format != "table":
        out.document(hist)
        return
    everyone = [*hist.ancestors, hist.license, *hist.descendants]
    labels = {
        lic.license_id or "": (
            f"{lic.license_id}  {lic.status.value}  ×{lic.quantity}  "
            f"{lic.customer or 'My Inventory'}"
            + ("  ◀ this license" if lic.license_id == hist.license.license_id else "")
        )
        for lic in everyone
    }
    children: dict[str, list[str]] = {}
    for lic in everyone:
        if lic.parent_id is not None and lic.parent_id in labels:
            children.setdefault(lic.parent_id, []).append(lic.license_id or "")
    root = everyone[0]
    out.tree(
        f"Lineage of PO {root.purchase_order} line {root.po_line} "
        f"({root.type.value}, {root.devices} devices)",
        children,
        labels,
        root.license_id or "",
    )
    out.listing(hist.events, columns=EVENT_COLUMNS, title="Events", empty="no events")


@app.command("note")
def note(
    ctx: typer.Context,
    license_id: LicenseArg,
    text: Annotated[str, typer.Argument(metavar="TEXT", help=doc("set_note"))],
) -> None:
    """Set (or, with "", clear) a license's note."""
    from licensectl.contract.requests import LicenseNote

    application = get_app(ctx)
    lic = application.backend().license_note(LicenseNote(license_id=license_id, note=text))
    application.out.document(
        lic, title=f"License {lic.license_id}", saved=f"note of license {lic.license_id} set"
    )


@app.command("void")
def void(
    ctx: typer.Context,
    license_id: LicenseArg,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help=doc("void_reason"))],
) -> None:
    """Void a license added by mistake (never transferred or activated); its PO line
    can then be imported again. It is kept, read-only: `license list --status void`."""
    from licensectl.contract.requests import LicenseVoid

    application = get_app(ctx)
    backend = application.backend()
    found = backend.license_show(license_id)
    application.confirm(
        f"Void license {found.license_id} (PO {found.purchase_order} line {found.po_line}, "
        f"{found.quantity} × {found.type.value} {found.devices})?",
        what="voiding a license",
    )
    lic = backend.license_void(
        LicenseVoid(license_id=found.license_id or license_id, reason=reason)
    )
    application.out.ids(lic, [lic.license_id or ""], saved=f"license {lic.license_id} is void")


__all__ = ["LICENSE_COLUMNS", "app"]
