# ruff: noqa: E501
"""Issue 11: a store of a million licenses, on SQLite and PostgreSQL, against raw baselines.

    python bench/scale.py                         # 1,000,000 licenses, both engines
    python bench/scale.py --rows 50000 --repeat 5 --engines sqlite   # a quick run
    python bench/scale.py --engines sqlite --store bench/out/copy.db --skip export,check,import
                                                  # again on a store a --keep run built

With --rows N (default 1,000,000): N licenses and N/10 customers, built with `licensectl
import` (a whole process, timed), then 10 lineages of depth 20 made by successive
transfers and a few activations. On that store it prints every figure of the issue as
median / min / max over --repeat runs, beside a raw baseline in the same run:

- queries in the process (ms): search customer (few / ~100 / no match), customer show of
  a customer with 1,000 licenses, license history of a depth-20 lineage, license list with
  each filter (first page and a page deep through --after), search po (prefix, exact),
  smartserver show; raw references: an indexed look-up, a LIKE scan, an FTS5 trigram or
  pg_trgm match, a recursive CTE;
- whole commands, paired and alternating with the same command on an empty store;
- export against one joined SELECT + csv.writer (byte-identical output checked);
- db check (whole process);
- import against `csv.DictReader + sqlite3.executemany` (SQLite, issue 4's baseline, with
  and without a customer column) and a raw psycopg COPY (PostgreSQL).

Stores and files go to bench/out/ (git-ignored); PostgreSQL databases are made on
LICENSECTL_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
and dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

from baseline import prepare_store, run_baseline  # noqa: E402

PARTNERS = [f"Partner {chr(65 + i)} Integrators" for i in range(10)]
#: Substrings of customer names: in 3 names, in 100 names, in none.
FEW, HUNDRED, NONE = "zephyrine", "quillon", "xyzzy-nothing"
BIG_CUSTOMER = "Grand Central Station"
BIG_LICENSES = 1000
LINEAGES, DEPTH = 10, 20
PG_URL = os.environ.get(
    "LICENSECTL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
COLUMNS = [
    "partner",
    "purchase_order",
    "po_line",
    "type",
    "devices",
    "quantity",
    "term_months",
    "customer",
]


# --- the file ---------------------------------------------------------------------


def customer_name(k: int) -> str:
    if k < 3:
        return f"Harbour {FEW.title()} {k}"
    if k < 103:
        return f"{HUNDRED.title()} Site {k}"
    return f"P{2022 + k % 5}-{k:06d} Building"


def write_file(path: Path, rows: int, *, customers: bool, seed: int = 11) -> Path:
    """N rows; with customers: 20 % name one of N/10 customers, and one customer gets
    1,000 licenses. PO numbers are sequential, 1-5 lines each."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_customers = max(rows // 10, 200)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        produced, po = 0, 0
        next_customer = 0
        big = 0
        while produced < rows:
            po += 1
            partner = PARTNERS[po % len(PARTNERS)]
            for line in range(1, rng.randint(1, 5) + 1):
                if produced == rows:
                    break
                kind = rng.random()
                term: int | str
                if kind < 0.6:
                    t, devices, term = "capacity", rng.choice((25, 100, 500, 1000)), ""
                elif kind < 0.9:
                    t, devices, term = "maintenance", rng.choice((100, 500)), rng.choice((12, 36))
                else:
                    t, devices, term = "core", 1, ""
                customer = ""
                if customers:
                    if big < BIG_LICENSES and partner == PARTNERS[1]:
                        customer = BIG_CUSTOMER
                        big += 1
                    elif rng.random() < 0.2:
                        customer = customer_name(next_customer % n_customers)
                        next_customer += 1
                quantity = rng.choice((1, 1, 2, 5, 10))
                w.writerow([partner, f"PO-{po:07d}", line, t, devices, quantity, term, customer])
                produced += 1
    return path


def po_prefix(rows: int) -> str:
    """A PO prefix matching about 1 % of the licenses (POs average 3 lines)."""
    free = max(1, min(6, round(math.log10(max(rows / 300, 10)))))
    return "PO-" + f"{10**free:07d}"[: 7 - free]


# --- processes --------------------------------------------------------------------


