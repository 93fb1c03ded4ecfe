"""Which stores a command may create, upgrade or write (issue 7, items 4 and 5), and the
schema checked once per process (issue 8, item 6)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from conftest import Cli, assert_one_error_line
from sqlalchemy import Engine, create_engine, event, text

from licensectl.store import gate
from licensectl.store.schema import LATEST
from licensectl.store.url import normalize_db_url

READS = (("partner", "list"), ("license", "list"), ("db", "check"), ("customer", "list"))
WRITE = ("partner", "add", "Acme")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def tables(url: str) -> list[str]:
    engine = create_engine(normalize_db_url(url))
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'public'"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()


# --- item 4: a read command never creates or changes a store -----------------------------


def test_a_read_in_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    cli = Cli(db=str(tmp_path / "nonexistent" / "dir" / "x.db"))
    for args in READS:
        result = cli.fails(6, *args)
        assert "no store at" in result.stderr
    # A write does not make the folder either.
    assert "does not exist" in cli.fails(6, *WRITE).stderr
    assert not (tmp_path / "nonexistent").exists()


def test_a_read_of_a_missing_file_creates_nothing_and_a_write_creates_the_store(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    cli = Cli(db=str(path))
    for args in READS:
        assert "db upgrade" in cli.fails(6, *args).stderr
    assert siblings(path) == ["home"]
    cli.ok(*WRITE)
    assert path.exists()
    assert [p["name"] for p in cli.json("partner", "list")] == ["Acme"]


def test_another_applications_sqlite_file_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
        conn.execute("INSERT INTO invoices VALUES (1, 100)")
    conn.close()
    before, files = digest(path), siblings(path)
    cli = Cli(db=str(path))
    for args in (*READS, WRITE, ("db", "upgrade")):
        result = cli.fails(6, *args)
        assert "not a licensectl store" in result.stderr
    assert digest(path) == before and siblings(path) == files
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()


def test_a_zero_byte_file_is_initialised_only_on_purpose(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    cli = Cli(db=str(path))
    for args in (*READS, WRITE):
        result = cli.fails(6, *args)
        assert "empty database" in result.stderr and "db upgrade" in result.stderr
    assert path.stat().st_size == 0 and siblings(path) == ["empty.db", "home"]
    assert cli.json("db", "upgrade")["version"] == LATEST
    cli.ok(*WRITE)


def test_a_non_database_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    cli = Cli(db=str(path))
    for args in (READS[0], WRITE, ("db", "upgrade")):
        assert "not a SQLite database" in cli.fails(6, *args).stderr
    assert path.read_text() == "not a database\n" * 100


def test_an_empty_postgres_database_is_initialised_only_on_purpose(
    empty_pg_database: str,
) -> None:
    cli = Cli(db=empty_pg_database)
    for args in (*READS, WRITE):
        result = cli.fails(6, *args)
        assert "empty database" in result.stderr and "db upgrade" in result.stderr
    assert tables(empty_pg_database) == []
    assert cli.json("db", "upgrade")["version"] == LATEST
    cli.ok(*WRITE)


def test_a_postgres_database_of_another_application_is_never_written(
    empty_pg_database: str,
) -> None:
    engine = create_engine(normalize_db_url(empty_pg_database))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id integer PRIMARY KEY)"))
    engine.dispose()
    cli = Cli(db=empty_pg_database)
    for args in (*READS, WRITE, ("db", "upgrade")):
        assert "not a licensectl store" in cli.fails(6, *args).stderr
    assert tables(empty_pg_database) == ["invoices"]


def test_the_embedded_default_store_is_created_on_first_use(isolated_home: Path) -> None:
    data = isolated_home / "data"
    assert not data.exists()
    Cli(db=None).ok("partner", "list")
    assert (data / "licensectl.db").exists()


def test_a_read_does_not_upgrade_an_older_store_and_a_write_does(store_url: str) -> None:
    cli = Cli(db=store_url)
    cli.ok(*WRITE)
    execute(store_url, f"DELETE FROM schema_migration WHERE version = {LATEST}")
    gate.forget_all()  # as a new process would
    result = cli.fails(6, "partner", "list")
    assert f"schema version {LATEST - 1}" in result.stderr and "db upgrade" in result.stderr
    cli.ok("partner", "add", "Other")
    assert len(cli.json("partner", "list")) == 2


# --- item 5: a store of a newer licensectl ------------------------------------------------


def execute(url: str, statement: str) -> None:
    engine = create_engine(normalize_db_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def test_a_store_of_a_newer_licensectl_is_refused_by_every_command(store_url: str) -> None:
    cli = Cli(db=store_url)
    cli.ok(*WRITE)
    execute(
        store_url,
        "INSERT INTO schema_migration (version, name, applied_at) "
        f"VALUES ({LATEST + 1}, 'from the future', '2030-01-01 00:00:00')",
    )
    gate.forget_all()  # as a new process would
    for args in (*READS, WRITE, ("db", "upgrade"), ("db", "backup", "copy.db")):
        result = cli.run(*args)
        assert result.exit_code == 6, (args, result.stderr)
        assert_one_error_line(result)
        assert f"schema version {LATEST + 1}" in result.stderr
        assert "newer" in result.stderr


# --- issue 8, item 6: the schema is checked once per process -------------------------------


def test_a_second_backend_on_a_store_runs_no_schema_query(store_url: str) -> None:
    from licensectl.service import LocalBackend

    url = normalize_db_url(store_url)
    Cli(db=store_url).ok(*WRITE)
    gate.forget_all()
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        per_backend = []
        for _ in range(3):
            statements.clear()
            backend = LocalBackend.open(url)
            try:
                assert [p.name for p in backend.partner_list()] == ["Acme"]
            finally:
                backend.close()
            per_backend.append(list(statements))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    schema_words = ("schema_migration", "sqlite_master", "information_schema", "pg_catalog")
    first, second, third = per_backend
    if store_url.startswith("postgresql"):
        assert any(w in s for s in first for w in schema_words)
    for later in (second, third):
        assert not any(w in s for s in later for w in schema_words), later
        assert len(later) < len(first) or not store_url.startswith("postgresql")
