"""Who is asking: the bearer token becomes a principal, and the principal a backend.

Every request is authenticated against the store (`authenticate`), so a revoked or
expired token is refused at once by every worker. `last_used_at` is written at most once
a minute per token and worker, after the answer, so reads stay reads.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from licensectl.contract.models import Principal
from licensectl.errors import LicensectlError
from licensectl.service import LocalBackend
from licensectl.service.tokens import ANONYMOUS, LAST_USED_EVERY, authenticate, token_used
from licensectl.store.engine import Store

log = logging.getLogger("licensectl.server")

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token (`lctl_…`): `licensectl token create`, or POST /v1/login/eid.",
)


class TouchMemo:
    """When this process last recorded each token's use (not whether it is valid)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at: dict[str, float] = {}

    def due(self, token_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._at.get(token_id, -1e9) < LAST_USED_EVERY.total_seconds():
                return False
            self._at[token_id] = now
            return True


def get_store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


def _touch(store: Store, token_id: str) -> None:
    try:
        token_used(store, token_id)
    except LicensectlError as exc:  # a busy store: the next minute will do
        log.info("could not record the use of token %s: %s", token_id, exc.kind)


def principal(
    request: Request,
    background: BackgroundTasks,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    store = get_store(request)
    who = authenticate(store, credentials.credentials if credentials else None)
    memo: TouchMemo = request.app.state.touch_memo
    if who.token_id is not None and memo.due(who.token_id):
        background.add_task(_touch, store, who.token_id)
    return who


def backend(request: Request, who: Annotated[Principal, Depends(principal)]) -> LocalBackend:
    return LocalBackend(get_store(request), principal=who)


def public_backend(request: Request) -> LocalBackend:
    """For the routes that need no token: a principal that reaches nothing."""
    return LocalBackend(get_store(request), principal=ANONYMOUS)


Backend = Annotated[LocalBackend, Depends(backend)]
PublicBackend = Annotated[LocalBackend, Depends(public_backend)]
