"""license add/list/show and their rules, on every backend."""

from __future__ import annotations

import csv
import io
import json
import uuid

from conftest import LICENSE_KEYS, Cli


def test_license_add_and_show(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    assert uuid.UUID(lic).version == 4
    shown = cli.json("license", "show", lic)
    assert LICENSE_KEYS <= set(shown)
    assert shown["activations"] == []
    assert shown | {"license_id": lic} == shown
    assert (shown["type"], shown["devices"], shown["quantity"], shown["free_copies"]) == (
        "capacity",
        200,
        5,
        5,
    )
    assert shown["status"] == "available"
    assert shown["customer_id"] is None and shown["parent_id"] is None
    assert shown["purchase_order"] == "PO-1001" and shown["po_line"] == 1


def test_maintenance_needs_term_and_others_refuse_it(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    base = ["license", "add", "--po", "PO-9", "--devices", "1000"]
    cli.fails(2, *base, "--type", "maintenance")
    cli.fails(2, *base, "--type", "maintenance", "--term", "24")
    cli.fails(2, *base, "--type", "capacity", "--term", "12")
    cli.fails(2, *base, "--type", "core", "--term", "36")
    lic = cli.json(*base, "--type", "maintenance", "--term", "36")
    assert lic["term_months"] == 36
    assert len(cli.json("license", "list")) == 1


def test_license_value_rules(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    base = ["license", "add", "--po", "PO-9", "--type", "capacity"]
    cli.fails(2, *base, "--devices", "0")
    cli.fails(2, *base, "--devices", "-5")
    cli.fails(2, *base, "--devices", "ten")
    cli.fails(2, *base, "--devices", "10", "--quantity", "0")
    cli.fails(2, *base, "--devices", "10", "--po-line", "0")
    cli.fails(2, *base, "--devices", str(2**31))
    cli.fails(2, *base, "--devices", "10", "--quantity", str(2**40))
    cli.fails(2, "license", "add", "--po", "  ", "--type", "capacity", "--devices", "10")
    cli.fails(2, "license", "add", "--type", "capacity", "--devices", "10")  # no --po
    cli.fails(2, "license", "add", "--po", "X", "--type", "gold", "--devices", "10")
    assert cli.json("license", "list") == []


def test_duplicate_po_line_is_conflict_case_insensitive(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    base = ["license", "add", "--type", "capacity", "--devices", "200"]
    result = cli.fails(4, *base, "--po", "po-1001")
    assert onboarded["license"] in result.stderr
    cli.ok(*base, "--po", "PO-1001", "--po-line", "2")
    assert len(cli.json("license", "list")) == 2


def test_show_unknown_and_malformed(cli: Cli, onboarded: dict[str, str]) -> None:
    cli.fails(3, "license", "show", str(uuid.uuid4()))
    result = cli.fails(2, "license", "show", "not-a-uuid")
    assert "UUID" in result.stderr
    cli.fails(2, "license", "history", "12345")


def test_list_filters(cli: Cli, onboarded: dict[str, str]) -> None:
    cli.ok(
        "license",
        "add",
        "--po",
        "PO-2",
        "--type",
        "maintenance",
        "--devices",
        "200",
        "--term",
        "12",
    )
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    everything = cli.json("license", "list")
    assert len(everything) == 4
    assert {r["status"] for r in everything} == {"available", "transferred"}
    mine = cli.json("license", "list", "--inventory", "mine")
    assert all(r["customer_id"] is None for r in mine) and len(mine) == 3
    theirs = cli.json("license", "list", "--inventory", "customer")
    assert [r["quantity"] for r in theirs] == [2]
    by_customer = cli.json("license", "list", "--customer", "P2022-0208")
    assert [r["customer_id"] for r in by_customer] == [onboarded["customer1"]]
    assert cli.json("license", "list", "--customer", onboarded["customer2"]) == []
    assert len(cli.json("license", "list", "--status", "transferred")) == 1
    assert [r["type"] for r in cli.json("license", "list", "--type", "maintenance")] == [
        "maintenance"
    ]
    assert len(cli.json("license", "list", "--partner", "acme integrators")) == 4
    cli.fails(3, "license", "list", "--partner", "nobody")
    cli.fails(3, "license", "list", "--customer", "nobody")
    cli.fails(2, "license", "list", "--status", "lost")


def test_paging_limit_all_after(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    ids = [
        cli.ok(
            "license",
            "add",
            "--po",
            "PO-P",
            "--po-line",
            str(n),
            "--type",
            "core",
            "--devices",
            "1",
        ).stdout.strip()
        for n in range(1, 6)
    ]
    first = cli.run("-o", "json", "license", "list", "--limit", "2")
    assert first.exit_code == 0
    assert [r["license_id"] for r in json.loads(first.stdout)] == ids[:2]
    assert "--after " + ids[1] in first.stderr and "--all" in first.stderr
    second = cli.json("license", "list", "--limit", "2", "--after", ids[1])
    assert [r["license_id"] for r in second] == ids[2:4]
    last = cli.run("-o", "json", "license", "list", "--limit", "2", "--after", ids[3])
    assert [r["license_id"] for r in json.loads(last.stdout)] == ids[4:]
    assert "Warning" not in last.stderr
    assert len(cli.json("license", "list", "--all")) == 5
    cli.fails(3, "license", "list", "--after", str(uuid.uuid4()))
    cli.fails(2, "license", "list", "--after", "nope")
    cli.fails(2, "license", "list", "--limit", "0")


def test_output_formats(cli: Cli, onboarded: dict[str, str]) -> None:
    jsonl = cli.ok("-o", "jsonl", "license", "list").stdout.splitlines()
    assert len(jsonl) == 1 and json.loads(jsonl[0])["license_id"] == onboarded["license"]
    rows = list(csv.DictReader(io.StringIO(cli.ok("license", "list", "-o", "csv").stdout)))
    assert rows[0]["license_id"] == onboarded["license"] and rows[0]["quantity"] == "5"
    assert LICENSE_KEYS <= set(rows[0])
    table = cli.ok("license", "list").stdout
    assert onboarded["license"] in table and "My Inventory" in table
    # a create command in CSV/JSONL mode prints the created object, not a bare ID
    created = cli.ok(
        "-o", "jsonl", "license", "add", "--po", "PO-X", "--type", "core", "--devices", "1"
    ).stdout
    assert json.loads(created)["type"] == "core"


def test_output_env_var(cli: Cli, onboarded: dict[str, str]) -> None:
    result = cli.run("license", "list", env={"LICENSECTL_OUTPUT": "json"})
    assert json.loads(result.stdout)[0]["license_id"] == onboarded["license"]


def test_narrow_table_drops_optional_columns_not_ids(cli: Cli, onboarded: dict[str, str]) -> None:
    narrow = cli.run("license", "list", env={"COLUMNS": "100"})
    assert narrow.exit_code == 0
    assert onboarded["license"] in narrow.stdout  # whole, on one line
    assert "Parent" not in narrow.stdout and "Owner" in narrow.stdout
    wide = cli.run("license", "list", env={"COLUMNS": "250"})
    assert "Parent" in wide.stdout and "Created" in wide.stdout
