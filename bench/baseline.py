"""The raw import baseline of issue 4, and licensectl's parse-only time on the same file.

    python bench/gen_po.py 100000 bench/out/po-100k.csv
    python bench/baseline.py bench/out/po-100k.csv [--repeat 3] [--schema builtin|models]

Baseline: ``csv.DictReader`` + ``sqlite3.executemany`` in one transaction into a fresh
SQLite file whose ``license`` table is indexed like licensectl's (same pragmas too). It
only does what any importer must: look up the partner, mint a License ID, case-fold the
PO, convert the numbers. No validation, no customers, no events.

Parse-only: `licensectl.importer.iter_rows` over the same file (parse + validate, no store).

Each measurement runs in a fresh child process, so its peak RSS is its own. For the
licensectl-side bench, import `run_baseline`, `run_parse_only`, `prepare_store` and
`count_rows` from here (see README.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

# Mirrors licensectl/models.py (Partner, Customer, License) and the pragmas of
# licensectl/store/engine.py as of issue 4. `--schema models` builds the tables from
# licensectl's own metadata instead, which stays right if the models change.
BUILTIN_SCHEMA = """
CREATE TABLE partner (
    id INTEGER PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) NOT NULL UNIQUE,
    email VARCHAR(254),
    created_at DATETIME NOT NULL
);
CREATE TABLE customer (
    id INTEGER PRIMARY KEY,
    customer_id VARCHAR(36) NOT NULL UNIQUE,
    partner_id INTEGER NOT NULL REFERENCES partner (id),
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT uq_customer_partner_name UNIQUE (partner_id, name_key)
);
CREATE INDEX ix_customer_partner_id ON customer (partner_id);
CREATE TABLE license (
    seq INTEGER PRIMARY KEY,
    license_id VARCHAR(36) NOT NULL UNIQUE,
    partner_id INTEGER NOT NULL REFERENCES partner (id),
    customer_pk INTEGER REFERENCES customer (id),
    type VARCHAR(16) NOT NULL,
    devices INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    term_months INTEGER,
    purchase_order VARCHAR(100) NOT NULL,
    po_key VARCHAR(100) NOT NULL,
    po_line INTEGER NOT NULL,
    status VARCHAR(16) NOT NULL,
    active_copies INTEGER NOT NULL,
    parent_id VARCHAR(36),
    note VARCHAR(2000),
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_license_po_line ON license (partner_id, po_key, po_line)
    WHERE parent_id IS NULL;
CREATE INDEX ix_license_po_key ON license (po_key, seq);
CREATE INDEX ix_license_partner_seq ON license (partner_id, seq);
CREATE INDEX ix_license_customer_seq ON license (customer_pk, seq);
CREATE INDEX ix_license_parent ON license (parent_id);
"""

PRAGMAS = ("PRAGMA foreign_keys = ON", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL")

INSERT_LICENSE = """
INSERT INTO license (license_id, partner_id, customer_pk, type, devices, quantity,
    term_months, purchase_order, po_key, po_line, status, active_copies, parent_id, note,
    created_at)
VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, 'available', 0, NULL, NULL, ?)
"""


def _connect(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def partners_in(csv_path: Path) -> list[str]:
    """The distinct partner names of the file (they must exist before an import)."""
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        return sorted({" ".join(row["partner"].split()) for row in csv.DictReader(f)})


def prepare_store(csv_path: Path, db_path: Path, *, schema: str = "builtin") -> None:
    """A fresh store holding the file's partners and nothing else (not timed)."""
    if schema == "models":
        from sqlalchemy import create_engine
        from sqlmodel import SQLModel

        import licensectl.models  # noqa: F401  (registers the tables)

        engine = create_engine(f"sqlite:///{db_path}")
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        conn = _connect(db_path)
    else:
        conn = _connect(db_path)
        conn.executescript(BUILTIN_SCHEMA)
    now = _now()
    conn.executemany(
        "INSERT INTO partner (name, name_key, created_at) VALUES (?, ?, ?)",
        [(name, name.casefold(), now) for name in partners_in(csv_path)],
    )
    conn.close()


