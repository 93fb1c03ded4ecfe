"""`licensectl transfer`: move a license (or some copies) to a customer account."""

from __future__ import annotations

from typing import Annotated

import typer

from licensectl.cli.context import get_app
from licensectl.cli.output import Column
from licensectl.cli.views import LICENSE_COLUMNS
from licensectl.domain import COUNT_MAX


def transfer(
    ctx: typer.Context,
    license_id: Annotated[
        str, typer.Argument(metavar="LICENSE_ID", help="License ID to transfer.")
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Receiving customer: Customer ID, or name under the license's partner."
        ),
    ],
    quantity: Annotated[
        int | None,
        typer.Option(
            "--quantity",
            min=1,
            max=COUNT_MAX,
            help="Copies to move (default all); the rest stay with the sender.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the result; change nothing.")
    ] = False,
) -> None:
    """Transfer a license; prints the new License ID (and the remainder's for a partial one).

    The original is retired (`transferred`) and kept for tracking.
    """
    application = get_app(ctx)
    backend = application.backend()
    out = application.out
    plan = backend.transfer(license_id, to=to, quantity=quantity, dry_run=True)
    if dry_run:
        if out.format == "table":
            _show_plan(application, plan, err=False)
        else:
            out.document(plan)
        return
    if not application.yes:
        if application.env.stdin_isatty and not application.no_input:
            _show_plan(application, plan, err=True)
        moved = plan.transferred.quantity
        application.confirm(
            f"Transfer {moved} of {plan.original.quantity} copies of {plan.original.license_id} "
            f"to {plan.transferred.customer}?",
            what="transfer",
        )
    result = backend.transfer(license_id, to=to, quantity=quantity)
    ids = [result.transferred.license_id]
    if result.remainder is not None:
        ids.append(result.remainder.license_id)
    out.ids(
        result,
        ids,
        saved=f"transfer saved ({result.original.license_id} retired; new License ID "
        f"{' and '.join(ids)})",
    )
    out.status(
        f"Transferred {result.transferred.quantity} cop"
        f"{'y' if result.transferred.quantity == 1 else 'ies'} to {result.transferred.customer}; "
        f"{result.original.license_id} is now retired."
    )


def _show_plan(application: object, plan: object, *, err: bool) -> None:
    from licensectl.cli.context import Application
    from licensectl.models import TransferResult

    assert isinstance(application, Application) and isinstance(plan, TransferResult)
    rows = [
        {"role": "retired (original)", **plan.original.model_dump(mode="json")},
        {"role": "to receiver", **plan.transferred.model_dump(mode="json")},
    ]
    if plan.remainder is not None:
        rows.append({"role": "remainder (sender)", **plan.remainder.model_dump(mode="json")})
    wanted = {"License ID", "Qty", "Status", "Owner"}
    columns = [Column("", "role"), *(c for c in LICENSE_COLUMNS if c.header in wanted)]
    title = (
        "Transfer plan (dry run: nothing written)" if plan.dry_run and not err else "Transfer plan"
    )
    application.out.table(rows, columns, title=title, err=err)


def register(app: typer.Typer) -> None:
    app.command("transfer")(transfer)
