"""Which stores a command may open, create or upgrade; checked once per process.

The rules (docs/cli.md, "Stores"):
- The embedded default store is created, folder and all, by any command on first use,
  and upgraded on first use.
- A read command never creates or changes a store: a missing file, an empty database, a
  database of another application, or a licensectl store of an older schema is exit 6,
  with the command that fixes it.
- A write command may create a new SQLite store at a path that does not exist yet,
  inside a folder that does; it upgrades an older licensectl store.
- `db upgrade` initialises on purpose: also an existing empty database (a 0-byte file, a
  new PostgreSQL database).
- A database with tables but no licensectl schema is never written to, and neither is a
  store of a newer licensectl (schema version above LATEST): exit 6 from every command.

A SQLite file is looked at through a separate read-only connection before the engine
touches it, since the engine's first connection switches the file to WAL mode, a write.
Once a store is known to be current, the process remembers it (by URL, and for SQLite the
file's identity), so a backend made per request runs no schema query.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import urllib.parse
from enum import Enum
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Connection, inspect

from licensectl.errors import StoreUnavailableError
from licensectl.safe_text import printable
from licensectl.store.engine import Store, damaged, is_damage
from licensectl.store.schema import (
    LATEST,
    backup_before_upgrade,
    current_version,
    legacy_revision,
    upgrade,
)
from licensectl.store.url import redact_url


class Access(Enum):
    READ = "read"
    WRITE = "write"
    #: `db upgrade`: create or initialise on purpose.
    INITIALISE = "initialise"


class Probe(NamedTuple):
    version: int
    #: Whether the database has any table at all.
    tables: bool


#: Stores known to be at LATEST in this process.
_current: set[tuple[object, ...]] = set()
_lock = threading.Lock()

_UPGRADE = "licensectl --db {where} db upgrade"


def prepare(store: Store, access: Access, *, remembered: bool = True) -> None:
    """Make sure `store` may be used for `access`, creating or upgrading it if the rules
    allow; raise StoreUnavailableError (exit 6) otherwise. `remembered=False` looks at
    the store afresh even if this process knows it to be current."""
    if store._schema_ready and remembered:
        return
    if remembered and _identity(store) in _current:
        store._schema_ready = True
        return
    where = redact_url(store.url)
    found = probe(store)
    if found is not None and found.version == LATEST:
        _remember(store)
        return
    if found is not None and found.version > LATEST:
        raise newer(where, found.version)
    path = store.sqlite_path
    shown = printable(str(path)) if path is not None else where
    if found is None:  # a SQLite file that does not exist
        assert path is not None
        if store.embedded:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailableError(
                    f"cannot create the store's folder {printable(str(path.parent))}: "
                    f"{exc.strerror}"
                ) from None
        elif access is Access.READ:
            raise StoreUnavailableError(
                f"there is no store at {shown}, and a command that only reads never creates "
                f"one: check the path, or create a store there with a command that writes "
                f"or '{_UPGRADE.format(where=shown)}'"
            )
        elif not path.parent.is_dir():
            raise StoreUnavailableError(
                f"the folder {printable(str(path.parent))} does not exist: licensectl creates "
                "a store only inside an existing folder; create it first"
            )
    elif found.version == 0:
        if found.tables:
            raise foreign(shown)
        if access is not Access.INITIALISE and not store.embedded:
            raise StoreUnavailableError(
                f"{shown} is an empty database, not a licensectl store, and licensectl does "
                f"not initialise one unasked: to make it a store on purpose, run "
                f"'{_UPGRADE.format(where=shown)}'"
            )
    elif access is Access.READ and not store.embedded:
        raise StoreUnavailableError(
            f"the store {shown} has schema version {found.version} and this licensectl "
            f"needs {LATEST}; a command that only reads does not upgrade it: run "
            f"'{_UPGRADE.format(where=shown)}' (back it up first with 'licensectl db backup')"
        )
    if found is not None and found.version > 0 and path is not None:
        # An older store about to be upgraded: a copy first, named after its revision.
        backup_before_upgrade(store, legacy_revision(found.version))
    _migrate(store, shown)
    _remember(store)


def newer(where: str, version: int) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"the store {where} has schema version {version}, newer than this licensectl knows "
        f"({LATEST}): it was written by a newer licensectl; use that one, or upgrade licensectl"
    )


def foreign(shown: str) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"{shown} is not a licensectl store (it has tables of another application) and "
        "licensectl never writes to one: give a new file or an empty database, and "
        "initialise it on purpose with 'licensectl --db URL db upgrade'"
    )


def probe(store: Store) -> Probe | None:
    """The store's schema version and whether it has tables; None for a SQLite file that
    does not exist. Never creates or changes anything."""
    path = store.sqlite_path
    if path is not None:
        return _probe_sqlite(store, path)
    with store.read() as s:
        conn = s.connection()
        tables = bool(inspect(conn).get_table_names())
        return Probe(current_version(conn) if tables else 0, tables)


def _probe_sqlite(store: Store, path: Path) -> Probe | None:
    if not path.exists():
        return None
    if path.is_dir():
        raise StoreUnavailableError(f"{printable(str(path))} is a folder, not a store")
    uri = "file:" + urllib.parse.quote(str(path)) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            names = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            version = 0
            if "schema_migration" in names:
                version = int(
                    conn.execute("SELECT max(version) FROM schema_migration").fetchone()[0] or 0
                )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if is_damage(text):
            raise damaged(store.url, text) from None
        if "not a database" in text:
            raise StoreUnavailableError(
                f"{printable(str(path))} is not a SQLite database, so not a licensectl store "
                "(or its first page is damaged)"
            ) from None
        raise StoreUnavailableError(
            f"cannot open the store {printable(str(path))}: {text}"
        ) from None
    except (TypeError, ValueError) as exc:  # max(version) holding text: not ours
        raise damaged(store.url, f"schema_migration: {exc}") from None
    return Probe(version, bool(names))


def _migrate(store: Store, shown: str) -> None:
    """Create or upgrade the store in one serialised write transaction, looking again
    inside it (another process may have got there first)."""
    with store.write() as session:
        conn = session.connection()
        have = current_version(conn)
        if have > LATEST:
            raise newer(redact_url(store.url), have)
        if have == 0 and inspect(conn).get_table_names():
            raise foreign(shown)
        # Alembic's revisions (store/schema.py); each records its number as before.
        upgrade(conn, have)
        if store.is_sqlite:
            session.flush()
            conn.exec_driver_sql(f"PRAGMA user_version = {schema_seal(conn)}")


def schema_seal(conn: Connection) -> int:
    """A 31-bit digest of a SQLite store's schema (every table, index and trigger as
    `sqlite_master` keeps it), kept in the file's `user_version` by every migration: the
    schema's text is bytes in the file like any row, and `db check` compares the two."""
    rows = conn.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).all()
    text = "\x1e".join("\x1f".join(str(v) for v in row) for row in rows)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:4]) >> 1


def _identity(store: Store) -> tuple[object, ...]:
    path = store.sqlite_path
    if path is None:
        return (store.url,)
    try:
        st = os.stat(path)
    except OSError:
        return (store.url, None)
    return (store.url, st.st_dev, st.st_ino)


def _remember(store: Store) -> None:
    store._schema_ready = True
    with _lock:
        _current.add(_identity(store))


def forget_all() -> None:
    """Forget which stores are current (tests that rewrite a store behind our back)."""
    with _lock:
        _current.clear()
