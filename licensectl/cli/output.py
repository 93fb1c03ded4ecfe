"""All terminal output: the one renderer of tables, JSON, JSONL and CSV.

This is the only module that imports Rich (ruff's banned-api enforces it). Data goes
to stdout; status lines, warnings, progress and errors go to stderr.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rich.console import Console  # noqa: TID251
from rich.markup import escape  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.tree import Tree  # noqa: TID251


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


Getter = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Column:
    header: str
    key: str | Getter
    justify: str = "left"
    #: Hide when the terminal is narrow.
    optional: bool = False
    #: Never break the value across lines (IDs must stay copyable).
    no_wrap: bool = False

    def value(self, row: dict[str, Any]) -> Any:
        return self.key(row) if callable(self.key) else row.get(self.key)


@dataclass
class Environment:
    """The streams and terminal facts a command runs with; tests swap these."""

    stdin_isatty: bool = field(default_factory=lambda: sys.stdin.isatty())
    stdout_isatty: bool = field(default_factory=lambda: sys.stdout.isatty())
    stderr_isatty: bool = field(default_factory=lambda: sys.stderr.isatty())


def to_data(item: Any) -> Any:
    """A pydantic model (or list of them) → plain JSON-able data, contract keys intact."""
    if hasattr(item, "model_dump"):
        return item.model_dump(mode="json")
    if isinstance(item, list | tuple):
        return [to_data(i) for i in item]
    return item


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, list | dict) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


class Output:
    def __init__(self, fmt: OutputFormat, *, quiet: bool, env: Environment) -> None:
        self.format = fmt
        self.quiet = quiet
        self.env = env

    # Consoles are made per call: CliRunner swaps sys.stdout for each invocation.
    def _out(self) -> Console:
        width = None if self.env.stdout_isatty else shutil.get_terminal_size((200, 24)).columns
        return Console(file=sys.stdout, width=width, highlight=False, soft_wrap=False)

    def _err(self) -> Console:
        return Console(file=sys.stderr, stderr=True, highlight=False)

    # --- stderr ---------------------------------------------------------------

    def status(self, message: str) -> None:
        if not self.quiet:
            self._err().print(escape(message), soft_wrap=True)

    def warn(self, message: str) -> None:
        self._err().print(f"[yellow]Warning:[/yellow] {escape(message)}", soft_wrap=True)

    def error(self, message: str) -> None:
        # One line, always; soft_wrap keeps Rich from breaking it at the terminal width.
        self._err().print(f"[red]Error:[/red] {escape(message)}", soft_wrap=True)

    def traceback(self, text: str) -> None:
        sys.stderr.write(text)

    # --- stdout -------------------------------------------------------------------

    def raw(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def raw_bytes(self, data: bytes) -> None:
        """Exact bytes (a signed file): no encoding or newline translation on the way."""
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    def ids(self, item: Any, ids: Iterable[str]) -> None:
        """A create command: bare IDs in table mode (for `$(…)`), the object otherwise."""
        if self.format is OutputFormat.TABLE:
            for i in ids:
                self.raw(f"{i}\n")
        else:
            self.document(item)

    def document(
        self, item: Any, *, columns: Sequence[Column] | None = None, title: str | None = None
    ) -> None:
        """One object: JSON document, a JSONL line, a one-row CSV, or a vertical table."""
        data = to_data(item)
        if self.format is OutputFormat.JSON:
            self.raw(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        elif self.format is OutputFormat.JSONL:
            self.raw(json.dumps(data, ensure_ascii=False) + "\n")
        elif self.format is OutputFormat.CSV:
            self._csv([data], columns)
        else:
            self.record(data, title=title)

    def listing(
        self,
        items: Sequence[Any],
        *,
        columns: Sequence[Column],
        title: str | None = None,
        empty: str = "nothing found",
    ) -> None:
        rows = [to_data(i) for i in items]
        if self.format is OutputFormat.JSON:
            self.raw(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        elif self.format is OutputFormat.JSONL:
            for row in rows:
                self.raw(json.dumps(row, ensure_ascii=False) + "\n")
        elif self.format is OutputFormat.CSV:
            self._csv(rows, columns)
        elif not rows:
            self.status(empty)
        else:
            self.table(rows, columns, title=title)

    def table(
        self,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[Column],
        *,
        title: str | None = None,
        err: bool = False,
    ) -> None:
        console = self._err() if err else self._out()
        cells = [[_cell(c.value(row)) for c in columns] for row in rows]
        keep = _fit_columns(columns, cells, console.width)
        table = Table(title=title, title_justify="left", show_lines=False)
        for i in keep:
            c = columns[i]
            table.add_column(
                c.header,
                justify=c.justify,  # type: ignore[arg-type]
                overflow="fold",
                no_wrap=c.no_wrap,
            )
        for row_cells in cells:
            table.add_row(*(escape(row_cells[i]) for i in keep))
        console.print(table)

    def record(self, data: dict[str, Any], *, title: str | None = None, err: bool = False) -> None:
        """A single object as a two-column key/value table (nested lists left out)."""
        table = Table(
            title=title, title_justify="left", show_header=False, box=None, pad_edge=False
        )
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, value in data.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                continue
            table.add_row(escape(key), escape(_cell(value)))
        (self._err() if err else self._out()).print(table)

    def tree(
        self, label: str, children: dict[str, list[str]], labels: dict[str, str], root: str
    ) -> None:
        """Render lineage: `children` maps an ID to its successors' IDs."""
        tree = Tree(escape(label))

        def add(node: Tree, key: str) -> None:
            for child in children.get(key, []):
                add(node.add(escape(labels[child])), child)

        add(tree.add(escape(labels[root])), root)
        self._out().print(tree)

    def heading(self, text: str) -> None:
        self._out().print(f"[bold]{escape(text)}[/bold]")

    def _csv(self, rows: Sequence[dict[str, Any]], columns: Sequence[Column] | None) -> None:
        # CSV carries every key (the contract keys), not just the table's columns;
        # nested values are JSON-encoded so a spreadsheet still gets one cell each.
        keys: list[str] = (
            list(rows[0].keys())
            if rows
            else [c.key for c in columns or () if isinstance(c.key, str)]
        )
        writer = csv.writer(sys.stdout, lineterminator="\r\n")
        writer.writerow(keys)
        for row in rows:
            writer.writerow([_csv_cell(row.get(k)) for k in keys])
        sys.stdout.flush()

    @contextmanager
    def progress(self, what: str, *, total: float | None) -> Iterator[Callable[[float], None]]:
        """A progress bar on stderr while the block runs, on a terminal and without
        --quiet; yields `advance(amount)`, which does nothing when there is no bar."""
        if self.quiet or not self.env.stderr_isatty:
            yield lambda _amount: None
            return
        from rich.progress import Progress  # noqa: TID251 - only on a terminal

        with Progress(console=self._err(), transient=True) as bar:
            task = bar.add_task(escape(what), total=total)
            yield lambda amount: bar.advance(task, amount)

    # --- prompts ----------------------------------------------------------------

    def confirm(self, question: str) -> bool:
        return self._err().input(escape(f"{question} [y/N]: ")).strip().lower() in ("y", "yes")


def _fit_columns(columns: Sequence[Column], cells: list[list[str]], width: int) -> list[int]:
    """Indexes of the columns to show: optional ones go, last first, until the table fits."""
    natural = [
        max([len(c.header), *(len(row[i]) for row in cells)]) + 3 for i, c in enumerate(columns)
    ]
    keep = list(range(len(columns)))
    for i in reversed(range(len(columns))):
        if sum(natural[k] for k in keep) + 1 <= width:
            break
        if columns[i].optional:
            keep.remove(i)
    return keep


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
