"""Files named on the command line: `-` for stdin/stdout, atomic writes for `--out`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from licensectl.cli.output import Output
from licensectl.errors import UsageError


def read_input(path: str, *, what: str, limit: int | None = None) -> bytes:
    """The bytes of FILE, or of stdin for `-`; at most `limit` bytes are read."""
    size = -1 if limit is None else limit
    if path == "-":
        return sys.stdin.buffer.read(size)
    try:
        with Path(path).expanduser().open("rb") as handle:
            return handle.read(size)
    except FileNotFoundError:
        raise UsageError(f"cannot read the {what} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"cannot read the {what} {path}: it is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def write_output(out: Output, path: str | None, data: bytes, *, what: str) -> bool:
    """Write `data` to `--out` atomically (True), or to stdout without one or for `-`."""
    if path is None or path == "-":
        out.raw_bytes(data)
        return False
    from licensectl.fileio import write_atomic

    try:
        write_atomic(Path(path).expanduser(), data)
    except IsADirectoryError:
        raise UsageError(f"cannot write the {what} to {path}: it is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot write the {what} to {path}: {exc.strerror or exc}") from None
    return True


def check_writable(path: str | None, *, what: str) -> None:
    """Refuse an `--out` that cannot be written before anything is changed."""
    if path is None or path == "-":
        return
    target = Path(path).expanduser()
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"cannot write the {what} to {path}: it is a directory")
    if not folder.is_dir():
        raise UsageError(f"cannot write the {what} to {path}: no such directory {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write the {what} to {path}: permission denied")
