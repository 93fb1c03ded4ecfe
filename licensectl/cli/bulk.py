"""`licensectl import` and `licensectl export`: purchase orders in, licenses out."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import Application, get_app
from licensectl.cli.files import check_writable
from licensectl.cli.output import Column, OutputFormat
from licensectl.cli.views import with_license_filter
from licensectl.errors import InvalidDataError

if TYPE_CHECKING:
    from licensectl.contract.models import ImportSummary
    from licensectl.contract.requests import LicenseFilter


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


#: A table of row errors longer than this is cut short (JSON output lists them all).
ERROR_TABLE_ROWS = 500

ROW_ERROR_COLUMNS = [
    Column("Row", "row", justify="right"),
    Column("Field", "field"),
    Column("Message", "message", wrap=True),
]

FormatOpt = Annotated[
    FileFormat | None,
    typer.Option(
        "--format",
        case_sensitive=False,
        help="csv or jsonl (default: from the file name, .jsonl/.ndjson, else csv).",
    ),
]


def import_(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="CSV (with a header) or JSONL; - for stdin.")
    ],
    format_: FormatOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything and report; write nothing.")
    ] = False,
) -> None:
    """Import purchased licenses from purchase-order lines: all rows or none.

    Columns: partner, purchase_order, po_line, type, devices, quantity, term_months, customer.

    A customer is created under the partner if missing, and the new license transferred to it.

    Lines imported before are unchanged. Any bad row: all errors listed, nothing written, exit 7.
    """
    from licensectl.contract.requests import ImportOptions
    from licensectl.importer import detect_format, open_input

    application = get_app(ctx)
    out = application.out
    fmt = detect_format(file, format_.value if format_ else None)
    with open_input(file) as stream:
        backend = application.backend()
        total = _size(file)
        with out.progress(f"Importing {_name(file)}", total=total) as advance:
            summary = backend.import_licenses(
                _advancing(stream, advance), ImportOptions(format=fmt, dry_run=dry_run)
            )
    if out.format is OutputFormat.TABLE:
        if summary.errors:
            out.table(
                [e.model_dump() for e in summary.errors[:ERROR_TABLE_ROWS]],
                ROW_ERROR_COLUMNS,
                title=f"Errors in {_name(file)}",
                err=True,
            )
            if len(summary.errors) > ERROR_TABLE_ROWS:
                out.warn(
                    f"{len(summary.errors) - ERROR_TABLE_ROWS:,} more errors not shown; "
                    "-o json lists them all"
                )
        else:
            out.status(_summary_line(summary))
    else:
        saved = None
        if not (summary.dry_run or summary.errors):
            saved = f"the import was committed ({_summary_line(summary)})"
        out.document(summary, saved=saved)
    if summary.errors:
        rows = len({e.row for e in summary.errors})
        raise InvalidDataError(
            f"{_name(file)} has {rows} bad row{'s' if rows != 1 else ''} "
            f"({len(summary.errors)} error{'s' if len(summary.errors) != 1 else ''}); "
            "nothing was imported. Fix them and run the import again"
        )


def _summary_line(summary: ImportSummary) -> str:
    customers = summary.customers_created
    created = f"{summary.created:,} license{'s' if summary.created != 1 else ''}"
    if customers:
        created += f" and {customers:,} customer{'s' if customers != 1 else ''}"
    unchanged = f"{summary.unchanged:,} already imported (unchanged)"
    if summary.dry_run:
        return f"Dry run: would create {created}; {unchanged}. Nothing was written."
    return f"Created {created}; {unchanged}."


def _size(file: str) -> int | None:
    if file == "-":
        return None
    try:
        return os.path.getsize(file)
    except OSError:
        return None


def _name(file: str) -> str:
    return "standard input" if file == "-" else file


def _advancing(lines: Iterable[str], advance: Callable[[float], None]) -> Iterator[str]:
    """The lines, telling the progress bar how far the reading has come (in characters,
    which is bytes for the ASCII most such files are)."""
    pending = 0
    for line in lines:
        pending += len(line)
        if pending > 1 << 16:
            advance(pending)
            pending = 0
        yield line
    advance(pending)


@with_license_filter
def export(
    ctx: typer.Context,
    filters: LicenseFilter,
    format_: FormatOpt = None,
    out_path: Annotated[
        str | None,
        typer.Option("--out", metavar="FILE", help="Write to FILE (atomically), not stdout."),
    ] = None,
) -> None:
    """Export every license the filters select (those of `license list`), oldest first.

    CSV with a header (RFC 4180, UTF-8) or JSONL, with the keys of `license list -o json`.

    Streams, so any number of licenses fits; --out is replaced only once all is written.
    """
    application = get_app(ctx)
    fmt = _export_format(format_, out_path)
    if out_path == "-":
        out_path = None
    check_writable(out_path, what="export")
    backend = application.backend()
    # A local store hands over rows in JSON form (no model per license); a server, models.
    fast = getattr(backend, "export_rows", None)
    batches = fast(filters) if fast is not None else backend.export_licenses(filters)
    raw = application.raw
    if out_path is None:
        count = _write_licenses(batches, fmt, application.out.raw, raw=raw, rows=fast is not None)
    else:
        from licensectl.fileio import open_output

        with open_output(Path(out_path), what="export") as binary:
            handle = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            count = _write_licenses(batches, fmt, handle.write, raw=raw, rows=fast is not None)
            handle.flush()
            handle.detach()  # the binary stream is open_output's to close
    _exported(application, count, out_path)


def _export_format(explicit: FileFormat | None, out_path: str | None) -> FileFormat:
    from licensectl.importer import detect_format

    return FileFormat(detect_format(out_path, explicit.value if explicit else None))


def _write_licenses(
    batches: Iterable[list[Any]],
    fmt: FileFormat,
    write: Callable[[str], object],
    *,
    raw: bool = False,
    rows: bool = False,
) -> int:
    """Write the export's text as it comes; returns how many licenses it held.

    `rows`: the batches hold exporter.ExportRow tuples, not LicensePublic models."""
    from licensectl.exporter import export_chunks, export_row_chunks

    count = 0

    def counted() -> Iterator[list[Any]]:
        nonlocal count
        for batch in batches:
            count += len(batch)
            yield batch

    chunks = export_row_chunks if rows else export_chunks
    for chunk in chunks(counted(), fmt.value, raw=raw):
        write(chunk)
    return count


def _exported(application: Application, count: int, out_path: str | None) -> None:
    where = f" to {out_path}" if out_path else ""
    application.out.status(f"Exported {count:,} license{'s' if count != 1 else ''}{where}.")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("export")(export)
