"""Alembic migrations: old stores are recognised, upgraded without losing a row, backed up.

A store "at the first revision" is made by filling a store through the CLI and then
taking away what revisions 0002-0004 add (as test_token_cli does for revision 0003):
the tables and indexes, the Alembic table, the rows of `schema_migration` after 1.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from sqlalchemy import create_engine, text

from licensectl.store import gate
from licensectl.store.schema import HEAD, LATEST, REVISIONS
from licensectl.store.url import normalize_db_url

VERSIONS = Path(__file__).resolve().parent.parent / "licensectl/store/migrations/versions"

#: Every table that holds what users entered.
DATA_TABLES = (
    "partner",
    "customer",
    "customer_email",
    "license",
    "smartserver",
    "activation",
    "event",
)

#: About the local store itself (its schema, indexes and statements), not the API.
pytestmark = pytest.mark.local_only


def execute(url: str, *statements: str) -> None:
    """Change the store behind licensectl's back (as an older or newer licensectl would)."""
    engine = create_engine(normalize_db_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    gate.forget_all()  # as a new process would look again


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(normalize_db_url(url))
    try:
        with engine.connect() as conn:
            return {
                table: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table}"))]
                for table in DATA_TABLES
            }
    finally:
        engine.dispose()


def fill(cli: Cli) -> dict[str, str]:
    """Partners, customers, a lineage of transfers, activations and their events."""
    cli.ok("partner", "add", "Acme Integrators", "--email", "ops@acme.example")
    cli.ok("partner", "add", "Other Partner")
    owner = cli.ok("customer", "add", "Harbour Building", "--partner", "Acme Integrators")
    cli.ok("customer", "add", "Second Site", "--partner", "Acme Integrators", "--email", "a@b.c")
    cli.ok("customer", "add", "Elsewhere", "--partner", "Other Partner")
    first = cli.ok(
        "license", "add", "--partner", "Acme Integrators", "--po", "PO-1001",
        "--type", "capacity", "--devices", "200", "--quantity", "5",
    ).stdout.strip()  # fmt: skip
    moved = cli.ok(
        "transfer", first, "--to", "Harbour Building", "--quantity", "3", "--yes"
    ).stdout.split()
    child = moved[0]
    again = cli.ok("transfer", child, "--to", "Second Site", "--quantity", "1", "--yes")
    grandchild = again.stdout.split()[0]
    cli.ok("activate", grandchild, "--install-code", "SS-1", "--copies", "1")
    return {"first": first, "grandchild": grandchild, "owner": owner.stdout.strip()}


def rewind_to_first_revision(url: str) -> None:
    """Take away what revisions 0002-0004 add: as a store at revision 0001 looked."""
    postgres = "postgresql" in url
    statements = [
        "DROP TABLE api_token",
        "DROP TABLE idempotency_key",
        "DROP TABLE login_failure",
        "DROP INDEX ix_license_status_seq",  # revision 0005
        "DROP TABLE alembic_version",
        "DELETE FROM schema_migration WHERE version > 1",
    ]
    if postgres:
        statements += ["DROP INDEX ix_customer_name_key_trgm", "DROP INDEX ix_license_po_key_c"]
    else:
        statements += [
            "DROP TRIGGER customer_fts_insert",
            "DROP TRIGGER customer_fts_update",
            "DROP TRIGGER customer_fts_delete",
            "DROP TABLE customer_fts",
        ]
    execute(url, *statements)


def test_revisions_on_disk_are_the_ones_the_fast_path_knows() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(VERSIONS.parent))
    script = ScriptDirectory.from_config(config)
    chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert tuple(chain) == REVISIONS and script.get_current_head() == HEAD
    assert LATEST == len(REVISIONS)


