"""Errors become HTTP answers here, once, in the one body shape of contract/api.py.

A `LicensectlError` keeps its message, kind and exit code, with the status of its kind
(`STATUS_BY_KIND`), so the remote client prints the very `Error:` line a local run
would. Anything else is a bug: the client gets a reference and the log a line naming it,
never a traceback, SQL or a secret.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from licensectl.contract.api import STATUS_BY_KIND, error_body
from licensectl.contract.models import ErrorBody
from licensectl.contract.requests import describe_error
from licensectl.errors import (
    AuthError,
    LicensectlError,
    NotFoundError,
    RateLimitedError,
    StoreUnavailableError,
    UsageError,
)
from licensectl.store.url import redact_url

log = logging.getLogger("licensectl.server")


def log_gone(scope: Scope) -> None:
    """A client closed its connection while its request body was still being read."""
    log.warning(
        "%s %s: the client went away before sending the whole request",
        scope.get("method"),
        scope.get("path"),
    )


_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Usage: a malformed request (exit 2).",
    401: "No token, or a bad, expired or revoked one (exit 5).",
    403: "Forbidden: the object is visible, the action is not allowed (exit 5).",
    404: "Not found, or outside the token's scope (exit 3).",
    409: "Conflict: a rule refused the change, or an Idempotency-Key clash (exit 4).",
    413: "The body is larger than the server allows (exit 2).",
    422: "Invalid data: a bad file or request file (exit 7).",
    429: "Too many failed logins from this address; see Retry-After (exit 5).",
    503: "The store is unavailable; nothing was changed (exit 6).",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the error body."""
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in statuses}


def status_of(exc: LicensectlError) -> int:
    return STATUS_BY_KIND.get(exc.kind, 500)


def error_response(exc: LicensectlError, *, store_url: str | None = None) -> JSONResponse:
    message = exc.message
    if isinstance(exc, StoreUnavailableError) and store_url is not None:
        # Where the store lives is the operator's business, not the client's.
        message = message.replace(redact_url(store_url), "the server's store")
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    elif type(exc) is AuthError:
        headers["WWW-Authenticate"] = 'Bearer realm="licensectl"'
    return JSONResponse(
        error_body(exc.kind, exc.exit_code, message, exc.field),
        status_code=status_of(exc),
        headers=headers,
    )


def _store_url(request: Request) -> str | None:
    store = getattr(request.app.state, "store", None)
    return getattr(store, "url", None)


async def _licensectl_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LicensectlError)
    return error_response(exc, store_url=_store_url(request))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first: Mapping[str, Any] = exc.errors()[0]
    where = first.get("loc", ())[0] if first.get("loc") else "body"
    error = {**first, "loc": tuple(first.get("loc", ())[1:])}
    if error["type"] == "json_invalid":
        reason = first.get("ctx", {}).get("error", "")
        message = f"the body is not valid JSON{f' ({reason})' if reason else ''}"
    else:
        message = describe_error(error, _body_model(request) if where == "body" else None)
        if where in ("query", "path", "header"):
            message = f"{where} parameter {message}"
    return error_response(UsageError(message))


def _body_model(request: Request) -> type[BaseModel] | None:
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, LicensectlError):  # e.g. a body cap hit while FastAPI read it
        return error_response(exc.__cause__)
    if exc.status_code == 404:
        return error_response(
            NotFoundError(f"no such API route: {request.method} {request.url.path} (see /docs)")
        )
    if exc.status_code == 405:
        response = error_response(
            UsageError(f"{request.method} is not allowed on {request.url.path} (see /docs)")
        )
        response.status_code = 405
        return response
    response = error_response(UsageError(str(exc.detail)))
    response.status_code = exc.status_code
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(LicensectlError, _licensectl_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(CatchAll)


def describe_bug(exc: BaseException) -> str:
    """A bug in one line for the log: its type and where it was raised in licensectl.

    Not its message, which may quote SQL or data.
    """
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if "licensectl" in frame.filename:
            where = f" at {frame.filename.rsplit('licensectl/', 1)[-1]}:{frame.lineno}"
            break
    return f"{type(exc).__name__}{where}"


class CatchAll:
    """Any exception left is answered 500 with a reference and logged in one line.

    Starlette's own last resort re-raises to the server, which logs a traceback; this
    stops it first.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            log_gone(scope)  # nobody is left to answer
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            ref = secrets.token_hex(4)
            log.error(
                "internal error %s in %s %s: %s",
                ref,
                scope.get("method"),
                scope.get("path"),
                describe_bug(exc),
            )
            if started:
                return  # the answer had begun: the client sees it cut short
            response = JSONResponse(
                error_body(
                    "error",
                    1,
                    f"internal error (reference {ref}): the server's log names it; "
                    "please report it",
                ),
                status_code=500,
            )
            await response(scope, receive, send)
