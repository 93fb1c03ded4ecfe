"""All terminal output: the one renderer of tables, JSON, JSONL and CSV.

This is the only module that imports Rich (ruff's banned-api enforces it). Data goes
to stdout; status lines, warnings, progress and errors go to stderr.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rich.cells import cell_len  # noqa: TID251
from rich.console import Console, ConsoleOptions, RenderResult  # noqa: TID251
from rich.markup import escape  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text as RichText  # noqa: TID251

from licensectl.errors import OutputError
from licensectl.safe_text import csv_value, json_text, printable


class OutputFormat(StrEnum):
    TABLE = "table"
    #: A table with every column, however wide the terminal: values are never dropped.
    WIDE = "wide"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


Getter = Callable[[dict[str, Any]], Any]

#: A free-text column keeps at least this many characters, else it gives way.
WRAP_MIN = 24


@dataclass(frozen=True)
class Column:
    header: str
    key: str | Getter
    justify: str = "left"
    #: Which columns give way on a narrow terminal: the highest priority first, the
    #: rightmost first among equals; 0 never goes. A value is never split across lines.
    priority: int = 0
    #: Free text (messages, details) that may wrap at spaces instead of giving way.
    wrap: bool = False
    #: The value is a list, shown one item a line.
    lines: bool = False

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
    """A value as table text: unsafe characters escaped, never raw."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, list | dict) for v in value):
        return ", ".join(printable(str(v)) for v in value)
    if isinstance(value, dict):
        # An event's details: one `key: value` a line reads better than JSON, and
        # wraps between words.
        return "\n".join(f"{printable(str(k))}: {_inline(v)}" for k, v in value.items())
    if isinstance(value, list):
        return json_text(value)
    return printable(str(value))


def _inline(value: Any) -> str:
    if isinstance(value, str):
        return printable(value)
    return json_text(value)


def _title(title: str | None) -> RichText | None:
    """A table's title as plain text: a name in it is never read as markup or emoji."""
    return RichText(printable(title), style="table.title") if title else None


def _column_cell(column: Column, row: dict[str, Any]) -> str:
    value = column.value(row)
    if column.lines and isinstance(value, list):
        return "\n".join(_cell(v) for v in value)
    return _cell(value)


class _Console(Console):
    """Rich's console, but a closed pipe is reported, not turned into exit 1.

    Rich's own handler redirects stdout and raises SystemExit(1); the root command
    decides instead (a reader that leaves early is not a failure)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "the reader closed the pipe")


@contextmanager
def _stdout(saved: str | None) -> Iterator[None]:
    """Writing to stdout: a failure (a full disk, an I/O error) becomes one error line
    that says what had already been saved. A closed pipe goes up as it is."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        reason = printable(exc.strerror or str(exc))
        what = f"{saved}, but " if saved else ""
        raise OutputError(f"{what}standard output could not be written: {reason}") from None


def _stderr_print(console: Console, *args: Any, **kwargs: Any) -> None:
    # Nowhere is left to report a failure to write stderr; the exit code still tells.
    with contextlib.suppress(OSError):
        console.print(*args, **kwargs)


