"""`licensectl partner …`: the vendor's partners (system integrators)."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.views import PARTNER_COLUMNS
from licensectl.contract.fields import doc

app = typer.Typer(help="Partners: the system integrators that buy licenses.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help=doc("partner_name"))],
    email: Annotated[str | None, typer.Option("--email", help=doc("email"))] = None,
) -> None:
    """Add a partner; prints its name."""
    from licensectl.contract.requests import PartnerAdd

    application = get_app(ctx)
    partner = application.backend().partner_add(PartnerAdd(name=name, email=email))
    application.out.ids(partner, [partner.name], saved=f"partner {partner.name!r} created")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List partners."""
    application = get_app(ctx)
    application.out.listing(
        application.backend().partner_list(), columns=PARTNER_COLUMNS, empty="no partners yet"
    )


@app.command("rename")
def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(metavar="OLD", help=doc("partner_current"))],
    new: Annotated[str, typer.Argument(metavar="NEW", help=doc("new_partner_name"))],
) -> None:
    """Rename a partner (admin); the event log keeps the old name."""
    from licensectl.contract.requests import PartnerRename

    application = get_app(ctx)
    partner = application.backend().partner_rename(PartnerRename(partner=old, name=new))
    application.out.ids(partner, [partner.name], saved=f"partner renamed to {partner.name!r}")
