"""Numbered schema migrations, recorded in the `schema_migration` table.

A store is brought up to date on first use, inside one serialised write transaction,
so two processes opening a fresh store at once cannot both create it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, func, inspect, select
from sqlmodel import SQLModel, col

from licensectl import models
from licensectl.store.engine import Store

Migration = tuple[int, str, Callable[[Connection], None]]


def _initial(conn: Connection) -> None:
    SQLModel.metadata.create_all(conn)


MIGRATIONS: list[Migration] = [
    (1, "initial schema", _initial),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_migration"):
        return 0
    version = conn.execute(select(func.max(col(models.SchemaMigration.version)))).scalar()
    return int(version or 0)


def ensure_schema(store: Store) -> None:
    """Apply any migrations the store lacks (fast path: one query when up to date)."""
    with store.read() as session:
        if current_version(session.connection()) >= LATEST:
            return
    with store.write() as session:
        conn = session.connection()
        have = current_version(conn)
        for version, name, apply in MIGRATIONS:
            if version > have:
                apply(conn)
                session.add(models.SchemaMigration(version=version, name=name))
