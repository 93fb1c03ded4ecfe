"""`licensectl smartserver …`: the device side of offline activation, and the portal's view.

`request`, `verify` and `inspect` are what a SmartServer does: they need no store and
must not import the database stack. `show` is portal-side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import get_app
from licensectl.cli.files import read_input, write_output
from licensectl.cli.views import (
    GRANTED_COLUMNS,
    HELD_COLUMNS,
    REQUEST_LINE_COLUMNS,
    SMARTSERVER_COLUMNS,
)
from licensectl.errors import UsageError

if TYPE_CHECKING:
    from licensectl.cli.context import Application

app = typer.Typer(
    help="SmartServers: make activation requests, verify responses (device side), show one.",
    no_args_is_help=True,
)

#: A PEM public key is a few hundred bytes; anything near this is not one.
_PEM_LIMIT = 64 * 1024


def _license_line(value: str) -> tuple[str, int]:
    """`ID` or `ID:COPIES` (COPIES defaults to 1; 0 returns the license)."""
    license_id, sep, copies = value.partition(":")
    if not sep:
        return license_id, 1
    try:
        return license_id, int(copies)
    except ValueError:
        raise UsageError(
            f"--license {value!r}: COPIES must be a whole number (ID:COPIES, 0 returns)"
        ) from None


def _summary(application: Application, summary: dict[str, Any], *, title: str) -> None:
    out = application.out
    out.document(summary, title=title)
    if out.format == "table":
        request = summary["kind"] == "activation request"
        out.listing(
            summary["licenses"],
            columns=REQUEST_LINE_COLUMNS if request else GRANTED_COLUMNS,
            title="Licenses",
        )


@app.command("request")
def request(
    ctx: typer.Context,
    install_code: Annotated[
        str, typer.Option("--install-code", help="This SmartServer's install code.")
    ],
    licenses: Annotated[
        list[str],
        typer.Option(
            "--license",
            metavar="ID[:COPIES]",
            help="License ID and the copies to hold afterwards (default 1; 0 returns). Repeatable.",
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help="This SmartServer's name.")] = None,
    out_path: Annotated[
        str | None, typer.Option("--out", metavar="FILE", help="Write the request here.")
    ] = None,
) -> None:
    """Write an activation request (device side) to carry to the portal."""
    from licensectl.activation import describe, dump_file, new_request

    application = get_app(ctx)
    req = new_request(
        install_code=install_code, name=name, licenses=[_license_line(v) for v in licenses]
    )
    written = write_output(application.out, out_path, dump_file(req), what="activation request")
    if written:
        _summary(application, describe(req), title=f"Activation request for {req.install_code}")
    application.out.status(
        f"Activation request for {req.install_code} (nonce {req.nonce})"
        + (f" written to {out_path}" if written else "")
        + "; on the portal run: licensectl activate-offline "
        + (out_path if written and out_path else "REQUEST_FILE")
    )


@app.command("verify")
def verify(
    ctx: typer.Context,
    response_file: Annotated[
        str, typer.Argument(metavar="RESPONSE_FILE|-", help="Activation response from the portal.")
    ],
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            metavar="FILE",
            help="The portal's public key (PEM); default: the local portal's keys.",
        ),
    ] = None,
    request_file: Annotated[
        str | None,
        typer.Option(
            "--request",
            metavar="FILE",
            help="The request it answers: also check install code, nonce and content.",
        ),
    ] = None,
) -> None:
    """Accept a response only if its signature verifies (device side); exit 7 otherwise.

    With --request, it must also answer that request: same install code, nonce and
    content. Prints the granted capacity and maintenance.
    """
    from licensectl.activation import (
        MAX_FILE_BYTES,
        describe,
        load_public_key_pem,
        parse_request,
        verify_response,
    )

    application = get_app(ctx)
    if response_file == "-" and request_file == "-":
        raise UsageError("only one of RESPONSE_FILE and --request can be read from stdin (-)")
    data = read_input(response_file, what="activation response", limit=MAX_FILE_BYTES + 1)
    request = (
        parse_request(read_input(request_file, what="activation request", limit=MAX_FILE_BYTES + 1))
        if request_file is not None
        else None
    )
    if public_key is not None:
        keys: Any = load_public_key_pem(read_input(public_key, what="public key", limit=_PEM_LIMIT))
    else:
        # The portal's own keys, as its backend (a local key directory or a server) has them.
        keys = {
            k.key_id: load_public_key_pem(k.public_key_pem.encode("ascii"))
            for k in application.backend().keys_list()
        }
        if not keys:
            raise UsageError(
                "no public key to verify with: pass --public-key FILE (the portal exports it "
                "with 'licensectl keys export-public')"
            )
    response = verify_response(data, public_keys=keys, request=request)
    summary = {**describe(response), "verified": True, "request_checked": request is not None}
    _summary(
        application, summary, title=f"Verified activation response for {response.install_code}"
    )
    application.out.status(
        f"Verified: signed by portal key {response.key_id}"
        + (
            "; it answers the request (install code, nonce and content match)."
            if request is not None
            else "; pass --request to also check that it answers your request."
        )
    )


@app.command("inspect")
def inspect(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="An activation request or response.")
    ],
) -> None:
    """Show an activation request or response in human form (the signature is not checked)."""
    from licensectl.activation import MAX_FILE_BYTES, describe, parse_file

    application = get_app(ctx)
    model = parse_file(read_input(file, what="activation file", limit=MAX_FILE_BYTES + 1))
    summary = describe(model)
    _summary(application, summary, title=f"{summary['kind'].capitalize()} ({file})")
    if summary["kind"] == "activation response":
        application.out.status(
            "The signature was not checked: use 'licensectl smartserver verify' before trusting it."
        )


@app.command("show")
def show(
    ctx: typer.Context,
    install_code: Annotated[str, typer.Argument(metavar="CODE", help="The install code.")],
) -> None:
    """A SmartServer's capacity, maintenance coverage and active licenses (portal side)."""
    application = get_app(ctx)
    server = application.backend().smartserver_show(install_code)
    out = application.out
    out.document(server, columns=SMARTSERVER_COLUMNS, title=f"SmartServer {server.install_code}")
    if out.format == "table":
        out.listing(
            server.activations,
            columns=HELD_COLUMNS,
            title="Activations",
            empty="no active licenses",
        )
