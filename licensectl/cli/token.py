"""`licensectl token …`: API tokens for `licensectl serve` (admin)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import get_app, given
from licensectl.cli.output import Column, OutputFormat
from licensectl.contract.fields import doc
from licensectl.errors import PermissionDeniedError

if TYPE_CHECKING:
    from licensectl.contract.models import TokenPublic

app = typer.Typer(
    help="API tokens of 'licensectl serve': create (shown once), list, revoke.",
    no_args_is_help=True,
)


class RoleChoice(StrEnum):
    ADMIN = "admin"
    PARTNER = "partner"
    CUSTOMER = "customer"


def _scope(row: dict[str, Any]) -> str:
    if row.get("customer_id"):
        return f"customer {row['customer_id']}"
    if row.get("partner"):
        return f"partner {row['partner']}"
    return "everything"


def _state(row: dict[str, Any]) -> str:
    if row.get("revoked_at"):
        return f"revoked {row['revoked_at']}"
    expires = row.get("expires_at")
    if expires:
        from licensectl.contract.models import format_utc
        from licensectl.domain import utcnow

        # Both in the one ISO 8601 UTC form, so the text compares as the time does.
        return f"expired {expires}" if expires <= format_utc(utcnow()) else f"expires {expires}"
    return "active"


TOKEN_COLUMNS = [
    Column("ID", "token_id"),
    Column("Name", "name", priority=1),
    Column("Role", "role"),
    Column("Scope", _scope, priority=2),
    Column("Created", "created_at", priority=4),
    Column("Last used", "last_used_at", priority=3),
    Column("State", _state),
]


@app.command("create")
def create(
    ctx: typer.Context,
    role: Annotated[
        RoleChoice, typer.Option("--role", case_sensitive=False, help=doc("token_role"))
    ],
    partner: Annotated[
        str | None, typer.Option("--partner", "-p", help=doc("token_partner"))
    ] = None,
    customer: Annotated[str | None, typer.Option("--customer", help=doc("token_customer"))] = None,
    name: Annotated[str | None, typer.Option("--name", help=doc("token_name"))] = None,
    expires_in: Annotated[
        int | None,
        typer.Option("--expires-in", metavar="DAYS", help=doc("expires_in_days")),
    ] = None,
) -> None:
    """Create an API token; prints its secret, once. The store keeps only its hash.

    Pass it to the server as 'Authorization: Bearer <secret>', or to 'licensectl login'.
    """
    from licensectl.contract.requests import TokenCreate
    from licensectl.domain import Role

    application = get_app(ctx)
    request = TokenCreate(
        role=Role(role.value),
        **given(partner=partner, customer=customer, name=name, expires_in_days=expires_in),
    )
    created = application.backend().token_create(request)
    out = application.out
    out.ids(created, [created.secret])
    if out.format is OutputFormat.TABLE:
        out.status(
            f"Token {_describe(created.token)}. This is the only time its secret is shown: "
            "keep it safe."
        )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List API tokens: id, name, role, scope, created, last used, expiry; never a secret."""
    application = get_app(ctx)
    application.out.listing(
        application.backend().token_list(), columns=TOKEN_COLUMNS, empty="no API tokens yet"
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (token list).")],
) -> None:
    """Revoke an API token: every request with it is refused from then on.

    Asks for confirmation on a terminal; --yes skips it.
    """
    application = get_app(ctx)
    backend = application.backend()
    if not application.yes:
        what = token_id
        if application.env.stdin_isatty and not application.no_input:
            known = _find(backend.token_list, token_id)
            if known is not None:
                what = _describe(known)
        application.confirm(
            f"Revoke API token {what}? Requests with it are refused from then on.",
            what="token revoke",
        )
    revoked = backend.token_revoke(token_id)
    application.out.ids(revoked, [revoked.token_id])
    application.out.status(f"Revoked token {revoked.token_id} ({revoked.name}).")


def _describe(token: TokenPublic) -> str:
    return f"{token.token_id} ({token.name}, {token.role.value}, {_scope(token.model_dump())})"


def _find(token_list: Any, token_id: str) -> TokenPublic | None:
    """The token to name in the question, if this login may list tokens."""
    try:
        tokens: list[TokenPublic] = token_list()
    except PermissionDeniedError:
        return None
    wanted = token_id.strip().lower()
    return next((t for t in tokens if t.token_id == wanted), None)
