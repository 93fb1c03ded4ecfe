"""1,000 transfers through `licensectl batch` against one `licensectl transfer` process each.

    python bench/batch_bench.py [--transfers 1000] [--singles 50] [--db postgresql+psycopg://…]

Both sides run the installed `licensectl` end to end (start-up included), on one fresh
store (a temporary SQLite file unless --db names an empty database). The one-process-per-
transfer time is measured over `--singles` invocations and extrapolated. Issue 4 asks
for a ratio above 20.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def licensectl(db: str, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["licensectl", "--db", db, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def prepare(db: str, count: int) -> list[str]:
    """A partner, a customer, and COUNT licenses in the partner's inventory."""
    licensectl(db, "partner", "add", "Bench Partner")
    licensectl(db, "customer", "add", "P-Bench")
    rows = "".join(f"Bench Partner,PO-B{n},1,capacity,200,2,,\n" for n in range(count))
    licensectl(
        db,
        "--quiet",
        "import",
        "-",
        stdin="partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n" + rows,
    )
    listed = json.loads(licensectl(db, "-o", "json", "license", "list", "--all"))
    return [lic["license_id"] for lic in listed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=50)
    parser.add_argument("--db", help="an empty store to use instead of a temporary SQLite file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "batch-bench.db")
        ids = prepare(db, args.transfers + args.singles)
        batch_ids, single_ids = ids[: args.transfers], ids[args.transfers :]

        lines = "".join(
            json.dumps({"op": "transfer", "license_id": lid, "to": "P-Bench"}) + "\n"
            for lid in batch_ids
        )
        start = time.perf_counter()
        out = licensectl(db, "--quiet", "batch", "-", stdin=lines)
        batch_seconds = time.perf_counter() - start
        results = [json.loads(line) for line in out.splitlines()]
        assert len(results) == args.transfers and all(r["ok"] for r in results)

        singles = []
        for lid in single_ids:
            start = time.perf_counter()
            licensectl(db, "--quiet", "transfer", lid, "--to", "P-Bench", "--yes")
            singles.append(time.perf_counter() - start)

    per_process = statistics.mean(singles)
    extrapolated = per_process * args.transfers
    print(f"{args.transfers:,} transfers, store {'--db' if args.db else 'SQLite (temporary)'}")
    print(
        f"  batch, one process:        {batch_seconds:7.2f} s  "
        f"({batch_seconds / args.transfers * 1000:.1f} ms a transfer)"
    )
    print(
        f"  one process per transfer:  {extrapolated:7.2f} s  "
        f"(mean {per_process * 1000:.0f} ms, median {statistics.median(singles) * 1000:.0f} ms "
        f"over {args.singles} invocations, extrapolated)"
    )
    print(f"  ratio: {extrapolated / batch_seconds:.1f}x  (issue 4: above 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
