"""A damaged store gives a clean error (issue 7, item 6): `db check` exits 7 naming the
damage and never 0 on changed bytes; every other command exits 6 or 7 with one `Error:`
line, never a traceback."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, assert_one_error_line
from sqlalchemy import create_engine, text

from licensectl.store.url import normalize_db_url

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
OTHERS = (
    ("partner", "list"),
    ("license", "list"),
    ("customer", "list"),
    ("search", "po", "PO"),
    ("export", "-o", "csv"),
    ("partner", "add", "Newcomer"),
)


@pytest.fixture(scope="module")
def sound_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of a few pages: partners, customers, licenses, transfers, events."""
    folder = tmp_path_factory.mktemp("sound")
    path = folder / "store.db"
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HOME", "LICENSECTL_CONFIG_DIR", "LICENSECTL_DATA_DIR", "LICENSECTL_KEY_DIR"):
            patch.setenv(name, str(folder / "home" / name.lower()))
        cli = Cli(db=str(path))
        cli.ok("partner", "add", "Acme Integrators", "--email", "ops@acme.example")
        rows = "".join(
            f"Acme Integrators,PO-{n},{n % 3 + 1},capacity,{n + 1},{n % 4 + 1},,"
            f"{'Site ' + str(n % 7) if n % 2 else ''}\n"
            for n in range(120)
        )
        assert cli.json("import", "-", input=HEADER + rows)["created"] == 120
    # One file, no WAL beside it: what is flipped is all there is.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    return path


def copy_of(sound: Path, tmp_path: Path, name: str = "copy.db") -> Path:
    target = tmp_path / name
    shutil.copyfile(sound, target)
    return target


def check(path: Path) -> tuple[int, str, str]:
    result = Cli(db=str(path)).run("-o", "json", "db", "check")
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_the_sound_store_passes(sound_store: Path, tmp_path: Path) -> None:
    code, out, err = check(copy_of(sound_store, tmp_path))
    assert code == 0, err


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.4, 0.5, 0.66, 0.8, 0.95])
def test_a_truncated_store(sound_store: Path, tmp_path: Path, fraction: float) -> None:
    path = copy_of(sound_store, tmp_path)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(int(size * fraction))
    code, _, err = check(path)
    assert code == 7, err
    assert_one_error_line_text(err)
    cli = Cli(db=str(path))
    for args in OTHERS:
        result = cli.run(*args)
        assert result.exit_code in (6, 7) or (result.exit_code == 0 and args[0] != "db"), (
            args,
            result.stderr,
        )
        if result.exit_code:
            assert_one_error_line(result)


