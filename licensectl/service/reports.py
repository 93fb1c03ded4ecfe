"""Reports Customer Success asks for every week, each a few SQL aggregates.

Every figure is computed by the database (GROUP BY, conditional sums), never by looping
over rows in Python, so a report takes about as long on a million licenses as the
aggregate query; only the few resulting groups come back. Everything is within the
principal's scope, like every other read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from licensectl.contract.models import (
    ActivityReport,
    ActivityRow,
    ChartBar,
    CoverageReport,
    CoverageRow,
    InventoryReport,
    InventoryRow,
    RenewalRow,
    RenewalsReport,
)
from licensectl.domain import LicenseStatus, LicenseType, utcnow
from licensectl.errors import UsageError
from licensectl.models import Activation, Customer, Event, EventDay, License, SmartServer
from licensectl.service.lookup import Lookups, scoped_licenses

if TYPE_CHECKING:
    from licensectl.contract.requests import (
        ActivityQuery,
        CoverageQuery,
        InventoryQuery,
        RenewalsQuery,
    )

#: Days a report window may span (ten years), so a chart stays a chart.
WINDOW_MAX = 3660
ACTIVITY_DAYS = 30


def _when(s: Session, column: Any, fmt: str) -> Any:
    """A timestamp as text, `month` (YYYY-MM) or `day` (YYYY-MM-DD), in SQL."""
    if s.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM" if fmt == "month" else "YYYY-MM-DD")
    # SQLite keeps times as `YYYY-MM-DD HH:MM:SS.ffffff` text (db check holds it to
    # that): the prefix is the month or day, and a quarter cheaper than strftime.
    return func.substr(column, 1, 7 if fmt == "month" else 10)


def _months(start: datetime, end: datetime) -> list[str]:
    months, (y, m) = [], (start.year, start.month)
    while (y, m) <= (end.year, end.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


class ReportOps(Lookups):
    def _report_scope(self, s: Session, stmt: Any, partner: str | None) -> Any:
        stmt = scoped_licenses(stmt, self._scope_of(s))
        if partner is not None:
            stmt = stmt.where(License.partner_id == self._partner(s, partner).id)
        return stmt

    def report_renewals(self, query: RenewalsQuery) -> RenewalsReport:
        if not 1 <= query.within_days <= WINDOW_MAX:
            raise UsageError(f"within must be 1 to {WINDOW_MAX} days", field="within_days")
        now = utcnow()
        horizon = now + timedelta(days=query.within_days)
        with self._read() as s:
            expires = col(Activation.maintenance_expires)
            month = _when(s, expires, "month")
            devices = func.sum(License.devices * Activation.copies)
            first = func.min(expires)
            base = (
                select(Activation)
                .join(License, col(License.seq) == Activation.license_seq)
                .where(Activation.copies > 0, expires > now, expires <= horizon)
            )
            base = self._report_scope(s, base, query.partner)
            grouped = (
                base.join(SmartServer, col(SmartServer.id) == Activation.smartserver_id)
                .outerjoin(Customer, col(Customer.id) == License.customer_pk)
                .with_only_columns(
                    month,
                    Customer.customer_id,
                    Customer.name,
                    SmartServer.install_code,
                    SmartServer.name,
                    devices,
                    first,
                )
                .group_by(
                    month,
                    Customer.customer_id,
                    Customer.name,
                    SmartServer.install_code,
                    SmartServer.name,
                )
                .order_by(month, first, SmartServer.install_code)
            )
            rows = [
                RenewalRow(
                    month=m,
                    customer_id=cid,
                    customer=cname,
                    install_code=code,
                    smartserver=sname,
                    devices=int(d or 0),
                    first_expiry=f,
                )
                for m, cid, cname, code, sname, d, f in s.execute(grouped)
            ]
            by_month = dict(s.execute(base.with_only_columns(month, devices).group_by(month)).all())
        return RenewalsReport(
            within_days=query.within_days,
            months=[
                ChartBar(label=m, value=int(by_month.get(m) or 0)) for m in _months(now, horizon)
            ],
            rows=rows,
        )

    def report_coverage(self, query: CoverageQuery) -> CoverageReport:
        now = utcnow()
        held = License.devices * Activation.copies
        capacity = func.sum(case((col(License.type) == LicenseType.CAPACITY, held), else_=0))
        unexpired = and_(
            col(License.type) == LicenseType.MAINTENANCE, col(Activation.maintenance_expires) > now
        )
        maintenance = func.sum(case((unexpired, held), else_=0))
        with self._read() as s:
            stmt = (
                sql_select(
                    col(SmartServer.install_code),
                    col(SmartServer.name),
                    func.max(col(Customer.name)),
                    capacity,
                    maintenance,
                )
                .select_from(Activation)
                .join(License, col(License.seq) == Activation.license_seq)
                .join(SmartServer, col(SmartServer.id) == Activation.smartserver_id)
                .outerjoin(Customer, col(Customer.id) == License.customer_pk)
                .where(col(Activation.copies) > 0)
            )
            stmt = (
                self._report_scope(s, stmt, query.partner)
                .group_by(SmartServer.id, SmartServer.install_code, SmartServer.name)
                .having(maintenance < capacity)
                .order_by((capacity - maintenance).desc(), SmartServer.install_code)
            )
            rows = [
                CoverageRow(
                    install_code=code,
                    smartserver=name,
                    customer=customer,
                    capacity=int(cap),
                    maintenance_devices=int(maint),
                    shortfall=int(cap) - int(maint),
                )
                for code, name, customer, cap, maint in s.execute(stmt)
            ]
        return CoverageReport(rows=rows)

    def report_inventory(self, query: InventoryQuery) -> InventoryReport:
        """Groups in their key's order (type, customer account, purchase order), the first
        `limit` of them unless `all`; the total always counts every license in scope.

        One pass over ix_license_inventory (it covers every figure, so no table row is
        read) counts licenses, copies and active copies per customer key, type and status,
        in the index's own order: plain counts, no sort. The figures and the groups by type
        or customer come from those few tens of thousands of rows, and so does the total.
        By purchase order the groups come from the PO index, which stops after `limit`."""
        if not query.all and query.limit < 1:
            raise UsageError("limit must be at least 1", field="limit")
        limit = None if query.all else query.limit
        with self._read() as s:
            base = self._report_scope(s, select(License), query.partner)
            counted = (
                base.with_only_columns(
                    col(License.customer_pk).label("pk"),
                    col(License.type).label("kind"),
                    col(License.status).label("status"),
                    func.count().label("n"),
                    func.sum(License.quantity).label("copies"),
                    func.sum(License.active_copies).label("active"),
                )
                .group_by(License.customer_pk, License.type, License.status)
                .subquery()
            )
            figures = _figures(counted)
            grouped: Any
            if query.by == "type":
                grouped = (
                    sql_select(counted.c.kind, *figures)
                    .group_by(counted.c.kind)
                    .order_by(counted.c.kind)
                )
            elif query.by == "customer":
                # Partner inventory ("My Inventory", no customer key) first on both engines.
                pg = s.get_bind().dialect.name == "postgresql"
                grouped = (
                    sql_select(func.coalesce(Customer.name, literal("My Inventory")), *figures)
                    .select_from(counted)
                    .outerjoin(Customer, col(Customer.id) == counted.c.pk)
                    .group_by(counted.c.pk, Customer.name)
                    .order_by(counted.c.pk.nulls_first() if pg else counted.c.pk)
                )
            else:
                live = col(License.status).in_([LicenseStatus.AVAILABLE, LicenseStatus.ACTIVATED])

                def count_if(condition: Any, value: Any = 1) -> Any:
                    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

                grouped = (
                    base.with_only_columns(
                        func.min(License.purchase_order),
                        count_if(live),
                        count_if(live, License.quantity),
                        count_if(live, License.quantity - License.active_copies),
                        count_if(live, License.active_copies),
                        count_if(License.status == LicenseStatus.TRANSFERRED),
                        count_if(License.status == LicenseStatus.VOID),
                    )
                    .group_by(License.po_key)
                    .order_by(License.po_key)
                )
                if limit is not None:
                    grouped = grouped.limit(limit + 1)
            groups = s.execute(grouped).all()
            more = limit is not None and len(groups) > limit
            if query.by == "po" and more:
                # Not every group was counted: the total from the one pass instead.
                total = list(s.execute(sql_select(*figures)).one())
            else:
                # The totals from the groups just counted, not a second pass.
                total = [sum(int(g[i] or 0) for g in groups) for i in range(1, 7)]
        shown = groups[:limit] if limit is not None else groups
        return InventoryReport(
            by=query.by,
            rows=[_inventory_row(str(getattr(g, "value", g)), f) for g, *f in shown],
            total=_inventory_row("total", total),
            more=more,
        )

    def report_activity(self, query: ActivityQuery) -> ActivityReport:
        today = utcnow().date()
        since = query.since or (today - timedelta(days=ACTIVITY_DAYS))
        if since > today:
            raise UsageError("since must not be in the future", field="since")
        if (today - since).days > WINDOW_MAX:
            raise UsageError(f"since must be within {WINDOW_MAX} days", field="since")
        start = datetime(since.year, since.month, since.day, tzinfo=UTC)
        with self._read() as s:
            scope = self._scope_of(s)
            grouped: Any
            if scope.customer_pk is None:
                # The day counts the writers keep (models.EventDay): a few rows a day,
                # however many events there were.
                counts = select(EventDay).where(col(EventDay.day) >= since.isoformat())
                if scope.partner_id is not None:
                    counts = counts.where(EventDay.partner_id == scope.partner_id)
                grouped = (
                    counts.with_only_columns(
                        col(EventDay.day),
                        col(EventDay.actor),
                        col(EventDay.action),
                        func.sum(EventDay.count),
                    )
                    .group_by(EventDay.day, EventDay.actor, EventDay.action)
                    .order_by(EventDay.day, EventDay.actor, EventDay.action)
                )
            else:
                # A customer's own events (not counted apart): few, found by their index.
                own = s.get(Customer, scope.customer_pk)
                assert own is not None
                day = _when(s, Event.at, "day")
                grouped = (
                    select(Event)
                    .where(
                        col(Event.at) >= start,
                        Event.customer_id == own.customer_id,
                        Event.partner_id == scope.partner_id,
                    )
                    .with_only_columns(day, col(Event.actor), col(Event.action), func.count())
                    .group_by(day, Event.actor, Event.action)
                    .order_by(day, Event.actor, Event.action)
                )
            rows = [
                ActivityRow(day=d, actor=a, action=x, count=int(n))
                for d, a, x, n in s.execute(grouped)
            ]
        # The day totals from the groups just counted (a few per day), not a second scan.
        per_day: dict[str, int] = {}
        for row in rows:
            per_day[row.day] = per_day.get(row.day, 0) + row.count
        days = [since + timedelta(days=n) for n in range((today - since).days + 1)]
        return ActivityReport(
            since=since.isoformat(),
            days=[
                ChartBar(label=d.isoformat(), value=int(per_day.get(d.isoformat(), 0)))
                for d in days
            ],
            rows=rows,
        )


def _figures(counted: Any) -> tuple[Any, ...]:
    """Licenses, copies, free, activated copies (in force: available or activated),
    retired and void, added up from counts per status (`n`, `copies`, `active`)."""
    live = counted.c.status.in_([LicenseStatus.AVAILABLE, LicenseStatus.ACTIVATED])

    def total_if(condition: Any, value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    return (
        total_if(live, counted.c.n),
        total_if(live, counted.c.copies),
        total_if(live, counted.c.copies - counted.c.active),
        total_if(live, counted.c.active),
        total_if(counted.c.status == LicenseStatus.TRANSFERRED, counted.c.n),
        total_if(counted.c.status == LicenseStatus.VOID, counted.c.n),
    )


def _inventory_row(group: str, figures: Any) -> InventoryRow:
    licenses, copies, free, activated, retired, void = (int(x or 0) for x in figures)
    return InventoryRow(
        group=group,
        licenses=licenses,
        copies=copies,
        free=free,
        activated=activated,
        retired=retired,
        void=void,
    )


__all__ = ["ReportOps"]
