"""`licensectl batch`: many operations in one process (see licensectl/service/batch.py)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.files import read_input
from licensectl.errors import InvalidDataError, from_wire
from licensectl.safe_text import json_text, printable

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

    application = get_app(ctx)
    out = application.out
    ran = failed = 0
    first: tuple[int, BatchError] | None = None
    lines = _read_lines(file)
    for result in application.backend().run_batch(lines, atomic=atomic):
        saved = (
            "the atomic batch was committed"
            if atomic
            else f"the operations up to line {result.line} ran (those that succeeded are saved)"
        )
        out.raw(json_text(result.wire()) + "\n", saved=saved)
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


def _read_lines(file: str) -> list[str]:
    """Every line of the batch, read and decoded before any operation runs: a file that
    cannot be read (exit 2) or is not UTF-8 text (exit 7) runs nothing at all."""
    data = read_input(file, what="batch file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        name = "standard input" if file == "-" else printable(file)
        raise InvalidDataError(
            f"{name} is not UTF-8 text (line {line}, byte {exc.start + 1}); nothing was run"
        ) from None
    # Lines end as the file's reader would end them (\n, \r\n or \r), not at the other
    # separators str.splitlines knows, which may stand inside a JSON string.
    return list(io.StringIO(text, newline=""))


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
