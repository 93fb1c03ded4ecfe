"""`licensectl db check`: the store's integrity, file and invariants."""

from __future__ import annotations

import json
import sqlite3

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
