"""`licensectl db check` as whole processes, paired and alternating between two checkouts.

    python bench/check_pairs.py STORE ROUNDS OLD_TREE NEW_TREE [PYTHON]

Each round runs `python -m licensectl --db STORE -o json db check` once with
`PYTHONPATH=OLD_TREE` and once with `PYTHONPATH=NEW_TREE` (the order alternates), and
prints each child's wall time, user and system CPU (from `wait4`), peak memory and the
load average before and after; then median, min and max of each. The store is only read
(a WAL and shared-memory file appear beside it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    db, rounds = argv[0], int(argv[1])
    trees = {"old": argv[2], "new": argv[3]}
    python = argv[4] if len(argv) > 4 else sys.executable
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
    for n in range(rounds):
        order = list(trees) if n % 2 == 0 else list(trees)[::-1]
        for name in order:
            env = {**os.environ, "PYTHONPATH": trees[name]}
            load = os.getloadavg()[0]
            start = time.perf_counter()
            child = subprocess.Popen(
                [python, "-m", "licensectl", "--db", db, "-o", "json", "db", "check"],
                env=env,
                cwd=trees[name],
                stdout=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            runs[name].append((wall, usage.ru_utime, usage.ru_stime))
            print(
                f"{name} round {n} exit {os.waitstatus_to_exitcode(status)} wall {wall:.1f} "
                f"user {usage.ru_utime:.1f} sys {usage.ru_stime:.1f} "
                f"cpu {usage.ru_utime + usage.ru_stime:.1f} rss {usage.ru_maxrss / 1024:.0f} MB "
                f"load {load:.1f}->{os.getloadavg()[0]:.1f}",
                flush=True,
            )
    for name, figures in runs.items():
        columns = {
            "wall": [f[0] for f in figures],
            "cpu": [f[1] + f[2] for f in figures],
        }
        for what, values in columns.items():
            print(
                f"{name} {what}: median {statistics.median(values):.1f} "
                f"min {min(values):.1f} max {max(values):.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
