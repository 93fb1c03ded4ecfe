"""Queries that stay fast on a large store: which index serves them, and how many
statements they take (a constant, whatever the number of matches or generations).

The plans are read from the database itself (EXPLAIN of the very statements the service
sends). On PostgreSQL small tables are scanned whatever the indexes, so the plan is asked
with sequential scans disabled: what is checked is that the index *can* serve the query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import Cli
from sqlalchemy import event

from licensectl.contract.requests import CustomerAdd, LicenseAdd, LicenseFilter, Page, Transfer
from licensectl.domain import Inventory, LicenseStatus, LicenseType, name_key

#: About the local store itself (its schema, indexes and statements), not the API.
pytestmark = pytest.mark.local_only


@contextmanager
def statements(backend: Any) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) the backend sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append((sql, params))

    engine = backend.store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(backend: Any, sql: str, params: Any) -> str:
    with backend.store.read() as session:
        conn = session.connection()
        if backend.store.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            return "\n".join(str(r[-1]) for r in rows)
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
        return "\n".join(str(r[0]) for r in rows)


def the_one(seen: list[tuple[str, Any]], table: str) -> tuple[str, Any]:
    """The statement that selects the matches from `table`."""
    found = [
        (sql, p) for sql, p in seen if sql.lstrip().startswith("SELECT") and f"FROM {table}" in sql
    ]
    assert found, seen
    return found[0]


#: A test about PostgreSQL's own behaviour: its store_url is the PostgreSQL one only.
postgres_only = pytest.mark.parametrize(
    "store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def populate(backend: Any, names: list[str]) -> None:
    for name in names:
        backend.customer_add(CustomerAdd(name=name, partner="Acme"))


@pytest.fixture
def acme(cli: Cli) -> Cli:
    cli.ok("partner", "add", "Acme")
    return cli


NAMES = [
    "Harbour Zephyrine 1",
    "Zephyrine Yard",
    "100% Solar",
    "Under_score Ltd",
    'The "Quoted" One',
    "Back\\slash Works",
    "Müller Gebäude",
    "Plain Site",
]


@pytest.mark.parametrize(
    "needle", ["zephyrine", "%", "_", '"quoted"', "\\", "ü", "MÜLLER", "ab", "site", "nothing-here"]
)
def test_search_customer_finds_exactly_the_substring(
    acme: Cli, backend_as: Any, needle: str
) -> None:
    backend = backend_as()
    populate(backend, NAMES)
    found = backend.search_customers(needle, page=Page(limit=None)).items
    expected = [n for n in NAMES if name_key(needle) in name_key(n)]
    assert [c.name for c in found] == expected


def test_search_customer_is_served_by_a_trigram_index(acme: Cli, backend_as: Any) -> None:
    backend = backend_as()
    populate(backend, NAMES)
    with statements(backend) as seen:
        assert len(backend.search_customers("zephyrine").items) == 2
    sql, params = the_one(seen, "customer")
    shown = plan(backend, sql, params)
    if backend.store.is_sqlite:
        assert "customer_fts" in shown, shown
    else:
        assert "ix_customer_name_key_trgm" in shown, shown


def test_search_customer_takes_the_same_statements_for_1_or_12_matches(
    acme: Cli, backend_as: Any
) -> None:
    backend = backend_as()
    populate(backend, ["Lonely One", *(f"Crowd {i}" for i in range(12))])
    for name in ("Lonely One", "Crowd 3", "Crowd 7"):
        backend.license_add(
            LicenseAdd(
                partner="Acme", purchase_order=f"PO-{name}", type=LicenseType.CORE, devices=1
            )
        )
    backend.search_customers("lonely")  # the scope and index look-ups, once per process
    with statements(backend) as one:
        assert len(backend.search_customers("lonely").items) == 1
    with statements(backend) as twelve:
        assert len(backend.search_customers("crowd").items) == 12
    assert len(one) == len(twelve)
    # The page of customers with their partners' names, their emails, their licenses
    # with their names (and SQLite's BEGIN).
    assert len([sql for sql, _ in twelve if sql != "BEGIN"]) == 3, twelve
    if not backend.store.is_sqlite:
        # The same texts: the keys go as one array (`= ANY`), not one parameter each,
        # so each statement is prepared once, whatever the number of matches.
        assert [sql for sql, _ in one] == [sql for sql, _ in twelve]


def lineage(backend: Any, depth: int, po: str) -> str:
    lic = backend.license_add(
        LicenseAdd(partner="Acme", purchase_order=po, type=LicenseType.CAPACITY, devices=10)
    )
    current = lic.license_id
    for i in range(depth):
        holder = backend.customer_add(CustomerAdd(name=f"{po} holder {i}", partner="Acme"))
        current = backend.transfer(
            Transfer(license_id=current, to=holder.customer_id)
        ).transferred.license_id
    return str(current)


def test_history_takes_the_same_statements_at_any_depth(acme: Cli, backend_as: Any) -> None:
    backend = backend_as()
    shallow, deep = lineage(backend, 2, "PO-SHALLOW"), lineage(backend, 7, "PO-DEEP")
    backend.license_history(shallow)
    with statements(backend) as few:
        assert len(backend.license_history(shallow).ancestors) == 2
    with statements(backend) as many:
        history = backend.license_history(deep)
    assert len(history.ancestors) == 7 and len(few) == len(many)
    # The license, a page of its events, and its whole lineage with every name in it
    # (and SQLite's BEGIN).
    assert len([sql for sql, _ in many if sql != "BEGIN"]) == 3, many
    # oldest first, each the parent of the next
    chain = [*history.ancestors, history.license]
    for parent, child in zip(chain, chain[1:], strict=False):
        assert child.parent_id == parent.license_id
    root = backend.license_history(history.ancestors[0].license_id)
    assert [d.license_id for d in root.descendants][-1] == history.license.license_id


def test_a_rare_status_and_a_po_prefix_are_served_by_indexes(acme: Cli, backend_as: Any) -> None:
    backend = backend_as()
    for i in range(5):
        backend.license_add(
            LicenseAdd(partner="Acme", purchase_order=f"PO-{i}", type=LicenseType.CORE, devices=1)
        )
    with statements(backend) as seen:
        backend.license_list(LicenseFilter(status=LicenseStatus.ACTIVATED))
    assert "ix_license_status_seq" in plan(backend, *the_one(seen, "license"))
    with statements(backend) as seen:
        assert len(backend.search_po("po-").items) == 5
    index = "ix_license_po_key" if backend.store.is_sqlite else "ix_license_po_key_c"
    assert index in plan(backend, *the_one(seen, "license"))


def test_a_po_prefix_page_is_read_in_the_order_of_its_index(acme: Cli, backend_as: Any) -> None:
    """`search po` by PO, then oldest first: the page's keys come from the index on
    (po_key, seq) in its own order, with no sort of every match (a prefix matching 36,000
    licenses read them all to keep 100 when the order was the age alone)."""
    backend = backend_as()
    for i in range(5):
        backend.license_add(
            LicenseAdd(
                partner="Acme", purchase_order=f"PO-{4 - i}", type=LicenseType.CORE, devices=1
            )
        )
    with statements(backend) as seen:
        page = backend.search_po("po-", page=Page(limit=2))
    assert [lic.purchase_order for lic in page.items] == ["PO-0", "PO-1"]
    sql, params = the_one(seen, "license")
    inner = sql[sql.index("IN (") + 4 : sql.rindex(") ORDER BY")]  # the page's keys
    keys_plan = plan(backend, inner, params)
    if backend.store.is_sqlite:
        assert "ix_license_po_key" in keys_plan, keys_plan
        assert "TEMP B-TREE" not in keys_plan, keys_plan
    else:
        assert "ix_license_po_key_c" in keys_plan, keys_plan
        assert "Sort" not in keys_plan, keys_plan


def test_customers_an_import_creates_are_found_by_search(acme: Cli, tmp_path: Any) -> None:
    """SQLite: the import fills the trigram index in one statement at the end instead of
    the per-row trigger; a failed import leaves the trigger as it was."""
    header = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
    good = tmp_path / "good.csv"
    good.write_text(
        header + "".join(f"Acme,PO-{n},1,core,1,1,,Zephyrine Site {n}\n" for n in range(5)),
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "Acme,PO-X,1,core,1,1,,Quillon Hall\nAcme,PO-Y,1,bogus,1,1,,\n")
    acme.fails(7, "import", str(bad))
    assert acme.json("import", str(good))["created"] == 5
    assert len(acme.json("search", "customer", "zephyrine")) == 5
    assert acme.json("search", "customer", "quillon") == []  # rolled back with its import
    acme.ok("customer", "add", "Quillon Tower")  # the trigger is back
    assert [c["name"] for c in acme.json("search", "customer", "quillon")] == ["Quillon Tower"]
    acme.ok("db", "check")  # the schema's text (and seal) as before


def test_customer_show_reads_one_page_of_licenses_through_an_index(
    acme: Cli, backend_as: Any
) -> None:
    """A customer with 1,000 licenses: `customer show` reads a page of them (limit + 1
    rows, in index order), not all of them."""
    backend = backend_as()
    holder = backend.customer_add(CustomerAdd(name="Big Site", partner="Acme")).customer_id
    for i in range(5):
        lic = backend.license_add(
            LicenseAdd(partner="Acme", purchase_order=f"PO-{i}", type=LicenseType.CORE, devices=1)
        )
        backend.transfer(Transfer(license_id=lic.license_id, to=holder))
    with statements(backend) as seen:
        shown = backend.customer_show("Big Site", partner="Acme", page=Page(limit=2))
    assert len(shown.licenses) == 2 and shown.licenses_next_after == shown.licenses[1].license_id
    # The customer (its partner, then it), a page of its licenses, its emails (and
    # SQLite's BEGIN): its partner's name is not read again.
    assert len([sql for sql, _ in seen if sql != "BEGIN"]) == 4, seen
    sql, params = the_one(seen, "license")
    assert "LIMIT" in sql.upper()
    shown_plan = plan(backend, sql, params)
    assert "ix_license_customer_seq" in shown_plan, shown_plan
    if backend.store.is_sqlite:
        assert "TEMP B-TREE" not in shown_plan, shown_plan  # no sort: the index's order


def test_held_licenses_are_listed_through_their_partial_index(acme: Cli, backend_as: Any) -> None:
    """`license list --inventory customer`: the licenses customers hold are successors,
    often the newest rows (an import adds them at its end), so walking the primary key
    in seq order for them read a million rows for one page on PostgreSQL (200-300 ms).
    A partial index of the held licenses in seq order serves the page instead (none on
    SQLite: its planner scans the table whatever the index)."""
    backend = backend_as()
    holder = backend.customer_add(CustomerAdd(name="Holder", partner="Acme")).customer_id
    moved = []
    for i in range(4):
        lic = backend.license_add(
            LicenseAdd(partner="Acme", purchase_order=f"PO-{i}", type=LicenseType.CORE, devices=1)
        )
        if i % 2:
            moved.append(backend.transfer(Transfer(license_id=lic.license_id, to=holder)))
    with statements(backend) as seen:
        page = backend.license_list(LicenseFilter(inventory=Inventory.CUSTOMER), page=Page(limit=1))
    assert [lic.license_id for lic in page.items] == [moved[0].transferred.license_id]
    sql, params = the_one(seen, "license")
    inner = sql[sql.index("IN (") + 4 : sql.rindex(") ORDER BY")]  # the page's keys
    keys_plan = plan(backend, inner, params)
    if not backend.store.is_sqlite:
        assert "ix_license_held_seq" in keys_plan, keys_plan


@contextmanager
def sent_to_server(backend: Any) -> Iterator[dict[str, int]]:
    """PostgreSQL: the messages the pooled connection sends while the block runs, by
    kind (libpq's trace): a simple `Query` is a BEGIN, ROLLBACK or ping; each statement
    sent through the extended protocol has an `Execute` (and a `Sync`: psycopg adds one
    of its own when it prepares a statement it has seen often)."""
    import tempfile

    with backend.store.engine.connect() as conn:  # the pool's one connection, from now
        pgconn = conn.connection.dbapi_connection.pgconn
    counted: dict[str, int] = {}
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        try:
            yield counted
        finally:
            pgconn.untrace()
        trace.seek(0)
        for line in trace.read().decode().splitlines():
            parts = line.split("\t")
            if len(parts) > 3 and parts[1] == "F":
                kind = parts[3].split()[0]
                counted[kind] = counted.get(kind, 0) + 1


@postgres_only
def test_postgresql_queries_send_their_statements_and_nothing_else(
    acme: Cli, backend_as: Any
) -> None:
    """On PostgreSQL every message is a round trip: a query sends its statements, with no
    BEGIN and ROLLBACK around them and no ping of a connection used a moment ago (each
    three round trips a query, a third of `search po exact`'s time at a million)."""
    backend = backend_as()
    holder = backend.customer_add(CustomerAdd(name="Holder", partner="Acme")).customer_id
    lic = backend.license_add(
        LicenseAdd(partner="Acme", purchase_order="PO-1", type=LicenseType.CORE, devices=1)
    )
    moved = backend.transfer(Transfer(license_id=lic.license_id, to=holder))
    queries: list[Callable[[], object]] = [
        lambda: backend.search_customers("hold"),
        lambda: backend.customer_show(holder),
        lambda: backend.license_history(moved.transferred.license_id),
        lambda: backend.license_list(LicenseFilter(partner="Acme")),
        lambda: backend.search_po("PO-1", exact=True),
    ]
    for query in queries:
        query()  # the scope and index look-ups, once per process
    with statements(backend) as seen, sent_to_server(backend) as sent:
        for query in queries:
            query()
    assert sent.get("Query", 0) == 0, sent
    assert sent["Execute"] == len(seen), (sent, seen)


@postgres_only
def test_an_idle_postgresql_connection_is_pinged_and_replaced_when_closed(
    acme: Cli, backend_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection the server closed: pinged after lying idle, it is replaced and
    the query answers; used again within PING_IDLE_SECONDS, it is not pinged, the query
    fails as the store being unavailable (exit 6), and the next one reconnects."""
    from sqlalchemy import text

    from licensectl.errors import StoreUnavailableError
    from licensectl.store import engine as engine_module

    backend = backend_as()

    def close_from_the_server() -> None:
        """End the pooled connection's server process (and wait until it has)."""
        import psycopg

        with backend.store.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        url = backend.store.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as admin:
            ended = admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()
            assert ended == (True,)

    assert [p.name for p in backend.partner_list()] == ["Acme"]
    close_from_the_server()
    monkeypatch.setattr(engine_module, "PING_IDLE_SECONDS", 0.0)  # as if idle for long
    assert [p.name for p in backend.partner_list()] == ["Acme"]
    monkeypatch.setattr(engine_module, "PING_IDLE_SECONDS", 3600.0)  # as if just used
    close_from_the_server()
    with pytest.raises(StoreUnavailableError):
        backend.partner_list()
    assert [p.name for p in backend.partner_list()] == ["Acme"]
