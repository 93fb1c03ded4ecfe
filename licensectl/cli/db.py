"""`licensectl db …`: the store itself (store-side only)."""

from __future__ import annotations

import typer

from licensectl.cli.context import get_app
from licensectl.cli.output import Column, OutputFormat
from licensectl.errors import InvalidDataError

app = typer.Typer(help="The store itself: integrity.", no_args_is_help=True)

CHECK_COLUMNS = [
    Column("Check", "name"),
    Column("OK", "ok"),
    Column("Problems", "problems", justify="right"),
    Column("First problems", lambda row: "\n".join(row.get("details") or [])),
]


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Check the store: the database file (SQLite) and every license invariant.

    Lineage, ownership, transfer quantities, active copies, status. Exit 7 if any check fails.
    """
    application = get_app(ctx)
    report = application.backend().db_check()
    out = application.out
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
        raise InvalidDataError(
            f"{len(failed)} of {len(report.checks)} checks failed ({failed[0].name}: "
            f"{failed[0].details[0] if failed[0].details else 'see above'}); "
            "restore a backup or report it"
        )
