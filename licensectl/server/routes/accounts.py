"""Partners, customers and their email contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from licensectl.contract.fields import DEFAULT_LIMIT, doc
from licensectl.contract.models import CustomerDetail, CustomerPage, CustomerPublic, PartnerPublic
from licensectl.contract.requests import CustomerAdd, CustomerEmail, Page, PartnerAdd
from licensectl.server.calls import read, write
from licensectl.server.deps import Backend
from licensectl.server.routes import READ_ERRORS, body_of, operation

router = APIRouter(tags=["accounts"])

if TYPE_CHECKING:
    EmailBody = BaseModel
else:
    EmailBody = body_of(CustomerEmail, "customer")

Partner = Annotated[str | None, Query(description=doc("partner"))]
Limit = Annotated[int, Query(description=doc("limit"))]
After = Annotated[str | None, Query(description=doc("after"))]


@operation(router, "partner_add", model=PartnerPublic)
async def partner_add(request: Request, backend: Backend, body: PartnerAdd) -> Response:
    """Add a partner (admin)."""
    return await write(request, backend, lambda: backend.partner_add(body), status=201)


@operation(router, "partner_list", model=list[PartnerPublic], errors=READ_ERRORS)
async def partner_list(backend: Backend) -> Response:
    """The partners the token may see."""
    return await read(backend.partner_list)


@operation(router, "customer_add", model=CustomerPublic)
async def customer_add(request: Request, backend: Backend, body: CustomerAdd) -> Response:
    """Add a customer/project account; answers it with its new Customer ID."""
    return await write(request, backend, lambda: backend.customer_add(body), status=201)


@operation(router, "customer_list", model=CustomerPage, errors=READ_ERRORS)
async def customer_list(
    backend: Backend, partner: Partner = None, limit: Limit = DEFAULT_LIMIT, after: After = None
) -> Response:
    """Customer accounts, oldest first, a page at a time (`next_after` names the next)."""
    page = Page(limit=limit, after=after)
    return await read(lambda: backend.customer_list(partner=partner, page=page))


@operation(router, "customer_show", model=CustomerDetail, errors=READ_ERRORS)
async def customer_show(backend: Backend, customer: str, partner: Partner = None) -> Response:
    """A customer by Customer ID (or name), with its licenses."""
    return await read(lambda: backend.customer_show(customer, partner=partner))


@operation(router, "customer_email_add", model=CustomerPublic)
async def customer_email_add(
    request: Request,
    backend: Backend,
    customer: str,
    body: EmailBody,
) -> Response:
    """Add an email contact (usable as a customer login)."""
    change = CustomerEmail(customer=customer, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.customer_email_add(change))


@operation(router, "customer_email_remove", model=CustomerPublic)
async def customer_email_remove(
    request: Request,
    backend: Backend,
    customer: str,
    body: EmailBody,
) -> Response:
    """Remove an email contact."""
    change = CustomerEmail(customer=customer, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.customer_email_remove(change))
