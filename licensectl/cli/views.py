"""Table columns and list helpers shared by several command groups."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import Application
from licensectl.cli.output import Column
from licensectl.contract.fields import doc
from licensectl.domain import COUNT_MAX, Inventory, LicenseStatus, LicenseType

if TYPE_CHECKING:
    from licensectl.contract.models import LicensePage
    from licensectl.contract.requests import LicenseFilter, Page


def _owner(row: dict[str, Any]) -> str:
    return f"{row['customer']}" if row.get("customer_id") else "My Inventory"


def _term(row: dict[str, Any]) -> str:
    return f"{row['term_months']} mo" if row.get("term_months") else ""


# Column priorities: 0 always shows; on a narrow terminal the highest number gives way
# first (cli/output.py, `_fit_columns`). IDs stay whole and are never dropped.

LICENSE_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type", priority=2),
    Column("Devices", "devices", justify="right", priority=3),
    Column("Qty", "quantity", justify="right", priority=6),
    Column("Free", "free_copies", justify="right", priority=4),
    Column("Term", _term, priority=9),
    Column("PO", "purchase_order", priority=7),
    Column("Line", "po_line", justify="right", priority=8),
    Column("Status", "status", priority=1),
    Column("Partner", "partner", priority=10),
    Column("Owner", _owner, priority=5),
    Column("Parent", "parent_id", priority=11),
    Column("Created", "created_at", priority=12),
]

PARTNER_COLUMNS = [
    Column("Name", "name"),
    Column("Email", "email", priority=1),
    Column("Created", "created_at", priority=2),
]

CUSTOMER_COLUMNS = [
    Column("Customer ID", "customer_id"),
    Column("Name", "name", priority=1),
    Column("Partner", "partner", priority=3),
    Column("Emails", lambda r: ", ".join(r.get("emails") or []), priority=2),
    Column("Created", "created_at", priority=4),
]

EVENT_COLUMNS = [
    Column("At", "at", priority=1),
    Column("Actor", "actor", priority=4),
    Column("Action", "action"),
    Column("License ID", "license_id", priority=2),
    Column("Details", "details", priority=3, wrap=True),
]

ACTIVATION_COLUMNS = [
    Column("Install code", "install_code"),
    Column("Copies", "copies", justify="right", priority=1),
    Column("Mode", "mode", priority=5),
    Column("Activated", "activated_at", priority=4),
    Column("Maintenance expires", "maintenance_expires", priority=3),
    Column("Maintenance", "maintenance_status", priority=2),
]


SMARTSERVER_COLUMNS = [
    Column("Install code", "install_code"),
    Column("Name", "name", priority=5),
    Column("Capacity", "capacity", justify="right", priority=1),
    Column("Maintenance devices", "maintenance_devices", justify="right", priority=3),
    Column("Covered", "covered", priority=2),
    Column("Maintenance", "maintenance_status", priority=4),
]

#: A SmartServer's activations: which licenses it holds and what they are worth.
HELD_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type", priority=2),
    Column("Devices", "devices", justify="right", priority=3),
    Column("Copies", "copies", justify="right", priority=1),
    Column("Mode", "mode", priority=7),
    Column("Activated", "activated_at", priority=6),
    Column("Maintenance expires", "maintenance_expires", priority=5),
    Column("Maintenance", "maintenance_status", priority=4),
]

#: The lines of an activation request.
REQUEST_LINE_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Copies", "copies", justify="right"),
]

#: The lines of an activation response.
GRANTED_COLUMNS = [
    Column("License ID", "license_id"),
    Column("Type", "type", priority=2),
    Column("Devices", "devices", justify="right", priority=3),
    Column("Copies", "copies", justify="right", priority=1),
    Column("Term", _term, priority=6),
    Column("Maintenance expires", "maintenance_expires", priority=5),
    Column("Maintenance", "maintenance_status", priority=4),
]

KEY_COLUMNS = [
    Column("Key ID", "key_id"),
    Column("Active", "active", priority=1),
    Column("Created", "created_at", priority=3),
    Column("Public key", "public_key", priority=2),
]


def emit_license_page(app: Application, page: LicensePage, asked: Page) -> None:
    app.out.listing(page.items, columns=LICENSE_COLUMNS, empty="no licenses match")
    warn_more(app, page.next_after, asked, what="licenses")


def warn_more(app: Application, next_after: str | None, asked: Page, *, what: str) -> None:
    """A page cut short says so on stderr, with how to get the rest."""
    if next_after is not None:
        app.out.warn(
            f"showing the first {asked.limit} {what}; more exist. Use --all for everything, "
            f"or --after {next_after} for the next page"
        )


# --- options shared by several commands ---------------------------------------------
#
# A command decorated with `with_page` or `with_license_filter` gets the options added to
# its signature (Typer reads `__signature__`) and receives them built into the request
# model, `page: Page` or `filters: LicenseFilter`: declared once for every command.

_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def _options(
    replaced: str, options: dict[str, tuple[Any, Any]], build: Callable[..., Any]
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Replace parameter `replaced` with `options` (name → (annotation, default)), and
    pass `build(**their values)` in its place."""

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(func)
        kept = [
            p.replace(annotation=_evaluated(func, p.annotation))
            for p in signature.parameters.values()
            if p.name != replaced
        ]
        added = [
            inspect.Parameter(name, _KEYWORD, default=default, annotation=annotation)
            for name, (annotation, default) in options.items()
        ]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> None:
            values = {name: kwargs.pop(name) for name in options}
            func(*args, **{replaced: build(**values)}, **kwargs)

        command.__signature__ = signature.replace(parameters=kept + added)  # type: ignore[attr-defined]
        # Typer also reads the annotations: the replaced parameter's type (often a name
        # imported only for type checking) must not be among them.
        command.__annotations__ = {
            **{p.name: p.annotation for p in kept},
            **{name: annotation for name, (annotation, _) in options.items()},
        }
        return command

    return decorate


