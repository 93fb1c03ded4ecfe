"""Engines and transactions.

Every read-check-write (a transfer, an activation) must be serialised: two processes
transferring one license must not both succeed. On SQLite a write transaction starts
with `BEGIN IMMEDIATE`, taking the database's write lock before anything is read; on
PostgreSQL the service locks the rows it checks with `SELECT … FOR UPDATE`. Read-only
work uses a plain deferred transaction, which WAL lets run beside a writer.

On PostgreSQL every statement is a round trip to the server, and so are `BEGIN`, the
`ROLLBACK` that ends a read and a ping: a query of the service (`Store.query`) runs its
statements without a transaction, and a pooled connection is pinged only when it has lain
idle for a while (`PING_IDLE_SECONDS`), not at every checkout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import (
    DatabaseError,
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    OperationalError,
)
from sqlmodel import Session

from licensectl.errors import (
    ConflictError,
    LicensectlError,
    StoreDamagedError,
    StoreUnavailableError,
    UsageError,
)
from licensectl.store.url import redact_url

BUSY_TIMEOUT_MS = 30_000
_WRITE = "licensectl_write"
#: PostgreSQL: a pooled connection idle for longer than this is pinged before it is
#: used again (a server restarted or an idle session ended meanwhile: the pool then
#: connects anew). One used more recently is taken as it is, as SQLAlchemy's pre-ping
#: takes one pinged a moment ago: either way the server could close it before the
#: statement arrives, and the statement then fails (exit 6) and the pool reconnects.
PING_IDLE_SECONDS = 1.0
_IDLE_SINCE = "licensectl_idle_since"


class Store:
    """One database: an engine plus the two kinds of transaction the service uses."""

    def __init__(self, url: str, *, embedded: bool = False) -> None:
        self.url = url
        #: The embedded default store: the one store created, folder and all, by any
        #: command on first use (store/gate.py).
        self.embedded = embedded
        #: Set once the schema is known to be current (store/gate.py, or a server that
        #: checked it at start).
        self._schema_ready = False
        self.engine = make_engine(url)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        # PostgreSQL: no BEGIN and ROLLBACK around a query's statements (two round trips).
        # At READ COMMITTED, PostgreSQL's level, each statement of a transaction takes
        # its own snapshot anyway, so a transaction adds nothing to what a query reads.
        self._query_engine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file (None for PostgreSQL or an in-memory database)."""
        database = self.engine.url.database if self.is_sqlite else None
        return Path(database) if database and database != ":memory:" else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _db_errors(self.url), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def query(self) -> Iterator[Session]:
        """Read-only statements, each on its own (see `__init__`); SQLite: as `read`.

        Not for a server-side cursor (`yield_per`), which lives in a transaction, nor for
        `SET LOCAL`: use `read` for those."""
        with (
            _db_errors(self.url),
            Session(self._query_engine, expire_on_commit=False) as session,
        ):
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A serialised read-check-write transaction, committed on success."""
        with (
            _db_errors(self.url),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        # No folder or file is made here: store/gate.py decides whether one may be.
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_setup(engine)
        return engine
    engine = create_engine(url, connect_args={"connect_timeout": 10})
    _postgres_setup(engine)
    return engine


def _postgres_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Days and months computed in SQL (reports, event_day, db check) are UTC days, as
        # every time licensectl writes is UTC: never the server's own TimeZone, which
        # initdb takes from the machine. Outside a transaction, so no rollback undoes it.
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        try:
            dbapi_conn.execute("SET TIME ZONE 'UTC'")
        finally:
            dbapi_conn.autocommit = autocommit

    # The pool's ping, only for a connection that lay idle (PING_IDLE_SECONDS): a fresh
    # one, or one used a moment ago, goes without (pool_pre_ping would ping at every
    # checkout: a round trip per query).
    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        # `info` is cleared whenever the connection is closed or replaced: none is fresh.
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool closes this connection and checks out (or makes) another.
            raise DisconnectionError(f"the pooled connection was closed: {exc}") from exc


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's begin event below; pysqlite's own
        # implicit BEGIN would be DEFERRED and lose the race this module exists for.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def _db_errors(url: str) -> Iterator[None]:
    """Map driver failures a user can act on to our errors; leave the rest as bugs."""
    try:
        yield
    except LicensectlError:
        raise
    except IntegrityError as exc:
        # The service checks every unique rule first with a precise message; this is
        # the backstop for a writer that slipped in between (PostgreSQL row locks).
        raise ConflictError(
            f"the store refused the change ({_first_line(exc)}), perhaps because another "
            "writer just made a conflicting one; nothing was written"
        ) from exc
    except DataError as exc:
        # A value the database cannot hold at all, such as a NUL character in text on
        # PostgreSQL (SQLite takes it): a bad argument, not a bug.
        raise UsageError(
            f"a value given is one the store cannot hold ({_first_line(exc)}); nothing was written"
        ) from exc
    except (OperationalError, DatabaseError) as exc:
        text = _first_line(exc)
        if is_damage(text):
            raise damaged(url, text) from exc
        if "locked" in text:
            raise StoreUnavailableError(
                f"the store {redact_url(url)} stayed locked by another process for "
                f"{BUSY_TIMEOUT_MS // 1000}s; try again"
            ) from exc
        if "deadlock" in text or "could not serialize" in text:
            raise StoreUnavailableError(
                f"the store {redact_url(url)} aborted this transaction to resolve a clash "
                f"with another writer ({text}); nothing was written, try again"
            ) from exc
        if isinstance(exc, OperationalError) or "not a database" in text:
            raise StoreUnavailableError(f"cannot open the store {redact_url(url)}: {text}") from exc
        raise
    except (LookupError, ValueError, TypeError) as exc:
        # What SQLAlchemy's result processing raises on a value licensectl never writes:
        # an enum value it does not know, a time or JSON text that does not parse, or a
        # value of another kind (SQLite keeps a number or bytes in any column).
        if type(exc) is LookupError or _bad_stored_value(exc) or _raised_making_rows(exc):
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise damaged(url, text) from exc
        raise


_DAMAGE = ("malformed", "database corruption", "disk image", "could not decode")


def is_damage(text: str) -> bool:
    """A SQLite error that means the file's bytes are damaged."""
    lowered = text.lower()
    return any(word in lowered for word in _DAMAGE)


