"""The audit log (issue 7, item 3): append-only in the database, and a hash chain that
`db check` verifies."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

import pytest
from conftest import Cli
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from licensectl.contract.requests import PartnerAdd
from licensectl.store import audit
from licensectl.store.schema import LATEST
from licensectl.store.url import normalize_db_url


def execute(db: str | None, *statements: str) -> list[Any]:
    """Change the store behind licensectl's back, as a hand edit might."""
    assert db is not None
    engine = create_engine(normalize_db_url(db))
    try:
        with engine.begin() as conn:
            rows: list[Any] = []
            for statement in statements:
                result = conn.execute(text(statement))
                rows = list(result) if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def chain_check(cli: Cli) -> dict[str, Any]:
    report = json.loads(cli.run("-o", "json", "db", "check").stdout)
    return next(c for c in report["checks"] if c["name"].startswith("audit log: hash"))


def drop_guards(db: str | None) -> None:
    if db is not None and db.startswith("postgresql"):
        execute(db, "DROP TRIGGER event_append_only ON event")
    else:
        execute(db, "DROP TRIGGER event_no_update", "DROP TRIGGER event_no_delete")


# --- the guards ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT OR REPLACE INTO event (id, at, actor, action, details, hash) "
        "VALUES (1, '2026-01-01 00:00:00.000000', 'mallory', 'partner.add', '{}', 'x')",
        "REPLACE INTO event (id, at, actor, action, details, hash) "
        "VALUES (1, '2026-01-01 00:00:00.000000', 'mallory', 'partner.add', '{}', 'x')",
        "INSERT INTO event (id, at, actor, action, details, hash) "
        "VALUES (1, '2026-01-01 00:00:00.000000', 'mallory', 'partner.add', '{}', 'x') "
        "ON CONFLICT (id) DO UPDATE SET actor = 'mallory'",
        "UPDATE OR REPLACE event SET actor = 'mallory'",
    ],
)
def test_sqlite_replace_cannot_rewrite_an_event(sqlite_cli: Cli, statement: str) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    assert sqlite_cli.db is not None
    conn = sqlite3.connect(sqlite_cli.db)  # a plain connection: recursive_triggers off
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute("SELECT actor FROM event").fetchall() != [("mallory",)]
    finally:
        conn.close()
    assert chain_check(sqlite_cli)["ok"] is True
    sqlite_cli.ok("db", "check")


