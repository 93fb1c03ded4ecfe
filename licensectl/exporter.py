"""The text of an export: licenses as CSV (RFC 4180) or JSON lines, chunk by chunk.

Shared by `licensectl export` and the server's `GET /v1/exports`, so both write the same
bytes. Imports the standard library, the contract and safe_text only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from licensectl.contract.models import LicensePublic, format_utc
from licensectl.safe_text import csv_cell, csv_value, json_text

ExportFormat = Literal["csv", "jsonl"]
#: A license as the JSON values of LicensePublic's keys, in their order.
ExportRow = tuple[Any, ...]


def export_chunks(
    batches: Iterable[list[LicensePublic]], fmt: ExportFormat, *, raw: bool = False
) -> Iterator[str]:
    """Each batch as one chunk of text: CSV rows after a header, or JSON lines.

    CSV has the keys of `license list -o json` as its header, CRLF line ends and quotes
    where needed; the header comes even when no license does. Its cells are guarded
    against formulas and unsafe characters unless `raw` (`safe_text.csv_value`); JSON
    lines are exact (`safe_text.json_text`).
    """
    keys = list(LicensePublic.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if fmt == "csv":
        writer.writerow(keys)
    for batch in batches:
        for lic in batch:
            data = json_data(lic, keys)
            if fmt == "csv":
                writer.writerow([csv_value(data[k], raw=raw) for k in keys])
            else:
                buffer.write(json_text(data) + "\n")
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()  # the header of an empty CSV export


def json_data(lic: LicensePublic, keys: list[str]) -> dict[str, Any]:
    """`lic.model_dump(mode="json")`, for the field types a LicensePublic has, at a
    fraction of its cost (tests/test_export_fast.py holds it to the same output)."""
    data: dict[str, Any] = {}
    for key in keys:
        value = getattr(lic, key)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = format_utc(value)
        data[key] = value
    return data


def export_row_chunks(
    batches: Iterable[list[ExportRow]], fmt: ExportFormat, *, raw: bool = False
) -> Iterator[str]:
    """`export_chunks` for rows already in JSON form (the local store's fast path):
    the same text, without a model per license."""
    keys = list(LicensePublic.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if fmt == "csv":
        writer.writerow(keys)

    def text(value: str | None) -> str:
        return "" if value is None else csv_cell(value, raw=raw)

    for batch in batches:
        if fmt == "csv":
            # One pass a row, each cell spelled where it stands: the free text (PO,
            # partner, customer, note) gets `csv_cell`'s guard; the other cells are
            # numbers, enum values, UUIDs and times; an absent value is an empty cell.
            writer.writerows(
                (lid, typ, devices, quantity, free, "" if term is None else term, text(po),
                 line, status, text(partner), customer_id or "", text(customer),
                 parent or "", text(note), created)
                for (lid, typ, devices, quantity, free, term, po, line, status, partner,
                     customer_id, customer, parent, note, created) in batch
            )  # fmt: skip
        else:
            for row in batch:
                buffer.write(json_text(dict(zip(keys, row, strict=True))) + "\n")
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()  # the header of an empty CSV export
