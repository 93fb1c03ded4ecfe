"""`db backup`: a consistent copy of a SQLite store, taken online.

SQLite's backup API copies the pages while other processes keep reading and writing;
the copy is written to a temporary file beside the target (`fileio.staged_output`) and
linked into place only when whole. The link never replaces a file: if the target
exists, or another backup gets there first, this one fails with exit 4 and leaves
nothing behind. A killed backup's temporary file and journal are removed by the next
backup to the same name.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from licensectl import fileio
from licensectl.errors import OutputError, UsageError
from licensectl.safe_text import printable
from licensectl.store.engine import Store


@dataclass(frozen=True)
class SqliteBackup:
    #: Where the copy went (a symlink's target, resolved), or the device or pipe given.
    path: str
    bytes: int
    #: Counted in the copy itself.
    licenses: int


def backup_sqlite(store: Store, target: str) -> SqliteBackup:
    """Copy the SQLite store behind `store` to the new file `target`."""
    if not store.is_sqlite:
        raise UsageError("db backup copies SQLite stores; back up a PostgreSQL store with pg_dump")
    path = Path(target).expanduser()
    fileio.check_output(path, what="backup", exclusive=True)
    with fileio.staged_output(path, what="backup", exclusive=True) as staged:
        licenses = _copy(store, staged, shown=printable(target))
        size = staged.stat().st_size
    where = fileio.output_target(path)
    shown = str(where.resolve()) if where.is_file() else str(path)
    return SqliteBackup(path=shown, bytes=size, licenses=licenses)


def _copy(store: Store, staged: Path, *, shown: str) -> int:
    with store.read() as session:
        source = session.connection().connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        try:
            copy = sqlite3.connect(staged)
            try:
                source.backup(copy)
                # A self-contained single file: no -wal beside it to lose.
                copy.execute("PRAGMA journal_mode = DELETE")
                (licenses,) = copy.execute("SELECT count(*) FROM license").fetchone()
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise OutputError(f"cannot back up to {shown}: {printable(str(exc))}") from None
    return int(licenses)
