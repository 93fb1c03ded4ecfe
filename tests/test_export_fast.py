"""The export's fast path (one joined SELECT, no ORM, no model_dump per row) writes the
very bytes the public models would, in both formats, with and without filters."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli

from licensectl.contract.requests import LicenseFilter, Page
from licensectl.domain import LicenseStatus
from licensectl.safe_text import csv_value, json_text

#: About the local store itself (its schema, indexes and statements), not the API.
pytestmark = pytest.mark.local_only


def reference(items: list[Any], fmt: str) -> str:
    """What `export` wrote before the fast path: model_dump(mode="json") per license."""
    keys = list(type(items[0]).model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if fmt == "csv":
        writer.writerow(keys)
    for lic in items:
        data = lic.model_dump(mode="json")
        if fmt == "csv":
            writer.writerow([csv_value(data[k]) for k in keys])
        else:
            buffer.write(json_text(data) + "\n")
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_bytes_equal_the_public_models(
    cli: Cli, backend_as: Any, onboarded: dict[str, str], fmt: str, tmp_path: Path
) -> None:
    lic = onboarded["license"]
    cli.ok("transfer", lic, "--to", "P2022-0208", "--quantity", "2", "--yes")
    cli.ok(
        "license", "add", "--po", "=HYPERLINK(\"x\")", "--type", "maintenance", "--devices",
        "10", "--term", "12", "--note", "Ünïcode, \"quoted\"\nnew line",
    )  # fmt: skip
    backend = backend_as()
    for filters in (LicenseFilter(), LicenseFilter(status=LicenseStatus.TRANSFERRED)):
        items = backend.license_list(filters, page=Page(limit=None)).items
        args = ["--status", "transferred"] if filters.status else []
        target = tmp_path / f"export-{len(args)}.{fmt}"
        cli.ok("export", "--format", fmt, "--out", str(target), *args)
        out = target.read_bytes().decode("utf-8")
        assert out == reference(items, fmt)
        assert len(out.splitlines()) == len(items) + (fmt == "csv")
