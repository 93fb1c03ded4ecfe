"""`licensectl batch`: many operations in one process (see licensectl/batch.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.errors import from_wire

if TYPE_CHECKING:
    from licensectl.contract.models import BatchError


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

    Ops: customer.add, customer.email.add|remove, license.add, transfer, activate, return.

    Each op is its own transaction and the batch goes on after a failure; exit 0 only if all
    succeeded, else the first failure's code. --atomic: one transaction, all or nothing.
    """
    from licensectl.importer import open_input

    application = get_app(ctx)
    out = application.out
    ran = failed = 0
    first: tuple[int, BatchError] | None = None
    with open_input(file) as lines:
        for result in application.backend().run_batch(lines, atomic=atomic):
            out.raw(json.dumps(result.wire(), ensure_ascii=False) + "\n")
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
    raise from_wire(error.kind, error.exit_code, message)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