def env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(home),
        "LICENSECTL_CONFIG_DIR": str(home / "config"),
        "LICENSECTL_DATA_DIR": str(home / "data"),
        "LICENSECTL_KEY_DIR": str(home / "keys"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "COLUMNS": "120",
    }


def run(home: Path, db: str, *args: str) -> float:
    return run_cpu(home, db, *args)[0]


def run_cpu(home: Path, db: str, *args: str) -> tuple[float, float]:
    """Wall-clock and CPU (user + system, from `wait4`) seconds of a whole command."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["licensectl", "--db", db, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(home),
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"licensectl {' '.join(args)} failed on {db}")
    return wall, usage.ru_utime + usage.ru_stime


# --- stores -----------------------------------------------------------------------


def pg_create(name: str) -> str:
    import psycopg

    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def pg_drop(url: str) -> None:
    import psycopg

    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def new_store(engine: str, name: str) -> str:
    if engine == "sqlite":
        path = OUT / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return str(path)
    return pg_create(name)


def drop_store(engine: str, db: str) -> None:
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    else:
        pg_drop(db)


def add_partners(db: str) -> None:
    from licensectl.contract.requests import PartnerAdd
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    backend = LocalBackend.open(normalize_db_url(db))
    backend.db_upgrade()  # a new PostgreSQL database is made a store on purpose
    for name in PARTNERS:
        backend.partner_add(PartnerAdd(name=name))
    backend.close()


def lineages(db: str) -> dict[str, str]:
    """10 lineages of depth 20 (whole-license transfers between customers), and a few
    activations on one SmartServer. Returns the deepest License ID and the server."""
    from licensectl.contract.requests import (
        Activate,
        CustomerAdd,
        LicenseAdd,
        Transfer,
    )
    from licensectl.domain import LicenseType
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    backend = LocalBackend.open(normalize_db_url(db))
    partner = PARTNERS[0]
    holders = [
        backend.customer_add(CustomerAdd(name=f"Lineage Holder {i}", partner=partner)).customer_id
        for i in range(DEPTH)
    ]
    deepest = ""
    for n in range(LINEAGES):
        lic = backend.license_add(
            LicenseAdd(
                partner=partner,
                purchase_order=f"LIN-{n:03d}",
                type=LicenseType.CAPACITY,
                devices=100,
                quantity=1,
            )
        )
        current = lic.license_id
        assert current is not None
        for depth in range(DEPTH):
            moved = backend.transfer(Transfer(license_id=current, to=holders[depth], quantity=1))
            current = moved.transferred.license_id
            assert current is not None
        deepest = current
    server = "SS-BENCH-0001"
    for n in range(5):
        lic = backend.license_add(
            LicenseAdd(
                partner=partner,
                purchase_order=f"ACT-{n:03d}",
                type=LicenseType.CAPACITY,
                devices=100,
                quantity=2,
            )
        )
        assert lic.license_id is not None
        held = backend.transfer(Transfer(license_id=lic.license_id, to=holders[0])).transferred
        assert held.license_id is not None
        backend.activate(Activate(license_id=held.license_id, install_code=server, copies=1))
    backend.close()
    return {"deepest": deepest, "server": server}


# --- timing -----------------------------------------------------------------------


def summary(samples: list[float]) -> str:
    return (
        f"{statistics.median(samples):8.2f} {min(samples):8.2f} {max(samples):8.2f}"
        if samples
        else "       -"
    )


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm: the first call pays for imports and caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def head(self, text: str) -> None:
        self.line("")
        self.line(text)

    def line(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)

    def row(self, name: str, samples: list[float], note: str = "") -> None:
        self.line(f"  {name:<52} {summary(samples)}  {note}")


def query_figures(engine: str, db: str, marks: dict[str, str], rows: int, repeat: int,
                  report: Report) -> None:  # fmt: skip
    from licensectl.contract.requests import LicenseFilter, Page
    from licensectl.domain import Inventory, LicenseStatus, LicenseType
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    backend = LocalBackend.open(normalize_db_url(db))
    report.head(f"[{engine}] queries in the process, ms: median min max")
    counts = {
        "few": len(backend.search_customers(FEW, page=Page(limit=None)).items),
        "hundred": len(backend.search_customers(HUNDRED, page=Page(limit=None)).items),
    }
    report.row(f"search customer {FEW!r} ({counts['few']} match)",
               timed(lambda: backend.search_customers(FEW), repeat))  # fmt: skip
    report.row(f"search customer {HUNDRED!r} ({counts['hundred']} match)",
               timed(lambda: backend.search_customers(HUNDRED), repeat))  # fmt: skip
    report.row("search customer, no match",
               timed(lambda: backend.search_customers(NONE), repeat))  # fmt: skip
    big = backend.customer_show(BIG_CUSTOMER, partner=PARTNERS[1])
    report.row(f"customer show ({len(big.licenses)} licenses)",
               timed(lambda: backend.customer_show(BIG_CUSTOMER, partner=PARTNERS[1]), repeat))  # fmt: skip
    history = backend.license_history(marks["deepest"])
    report.row(f"license history (depth {len(history.ancestors)})",
               timed(lambda: backend.license_history(marks["deepest"]), repeat))  # fmt: skip
    prefix = po_prefix(rows)
    n_prefix = len(backend.search_po(prefix, page=Page(limit=None)).items)
    report.row(f"search po prefix {prefix!r} ({n_prefix} match, limit 100)",
               timed(lambda: backend.search_po(prefix), repeat))  # fmt: skip
    report.row("search po exact",
               timed(lambda: backend.search_po("PO-0000777", exact=True), repeat))  # fmt: skip
    report.row("smartserver show",
               timed(lambda: backend.smartserver_show(marks["server"]), repeat))  # fmt: skip
    filters = {
        "--partner": LicenseFilter(partner=PARTNERS[2]),
        "--customer": LicenseFilter(customer=BIG_CUSTOMER, partner=PARTNERS[1]),
        "--inventory mine": LicenseFilter(inventory=Inventory.MINE),
        "--inventory customer": LicenseFilter(inventory=Inventory.CUSTOMER),
        "--status activated (rare)": LicenseFilter(status=LicenseStatus.ACTIVATED),
        "--status transferred": LicenseFilter(status=LicenseStatus.TRANSFERRED),
        "--type core": LicenseFilter(type=LicenseType.CORE),
        "--expiring-within 400": LicenseFilter(expiring_within=400),
    }

    def listing(f: LicenseFilter, page: Page | None = None) -> Callable[[], Any]:
        return lambda: (
            backend.license_list(f) if page is None else backend.license_list(f, page=page)
        )

    for name, f in filters.items():
        report.row(f"license list {name}", timed(listing(f), repeat))
        after = None
        for _ in range(5):  # a page deep: the sixth
            page = backend.license_list(f, page=Page(limit=100, after=after))
            after = page.next_after
            if after is None:
                break
        if after is not None:
            deep = Page(limit=100, after=after)
            report.row(f"license list {name} --after (page 6)",
                       timed(listing(f, deep), repeat))  # fmt: skip
    backend.close()
    raw_references(engine, db, marks, repeat, report)


def raw_references(engine: str, db: str, marks: dict[str, str], repeat: int,
                   report: Report) -> None:  # fmt: skip
    report.head(f"[{engine}] raw references, ms")
    if engine == "sqlite":
        conn = sqlite3.connect(db)

        def q(sql: str, *args: Any) -> Callable[[], Any]:
            return lambda: conn.execute(sql, args).fetchall()

        fts = "SELECT c.* FROM customer c WHERE c.id IN (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?)"
    else:
        import psycopg

        conn = psycopg.connect(db.replace("postgresql+psycopg://", "postgresql://"))  # type: ignore[assignment]

        def q(sql: str, *args: Any) -> Callable[[], Any]:
            sql = sql.replace("?", "%s")
            return lambda: conn.execute(sql, args).fetchall()

        fts = "SELECT c.* FROM customer c WHERE (c.name_key || '') LIKE ?"  # the GIN index's expression
    report.row("indexed look-up (license by License ID)",
               timed(q("SELECT * FROM license WHERE license_id = ?", marks["deepest"]), repeat))  # fmt: skip
    report.row(f"LIKE '%{FEW}%' scan of customer",
               timed(q("SELECT * FROM customer WHERE name_key || '' LIKE ?", f"%{FEW}%"), repeat))  # fmt: skip
    needle = f'"{FEW}"' if engine == "sqlite" else f"%{FEW}%"
    report.row("FTS5 trigram match" if engine == "sqlite" else "pg_trgm LIKE match",
               timed(q(fts, needle), repeat))  # fmt: skip
    needle = f'"{HUNDRED}"' if engine == "sqlite" else f"%{HUNDRED}%"
    report.row("trigram match + their licenses (~100)",
               timed(q(f"SELECT l.* FROM license l WHERE l.customer_pk IN ({fts.replace('c.*', 'c.id')})", needle), repeat))  # fmt: skip
    report.row("the same rows as customer show",
               timed(q("SELECT l.* FROM license l JOIN customer c ON c.id = l.customer_pk WHERE c.name_key = ?",
                       BIG_CUSTOMER.casefold()), repeat))  # fmt: skip
    cte = (
        "WITH RECURSIVE up(license_id, parent_id) AS (SELECT license_id, parent_id FROM license "
        "WHERE license_id = ? UNION ALL SELECT l.license_id, l.parent_id FROM license l "
        "JOIN up ON l.license_id = up.parent_id) SELECT * FROM up"
    )
    report.row("recursive CTE, depth 20", timed(q(cte, marks["deepest"]), repeat))
    report.row("status = 'activated' (index)",
               timed(q("SELECT * FROM license WHERE status = 'activated' ORDER BY seq LIMIT 101"), repeat))  # fmt: skip
    conn.close()


def paired(home: Path, big: str, empty: str, args: list[str], repeat: int
           ) -> tuple[list[float], list[float], list[float]]:  # fmt: skip
    """Wall ms on the large and the empty store, and each pair's CPU ratio (large /
    empty), alternating which goes first."""
    a, b, cpu = [], [], []
    run(home, big, *args)
    run(home, empty, *args)
    for i in range(repeat):
        first, second = (big, empty) if i % 2 == 0 else (empty, big)
        t1 = run_cpu(home, first, *args)
        t2 = run_cpu(home, second, *args)
        on_big, on_empty = (t1, t2) if first == big else (t2, t1)
        a.append(on_big[0] * 1000)
        b.append(on_empty[0] * 1000)
        cpu.append(on_big[1] / on_empty[1])
    return a, b, cpu


def whole_commands(engine: str, home: Path, db: str, rows: int,
                   repeat: int, report: Report) -> None:  # fmt: skip
    empty = new_store(engine, f"scale_empty_{engine}")
    add_partners(empty)
    run(home, empty, "customer", "add", BIG_CUSTOMER, "--partner", PARTNERS[1])
    report.head(f"[{engine}] whole commands, ms (large store, then empty store; ratio of medians)")
    commands = {
        "search customer (~100)": ["search", "customer", HUNDRED],
        "search customer (few)": ["search", "customer", FEW],
        "customer show (1,000 licenses)": ["customer", "show", BIG_CUSTOMER, "--partner", PARTNERS[1]],
        "customer show -o json": ["-o", "json", "customer", "show", BIG_CUSTOMER, "--partner", PARTNERS[1]],
        "license list --status activated": ["license", "list", "--status", "activated"],
        "license list": ["license", "list"],
        "search po prefix": ["search", "po", po_prefix(rows)],
        "partner list": ["partner", "list"],
    }  # fmt: skip
    for name, args in commands.items():
        a, b, cpu = paired(home, db, empty, args, repeat)
        ratio = statistics.median(a) / statistics.median(b)
        report.row(name, a, f"vs empty {statistics.median(b):7.1f} -> {ratio:.2f}x wall, "
                            f"{statistics.median(cpu):.2f}x CPU (target 1.2)")  # fmt: skip
    drop_store(engine, empty)


def export_figures(engine: str, home: Path, db: str, repeat: int, report: Report) -> None:
    report.head(f"[{engine}] export (CSV, whole file), s: median min max")
    target = OUT / f"export-{engine}.csv"
    raw_target = OUT / f"export-{engine}-raw.csv"
    ours, raw = [], []
    for _ in range(repeat):
        target.unlink(missing_ok=True)
        ours.append(run(home, db, "export", "--format", "csv", "--out", str(target)))
        start = time.perf_counter()
        raw_export(engine, db, raw_target)
        raw.append(time.perf_counter() - start)
    same = target.read_bytes() == raw_target.read_bytes()
    ratio = statistics.median(ours) / statistics.median(raw)
    report.row("licensectl export (whole process)", ours)
    report.row("raw: one joined SELECT + csv.writer", raw,
               f"ratio {ratio:.2f}x (target 1.5); byte-identical: {same}")  # fmt: skip


def raw_export(engine: str, db: str, path: Path) -> None:
    """The baseline: one joined SELECT, csv.writer, the same bytes as licensectl writes."""
    from licensectl.safe_text import csv_cell

    sql = (
        "SELECT l.license_id, l.type, l.devices, l.quantity, l.status, l.active_copies, "
        "l.term_months, l.purchase_order, l.po_line, p.name, c.customer_id, c.name, "
        "l.parent_id, l.note, l.created_at FROM license l JOIN partner p ON p.id = l.partner_id "
        "LEFT JOIN customer c ON c.id = l.customer_pk ORDER BY l.seq"
    )
    keys = ["license_id", "type", "devices", "quantity", "free_copies", "term_months",
            "purchase_order", "po_line", "status", "partner", "customer_id", "customer",
            "parent_id", "note", "created_at"]  # fmt: skip
    if engine == "sqlite":
        conn: Any = sqlite3.connect(db)
        cursor = conn.execute(sql)
    else:
        import psycopg

        conn = psycopg.connect(db.replace("postgresql+psycopg://", "postgresql://"))
        cursor = conn.cursor(name="export")
        cursor.itersize = 2000
        cursor.execute(sql)

    def text(v: Any) -> Any:
        return "" if v is None else csv_cell(v)

    def when(v: Any) -> str:
        if isinstance(v, str):  # SQLite: '2026-11-29 17:00:00.123456'
            return v[:10] + "T" + v[11:19] + "Z"
        return str(v.strftime("%Y-%m-%dT%H:%M:%SZ"))

    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(keys)
        for (lid, typ, dev, qty, status, active, term, po, line, partner, cid, cust,
             parent, note, created) in cursor:  # fmt: skip
            free = 0 if status == "transferred" else qty - active
            w.writerow([lid, typ, dev, qty, free, "" if term is None else term, text(po), line,
                        status, text(partner), cid or "", text(cust), parent or "", text(note),
                        when(created)])  # fmt: skip
    conn.close()


def check_figure(engine: str, home: Path, db: str, report: Report) -> None:
    """Wall time, and the process's CPU time (user + system): on a shared machine the
    wall time mostly measures the others' load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = run(home, db, "db", "check")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    report.head(
        f"[{engine}] db check (whole process): {seconds:.1f} s, CPU {cpu:.1f} s (target 30 s)"
    )


