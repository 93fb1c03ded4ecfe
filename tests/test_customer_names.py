"""A customer name that parses as a UUID is refused wherever a customer name enters:
`customer add`, an import's `customer` column, a batch `customer.add` line.

Such a customer could never be reached by name (anything that parses as a UUID is taken
for a Customer ID), and `transfer --to NAME` would silently mean another customer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

CID = "2133c667-af41-4518-94df-a2bb3b775330"
#: Every spelling Python's uuid.UUID reads, which is what decides "Customer ID".
UUID_LIKE = [
    CID,
    CID.upper(),
    CID.replace("-", ""),
    "{" + CID + "}",
    "urn:uuid:" + CID,
    "2133c667af41-4518-94df-a2bb3b775330",
    "  " + CID + "  ",
]


@pytest.fixture
def acme(cli: Cli) -> Cli:
    cli.ok("partner", "add", "Acme")
    return cli


@pytest.mark.parametrize("name", UUID_LIKE)
def test_customer_add_refuses_a_uuid_name(acme: Cli, name: str) -> None:
    result = acme.fails(2, "customer", "add", name)
    assert "UUID" in result.stderr
    assert acme.json("customer", "list") == []


def test_the_reported_case_to_never_means_another_customer(acme: Cli) -> None:
    # Before: a customer named after another's Customer ID, and `--to` meant the other.
    other = acme.ok("customer", "add", "Site A").stdout.strip()
    acme.fails(2, "customer", "add", other)
    lic = acme.ok(
        "license", "add", "--po", "PO-1", "--type", "capacity", "--devices", "200"
    ).stdout.strip()
    moved = acme.json("transfer", lic, "--to", other, "--yes")
    assert moved["transferred"]["customer_id"] == other
    assert [c["name"] for c in acme.json("customer", "list")] == ["Site A"]


def test_names_that_only_look_a_little_like_ids_are_fine(acme: Cli) -> None:
    for name in ("2133c667-af41", CID + "-2", "P " + CID, "2133c667 af41 4518 94df a2bb3b775330"):
        cid = acme.ok("customer", "add", name).stdout.strip()
        assert acme.json("customer", "show", name)["customer_id"] == cid


def test_an_import_refuses_a_uuid_customer(acme: Cli, tmp_path: Path) -> None:
    path = tmp_path / "po.csv"
    path.write_text(
        "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
        "Acme,PO-1,1,capacity,200,1,,Site A\n"
        f"Acme,PO-1,2,capacity,200,1,,{CID.upper()}\n"
    )
    result = acme.fails(7, "-o", "json", "import", str(path))
    summary = json.loads(result.stdout)
    assert [(e["row"], e["field"]) for e in summary["errors"]] == [(3, "customer")]
    assert "UUID" in summary["errors"][0]["message"]
    assert acme.json("customer", "list") == [] and acme.json("license", "list") == []


def test_a_batch_refuses_a_uuid_customer(acme: Cli) -> None:
    lines = [
        {"op": "customer.add", "name": "Site A"},
        {"op": "customer.add", "name": "{" + CID + "}"},
    ]
    result = acme.run("batch", "-", input="\n".join(json.dumps(line) for line in lines))
    assert result.exit_code == 2
    results = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ok"] for r in results] == [True, False]
    assert results[1]["error"]["exit_code"] == 2 and "UUID" in results[1]["error"]["message"]
    assert [c["name"] for c in acme.json("customer", "list")] == ["Site A"]
