"""Body caps: JSON bodies (1 MiB) and uploads (imports, batches; configurable), 413 beyond.

A Content-Length beyond the cap is refused before anything is read; a body sent without
one (chunked) is counted as it arrives and refused once it passes the cap, so nothing
holds more than a chunk of it. An import refused midway rolls back whole, as any
failed import does.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from licensectl.contract.api import ROUTES
from licensectl.errors import TooLargeError
from licensectl.server.errors import error_response

#: The routes whose bodies are uploads (streamed, with the upload cap).
UPLOAD_PATHS = frozenset({ROUTES["import_licenses"].path, ROUTES["run_batch"].path})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


class BodyLimit:
    def __init__(self, app: ASGIApp, *, json_max: int, upload_max: int) -> None:
        self.app = app
        self.json_max = json_max
        self.upload_max = upload_max

    def _too_large(self, upload: bool, cap: int) -> TooLargeError:
        if upload:
            return TooLargeError(
                f"the body is larger than this server takes ({_mib(cap)}): split the file, "
                "or have the server started with a larger --upload-max"
            )
        return TooLargeError(f"the body is larger than a JSON request may be ({_mib(cap)})")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        upload = scope["path"] in UPLOAD_PATHS
        cap = self.upload_max if upload else self.json_max
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > cap:
                    await error_response(self._too_large(upload, cap))(scope, receive, send)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise self._too_large(upload, cap)
            return message

        await self.app(scope, counted, send)
