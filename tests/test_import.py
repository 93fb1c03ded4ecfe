"""`licensectl import`: bulk purchase orders, all or nothing, on every backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli

from licensectl.cli.output import Environment
from licensectl.service import importing

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer"

GOOD = f"""{HEADER}
Acme,PO-1,1,capacity,200,2,,
Acme,PO-1,2,maintenance,1000,1,36,
Acme,PO-2,,core,1,,,
"""


def csv_of(*lines: str) -> str:
    return "\n".join((HEADER, *lines)) + "\n"


@pytest.fixture
def acme(cli: Cli) -> Cli:
    cli.ok("partner", "add", "Acme")
    return cli


def write(tmp_path: Path, text: str, name: str = "po.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def licenses(cli: Cli) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = cli.json("license", "list", "--all")
    return result


def events_of(cli: Cli, license_id: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = cli.json("license", "history", license_id)["events"]
    return result


def import_errors(cli: Cli, path: str, *, input: str | None = None) -> list[tuple[int, str]]:
    """Run a failing import; check the contract and return its (row, field) pairs."""
    result = cli.fails(7, "-o", "json", "import", path, input=input)
    summary = json.loads(result.stdout)
    assert summary["created"] == summary["unchanged"] == summary["customers_created"] == 0
    assert all(set(e) == {"row", "field", "message"} and e["message"] for e in summary["errors"])
    return [(e["row"], e["field"]) for e in summary["errors"]]


# --- good files -----------------------------------------------------------------------


def test_csv_import_creates_licenses_and_says_nothing_on_stdout(acme: Cli, tmp_path: Path) -> None:
    result = acme.ok("import", write(tmp_path, GOOD))
    assert result.stdout == ""
    assert "Created 3 licenses" in result.stderr
    rows = licenses(acme)
    assert [(r["purchase_order"], r["po_line"], r["type"], r["quantity"]) for r in rows] == [
        ("PO-1", 1, "capacity", 2),
        ("PO-1", 2, "maintenance", 1),
        ("PO-2", 1, "core", 1),
    ]
    assert rows[1]["term_months"] == 36 and rows[0]["term_months"] is None
    assert {r["status"] for r in rows} == {"available"} and {r["partner"] for r in rows} == {"Acme"}
    # the same event `license add` writes
    (event,) = events_of(acme, rows[0]["license_id"])
    assert event["action"] == "license.add"
    assert event["details"]["purchase_order"] == "PO-1" and event["details"]["devices"] == 200


def test_json_summary_has_the_contract_keys(acme: Cli, tmp_path: Path) -> None:
    summary = acme.json("import", write(tmp_path, GOOD))
    assert summary == {
        "created": 3,
        "unchanged": 0,
        "customers_created": 0,
        "errors": [],
        "dry_run": False,
    }


def test_jsonl_file_and_format_option(acme: Cli, tmp_path: Path) -> None:
    records = [
        {"partner": "acme", "purchase_order": 4711, "type": "capacity", "devices": 500},
        {
            "partner": "Acme",
            "purchase_order": "PO-9",
            "po_line": 2,
            "type": "maintenance",
            "devices": 200,
            "quantity": 3,
            "term_months": 12,
            "customer": "P-Building 1",
        },
    ]
    text = "".join(json.dumps(r) + "\n" for r in records)
    assert acme.json("import", write(tmp_path, text, "po.jsonl"))["created"] == 2
    # an unhelpful name, so --format says what it is
    assert (
        acme.json("import", "--format", "jsonl", write(tmp_path, text, "po.txt"))["unchanged"] == 2
    )
    pos = {(r["purchase_order"], r["status"]) for r in licenses(acme)}
    assert ("4711", "available") in pos and ("PO-9", "transferred") in pos


def test_stdin(acme: Cli) -> None:
    assert acme.json("import", "-", input=GOOD)["created"] == 3
    assert acme.json("import", "-", input=GOOD)["unchanged"] == 3


def test_re_import_is_idempotent(acme: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("Acme,PO-2,,core,1,,,", "Acme,PO-2,,core,1,,,P-Site"))
    first = acme.json("import", path)
    before = licenses(acme)
    again = acme.json("import", path)
    assert (first["created"], first["customers_created"]) == (3, 1)
    assert (again["created"], again["unchanged"], again["customers_created"]) == (0, 3, 0)
    assert licenses(acme) == before
    assert len(acme.json("customer", "list")) == 1
    assert len(events_of(acme, before[0]["license_id"])) == 1
    # case and spacing of partner and PO do not make a new key
    same = csv_of("  ACME ,po-1,1,capacity,200,2,,")
    assert acme.json("import", "-", input=same)["unchanged"] == 1


def test_dry_run_writes_nothing(acme: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "Acme,PO-3,1,core,1,1,,P-New\n")
    summary = acme.json("import", "--dry-run", path)
    assert summary == {
        "created": 4,
        "unchanged": 0,
        "customers_created": 1,
        "errors": [],
        "dry_run": True,
    }
    assert licenses(acme) == [] and acme.json("customer", "list") == []
    result = acme.ok("import", "--dry-run", path)
    assert result.stdout == "" and "Dry run: would create 4 licenses and 1 customer" in (
        result.stderr
    )


def test_customer_column_creates_the_customer_and_transfers(acme: Cli, tmp_path: Path) -> None:
    existing = acme.ok("customer", "add", "P-Old").stdout.strip()
    path = write(
        tmp_path,
        csv_of(
            "Acme,PO-5,1,capacity,200,3,,P-Building 1",
            "Acme,PO-5,2,maintenance,200,1,12,p-building 1",  # the same customer, any case
            "Acme,PO-5,3,core,1,1,,P-Old",
        ),
    )
    summary = acme.json("import", path)
    assert (summary["created"], summary["customers_created"]) == (3, 1)
    customers = {c["name"]: c for c in acme.json("customer", "list")}
    assert set(customers) == {"P-Old", "P-Building 1"}
    assert customers["P-Old"]["customer_id"] == existing
    rows = licenses(acme)
    originals = [r for r in rows if r["parent_id"] is None]
    moved = [r for r in rows if r["parent_id"] is not None]
    assert [r["status"] for r in originals] == ["transferred"] * 3
    assert all(r["customer_id"] is None for r in originals)
    by_parent = {r["parent_id"]: r for r in moved}
    for original in originals:
        successor = by_parent[original["license_id"]]
        assert successor["quantity"] == original["quantity"]
        assert successor["status"] == "available"
    assert {r["customer"] for r in moved} == {"P-Building 1", "P-Old"}
    # the events of `license add` + `transfer`, and of `customer add`
    history = acme.json("license", "history", originals[0]["license_id"])
    assert [e["action"] for e in history["events"]] == ["license.add", "license.transfer"]
    transfer = history["events"][1]["details"]
    assert transfer["to_customer"] == "P-Building 1" and transfer["quantity"] == 3
    assert transfer["transferred"] == history["descendants"][0]["license_id"]
    mint = events_of(acme, history["descendants"][0]["license_id"])
    assert [e["action"] for e in mint] == ["license.mint"]
    assert mint[0]["details"]["parent_id"] == originals[0]["license_id"]
    shown = acme.json("customer", "show", "P-Building 1")
    assert len(shown["licenses"]) == 2
    acme.ok("db", "check")


def test_re_import_with_another_customer_is_a_conflict(acme: Cli, tmp_path: Path) -> None:
    acme.ok("import", "-", input=csv_of("Acme,PO-5,1,capacity,200,3,,P-A"))
    # the same line without a customer is unchanged (where it went since is no conflict)
    assert acme.json("import", "-", input=csv_of("Acme,PO-5,1,capacity,200,3,,"))["unchanged"]
    assert import_errors(acme, "-", input=csv_of("Acme,PO-5,1,capacity,200,3,,P-B")) == [
        (2, "customer")
    ]


def test_progress_only_on_a_terminal_and_never_with_quiet(acme: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    terminal = Environment(stdin_isatty=False, stdout_isatty=False, stderr_isatty=True)
    result = acme.run("import", path, obj=terminal)
    assert result.exit_code == 0 and result.stdout == ""
    quiet = acme.run("--quiet", "import", "--dry-run", path, obj=terminal)
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""


# --- bad files: every error, and nothing written -----------------------------------------


def test_every_kind_of_bad_row_is_reported_and_nothing_is_written(
    acme: Cli, tmp_path: Path
) -> None:
    acme.ok("import", "-", input=csv_of("Acme,PO-OLD,1,capacity,200,1,,"))
    before = licenses(acme)
    path = write(
        tmp_path,
        csv_of(
            "Acme,PO-1,1,capacity,200,1,,",  # 2: fine
            "Acme,PO-1,2,gizmo,200,1,,",  # 3: bad type
            "Acme,PO-1,3,capacity,lots,1,,",  # 4: bad number
            "Nobody Inc,PO-1,4,capacity,200,1,,",  # 5: unknown partner
            "Acme,PO-1,5,maintenance,200,1,,",  # 6: maintenance without term
            "Acme,PO-1,1,capacity,200,1,,",  # 7: repeats row 2
            "Acme,PO-OLD,1,capacity,500,1,,",  # 8: exists with other values
            "Acme,PO-1,6,capacity,0,1,,",  # 9: out of range
        ),
    )
    assert import_errors(acme, path) == [
        (3, "type"),
        (4, "devices"),
        (5, "partner"),
        (6, "term_months"),
        (7, "purchase_order"),
        (8, "devices"),
        (9, "devices"),
    ]
    assert licenses(acme) == before
    # the table mode: the errors as a table on stderr, one Error line, nothing on stdout
    result = acme.fails(7, "import", path)
    assert result.stdout == ""
    assert "repeat row 2" in result.stderr and "already exists" in result.stderr
    assert "Error: " in result.stderr and "7 bad rows" in result.stderr


def test_missing_column_and_unknown_column(acme: Cli) -> None:
    text = "partner,purchase_order,type,colour\nAcme,PO-1,capacity,red\n"
    assert import_errors(acme, "-", input=text) == [(1, "colour"), (1, "devices")]
    assert licenses(acme) == []


def test_dry_run_with_errors_exits_7(acme: Cli) -> None:
    summary = json.loads(
        acme.fails(
            7, "-o", "json", "import", "--dry-run", "-", input=csv_of("X,PO,1,core,1,,,")
        ).stdout
    )
    assert summary["dry_run"] is True and summary["errors"][0]["field"] == "partner"


def test_repeats_across_batches_name_the_first_row(
    acme: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are checked and written batch by batch; a repeat in a later batch is found in
    the store (a license this import made) or in the scratch table (a license it found)."""
    monkeypatch.setattr(importing, "IMPORT_BATCH", 2)
    acme.ok("import", "-", input=csv_of("Acme,PO-OLD,1,core,1,1,,"))
    text = csv_of(
        "Acme,PO-1,1,core,1,1,,",  # 2
        "Acme,PO-OLD,1,core,1,1,,",  # 3: unchanged
        "Acme,PO-2,1,core,1,1,,",  # 4
        "Acme,po-1,1,core,1,1,,",  # 5: repeats 2 (new), in a later batch
        "Acme,PO-OLD,1,core,1,1,,",  # 6: repeats 3 (existing), in a later batch
        "Acme,PO-OLD,1,core,1,1,,",  # 7: and again, in the same batch
    )
    summary = json.loads(acme.fails(7, "-o", "json", "import", "-", input=text).stdout)
    assert [(e["row"], e["message"].split(";")[0]) for e in summary["errors"]] == [
        (5, "partner, purchase order and PO line repeat row 2"),
        (6, "partner, purchase order and PO line repeat row 3"),
        (7, "partner, purchase order and PO line repeat row 3"),
    ]
    assert len(licenses(acme)) == 1
    # and a clean file over several batches imports whole
    good = csv_of(*(f"Acme,PO-{n},1,core,1,1,,P-{n % 2}" for n in range(5)))
    assert acme.json("import", "-", input=good)["created"] == 5
    assert acme.json("import", "-", input=good)["unchanged"] == 5
    acme.ok("db", "check")


