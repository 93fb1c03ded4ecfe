"""Files named on the command line: `-` for stdin/stdout, `licensectl.fileio` for `--out`."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from licensectl.cli.output import Output
from licensectl.errors import OutputError, UsageError
from licensectl.safe_text import printable


def read_input(path: str, *, what: str, limit: int | None = None) -> bytes:
    """The bytes of FILE, or of stdin for `-`; at most `limit` bytes are read.

    A path that cannot be read (missing, a directory, no permission, an I/O error as
    from /proc/self/mem) is a usage error: exit 2, naming the file.
    """
    size = -1 if limit is None else limit
    shown = "standard input" if path == "-" else printable(path)
    try:
        if path == "-":
            return sys.stdin.buffer.read(size)
        with Path(path).expanduser().open("rb") as handle:
            return handle.read(size)
    except FileNotFoundError:
        raise UsageError(f"cannot read the {what} {shown}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"cannot read the {what} {shown}: it is a directory") from None
    except OSError as exc:
        reason = printable(exc.strerror or str(exc))
        raise UsageError(f"cannot read the {what} {shown}: {reason}") from None


def write_output(
    out: Output, path: str | None, data: bytes, *, what: str, saved: str | None = None
) -> bool:
    """Write `data` to `--out` (True), or to stdout without one or for `-` (False).

    `saved` says what the command already changed, so that a failure to write (a full
    disk) says so rather than hiding it.
    """
    if path is None or path == "-":
        out.raw_bytes(data, saved=saved)
        return False
    from licensectl import fileio

    try:
        fileio.write_output(Path(path), data, what=what)
    except OutputError as exc:
        if saved is None:
            raise
        raise OutputError(f"{saved}, but {exc.message}") from None
    return True


def check_writable(path: str | None, *, what: str) -> None:
    """Refuse an `--out` that cannot be written before anything is changed."""
    if path is None or path == "-":
        return
    from licensectl import fileio

    fileio.check_output(Path(path), what=what)


def is_stdout(path: str) -> bool:
    """Whether writing `path` writes this process's standard output (`/dev/stdout`)."""
    try:
        target = os.stat(Path(path).expanduser())
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return (target.st_dev, target.st_ino) == (out.st_dev, out.st_ino)
