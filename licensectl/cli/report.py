"""`licensectl report …`: what Customer Success asks every week, as charts and tables.

On a terminal each report is led by a bar chart (cli/charts.py) and followed by its
table; `-o csv/json/jsonl` gives the rows; `--html FILE` writes one self-contained page
with the charts as inline SVG (licensectl/report_html.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import Application, get_app, given
from licensectl.cli.output import Column, to_data
from licensectl.contract.fields import doc
from licensectl.domain import COUNT_MAX

if TYPE_CHECKING:
    from licensectl.report_html import Section

app = typer.Typer(
    help="Reports: renewals, coverage, inventory and activity, as charts and tables.",
    no_args_is_help=True,
)

PartnerOpt = Annotated[str | None, typer.Option("--partner", "-p", help=doc("report_partner"))]
HtmlOpt = Annotated[
    Path | None,
    typer.Option(
        "--html",
        metavar="FILE",
        help="Also write the report as one self-contained HTML page (charts as SVG).",
        dir_okay=False,
    ),
]


def _day(value: Any) -> str:
    return str(value)[:10] if value else ""


RENEWAL_COLUMNS = [
    Column("Month", "month"),
    Column("Customer", "customer", priority=2),
    Column("Install code", "install_code"),
    Column("SmartServer", "smartserver", priority=3),
    Column("Devices", "devices", justify="right"),
    Column("First expiry", lambda r: _day(r.get("first_expiry")), priority=1),
]
COVERAGE_COLUMNS = [
    Column("Install code", "install_code"),
    Column("SmartServer", "smartserver", priority=2),
    Column("Customer", "customer", priority=1),
    Column("Capacity", "capacity", justify="right", priority=3),
    Column("Maintenance", "maintenance_devices", justify="right", priority=4),
    Column("Shortfall", "shortfall", justify="right"),
]
INVENTORY_COLUMNS = [
    Column("Group", "group"),
    Column("Licenses", "licenses", justify="right"),
    Column("Copies", "copies", justify="right"),
    Column("Free", "free", justify="right"),
    Column("Activated", "activated", justify="right"),
    Column("Retired", "retired", justify="right", priority=1),
    Column("Void", "void", justify="right", priority=2),
]
ACTIVITY_COLUMNS = [
    Column("Day", "day"),
    Column("Actor", "actor"),
    Column("Action", "action"),
    Column("Count", "count", justify="right"),
]


def _emit(
    application: Application,
    *,
    title: str,
    chart_title: str,
    bars: Sequence[tuple[str, int]],
    rows: Sequence[Any],
    columns: Sequence[Column],
    html: Path | None,
    empty: str,
    notes: Sequence[str] = (),
) -> None:
    """The chart and table (or the rows in a data format), and the HTML page if asked."""
    out = application.out
    data = [to_data(r) for r in rows]
    if html is not None:
        _write_html(html, title, chart_title, bars, data, columns, notes)
    if out.format == "table":
        out.chart(chart_title, bars)
        for note in notes:
            out.status(note)
    out.listing(data, columns=columns, title=title, empty=empty)
    if html is not None:
        out.status(f"wrote {html}")


def _write_html(
    path: Path,
    title: str,
    chart_title: str,
    bars: Sequence[tuple[str, int]],
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    notes: Sequence[str],
) -> None:
    from licensectl.fileio import write_output
    from licensectl.report_html import Section, page

    keyed = [(c.header, c.key) for c in columns if isinstance(c.key, str)]
    for c in columns:  # computed columns: their values under their header
        if not isinstance(c.key, str):
            keyed.append((c.header, c.header))
            for row in rows:
                row[c.header] = c.value(row)
    section: Section = Section(
        heading=title,
        columns=keyed,
        rows=rows,
        chart=bars,
        chart_title=chart_title,
        notes=list(notes),
    )
    stamp = f"licensectl, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    write_output(path, page(title, [section], generated=stamp).encode(), what="report")


@app.command("renewals")
def renewals(
    ctx: typer.Context,
    within: Annotated[
        int | None,
        typer.Option("--within", metavar="DAYS", min=1, max=3660, help=doc("within_days")),
    ] = None,
    partner: PartnerOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Maintenance expiring soon, by month, customer and SmartServer."""
    from licensectl.contract.requests import RenewalsQuery

    application = get_app(ctx)
    report = application.backend().report_renewals(
        RenewalsQuery(**given(within_days=within, partner=partner))
    )
    _emit(
        application,
        title=f"Maintenance renewals within {report.within_days} days",
        chart_title="Maintenance devices expiring, by month",
        bars=[(b.label, b.value) for b in report.months],
        rows=report.rows,
        columns=RENEWAL_COLUMNS,
        html=html,
        empty="no maintenance expires in that window",
    )


