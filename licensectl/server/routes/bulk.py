"""Imports and exports of licenses, and batches run server-side: all streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from licensectl.contract.api import BATCH_MEDIA_TYPE, EXPORT_MEDIA_TYPES, error_body
from licensectl.contract.fields import doc
from licensectl.contract.models import ImportSummary
from licensectl.contract.requests import ImportOptions
from licensectl.errors import LicensectlError
from licensectl.exporter import export_row_chunks
from licensectl.server import idempotency, streams
from licensectl.server.calls import key_scope, upload
from licensectl.server.deps import Backend
from licensectl.server.routes import READ_ERRORS, WRITE_ERRORS, operation, raw_body
from licensectl.server.routes.licenses import Filters
from licensectl.service import idempotency as records

router = APIRouter(tags=["bulk"])

Format = Literal["csv", "jsonl"]
_JSONL_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def _format_of(explicit: Format | None, content_type: str | None) -> Format:
    """`format`, else the body's Content-Type (JSON lines types), else CSV."""
    if explicit is not None:
        return explicit
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return "jsonl" if media in _JSONL_TYPES else "csv"


@operation(
    router,
    "import_licenses",
    model=ImportSummary,
    openapi_extra=raw_body(
        "text/csv",
        "application/x-ndjson",
        description="The purchase-order file (CSV with a header, or JSON lines), streamed.",
    ),
)
async def import_licenses(
    request: Request,
    backend: Backend,
    format: Annotated[
        Format | None, Query(description="csv or jsonl (default: from the Content-Type).")
    ] = None,
    dry_run: Annotated[bool, Query(description=doc("import_dry_run"))] = False,
) -> Response:
    """Import purchased licenses: every row or none (admin).

    With bad rows the answer lists every error of every row (`errors`) and nothing was
    written; the status is 200 all the same, as the import ran.
    """
    options = ImportOptions(
        format=_format_of(format, request.headers.get("content-type")), dry_run=dry_run
    )
    return await upload(request, backend, lambda lines: backend.import_licenses(lines, options))


@operation(
    router,
    "export_licenses",
    errors=READ_ERRORS,
    responses={
        200: {
            "description": "Every license the filters select, oldest first.",
            "content": {
                media: {"schema": {"type": "string"}} for media in EXPORT_MEDIA_TYPES.values()
            },
        }
    },
)
async def export_licenses(
    backend: Backend,
    filters: Filters,
    format: Annotated[Format, Query(description="csv or jsonl.")] = "csv",
    raw: Annotated[
        bool, Query(description="CSV cells exactly as stored, without the formula guard.")
    ] = False,
) -> Response:
    """Every license the filters select, as CSV (RFC 4180) or JSON lines, streamed.

    An export cut short by a failure ends without its last chunk, so it never looks whole.
    """

    def produce() -> Iterator[bytes]:
        # The local store's fast path: rows in JSON form, the same bytes (exporter.py).
        rows = backend.export_rows(filters)
        for chunk in export_row_chunks(rows, format, raw=raw):
            yield chunk.encode("utf-8")

    return streams.ThreadedStream(
        produce, media_type=EXPORT_MEDIA_TYPES[format], store_url=backend.store.url
    )


def _trailer(error: LicensectlError) -> bytes:
    return (
        json.dumps(error_body(error.kind, error.exit_code, error.message, error.field)) + "\n"
    ).encode()


@operation(
    router,
    "run_batch",
    errors=WRITE_ERRORS,
    openapi_extra=raw_body(
        BATCH_MEDIA_TYPE, description="Operations, one JSON object a line (see the README)."
    ),
    responses={
        200: {
            "description": "One JSON result line per operation, as they run.",
            "content": {BATCH_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def run_batch(
    request: Request,
    backend: Backend,
    atomic: Annotated[
        bool, Query(description="One transaction: stop at the first failure, write nothing.")
    ] = False,
) -> Response:
    """Run batch lines server-side; one result line each, sent as they run.

    Without `atomic` each operation commits on its own and the batch goes on after a
    failure; with it, all or nothing, and the results come once all committed. Should
    the batch break off after its answer began, its last line is an error body.
    """
    key = idempotency.key_of(request, key_scope(backend))
    digest = idempotency.request_digest(request)
    store = backend.store
    if key is not None:
        found = await run_in_threadpool(records.claim_now, store, key.hash)
        if found is not None:
            await streams.drain(request, digest)
            return idempotency.replay(found, key, digest.hexdigest())
    lines = streams.body_lines(request, digest)

    def produce() -> Iterator[bytes]:
        for result in backend.run_batch(lines, atomic=atomic):
            yield (json.dumps(result.wire(), ensure_ascii=False) + "\n").encode()
        streams.read_through(lines)

    def on_end(status: int, body: bytes | None, ran: bool) -> None:
        if key is None:
            return
        if body is None or not idempotency.kept(status):
            if not ran:
                records.release(store, key.hash)  # nothing ran: a retry may run it
            return  # cut short mid-way: the key stays claimed, and says so
        records.record_now(
            store,
            key.hash,
            fingerprint=digest.hexdigest(),
            status=status,
            media_type=BATCH_MEDIA_TYPE,
            body=key.seal(body),
        )

    return streams.ThreadedStream(
        produce,
        media_type=BATCH_MEDIA_TYPE,
        trailer=_trailer,
        listen_for_disconnect=False,  # the body is read meanwhile
        on_end=on_end,
        store_url=store.url,
    )
