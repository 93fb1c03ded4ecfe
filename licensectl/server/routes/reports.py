"""Reports: SQL aggregates within the token's scope, their query fields as parameters."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from licensectl.contract.base import Request
from licensectl.contract.fields import doc
from licensectl.contract.models import (
    ActivityReport,
    Completions,
    CoverageReport,
    InventoryReport,
    RenewalsReport,
)
from licensectl.contract.requests import (
    ActivityQuery,
    CompleteQuery,
    CoverageQuery,
    InventoryBy,
    InventoryQuery,
    RenewalsQuery,
    describe_invalid,
)
from licensectl.errors import UsageError
from licensectl.server.calls import read
from licensectl.server.deps import Backend
from licensectl.server.routes import READ_ERRORS, operation

router = APIRouter(tags=["reports"])

Partner = Annotated[str | None, Query(description=doc("report_partner"))]


def _query(model: type[Request], **given: Any) -> Any:
    try:
        return model.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise UsageError(describe_invalid(exc, model)) from None


@operation(router, "report_renewals", model=RenewalsReport, errors=READ_ERRORS)
async def report_renewals(
    backend: Backend,
    within_days: Annotated[int | None, Query(description=doc("within_days"))] = None,
    partner: Partner = None,
) -> Response:
    """Maintenance expiring in the window, by month, customer and SmartServer."""
    query = _query(RenewalsQuery, within_days=within_days, partner=partner)
    return await read(lambda: backend.report_renewals(query))


@operation(router, "report_coverage", model=CoverageReport, errors=READ_ERRORS)
async def report_coverage(backend: Backend, partner: Partner = None) -> Response:
    """SmartServers whose unexpired maintenance covers less than their capacity, worst first."""
    query = _query(CoverageQuery, partner=partner)
    return await read(lambda: backend.report_coverage(query))


@operation(router, "report_inventory", model=InventoryReport, errors=READ_ERRORS)
async def report_inventory(
    backend: Backend,
    partner: Partner = None,
    by: Annotated[InventoryBy | None, Query(description=doc("inventory_by"))] = None,
    limit: Annotated[int | None, Query(description=doc("groups_limit"))] = None,
    all: Annotated[bool | None, Query(description=doc("all_groups"))] = None,
) -> Response:
    """Licenses and copies in force, free, activated, retired and void, by group, with totals
    (the first `limit` groups unless `all`; `more` says whether there are others)."""
    query = _query(InventoryQuery, partner=partner, by=by, limit=limit, all=all)
    return await read(lambda: backend.report_inventory(query))


@operation(router, "report_activity", model=ActivityReport, errors=READ_ERRORS)
async def report_activity(
    backend: Backend,
    since: Annotated[date | None, Query(description=doc("since"))] = None,
) -> Response:
    """Events by day, actor and action since a day."""
    query = _query(ActivityQuery, since=since)
    return await read(lambda: backend.report_activity(query))


@operation(router, "complete", model=Completions, errors=READ_ERRORS)
async def complete(
    backend: Backend,
    kind: Annotated[str, Query(description=doc("complete_kind"))],
    prefix: Annotated[str, Query(description=doc("complete_prefix"))] = "",
) -> Response:
    """Shell completion: License IDs (available first), customers or partners starting with
    `prefix`, within the token's scope; at most 50."""
    query = _query(CompleteQuery, kind=kind, prefix=prefix)
    return await read(lambda: backend.complete(query))