@app.command("coverage")
def coverage(ctx: typer.Context, partner: PartnerOpt = None, html: HtmlOpt = None) -> None:
    """SmartServers whose unexpired maintenance covers less than their capacity, worst first."""
    from licensectl.contract.requests import CoverageQuery

    application = get_app(ctx)
    report = application.backend().report_coverage(CoverageQuery(**given(partner=partner)))
    top = report.rows[:20]
    _emit(
        application,
        title="SmartServers running uncovered",
        chart_title="Shortfall in devices, worst first"
        + (f" (the first 20 of {len(report.rows)})" if len(report.rows) > 20 else ""),
        bars=[(r.smartserver or r.install_code, r.shortfall) for r in top],
        rows=report.rows,
        columns=COVERAGE_COLUMNS,
        html=html,
        empty="every SmartServer's maintenance covers its capacity",
    )


@app.command("inventory")
def inventory(
    ctx: typer.Context,
    partner: PartnerOpt = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="customer|po|type", help=doc("inventory_by")),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, max=COUNT_MAX, help=doc("groups_limit")),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help=doc("all_groups"))] = False,
    html: HtmlOpt = None,
) -> None:
    """Licenses and copies in force, free, activated, retired and void, with totals.

    Shows the first 100 groups (--limit N, or --all for every one); the total always
    counts every license."""
    from licensectl.contract.requests import InventoryQuery

    application = get_app(ctx)
    from pydantic import ValidationError

    from licensectl.contract.requests import describe_invalid
    from licensectl.errors import UsageError

    try:
        query = InventoryQuery.model_validate(
            given(partner=partner, by=by and by.strip().lower(), limit=limit, all=all_ or None)
        )
    except ValidationError as exc:
        raise UsageError(describe_invalid(exc, InventoryQuery), field="by") from None
    report = application.backend().report_inventory(query)
    if report.more:
        application.out.warn(
            f"showing the first {query.limit} groups of {report.by}; more exist (the total "
            "counts them all). Use --all for every group, or --limit N"
        )
    _emit(
        application,
        title=f"Inventory by {report.by}",
        chart_title="Copies in force, by " + report.by,
        bars=[(r.group, r.copies) for r in report.rows[:30]],
        rows=[*report.rows, report.total],
        columns=INVENTORY_COLUMNS,
        html=html,
        empty="no licenses",
    )


@app.command("activity")
def activity(
    ctx: typer.Context,
    since: Annotated[
        datetime | None,
        typer.Option("--since", metavar="DATE", formats=["%Y-%m-%d"], help=doc("since")),
    ] = None,
    html: HtmlOpt = None,
) -> None:
    """What happened, from the event log: events by day, actor and action."""
    from licensectl.contract.requests import ActivityQuery

    application = get_app(ctx)
    report = application.backend().report_activity(
        ActivityQuery(**given(since=since.date() if since else None))
    )
    _emit(
        application,
        title=f"Activity since {report.since}",
        chart_title="Events a day",
        bars=[(b.label, b.value) for b in report.days],
        rows=report.rows,
        columns=ACTIVITY_COLUMNS,
        html=html,
        empty="nothing happened in that time",
    )
