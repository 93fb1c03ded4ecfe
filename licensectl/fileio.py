"""Writing files so that a reader never sees half of one (key files, response files)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# POSIX permission bits mean nothing on Windows; there the user profile's ACLs protect us.
_POSIX = os.name == "posix"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write via a temporary file created with its final mode, then rename into place.

    O_EXCL with the mode given at creation means a private file is never readable by
    others, not even for an instant, and never written through a planted symlink; the
    rename means a reader sees the old file or the whole new one, never half of it.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable: a key that vanishes after a crash would strand
    # every response it signed, and a response file is what a customer carries away.
    if not _POSIX:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
