"""The store itself: schema, pragmas, the append-only event log."""

from __future__ import annotations

import os

import pytest
from conftest import Cli
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from licensectl.errors import ConflictError
from licensectl.store.engine import Store
from licensectl.store.schema import LATEST, ensure_schema
from licensectl.store.url import normalize_db_url, redact_url


@pytest.mark.local_only  # opens the store itself; the http store holds its admin token
def test_events_cannot_be_changed_or_deleted(cli: Cli, onboarded: dict[str, str]) -> None:
    store = Store(normalize_db_url(str(cli.db)))
    try:
        for statement in ("UPDATE event SET actor = 'someone else'", "DELETE FROM event"):
            with (
                pytest.raises((DBAPIError, ConflictError), match="append-only"),
                store.write() as session,
            ):
                session.execute(text(statement))
        with store.read() as session:
            assert session.execute(text("SELECT count(*) FROM event")).scalar() == 4
    finally:
        store.dispose()


def test_schema_is_versioned_and_idempotent(store_url: str) -> None:
    store = Store(normalize_db_url(store_url))
    try:
        ensure_schema(store)
        ensure_schema(store)
        with store.read() as session:
            versions = session.execute(text("SELECT version FROM schema_migration")).scalars()
            assert list(versions) == list(range(1, LATEST + 1))
    finally:
        store.dispose()


def test_sqlite_pragmas(sqlite_cli: Cli) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    store = Store(normalize_db_url(str(sqlite_cli.db)))
    try:
        with store.read() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        store.dispose()


def test_url_forms(tmp_path: object) -> None:
    # sqlite:///x.db is x.db in the current directory: normalised to its absolute path.
    assert normalize_db_url("sqlite:///x.db") == "sqlite:///" + os.path.abspath("x.db")
    assert normalize_db_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url("rel/path.db").startswith("sqlite:////")
    assert redact_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
    assert "secret" not in redact_url("postgresql://u:secret@h/db")
