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


def test_a_po_prefix_lists_by_po_then_oldest_and_pages_in_that_order(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    """By PO, then oldest first (the order of the PO index, so a prefix matching thousands
    reads one page); `--after` goes on in that order, exact and prefix alike."""
    added: dict[str, list[str]] = {}
    for po in ("PO-9", "PO-3", "PO-9", "PO-30", "PO-3"):
        line = str(len(added.get(po, [])) + 1)
        lic = cli.json(
            "license", "add", "--po", po, "--po-line", line, "--type", "core", "--devices", "1"
        )
        added.setdefault(po, []).append(lic["license_id"])
    expected = [*added["PO-3"], *added["PO-30"], *added["PO-9"]]
    found = [r["license_id"] for r in cli.json("search", "po", "po-3")][:3]
    assert found == expected[:3]
    everything = [r["license_id"] for r in cli.json("search", "po", "PO-", "--all")]
    assert [lid for lid in everything if lid in expected] == expected
    paged: list[str] = []
    after: list[str] = []
    while True:
        page = cli.run("-o", "json", "search", "po", "PO-", "--limit", "2", *after)
        paged += [r["license_id"] for r in json.loads(page.stdout)]
        if "--after" not in page.stderr:
            break
        after = ["--after", paged[-1]]
    assert paged == everything
    exact = cli.json("search", "po", "po-9", "--exact", "--limit", "1")
    assert [r["license_id"] for r in exact] == added["PO-9"][:1]
    rest = cli.json("search", "po", "po-9", "--exact", "--after", added["PO-9"][0])
    assert [r["license_id"] for r in rest] == added["PO-9"][1:]


def test_search_customer_pages_by_limit_and_after_oldest_first(cli: Cli) -> None:
    """A page of matches, then `--after` the last one, in the order they were added; the
    statement is the same whatever the page, so each page binds its own values."""
    cli.ok("partner", "add", "Acme")
    cli.ok("partner", "add", "Bolt")
    made = []
    for i, partner in enumerate(["Acme", "Bolt", "Acme", "Acme", "Bolt"]):
        made.append(cli.json("customer", "add", f"Harbour {i}", "--partner", partner))
    cli.ok("customer", "add", "Elsewhere", "--partner", "Acme")
    everything = [c["customer_id"] for c in cli.json("search", "customer", "harbour", "--all")]
    assert everything == [c["customer_id"] for c in made]
    paged: list[str] = []
    after: list[str] = []
    while True:
        page = cli.run("-o", "json", "search", "customer", "HARBOUR", "--limit", "2", *after)
        found = json.loads(page.stdout)
        assert 1 <= len(found) <= 2
        paged += [c["customer_id"] for c in found]
        if "--after" not in page.stderr:
            break
        after = ["--after", paged[-1]]
    assert paged == everything
    tail = cli.json("search", "customer", "harb", "--after", everything[2], "--limit", "1")
    assert [c["customer_id"] for c in tail] == everything[3:4]
    assert [c["partner"] for c in tail] == ["Acme"]
    assert cli.json("search", "customer", "harbour", "--after", everything[-1]) == []
