"""The migration that recomputes name and PO keys with NFKC (issue 7, item 11).

Stores written before it hold keys that are the case-folded text alone. The migration
is run here on such a store, written the way an older licensectl wrote it, including
names that were distinct then and are one name now.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Cli
from sqlalchemy import create_engine, text

from licensectl.store.nfkc_keys import rekey_nfkc
from licensectl.store.schema import MIGRATIONS
from licensectl.store.url import normalize_db_url

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"


def sql(db: str | None, statement: str, **params: Any) -> list[Any]:
    assert db is not None
    engine = create_engine(normalize_db_url(db))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def migrate(db: str | None) -> None:
    assert db is not None
    engine = create_engine(normalize_db_url(db))
    try:
        with engine.begin() as conn:
            rekey_nfkc(conn)
    finally:
        engine.dispose()


def keys(db: str | None, table: str, column: str) -> dict[str, str]:
    name = "purchase_order" if column == "po_key" else "name"
    order = "seq" if table == "license" else "id"
    return {
        f"{r[0]}|{r[2]}": r[1]
        for r in sql(db, f"SELECT {name}, {column}, {order} FROM {table} ORDER BY {order}")
    }


def test_the_migration_is_registered() -> None:
    assert any(apply is rekey_nfkc for _, _, apply in MIGRATIONS)


@pytest.mark.local_only  # migrates an old store in place
def test_old_keys_are_recomputed_and_clashes_keep_both_rows(cli: Cli) -> None:
    db = cli.db
    cli.ok("partner", "add", "Acme")
    cli.ok("partner", "add", "Placeholder")
    cli.ok("customer", "add", "Site I", "--partner", "Acme")
    cli.ok("customer", "add", "Placeholder Site", "--partner", "Acme")
    cli.ok("customer", "add", "Gebäude Ⅱ", "--partner", "Acme")
    cli.ok("customer", "add", "Other Site", "--partner", "Placeholder")
    first = cli.ok(
        "license", "add", "-p", "Acme", "--po", "PO-1", "--type", "core", "--devices", "1"
    )
    other = cli.ok(
        "license", "add", "-p", "Acme", "--po", "PO-X", "--type", "core", "--devices", "1"
    )
    moved = cli.ok("transfer", other.stdout.strip(), "--to", "Site I", "--yes").stdout.strip()
    # What an older licensectl wrote: keys folded for case only, and look-alikes that
    # were distinct names then.
    sql(db, "UPDATE partner SET name = 'Ａcme', name_key = 'ａcme' WHERE name = 'Placeholder'")
    sql(
        db,
        "UPDATE customer SET name = 'Site Ⅰ', name_key = 'site ⅰ' WHERE name = 'Placeholder Site'",
    )
    sql(db, "UPDATE customer SET name_key = 'gebäude ⅱ' WHERE name = 'Gebäude Ⅱ'")
    sql(db, "UPDATE license SET purchase_order = 'ＰＯ-1', po_key = 'ｐｏ-1' WHERE po_key = 'po-x'")

    migrate(db)

    assert sorted(keys(db, "partner", "name_key").values()) == ["acme", "acme #2"]
    customers = {k.split("|")[0]: v for k, v in keys(db, "customer", "name_key").items()}
    assert customers == {
        "Site I": "site i",
        "Site Ⅰ": "site i #2",
        "Gebäude Ⅱ": "gebäude ii",
        "Other Site": "other site",
    }
    licenses = sql(db, "SELECT license_id, po_key FROM license ORDER BY seq")
    by_id = dict(licenses)
    assert by_id[first.stdout.strip()] == "po-1"
    assert by_id[other.stdout.strip()] == by_id[moved] == "po-1 #2"  # successors follow

    # A name that reached a row before still reaches it; the renamed key reaches the other.
    assert [c["name"] for c in cli.json("customer", "list", "--partner", "Acme")] == [
        "Site I",
        "Site Ⅰ",
        "Gebäude Ⅱ",
    ]
    assert [c["name"] for c in cli.json("customer", "list", "--partner", "Acme #2")] == [
        "Other Site"
    ]
    cli.fails(4, "partner", "add", "ＡＣＭＥ")
    assert cli.json("customer", "show", "site i #2", "--partner", "Acme")["name"] == "Site Ⅰ"
    # every lineage of the PO is found by its prefix; exactly by the new key
    assert len(cli.json("search", "po", "PO-1")) == 3
    exact = cli.json("search", "po", "po-1 #2", "--exact")
    assert {x["license_id"] for x in exact} == {other.stdout.strip(), moved}
    # the first license's PO line imports as unchanged, as before
    summary = cli.json("import", "-", input=HEADER + "Acme,PO-1,1,core,1,1,,\n")
    assert (summary["created"], summary["unchanged"]) == (0, 1)

    migrate(db)  # running it again changes nothing
    assert dict(sql(db, "SELECT license_id, po_key FROM license ORDER BY seq")) == by_id


@pytest.mark.local_only  # migrates an old store in place
def test_a_store_without_clashes_keeps_every_ascii_key(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme Integrators")
    cli.ok("customer", "add", "P2022-0208")
    cli.ok("license", "add", "--po", "po-2026-0117", "--type", "core", "--devices", "1")
    before = {
        t: keys(cli.db, t, c)
        for t, c in (("partner", "name_key"), ("customer", "name_key"), ("license", "po_key"))
    }
    migrate(cli.db)
    after = {
        t: keys(cli.db, t, c)
        for t, c in (("partner", "name_key"), ("customer", "name_key"), ("license", "po_key"))
    }
    assert after == before