def assert_one_error_line_text(stderr: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr


def test_a_damaged_enum_value(store_url: str) -> None:
    cli = Cli(db=store_url)
    cli.ok("partner", "add", "Acme")
    lic = cli.ok("license", "add", "--po", "PO-1", "--type", "core", "--devices", "1").stdout
    engine = create_engine(normalize_db_url(store_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE license SET type = 'bogus'"))
    engine.dispose()
    for args in (("license", "list"), ("license", "show", lic.strip()), ("export",)):
        result = cli.fails(7, *args)
        assert "damaged" in result.stderr and "db check" in result.stderr
    result = cli.fails(7, "-o", "json", "db", "check")
    values = next(c for c in json.loads(result.stdout)["checks"] if c["name"].startswith("values"))
    assert values["ok"] is False and "license.type holds 'bogus'" in values["details"][0]


def used_offsets(path: Path) -> list[int]:
    """The bytes the store uses: every b-tree page's header and cell pointers, and each
    cell's bytes, parsed from the file. Left out: free-list pages, and the unused space
    inside a page (its gap, freeblocks, fragments), which hold no data: a flip there
    changes nothing the store means, and no check can tell (docs/cli.md, `db check`)."""
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    usable = page_size - data[20]
    offsets: list[int] = list(range(100))
    for pgno in range(1, len(data) // page_size + 1):
        base = (pgno - 1) * page_size
        header = base + (100 if pgno == 1 else 0)
        kind = data[header]
        if kind not in (2, 5, 10, 13):
            continue  # free-list, overflow and pointer-map pages
        size = 12 if kind in (2, 5) else 8
        cells = int.from_bytes(data[header + 3 : header + 5], "big")
        offsets += range(header, header + size + 2 * cells)
        for n in range(cells):
            at = header + size + 2 * n
            cell = base + int.from_bytes(data[at : at + 2], "big")
            offsets += range(cell, cell + _cell_size(data, cell, kind, usable))
    return offsets


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for n in range(9):
        byte = data[at + n]
        if n == 8:
            return (value << 8) | byte, 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, n + 1
    raise AssertionError("unreachable")


def _cell_size(data: bytes, cell: int, kind: int, usable: int) -> int:
    if kind == 5:  # table interior: child page, rowid
        return 4 + _varint(data, cell + 4)[1]
    start = cell + (4 if kind == 2 else 0)
    payload, used = _varint(data, start)
    start += used
    if kind == 13:
        start += _varint(data, start)[1]
    most = usable - 35 if kind == 13 else (usable - 12) * 64 // 255 - 23
    if payload <= most:
        local, overflow = payload, 0
    else:
        least = (usable - 12) * 32 // 255 - 23
        k = least + (payload - least) % (usable - 4)
        local, overflow = (k if k <= most else least), 4
    return start - cell + local + overflow


def event_payload_offsets(path: Path) -> list[int]:
    """The bytes of the audit log's records (each cell's payload: its record header and
    column values, past the cell's own length and rowid), which the hash chain covers."""
    with sqlite3.connect(path) as conn:
        pages = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'event'")]
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    usable = page_size - data[20]
    offsets: list[int] = []
    for pgno in pages:
        base = (pgno - 1) * page_size
        header = base + (100 if pgno == 1 else 0)
        if data[header] != 13:
            continue  # interior pages hold no records
        cells = int.from_bytes(data[header + 3 : header + 5], "big")
        for n in range(cells):
            at = header + 8 + 2 * n
            cell = base + int.from_bytes(data[at : at + 2], "big")
            size = _cell_size(data, cell, 13, usable)
            payload, used = _varint(data, cell)
            start = cell + used + _varint(data, cell + used)[1]
            offsets += range(start, min(cell + size, start + payload))
    return offsets


def test_byte_flips_in_the_audit_log_never_pass(sound_store: Path, tmp_path: Path) -> None:
    """40 flips, each of one byte of an event record in a fresh copy: always exit 7, by
    the hash chain. (Flips elsewhere fail on the structure or the stored values in
    practice, but a plausible value in a column no check covers, such as another digit in
    a customer's created_at, would pass: README, db check.)"""
    offsets = event_payload_offsets(sound_store)
    assert len(offsets) > 10_000
    rng = random.Random(7)
    for n in range(40):
        path = copy_of(sound_store, tmp_path, f"flip-{n}.db")
        offset = rng.choice(offsets)
        data = bytearray(path.read_bytes())
        data[offset] ^= rng.randrange(1, 256)
        path.write_bytes(bytes(data))
        code, _, err = check(path)
        assert code == 7, (offset, code, err)
        assert_one_error_line_text(err)


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("license", "created_at", 12345),  # a number where a time is kept
        ("license", "created_at", b"\x00\x01"),  # bytes where a time is kept
        ("license", "type", 3),  # a number where an enum's text is kept
        ("license", "quantity", "many"),  # text where a count is kept
        ("customer", "created_at", 1.5),
        ("customer", "name", b"Harbour"),  # bytes where a name is kept (text affinity)
        ("event", "at", 20261130),
    ],
)
def test_a_stored_value_of_the_wrong_kind_is_damage_not_a_bug(
    tmp_path: Path, table: str, column: str, value: object
) -> None:
    """SQLite keeps whatever is written behind licensectl's back, of any kind: reading
    it is a damaged store (exit 7, naming `db check`), never an internal error."""
    db = tmp_path / "store.db"
    cli = Cli(db=str(db))
    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "Harbour")
    lid = cli.ok("license", "add", "--po", "PO-1", "--type", "core", "--devices", "1")
    lid_text = lid.stdout.strip()
    cli.ok("transfer", lid_text, "--to", "Harbour", "--yes")
    with sqlite3.connect(db) as conn:
        for (name,) in conn.execute(  # the guards of the log, say
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
        ).fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(f"UPDATE {table} SET {column} = ?", (value,))
    by_table: dict[str, list[tuple[str, ...]]] = {
        "license": [("license", "list"), ("license", "show", lid_text), ("export",)],
        "customer": [("customer", "list"), ("customer", "show", "Harbour")],
        "event": [("license", "history", lid_text)],
    }
    for args in by_table[table]:
        result = cli.fails(7, *args)
        assert "damaged" in result.stderr and "db check" in result.stderr, result.stderr
    assert cli.run("db", "check").exit_code == 7
