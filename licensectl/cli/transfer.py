"""`licensectl transfer`: move a license (or some copies) to a customer account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import Application, get_app, given
from licensectl.cli.output import Column
from licensectl.cli.views import LICENSE_COLUMNS
from licensectl.contract.fields import doc
from licensectl.domain import COUNT_MAX

if TYPE_CHECKING:
    from licensectl.contract.models import TransferResult


def transfer(
    ctx: typer.Context,
    license_id: Annotated[str, typer.Argument(metavar="LICENSE_ID", help=doc("license_id"))],
    to: Annotated[str, typer.Option("--to", metavar="CUSTOMER", help=doc("to"))],
    quantity: Annotated[
        int | None,
        typer.Option("--quantity", min=1, max=COUNT_MAX, help=doc("transfer_quantity")),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=doc("dry_run"))] = False,
) -> None:
    """Transfer a license; prints the new License ID (and the remainder's for a partial one).

    The original is retired (`transferred`) and kept for tracking.
    """
    from licensectl.contract.requests import Transfer

    application = get_app(ctx)
    backend = application.backend()
    out = application.out
    request = Transfer(license_id=license_id, to=to, **given(quantity=quantity))
    plan = backend.transfer(request.model_copy(update={"dry_run": True}))
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
    result = backend.transfer(request)
    ids = [result.transferred.license_id or ""]
    if result.remainder is not None:
        ids.append(result.remainder.license_id or "")
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


def _row(role: str, data: dict[str, Any]) -> dict[str, Any]:
    # A license a plan would mint has no ID until the transfer is made.
    return {"role": role, **data, "license_id": data["license_id"] or "(new)"}


def _show_plan(application: Application, plan: TransferResult, *, err: bool) -> None:
    rows = [
        _row("retired (original)", plan.original.model_dump(mode="json")),
        _row("to receiver", plan.transferred.model_dump(mode="json")),
    ]
    if plan.remainder is not None:
        rows.append(_row("remainder (sender)", plan.remainder.model_dump(mode="json")))
    wanted = {"License ID", "Qty", "Status", "Owner"}
    columns = [Column("", "role"), *(c for c in LICENSE_COLUMNS if c.header in wanted)]
    title = (
        "Transfer plan (dry run: nothing written)" if plan.dry_run and not err else "Transfer plan"
    )
    application.out.table(rows, columns, title=title, err=err)


def register(app: typer.Typer) -> None:
    app.command("transfer")(transfer)
