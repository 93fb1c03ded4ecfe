"""The one way licensectl writes files: whole or not at all, and nothing left behind.

Two kinds of file are written:

- **Our own files** (signing keys, the config file): `write_atomic`. Written beside the
  target and renamed over it; a symlink at the path is replaced, never written through,
  so nothing planted in a private directory can redirect a key.
- **Files a user names** (`--out`, `db backup FILE`): `open_output`, `staged_output`,
  `write_output`. The path means what it means to the shell:
  - a regular file, or a new one, is written to a temporary file beside it and renamed
    into place, so a reader sees the old file or the whole new one, never half of it;
    with `exclusive` the last step is a hard link, which fails if the target exists, so
    two writers can never both win, and an existing file is never replaced;
  - a symlink is followed and its target written (as `>` would);
  - a device (`/dev/stdout`, `/dev/null`), a FIFO or a Unix socket is written directly;
  - a new file gets the usual mode (0666 less the umask); a replaced one keeps its mode
    (and owner, where we may set it).

Temporary files are named `.NAME.PID.RANDOM.tmp` and locked (`flock`) by their writer
for as long as it lives. Each write first removes the temporaries of NAME that no live
process holds: those of a writer that was killed, SQLite's `-journal` beside them
included. So after a kill the next run of the same command leaves no stray file.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from licensectl.errors import ConflictError, LicensectlError, OutputError
from licensectl.safe_text import printable

if sys.platform != "win32":
    import fcntl

# POSIX permission bits mean nothing on Windows; there the user profile's ACLs protect us.
_POSIX = os.name == "posix"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_TEMP = re.compile(r"^\.(?P<name>.+)\.\d+\.[0-9a-f]{16}\.tmp(?P<side>-journal|-wal|-shm)?$")
#: Why os.link can fail where the file system, not the target, is the reason.
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}
)
#: SQLite's files beside a database it writes (the backup's temporary file is one).
_SIDECARS = ("-journal", "-wal", "-shm")


# --- licensectl's own files ---------------------------------------------------------


def temporary_target(name: str) -> str | None:
    """The name a file being written (`.NAME.PID.RANDOM.tmp`) will take, or None when
    `name` is not one of this module's temporary files."""
    found = _TEMP.match(name)
    return found.group("name") if found is not None and not found.group("side") else None


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write one of our own files via a temporary file created with its final mode.

    O_EXCL with the mode given at creation means a private file is never readable by
    others, not even for an instant, and never written through a planted symlink; the
    rename means a reader sees the old file or the whole new one, never half of it.
    OSError goes to the caller, which knows what the file is.
    """
    with _Temp(path.parent, path.name, mode) as tmp:
        _write_all(tmp.fd, data)
        os.fsync(tmp.fd)
        os.replace(tmp.path, path)
    _fsync_dir(path.parent)


# --- files a user names ---------------------------------------------------------------


def check_output(path: Path, *, what: str, exclusive: bool = False) -> None:
    """Refuse an output path that cannot work, before anything is changed."""
    target = _resolve(path)
    shown = printable(str(path))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _output_error(what, path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write the {what} to {shown}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not stat.S_ISSOCK(st.st_mode) and not os.access(target, os.W_OK):
            raise OutputError(f"cannot write the {what} to {shown}: permission denied")
        return
    if st is not None and exclusive:
        raise ConflictError(f"{shown} exists already; remove it or choose another name")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(
            f"cannot write the {what} to {shown}: no such directory {printable(str(folder))}"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(folder) else "permission denied"
        raise OutputError(f"cannot write the {what} to {shown}: {reason}")


@contextmanager
def open_output(path: Path, *, what: str, exclusive: bool = False) -> Iterator[BinaryIO]:
    """A binary stream whose bytes end up at `path` only if the block succeeds (see the
    module docstring); any OSError becomes an `OutputError` naming `what` and `path`."""
    target = _resolve(path)
    special = _special(target, what=what, path=path)
    with _translated(what, path, target, special=special is not None):
        if special is not None:
            with _open_special(target, special) as handle:
                yield handle
            return
        existing = _existing_mode(target, exclusive=exclusive)
        with _Temp(target.parent, target.name, 0o600 if existing else 0o666) as tmp:
            with open(tmp.fd, "wb", closefd=False) as handle:
                yield handle
            _commit(tmp, target, existing, exclusive=exclusive)


@contextmanager
def staged_output(path: Path, *, what: str, exclusive: bool = False) -> Iterator[Path]:
    """Like `open_output` for a writer that needs a file name (SQLite's backup): yields
    the temporary file's path; when the block succeeds its content goes to `path`."""
    target = _resolve(path)
    special = _special(target, what=what, path=path)
    with _translated(what, path, target, special=special is not None):
        if special is not None:
            # Staged in the temporary directory, then copied into the device or pipe.
            with _Temp(Path(tempfile.gettempdir()), f"licensectl-{target.name}", 0o600) as tmp:
                yield tmp.path
                with (
                    _open_special(target, special) as handle,
                    open(tmp.fd, "rb", closefd=False) as source,
                ):
                    source.seek(0)
                    while chunk := source.read(1 << 20):
                        handle.write(chunk)
            return
        existing = _existing_mode(target, exclusive=exclusive)
        with _Temp(target.parent, target.name, 0o600 if existing else 0o666) as tmp:
            yield tmp.path
            _commit(tmp, target, existing, exclusive=exclusive)


def write_output(path: Path, data: bytes, *, what: str) -> None:
    """All of `data` to a user's output path (see `open_output`)."""
    with open_output(path, what=what) as handle:
        handle.write(data)


def output_target(path: Path) -> Path:
    """Where writing `path` puts the bytes: a symlink's final target, else `path`."""
    return _resolve(path)


# --- the temporary file ---------------------------------------------------------------


class _Temp:
    """A new temporary file beside the target, locked by this process while it lives.

    The lock is what tells a live writer's file from a dead one's: `_sweep` removes
    only files it can lock. A sweeper may lock a file between its creation and our
    lock; it deletes it while holding the lock, so after locking we check that our
    name still holds our file, and start again if not.
    """

    def __init__(self, folder: Path, name: str, mode: int) -> None:
        self.folder = folder
        self.name = name
        self.mode = mode
        self.fd = -1
        self.path = folder

    def __enter__(self) -> _Temp:
        _sweep(self.folder, self.name)
        for _ in range(100):
            path = self.folder / f".{self.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
            fd = os.open(path, flags, self.mode)
            if _lock(fd, wait=True) and _same_file(path, fd):
                self.fd, self.path = fd, path
                return self
            os.close(fd)
        raise OSError(f"could not create a temporary file in {self.folder}")

    def __exit__(self, *exc: object) -> None:
        try:
            # On failure, and after a hard link, the temporary name must go (after a
            # rename it is gone already); SQLite's journal too, should a failed backup
            # have left one.
            for suffix in ("", *_SIDECARS):
                with suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")
        finally:
            os.close(self.fd)  # releases the lock, only once the name is gone


def _commit(tmp: _Temp, target: Path, existing: os.stat_result | None, *, exclusive: bool) -> None:
    os.fsync(tmp.fd)
    if existing is not None:
        with suppress(PermissionError):
            os.fchown(tmp.fd, existing.st_uid, existing.st_gid)
        os.fchmod(tmp.fd, stat.S_IMODE(existing.st_mode))
    if exclusive:
        _link_new(tmp, target)
    else:
        os.replace(tmp.path, target)
    _fsync_dir(target.parent)


def _link_new(tmp: _Temp, target: Path) -> None:
    """Put the temporary file at `target` only if nothing is there (never replaces)."""
    try:
        os.link(tmp.path, target)
        return
    except FileExistsError:
        raise ConflictError(
            f"{printable(str(target))} exists already (another process made it meanwhile?); "
            "nothing was written: remove it or choose another name"
        ) from None
    except OSError as exc:
        # A file system without hard links (FAT, some network shares): create the
        # target exclusively and copy. Readers may then see it while it is written.
        if exc.errno not in _NO_HARD_LINKS:
            raise
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise ConflictError(
            f"{printable(str(target))} exists already; nothing was written"
        ) from None
    try:
        os.fchmod(fd, stat.S_IMODE(os.fstat(tmp.fd).st_mode))
        with open(tmp.fd, "rb", closefd=False) as source:
            source.seek(0)
            while chunk := source.read(1 << 20):
                _write_all(fd, chunk)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(target)
        raise
    os.close(fd)


def _sweep(folder: Path, name: str) -> None:
    """Remove the temporaries of `name` in `folder` whose writer is gone."""
    if not _POSIX:
        return  # no flock: a stray file is better than deleting a live writer's
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    names = {e.name for e in entries}
    for entry in entries:
        found = _TEMP.match(entry.name)
        if found is None or found["name"] != name:
            continue
        side = found["side"]
        if side:
            if entry.name[: -len(side)] not in names:  # its temporary file is gone
                with suppress(OSError):
                    os.unlink(entry.path)
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC)
        except OSError:
            continue  # another user's, or gone already
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and _lock(fd, wait=False):
                for suffix in ("", *_SIDECARS):
                    with suppress(OSError):
                        os.unlink(entry.path + suffix)
        finally:
            os.close(fd)


