"""`licensectl customer …`: customer/project accounts and their email contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.views import CUSTOMER_COLUMNS, LICENSE_COLUMNS, warn_more, with_page
from licensectl.contract.fields import doc

if TYPE_CHECKING:
    from licensectl.contract.requests import Page

app = typer.Typer(help="Customer/project accounts of a partner.", no_args_is_help=True)
email_app = typer.Typer(
    help="Email contacts of a customer (each usable as a login).", no_args_is_help=True
)
app.add_typer(email_app, name="email")

PartnerOpt = Annotated[str | None, typer.Option("--partner", "-p", help=doc("partner"))]
CustomerArg = Annotated[str, typer.Argument(metavar="CUSTOMER", help=doc("customer"))]
EmailArg = Annotated[str, typer.Argument(metavar="EMAIL", help=doc("contact"))]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help=doc("customer_name"))],
    partner: PartnerOpt = None,
    email: Annotated[list[str] | None, typer.Option("--email", help=doc("emails"))] = None,
) -> None:
    """Add a customer/project account; prints the new Customer ID."""
    from licensectl.contract.requests import CustomerAdd

    application = get_app(ctx)
    customer = application.backend().customer_add(
        CustomerAdd(name=name, partner=partner, emails=email or [])
    )
    application.out.ids(
        customer,
        [customer.customer_id],
        saved=f"customer created (Customer ID {customer.customer_id})",
    )


@app.command("list")
@with_page
def list_(ctx: typer.Context, page: Page, partner: PartnerOpt = None) -> None:
    """List customer accounts, oldest first."""
    application = get_app(ctx)
    found = application.backend().customer_list(partner=partner, page=page)
    application.out.listing(found.items, columns=CUSTOMER_COLUMNS, empty="no customers yet")
    warn_more(application, found.next_after, page, what="customers")


@app.command("show")
@with_page
def show(ctx: typer.Context, customer: CustomerArg, page: Page, partner: PartnerOpt = None) -> None:
    """Show one customer account with its licenses (a page of them, oldest first)."""
    application = get_app(ctx)
    detail = application.backend().customer_show(customer, partner=partner, page=page)
    out = application.out
    out.document(detail, title=f"Customer {detail.name}")
    if out.format == "table":
        out.listing(detail.licenses, columns=LICENSE_COLUMNS, title="Licenses", empty="no licenses")
    warn_more(application, detail.licenses_next_after, page, what="licenses")


@email_app.command("add")
def email_add(
    ctx: typer.Context, customer: CustomerArg, email: EmailArg, partner: PartnerOpt = None
) -> None:
    """Add an email contact to a customer."""
    _email(ctx, customer, email, partner, add=True)


@email_app.command("remove")
def email_remove(
    ctx: typer.Context, customer: CustomerArg, email: EmailArg, partner: PartnerOpt = None
) -> None:
    """Remove an email contact from a customer."""
    _email(ctx, customer, email, partner, add=False)


def _email(
    ctx: typer.Context, customer: str, email: str, partner: str | None, *, add: bool
) -> None:
    from licensectl.contract.requests import CustomerEmail

    application = get_app(ctx)
    backend = application.backend()
    change = backend.customer_email_add if add else backend.customer_email_remove
    result = change(CustomerEmail(customer=customer, email=email, partner=partner))
    done = "added to" if add else "removed from"
    application.out.document(
        result,
        title=f"Customer {result.name}",
        saved=f"email {done} customer {result.customer_id}",
    )


@app.command("rename")
def rename(
    ctx: typer.Context,
    customer: CustomerArg,
    new: Annotated[str, typer.Argument(metavar="NEW", help=doc("new_customer_name"))],
    partner: PartnerOpt = None,
) -> None:
    """Rename a customer account; its Customer ID stays, the event log keeps the old name."""
    from licensectl.contract.requests import CustomerRename

    application = get_app(ctx)
    result = application.backend().customer_rename(
        CustomerRename(customer=customer, name=new, partner=partner)
    )
    application.out.ids(
        result, [result.customer_id], saved=f"customer {result.customer_id} renamed"
    )


@app.command("note")
def note(
    ctx: typer.Context,
    customer: CustomerArg,
    text: Annotated[str, typer.Argument(metavar="TEXT", help=doc("set_note"))],
    partner: PartnerOpt = None,
) -> None:
    """Set (or, with "", clear) a customer account's note."""
    from licensectl.contract.requests import CustomerNote

    application = get_app(ctx)
    result = application.backend().customer_note(
        CustomerNote(customer=customer, note=text, partner=partner)
    )
    application.out.document(
        result, title=f"Customer {result.name}", saved=f"note of customer {result.customer_id} set"
    )


@app.command("remove")
def remove(ctx: typer.Context, customer: CustomerArg, partner: PartnerOpt = None) -> None:
    """Remove a customer account that never held a license (one added by mistake)."""
    from licensectl.contract.requests import CustomerRemove

    application = get_app(ctx)
    backend = application.backend()
    found = backend.customer_show(customer, partner=partner)
    application.confirm(
        f"Remove customer {found.name!r} ({found.customer_id})?", what="removing a customer"
    )
    result = backend.customer_remove(CustomerRemove(customer=found.customer_id, partner=partner))
    application.out.ids(
        result, [result.customer_id], saved=f"customer {result.customer_id} removed"
    )
