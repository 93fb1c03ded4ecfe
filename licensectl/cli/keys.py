"""`licensectl keys …`: the portal's Ed25519 signing keys (files, never in the database).

Private keys are never printed: only key ids and public keys leave this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import get_app
from licensectl.cli.files import write_output
from licensectl.cli.views import KEY_COLUMNS

if TYPE_CHECKING:
    from licensectl.contract.models import KeyPublic

app = typer.Typer(
    help="The portal's signing keys for offline activation responses.", no_args_is_help=True
)


def _row(key: KeyPublic) -> dict[str, Any]:
    body = "".join(line for line in key.public_key_pem.splitlines() if not line.startswith("-"))
    return {**key.model_dump(mode="json"), "public_key": body}


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Every signing key: its id, public key, and which one signs new responses."""
    application = get_app(ctx)
    application.out.listing(
        [_row(key) for key in application.backend().keys_list()],
        columns=KEY_COLUMNS,
        title="Signing keys",
        empty="no signing keys yet: the first is created when a response is first signed "
        "(or run 'licensectl keys rotate')",
    )


@app.command("export-public")
def export_public(
    ctx: typer.Context,
    out_path: Annotated[
        str | None, typer.Option("--out", metavar="FILE", help="Write the PEM here (not stdout).")
    ] = None,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="An older key's id (default: the active key).")
    ] = None,
) -> None:
    """The public key devices verify responses with (PEM); creates the first key if need be."""
    application = get_app(ctx)
    pem = application.backend().keys_public_pem(key_id)
    if write_output(application.out, out_path, pem.encode("ascii"), what="public key"):
        application.out.status(f"Public key written to {out_path}")


@app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Make a new active signing key; prints its id. Old keys still verify their responses."""
    application = get_app(ctx)
    key = application.backend().keys_rotate()
    application.out.ids(
        _row(key), [key.key_id], saved=f"signing key {key.key_id} created and made active"
    )
    application.out.status(
        f"New responses are signed with key {key.key_id}; responses signed before keep "
        "verifying with their keys. Give devices the new public key: "
        "licensectl keys export-public"
    )
