"""`licensectl customer …`: customer/project accounts and their email contacts."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.views import CUSTOMER_COLUMNS, LICENSE_COLUMNS

app = typer.Typer(help="Customer/project accounts of a partner.", no_args_is_help=True)
email_app = typer.Typer(
    help="Email contacts of a customer (each usable as a login).", no_args_is_help=True
)
app.add_typer(email_app, name="email")

PartnerOpt = Annotated[
    str | None,
    typer.Option("--partner", "-p", help="Partner name (optional when the store has one)."),
]
CustomerArg = Annotated[str, typer.Argument(help="Customer ID or name.")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Account name, e.g. P2022-0208 (unique per partner).")
    ],
    partner: PartnerOpt = None,
    email: Annotated[
        list[str] | None, typer.Option("--email", help="Contact email (repeatable).")
    ] = None,
) -> None:
    """Add a customer/project account; prints the new Customer ID."""
    application = get_app(ctx)
    customer = application.backend().customer_add(name, partner=partner, emails=email or [])
    application.out.ids(
        customer,
        [customer.customer_id],
        saved=f"customer created (Customer ID {customer.customer_id})",
    )


@app.command("list")
def list_(ctx: typer.Context, partner: PartnerOpt = None) -> None:
    """List customer accounts."""
    application = get_app(ctx)
    application.out.listing(
        application.backend().customer_list(partner=partner),
        columns=CUSTOMER_COLUMNS,
        empty="no customers yet",
    )


@app.command("show")
def show(ctx: typer.Context, customer: CustomerArg, partner: PartnerOpt = None) -> None:
    """Show one customer account with its licenses."""
    application = get_app(ctx)
    detail = application.backend().customer_show(customer, partner=partner)
    out = application.out
    out.document(detail, title=f"Customer {detail.name}")
    if out.format == "table":
        out.listing(detail.licenses, columns=LICENSE_COLUMNS, title="Licenses", empty="no licenses")


@email_app.command("add")
def email_add(
    ctx: typer.Context,
    customer: CustomerArg,
    email: Annotated[str, typer.Argument(help="Email address.")],
    partner: PartnerOpt = None,
) -> None:
    """Add an email contact to a customer."""
    application = get_app(ctx)
    result = application.backend().customer_email_add(customer, email, partner=partner)
    application.out.document(
        result,
        title=f"Customer {result.name}",
        saved=f"email added to customer {result.customer_id}",
    )


@email_app.command("remove")
def email_remove(
    ctx: typer.Context,
    customer: CustomerArg,
    email: Annotated[str, typer.Argument(help="Email address.")],
    partner: PartnerOpt = None,
) -> None:
    """Remove an email contact from a customer."""
    application = get_app(ctx)
    result = application.backend().customer_email_remove(customer, email, partner=partner)
    application.out.document(
        result,
        title=f"Customer {result.name}",
        saved=f"email removed from customer {result.customer_id}",
    )
