"""Licenses, their lineage, transfers and search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from licensectl.contract.fields import DEFAULT_LIMIT, doc
from licensectl.contract.models import (
    CustomerSearchPage,
    LicenseDetail,
    LicenseHistory,
    LicensePage,
    LicensePublic,
    TransferResult,
)
from licensectl.contract.requests import (
    LicenseAdd,
    LicenseFilter,
    LicenseNote,
    LicenseVoid,
    Page,
    Transfer,
    describe_invalid,
)
from licensectl.domain import Inventory, LicenseStatus, LicenseType
from licensectl.errors import UsageError
from licensectl.server.calls import read, write
from licensectl.server.deps import Backend
from licensectl.server.routes import READ_ERRORS, body_of, operation

router = APIRouter(tags=["licenses"])

if TYPE_CHECKING:
    TransferBody = BaseModel
    NoteBody = BaseModel
    VoidBody = BaseModel
else:
    TransferBody = body_of(Transfer, "license_id")
    NoteBody = body_of(LicenseNote, "license_id")
    VoidBody = body_of(LicenseVoid, "license_id")

Limit = Annotated[int, Query(description=doc("limit"))]
After = Annotated[str | None, Query(description=doc("after"))]


def license_filter(
    partner: Annotated[str | None, Query(description=doc("filter_partner"))] = None,
    customer: Annotated[str | None, Query(description=doc("filter_customer"))] = None,
    inventory: Annotated[Inventory | None, Query(description=doc("inventory"))] = None,
    status: Annotated[LicenseStatus | None, Query(description=doc("status"))] = None,
    type: Annotated[LicenseType | None, Query(description=doc("filter_type"))] = None,
    expiring_within: Annotated[int | None, Query(description=doc("expiring_within"))] = None,
) -> LicenseFilter:
    """The filters of `license list` and `export`, as query parameters."""
    given = {
        "partner": partner,
        "customer": customer,
        "inventory": inventory,
        "status": status,
        "type": type,
        "expiring_within": expiring_within,
    }
    try:
        return LicenseFilter.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise UsageError(describe_invalid(exc, LicenseFilter)) from None


Filters = Annotated[LicenseFilter, Depends(license_filter)]


@operation(router, "license_add", model=LicensePublic)
async def license_add(request: Request, backend: Backend, body: LicenseAdd) -> Response:
    """Add a purchased license to a partner's inventory (admin); answers its License ID."""
    return await write(request, backend, lambda: backend.license_add(body), status=201)


@operation(router, "license_list", model=LicensePage, errors=READ_ERRORS)
async def license_list(
    backend: Backend, filters: Filters, limit: Limit = DEFAULT_LIMIT, after: After = None
) -> Response:
    """Licenses the filters select, oldest first, a page at a time."""
    page = Page(limit=limit, after=after)
    return await read(lambda: backend.license_list(filters, page=page))


@operation(router, "license_show", model=LicenseDetail, errors=READ_ERRORS)
async def license_show(backend: Backend, license_id: str) -> Response:
    """A license with its activations and successors."""
    return await read(lambda: backend.license_show(license_id))


@operation(router, "license_history", model=LicenseHistory, errors=READ_ERRORS)
async def license_history(
    backend: Backend, license_id: str, limit: Limit = DEFAULT_LIMIT, after: After = None
) -> Response:
    """A license's ancestors, descendants and a page of its events (`events_next_after`
    names the next; `after` takes an event number)."""
    page = Page(limit=limit, after=after)
    return await read(lambda: backend.license_history(license_id, page=page))


@operation(router, "transfer", model=TransferResult)
async def transfer(
    request: Request,
    backend: Backend,
    license_id: str,
    body: TransferBody,
) -> Response:
    """Transfer a license (or some of its copies) to a customer; mints new License IDs."""
    change = Transfer(license_id=license_id, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.transfer(change))


@operation(router, "search_customers", model=CustomerSearchPage, errors=READ_ERRORS)
async def search_customers(
    backend: Backend,
    q: Annotated[str, Query(description="Text the customer's name contains (any case).")],
    limit: Limit = DEFAULT_LIMIT,
    after: After = None,
) -> Response:
    """Customers whose name contains `q`, each with its licenses."""
    page = Page(limit=limit, after=after)
    return await read(lambda: backend.search_customers(q, page=page))


@operation(router, "search_po", model=LicensePage, errors=READ_ERRORS)
async def search_po(
    backend: Backend,
    q: Annotated[str, Query(description="Purchase order prefix (or the whole, with exact).")],
    exact: Annotated[bool, Query(description="Match the whole purchase order.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    after: After = None,
) -> Response:
    """Licenses whose purchase order starts with (or equals) `q`, retired ones included."""
    page = Page(limit=limit, after=after)
    return await read(lambda: backend.search_po(q, exact=exact, page=page))


@operation(router, "license_note", model=LicensePublic)
async def license_note(
    request: Request, backend: Backend, license_id: str, body: NoteBody
) -> Response:
    """Set (or, with null or "", clear) a license's note."""
    change = LicenseNote(license_id=license_id, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.license_note(change))


@operation(router, "license_void", model=LicensePublic)
async def license_void(
    request: Request, backend: Backend, license_id: str, body: VoidBody
) -> Response:
    """Void a license never transferred or activated (admin); its PO line is free again."""
    change = LicenseVoid(license_id=license_id, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.license_void(change))