class Output:
    def __init__(
        self, fmt: OutputFormat, *, quiet: bool, env: Environment, raw: bool = False
    ) -> None:
        #: `wide` is a table whose columns never give way; commands see `table`.
        self.wide = fmt is OutputFormat.WIDE
        self.format = OutputFormat.TABLE if self.wide else fmt
        self.quiet = quiet
        self.env = env
        #: CSV cells exactly as stored: no formula guard, no escaping (`--raw`).
        self.raw_cells = raw

    # Consoles are made per call: CliRunner swaps sys.stdout for each invocation.
    def _out(self, width: int | None = None) -> Console:
        if width is None and not self.env.stdout_isatty:
            width = shutil.get_terminal_size((200, 24)).columns
        return _Console(file=sys.stdout, width=width, highlight=False, emoji=False, soft_wrap=False)

    def _err(self, width: int | None = None) -> Console:
        return _Console(file=sys.stderr, stderr=True, width=width, highlight=False, emoji=False)

    def width(self, *, err: bool = False) -> int:
        """The terminal's width in columns (COLUMNS when set; 200 when not a terminal)."""
        return (self._err() if err else self._out()).width

    # --- stderr ---------------------------------------------------------------

    def status(self, message: str) -> None:
        if not self.quiet:
            _stderr_print(self._err(), escape(printable(message)), soft_wrap=True)

    def warn(self, message: str) -> None:
        _stderr_print(
            self._err(), f"[yellow]Warning:[/yellow] {escape(printable(message))}", soft_wrap=True
        )

    def error(self, message: str) -> None:
        # One line, always: unsafe characters (newlines included) are escaped, and
        # soft_wrap keeps Rich from breaking it at the terminal width.
        _stderr_print(
            self._err(), f"[red]Error:[/red] {escape(printable(message))}", soft_wrap=True
        )

    def traceback(self, text: str) -> None:
        with contextlib.suppress(OSError):
            sys.stderr.write(text)

    # --- stdout -------------------------------------------------------------------

    def raw(self, text: str, *, saved: str | None = None) -> None:
        """Text as it is (JSON made by `json_text`, IDs). `saved` says what the command
        already changed, for the error if stdout cannot be written."""
        with _stdout(saved):
            sys.stdout.write(text)
            sys.stdout.flush()

    def raw_bytes(self, data: bytes, *, saved: str | None = None) -> None:
        """Exact bytes (a signed file): no encoding or newline translation on the way."""
        with _stdout(saved):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

    def ids(self, item: Any, ids: Iterable[str], *, saved: str | None = None) -> None:
        """A create command: bare IDs in table mode (for `$(…)`), the object otherwise.

        `saved` names what was created, e.g. "customer created (Customer ID …)": if
        stdout cannot be written, the error says so instead of hiding the change."""
        if self.format is OutputFormat.TABLE:
            self.raw("".join(f"{printable(i)}\n" for i in ids), saved=saved)
        else:
            self.document(item, saved=saved)

    def document(
        self,
        item: Any,
        *,
        columns: Sequence[Column] | None = None,
        title: str | None = None,
        saved: str | None = None,
    ) -> None:
        """One object: JSON document, a JSONL line, a one-row CSV, or a vertical table."""
        data = to_data(item)
        if self.format is OutputFormat.JSON:
            self.raw(json_text(data, indent=2) + "\n", saved=saved)
        elif self.format is OutputFormat.JSONL:
            self.raw(json_text(data) + "\n", saved=saved)
        elif self.format is OutputFormat.CSV:
            self._csv([data], columns, saved=saved)
        else:
            self.record(data, title=title, saved=saved)

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
            self.raw(json_text(rows, indent=2) + "\n")
        elif self.format is OutputFormat.JSONL:
            for row in rows:
                self.raw(json_text(row) + "\n")
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
        """Rows under the columns that fit the terminal; values are never split.

        Columns give way by priority (`Column.priority`); if what must stay is still
        wider than the terminal, the table is printed at its own width rather than
        folded. `-o wide` keeps every column."""
        cells = [[_column_cell(c, row) for c in columns] for row in rows]
        width = self.width(err=err)
        keep, needed = _fit_columns(columns, cells, width, wide=self.wide)
        # No outer border: two more columns for values, which is what a narrow terminal
        # lacks (at 80 columns a License ID, a time and an action just fit).
        table = Table(
            title=_title(title),
            title_justify="left",
            show_lines=False,
            show_edge=False,
        )
        for i in keep:
            c = columns[i]
            table.add_column(
                c.header,
                justify=c.justify,  # type: ignore[arg-type]
                no_wrap=not c.wrap,
                overflow="fold" if c.wrap else "ellipsis",
                # A value never splits: its width is known, and Rich need not measure
                # every cell of the column again (a third of a 100-row table's time).
                width=None if c.wrap else _natural(c, cells, i) - _CELL_EXTRA,
            )
        for row_cells in cells:
            table.add_row(*(RichText(row_cells[i]) for i in keep))
        wider = needed if needed > width else None
        if err:
            _stderr_print(self._err(wider), table)
        else:
            with _stdout(None):
                self._out(wider).print(table)

    def chart(self, title: str, bars: Sequence[tuple[str, int]]) -> None:
        """A bar chart on stdout, within the terminal's width (`BarChart`)."""
        with _stdout(None):
            self._out().print(BarChart(title, bars))

    def record(
        self,
        data: dict[str, Any],
        *,
        title: str | None = None,
        err: bool = False,
        saved: str | None = None,
    ) -> None:
        """A single object as a two-column key/value table (nested lists left out, and
        paging cursors such as `licenses_next_after`: the warning names the next page)."""
        table = Table(
            title=_title(title),
            title_justify="left",
            show_header=False,
            box=None,
            pad_edge=False,
        )
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in data.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                continue
            if key.endswith("next_after"):
                continue
            table.add_row(RichText(printable(key)), RichText(_cell(value)))
        if err:
            _stderr_print(self._err(), table)
        else:
            with _stdout(saved):
                self._out().print(table)

    def tree(
        self, label: str, children: dict[str, list[str]], labels: dict[str, str], root: str
    ) -> None:
        """Render lineage: `children` maps an ID to its successors' IDs."""
        from rich.tree import Tree  # noqa: TID251 - only lineage draws one

        tree = Tree(RichText(printable(label)))

        def add(node: Tree, key: str) -> None:
            for child in children.get(key, []):
                add(node.add(RichText(printable(labels[child]))), child)

        add(tree.add(RichText(printable(labels[root]))), root)
        with _stdout(None):
            self._out().print(tree)

    def heading(self, text: str) -> None:
        with _stdout(None):
            self._out().print(f"[bold]{escape(printable(text))}[/bold]")

    def _csv(
        self,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[Column] | None,
        *,
        saved: str | None = None,
    ) -> None:
        # CSV carries every key (the contract keys), not just the table's columns;
        # nested values are JSON-encoded so a spreadsheet still gets one cell each.
        keys: list[str] = (
            list(rows[0].keys())
            if rows
            else [c.key for c in columns or () if isinstance(c.key, str)]
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(keys)
        for row in rows:
            writer.writerow([csv_value(row.get(k), raw=self.raw_cells) for k in keys])
        self.raw(buffer.getvalue(), saved=saved)

    @contextmanager
    def progress(self, what: str, *, total: float | None) -> Iterator[Callable[[float], None]]:
        """A progress bar on stderr while the block runs, on a terminal and without
        --quiet; yields `advance(amount)`, which does nothing when there is no bar."""
        if self.quiet or not self.env.stderr_isatty:
            yield lambda _amount: None
            return
        from rich.progress import Progress  # noqa: TID251 - only on a terminal

        with Progress(console=self._err(), transient=True) as bar:
            task = bar.add_task(escape(printable(what)), total=total)
            yield lambda amount: bar.advance(task, amount)

    @contextmanager
    def fraction(self, what: str) -> Iterator[Callable[[float], None]]:
        """A progress bar for work that tells how much of it is done: yields
        `update(fraction)`, 0 to 1. Pulses until the first update. Shown on a terminal
        only, and only with table output (not with -o json or csv, nor --quiet)."""
        if self.quiet or not self.env.stderr_isatty or self.format is not OutputFormat.TABLE:
            yield lambda _fraction: None
            return
        from rich.progress import Progress  # noqa: TID251 - only on a terminal

        with Progress(console=self._err(), transient=True) as bar:
            task = bar.add_task(escape(printable(what)), total=None)
            yield lambda fraction: bar.update(task, total=1.0, completed=min(fraction, 1.0))

    # --- prompts ----------------------------------------------------------------

    def confirm(self, question: str) -> bool:
        """Ask on stderr; only `y`/`yes` agrees. End of input (Ctrl-D) declines."""
        console = self._err()
        try:
            answer = console.input(escape(printable(f"{question} [y/N]: ")))
        except EOFError:
            return False
        except KeyboardInterrupt:
            _stderr_print(console)  # end the prompt's line before the error
            raise
        return answer.strip().lower() in ("y", "yes")


#: Padding (one space each side) and the border between it and the next column; the
#: table has no outer border, so the last column's border is not there.
_CELL_EXTRA = 3


def _natural(column: Column, cells: list[list[str]], i: int) -> int:
    """The width a column needs to show every value of it whole, header included."""
    lines = [line for row in cells for line in row[i].split("\n")]
    return max([cell_len(column.header), *(cell_len(line) for line in lines)]) + _CELL_EXTRA


def _least(column: Column, cells: list[list[str]], i: int, natural: int) -> int:
    """The narrowest a column may be: a free-text column wraps between words, but a word
    (an ID inside the text, say) is never split; any other column keeps its width."""
    if not column.wrap:
        return natural
    words = [word for row in cells for word in row[i].split()]
    longest = max([cell_len(column.header), WRAP_MIN, *(cell_len(w) for w in words)])
    return min(natural, longest + _CELL_EXTRA)


def _fit_columns(
    columns: Sequence[Column], cells: list[list[str]], width: int, *, wide: bool = False
) -> tuple[list[int], int]:
    """The columns to show, and the width the table then needs.

    Columns go, the highest `priority` first (the rightmost first among equals), until
    the rest fit in `width`; a column of priority 0 always stays. So a wider terminal
    shows every column a narrower one does, and more. A free-text column counts with
    its narrowest (`_least`) and wraps in what is left."""
    natural = [_natural(c, cells, i) for i, c in enumerate(columns)]
    if wide:
        return list(range(len(columns))), sum(natural) - 1
    least = [_least(c, cells, i, natural[i]) for i, c in enumerate(columns)]
    keep = set(range(len(columns)))

    def fits() -> bool:
        return sum(least[k] for k in keep) - 1 <= width

    for i in sorted(
        (i for i, c in enumerate(columns) if c.priority > 0),
        key=lambda i: (columns[i].priority, i),
        reverse=True,
    ):
        if fits():
            break
        keep.remove(i)
    return sorted(keep), sum(least[k] for k in keep) - 1


# --- charts -------------------------------------------------------------------------

_EIGHTHS = " ▏▎▍▌▋▊▉"
#: Chart labels are cut to this many characters; bars are at most this long.
LABEL_MAX = 24
BAR_MAX = 60


@dataclass
class BarChart:
    """A bar chart as a Rich renderable, within the width it is given.

    Each bar is a label, a run of block characters (eighths for the last cell, so small
    differences show) and the value. Colour is a style only: under `NO_COLOR` Rich drops
    it and the blocks still read as bars.
    """

    title: str
    bars: Sequence[tuple[str, int]]
    style: str = "cyan"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield RichText(printable(self.title), style="bold")
        if not self.bars:
            yield RichText("  (nothing)")
            return
        labels = [printable(label)[:LABEL_MAX] for label, _ in self.bars]
        values = [f"{v:,}" for _, v in self.bars]
        label_w = max(len(x) for x in labels)
        value_w = max(len(x) for x in values)
        room = max(min(options.max_width - label_w - value_w - 3, BAR_MAX), 1)
        top = max(max(v for _, v in self.bars), 1)
        for label, value, (_, v) in zip(labels, values, self.bars, strict=True):
            full, part = divmod(max(round(v / top * room * 8), 0), 8)
            bar = "█" * full + (_EIGHTHS[part] if part else "")
            line = RichText(f"{label:<{label_w}} ")
            line.append(f"{bar:<{room}}", style=self.style)
            line.append(f" {value:>{value_w}}")
            yield line
