"""SQLite: what an import pauses inside its own transaction (the event table's REPLACE
guard, the trigram index's trigger, secondary indexes) stays in force for every other
connection, and is back, exactly as written, whatever way the import ends."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from licensectl.contract.requests import ImportOptions, PartnerAdd
from licensectl.service import LocalBackend, importing
from licensectl.store import audit

pytestmark = pytest.mark.local_only  # the SQLite file itself, opened beside the import

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
REPLACE = (
    "REPLACE INTO event (id, at, actor, action, details, hash) "
    "VALUES (1, '2026-01-01 00:00:00.000000', 'mallory', 'partner.add', '{}', 'x')"
)


def lines(count: int, *, start: int = 0, bad_last: bool = False) -> Iterator[str]:
    yield HEADER
    for n in range(start, start + count):
        customer = f"Site {n % 7}" if n % 5 == 0 else ""
        devices = "-3" if bad_last and n == start + count - 1 else "100"
        yield f"Acme,PO-{n},1,capacity,{devices},2,,{customer}\n"


def schema(path: Path) -> set[tuple[str, str, str]]:
    """Every trigger and index as another connection sees it (committed state)."""
    with sqlite3.connect(path) as other:
        rows = other.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') "
            "AND sql IS NOT NULL"
        ).fetchall()
    return {(str(t), str(n), str(s)) for t, n, s in rows}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[LocalBackend, Path]]:
    path = tmp_path / "store.db"
    backend = LocalBackend.open(f"sqlite:///{path}")
    backend.partner_add(PartnerAdd(name="Acme"))
    try:
        yield backend, path
    finally:
        backend.close()


def during_events(monkeypatch: pytest.MonkeyPatch, look: Callable[[Any], object]) -> list[bool]:
    """Call `look(import)` right after the import has written its license events, inside
    its transaction; returns a list that holds True once it ran."""
    ran: list[bool] = []
    original = importing._Import._license_events

    def wrapped(self: Any, start: int) -> None:
        original(self, start)
        look(self)
        ran.append(True)

    monkeypatch.setattr(importing._Import, "_license_events", wrapped)
    return ran


def names_in(conn: Any) -> set[str]:
    return {
        str(n)
        for (n,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'index')"
        )
    }


def test_paused_guard_and_indexes_stay_in_force_for_every_other_connection(
    store: tuple[LocalBackend, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, path = store
    before = schema(path)
    assert ("trigger", "event_no_replace", audit.SQLITE_GUARDS["event_no_replace"]) in before
    seen: dict[str, Any] = {}

    def look(imp: Any) -> None:
        # Inside the import: paused (else this test would prove nothing).
        seen["inside"] = names_in(imp.conn)
        # Any other connection: the committed schema, every guard and index in place.
        seen["outside"] = schema(path)
        with sqlite3.connect(path, timeout=0) as other:
            plan = other.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM event WHERE license_id = 'x'"
            ).fetchall()
            seen["plan"] = " ".join(str(r[-1]) for r in plan)
            # And nobody else can write while the guard is paused: the import holds the
            # store's write lock.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute(REPLACE)

    ran = during_events(monkeypatch, look)
    summary = backend.import_licenses(lines(300), ImportOptions())
    assert summary.ok and summary.created == 300 and ran == [True]

    assert "event_no_replace" not in seen["inside"]
    assert "customer_fts_insert" not in seen["inside"]
    assert {"ix_event_license_id", "ix_license_po_key"}.isdisjoint(seen["inside"])
    assert "ix_license_parent" in seen["inside"]  # the import's own queries use it
    assert seen["outside"] == before
    assert "ix_event_license_id" in seen["plan"]

    # Afterwards: everything back exactly as written, and in force.
    assert schema(path) == before
    with sqlite3.connect(path) as other:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute(REPLACE)
        found = other.execute(
            "SELECT count(*) FROM customer_fts WHERE customer_fts MATCH '\"site 3\"'"
        ).fetchone()
        assert found == (1,)
    check = backend.db_check()
    assert check.ok, [c for c in check.checks if not c.ok]


@pytest.mark.parametrize("how", ["bad row", "dry run"])
def test_an_import_that_rolls_back_restores_everything_it_paused(
    store: tuple[LocalBackend, Path], how: str
) -> None:
    backend, path = store
    before = schema(path)
    summary = backend.import_licenses(
        lines(12_000, bad_last=how == "bad row"), ImportOptions(dry_run=how == "dry run")
    )
    assert summary.created == (12_000 if how == "dry run" else 0)
    assert schema(path) == before
    with sqlite3.connect(path) as other:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute(REPLACE)
        assert other.execute("SELECT count(*) FROM license").fetchone() == (0,)


def test_a_small_import_into_a_larger_store_keeps_its_indexes(
    store: tuple[LocalBackend, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rebuilding an index costs the whole table: worth it only when the import adds more
    rows than the table held."""
    backend, path = store
    assert backend.import_licenses(lines(200), ImportOptions()).ok
    before = schema(path)
    seen: dict[str, set[str]] = {}
    during_events(monkeypatch, lambda imp: seen.setdefault("inside", names_in(imp.conn)))
    summary = backend.import_licenses(lines(20, start=1000), ImportOptions())
    assert summary.ok and summary.created == 20
    assert {"ix_event_license_id", "ix_license_po_key"} <= seen["inside"]
    assert "event_no_replace" not in seen["inside"]  # the guard is paused all the same
    assert schema(path) == before