def test_postgres_truncate_and_rewrites_are_refused(pg_database: str) -> None:
    cli = Cli(db=pg_database)
    cli.ok("partner", "add", "Acme")
    for statement in (
        "TRUNCATE event",
        "UPDATE event SET actor = 'mallory'",
        "DELETE FROM event",
        "INSERT INTO event (id, at, actor, action, details, hash) "
        "VALUES (1, now(), 'mallory', 'partner.add', '{}', 'x') "
        "ON CONFLICT (id) DO UPDATE SET actor = 'mallory'",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            execute(pg_database, statement)
    assert execute(pg_database, "SELECT count(*) FROM event") == [(1,)]
    cli.ok("db", "check")


@pytest.mark.parametrize("guard", ["first", "second", "third", "disabled"])
def test_db_check_notices_a_missing_guard(cli: Cli, guard: str) -> None:
    cli.ok("partner", "add", "Acme")
    pg = str(cli.db).startswith("postgresql")
    names = list(audit.PG_GUARDS if pg else audit.SQLITE_GUARDS)
    if guard == "disabled":
        name = names[0]
        if pg:
            execute(cli.db, f"ALTER TABLE event DISABLE TRIGGER {name}")
        else:  # SQLite cannot disable a trigger; a harmless look-alike replaces it
            execute(
                cli.db,
                f"DROP TRIGGER {name}",
                f"CREATE TRIGGER {name} BEFORE UPDATE ON event BEGIN SELECT 1; END",
            )
    else:
        index = ["first", "second", "third"].index(guard)
        if index >= len(names):
            # CASCADE takes both triggers with the function
            execute(cli.db, f"DROP FUNCTION {audit.PG_FUNCTION}() CASCADE")
            name = names[0]
        else:
            name = names[index]
            execute(cli.db, f"DROP TRIGGER {name}" + (" ON event" if pg else ""))
    result = cli.fails(7, "-o", "json", "db", "check")
    report = json.loads(result.stdout)
    guards = next(c for c in report["checks"] if c["name"].startswith("audit log: append"))
    assert guards["ok"] is False and any(name in d for d in guards["details"])
    assert name in result.stderr


# --- the chain -------------------------------------------------------------------------


def test_every_event_is_chained_and_a_change_names_the_first_broken_link(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    rows = execute(cli.db, "SELECT id, hash FROM event ORDER BY id")
    assert len(rows) >= 6 and all(h and len(h) == 64 for _, h in rows)
    assert len({h for _, h in rows}) == len(rows)
    assert chain_check(cli) == {
        "name": "audit log: hash chain unbroken",
        "ok": True,
        "problems": 0,
        "details": [],
    }
    drop_guards(cli.db)
    victim = rows[2][0]
    execute(cli.db, f"UPDATE event SET actor = 'mallory' WHERE id = {victim}")
    result = cli.fails(7, "-o", "json", "db", "check")
    chain = chain_check(cli)
    assert chain["problems"] == 1
    assert chain["details"][0].startswith(f"event {victim} does not match")
    assert "first broken link" in chain["details"][0]
    assert "checks failed" in result.stderr


def test_a_removed_event_breaks_the_next_link(cli: Cli, onboarded: dict[str, str]) -> None:
    rows = execute(cli.db, "SELECT id FROM event ORDER BY id")
    drop_guards(cli.db)
    execute(cli.db, f"DELETE FROM event WHERE id = {rows[1][0]}")
    chain = chain_check(cli)
    assert chain["ok"] is False
    assert chain["details"][0].startswith(f"event {rows[2][0]} does not match")


def test_a_rehashed_event_breaks_the_next_link(cli: Cli, onboarded: dict[str, str]) -> None:
    """Rewriting an event and its own hash is caught by the next event's link."""
    rows = execute(cli.db, "SELECT id FROM event ORDER BY id")
    drop_guards(cli.db)
    execute(cli.db, f"UPDATE event SET hash = '{'1' * 64}' WHERE id = {rows[0][0]}")
    details = chain_check(cli)["details"]
    assert [d.split()[1] for d in details] == [str(rows[0][0]), str(rows[1][0])]


@pytest.mark.local_only  # reads the store's own audit log (the http store has a token event)
def test_the_migration_fills_in_the_chain_of_an_older_store(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    """A store of schema 3 (events without hashes, old guards) gets the same hashes the
    events would have had, in id order, and the new guards."""
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--yes")
    before = execute(cli.db, "SELECT id, hash FROM event ORDER BY id")
    pg = str(cli.db).startswith("postgresql")
    drop_guards(cli.db)
    execute(
        cli.db,
        "UPDATE event SET hash = NULL",
        # before Alembic (revision 0004 was numbered migration 4)
        "DELETE FROM schema_migration WHERE version >= 4",
        "DROP TABLE alembic_version",
        *(["DROP TRIGGER event_no_truncate ON event"] if pg else ["DROP TRIGGER event_no_replace"]),
    )
    from licensectl.store import gate

    gate.forget_all()  # a new licensectl process would look again
    assert cli.json("db", "upgrade")["version"] == LATEST
    assert execute(cli.db, "SELECT id, hash FROM event ORDER BY id") == before
    cli.ok("db", "check")


def test_an_import_chains_its_events(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    lines = "".join(
        f"Acme,PO-{n},1,capacity,10,2,,{'Site ' + str(n % 3) if n % 2 else ''}\n" for n in range(40)
    )
    header = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
    assert cli.json("import", "-", input=header + lines)["created"] == 40
    actions = [a for (a,) in execute(cli.db, "SELECT action FROM event ORDER BY id")]
    assert actions.count("license.add") == 40 and actions.count("license.mint") == 20
    assert actions.count("customer.add") == 3
    cli.ok("partner", "add", "After")
    assert chain_check(cli)["ok"] is True


def test_concurrent_writers_never_fork_the_chain(store_url: str) -> None:
    """Writers in parallel, each with its own engine: every event follows exactly one."""
    from licensectl.service import LocalBackend

    url = normalize_db_url(store_url)
    first = LocalBackend.open(url)
    first.partner_add(PartnerAdd(name="Acme"))
    first.close()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        backend = LocalBackend.open(url)
        try:
            for n in range(6):
                backend.partner_add(PartnerAdd(name=f"Partner {worker}-{n}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            backend.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    cli = Cli(db=store_url)
    assert execute(store_url, "SELECT count(*) FROM event") == [(37,)]
    assert chain_check(cli)["ok"] is True


@pytest.mark.local_only  # reads the store's own audit log (the http store has a token event)
def test_a_link_can_be_recomputed_from_the_documented_spelling(cli: Cli) -> None:
    """An auditor's own code, written from the README alone, reproduces the stored hashes."""
    import hashlib

    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "Zoë Façades", "--partner", "Acme")
    spelled = "details::text" if (cli.db or "").startswith("postgresql") else "details"
    rows = execute(
        cli.db,
        "SELECT at, actor, action, license_id, customer_id, partner_id, "
        f"{spelled}, hash FROM event ORDER BY id",
    )
    previous = "0" * 64
    for at, actor, action, license_id, customer_id, partner_id, details, stored in rows:
        if not isinstance(at, str):  # PostgreSQL gives a datetime: the stored spelling
            at = at.strftime("%Y-%m-%d %H:%M:%S.%f")
        fields = [previous, at, actor, action, license_id, customer_id, partner_id, details]
        text_ = "|".join("-" if f is None else f"{len(str(f))}:{f}" for f in fields)
        previous = hashlib.sha256(text_.encode()).hexdigest()
        assert previous == stored
    assert len(rows) == 2
