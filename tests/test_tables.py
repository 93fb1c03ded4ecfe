"""Tables fit the terminal by dropping columns, never by splitting a value (issue 7, 13).

At 60, 80 and 120 columns every table line fits, every value shown is whole (a row is
one line, and each cell equals the value in the JSON), and a wider terminal shows at
least the columns of a narrower one. `-o wide` (or LICENSECTL_OUTPUT=wide) shows them all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Cli

WIDTHS = (60, 80, 120)
CODE = "5A7C-31F2-9D04-E86B"


@pytest.fixture
def estate(cli: Cli) -> dict[str, Any]:
    cli.ok("partner", "add", "Acme Integrators", "--email", "ops@acme.example")
    cli.ok("customer", "add", "P2022-0208 Building 1", "--email", "owner@example.com")
    cli.ok("customer", "add", "P-Building 2", "--email", "a@b.example", "--email", "c@d.example")
    capacity = cli.ok(
        "license", "add", "--po", "PO-2026-0117", "--type", "capacity", "--devices", "200",
        "--quantity", "3",
    ).stdout.strip()  # fmt: skip
    maintenance = cli.ok(
        "license", "add", "--po", "PO-2026-0117", "--po-line", "2", "--type", "maintenance",
        "--devices", "1000", "--term", "36",
    ).stdout.strip()  # fmt: skip
    moved = cli.ok(
        "transfer", capacity, "--to", "P2022-0208 Building 1", "--quantity", "2", "--yes"
    ).stdout.split()[0]
    maint = cli.ok("transfer", maintenance, "--to", "P2022-0208 Building 1", "--yes").stdout
    cli.ok("activate", moved, "--install-code", CODE, "--copies", "2", "--name", "Lobby")
    cli.ok("activate", maint.strip(), "--install-code", CODE)
    return {"capacity": capacity, "moved": moved}


def run(cli: Cli, width: int, *args: str, output: str | None = None) -> list[str]:
    env = {"COLUMNS": str(width)}
    if output:
        env["LICENSECTL_OUTPUT"] = output
    result = cli.run(*args, env=env)
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def tables(lines: list[str]) -> list[tuple[list[str], list[list[str]]]]:
    """Each table in the output: its headers and its rows (one list of cells a line).

    A table is a header line above a rule of "━", then rows up to a blank line or the
    next table (a table of one column has no "┃" or "│" in it)."""
    found: list[tuple[list[str], list[list[str]]]] = []
    inside = False
    for i, line in enumerate(lines):
        if line.strip() and set(line.strip()) <= set("━╇"):
            found.append(([h.strip() for h in lines[i - 1].split("┃")], []))
            inside = True
        elif inside and line.strip() and (i + 1 == len(lines) or "━" not in lines[i + 1]):
            found[-1][1].append([c.strip() for c in line.split("│")])
        elif not line.strip():
            inside = False
    return found


def assert_fits(lines: list[str], width: int) -> None:
    for line in lines:
        assert len(line.rstrip()) <= width, f"{len(line.rstrip())} > {width}: {line!r}"


def show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


LICENSE_CELLS = {
    "License ID": lambda x: x["license_id"],
    "Type": lambda x: x["type"],
    "Devices": lambda x: x["devices"],
    "Qty": lambda x: x["quantity"],
    "Free": lambda x: x["free_copies"],
    "Term": lambda x: f"{x['term_months']} mo" if x["term_months"] else "",
    "PO": lambda x: x["purchase_order"],
    "Line": lambda x: x["po_line"],
    "Status": lambda x: x["status"],
    "Partner": lambda x: x["partner"],
    "Owner": lambda x: x["customer"] if x["customer_id"] else "My Inventory",
    "Parent": lambda x: x["parent_id"],
    "Created": lambda x: x["created_at"],
}
CUSTOMER_CELLS = {
    "Customer ID": lambda x: x["customer_id"],
    "Name": lambda x: x["name"],
    "Partner": lambda x: x["partner"],
    "Emails": lambda x: x["emails"],
    "Created": lambda x: x["created_at"],
}


def assert_rows(
    headers: list[str], rows: list[list[str]], items: list[dict[str, Any]], cells: dict[str, Any]
) -> None:
    """One line per item, and every shown cell is the item's whole value."""
    assert len(rows) == len(items), (headers, rows)
    for row, item in zip(rows, items, strict=True):
        for header, cell in zip(headers, row, strict=True):
            assert cell == show(cells[header](item)), (header, cell, item)


def test_license_list_at_60_80_120(cli: Cli, estate: dict[str, Any]) -> None:
    items = json.loads(cli.ok("-o", "json", "license", "list").stdout)
    shown: list[set[str]] = []
    for width in WIDTHS:
        lines = run(cli, width, "license", "list")
        assert_fits(lines, width)
        ((headers, rows),) = tables(lines)
        assert_rows(headers, rows, items, LICENSE_CELLS)
        assert {"License ID", "Status"} <= set(headers)
        shown.append(set(headers))
    assert shown[0] <= shown[1] <= shown[2]
    assert len(shown[2]) > len(shown[1]) > len(shown[0])
    assert {"Type", "Devices"} <= shown[1]
    for lines in (
        run(cli, 60, "-o", "wide", "license", "list"),
        run(cli, 60, "license", "list", output="wide"),  # LICENSECTL_OUTPUT=wide
    ):
        ((headers, rows),) = tables(lines)
        assert headers == list(LICENSE_CELLS)
        assert_rows(headers, rows, items, LICENSE_CELLS)


