"""PostgreSQL: the import copies into a staging table and writes set-based; the indexes it
pauses (a table it more than doubles) are never missing for any other connection, which
waits for the import instead, and they are back, exactly as defined, however it ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from licensectl.contract.requests import ImportOptions, PartnerAdd
from licensectl.service import LocalBackend, importing_pg
from licensectl.store.url import normalize_db_url

pytestmark = pytest.mark.postgres

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"


def lines(count: int, *, start: int = 0) -> Iterator[str]:
    yield HEADER
    for n in range(start, start + count):
        customer = f"Site {n % 7}" if n % 5 == 0 else ""
        yield f"Acme,PO-{n},1,capacity,100,2,,{customer}\n"


def raw_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def schema(url: str) -> set[tuple[str, str]]:
    """Every index and constraint of the store, as another connection sees them."""
    with psycopg.connect(raw_url(url)) as other:
        indexes = other.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ).fetchall()
        constraints = other.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace"
        ).fetchall()
    return {(str(n), str(d)) for n, d in indexes + constraints}


@pytest.fixture
def store(pg_database: str) -> Iterator[tuple[LocalBackend, str]]:
    backend = LocalBackend.open(normalize_db_url(pg_database))
    backend.partner_add(PartnerAdd(name="Acme"))
    try:
        yield backend, pg_database
    finally:
        backend.close()


def during_events(monkeypatch: pytest.MonkeyPatch, look: Any) -> list[bool]:
    """Call `look(import)` inside the import's transaction, right before its events."""
    ran: list[bool] = []
    original = importing_pg.PgImport._events

    def wrapped(self: Any, watermark: int, customers_before: int) -> None:
        look(self)
        ran.append(True)
        original(self, watermark, customers_before)

    monkeypatch.setattr(importing_pg.PgImport, "_events", wrapped)
    return ran


def inside_indexes(imp: Any) -> set[str]:
    return {
        str(n)
        for (n,) in imp.conn.exec_driver_sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
        )
    }


def index_names(url: str) -> set[str]:
    """The store's indexes by name, as another connection's plain catalog read sees them
    (`pg_indexes` itself would wait: it reads each index's definition)."""
    with psycopg.connect(raw_url(url)) as other:
        rows = other.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'i' "
            "AND relnamespace = 'public'::regnamespace"
        ).fetchall()
    return {str(n) for (n,) in rows}


def test_paused_indexes_are_never_missing_for_another_connection(
    store: tuple[LocalBackend, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, url = store
    before = schema(url)
    names = index_names(url)
    seen: dict[str, Any] = {}

    def look(imp: Any) -> None:
        seen["inside"] = inside_indexes(imp)
        seen["outside"] = index_names(url)  # the catalog as committed: nothing missing
        with psycopg.connect(raw_url(url)) as other:
            other.execute("SET lock_timeout = '200ms'")
            # A reader of the table waits for the import (here: gives up) rather than
            # reading it without its indexes.
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT count(*) FROM license WHERE po_key = 'po-1'")

    ran = during_events(monkeypatch, look)
    summary = backend.import_licenses(lines(300), ImportOptions())
    assert summary.ok and summary.created == 300 and ran == [True]
    assert summary.customers_created == 7
    paused = {"ix_license_po_key", "license_license_id_key", "uq_license_po_line"}
    assert paused.isdisjoint(seen["inside"])
    assert "license_pkey" in seen["inside"]
    assert seen["outside"] == names
    assert schema(url) == before  # back, with the same names and definitions
    check = backend.db_check()
    assert check.ok, [c for c in check.checks if not c.ok]
    again = backend.import_licenses(lines(300), ImportOptions())
    assert (again.created, again.unchanged, again.customers_created) == (0, 300, 0)


def test_an_import_that_fails_while_writing_restores_every_index(
    store: tuple[LocalBackend, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, url = store
    before = schema(url)

    def fail(imp: Any) -> None:
        raise RuntimeError("interrupted")

    during_events(monkeypatch, fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        backend.import_licenses(lines(50), ImportOptions())
    assert schema(url) == before
    with psycopg.connect(raw_url(url)) as other:
        assert other.execute("SELECT count(*) FROM license").fetchone() == (0,)


def test_a_small_import_into_a_larger_store_keeps_its_indexes_and_readers_go_on(
    store: tuple[LocalBackend, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, url = store
    assert backend.import_licenses(lines(200), ImportOptions()).ok
    seen: dict[str, Any] = {}

    def look(imp: Any) -> None:
        seen["inside"] = inside_indexes(imp)
        with psycopg.connect(raw_url(url)) as other:
            other.execute("SET lock_timeout = '5s'")
            seen["read"] = other.execute("SELECT count(*) FROM license").fetchone()

    during_events(monkeypatch, look)
    summary = backend.import_licenses(lines(20, start=1000), ImportOptions())
    assert summary.ok and summary.created == 20
    assert {"ix_license_po_key", "license_license_id_key", "ix_event_license_id"} <= seen["inside"]
    assert seen["read"] == (240,)  # the committed licenses: 200 and their 40 successors
