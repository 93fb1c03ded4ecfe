"""search customer / search po."""

from __future__ import annotations

import json

from conftest import Cli


def test_search_customer_substring_any_case(cli: Cli, onboarded: dict[str, str]) -> None:
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "1", "--yes")
    found = cli.json("search", "customer", "2022")
    assert [c["customer_id"] for c in found] == [onboarded["customer1"]]
    assert [lic["quantity"] for lic in found[0]["licenses"]] == [1]
    assert {c["name"] for c in cli.json("search", "customer", "p")} == {
        "P2022-0208",
        "P-Building 1",
    }
    assert cli.json("search", "customer", "building")[0]["licenses"] == []
    assert cli.json("search", "customer", "zzz") == []
    # LIKE wildcards are literal text
    assert cli.json("search", "customer", "%") == []
    assert cli.json("search", "customer", "_") == []
    assert "P2022-0208" in cli.ok("search", "customer", "2022").stdout
    cli.fails(2, "search", "customer", "  ")


def test_search_po_prefix_exact_and_retired(cli: Cli, onboarded: dict[str, str]) -> None:
    cli.ok("license", "add", "--po", "PO-10015", "--type", "core", "--devices", "1")
    cli.ok("license", "add", "--po", "XPO-1001", "--type", "core", "--devices", "1")
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    prefix = cli.json("search", "po", "po-1001")
    assert sorted(r["purchase_order"] for r in prefix) == ["PO-1001"] * 3 + ["PO-10015"]
    statuses = [r["status"] for r in prefix if r["license_id"] == onboarded["license"]]
    assert statuses == ["transferred"]
    exact = cli.json("search", "po", "PO-1001", "--exact")
    assert {r["purchase_order"] for r in exact} == {"PO-1001"} and len(exact) == 3
    assert cli.json("search", "po", "nothing") == []
    assert (
        cli.json("search", "po", "PO-1001", "--exact", "--limit", "1")[0]["license_id"]
        == (onboarded["license"])
    )
    limited = cli.run("-o", "json", "search", "po", "PO", "--limit", "1")
    assert len(json.loads(limited.stdout)) == 1 and "--after" in limited.stderr
