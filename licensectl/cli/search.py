"""`licensectl search …`: by customer name or by purchase order."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.views import (
    CUSTOMER_COLUMNS,
    LICENSE_COLUMNS,
    AfterOpt,
    AllOpt,
    LimitOpt,
    emit_license_page,
    page_of,
    warn_more,
)

app = typer.Typer(help="Search by customer name or purchase order.", no_args_is_help=True)


@app.command("customer")
def customer(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Part of a customer name (any case).")],
    limit: LimitOpt = None,
    all_: AllOpt = False,
    after: AfterOpt = None,
) -> None:
    """Customers whose name contains TEXT, each with its licenses."""
    application = get_app(ctx)
    found = application.backend().search_customers(
        text, page=page_of(limit, all_=all_, after=after)
    )
    out = application.out
    if out.format == "table":
        if not found.items:
            out.status("no customers match")
        for c in found.items:
            out.table([c.model_dump(mode="json")], CUSTOMER_COLUMNS)
            out.listing(c.licenses, columns=LICENSE_COLUMNS, empty="  (no licenses)")
    else:
        out.listing(found.items, columns=CUSTOMER_COLUMNS)
    warn_more(application, found.next_after, limit, what="customers")


@app.command("po")
def po(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Purchase order, or its beginning (any case).")],
    exact: Annotated[bool, typer.Option("--exact", help="Only this exact PO.")] = False,
    limit: LimitOpt = None,
    all_: AllOpt = False,
    after: AfterOpt = None,
) -> None:
    """Licenses whose PO starts with (or equals) TEXT, retired ones included and marked."""
    application = get_app(ctx)
    page = application.backend().search_po(
        text, exact=exact, page=page_of(limit, all_=all_, after=after)
    )
    emit_license_page(application, page, limit=limit)