# --- import -------------------------------------------------------------------------


def raw_copy(db: str, path: Path) -> float:
    """PostgreSQL's raw baseline: psycopg COPY of the file's rows into a license table with
    licensectl's columns and indexes (partner ids looked up, License IDs minted)."""
    import psycopg

    url = db.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_license")
        conn.execute(
            "CREATE TABLE raw_license (seq bigserial PRIMARY KEY, license_id varchar(36) NOT NULL "
            "UNIQUE, partner_id int NOT NULL, customer varchar(200), type varchar(16) NOT NULL, "
            "devices int NOT NULL, quantity int NOT NULL, term_months int, "
            "purchase_order varchar(100) NOT NULL, po_key varchar(100) NOT NULL, "
            "po_line int NOT NULL, created_at timestamp NOT NULL DEFAULT now())"
        )
        conn.execute("CREATE UNIQUE INDEX ON raw_license (partner_id, po_key, po_line)")
        conn.execute("CREATE INDEX ON raw_license (po_key, seq)")
        conn.execute("CREATE INDEX ON raw_license (partner_id, seq)")
        conn.commit()
        partners = {name: i for i, name in enumerate(PARTNERS, 1)}
        start = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as f, conn.cursor() as cur:
            cols = ("license_id", "partner_id", "customer", "type", "devices", "quantity",
                    "term_months", "purchase_order", "po_key", "po_line")  # fmt: skip
            with cur.copy(f"COPY raw_license ({', '.join(cols)}) FROM STDIN") as copy:
                for r in csv.DictReader(f):
                    copy.write_row((
                        str(uuid.uuid4()), partners[r["partner"]], r["customer"] or None,
                        r["type"], int(r["devices"]), int(r["quantity"]),
                        int(r["term_months"]) if r["term_months"] else None,
                        r["purchase_order"], r["purchase_order"].casefold(), int(r["po_line"]),
                    ))  # fmt: skip
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE raw_license")
        conn.commit()
    return seconds


