"""`licensectl db …`: the store itself (store-side only)."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.files import is_stdout
from licensectl.cli.output import Column, OutputFormat
from licensectl.errors import InvalidDataError

app = typer.Typer(help="The store itself: integrity, schema, backups.", no_args_is_help=True)

CHECK_COLUMNS = [
    Column("Check", "name"),
    Column("OK", "ok"),
    Column("Problems", "problems", justify="right", priority=1),
    Column("First problems", "details", priority=2, wrap=True, lines=True),
]


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Check the store: the database file (SQLite), its schema and every license invariant.

    Schema revision (pending ones fail), lineage, ownership, transfer quantities, active
    copies, status. Exit 7 if any check fails. A progress bar shows on a terminal.
    """
    application = get_app(ctx)
    out = application.out
    backend = application.backend()
    with out.fraction("Checking the store") as update:
        report = backend.db_check(progress=update)
    if out.format is OutputFormat.TABLE:
        out.table(
            [c.model_dump(mode="json") for c in report.checks],
            CHECK_COLUMNS,
            title=f"Store {report.store}",
        )
    else:
        out.document(report)
    if not report.ok:
        failed = [c for c in report.checks if not c.ok]
        # Only pending revisions: the remedy is an upgrade, not a restore.
        advice = "" if report.pending and len(failed) == 1 else "; restore a backup or report it"
        raise InvalidDataError(
            f"{len(failed)} of {len(report.checks)} checks failed ({failed[0].name}: "
            f"{failed[0].details[0] if failed[0].details else 'see above'}){advice}"
        )


@app.command("backup")
def backup(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="New file for the copy.")],
) -> None:
    """Copy a SQLite store to FILE, consistently, while others keep using it.

    FILE must not exist yet (a symlink to a new path, a device or a pipe will do).
    """
    application = get_app(ctx)
    result = application.backend().db_backup(file)
    if is_stdout(file):  # `db backup /dev/stdout | …`: the copy is the output
        application.out.status(f"Backed up {result.licenses} licenses to standard output.")
        return
    application.out.document(result, title="Backup", saved=f"backup written to {result.path}")
    application.out.status(
        f"Backed up {result.licenses} licenses to {result.path}; "
        f"use it with --db {result.path} or copy it into place."
    )


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Bring the store's schema up to date (stores also upgrade on first use)."""
    application = get_app(ctx)
    result = application.backend().db_upgrade()
    application.out.document(result, title="Schema")
