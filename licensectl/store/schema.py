"""Numbered schema migrations, recorded in the `schema_migration` table.

A store is brought up to date on first use, inside one serialised write transaction,
so two processes opening a fresh store at once cannot both create it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, func, inspect, select
from sqlmodel import SQLModel, col

from licensectl import models
from licensectl.store.audit import add_hash_chain
from licensectl.store.engine import Store
from licensectl.store.nfkc_keys import rekey_nfkc

Migration = tuple[int, str, Callable[[Connection], None]]


def _initial(conn: Connection) -> None:
    SQLModel.metadata.create_all(conn)
    _append_only_events(conn)


def _append_only_events(conn: Connection) -> None:
    """The audit log is append-only in the database itself, not just by convention."""
    if conn.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS event_no_{verb.lower()} BEFORE {verb} ON event "
                "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION licensectl_event_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'events are append-only'; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
            "FOR EACH ROW EXECUTE FUNCTION licensectl_event_append_only()"
        )


def _api_tables(conn: Connection) -> None:
    """API tokens, idempotency keys and failed logins (`licensectl serve`).

    `checkfirst`: on a new store migration 1 already made them from the current models.
    """
    for table in (models.ApiToken, models.IdempotencyRecord, models.LoginFailure):
        table.__table__.create(conn, checkfirst=True)  # type: ignore[union-attr]


def _everyday(conn: Connection) -> None:
    """Customer notes; void licenses give up their PO line (docs/domain.md, Lifecycle);
    events indexed by time (`report activity`).

    Idempotent, as a new store made by migration 1 already has both.
    """
    columns = {c["name"] for c in inspect(conn).get_columns("customer")}
    if "note" not in columns:
        conn.exec_driver_sql("ALTER TABLE customer ADD COLUMN note VARCHAR(2000)")
    conn.exec_driver_sql("DROP INDEX IF EXISTS uq_license_po_line")
    conn.execute(models.PO_LINE_INDEX)
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_event_at ON event (at)")


MIGRATIONS: list[Migration] = [
    (1, "initial schema", _initial),
    (2, "name and PO keys compared after NFKC normalisation", rekey_nfkc),
    (3, "API tokens, idempotency keys, failed logins", _api_tables),
    (4, "audit log: hash chain, REPLACE and TRUNCATE guards", add_hash_chain),
    (5, "customer notes; void licenses free their PO line; events by time", _everyday),
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
