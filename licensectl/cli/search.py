"""`licensectl search …`: by customer name or by purchase order."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.views import CUSTOMER_COLUMNS, LICENSE_COLUMNS, emit_license_page
from licensectl.domain import COUNT_MAX

app = typer.Typer(help="Search by customer name or purchase order.", no_args_is_help=True)


@app.command("customer")
def customer(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Part of a customer name (any case).")],
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=COUNT_MAX, help="At most this many customers.")
    ] = 100,
    all_: Annotated[bool, typer.Option("--all", help="Every match.")] = False,
) -> None:
    """Customers whose name contains TEXT, each with its licenses."""
    application = get_app(ctx)
    found = application.backend().search_customers(text, limit=None if all_ else limit + 1)
    more = not all_ and len(found) > limit
    found = found[:limit] if more else found
    out = application.out
    if out.format == "table":
        if not found:
            out.status("no customers match")
        for c in found:
            out.table([c.model_dump(mode="json")], CUSTOMER_COLUMNS)
            out.listing(c.licenses, columns=LICENSE_COLUMNS, empty="  (no licenses)")
    else:
        out.listing(found, columns=CUSTOMER_COLUMNS)
    if more:
        out.warn(f"showing the first {limit} customers; more match. Use --all for every match")


@app.command("po")
def po(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Purchase order, or its beginning (any case).")],
    exact: Annotated[bool, typer.Option("--exact", help="Only this exact PO.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=COUNT_MAX, help="At most this many rows.")
    ] = 100,
    all_: Annotated[bool, typer.Option("--all", help="Every match.")] = False,
    after: Annotated[
        str | None, typer.Option("--after", help="Rows after this License ID.")
    ] = None,
) -> None:
    """Licenses whose PO starts with (or equals) TEXT, retired ones included and marked."""
    application = get_app(ctx)
    page = application.backend().search_po(
        text, exact=exact, limit=None if all_ else limit, after=after
    )
    emit_license_page(application, page, limit=limit)
