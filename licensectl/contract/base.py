"""The base of every request model, and `Page`, the one request every list takes.

`Page` lives here rather than beside the other requests (`requests.py`, which
re-exports it) so that a read command loads it without declaring the forty-odd request
models it does not use. Imports pydantic and `licensectl.contract.fields` only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from licensectl.contract.fields import FIELDS


class Request(BaseModel):
    """Base of every request: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _field(name: str, *, required: bool = False) -> Any:
    """A model field whose description and default come from `fields.FIELDS`."""
    entry = FIELDS[name]
    if required:
        return Field(description=entry.help)
    return Field(entry.default, description=entry.help)


class Page(Request):
    """Keyset paging: at most `limit` rows (None: all), after the row with ID `after`."""

    limit: StrictInt | None = _field("limit")
    after: StrictStr | None = _field("after")
