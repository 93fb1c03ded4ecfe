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
    from licensectl.keys import KeyInfo

app = typer.Typer(
    help="The portal's signing keys for offline activation responses.", no_args_is_help=True
)


def _row(info: KeyInfo) -> dict[str, Any]:
    from licensectl.activation import format_timestamp

    body = "".join(line for line in info.public_pem.splitlines() if not line.startswith("-----"))
    return {
        "key_id": info.key_id,
        "active": info.active,
        "created_at": format_timestamp(info.created_at),
        "public_key": body,
        "public_key_pem": info.public_pem,
    }


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Every signing key: its id, public key, and which one signs new responses."""
    from licensectl.keys import KeyStore

    application = get_app(ctx)
    application.out.listing(
        [_row(info) for info in KeyStore().list()],
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
    from licensectl.keys import KeyStore

    application = get_app(ctx)
    pem = KeyStore().public_pem(key_id)
    if write_output(application.out, out_path, pem.encode("ascii"), what="public key"):
        application.out.status(f"Public key written to {out_path}")


@app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Make a new active signing key; prints its id. Old keys still verify their responses."""
    from licensectl.keys import KeyStore

    application = get_app(ctx)
    info = KeyStore().rotate()
    application.out.ids(
        _row(info), [info.key_id], saved=f"signing key {info.key_id} created and made active"
    )
    application.out.status(
        f"New responses are signed with key {info.key_id}; responses signed before keep "
        "verifying with their keys. Give devices the new public key: "
        "licensectl keys export-public"
    )
