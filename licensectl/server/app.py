"""The app factory: an opened store in, the portal's API out.

`create_app(store)` for a process that opened its store (tests, one worker);
`app_from_env()` for uvicorn's workers, which import the app by name and learn the
store and limits from the environment (settings.py).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic.warnings import UnsupportedFieldAttributeWarning

from licensectl import __version__
from licensectl.server import errors
from licensectl.server.deps import TouchMemo
from licensectl.server.limits import BodyLimit
from licensectl.server.paths import SegmentPaths
from licensectl.server.routes import (
    accounts,
    activation,
    bulk,
    licenses,
    portal,
    reports,
    tokens,
)
from licensectl.server.settings import Settings, store_url_from_env
from licensectl.store.engine import Store

DESCRIPTION = """\
The SmartServer license portal: partners, customer accounts, licenses, transfers,
activations (online and offline), bulk import and export, and batches.

Send `Authorization: Bearer lctl_…` (`licensectl token create`, or `POST /v1/login/eid`
for a customer). Every error answers `{"error": {"message", "kind", "exit_code",
"field"}}`. Writes accept an `Idempotency-Key` header: a retry with the same key and
body replays the first answer. See docs/api.md.
"""


def _quiet_body_alias_warning() -> None:
    """FastAPI builds a route's single JSON body parameter as `Annotated[Model,
    Body(alias=NAME)]`; pydantic 2.12+ warns that such an alias has no effect there
    (pydantic#12356), on each route's first request. It is FastAPI's construction, not
    ours, and harmless: keep it out of the server's log."""
    warnings.filterwarnings(
        "ignore",
        message=r"The '(validation_|serialization_)?alias' attribute with value ",
        category=UnsupportedFieldAttributeWarning,
    )


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """The API over an opened store (whose schema the caller has checked)."""
    settings = settings or Settings()
    _quiet_body_alias_warning()
    # A server never migrates its store (`serve` checked it, /readyz keeps checking):
    # the backends it makes per request must not try to either.
    store._schema_ready = True

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.dispose()

    app = FastAPI(
        title="licensectl",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.touch_memo = TouchMemo()
    for module in (tokens, accounts, licenses, activation, bulk, portal, reports):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, json_max=settings.json_body_max, upload_max=settings.upload_max)
    # Outermost: routing and the limits see each path segment whole.
    app.add_middleware(SegmentPaths)
    errors.install(app)
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory`: the store and settings `licensectl serve` put in the
    environment."""
    return create_app(Store(store_url_from_env()), Settings.from_env())
