"""`licensectl search …`: by customer name or by purchase order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.output import Column
from licensectl.cli.views import (
    CUSTOMER_COLUMNS,
    LICENSE_COLUMNS,
    emit_license_page,
    warn_more,
    with_page,
)

#: How many licenses each customer found holds.
FOUND_LICENSES = Column("Licenses", "count", justify="right", priority=1)

if TYPE_CHECKING:
    from licensectl.contract.requests import Page

app = typer.Typer(help="Search by customer name or purchase order.", no_args_is_help=True)


@app.command("customer")
@with_page
def customer(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Part of a customer name (any case).")],
    page: Page,
) -> None:
    """Customers whose name contains TEXT, and their licenses."""
    application = get_app(ctx)
    found = application.backend().search_customers(text, page=page)
    out = application.out
    if out.format == "table":
        # Two tables however many customers match: theirs, then all their licenses.
        if not found.items:
            out.status("no customers match")
        else:
            rows = [
                {**c.model_dump(mode="json", exclude={"licenses"}), "count": len(c.licenses)}
                for c in found.items
            ]
            out.table(rows, [*CUSTOMER_COLUMNS, FOUND_LICENSES])
            licenses = [lic for c in found.items for lic in c.licenses]
            if licenses:
                out.listing(licenses, columns=LICENSE_COLUMNS)
    else:
        out.listing(found.items, columns=CUSTOMER_COLUMNS)
    warn_more(application, found.next_after, page, what="customers")


@app.command("po")
@with_page
def po(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Purchase order, or its beginning (any case).")],
    page: Page,
    exact: Annotated[bool, typer.Option("--exact", help="Only this exact PO.")] = False,
) -> None:
    """Licenses whose PO starts with (or equals) TEXT, retired ones included and marked."""
    application = get_app(ctx)
    emit_license_page(
        application, application.backend().search_po(text, exact=exact, page=page), page
    )
