"""Bodies that stream: an upload read line by line by the (synchronous) service, and an
answer a worker thread produces as it goes.

The service's import and batch take an iterator of lines and run in a worker thread;
the body arrives on the event loop. `body_lines` bridges the two: each read in the
thread waits for the next chunk of the body (`anyio.from_thread`), so memory holds a
chunk or two, however large the body.

`ThreadedStream` runs a synchronous generator in a worker thread and sends its chunks as
they come. Its status is decided by the first chunk: an error before it is an ordinary
error answer. An error after it cannot change the status any more: the stream either
ends with an error line (`trailer`, for JSON lines) or is cut off, so that the client
sees it incomplete rather than believing it whole.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TextIO

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from licensectl.errors import LicensectlError
from licensectl.server.errors import describe_bug, error_response, log_gone

log = logging.getLogger("licensectl.server")

_READ_SIZE = 1 << 16


class _BodyReader(io.RawIOBase):
    """The request body as a blocking stream, for a worker thread started by anyio."""

    def __init__(self, chunks: AsyncIterator[bytes], digest: hashlib._Hash | None) -> None:
        super().__init__()
        self._chunks = chunks
        self._digest = digest
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    async def _next(self) -> bytes | None:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            chunk = anyio.from_thread.run(self._next)
            if chunk is None:
                self._done = True
            elif chunk:
                if self._digest is not None:
                    self._digest.update(chunk)
                self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def body_lines(request: Request, digest: hashlib._Hash | None = None) -> TextIO:
    """The body as lines of text, read as the thread iterating them asks for them.

    Decoded as `licensectl import` decodes a file: UTF-8 with or without a BOM, line
    ends left as they are. Only a thread started by `anyio.to_thread` may read it.
    """
    raw = io.BufferedReader(_BodyReader(request.stream(), digest), _READ_SIZE)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_through(lines: TextIO) -> None:
    """Read what is left of a body (in the worker thread), so its digest is complete."""
    raw = lines.buffer
    while raw.read(_READ_SIZE):
        pass


async def drain(request: Request, digest: hashlib._Hash) -> None:
    """Read the whole body into the digest only (a replayed upload)."""
    async for chunk in request.stream():
        digest.update(chunk)


#: What the producing thread hands over: a chunk, the error that stopped it, or the end.
_Item = tuple[str, Any]


class ThreadedStream(Response):
    """An answer produced by `produce()` in a worker thread and sent as it comes."""

    def __init__(
        self,
        produce: Callable[[], Iterator[bytes]],
        *,
        media_type: str,
        status_code: int = 200,
        trailer: Callable[[LicensectlError], bytes] | None = None,
        listen_for_disconnect: bool = True,
        on_end: Callable[[int, bytes | None, bool], None] | None = None,
        store_url: str | None = None,
    ) -> None:
        """`trailer`: the last line for an error after the answer began (else it is cut
        off). `listen_for_disconnect`: stop when the client leaves; only for a request
        whose body is not being read meanwhile. `on_end(status, body, ran)`: called in a
        worker thread at the end with the whole answer (None if it was cut off) and
        whether anything had been produced."""
        super().__init__(status_code=status_code, media_type=media_type)
        # Sent as it comes (chunked): no length, unlike the empty body Response assumes.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.produce = produce
        self.trailer = trailer
        self.listen = listen_for_disconnect
        self.on_end = on_end
        self.store_url = store_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender, receiver = anyio.create_memory_object_stream[_Item](4)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._produce_in_thread, sender)
            if self.listen:
                tasks.start_soon(self._watch_disconnect, receive, tasks.cancel_scope)
            await self._send(scope, receive, send, receiver)
            tasks.cancel_scope.cancel()
        if self.background is not None:
            await self.background()

    async def _produce_in_thread(self, sender: MemoryObjectSendStream[_Item]) -> None:
        await anyio.to_thread.run_sync(self._run, sender)

    def _run(self, sender: MemoryObjectSendStream[_Item]) -> None:
        def hand(item: _Item) -> None:
            anyio.from_thread.run(sender.send, item)

        chunks = self.produce()
        try:
            try:
                for chunk in chunks:
                    if chunk:
                        hand(("data", chunk))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return  # nobody listens any more: the client went away
            except LicensectlError as exc:
                hand(("error", exc))
            except ClientDisconnect:
                hand(("gone", None))
            except Exception as exc:  # noqa: BLE001 - reported by the loop's side
                hand(("bug", exc))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        finally:
            closer = getattr(chunks, "close", None)
            if closer is not None:
                closer()
            anyio.from_thread.run(sender.aclose)

    @staticmethod
    async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
        """The client left: stop sending. Closing the receiving end on the way out makes
        the producer's next hand-over fail, which ends it."""
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    async def _send(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        receiver: MemoryObjectReceiveStream[_Item],
    ) -> None:
        sent: list[bytes] | None = [] if self.on_end is not None else None
        started = False
        status = self.status_code
        cut = False
        async with receiver:
            async for kind, value in receiver:
                if kind == "data":
                    if not started:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": status,
                                "headers": self.raw_headers,
                            }
                        )
                        started = True
                    if sent is not None:
                        sent.append(value)
                    await send({"type": "http.response.body", "body": value, "more_body": True})
                    continue
                if kind == "gone":
                    log_gone(scope)
                    cut = True
                    break
                if kind == "bug":
                    exc = value
                    log.error(
                        "internal error in %s %s: %s",
                        scope.get("method"),
                        scope.get("path"),
                        describe_bug(exc),
                    )
                    error: LicensectlError = LicensectlError(
                        "internal error: the server's log names it; please report it"
                    )
                else:
                    error = value
                if not started:
                    # Nothing was produced: an ordinary error answer.
                    await self._end(status=None, body=None, ran=False)
                    await error_response(error, store_url=self.store_url)(scope, receive, send)
                    return
                log.warning(
                    "%s %s broken off after its answer began: %s",
                    scope.get("method"),
                    scope.get("path"),
                    error.message if kind == "error" else "internal error",
                )
                if self.trailer is None:
                    cut = True
                    break
                last = self.trailer(error)
                if sent is not None:
                    sent.append(last)
                await send({"type": "http.response.body", "body": last, "more_body": True})
                break
        if cut:
            await self._end(status=None, body=None, ran=started)
            return  # no final chunk: the client sees the answer incomplete
        if not started:
            await send(
                {"type": "http.response.start", "status": status, "headers": self.raw_headers}
            )
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        await self._end(status=status, body=b"".join(sent) if sent is not None else None, ran=True)

    async def _end(self, *, status: int | None, body: bytes | None, ran: bool) -> None:
        if self.on_end is None:
            return
        on_end = self.on_end
        await anyio.to_thread.run_sync(lambda: on_end(status or 0, body, ran))
