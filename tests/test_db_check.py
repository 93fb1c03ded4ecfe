"""`licensectl db check`: the store's integrity, file and invariants."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
from typing import Any

from conftest import Cli
from sqlalchemy import create_engine, text

from licensectl.store.url import normalize_db_url

DOMAIN_CHECKS = ("lineage", "ownership", "transfers", "activations", "status")


def execute(cli: Cli, *statements: str) -> None:
    """Change the store behind licensectl's back, as a bug or a hand edit might."""
    assert cli.db is not None
    engine = create_engine(normalize_db_url(cli.db))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def failing(report: dict[str, object]) -> list[str]:
    checks = report["checks"]
    assert isinstance(checks, list)
    return [str(c["name"]).split(":")[0] for c in checks if not c["ok"]]


def test_a_sound_store_passes(cli: Cli, onboarded: dict[str, str]) -> None:
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    report = cli.json("db", "check")
    assert report["ok"] is True and failing(report) == []
    names = [c["name"].split(":")[0] for c in report["checks"]]
    assert set(DOMAIN_CHECKS) <= set(names)
    assert all(set(c) == {"name", "ok", "problems", "details"} for c in report["checks"])
    table = cli.ok("db", "check")
    assert "transfers" in table.stdout and table.stderr == ""


def test_broken_invariants_are_found_and_exit_7(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    moved = cli.ok("transfer", lic, "--to", "P2022-0208", "--quantity", "2", "--yes").stdout
    moved_id = moved.split()[0]
    execute(
        cli,
        # successors now hold 3 + 1 copies of the original's 5
        f"UPDATE license SET quantity = 1 WHERE license_id = '{moved_id}'",
        # an available license that counts an active copy nobody holds
        f"UPDATE license SET active_copies = 1 WHERE license_id = '{moved.split()[1]}'",
    )
    result = cli.fails(7, "-o", "json", "db", "check")
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert failing(report) == ["transfers", "activations", "status"]
    transfers = next(c for c in report["checks"] if c["name"].startswith("transfers"))
    assert transfers["problems"] == 1 and lic in transfers["details"][0]
    assert "checks failed" in result.stderr


def test_orphan_parent_and_wrong_owner(cli: Cli, onboarded: dict[str, str]) -> None:
    cli.ok("partner", "add", "Other Partner")
    other = cli.ok("customer", "add", "Elsewhere", "--partner", "Other Partner").stdout.strip()
    lic = onboarded["license"]
    execute(
        cli,
        "UPDATE license SET parent_id = '00000000-0000-4000-8000-000000000000' "
        f"WHERE license_id = '{lic}'",
        "UPDATE license SET customer_pk = "
        f"(SELECT id FROM customer WHERE customer_id = '{other}') WHERE license_id = '{lic}'",
    )
    report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    assert failing(report) == ["lineage", "ownership"]


def test_sqlite_file_checks(sqlite_cli: Cli) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    report = sqlite_cli.json("db", "check")
    names = [c["name"] for c in report["checks"]]
    assert names[:2] == ["sqlite integrity_check", "sqlite foreign_key_check"]
    assert sqlite_cli.db is not None
    conn = sqlite3.connect(sqlite_cli.db)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(
        "INSERT INTO customer (customer_id, partner_id, name, name_key, created_at) "
        "VALUES ('00000000-0000-4000-8000-000000000001', 999, 'Lost', 'lost', '2026-01-01')"
    )
    conn.commit()
    conn.close()
    report = json.loads(sqlite_cli.fails(7, "-o", "json", "db", "check").stdout)
    assert failing(report) == ["sqlite foreign_key_check"]
    assert "customer row" in report["checks"][1]["details"][0]


def test_counts_and_terms_out_of_range_are_found(cli: Cli, onboarded: dict[str, str]) -> None:
    """A damaged byte can turn a count negative or a term into nonsense (issue 12 found
    these while `void` moved the pages around)."""
    execute(
        cli,
        f"UPDATE license SET devices = -117 WHERE license_id = '{onboarded['license']}'",
    )
    report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    values = next(c for c in report["checks"] if c["name"].startswith("values"))
    assert values["details"] == ["license.devices holds -117, not a count licensectl writes"]
    execute(
        cli,
        f"UPDATE license SET devices = 200, type = 'maintenance', term_months = 7 "
        f"WHERE license_id = '{onboarded['license']}'",
    )
    report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    values = next(c for c in report["checks"] if c["name"].startswith("values"))
    assert values["details"] == ["license.term_months holds 7, not 12 or 36"]


def test_progress_is_reported_from_start_to_end(
    cli: Cli, backend_as: Any, onboarded: dict[str, str]
) -> None:
    """The service tells how far the check has come: 0 first, 1 last, never backwards
    (the bar `db check` shows on a terminal)."""
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    seen: list[float] = []
    report = backend_as().db_check(progress=seen.append)
    assert report.ok
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert all(0.0 <= f <= 1.0 for f in seen)


def on_a_terminal(db: str, *args: str) -> tuple[int, str, str]:
    """`licensectl --db DB ARGS` as a whole process whose stderr is a terminal (a pty):
    (exit code, stdout, what the terminal showed)."""
    main, side = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "licensectl", "--db", db, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=side,
        env=env,
    )
    os.close(side)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read() if proc.stdout is not None else b""
    code = proc.wait()
    os.close(main)
    return code, out.decode(), shown.decode("utf-8", "replace")


