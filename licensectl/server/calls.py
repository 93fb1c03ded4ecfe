"""Running a service call for a route: in the threadpool, as JSON, and retry-safe.

With an `Idempotency-Key`, the call and the record of its answer are one transaction
(licensectl.service.idempotency): a retry finds the whole answer, or finds that nothing
happened and runs. A refused call (a conflict, not found) is an answer too and is kept;
a 5xx is not, so a retry runs again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, TextIO

import anyio.to_thread
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from licensectl.errors import LicensectlError
from licensectl.server import idempotency, streams
from licensectl.server.errors import error_response
from licensectl.service import LocalBackend
from licensectl.service import idempotency as records

JSON: Final = "application/json"


def json_bytes(result: Any) -> bytes:
    """A result model, or a list of them, as the JSON the contract documents."""
    if isinstance(result, BaseModel):
        return result.model_dump_json().encode()
    if isinstance(result, list):
        return json.dumps(
            [r.model_dump(mode="json") for r in result], ensure_ascii=False, separators=(",", ":")
        ).encode()
    raise TypeError(f"not a result: {type(result).__name__}")


def key_scope(backend: LocalBackend) -> str:
    """Whose keys a request's key is among: its token's, or the public routes'."""
    token_id = backend.principal.token_id
    return f"token:{token_id}" if token_id else "public"


async def read(call: Callable[[], Any]) -> Response:
    """A read: the call in the threadpool, its result as JSON."""
    return Response(json_bytes(await run_in_threadpool(call)), media_type=JSON)


class _Replay(Exception):
    def __init__(self, found: records.Recorded) -> None:
        super().__init__("replay")
        self.found = found


class _NotKept(Exception):
    def __init__(self, error: LicensectlError) -> None:
        super().__init__("not kept")
        self.error = error


async def write(
    request: Request,
    backend: LocalBackend,
    call: Callable[[], Any],
    *,
    status: int = 200,
    encode: Callable[[Any], bytes] = json_bytes,
    media_type: str = JSON,
) -> Response:
    """A write: the call in the threadpool, answered once per Idempotency-Key.

    Returns the answer, or raises the call's error (answered by the error handlers).
    """
    key = idempotency.key_of(request, key_scope(backend))
    if key is None:
        return Response(encode(await run_in_threadpool(call)), status, media_type=media_type)
    digest = idempotency.request_digest(request)
    digest.update(await request.body())
    fingerprint = digest.hexdigest()
    store_url = backend.store.url

    def once() -> Response:
        with records.transaction(backend) as session:
            found = records.claim(session, key.hash)
            if found is not None:
                raise _Replay(found)
            try:
                answer = Response(encode(call()), status, media_type=media_type)
            except LicensectlError as exc:
                answer = error_response(exc, store_url=store_url)
                if not idempotency.kept(answer.status_code):
                    raise _NotKept(exc) from None
            records.record(
                session,
                key.hash,
                fingerprint=fingerprint,
                status=answer.status_code,
                media_type=answer.media_type or JSON,
                body=key.seal(bytes(answer.body)),
            )
            return answer

    try:
        return await run_in_threadpool(once)
    except _Replay as replay:
        return idempotency.replay(replay.found, key, fingerprint)
    except _NotKept as not_kept:
        raise not_kept.error from None


async def upload(
    request: Request, backend: LocalBackend, call: Callable[[TextIO], Any]
) -> Response:
    """A write that reads the body as it streams (an import): `call(lines)` in a worker
    thread, answered once per Idempotency-Key like `write`.

    The body is hashed as it is read; a repeated key reads the body through (without
    keeping it) to tell a retry from another request.
    """
    key = idempotency.key_of(request, key_scope(backend))
    digest = idempotency.request_digest(request)
    lines = streams.body_lines(request, digest)
    if key is None:
        result = await anyio.to_thread.run_sync(lambda: call(lines))
        return Response(json_bytes(result), media_type=JSON)
    store_url = backend.store.url

    def once() -> Response:
        with records.transaction(backend) as session:
            found = records.claim(session, key.hash)
            if found is not None:
                raise _Replay(found)
            try:
                answer = Response(json_bytes(call(lines)), media_type=JSON)
            except LicensectlError as exc:
                answer = error_response(exc, store_url=store_url)
                if not idempotency.kept(answer.status_code):
                    raise _NotKept(exc) from None
            streams.read_through(lines)
            records.record(
                session,
                key.hash,
                fingerprint=digest.hexdigest(),
                status=answer.status_code,
                media_type=JSON,
                body=key.seal(bytes(answer.body)),
            )
            return answer

    try:
        return await anyio.to_thread.run_sync(once)
    except _Replay as replay:
        await streams.drain(request, digest)
        return idempotency.replay(replay.found, key, digest.hexdigest())
    except _NotKept as not_kept:
        raise not_kept.error from None
