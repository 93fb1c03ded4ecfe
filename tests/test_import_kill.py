"""An import killed mid-way (SIGKILL, a real process) leaves the store exactly as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from sqlalchemy import MetaData, create_engine, select

from licensectl.service.importing import IMPORT_BATCH
from licensectl.store.url import normalize_db_url

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
#: Batches written before the kill. The pipe and the reader's buffers hold under two
#: thousand rows, so once the last write returns, the import has consumed and written all
#: but the last batch (customers, transfers and all) inside its open transaction. On
#: SQLite, 12 batches are more than the import's page cache holds: uncommitted pages have
#: reached the WAL file on disk too.
BATCHES_BEFORE_KILL = {"sqlite": 12, "postgresql": 5}


def rows(count: int) -> Iterator[str]:
    for n in range(count):
        customer = f"P-{n % 40}" if n % 5 == 0 else ""
        term = "12" if n % 3 == 1 else ""
        kind = "maintenance" if term else "capacity"
        yield f"Acme,PO-K{n // 3},{n % 3 + 1},{kind},200,{n % 4 + 1},{term},{customer}\n"


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = create_engine(normalize_db_url(url))
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {
                name: [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key))]
                for name, table in sorted(meta.tables.items())
            }
    finally:
        engine.dispose()


@pytest.mark.local_only  # races or kills 'licensectl --db' child processes on the store itself
@pytest.mark.slow
def test_sigkill_mid_import_leaves_the_store_as_before(cli: Cli) -> None:
    assert cli.db is not None
    url = normalize_db_url(cli.db)
    sqlite_wal = Path(url.removeprefix("sqlite:///") + "-wal") if "sqlite" in url else None
    batches = BATCHES_BEFORE_KILL["sqlite" if sqlite_wal else "postgresql"]
    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "P-1")
    cli.ok("import", "-", input=HEADER + "".join(rows(30)))
    before = snapshot(cli.db)
    assert len(before["license"]) > 30
    wal_before = sqlite_wal.stat().st_size if sqlite_wal and sqlite_wal.exists() else 0

    proc = subprocess.Popen(
        [sys.executable, "-m", "licensectl", "--db", cli.db, "import", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(HEADER)
        # New keys after the 30 imported above, so every batch writes licenses.
        fresh = rows(30 + (batches + 1) * IMPORT_BATCH)
        for _ in range(30):
            next(fresh)
        for line in fresh:
            proc.stdin.write(line)
        proc.stdin.flush()
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if sqlite_wal is not None:
            assert sqlite_wal.stat().st_size > wal_before  # written, not yet committed
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stdin.close()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    assert snapshot(cli.db) == before
    check = cli.json("db", "check")
    assert check["ok"] is True, check
    # the store takes the same import afterwards
    assert cli.json("import", "-", input=HEADER + "".join(rows(60)))["created"] == 30
