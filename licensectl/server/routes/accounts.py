"""Partners, customers and their email contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from licensectl.contract.fields import DEFAULT_LIMIT, doc
from licensectl.contract.models import CustomerPage, CustomerPublic, CustomerShow, PartnerPublic
from licensectl.contract.requests import (
    CustomerAdd,
    CustomerEmail,
    CustomerNote,
    CustomerRemove,
    CustomerRename,
    Page,
    PartnerAdd,
    PartnerRename,
)
from licensectl.server.calls import read, write
from licensectl.server.deps import Backend
from licensectl.server.routes import READ_ERRORS, body_of, operation

router = APIRouter(tags=["accounts"])

if TYPE_CHECKING:
    EmailBody = BaseModel
    PartnerRenameBody = BaseModel
    CustomerRenameBody = BaseModel
    CustomerNoteBody = BaseModel
    CustomerRemoveBody = BaseModel
else:
    EmailBody = body_of(CustomerEmail, "customer")
    PartnerRenameBody = body_of(PartnerRename, "partner")
    CustomerRenameBody = body_of(CustomerRename, "customer")
    CustomerNoteBody = body_of(CustomerNote, "customer")
    CustomerRemoveBody = body_of(CustomerRemove, "customer")

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


@operation(router, "customer_show", model=CustomerShow, errors=READ_ERRORS)
async def customer_show(
    backend: Backend,
    customer: str,
    partner: Partner = None,
    limit: Limit = DEFAULT_LIMIT,
    after: After = None,
) -> Response:
    """A customer by Customer ID (or name), with a page of its licenses
    (`licenses_next_after` names the next)."""
    page = Page(limit=limit, after=after)
    return await read(lambda: backend.customer_show(customer, partner=partner, page=page))


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


@operation(router, "partner_rename", model=PartnerPublic)
async def partner_rename(
    request: Request, backend: Backend, partner: str, body: PartnerRenameBody
) -> Response:
    """Rename a partner (admin); the event names the old and new name."""
    change = PartnerRename(partner=partner, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.partner_rename(change))


@operation(router, "customer_rename", model=CustomerPublic)
async def customer_rename(
    request: Request, backend: Backend, customer: str, body: CustomerRenameBody
) -> Response:
    """Rename a customer account; its Customer ID stays."""
    change = CustomerRename(customer=customer, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.customer_rename(change))


@operation(router, "customer_note", model=CustomerPublic)
async def customer_note(
    request: Request, backend: Backend, customer: str, body: CustomerNoteBody
) -> Response:
    """Set (or, with null or "", clear) a customer account's note."""
    change = CustomerNote(customer=customer, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.customer_note(change))


@operation(router, "customer_remove", model=CustomerPublic)
async def customer_remove(
    request: Request, backend: Backend, customer: str, body: CustomerRemoveBody
) -> Response:
    """Remove an account that never held a license (409 otherwise); answers it as it was."""
    change = CustomerRemove(customer=customer, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.customer_remove(change))
