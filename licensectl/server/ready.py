"""Is this store one the server may serve? One small check, at start and for /readyz."""

from __future__ import annotations

from sqlalchemy import inspect

from licensectl.contract.models import StoreSchema
from licensectl.errors import StoreUnavailableError
from licensectl.store.engine import Store
from licensectl.store.schema import LATEST, current_version
from licensectl.store.url import redact_url


def require_current_schema(store: Store) -> StoreSchema:
    """The store's schema, if it answers and is a licensectl store at the current version.

    A server never migrates its store: an upgrade is a decision for whoever runs it
    (`licensectl db upgrade`), taken before the server starts. Raises
    StoreUnavailableError (exit 6, HTTP 503) naming that command otherwise.
    """
    where = redact_url(store.url)
    with store.read() as s:
        conn = s.connection()
        version = current_version(conn)
        if version == 0 and inspect(conn).get_table_names():
            raise StoreUnavailableError(
                f"{where} is not a licensectl store (it has tables, but no licensectl schema)"
            )
    if version < LATEST:
        raise StoreUnavailableError(
            f"the store {where} has schema version {version} and this licensectl needs "
            f"{LATEST}: run 'licensectl db upgrade' on it first"
        )
    if version > LATEST:
        raise StoreUnavailableError(
            f"the store {where} has schema version {version}, newer than this licensectl "
            f"knows ({LATEST}): upgrade licensectl"
        )
    return StoreSchema(store=where, version=version, latest=LATEST)