def _lock(fd: int, *, wait: bool) -> bool:
    if not _POSIX:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _same_file(path: Path, fd: int) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


# --- targets --------------------------------------------------------------------------


def _resolve(path: Path) -> Path:
    """Where a write to `path` lands: a symlink's final target, as the shell's `>` would
    write it. A device, pipe or socket is left as given, so that magic links such as
    /dev/stdout (→ /proc/self/fd/1 → `pipe:[…]`) are opened by the kernel itself."""
    path = path.expanduser()
    if not path.is_symlink():
        return path
    with suppress(OSError):
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return path
    return Path(os.path.realpath(path))


def _special(target: Path, *, what: str, path: Path) -> str | None:
    """ "device", "fifo" or "socket" for what must be written in place, else None."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _output_error(what, path, exc) from None
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        raise OutputError(f"cannot write the {what} to {printable(str(path))}: it is a directory")
    return None


@contextmanager
def _open_special(target: Path, kind: str) -> Iterator[BinaryIO]:
    if kind == "socket":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(target))
            with sock.makefile("wb") as handle:
                yield handle
            sock.shutdown(socket.SHUT_WR)
        finally:
            sock.close()
        return
    # No O_TRUNC and no O_CREAT: a device or pipe is written as it is, never replaced.
    fd = os.open(target, os.O_WRONLY | _O_NOCTTY | _O_CLOEXEC)
    with open(fd, "wb") as handle:
        yield handle


def _existing_mode(target: Path, *, exclusive: bool) -> os.stat_result | None:
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    if exclusive:
        raise ConflictError(
            f"{printable(str(target))} exists already; remove it or choose another name"
        )
    return st


@contextmanager
def _translated(what: str, path: Path, target: Path, *, special: bool) -> Iterator[None]:
    """OSError → OutputError saying what is left: for a regular file, the old one."""
    try:
        yield
    except (LicensectlError, BrokenPipeError):
        raise
    except OSError as exc:
        error = _output_error(what, path, exc)
        if not special:
            kept = "it was left as it was" if target.exists() else "nothing was written"
            error = OutputError(f"{error.message}; {kept}")
        raise error from None


def _output_error(what: str, path: Path, exc: Exception) -> OutputError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return OutputError(f"cannot write the {what} to {printable(str(path))}: {printable(reason)}")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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


__all__ = [
    "check_output",
    "open_output",
    "output_target",
    "staged_output",
    "write_atomic",
    "write_output",
]
