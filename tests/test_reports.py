"""Reports (issue 12): SQL aggregates within scope, terminal charts, rows as CSV/JSON, and
one self-contained HTML page, rendered in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli

from licensectl.domain import Role


@pytest.fixture
def seeded(cli: Cli) -> dict[str, Any]:
    """Acme: customer C1 with SmartServers SS-1 (capacity 200 + maintenance 100 devices)
    and SS-2 (capacity 400, no maintenance); Beta: one capacity license in inventory."""
    cli.ok("partner", "add", "Acme")
    cli.ok("partner", "add", "Beta")
    cli.ok("customer", "add", "C1", "-p", "Acme")

    def bought(po: str, partner: str = "Acme", **kw: str) -> str:
        extra = [x for k, v in kw.items() for x in (f"--{k}", v)]
        return cli.ok("license", "add", "-p", partner, "--po", po, *extra).stdout.strip()

    def held(lid: str, code: str, copies: int = 1) -> str:
        moved = cli.ok("transfer", lid, "--to", "C1", "--yes").stdout.split()[0]
        cli.ok("activate", moved, "--install-code", code, "--copies", str(copies))
        return moved

    held(bought("PO-1", type="capacity", devices="200", quantity="2"), "SS-1")
    held(bought("PO-2", type="capacity", devices="200", quantity="2"), "SS-2", copies=2)
    held(bought("PO-3", type="maintenance", devices="100", term="12"), "SS-1")
    bought("PO-4", type="core", devices="1", quantity="3")
    bought("PO-B", partner="Beta", type="capacity", devices="50")
    return {}


def test_renewals_by_month_customer_and_smartserver(cli: Cli, seeded: dict[str, Any]) -> None:
    report = cli.json("report", "renewals", "--within", "400")
    assert [(r["customer"], r["install_code"], r["devices"]) for r in report] == [
        ("C1", "SS-1", 100)
    ]
    assert cli.json("report", "renewals", "--within", "30") == []
    cli.fails(2, "report", "renewals", "--within", "0")
    cli.fails(2, "report", "renewals", "--within", "99999")
    cli.fails(3, "report", "renewals", "--partner", "Nobody")


def test_coverage_worst_first(cli: Cli, seeded: dict[str, Any]) -> None:
    rows = cli.json("report", "coverage")
    assert [(r["install_code"], r["capacity"], r["maintenance_devices"], r["shortfall"])
            for r in rows] == [("SS-2", 400, 0, 400), ("SS-1", 200, 100, 100)]  # fmt: skip
    assert cli.json("report", "coverage", "--partner", "Beta") == []


def test_inventory_by_type_po_and_customer_with_totals(cli: Cli, seeded: dict[str, Any]) -> None:
    by_type = {r["group"]: r for r in cli.json("report", "inventory", "--partner", "Acme")}
    assert by_type["capacity"] | {"group": ""} == {
        "group": "", "licenses": 2, "copies": 4, "free": 1, "activated": 3, "retired": 2,
        "void": 0,
    }  # fmt: skip
    assert by_type["total"]["licenses"] == 4 and by_type["total"]["copies"] == 8
    by_customer = {r["group"]: r for r in cli.json("report", "inventory", "--by", "customer")}
    assert by_customer["My Inventory"]["licenses"] == 2  # Acme's PO-4 and Beta's PO-B
    assert by_customer["C1"]["activated"] == 4
    text = cli.ok("-o", "csv", "report", "inventory", "--by", "PO").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["group"] for r in rows] == ["PO-1", "PO-2", "PO-3", "PO-4", "PO-B", "total"]
    cli.fails(2, "report", "inventory", "--by", "colour")


def test_void_and_activity_from_the_event_log(cli: Cli, seeded: dict[str, Any]) -> None:
    lid = cli.ok("license", "add", "-p", "Acme", "--po", "X", "--type", "core", "--devices", "1")
    cli.ok("license", "void", lid.stdout.strip(), "--reason", "typo", "--yes")
    inv = {r["group"]: r for r in cli.json("report", "inventory", "--by", "po")}
    assert inv["X"]["void"] == 1 and inv["X"]["licenses"] == 0
    rows = cli.json("report", "activity")
    counts = {r["action"]: r["count"] for r in rows}
    assert counts["license.void"] == 1 and counts["license.transfer"] == 3
    assert counts["license.activate"] == 3
    voided_by = {r["actor"] for r in rows if r["action"] == "license.void"}
    assert len(voided_by) == 1 and voided_by.pop().startswith("admin:")
    assert cli.json("report", "activity", "--since", "2020-01-01") == rows
    cli.fails(2, "report", "activity", "--since", "2999-01-01")
    cli.fails(2, "report", "activity", "--since", "yesterday")


def test_reports_are_scoped(
    cli: Cli, seeded: dict[str, Any], backend_as: Callable[..., Any]
) -> None:
    from licensectl.contract.requests import ActivityQuery, CoverageQuery, InventoryQuery

    partner = backend_as(Role.PARTNER, partner="Beta")
    inv = partner.report_inventory(InventoryQuery())
    assert inv.total.licenses == 1 and [r.group for r in inv.rows] == ["capacity"]
    assert partner.report_coverage(CoverageQuery()).rows == []
    actions = {r.action for r in partner.report_activity(ActivityQuery()).rows}
    assert actions == {"partner.add", "license.add"}  # Beta's own events only


def test_the_terminal_chart_fits_and_honours_no_color(cli: Cli, seeded: dict[str, Any]) -> None:
    narrow = cli.run("report", "coverage", env={"COLUMNS": "50"})
    assert narrow.exit_code == 0
    lines = narrow.stdout.splitlines()
    assert lines[0] == "Shortfall in devices, worst first"
    assert lines[1].startswith("SS-2 ") and "█" in lines[1] and lines[1].endswith(" 400")
    assert all(len(line) <= 50 for line in lines), lines
    # SS-1's bar is a quarter of SS-2's.
    assert lines[2].count("█") * 4 == pytest.approx(lines[1].count("█"), abs=4)
    colour = cli.run("report", "coverage", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    plain = cli.run("report", "coverage", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    colour_code = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])[;m]")
    assert colour_code.search(colour.stdout)
    assert not colour_code.search(plain.stdout)  # bold or italic may stay; colour goes
    assert plain.stdout.count("█") == colour.stdout.count("█")


# --- the HTML page, rendered --------------------------------------------------------------


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the raw RGB(A) rows of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_report_renders_in_headless_chromium(
    cli: Cli, seeded: dict[str, Any], tmp_path: Path
) -> None:
    from licensectl.report_html import BAR_COLOR

    page = tmp_path / "coverage.html"
    cli.ok("report", "coverage", "--html", str(page))
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "SS-2" in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in text and "https://" not in text
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (.ci/run does)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    png = tmp_path / "coverage.png"
    run = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}", "--window-size=1000,700", page.as_uri(),
        ],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    assert png.is_file() and png.stat().st_size > 1000
    keep = os.environ.get("LICENSECTL_TEST_ARTIFACTS")
    if keep:  # CI keeps the rendered page and its picture
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, Path(keep) / "report-coverage.png")
        shutil.copyfile(page, Path(keep) / "report-coverage.html")
    width, height, rows = _png_pixels(png.read_bytes())
    assert (width, height) == (1000, 700)
    target = bytes.fromhex(BAR_COLOR[1:])
    bpp = len(rows[0]) // width
    bar = sum(
        1
        for row in rows
        for x in range(0, len(row), bpp)
        if all(abs(row[x + i] - target[i]) <= 8 for i in range(3))
    )
    # Two bars of SS-2 (400) and SS-1 (100): thousands of pixels of the bar colour.
    assert bar > 3000, bar


def test_reports_through_the_server(cli: Cli, seeded: dict[str, Any], store_url: str) -> None:
    from serverkit import InProcess
    from test_server_api import open_app

    secret = cli.ok("token", "create", "--role", "partner", "--partner", "Acme").stdout.strip()
    app, store = open_app(store_url)
    api = InProcess(app)
    api.token = secret
    try:
        cov = api.get("/v1/reports/coverage").json()
        assert [r["install_code"] for r in cov["rows"]] == ["SS-2", "SS-1"]
        inv = api.get("/v1/reports/inventory", params={"by": "po"}).json()
        assert inv["total"]["licenses"] == 4 and inv["by"] == "po"
        ren = api.get("/v1/reports/renewals", params={"within_days": 400}).json()
        assert ren["rows"][0]["devices"] == 100 and len(ren["months"]) >= 13
        act = api.get("/v1/reports/activity", params={"since": "2020-01-01"}).json()
        assert act["since"] == "2020-01-01" and act["rows"]
        bad = api.get("/v1/reports/inventory", params={"by": "colour"})
        assert bad.status_code in (400, 422)
        assert api.get("/v1/reports/renewals", params={"within_days": 0}).status_code == 400
    finally:
        api.close()
        store.dispose()


def test_inventory_shows_the_first_groups_and_totals_every_license(
    cli: Cli, seeded: dict[str, Any]
) -> None:
    """A report of a third of a million purchase orders is a page, as `license list` is:
    the first groups (100 unless --limit), the total over every license, and a warning
    saying how to get the rest."""
    full = cli.json("report", "inventory", "--by", "po", "--all")
    assert [r["group"] for r in full] == ["PO-1", "PO-2", "PO-3", "PO-4", "PO-B", "total"]
    cut = cli.run("-o", "json", "report", "inventory", "--by", "po", "--limit", "2")
    assert cut.exit_code == 0, cut.stderr
    rows = json.loads(cut.stdout)
    assert [r["group"] for r in rows] == ["PO-1", "PO-2", "total"]
    assert rows[-1] == full[-1]  # the total still counts every license
    assert "showing the first 2 groups" in cut.stderr and "--all" in cut.stderr
    within = cli.run("-o", "json", "report", "inventory", "--by", "po", "--limit", "5")
    assert json.loads(within.stdout) == full and within.stderr == ""
    # By customer: partner inventory ("My Inventory") first, on every engine.
    first = cli.json("report", "inventory", "--by", "customer", "--limit", "1")
    assert [r["group"] for r in first] == ["My Inventory", "total"]
    assert first[-1] == full[-1]
    by_type = cli.json("report", "inventory", "--limit", "1")
    assert [r["group"] for r in by_type] == ["capacity", "total"] and by_type[-1] == full[-1]
    cli.fails(2, "report", "inventory", "--by", "po", "--limit", "0")


def test_activity_reads_day_counts_that_match_the_event_log(
    cli: Cli, seeded: dict[str, Any], store_url: str, tmp_path: Path
) -> None:
    """`event_day` (revision 0007) is kept by every writer of events, the import's
    INSERT ... SELECT included, and agrees with the log it counts."""
    from sqlalchemy import create_engine, text

    from licensectl.store.url import normalize_db_url

    csv_file = tmp_path / "po.csv"
    csv_file.write_text(
        "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
        "Acme,PO-9,1,capacity,200,2,,C1\n"
        "Acme,PO-9,2,core,1,1,,\n"
        "Beta,PO-10,1,maintenance,100,1,12,B-New\n",
        encoding="utf-8",
    )
    cli.ok("import", str(csv_file))
    lid = cli.ok("license", "add", "-p", "Beta", "--po", "X", "--type", "core", "--devices", "1")
    cli.ok("license", "void", lid.stdout.strip(), "--reason", "typo", "--yes")
    engine = create_engine(normalize_db_url(store_url))
    try:
        with engine.connect() as conn:
            kept = conn.execute(
                text("SELECT day, actor, action, partner_id, count FROM event_day")
            ).all()
            logged = conn.execute(text("SELECT at, actor, action, partner_id FROM event")).all()
    finally:
        engine.dispose()
    counted: dict[tuple[str, str, str, int], int] = {}
    for at, actor, action, partner_id in logged:
        key = (str(at)[:10], actor, action, partner_id or 0)
        counted[key] = counted.get(key, 0) + 1
    assert {(d, a, x, p): n for d, a, x, p, n in kept} == counted
    assert ("license.mint" in {k[2] for k in counted}) and sum(counted.values()) > 15
    rows = cli.json("report", "activity")
    assert sum(r["count"] for r in rows) == len(logged)


def test_a_store_before_report_speed_counts_its_whole_log_on_upgrade(
    store_url: str, cli: Cli, seeded: dict[str, Any]
) -> None:
    """Revision 0007 on a store at 0006: the inventory index is made and `event_day`
    counts every event already in the log (a new process, as an upgraded licensectl)."""
    from sqlalchemy import text

    from licensectl.store.engine import Store
    from licensectl.store.url import normalize_db_url

    before = cli.json("report", "activity", "--since", "2020-01-01")
    inventory = cli.json("report", "inventory", "--by", "customer")
    store = Store(normalize_db_url(store_url))
    try:
        with store.write() as s:  # back to revision 0006, as an older licensectl left it
            s.execute(text("DROP INDEX ix_license_inventory"))
            s.execute(text("DROP INDEX IF EXISTS ix_license_held_seq"))  # 0008's
            s.execute(text("DROP TABLE event_day"))
            s.execute(text("DELETE FROM schema_migration WHERE version >= 7"))
            s.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    finally:
        store.dispose()

    def run(*args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "licensectl", "--db", store_url, "-o", "json", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    run("db", "upgrade")
    assert run("report", "activity", "--since", "2020-01-01") == before
    assert run("report", "inventory", "--by", "customer") == inventory
    assert run("db", "check")["ok"]


@pytest.mark.postgres
@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])
def test_days_are_utc_days_whatever_the_servers_time_zone(zone: str, tmp_path: Path) -> None:
    """A PostgreSQL server's own TimeZone (initdb takes the machine's) never moves an
    event to another day: days in event_day and `report activity` (and every day or month
    computed in SQL) are UTC days, as on SQLite. For any instant one of UTC+14 and UTC-12
    is on another date than UTC, so one of the two cases fails where the zone leaks in."""
    from datetime import UTC

    from conftest import PG_URL, create_pg_database, drop_pg_database

    if not PG_URL:
        pytest.skip("set LICENSECTL_TEST_PG_URL to run the PostgreSQL tests")
    import psycopg
    from sqlalchemy import create_engine, text

    url = create_pg_database()
    try:
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE \"{name}\" SET timezone = '{zone}'")
        cli = Cli(db=url)
        cli.ok("partner", "add", "Acme")
        csv_file = tmp_path / "po.csv"
        csv_file.write_text(
            "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
            "Acme,PO-1,1,capacity,10,1,,C1\nAcme,PO-1,2,maintenance,10,1,12,C1\n",
            encoding="utf-8",
        )
        cli.ok("import", str(csv_file))
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                ats = conn.execute(text("SELECT at FROM event")).scalars().all()
                kept = set(conn.execute(text("SELECT day FROM event_day")).scalars().all())
        finally:
            engine.dispose()
        utc_days = {at.astimezone(UTC).strftime("%Y-%m-%d") for at in ats}
        assert kept == utc_days
        assert {r["day"] for r in cli.json("report", "activity")} == utc_days
    finally:
        drop_pg_database(url)
