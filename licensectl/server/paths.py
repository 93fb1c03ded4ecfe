"""Path parameters that hold a slash or a percent sign.

A customer or partner may be named "Werk 2 / Halle", and the client puts the name in
the path percent-encoded (`/v1/customers/Werk%202%20%2F%20Halle`). The ASGI server
decodes the whole path before routing, so that slash would split the segment: the
request found no route, or, worse, another one (a customer named "x/emails" is not
customer "x"'s emails). Here routing sees each segment decoded except for `%` and
`/`, which stay encoded (`%25`, `%2F`), and the path parameters of the contract's routes
(`{customer:segment}`) decode exactly those two back.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send


def routing_path(raw_path: bytes) -> str:
    """The path with each segment decoded, but `%` and `/` inside a segment kept encoded."""
    return "/".join(
        unquote(segment.decode("ascii", "replace")).replace("%", "%25").replace("/", "%2F")
        for segment in raw_path.split(b"/")
    )


class SegmentPaths:
    """ASGI middleware: route on whole segments (see the module's text)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path")
            scope = dict(scope)
            # Without the raw path (not from uvicorn) slashes are lost already; the
            # percent signs are still kept encoded, so that `segment` decodes exactly.
            scope["path"] = (
                routing_path(raw) if raw is not None else scope["path"].replace("%", "%25")
            )
        await self.app(scope, receive, send)


class SegmentConvertor(Convertor[str]):
    """One path segment, `%25` and `%2F` decoded (what `SegmentPaths` left encoded)."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return value.replace("%", "%25").replace("/", "%2F")


register_url_convertor("segment", SegmentConvertor())

_FIELD = re.compile(r"\{(\w+)\}")


def segment_route(path: str) -> str:
    """A contract path with every `{field}` matched as one whole segment."""
    return _FIELD.sub(r"{\1:segment}", path)


__all__ = ["SegmentPaths", "routing_path", "segment_route"]