def test_a_progress_bar_on_a_terminal_only_with_a_table(sqlite_cli: Cli) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    assert sqlite_cli.db is not None
    code, out, shown = on_a_terminal(sqlite_cli.db, "db", "check")
    assert code == 0 and "Checking the store" in shown and "transfers" in out
    for args in (("-o", "json", "db", "check"), ("--quiet", "db", "check")):
        code, out, shown = on_a_terminal(sqlite_cli.db, *args)
        assert code == 0 and "Checking" not in shown, args
    # Not a terminal: no bar, nothing on stderr.
    result = sqlite_cli.ok("db", "check")
    assert result.stderr == "" and "Checking" not in result.stdout


def test_values_outside_the_sql_fast_test_are_checked_exactly(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    """Names outside ASCII pass (their keys are made by NFKC and case folding, checked in
    Python); a broken UUID, key or (SQLite) time is reported as before."""
    cli.ok("customer", "add", "Ｃafé  Ünïon", "--partner", "Acme Integrators")
    assert cli.json("db", "check")["ok"] is True
    lic = onboarded["license"]
    execute(
        cli,
        f"UPDATE license SET license_id = upper(license_id) WHERE license_id = '{lic}'",
        "UPDATE license SET po_key = po_key || 'x'",
    )
    report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    values = next(c for c in report["checks"] if c["name"].startswith("values"))
    assert f"license.license_id holds '{lic.upper()}', not a UUID" in values["details"]
    assert any("has the key" in d and "should be" in d for d in values["details"])


def test_day_counts_that_disagree_with_the_log_are_named(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    """`report activity` adds up event_day (revision 0007); db check holds it to the log:
    a count changed, and a day the log never had, each fail the check (exit 7)."""
    assert cli.json("db", "check")["ok"] is True
    execute(
        cli,
        "UPDATE event_day SET count = count + 1 WHERE action = 'customer.add'",
        "INSERT INTO event_day (day, actor, action, partner_id, count) "
        "VALUES ('2001-01-01', 'nobody', 'license.mint', 0, 3)",
    )
    result = cli.fails(7, "-o", "json", "db", "check")
    report = json.loads(result.stdout)
    days = next(c for c in report["checks"] if c["name"].startswith("audit log: day counts"))
    assert days["ok"] is False and days["problems"] == 2
    assert any("customer.add" in d for d in days["details"])
    assert any(d.startswith("2001-01-01 license.mint by nobody") for d in days["details"])
    assert failing(report) == ["audit log"]


def test_the_integrity_parts_cover_every_table_and_index(sqlite_cli: Cli) -> None:
    """`PRAGMA integrity_check` runs as the quick check plus one table check per table
    (side by side): together they must cover every table and index of the file, the
    ones a later revision adds too, so the parts are read from sqlite_master."""
    from licensectl.service.integrity import integrity_parts

    sqlite_cli.ok("partner", "add", "Acme")
    assert sqlite_cli.db is not None
    with sqlite3.connect(sqlite_cli.db) as conn:  # as a later revision might
        conn.execute("CREATE TABLE later_thing (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.execute("CREATE INDEX ix_later_thing_name ON later_thing (name)")
        conn.execute('CREATE TABLE "odd \'name" (x TEXT PRIMARY KEY, y UNIQUE) WITHOUT ROWID')
    engine = create_engine(normalize_db_url(sqlite_cli.db))
    try:
        with engine.connect() as conn:
            parts = [sql for sql, _ in integrity_parts(conn)]
            listed = conn.exec_driver_sql(
                "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
            ).all()
            for sql in parts:  # each part runs as it is and passes on a sound file
                assert conn.exec_driver_sql(sql).scalar() == "ok", sql
    finally:
        engine.dispose()
    assert parts[0] == "PRAGMA quick_check"
    checked = {sql.removeprefix("PRAGMA integrity_check(")[1:-2].replace("''", "'")
               for sql in parts[1:]}  # fmt: skip
    assert len(parts) == len(checked) + 1
    tables = {name for kind, name, _ in listed if kind == "table"}
    assert {"later_thing", "odd 'name", "license", "event", "sqlite_master"} <= checked
    assert checked == tables | {"sqlite_master"}
    assert {table for kind, _, table in listed if kind == "index"} <= checked


def test_a_changed_index_entry_fails_the_integrity_check(sqlite_cli: Cli) -> None:
    """A changed byte in an index (the rows untouched) is found only by the table part of
    the integrity check (`quick_check` does not compare an index with its table)."""
    sqlite_cli.ok("partner", "add", "Acme")
    for po in ("PO-AAAA", "PO-MMMM", "PO-ZZZZ"):
        sqlite_cli.ok("license", "add", "--po", po, "--type", "core", "--devices", "1")
    assert sqlite_cli.db is not None
    with sqlite3.connect(sqlite_cli.db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page,) = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'ix_license_po_key'"
        ).fetchone()
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(sqlite_cli.db, "r+b") as handle:
        handle.seek((page - 1) * size)
        data = bytearray(handle.read(size))
        at = data.index(b"po-mmmm")
        data[at + 6] = ord("n")  # po-mmmn: still between its neighbours, so in order
        handle.seek((page - 1) * size)
        handle.write(data)
    with sqlite3.connect(sqlite_cli.db) as conn:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    report = json.loads(sqlite_cli.fails(7, "-o", "json", "db", "check").stdout)
    assert failing(report) == ["sqlite integrity_check"]
    assert any("ix_license_po_key" in d for d in report["checks"][0]["details"])


def test_the_log_is_read_once_for_the_chain_and_the_day_counts(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    """On SQLite the chain's pass counts the events by day too: the log is not grouped
    again in SQL. What the day-count check finds is the same either way."""
    from sqlalchemy import Engine, event

    from licensectl.store import audit

    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    execute(
        cli,
        "UPDATE event_day SET count = count + 1 WHERE action = 'customer.add'",
        "INSERT INTO event_day (day, actor, action, partner_id, count) "
        "VALUES ('2001-01-01', 'nobody', 'license.mint', 0, 3)",
    )
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    days = next(c for c in report["checks"] if c["name"].startswith("audit log: day counts"))
    assert days["problems"] == 2
    grouped = [s for s in seen if "GROUP BY" in s and "FROM event" in s]
    assert cli.db is not None
    if cli.db.startswith("postgresql"):
        assert grouped  # PostgreSQL hashes the chain itself: it counts the days too
        return
    assert grouped == []
    assert not [s for s in seen if s.startswith("SELECT at FROM event")]  # times: same pass
    engine = create_engine(normalize_db_url(cli.db))
    try:
        with engine.connect() as conn:
            counted = audit.DayCounts()
            assert list(audit.verify_chain(conn, days=counted)) == []
            assert counted.complete and sum(counted.values()) > 0
            by_sql = audit.day_count_mismatches(conn)
            assert audit.day_count_mismatches(conn, logged=counted) == by_sql
            assert len(by_sql) == 2
            assert audit.day_count_mismatches(conn, 1, logged=counted) == by_sql[:1]
    finally:
        engine.dispose()


def test_copies_held_on_an_available_license_are_found(cli: Cli, onboarded: dict[str, str]) -> None:
    """An available license with no active copies passes the license row's own test:
    the license rules still look at it when an activation holds copies of it (and when
    it has successors), so the count is named."""
    lic = onboarded["license"]
    execute(
        cli,
        "INSERT INTO smartserver (install_code, created_at) "
        "VALUES ('SS-HAND-EDIT', '2026-01-01 00:00:00')",
        "INSERT INTO activation (license_seq, smartserver_id, copies, mode, activated_at, "
        "updated_at) SELECT l.seq, s.id, 2, 'online', '2026-01-01 00:00:00', "
        f"'2026-01-01 00:00:00' FROM license l, smartserver s WHERE l.license_id = '{lic}'",
    )
    report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
    assert failing(report) == ["activations"]
    activations = next(c for c in report["checks"] if c["name"].startswith("activations"))
    assert activations["details"] == [
        f"license {lic} counts 0 active copies; its activations hold 2"
    ]


def test_event_times_not_spelled_as_licensectl_writes_them(sqlite_cli: Cli) -> None:
    """The chain's pass tests the events' times (SQLite); a row of another type makes
    the check read them in SQL as before: either way each odd time is named, in the
    order of the index on the time."""
    for name in ("Acme", "Bravo", "Charlie", "Delta"):
        sqlite_cli.ok("partner", "add", name)
    assert sqlite_cli.db is not None
    with sqlite3.connect(sqlite_cli.db) as conn:
        conn.execute("DROP TRIGGER event_no_update")
        conn.execute("UPDATE event SET at = '2026-01-01T00:00:00' WHERE id = 2")
        conn.execute("UPDATE event SET at = '2025-01-01 00:00' WHERE id = 3")
    report = json.loads(sqlite_cli.fails(7, "-o", "json", "db", "check").stdout)
    values = next(c for c in report["checks"] if c["name"].startswith("values"))
    odd = [
        "event.at holds '2025-01-01 00:00', not a time licensectl wrote",
        "event.at holds '2026-01-01T00:00:00', not a time licensectl wrote",
    ]
    assert values["details"] == odd
    with sqlite3.connect(sqlite_cli.db) as conn:
        conn.execute("UPDATE event SET at = 20260101 WHERE id = 4")
    report = json.loads(sqlite_cli.fails(7, "-o", "json", "db", "check").stdout)
    values = next(c for c in report["checks"] if c["name"].startswith("values"))
    assert values["details"] == ["event.at holds 20260101, not a time licensectl wrote", *odd]


def test_every_value_test_still_names_its_finding(cli: Cli, onboarded: dict[str, str]) -> None:
    """The value tests read each table once for all its columns: each test still names
    what it finds, a row with several bad values is named by each test, and the findings
    are listed test by test (enums, UUIDs, keys, counts, terms, migrations, times)."""
    from licensectl import domain
    from licensectl.domain import ActivationMode, LicenseStatus, LicenseType, Role

    lic = onboarded["license"]
    other = cli.ok("license", "add", "--po", "PO-2002", "--type", "core", "--devices", "1")
    other_id = other.stdout.strip()
    moved = cli.ok("transfer", lic, "--to", "P2022-0208", "--quantity", "2", "--yes").stdout
    cli.ok("activate", moved.split()[0], "--install-code", "SS-1")
    cli.ok("token", "create", "--role", "partner", "--partner", "Acme Integrators",
           "--name", "acme-bot")  # fmt: skip
    assert cli.db is not None
    sqlite = not cli.db.startswith("postgresql")
    engine = create_engine(normalize_db_url(cli.db))
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT min(version) FROM schema_migration")).scalar()
    finally:
        engine.dispose()
    execute(
        cli,
        f"UPDATE license SET type = 'bogus', devices = -1, quantity = 0, po_line = 0, "
        f"active_copies = -1, term_months = 7, license_id = upper(license_id), "
        f"po_key = 'po-9999' WHERE license_id = '{lic}'",
        f"UPDATE license SET status = 'lost', parent_id = 'not-a-uuid' "
        f"WHERE license_id = '{other_id}'",
        "UPDATE activation SET mode = 'carrier-pigeon', copies = -5",
        "UPDATE api_token SET role = 'root' WHERE name = 'acme-bot'",
        "UPDATE customer SET customer_id = upper(customer_id) "
        f"WHERE customer_id = '{onboarded['customer1']}'",
        "UPDATE partner SET name_key = 'wrong'",
        "UPDATE customer SET name_key = 'elsewhere' WHERE name = 'P-Building 1'",
        f"UPDATE schema_migration SET name = 'renamed' WHERE version = {version}",
    )
    if sqlite:
        execute(
            cli,
            "UPDATE partner SET created_at = '2026-01-01T00:00:00'",
            "UPDATE customer SET created_at = 'yesterday' WHERE name = 'P-Building 1'",
            f"UPDATE license SET created_at = 20260101 WHERE license_id = '{other_id}'",
            f"UPDATE schema_migration SET applied_at = '2026/01/01' WHERE version = {version}",
        )

    def one_of(enum: Any) -> str:
        return str(sorted(member.value for member in enum))

    enums = [
        f"license.type holds 'bogus', not one of {one_of(LicenseType)}",
        f"license.status holds 'lost', not one of {one_of(LicenseStatus)}",
        f"activation.mode holds 'carrier-pigeon', not one of {one_of(ActivationMode)}",
        f"api_token.role holds 'root', not one of {one_of(Role)}",
    ]
    rest = [
        f"license.license_id holds '{lic.upper()}', not a UUID",
        "license.parent_id holds 'not-a-uuid', not a UUID",
        f"customer.customer_id holds '{onboarded['customer1'].upper()}', not a UUID",
        "partner 'Acme Integrators' has the key 'wrong'; it should be "
        f"'{domain.name_key('Acme Integrators')}'",
        "customer 'P-Building 1' has the key 'elsewhere'; it should be "
        f"'{domain.name_key('P-Building 1')}'",
        f"license 'PO-1001' has the key 'po-9999'; it should be '{domain.po_key('PO-1001')}'",
        "license.devices holds -1, not a count licensectl writes",
        "license.quantity holds 0, not a count licensectl writes",
        "license.po_line holds 0, not a count licensectl writes",
        "license.active_copies holds -1, not a count licensectl writes",
        "activation.copies holds -5, not a count licensectl writes",
        "license.term_months holds 7, not 12 or 36",
        f"schema_migration {version!r} is named 'renamed', not a migration",
    ]
    if sqlite:
        rest += [
            "partner.created_at holds '2026-01-01T00:00:00', not a time licensectl wrote",
            "customer.created_at holds 'yesterday', not a time licensectl wrote",
            "license.created_at holds 20260101, not a time licensectl wrote",
            "schema_migration.applied_at holds '2026/01/01', not a time licensectl wrote",
        ]

    def values_check() -> dict[str, Any]:
        report = json.loads(cli.fails(7, "-o", "json", "db", "check").stdout)
        return next(c for c in report["checks"] if c["name"].startswith("values"))

    values = values_check()
    assert values["problems"] == len(enums + rest)
    assert values["details"] == (enums + rest)[:20]
    execute(
        cli,
        f"UPDATE license SET type = 'capacity' WHERE license_id = '{lic.upper()}'",
        f"UPDATE license SET status = 'available' WHERE license_id = '{other_id}'",
        "UPDATE activation SET mode = 'online'",
        "UPDATE api_token SET role = 'partner' WHERE name = 'acme-bot'",
    )
    values = values_check()
    assert values["problems"] == len(rest) and values["details"] == rest


def test_the_value_tests_read_each_table_once(cli: Cli, onboarded: dict[str, str]) -> None:
    """All the value tests of a table are made in one read of it (a million licenses were
    read about ten times, once per test); what they find is unchanged (the test above)."""
    from sqlalchemy import Engine, event
    from sqlmodel import Session

    from licensectl.service.integrity import _values

    lic = onboarded["license"]
    moved = cli.ok("transfer", lic, "--to", "P2022-0208", "--quantity", "2", "--yes").stdout
    cli.ok("activate", moved.split()[0], "--install-code", "SS-1")
    assert cli.db is not None
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = create_engine(normalize_db_url(cli.db))
    event.listen(Engine, "before_cursor_execute", record)
    try:
        with Session(engine) as s:
            assert _values(s).problems == 0
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        engine.dispose()
    reads = [s.split(" FROM ")[1].split()[0] for s in seen if " FROM " in s]
    for table in ("license", "customer", "partner", "activation", "api_token", "event"):
        assert reads.count(table) <= 1, (table, reads)
    assert reads.count("license") == 1


def test_only_the_license_part_of_the_integrity_check_has_a_larger_cache(
    sqlite_cli: Cli,
) -> None:
    """`integrity_check('license')` looks each license up in its indexes: it runs with a
    64 MiB page cache (fewer pages read again by system call); every other part runs
    with the connection's default, which the connection has back after the license."""
    import threading

    from sqlalchemy import event

    from licensectl.service.integrity import _Integrity, integrity_parts
    from licensectl.store.engine import Store

    sqlite_cli.ok("partner", "add", "Acme")
    assert sqlite_cli.db is not None
    store = Store(normalize_db_url(sqlite_cli.db))
    traced: list[tuple[int, str]] = []

    def connected(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(lambda sql: traced.append((threading.get_ident(), sql)))

    event.listen(store.engine, "connect", connected)
    try:
        with store.engine.connect() as conn:
            parts = integrity_parts(conn)
            default = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        (check,) = _Integrity(store, parts).result()
    finally:
        store.engine.dispose()
    assert check.problems == 0
    cache: dict[int, str] = {}
    ran: dict[str, str] = {}
    for thread, sql in traced:
        if sql.startswith("PRAGMA cache_size = "):
            cache[thread] = sql.removeprefix("PRAGMA cache_size = ")
        elif sql in {part for part, _ in parts}:
            ran[sql] = cache.get(thread, str(default))
    assert set(ran) == {part for part, _ in parts}
    assert ran.pop("PRAGMA integrity_check('license')") == str(-64 * 1024)
    assert set(ran.values()) == {str(default)}
    assert set(cache.values()) == {str(default)}  # each connection has its default back


def test_the_value_tests_read_beside_the_chain(sqlite_cli: Cli) -> None:
    """On a SQLite file the value tests read the tables (all but the log) in a thread of
    their own, beside the hash chain on the main thread; an error there fails the values
    check with the store's error, as on the main thread, and the other checks still run."""
    import threading

    from sqlalchemy import Engine, event

    sqlite_cli.ok("partner", "add", "Acme")
    seen: list[tuple[str, str]] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append((threading.current_thread().name, statement))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        assert sqlite_cli.json("db", "check")["ok"] is True
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    reads = [(thread, s.split(" FROM ")[1].split()[0]) for thread, s in seen
             if s.startswith("SELECT ") and " THEN 1 ELSE 0 END" in s]  # fmt: skip
    assert ("db-check-values", "license") in reads
    assert {table for thread, table in reads if thread != "db-check-values"} <= {"event"}
    assert sqlite_cli.db is not None
    with sqlite3.connect(sqlite_cli.db) as conn:
        conn.execute("ALTER TABLE partner RENAME COLUMN created_at TO made_at")
    report = json.loads(sqlite_cli.fails(7, "-o", "json", "db", "check").stdout)
    values = next(c for c in report["checks"] if c["name"].startswith("values"))
    assert values["details"] == ["the store could not be read: no such column: created_at"]
    assert any(c["name"].startswith("transfers") and c["ok"] for c in report["checks"])


def test_several_findings_of_one_test_keep_their_order(sqlite_cli: Cli) -> None:
    """Findings of one value test are listed as the old query per test listed them: by
    the value where it read the column's index (UUIDs, status), else in the table's
    order."""
    for name in ("Bravo", "Alpha"):
        sqlite_cli.ok("partner", "add", name)
    add = ("license", "add", "--partner", "Bravo", "--type", "core", "--devices", "1")
    ids = [sqlite_cli.ok(*add, "--po", f"PO-{n}").stdout.strip() for n in range(3)]
    execute(
        sqlite_cli,
        "UPDATE partner SET name_key = 'zz' WHERE name = 'Bravo'",
        "UPDATE partner SET name_key = 'aa' WHERE name = 'Alpha'",
        f"UPDATE license SET status = 'zz', license_id = upper(license_id) "
        f"WHERE license_id = '{ids[0]}'",
        f"UPDATE license SET status = 'aa', license_id = upper(license_id) "
        f"WHERE license_id = '{ids[2]}'",
    )
    report = json.loads(sqlite_cli.fails(7, "-o", "json", "db", "check").stdout)
    values = next(c for c in report["checks"] if c["name"].startswith("values"))
    statuses = [d for d in values["details"] if d.startswith("license.status")]
    assert [d.split("'")[1] for d in statuses] == ["aa", "zz"]
    uuids = [d.split("'")[1] for d in values["details"] if d.startswith("license.license_id")]
    assert uuids == sorted(i.upper() for i in (ids[0], ids[2]))
    keys = [d.split("'")[1] for d in values["details"] if d.startswith("partner ")]
    assert keys == ["Bravo", "Alpha"]