def test_customer_list_at_60_80_120(cli: Cli, estate: dict[str, Any]) -> None:
    items = json.loads(cli.ok("-o", "json", "customer", "list").stdout)
    shown = []
    for width in WIDTHS:
        lines = run(cli, width, "customer", "list")
        assert_fits(lines, width)
        ((headers, rows),) = tables(lines)
        assert_rows(headers, rows, items, CUSTOMER_CELLS)
        assert "Customer ID" in headers
        shown.append(set(headers))
    assert shown[0] <= shown[1] <= shown[2]
    assert "Name" in shown[1] and len(shown[2]) > len(shown[1])
    ((headers, _),) = tables(run(cli, 60, "-o", "wide", "customer", "list"))
    assert headers == list(CUSTOMER_CELLS)


def test_license_history_at_60_80_120(cli: Cli, estate: dict[str, Any]) -> None:
    history = json.loads(cli.ok("-o", "json", "license", "history", estate["capacity"]).stdout)
    events = history["events"]
    for width in WIDTHS:
        lines = run(cli, width, "license", "history", estate["capacity"])
        assert_fits(lines, width)
        ((headers, rows),) = tables(lines)
        assert "Action" in headers
        # an event's first line carries its whole time, action and License ID; free-text
        # details may continue on further lines, between words
        starts = [r for r in rows if r[headers.index("Action")]]
        assert len(starts) == len(events)
        for row, event in zip(starts, events, strict=True):
            cells = dict(zip(headers, row, strict=True))
            assert cells["Action"] == event["action"]
            if "At" in cells:
                assert cells["At"] == event["at"]
            if "License ID" in cells:
                assert cells["License ID"] == event["license_id"]
        if width >= 80:
            assert {"At", "License ID"} <= set(headers)
        if width >= 120:
            assert "Details" in headers
        text = "\n".join(lines)
        for lic in (history["license"], *history["descendants"]):
            assert lic["license_id"] in text  # the lineage tree keeps IDs whole
    ((headers, _),) = tables(run(cli, 60, "-o", "wide", "license", "history", estate["capacity"]))
    assert headers == ["At", "Actor", "Action", "License ID", "Details"]


def test_smartserver_show_at_60_80_120(cli: Cli, estate: dict[str, Any]) -> None:
    server = json.loads(cli.ok("-o", "json", "smartserver", "show", CODE).stdout)
    held = server["activations"]
    for width in WIDTHS:
        lines = run(cli, width, "smartserver", "show", CODE)
        assert_fits(lines, width)
        assert any(line.split() == ["capacity", "400"] for line in lines)  # the record
        ((headers, rows),) = tables(lines)
        assert len(rows) == len(held)
        for row, activation in zip(rows, held, strict=True):
            cells = dict(zip(headers, row, strict=True))
            assert cells["License ID"] == activation["license_id"]
            for header, key in (("Devices", "devices"), ("Copies", "copies")):
                if header in cells:
                    assert cells[header] == str(activation[key])
        if width >= 80:
            assert {"Copies", "Type", "Devices"} <= set(headers)


def test_search_customer_at_60_80_120(cli: Cli, estate: dict[str, Any]) -> None:
    found = json.loads(cli.ok("-o", "json", "search", "customer", "building").stdout)
    assert len(found) == 2
    for width in WIDTHS:
        lines = run(cli, width, "search", "customer", "building")
        assert_fits(lines, width)
        parsed = tables(lines)
        customers = [t for t in parsed if t[0][0] == "Customer ID"]
        licenses = [t for t in parsed if t[0][0] == "License ID"]
        # two tables however many customers match: theirs, then all their licenses
        assert len(customers) == 1 and len(licenses) == 1  # P-Building 2 has none
        headers, rows = customers[0]
        counted = {**CUSTOMER_CELLS, "Licenses": lambda x: len(x["licenses"])}
        assert_rows(headers, rows, found, counted)
        headers, rows = licenses[0]
        assert_rows(headers, rows, found[0]["licenses"], LICENSE_CELLS)


def test_wide_is_an_output_format(cli: Cli, estate: dict[str, Any]) -> None:
    result = cli.run("-o", "wide", "license", "list", env={"COLUMNS": "60"})
    assert result.exit_code == 0
    assert "Created" in result.stdout and "Parent" in result.stdout
    # like table for everything else: a create command prints its bare ID
    created = cli.ok(
        "-o", "wide", "license", "add", "--po", "PO-W", "--type", "core", "--devices", "1"
    ).stdout
    assert len(created.split()) == 1
    assert "wide" in cli.ok("--help").stdout
