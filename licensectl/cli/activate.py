"""`licensectl activate | return | activate-offline`: the portal side of activation."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl import domain
from licensectl.cli.context import get_app, given
from licensectl.cli.files import check_writable, read_input, write_output
from licensectl.cli.views import GRANTED_COLUMNS
from licensectl.contract.fields import doc

LicenseArg = Annotated[str, typer.Argument(metavar="LICENSE_ID", help=doc("license_id"))]
InstallCodeOpt = Annotated[
    str, typer.Option("--install-code", metavar="CODE", help=doc("install_code"))
]


def activate(
    ctx: typer.Context,
    license_id: LicenseArg,
    install_code: InstallCodeOpt,
    copies: Annotated[
        int | None,
        typer.Option("--copies", min=0, max=domain.COUNT_MAX, help=doc("copies")),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help=doc("smartserver_name"))] = None,
) -> None:
    """Online activation: the SmartServer holds COPIES of the license afterwards.

    Repeating it changes nothing. The license must be in a customer account.
    """
    from licensectl.contract.requests import Activate

    application = get_app(ctx)
    result = application.backend().activate(
        Activate(
            license_id=license_id, install_code=install_code, **given(copies=copies, name=name)
        )
    )
    application.out.document(
        result,
        title=f"Activation of {result.license_id}",
        saved=f"activation saved (SmartServer {result.install_code} holds "
        f"{domain.copies_text(result.copies)} of {result.license_id})",
    )
    application.out.status(
        f"SmartServer {result.install_code} holds {domain.copies_text(result.copies)} "
        f"of {result.license_id}."
    )


def return_(ctx: typer.Context, license_id: LicenseArg, install_code: InstallCodeOpt) -> None:
    """Return every copy a SmartServer holds of a license, freeing them.

    Asks for confirmation on a terminal (--yes skips it). Returning what is not held
    changes nothing.
    """
    from licensectl.contract.requests import Return

    application = get_app(ctx)
    backend = application.backend()
    if not application.yes:
        code = domain.clean_install_code(install_code)
        held = sum(
            a.copies
            for a in backend.license_show(license_id).activations
            if domain.install_code_key(a.install_code) == code
        )
        if held:
            application.confirm(
                f"Return {domain.copies_text(held)} of {license_id} from SmartServer {code}? "
                "They become free for other SmartServers.",
                what="return",
            )
    result = backend.return_license(Return(license_id=license_id, install_code=install_code))
    application.out.document(
        result,
        title=f"Activation of {result.license_id}",
        saved=f"return saved (SmartServer {result.install_code} holds no copies of "
        f"{result.license_id})",
    )
    application.out.status(
        f"SmartServer {result.install_code} holds no copies of {result.license_id}."
    )


def activate_offline(
    ctx: typer.Context,
    request_file: Annotated[
        str,
        typer.Argument(
            metavar="REQUEST_FILE|-", help="Activation request from the SmartServer (- = stdin)."
        ),
    ],
    out_path: Annotated[
        str | None,
        typer.Option(
            "--out", metavar="RESPONSE_FILE", help="Write the signed response here (not stdout)."
        ),
    ] = None,
) -> None:
    """Check an activation request, record it and write the signed activation response.

    All of the request is granted or none of it. The same request again gives the same
    response, byte for byte, and consumes nothing more.
    """
    from licensectl.activation import MAX_FILE_BYTES, describe, parse_response

    application = get_app(ctx)
    out = application.out
    data = read_input(request_file, what="activation request", limit=MAX_FILE_BYTES + 1)
    check_writable(out_path, what="activation response")
    response = application.backend().activate_offline(data)
    written = write_output(
        out,
        out_path,
        response,
        what="activation response",
        saved="the activation is recorded (run the same command again to get the same response)",
    )
    summary = describe(parse_response(response))
    if written:
        out.document(summary, title=f"Activation response for {summary['install_code']}")
        if out.format == "table":
            out.listing(summary["licenses"], columns=GRANTED_COLUMNS, title="Granted")
    covered = "covered" if summary["covered"] else "NOT covered"
    out.status(
        f"Signed with key {summary['key_id']}: {summary['install_code']} has a capacity of "
        f"{summary['capacity']} devices, maintenance for {summary['maintenance_devices']} "
        f"({covered})" + (f"; written to {out_path}." if written else ".")
    )


def register(app: typer.Typer) -> None:
    app.command("activate")(activate)
    app.command("return")(return_)
    app.command("activate-offline")(activate_offline)