def damaged(url: str, text: str) -> StoreDamagedError:
    return StoreDamagedError(
        f"the store {redact_url(url)} is damaged ({text}): 'licensectl db check' says "
        "what is wrong; restore a backup ('licensectl db backup' makes them)"
    )


class StoredValueError(ValueError):
    """A stored value licensectl never writes, found where rows become public models."""


def _bad_stored_value(exc: Exception) -> bool:
    text = str(exc)
    return (
        isinstance(exc, StoredValueError)
        or "Couldn't parse" in text  # SQLAlchemy's SQLite date and time processors
        or "is not among the defined enum values" in text
        or type(exc).__name__ == "JSONDecodeError"
    )


#: Where SQLAlchemy turns stored values into Python ones as it makes result rows (its
#: compiled `_cy` modules report these names too).
_ROW_MAKING = ("engine/_result_cy.py", "engine/result.py", "engine/_row_cy.py", "engine/row.py")


def _raised_making_rows(exc: Exception) -> bool:
    """Whether `exc` came up through SQLAlchemy's making of result rows, that is from a
    type's result processor given a stored value it cannot read. An error of our own
    code while it handles rows already made does not pass through those frames."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith(_ROW_MAKING):
            return True
        tb = tb.tb_next
    return False


def _first_line(exc: DBAPIError) -> str:
    orig = exc.orig
    text = str(orig) if orig is not None else str(exc)
    return (text.strip().splitlines() or ["unknown error"])[0]