def import_figures(engine: str, home: Path, rows: int, repeat: int, report: Report) -> None:
    report.head(f"[{engine}] import, whole process, s: median min max")
    files = {
        "no customer column": write_file(OUT / f"scale-{rows}-plain.csv", rows, customers=False),
        "20 % naming a customer": write_file(OUT / f"scale-{rows}.csv", rows, customers=True),
    }
    if engine == "postgres":
        files.pop("no customer column")
    for name, path in files.items():
        ours, raw = [], []
        for _ in range(repeat):
            db = new_store(engine, f"scale_import_{engine}")
            add_partners(db)
            ours.append(run(home, db, "--quiet", "import", str(path)))
            if engine == "sqlite":
                with tempfile.TemporaryDirectory(dir=OUT) as tmp:
                    prepare_store(path, Path(tmp) / "raw.db")
                    raw.append(run_baseline(path, Path(tmp) / "raw.db"))
            else:
                raw.append(raw_copy(db, path))
            drop_store(engine, db)
        ratio = statistics.median(ours) / statistics.median(raw)
        what = "raw DictReader + executemany" if engine == "sqlite" else "raw psycopg COPY"
        target = {"no customer column": 1.1, "20 % naming a customer": 1.3}.get(name, 1.3)
        if engine == "postgres":
            target = 2.0
        report.row(f"licensectl import, {name}", ours)
        report.row(f"{what}", raw, f"ratio {ratio:.2f}x (target {target})")


