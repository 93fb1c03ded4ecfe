"""db backup and db upgrade."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import Cli


def test_backup_is_a_consistent_standalone_copy(sqlite_cli: Cli, tmp_path: Path) -> None:
    cli = sqlite_cli
    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "Site A")
    lic = cli.ok("license", "add", "--po", "PO-1", "--type", "core", "--devices", "1").stdout
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    result = cli.json("db", "backup", str(target))
    assert result["path"] == str(target.resolve()) and result["licenses"] == 1
    assert result["bytes"] == target.stat().st_size > 0
    assert not list(target.parent.glob("*.tmp")) and not Path(f"{target}-wal").exists()
    copy = Cli(db=str(target))
    assert [x["license_id"] for x in copy.json("license", "list")] == [lic.strip()]
    copy.ok("db", "check")
    # the copy is independent of the original
    cli.ok("partner", "add", "Later")
    assert len(copy.json("partner", "list")) == 1


def test_backup_refusals(sqlite_cli: Cli, tmp_path: Path) -> None:
    sqlite_cli.ok("db", "upgrade")  # a new store, on purpose
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"keep me")
    sqlite_cli.fails(4, "db", "backup", str(existing))
    assert existing.read_bytes() == b"keep me"
    sqlite_cli.fails(2, "db", "backup", str(tmp_path / "no" / "such" / "dir.db"))
    sqlite_cli.fails(2, "db", "backup")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        sqlite_cli.fails(2, "db", "backup", str(locked / "x.db"))


@pytest.mark.local_only  # store-side commands; remotely exit 2 (test_remote.py)
def test_backup_of_postgres_points_at_pg_dump(cli: Cli, tmp_path: Path) -> None:
    if "postgresql" not in str(cli.db):
        cli.ok("db", "backup", str(tmp_path / "b.db"))
        return
    result = cli.fails(2, "db", "backup", str(tmp_path / "b.db"))
    assert "pg_dump" in result.stderr


@pytest.mark.local_only  # store-side commands; remotely exit 2 (test_remote.py)
def test_upgrade_reports_the_schema_version(cli: Cli) -> None:
    first = cli.json("db", "upgrade")
    assert first["version"] == first["latest"] >= 1
    assert cli.json("db", "upgrade") == first
