"""The portal's signing keys, the store's check, and the server's health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from licensectl.contract.models import KeyPublic, StoreCheckReport, StoreSchema
from licensectl.errors import LicensectlError
from licensectl.server.calls import json_bytes, read, write
from licensectl.server.deps import Backend, PublicBackend, get_store
from licensectl.server.errors import error_response, error_responses
from licensectl.server.ready import require_current_schema
from licensectl.server.routes import READ_ERRORS, operation

router = APIRouter(tags=["portal"])


@operation(router, "keys_list", model=list[KeyPublic], errors=(503,))
async def keys_list(backend: PublicBackend) -> Response:
    """The portal's public keys, the active one marked: what devices verify with.

    Needs no token.
    """
    return await read(backend.keys_list)


@operation(router, "keys_rotate", model=KeyPublic)
async def keys_rotate(request: Request, backend: Backend) -> Response:
    """A new active signing key (admin); older keys keep verifying what they signed."""
    return await write(request, backend, backend.keys_rotate)


@operation(router, "db_check", model=StoreCheckReport, errors=READ_ERRORS)
async def db_check(backend: Backend) -> Response:
    """Check the store's every invariant (admin). `ok` says whether all passed."""
    return await read(backend.db_check)


@router.get("/healthz", tags=["health"], responses={200: {"description": "Alive."}})
async def healthz() -> dict[str, str]:
    """The process is alive (nothing else is checked)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["health"],
    response_model=StoreSchema,
    responses=error_responses(503),
)
async def readyz(request: Request) -> Response:
    """The store answers and its schema is the one this server needs."""
    store = get_store(request)
    try:
        schema = await run_in_threadpool(require_current_schema, store)
    except LicensectlError as exc:
        return error_response(exc, store_url=store.url)
    return Response(json_bytes(schema), media_type="application/json")