# --- main ---------------------------------------------------------------------------


def build(engine: str, home: Path, rows: int, report: Report) -> tuple[str, dict[str, str]]:
    path = write_file(OUT / f"scale-{rows}.csv", rows, customers=True)
    db = new_store(engine, f"scale_{engine}")
    add_partners(db)
    seconds = run(home, db, "--quiet", "import", str(path))
    start = time.perf_counter()
    marks = lineages(db)
    report.head(
        f"[{engine}] built {rows:,} licenses with import in {seconds:.1f} s; "
        f"lineages and activations in {time.perf_counter() - start:.1f} s"
    )
    return db, marks


def existing(db: str) -> dict[str, str]:
    """The marks `lineages` returned, found again in a store it built (`--store`)."""
    from licensectl.contract.requests import Page
    from licensectl.domain import LicenseStatus
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    backend = LocalBackend.open(normalize_db_url(db))
    last = backend.search_po(f"LIN-{LINEAGES - 1:03d}", exact=True, page=Page(limit=None))
    deepest = [lic.license_id for lic in last.items if lic.status is not LicenseStatus.TRANSFERRED]
    backend.close()
    assert len(deepest) == 1 and deepest[0] is not None, "not a store scale.py built"
    return {"deepest": deepest[0], "server": "SS-BENCH-0001"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--import-repeat", type=int, default=1)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument(
        "--skip",
        default="",
        help="comma list: build (the large store and all on it),queries,commands,export,check,import",
    )
    parser.add_argument("--keep", action="store_true", help="keep the large stores")
    parser.add_argument(
        "--store",
        help="a large store an earlier --keep run built (SQLite path or PostgreSQL URL): "
        "measure on it (never written: copy it first) instead of building one",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    report = Report()
    report.line(f"scale bench: {args.rows:,} licenses, repeat {args.repeat}, "
                f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for engine in args.engines.split(","):
            if "build" in skip:  # only the import figures
                import_figures(engine, home, args.rows, args.import_repeat, report)
                continue
            if args.store:
                db, marks = args.store, existing(args.store)
            else:
                db, marks = build(engine, home, args.rows, report)
            try:
                if "queries" not in skip:
                    query_figures(engine, db, marks, args.rows, args.repeat, report)
                if "commands" not in skip:
                    whole_commands(engine, home, db, args.rows, args.repeat, report)
                if "export" not in skip:
                    export_figures(engine, home, db, max(1, args.repeat // 3), report)
                if "check" not in skip:
                    check_figure(engine, home, db, report)
            finally:
                if not args.keep and not args.store:
                    drop_store(engine, db)
            if "import" not in skip:
                import_figures(engine, home, args.rows, args.import_repeat, report)
    (OUT / f"scale-{args.rows}.txt").write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
