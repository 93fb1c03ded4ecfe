"""`licensectl batch`: many operations in one process (see licensectl/batch.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.errors import LicensectlError


def batch(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="JSON lines of operations; - for stdin.")
    ],
    atomic: Annotated[
        bool,
        typer.Option(
            "--atomic", help="One transaction: stop at the first failure and undo everything."
        ),
    ] = False,
) -> None:
    """Run operations from JSON lines in one process; one JSON result line each.

    Ops: customer.add, customer.email.add, license.add, transfer, activate, return (README).

    Each op is its own transaction and the batch goes on after a failure; exit 0 only if all
    succeeded, else the first failure's code. --atomic: one transaction, all or nothing.
    """
    from licensectl.batch import run_batch
    from licensectl.importer import open_input

    application = get_app(ctx)
    out = application.out
    ran = failed = 0
    first: tuple[int, LicensectlError] | None = None
    with open_input(file) as lines:
        for result in run_batch(application.backend(), lines, atomic=atomic):
            out.raw(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            ran += 1
            if result.error is not None:
                failed += 1
                first = first or (result.line, result.error)
    if first is None:
        out.status(f"{ran} operation{'s' if ran != 1 else ''} succeeded.")
        return
    line, error = first
    if atomic:
        message = f"line {line}: {error.message}. The batch was atomic: nothing was written"
    else:
        message = f"{failed} of {ran} operations failed; the first, line {line}: {error.message}"
    raise type(error)(message)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
