"""Where a SQLite import's time goes: CPU time by phase and by statement, in the process.

    python bench/import_phases.py bench/out/scale-100000.csv
    python bench/import_phases.py bench/out/scale-1000000.csv --cache-kib 16384

Makes a fresh store holding the file's partners (not timed), then runs `licensectl
--quiet import FILE` in this interpreter with the import's methods wrapped and every
statement timed (SQLAlchemy's cursor events), and prints the CPU seconds
(`time.process_time`) of each phase and of the costliest statements (with their wall
seconds and how often they ran). The wrapping costs a little; compare runs of this script
with each other, and whole processes with `import_pairs.py`. `--cache-kib` overrides the
import's page cache (`importing.IMPORT_CACHE_KIB`) for an A/B of that alone.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from baseline import partners_in

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--cache-kib", type=int, help="the import's page cache, KiB")
    parser.add_argument("--statements", type=int, default=20, help="how many to print")
    args = parser.parse_args(argv)

    import os

    from scale import env as isolated

    with tempfile.TemporaryDirectory(dir=HERE / "out") as tmp:
        environment = isolated(Path(tmp))
        os.environ.update(environment)
        db = str(Path(tmp) / "phases.db")
        for name in partners_in(args.file):
            subprocess.run(
                [sys.executable, "-m", "licensectl", "--db", db, "partner", "add", name],
                check=True,
                capture_output=True,
                env=environment,
            )
        phases, statements = run(db, args.file.resolve(), args.cache_kib)
    for name, seconds in phases.items():
        print(f"{seconds:8.3f} s  {name}")
    print("statements (CPU s, wall s, count):")
    ranked = sorted(statements.items(), key=lambda item: -item[1][0])
    for text, (cpu, wall, count) in ranked[: args.statements]:
        print(f"{cpu:8.3f} {wall:8.3f} {count:6d}  {text}")
    return 0


def run(
    db: str, csv_path: Path, cache_kib: int | None
) -> tuple[dict[str, float], dict[str, list[float]]]:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from licensectl.cli.entry import main as licensectl
    from licensectl.service import importing

    phases: dict[str, float] = defaultdict(float)
    statements: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn: Any, *_: Any) -> None:
        conn.info["licensectl_bench_t0"] = (time.process_time(), time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, _cursor: Any, stmt: str, *_: Any) -> None:
        cpu, wall = conn.info.pop("licensectl_bench_t0")
        text = " ".join(stmt.split())
        marker = "SELECT ?, ?, '"
        if text.startswith("INSERT INTO event (") and marker in text:
            text = "events: " + text[text.index(marker) + len(marker) :].split("'")[0]
        entry = statements[text[:90]]
        entry[0] += time.process_time() - cpu
        entry[1] += time.perf_counter() - wall
        entry[2] += 1

    def timed(owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            start = time.process_time()
            try:
                return original(*a, **k)
            finally:
                phases[label] += time.process_time() - start

        setattr(owner, name, wrapper)

    imp = importing._Import
    for name, label in (
        ("_existing", "batch look-ups (scratch keys + join)"),
        ("_customers", "customers (look-ups, new rows)"),
        ("_write", "writing licenses (customers included)"),
        ("_license_events", "events (all, hashed)"),
    ):
        timed(imp, name, label)
    timed(importing._SqlitePauses, "resume", "paused indexes rebuilt, FTS filled")
    original_run = imp.run

    def run_parsed(self: Any, rows: Any) -> Any:
        def parsed() -> Any:
            iterator = iter(rows)
            while True:
                start = time.process_time()
                try:
                    item = next(iterator)
                except StopIteration:
                    phases["parsing and validating"] += time.process_time() - start
                    return
                phases["parsing and validating"] += time.process_time() - start
                yield item

        start = time.process_time()
        try:
            return original_run(self, parsed())
        finally:
            phases["the import's transaction, before COMMIT"] += time.process_time() - start

    imp.run = run_parsed  # type: ignore[method-assign]
    if cache_kib:
        importing.IMPORT_CACHE_KIB = cache_kib  # type: ignore[misc]
    start = time.process_time()
    code = licensectl(["--db", db, "--quiet", "import", str(csv_path)])
    # Beyond the transaction: opening the store, the COMMIT (WAL write-back and checkpoint).
    phases["the command, start-up excluded"] = time.process_time() - start
    if code:
        raise SystemExit(f"import failed ({code})")
    return dict(phases), dict(statements)


if __name__ == "__main__":
    sys.exit(main())
