"""`licensectl import` against issue 4's raw baseline, in the same run.

    python bench/import_bench.py                      # 100k rows, no customers and 20 % customers
    python bench/import_bench.py bench/out/po-100k.csv --repeat 5
    python bench/import_bench.py --rss-rows 1000000   # also peak RSS of a 1M-row import
    python bench/import_bench.py --cli                # also end to end through the CLI

For each file: the raw baseline (`baseline.run_baseline`: DictReader + one executemany),
then licensectl's import through the service (`LocalBackend.import_licenses`) into a fresh
store holding the file's partners, then a re-import of the same file into that store.
Every measurement runs in a fresh interpreter (so each peak RSS is its own); the best of
`--repeat` runs is compared. Issue 4's budget: import / baseline ≤ 1.5 and
re-import / import ≤ 1.0; memory flat in the file's length.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

from baseline import count_rows, measure, partners_in, peak_rss_mib

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


class ImportResult(TypedDict):
    """What `_child_import` prints: one entry per import, then the child's peak RSS."""

    runs: list[dict[str, Any]]
    peak_rss_mib: float


def _child_import(csv_path: Path, tmp: Path, times: int) -> None:
    """Import CSV_PATH `times` times into one fresh store; print seconds and peak RSS."""
    from licensectl.contract.requests import ImportOptions, PartnerAdd
    from licensectl.importer import open_input
    from licensectl.service import LocalBackend

    backend = LocalBackend.open(f"sqlite:///{tmp / 'licensectl.db'}")
    for name in partners_in(csv_path):
        backend.partner_add(PartnerAdd(name=name))
    runs = []
    for _ in range(times):
        start = time.perf_counter()
        with open_input(str(csv_path)) as stream:
            summary = backend.import_licenses(stream, ImportOptions())
        runs.append(
            {
                "seconds": time.perf_counter() - start,
                **summary.model_dump(mode="json"),
                "errors": [],
            }
            if summary.ok
            else {"failed": [e.model_dump(mode="json") for e in summary.errors[:5]]}
        )
    backend.close()
    print(json.dumps({"runs": runs, "peak_rss_mib": peak_rss_mib()}))


def licensectl_import(csv_path: Path, *, times: int = 2) -> ImportResult:
    with tempfile.TemporaryDirectory(dir=csv_path.parent) as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(csv_path), tmp, str(times)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result: ImportResult = json.loads(out)
    for run in result["runs"]:
        if "failed" in run:
            raise SystemExit(f"{csv_path}: the import failed: {run['failed']}")
    return result


def cli_import(csv_path: Path) -> tuple[float, float]:
    """Seconds for `licensectl import FILE` end to end (start-up included), first and again."""
    with tempfile.TemporaryDirectory(dir=csv_path.parent) as tmp:
        db = str(Path(tmp) / "cli.db")
        for name in partners_in(csv_path):
            subprocess.run(
                ["licensectl", "--db", db, "partner", "add", name], check=True, capture_output=True
            )
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(
                ["licensectl", "--db", db, "--quiet", "import", str(csv_path)],
                check=True,
                capture_output=True,
            )
            seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1]


def ensure_file(path: Path, rows: int, customers: float) -> Path:
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_po.py"),
                str(rows),
                str(path),
                "--customers",
                str(customers),
            ],
            check=True,
        )
    return path


def bench_file(csv_path: Path, repeat: int, *, cli: bool) -> None:
    rows = count_rows(csv_path)
    print(f"{csv_path.name}: {rows:,} rows, best of {repeat}")
    base, first, again, rss = [], [], [], []
    for _ in range(repeat):  # interleaved, so that a noisy moment hits both sides
        base.append(measure(csv_path, "baseline")["seconds"])
        result = licensectl_import(csv_path)
        runs = result["runs"]
        first.append(runs[0]["seconds"])
        again.append(runs[1]["seconds"])
        rss.append(result["peak_rss_mib"])
    counts = runs[0]
    b, f, a = min(base), min(first), min(again)
    print(f"  raw baseline          {b:6.2f} s  {rows / b:>9,.0f} rows/s")
    print(
        f"  licensectl import     {f:6.2f} s  {rows / f:>9,.0f} rows/s   "
        f"created {counts['created']:,}, customers {counts['customers_created']:,}"
    )
    print(f"  re-import (unchanged) {a:6.2f} s  {rows / a:>9,.0f} rows/s")
    print(f"  import / baseline   = {f / b:.2f}  (budget 1.5)")
    print(f"  re-import / import  = {a / f:.2f}  (budget 1.0)")
    print(f"  peak RSS of the import process: {max(rss):.0f} MiB")
    if cli:
        cf, ca = cli_import(csv_path)
        print(f"  CLI end to end (start-up included): import {cf:.2f} s, re-import {ca:.2f} s")


def bench_rss(rows: int) -> None:
    name = "po-1m.csv" if rows == 1_000_000 else f"po-{rows}.csv"  # gen_po.py's README name
    path = ensure_file(OUT / name, rows, 0.2)
    start = time.perf_counter()
    result = licensectl_import(path, times=1)
    elapsed = time.perf_counter() - start
    run = result["runs"][0]
    print(
        f"{path.name}: {rows:,} rows imported in {run['seconds']:.1f} s "
        f"({elapsed:.1f} s with set-up), peak RSS {result['peak_rss_mib']:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss-rows", type=int, default=0, help="also import a file this long")
    parser.add_argument("--cli", action="store_true", help="also time the CLI end to end")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child_import(Path(args.child[0]), Path(args.child[1]), int(args.child[2]))
        return 0
    files = args.files or [
        ensure_file(OUT / "po-100k-nocust.csv", 100_000, 0.0),
        ensure_file(OUT / "po-100k.csv", 100_000, 0.2),
    ]
    for path in files:
        bench_file(path, args.repeat, cli=args.cli)
    if args.rss_rows:
        bench_rss(args.rss_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