def test_a_store_at_the_first_revision_upgrades_without_losing_anything(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli.db is not None
    made = fill(cli)
    rewind_to_first_revision(cli.db)
    before = dump(cli.db)

    pending = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    assert pending["revision"] == "0001" and pending["latest_revision"] == HEAD
    assert pending["pending"] == list(REVISIONS[1:])
    schema = next(c for c in pending["checks"] if c["name"].startswith("schema revision"))
    assert not schema["ok"] and "db upgrade" in schema["details"][0]

    upgraded = cli.json("db", "upgrade")
    assert upgraded["revision"] == HEAD and upgraded["version"] == LATEST

    assert dump(cli.db) == before
    report = cli.json("db", "check")
    assert report["ok"] and report["revision"] == HEAD and report["pending"] == []
    assert report["search_index"] in ("fts5 trigram", "pg_trgm")
    # the new indexes serve the old rows
    found = cli.json("search", "customer", "arbour")
    assert [c["customer_id"] for c in found] == [made["owner"]]
    history = cli.json("license", "history", made["grandchild"])
    assert [a["license_id"] for a in history["ancestors"]][0] == made["first"]
    if "postgresql" not in cli.db:
        backup = Path(f"{cli.db}.0001.backup")
        with sqlite3.connect(backup) as copy:
            assert copy.execute("SELECT max(version) FROM schema_migration").fetchone() == (1,)
            (count,) = copy.execute("SELECT count(*) FROM license").fetchone()
            assert count == len(before["license"])


def test_a_store_made_before_alembic_is_stamped_not_recreated(cli: Cli) -> None:
    assert cli.db is not None
    fill(cli)
    # as numbered migration 4 left it: no Alembic table, nothing recorded after 4
    execute(cli.db, "DROP TABLE alembic_version", "DELETE FROM schema_migration WHERE version > 4")
    before = dump(cli.db)
    report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    assert report["revision"] == "0004" and report["pending"] == list(REVISIONS[4:])
    assert cli.json("db", "upgrade")["revision"] == HEAD
    assert dump(cli.db) == before
    cli.ok("db", "check")


def test_a_sqlite_store_upgrades_itself_on_first_write_after_a_backup(sqlite_cli: Cli) -> None:
    assert sqlite_cli.db is not None
    made = fill(sqlite_cli)
    rewind_to_first_revision(sqlite_cli.db)
    before = dump(sqlite_cli.db)
    # a command that only reads does not upgrade it (store/gate.py): it names db upgrade
    assert "db upgrade" in sqlite_cli.fails(6, "customer", "list").stderr
    assert not Path(f"{sqlite_cli.db}.0001.backup").exists()
    sqlite_cli.ok("partner", "add", "Late Partner")
    after = dump(sqlite_cli.db)
    assert {k: v for k, v in after.items() if k not in ("partner", "event")} == {
        k: v for k, v in before.items() if k not in ("partner", "event")
    }
    assert after["partner"][: len(before["partner"])] == before["partner"]
    with sqlite3.connect(sqlite_cli.db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    backup = Path(f"{sqlite_cli.db}.0001.backup")
    assert backup.is_file()
    # the backup is a whole store of its own, at the old revision, with every row
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT max(version) FROM schema_migration").fetchone() == (1,)
        licenses = {row[0] for row in copy.execute("SELECT license_id FROM license")}
    assert made["first"] in licenses and len(licenses) == len(before["license"])


def test_a_store_from_a_newer_licensectl_is_refused(cli: Cli) -> None:
    assert cli.db is not None
    cli.ok("partner", "add", "Acme")
    execute(
        cli.db,
        "UPDATE alembic_version SET version_num = '9999'",
        "INSERT INTO schema_migration (version, name, applied_at) "
        "VALUES (99, 'from the future', '2030-01-01 00:00:00')",
    )
    for args in (("partner", "list"), ("db", "upgrade"), ("db", "check")):
        refused = cli.fails(6, *args)
        assert "newer" in refused.stderr and "upgrade licensectl" in refused.stderr


@pytest.mark.parametrize("revision", ["0002", "0003"])
def test_serve_refuses_a_store_with_pending_revisions(sqlite_cli: Cli, revision: str) -> None:
    from licensectl.errors import StoreUnavailableError
    from licensectl.server.ready import require_current_schema
    from licensectl.store.engine import Store

    assert sqlite_cli.db is not None
    sqlite_cli.ok("partner", "add", "Acme")
    execute(sqlite_cli.db, f"UPDATE alembic_version SET version_num = '{revision}'")
    store = Store(normalize_db_url(sqlite_cli.db))
    try:
        with pytest.raises(StoreUnavailableError, match=f"revision {revision}.*db upgrade"):
            require_current_schema(store)
    finally:
        store.dispose()
