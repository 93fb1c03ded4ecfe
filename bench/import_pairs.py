"""Whole-process `licensectl import` against the raw baseline, in alternating rounds.

    python bench/import_pairs.py bench/out/po-100k-nc.csv --rounds 5
    python bench/import_pairs.py FILE --other /path/to/older/checkout   # also an older tree
    python bench/import_pairs.py bench/out/scale-100000.csv --pg --rounds 3   # PostgreSQL

Each round runs, in rotating order, the raw baseline (`baseline.run_baseline` in a fresh
interpreter: `csv.DictReader` + one `sqlite3.executemany`) and `licensectl --quiet import
FILE` (start-up included), each into a fresh SQLite store whose partners were added
beforehand, outside the timing (those runs also write licensectl's bytecode, which the
timed run then uses, as an installed package would). With `--other DIR`, a third
process runs the import with `PYTHONPATH=DIR` (an older `licensectl` package there) for
a before/after in the same run.

With `--pg`, both run against PostgreSQL (LICENSECTL_BENCH_PG_URL, as `scale.py`): the
raw baseline is `scale.raw_copy` (psycopg `COPY` of the file's rows into a license table
with licensectl's columns and main indexes) in a fresh interpreter, and the import goes
into a fresh database made a store with the file's partners beforehand; each database is
dropped after its run. PostgreSQL's server CPU is not in a child's `wait4` figures: the
CPU columns are the client processes' alone.

Printed: the median wall-clock and the median CPU time (user + system of the process,
from `wait4`) of each, its largest peak RSS, and the median, min and max of the
per-round ratios. On a machine shared with
other work the wall-clock ratio carries the others' load; CPU time is steadier.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import partners_in, prepare_store

HERE = Path(__file__).resolve().parent
#: PostgreSQL databases this bench makes (and drops) are named with this prefix.
PG_PREFIX = os.environ.get("LICENSECTL_BENCH_PG_PREFIX", "import_pairs")


def timed(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, float, float]:
    """Wall-clock and CPU seconds, and peak RSS (MiB), of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KiB on Linux


def raw(csv_path: Path, tmp: Path) -> tuple[float, float, float]:
    db = tmp / "raw.db"
    prepare_store(csv_path, db)
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); from baseline import run_baseline; "
        f"run_baseline({str(csv_path)!r}, {str(db)!r})"
    )
    return timed([sys.executable, "-c", code])


def ours(csv_path: Path, tmp: Path, pythonpath: str | None) -> tuple[float, float, float]:
    from scale import env as isolated

    env = isolated(tmp)
    # Bytecode as an installed package has it (pip compiles on install): with
    # PYTHONDONTWRITEBYTECODE set, every run compiled licensectl's sources again while
    # the libraries ran from pip's .pyc files (as bench/startup.py does; the partner
    # commands below write them before the timed run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    db = str(tmp / "ours.db")
    cmd = [sys.executable, "-m", "licensectl", "--db", db]
    # Run from the store's directory: `-m` puts the working directory first on sys.path.
    for name in partners_in(csv_path):  # the store exists before the timing, as the raw one
        subprocess.run(
            [*cmd, "partner", "add", name], check=True, capture_output=True, env=env, cwd=tmp
        )
    return timed([*cmd, "--quiet", "import", str(csv_path.resolve())], env, tmp)


def raw_pg(csv_path: Path, _tmp: Path) -> tuple[float, float, float]:
    from scale import pg_create, pg_drop

    db = pg_create(f"{PG_PREFIX}_raw")
    try:
        code = (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); from scale import raw_copy; "
            f"raw_copy({db!r}, __import__('pathlib').Path({str(csv_path)!r}))"
        )
        return timed([sys.executable, "-c", code])
    finally:
        pg_drop(db)


def ours_pg(csv_path: Path, tmp: Path, pythonpath: str | None) -> tuple[float, float, float]:
    from scale import add_partners, env, pg_create, pg_drop

    db = pg_create(f"{PG_PREFIX}_ours")
    try:
        add_partners(db)  # made a store with the partners before the timing
        environment = env(tmp)
        if pythonpath:
            environment["PYTHONPATH"] = pythonpath
        cmd = [sys.executable, "-m", "licensectl", "--db", db]
        return timed([*cmd, "--quiet", "import", str(csv_path.resolve())], environment, tmp)
    finally:
        pg_drop(db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--other", help="an older checkout's directory holding `licensectl`")
    parser.add_argument("--dir", type=Path, default=HERE / "out", help="where the stores go")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL: raw COPY against import")
    args = parser.parse_args(argv)
    kinds = ["raw", "import"] + (["other"] if args.other else [])
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in kinds}
    for n in range(args.rounds):
        for kind in kinds[n % len(kinds) :] + kinds[: n % len(kinds)]:
            with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
                if kind == "raw":
                    results[kind].append((raw_pg if args.pg else raw)(args.file, Path(tmp)))
                else:
                    path = args.other if kind == "other" else None
                    run_ours = ours_pg if args.pg else ours
                    results[kind].append(run_ours(args.file, Path(tmp), path))
        print(f"round {n + 1}: " + ", ".join(
            f"{k} {v[-1][0]:.2f} s ({v[-1][1]:.2f} s CPU)" for k, v in results.items()
        ), flush=True)  # fmt: skip
    print(f"{args.file.name}, {args.rounds} rounds, medians:")
    for kind in kinds:
        wall = statistics.median(w for w, _, _ in results[kind])
        cpu = statistics.median(c for _, c, _ in results[kind])
        rss = max(r for _, _, r in results[kind])
        line = f"  {kind:<7} wall {wall:7.2f} s   CPU {cpu:7.2f} s   peak RSS {rss:5.0f} MiB"
        if kind != "raw":
            pairs = list(zip(results[kind], results["raw"], strict=True))
            for what, at in (("wall", 0), ("CPU", 1)):
                ratios = [a[at] / b[at] for a, b in pairs]
                line += (
                    f"\n          / raw, {what}: median {statistics.median(ratios):.2f}x"
                    f" (min {min(ratios):.2f}x, max {max(ratios):.2f}x)"
                )
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
