"""`licensectl export`: every license, streamed, as CSV or JSONL, with `license list`'s keys."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import LICENSE_KEYS, Cli

from licensectl.contract.requests import LicenseFilter

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer"


@pytest.fixture
def stocked(cli: Cli, onboarded: dict[str, str]) -> Cli:
    """The onboarded store, plus licenses in every state and a PO that needs quoting."""
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    text = "\n".join(
        [
            HEADER,
            'Acme Integrators,"PO,7 ""rush""",1,maintenance,1000,1,36,P-Building 1',
            "Acme Integrators,PO-8,1,core,1,3,,",
            "Acme Integrators,Bestellung-Ä,2,capacity,500,1,,",
        ]
    )
    cli.ok("import", "-", input=text + "\n")
    return cli


def listed(cli: Cli, *filters: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = cli.json("license", "list", "--all", *filters)
    return result


def as_text(row: dict[str, Any]) -> dict[str, str]:
    """What a license's JSON becomes in a CSV cell."""
    return {k: "" if v is None else str(v) for k, v in row.items()}


def test_csv_round_trips_through_a_csv_parser(stocked: Cli) -> None:
    result = stocked.ok("export")
    assert result.stdout.startswith("license_id,type,devices,")
    text = result.stdout_bytes.decode("utf-8")  # .stdout would turn CRLF into LF
    assert text.endswith("\r\n") and text.count("\r\n") == 8  # RFC 4180 line ends
    exported = list(csv.DictReader(io.StringIO(text, newline="")))
    expected = listed(stocked)
    assert len(expected) == 7
    assert exported == [as_text(r) for r in expected]
    assert any(r["purchase_order"] == 'PO,7 "rush"' for r in exported)
    assert "Exported 7 licenses" in result.stderr


def test_jsonl_is_one_license_a_line_with_the_contract_keys(stocked: Cli) -> None:
    out = stocked.ok("export", "--format", "jsonl").stdout
    exported = [json.loads(line) for line in out.splitlines()]
    assert exported == listed(stocked)
    assert LICENSE_KEYS <= set(exported[0])


def test_same_filters_as_license_list(stocked: Cli) -> None:
    for filters in (
        ["--status", "transferred"],
        ["--inventory", "customer"],
        ["--customer", "P2022-0208"],
        ["--type", "maintenance", "--partner", "acme integrators"],
    ):
        out = stocked.ok("export", "--format", "jsonl", *filters).stdout
        assert [json.loads(line) for line in out.splitlines()] == listed(stocked, *filters)


def test_streams_in_batches(stocked: Cli, backend_as: Callable[..., Any]) -> None:
    batches = list(backend_as().export_licenses(LicenseFilter(), batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [lic.model_dump(mode="json") for b in batches for lic in b] == listed(stocked)


def test_out_file_format_from_its_name(stocked: Cli, tmp_path: Path) -> None:
    target = tmp_path / "licenses.jsonl"
    result = stocked.ok("export", "--out", str(target), "--status", "available")
    assert result.stdout == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == listed(stocked, "--status", "available")
    csv_target = tmp_path / "licenses.csv"
    stocked.ok("export", "--out", str(csv_target))
    with csv_target.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 7


def test_a_failed_export_leaves_the_old_file(stocked: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "licenses.csv"
    target.write_text("the previous export\n")
    stocked.fails(3, "export", "--out", str(target), "--partner", "Nobody")
    assert target.read_text() == "the previous export\n"
    assert [p.name for p in folder.iterdir()] == ["licenses.csv"]  # no temporary left
    stocked.fails(2, "export", "--out", str(folder / "no" / "such" / "dir.csv"))


def test_empty_export(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    assert cli.ok("export").stdout.startswith("license_id,type,")
    assert len(cli.ok("export").stdout.splitlines()) == 1
    assert cli.ok("export", "--format", "jsonl").stdout == ""
