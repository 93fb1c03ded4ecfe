"""SQLite: the import's events, built by SQLite with the chain hashed by a registered
function (service/importing.py, `_license_events_sqlite`), are the chain `db check`
verifies, in the order the commands would have written them, and counted per day."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from licensectl.contract.requests import CustomerAdd, ImportOptions, PartnerAdd
from licensectl.service import LocalBackend, importing
from licensectl.store import audit

pytestmark = pytest.mark.local_only  # the SQLite path of the import

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"


def lines(count: int) -> Iterator[str]:
    yield HEADER
    for n in range(count):
        partner = "Acme" if n % 3 else "Beta"
        customer = f"Site {n % 5}" if n % 2 == 0 else ""
        yield f"{partner},PO-{n},1,maintenance,100,2,12,{customer}\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[LocalBackend, Path]]:
    path = tmp_path / "store.db"
    backend = LocalBackend.open(f"sqlite:///{path}")
    backend.partner_add(PartnerAdd(name="Acme"))
    backend.partner_add(PartnerAdd(name="Beta"))
    backend.customer_add(CustomerAdd(name="Site 1", partner="Acme"))  # exists already
    try:
        yield backend, path
    finally:
        backend.close()


def test_events_come_in_the_commands_order_chained_and_counted(
    store: tuple[LocalBackend, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, path = store
    monkeypatch.setattr(importing, "IMPORT_BATCH", 4)  # customers made in several batches
    with sqlite3.connect(path) as before:
        (last,) = before.execute("SELECT max(id) FROM event").fetchone()
    summary = backend.import_licenses(lines(40), ImportOptions())
    assert summary.ok and summary.created == 40
    with sqlite3.connect(path) as conn:
        actions = [a for (a,) in conn.execute("SELECT action FROM event WHERE id > ?", (last,))]
        made = [
            c
            for (c,) in conn.execute(
                "SELECT customer_id FROM event WHERE action = 'customer.add' AND id > ? "
                "ORDER BY id",
                (last,),
            )
        ]
        by_id = [c for (c,) in conn.execute("SELECT customer_id FROM customer ORDER BY id")]
    # As `customer add` each time a batch made customers, then `license add` for every
    # license, then `transfer` (transfer and mint) for every row naming a customer.
    customers = summary.customers_created
    assert customers == 9  # Site 0-4 of Beta; of Acme, all but Site 1, which exists
    assert actions == (
        ["customer.add"] * customers
        + ["license.add"] * 40
        + ["license.transfer"] * 20
        + ["license.mint"] * 20
    )
    assert made == by_id[-customers:]  # in the order the customers were made
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert list(audit.verify_chain(conn)) == []
            assert audit.day_count_mismatches(conn) == []
    finally:
        engine.dispose()


def test_an_event_hashed_out_of_order_fails_the_import_and_writes_nothing(
    store: tuple[LocalBackend, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stands in for SQLite calling the hash function in another order than it inserts
    the rows: a stored hash that is not the one chained must fail the import."""
    backend, path = store
    original = audit.chain_function  # the one importing uses

    def misordered(
        at: str, actor: str, action: str, head: list[str], made: list[str]
    ) -> Callable[[str | None, str | None, int | None, str], str]:
        chain = original(at, actor, action, head, made)
        calls: list[str] = []

        def wrong(
            license_id: str | None, customer_id: str | None, partner_id: int | None, details: str
        ) -> str:
            hashed = chain(license_id, customer_id, partner_id, details)
            calls.append(hashed)
            return "0" * 64 if len(calls) == 2 else hashed

        return wrong

    monkeypatch.setattr(importing, "chain_function", misordered)
    with sqlite3.connect(path) as before:
        counts = before.execute(
            "SELECT (SELECT count(*) FROM event), (SELECT count(*) FROM license), "
            "(SELECT count(*) FROM customer)"
        ).fetchone()
    with pytest.raises(RuntimeError, match="not chained in order"):
        backend.import_licenses(lines(10), ImportOptions())
    with sqlite3.connect(path) as after:
        assert (
            after.execute(
                "SELECT (SELECT count(*) FROM event), (SELECT count(*) FROM license), "
                "(SELECT count(*) FROM customer)"
            ).fetchone()
            == counts
        )