def _baseline_rows(
    reader: csv.DictReader[str], partner_ids: dict[str, int]
) -> Iterator[tuple[object, ...]]:
    now = _now()
    for row in reader:
        term = row.get("term_months") or None
        po = row["purchase_order"]
        yield (
            str(uuid.uuid4()),
            partner_ids[row["partner"].casefold()],
            row["type"],
            int(row["devices"]),
            int(row.get("quantity") or 1),
            int(term) if term else None,
            po,
            po.casefold(),
            int(row.get("po_line") or 1),
            now,
        )


def run_baseline(csv_path: str | Path, db_path: str | Path | None = None) -> float:
    """Seconds for the raw import of CSV_PATH into a prepared store (see prepare_store).

    Without DB_PATH a fresh store is prepared in a temporary directory next to the CSV.
    """
    csv_path = Path(csv_path)
    if db_path is None:
        with tempfile.TemporaryDirectory(dir=csv_path.parent) as tmp:
            fresh = Path(tmp) / "baseline.db"
            prepare_store(csv_path, fresh)
            return run_baseline(csv_path, fresh)
    conn = _connect(Path(db_path))
    start = time.perf_counter()
    partner_ids = dict(conn.execute("SELECT name_key, id FROM partner").fetchall())
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_LICENSE, _baseline_rows(csv.DictReader(f), partner_ids))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run_parse_only(csv_path: str | Path) -> float:
    """Seconds for licensectl's parse + validate of CSV_PATH, no store."""
    from licensectl.importer import ImportRow, iter_rows, open_input

    start = time.perf_counter()
    bad = 0
    with open_input(str(csv_path)) as stream:
        for item in iter_rows(stream, "csv"):
            if not isinstance(item, ImportRow):
                bad += 1
    elapsed = time.perf_counter() - start
    if bad:
        raise SystemExit(f"{csv_path}: {bad} rows failed validation; the bench needs a clean file")
    return elapsed


def count_rows(csv_path: str | Path) -> int:
    with Path(csv_path).open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def peak_rss_mib() -> float:
    """This process's peak resident set size (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _child(csv_path: Path, what: str, schema: str) -> None:
    if what == "baseline":
        with tempfile.TemporaryDirectory(dir=csv_path.parent) as tmp:
            db_path = Path(tmp) / "baseline.db"
            prepare_store(csv_path, db_path, schema=schema)
            seconds = run_baseline(csv_path, db_path)
            conn = sqlite3.connect(db_path)
            inserted = conn.execute("SELECT count(*) FROM license").fetchone()[0]
            conn.close()
    else:
        seconds = run_parse_only(csv_path)
        inserted = 0
    print(json.dumps({"seconds": seconds, "inserted": inserted, "peak_rss_mib": peak_rss_mib()}))


def measure(csv_path: Path, what: str, *, schema: str = "builtin") -> dict[str, float]:
    """Run one measurement in a fresh interpreter; returns seconds and peak_rss_mib."""
    out = subprocess.run(
        [sys.executable, __file__, str(csv_path), "--child", what, "--schema", schema],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv_path", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--schema",
        choices=("builtin", "models"),
        default="builtin",
        help="baseline tables: the built-in mirror, or licensectl.models' own metadata",
    )
    parser.add_argument("--child", choices=("baseline", "parse"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.csv_path, args.child, args.schema)
        return 0

    rows = count_rows(args.csv_path)
    print(f"{args.csv_path}: {rows} rows, best and median of {args.repeat} runs each")
    best: dict[str, float] = {}
    for what, label in (
        ("baseline", f"raw baseline (DictReader + executemany, {args.schema} schema)"),
        ("parse", "licensectl parse + validate only (iter_rows)"),
    ):
        runs = [measure(args.csv_path, what, schema=args.schema) for _ in range(args.repeat)]
        if what == "baseline" and any(r["inserted"] != rows for r in runs):
            raise SystemExit("baseline inserted the wrong number of rows")
        seconds = [r["seconds"] for r in runs]
        best[what] = min(seconds)
        print(
            f"  {label:<62} best {rows / min(seconds):>9,.0f} rows/s ({min(seconds):.3f} s)"
            f"  median {rows / statistics.median(seconds):>9,.0f} rows/s"
            f"  peak RSS {max(r['peak_rss_mib'] for r in runs):.0f} MiB"
        )
    share = best["parse"] / best["baseline"]
    print(f"  parse + validate costs {share:.2f}x the whole raw baseline (budget: 1.5x in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
