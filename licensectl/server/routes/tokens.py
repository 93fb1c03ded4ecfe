"""Who am I, API tokens, and the customer login with a License ID (EID)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from licensectl.contract.models import Principal, TokenCreated, TokenPublic
from licensectl.contract.requests import EidLogin, TokenCreate
from licensectl.errors import AuthError, RateLimitedError
from licensectl.server.calls import json_bytes, read, write
from licensectl.server.deps import Backend, PublicBackend, principal
from licensectl.server.routes import READ_ERRORS, operation
from licensectl.server.settings import Settings
from licensectl.service.tokens import client_key, recent_login_failures, record_login_failure

router = APIRouter(tags=["tokens"])


@operation(router, "whoami", model=Principal, errors=(401, 503))
async def whoami(who: Annotated[Principal, Depends(principal)]) -> Response:
    """The principal this token acts as."""
    return Response(json_bytes(who), media_type="application/json")


@operation(router, "token_create", model=TokenCreated)
async def token_create(request: Request, backend: Backend, body: TokenCreate) -> Response:
    """A new API token (admin). Its secret is in this answer and nowhere else, ever."""
    return await write(request, backend, lambda: backend.token_create(body), status=201)


@operation(router, "token_list", model=list[TokenPublic], errors=READ_ERRORS)
async def token_list(backend: Backend) -> Response:
    """Every API token (admin), never a secret."""
    return await read(backend.token_list)


@operation(router, "token_revoke", model=TokenPublic)
async def token_revoke(request: Request, backend: Backend, token_id: str) -> Response:
    """Revoke a token: an admin any, any token itself (logout). Refused from then on."""
    return await write(request, backend, lambda: backend.token_revoke(token_id))


@operation(router, "login_eid", model=TokenCreated, errors=(400, 401, 409, 413, 429, 503))
async def login_eid(request: Request, backend: PublicBackend, body: EidLogin) -> Response:
    """A customer token for the account holding this License ID (the EID login).

    Failed attempts are counted per client address, across every worker (the store
    keeps them); past the limit, 429 until the window has passed.
    """
    settings: Settings = request.app.state.settings
    window = timedelta(seconds=settings.login_window)
    client = client_key(request.client.host if request.client else "unknown")
    store = backend.store
    failures = await run_in_threadpool(lambda: recent_login_failures(store, client, window=window))
    if failures >= settings.login_failures:
        raise RateLimitedError(
            f"too many failed logins from this address: try again in "
            f"{settings.login_window} seconds",
            retry_after=math.ceil(window.total_seconds()),
        )
    try:
        return await write(request, backend, lambda: backend.login_eid(body))
    except AuthError:
        await run_in_threadpool(lambda: record_login_failure(store, client, window=window))
        raise
