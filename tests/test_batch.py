"""`licensectl batch`: JSON lines of operations, one result line each, on every backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, assert_one_error_line

ONBOARD = """\
# a comment, and a blank line, are skipped
{"op": "customer.add", "name": "P-77 Building 1", "emails": ["owner@example.com"], "as": "site"}

{"op": "customer.email.add", "customer": "$site", "email": "ops@example.com"}
{"op": "license.add", "purchase_order": "PO-77", "type": "capacity", "devices": 200, "quantity": 3, "as": "cap"}
{"op": "license.add", "purchase_order": "PO-77", "po_line": 2, "type": "maintenance", "devices": 1000, "term_months": 36, "as": "care"}
{"op": "transfer", "license_id": "$cap", "to": "$site", "quantity": 2, "as": "moved"}
{"op": "transfer", "license_id": "$care", "to": "P-77 Building 1"}
{"op": "transfer", "license_id": "$moved.remainder.license_id", "to": "P-Other"}
"""  # noqa: E501


def results(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.fixture
def acme(cli: Cli) -> Cli:
    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "P-Other")
    return cli


def test_batch_runs_every_operation_and_writes_one_result_each(acme: Cli, tmp_path: Path) -> None:
    path = tmp_path / "onboard.jsonl"
    path.write_text(ONBOARD)
    result = acme.ok("batch", str(path))
    lines = results(result.stdout)
    assert [(r["line"], r["op"], r["ok"]) for r in lines] == [
        (2, "customer.add", True),
        (4, "customer.email.add", True),
        (5, "license.add", True),
        (6, "license.add", True),
        (7, "transfer", True),
        (8, "transfer", True),
        (9, "transfer", True),
    ]
    assert all(set(r) == {"line", "op", "ok", "result"} for r in lines)
    site = lines[0]["result"]
    assert lines[1]["result"]["emails"] == ["owner@example.com", "ops@example.com"]
    moved = lines[4]["result"]
    assert moved["transferred"]["customer_id"] == site["customer_id"]
    assert moved["transferred"]["quantity"] == 2 and moved["remainder"]["quantity"] == 1
    assert lines[6]["result"]["original"]["license_id"] == moved["remainder"]["license_id"]
    assert "7 operations succeeded" in result.stderr
    shown = acme.json("customer", "show", site["customer_id"])
    assert sorted(lic["type"] for lic in shown["licenses"]) == ["capacity", "maintenance"]
    acme.ok("db", "check")


def test_stdin(acme: Cli) -> None:
    line = '{"op": "license.add", "purchase_order": "PO-1", "type": "core", "devices": 1}\n'
    (only,) = results(acme.ok("batch", "-", input=line).stdout)
    assert only["ok"] and only["result"]["purchase_order"] == "PO-1"


def test_failures_go_on_and_exit_with_the_first_failures_code(acme: Cli) -> None:
    text = "\n".join(
        [
            '{"op": "license.add", "purchase_order": "PO-1", "type": "core", "devices": 1}',
            '{"op": "transfer", "license_id": "00000000-0000-4000-8000-000000000000", "to": "P"}',
            '{"op": "license.add", "purchase_order": "PO-1", "type": "core", "devices": 1}',
            '{"op": "license.add", "purchase_order": "PO-2", "type": "core", "devices": 1}',
        ]
    )
    result = acme.fails(3, "batch", "-", input=text)
    lines = results(result.stdout)
    assert [r["ok"] for r in lines] == [True, False, False, True]
    assert lines[1]["error"]["exit_code"] == 3 and "no license" in lines[1]["error"]["message"]
    assert lines[2]["error"]["exit_code"] == 4
    assert set(lines[1]) == {"line", "op", "ok", "error"}
    assert "2 of 4 operations failed; the first, line 2" in result.stderr
    # each operation was its own transaction: the good ones stay
    assert [lic["purchase_order"] for lic in acme.json("license", "list")] == ["PO-1", "PO-2"]


def test_atomic_batch_stops_at_the_first_failure_and_writes_nothing(acme: Cli) -> None:
    text = "\n".join(
        [
            '{"op": "customer.add", "name": "P-New"}',
            '{"op": "license.add", "purchase_order": "PO-1", "type": "core", "devices": 1, '
            '"as": "core"}',
            '{"op": "transfer", "license_id": "$core", "to": "P-New"}',
            '{"op": "transfer", "license_id": "$core", "to": "P-Other"}',
            '{"op": "license.add", "purchase_order": "PO-2", "type": "core", "devices": 1}',
        ]
    )
    result = acme.fails(4, "batch", "--atomic", "-", input=text)
    (failure,) = results(result.stdout)  # only the failing line: nothing else happened
    assert (failure["line"], failure["ok"], failure["error"]["exit_code"]) == (4, False, 4)
    assert "atomic: nothing was written" in result.stderr
    assert acme.json("license", "list") == []
    assert [c["name"] for c in acme.json("customer", "list")] == ["P-Other"]
    # the same batch without the bad line commits whole
    good = "\n".join(line for n, line in enumerate(text.splitlines()) if n != 3)
    lines = results(acme.ok("batch", "--atomic", "-", input=good).stdout)
    assert [r["ok"] for r in lines] == [True] * 4
    assert len(acme.json("license", "list")) == 3


MALFORMED = [
    ("this is not json", "not valid JSON"),
    ('["op", "transfer"]', "must be a JSON object"),
    ('{"license_id": "x"}', 'needs an "op"'),
    ('{"op": "tranfser"}', "did you mean 'transfer'"),
    ('{"op": "license.add", "purchase_order": "P", "type": "core"}', "needs the field"),
    ('{"op": "license.add", "purchase_order": "P", "type": "core", "devices": "2"}', "whole"),
    ('{"op": "license.add", "purchase_order": "P", "type": "gold", "devices": 2}', "gold"),
    ('{"op": "transfer", "license_id": "x", "to": "y", "quantiy": 2}', "did you mean 'quantity'"),
    ('{"op": "transfer", "license_id": "$nothing", "to": "y"}', "names no earlier"),
    ('{"op": "customer.add", "name": "X", "as": "not a name"}', '"as" must be a name'),
]


def test_malformed_lines_are_exit_7_results_and_the_batch_goes_on(acme: Cli) -> None:
    good = '{"op": "customer.add", "name": "P-After"}'
    text = "\n".join([line for line, _ in MALFORMED] + [good]) + "\n"
    result = acme.fails(7, "batch", "-", input=text)
    *bad, after = results(result.stdout)
    for (line, message), got in zip(MALFORMED, bad, strict=True):
        assert got["ok"] is False and got["error"]["exit_code"] == 7, (line, got)
        assert message in got["error"]["message"], (line, got)
    assert after["ok"] is True and after["line"] == len(MALFORMED) + 1
    assert f"{len(MALFORMED)} of {len(MALFORMED) + 1} operations failed" in result.stderr


def test_a_reference_to_a_failed_line_fails_too(acme: Cli) -> None:
    text = "\n".join(
        [
            '{"op": "license.add", "purchase_order": "P", "type": "core", "devices": 0, "as": "x"}',
            '{"op": "transfer", "license_id": "$x", "to": "P-Other"}',
            '{"op": "customer.add", "name": "Y", "as": "x"}',
        ]
    )
    result = acme.fails(2, "batch", "-", input=text)  # devices 0: the backend's exit 2
    lines = results(result.stdout)
    assert "refers to line 1, which failed" in lines[1]["error"]["message"]
    assert "already taken by line 1" in lines[2]["error"]["message"]
    assert_one_error_line(result)


def test_a_missing_file_is_a_usage_error(acme: Cli, tmp_path: Path) -> None:
    acme.fails(2, "batch", str(tmp_path / "missing.jsonl"))


def test_activate_and_return_operations(acme: Cli) -> None:
    text = "\n".join(
        [
            '{"op": "license.add", "purchase_order": "PO-1", "type": "capacity", "devices": 200,'
            ' "quantity": 3, "as": "cap"}',
            '{"op": "transfer", "license_id": "$cap", "to": "P-Other", "as": "held"}',
            '{"op": "activate", "license_id": "$held", "install_code": "17Q3-0001", "copies": 2,'
            ' "name": "Lobby"}',
            '{"op": "activate", "license_id": "$held", "install_code": "17Q3-0001", "copies": 2}',
            '{"op": "return", "license_id": "$held", "install_code": "17Q3-0001"}',
            '{"op": "activate", "license_id": "$cap", "install_code": "17Q3-0001"}',
        ]
    )
    result = acme.fails(4, "batch", "-", input=text)  # the last: a retired license
    lines = results(result.stdout)
    assert [r["ok"] for r in lines] == [True, True, True, True, True, False]
    activated, again, returned = (lines[i]["result"] for i in (2, 3, 4))
    assert (activated["install_code"], activated["copies"], activated["mode"]) == (
        "17Q3-0001",
        2,
        "online",
    )
    assert again["copies"] == 2  # idempotent (rule 8)
    assert returned["copies"] == 0
    held = lines[1]["result"]["transferred"]["license_id"]
    assert acme.json("license", "show", held)["free_copies"] == 3
