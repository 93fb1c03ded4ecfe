"""Activations online and offline, and the SmartServer view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from licensectl.contract.models import ActivationPublic, SmartServerPublic
from licensectl.contract.requests import Activate
from licensectl.server.calls import read, write
from licensectl.server.deps import Backend
from licensectl.server.routes import READ_ERRORS, body_of, operation, raw_body

router = APIRouter(tags=["activation"])

if TYPE_CHECKING:
    ActivationBody = BaseModel
else:
    ActivationBody = body_of(Activate, "license_id")

#: What a signed activation response is sent as: its exact bytes.
RESPONSE_FILE = "application/json"


@operation(router, "activate", model=ActivationPublic)
async def activate(
    request: Request,
    backend: Backend,
    license_id: str,
    body: ActivationBody,
) -> Response:
    """The SmartServer holds `copies` of the license afterwards; 0 returns them all."""
    change = Activate(license_id=license_id, **body.model_dump(exclude_unset=True))
    return await write(request, backend, lambda: backend.activate(change))


@operation(
    router,
    "activate_offline",
    errors=(400, 401, 403, 404, 409, 413, 422, 503),
    openapi_extra=raw_body(
        "application/json",
        "application/octet-stream",
        description="An activation request file, as the SmartServer wrote it.",
    ),
    responses={200: {"content": {RESPONSE_FILE: {}}, "description": "The signed response file."}},
)
async def activate_offline(request: Request, backend: Backend) -> Response:
    """Answer an activation request file with the signed response file's bytes."""
    data = await request.body()
    return await write(
        request,
        backend,
        lambda: backend.activate_offline(data),
        encode=bytes,
        media_type=RESPONSE_FILE,
    )


@operation(router, "smartserver_show", model=SmartServerPublic, errors=READ_ERRORS)
async def smartserver_show(backend: Backend, install_code: str) -> Response:
    """A SmartServer's licenses, capacity and maintenance coverage."""
    return await read(lambda: backend.smartserver_show(install_code))
