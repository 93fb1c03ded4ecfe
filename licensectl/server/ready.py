"""Is this store one the server may serve? One small check, at start and for /readyz."""

from __future__ import annotations

from licensectl.contract.models import StoreSchema
from licensectl.errors import StoreUnavailableError
from licensectl.store.engine import Store
from licensectl.store.schema import LATEST, current_version, schema_state
from licensectl.store.url import redact_url


def require_current_schema(store: Store) -> StoreSchema:
    """The store's schema, if it answers and is a licensectl store at the latest revision.

    A server never migrates its store: an upgrade is a decision for whoever runs it
    (`licensectl db upgrade`), taken before the server starts. Raises
    StoreUnavailableError (exit 6, HTTP 503) naming that command otherwise.
    """
    where = redact_url(store.url)
    with store.read() as s:
        conn = s.connection()
        state = schema_state(conn)
        version = current_version(conn)
    if not state.is_licensectl:
        raise StoreUnavailableError(
            f"{where} is not a licensectl store (it has tables, but no licensectl schema)"
        )
    if not state.known:
        raise StoreUnavailableError(
            f"the store {where} has schema revision {state.revision}, newer than this "
            f"licensectl knows ({state.latest}): upgrade licensectl"
        )
    if state.pending:
        raise StoreUnavailableError(
            f"the store {where} has schema revision {state.revision or 'none'} and this "
            f"licensectl needs {state.latest}: run 'licensectl db upgrade' on it first"
        )
    return StoreSchema(
        store=where,
        version=version,
        latest=LATEST,
        revision=state.revision,
        latest_revision=state.latest,
    )