def _evaluated(func: Callable[..., None], annotation: Any) -> Any:
    """A postponed (string) annotation, evaluated as Typer needs it. One naming a type
    imported for type checking only is left as it is: another of these decorators is
    about to replace that parameter."""
    if isinstance(annotation, str):
        try:
            return eval(annotation, func.__globals__)  # our own source's annotations
        except NameError:
            return annotation
    return annotation


def _page(limit: int | None, all_: bool, after: str | None) -> Page:
    from licensectl.contract.requests import Page

    if all_:
        return Page(limit=None, after=after)
    return Page(after=after) if limit is None else Page(limit=limit, after=after)


def _license_filter(**values: Any) -> LicenseFilter:
    from licensectl.contract.requests import LicenseFilter

    return LicenseFilter(**{"type" if k == "type_" else k: v for k, v in values.items()})


with_page = _options(
    "page",
    {
        "limit": (
            Annotated[int | None, typer.Option("--limit", min=1, max=COUNT_MAX, help=doc("limit"))],
            None,
        ),
        "all_": (Annotated[bool, typer.Option("--all", help="Every row, no limit.")], False),
        "after": (
            Annotated[str | None, typer.Option("--after", metavar="ID", help=doc("after"))],
            None,
        ),
    },
    _page,
)

with_license_filter = _options(
    "filters",
    {
        "partner": (
            Annotated[str | None, typer.Option("--partner", "-p", help=doc("filter_partner"))],
            None,
        ),
        "customer": (
            Annotated[str | None, typer.Option("--customer", "-c", help=doc("filter_customer"))],
            None,
        ),
        "inventory": (
            Annotated[
                Inventory | None,
                typer.Option("--inventory", case_sensitive=False, help=doc("inventory")),
            ],
            None,
        ),
        "status": (
            Annotated[
                LicenseStatus | None,
                typer.Option("--status", case_sensitive=False, help=doc("status")),
            ],
            None,
        ),
        "type_": (
            Annotated[
                LicenseType | None,
                typer.Option("--type", case_sensitive=False, help=doc("filter_type")),
            ],
            None,
        ),
        "expiring_within": (
            Annotated[
                int | None,
                typer.Option(
                    "--expiring-within",
                    min=0,
                    metavar="DAYS",
                    help=doc("expiring_within") + " Beyond the calendar: all of it.",
                ),
            ],
            None,
        ),
    },
    _license_filter,
)
