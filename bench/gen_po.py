"""Write a synthetic purchase-order import file of N rows (CSV, or JSONL), streaming.

    python bench/gen_po.py 100000 bench/out/po-100k.csv
    python bench/gen_po.py 1000000 bench/out/po-1m.csv --customers 0.2
    python bench/gen_po.py 100000 bench/out/po-100k.jsonl --format jsonl

Every row is valid and every natural key (partner, purchase_order, po_line) is unique, so
the file imports cleanly; the same seed gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from licensectl.importer import COLUMNS  # the purchase-order file's columns, in one place

PARTNERS = [
    "Acme Building Automation",
    "Nordlicht Systemintegration GmbH",
    "Brightwater Controls",
    "Kestrel IoT Services",
    "Lumen & Lattice Ltd",
    "Pacific Facility Networks",
    "Rheinland Gebäudetechnik",
    "Sunbelt Smart Spaces",
    "Tandem Integrators BV",
    "Yarra Edge Solutions",
]
CAPACITY_DEVICES = [25, 100, 200, 500, 1000, 2500]
MAINTENANCE_DEVICES = [100, 200, 500, 1000]


def iter_rows(rows: int, *, customer_ratio: float, seed: int) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    po_number = 0
    produced = 0
    while produced < rows:
        po_number += 1
        partner = rng.choice(PARTNERS)
        purchase_order = f"PO-{2024 + po_number % 3}-{po_number:07d}"
        # A purchase order has 1-5 lines; each line is one license.
        for po_line in range(1, rng.randint(1, 5) + 1):
            if produced == rows:
                break
            kind = rng.random()
            if kind < 0.6:
                license_type, devices, term = "capacity", rng.choice(CAPACITY_DEVICES), None
            elif kind < 0.9:
                license_type, devices = "maintenance", rng.choice(MAINTENANCE_DEVICES)
                term = rng.choice((12, 36))
            else:
                license_type, devices, term = "core", 1, None
            customer = None
            if rng.random() < customer_ratio:
                customer = f"P{2022 + rng.randint(0, 4)}-{rng.randint(1, 400):04d}"
            yield {
                "partner": partner,
                "purchase_order": purchase_order,
                "po_line": po_line,
                "type": license_type,
                "devices": devices,
                "quantity": rng.choice((1, 1, 1, 2, 5, 10)),
                "term_months": term,
                "customer": customer,
            }
            produced += 1


def write(path: Path, rows: int, *, fmt: str, customer_ratio: float, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    records = iter_rows(rows, customer_ratio=customer_ratio, seed=seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "jsonl":
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for record in records:
            writer.writerow(["" if record[c] is None else record[c] for c in COLUMNS])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--format", choices=("csv", "jsonl"), default=None)
    parser.add_argument(
        "--customers",
        type=float,
        default=0.2,
        help="share of rows that name a customer (0 = partner inventory only); default 0.2",
    )
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    fmt = args.format or ("jsonl" if args.path.suffix in (".jsonl", ".ndjson") else "csv")
    write(args.path, args.rows, fmt=fmt, customer_ratio=args.customers, seed=args.seed)
    print(f"wrote {args.rows} rows to {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