def test_unreadable_file_is_a_usage_error(acme: Cli, tmp_path: Path) -> None:
    acme.fails(2, "import", str(tmp_path / "missing.csv"))
    acme.fails(2, "import", "--format", "xml", "-", input=GOOD)


def test_a_long_error_table_is_cut_short(acme: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from licensectl.cli import bulk as cli_bulk

    monkeypatch.setattr(cli_bulk, "ERROR_TABLE_ROWS", 2)
    text = csv_of(*(f"Acme,PO-{n},1,gizmo,1,1,," for n in range(5)))
    result = acme.fails(7, "import", "-", input=text)
    assert "3 more errors not shown; -o json lists them all" in result.stderr
    assert "5 bad rows" in result.stderr


def test_bulk_minted_ids_are_uuid4() -> None:
    import uuid

    from licensectl.domain import new_ids

    ids = new_ids(2000)
    assert len(set(ids)) == 2000
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_an_imported_row_leaves_the_events_the_single_commands_leave(
    cli: Cli, store_url: str
) -> None:
    """The import writes its events set-based in SQL, not through the commands' code: they
    must still say exactly what `customer add`, `license add` and `transfer` say."""
    from sqlalchemy import create_engine, text

    from licensectl.store.url import normalize_db_url

    cli.ok("partner", "add", "Acme")
    cli.ok("partner", "add", "Beta")
    header = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
    cli.ok("import", "-", input=header + "Acme,PO-9,2,maintenance,1000,3,36,Site 9\n")
    cid = cli.ok("customer", "add", "Site 9", "--partner", "Beta").stdout.strip()
    lid = cli.ok(
        "license",
        "add",
        "--partner",
        "Beta",
        "--po",
        "PO-9",
        "--po-line",
        "2",
        "--type",
        "maintenance",
        "--devices",
        "1000",
        "--quantity",
        "3",
        "--term",
        "36",
    ).stdout.strip()
    cli.ok("transfer", lid, "--to", cid, "--yes")

    engine = create_engine(normalize_db_url(store_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT e.action, e.license_id, e.customer_id, e.details, p.name "
                    "FROM event e JOIN partner p ON p.id = e.partner_id ORDER BY e.id"
                )
            ).all()
    finally:
        engine.dispose()

    def normalised(partner: str) -> list[tuple[str, str]]:
        ids: dict[str, str] = {}

        def alias(value: object) -> object:
            if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
                return ids.setdefault(value, f"<id{len(ids)}>")
            if isinstance(value, dict):
                return {k: alias(v) for k, v in sorted(value.items()) if k != "via"}
            return value

        found = []
        for action, license_id, customer_id, details, name in rows:
            if name != partner or action == "partner.add":
                continue
            data = details if isinstance(details, dict) else json.loads(details)
            data = {k: ("<partner>" if v == partner else v) for k, v in data.items()}
            found.append((action, json.dumps([alias(license_id), alias(customer_id), alias(data)])))
        return found

    imported, typed = normalised("Acme"), normalised("Beta")
    assert [a for a, _ in imported] == [
        "customer.add",
        "license.add",
        "license.transfer",
        "license.mint",
    ]
    assert imported == typed
