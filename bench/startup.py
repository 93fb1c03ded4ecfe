"""Start-up cost of whole licensectl processes, against baselines measured in the same run.

What a user waits for is a whole process, interpreter start-up included. Each pair runs
licensectl and its baseline one after the other, alternating which goes first, many
times; the figure is the median of the per-pair ratios, so a noisy neighbour slows both
sides of a pair rather than skewing the result. The floors (issue 7, item 21):

- `licensectl --help` ≤ 1.3 × a minimal two-command Typer app's `--help`;
- a device-side command (`smartserver inspect`) against the same Typer baseline (reported);
- a store command (`partner list` on a SQLite store) ≤ 1.3 × `python -c 'import typer,
  sqlmodel'`, the libraries any such command must load; and, reported, against the same
  imports made with the collector held off and frozen before shutdown, as licensectl's
  console script does (licensectl/gcpause.py): what licensectl's own code costs.

    python bench/startup.py [--pairs 21]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL_TYPER = """
import typer
app = typer.Typer()
@app.command()
def first(name: str = "x") -> None:
    print(name)
@app.command()
def second(count: int = 1) -> None:
    print(count)
app()
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def paired(
    a: list[str], b: list[str], env: dict[str, str], pairs: int
) -> tuple[float, float, float]:
    """Median seconds of a and b, and the median of the per-pair ratios a/b."""
    ta, tb, ratios = [], [], []
    timed(a, env), timed(b, env)  # warm the page cache and .pyc files
    for i in range(pairs):
        if i % 2:
            y, x = timed(b, env), timed(a, env)
        else:
            x, y = timed(a, env), timed(b, env)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def timed_cpu(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds of one whole process, and the CPU seconds it used (user +
    system), which the other processes of a loaded machine disturb less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(argv, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired_cpu(
    a: list[str], b: list[str], env: dict[str, str], pairs: int
) -> tuple[float, float, float, float]:
    """As `paired`, plus the median of the per-pair ratios of CPU time."""
    ta, tb, ratios, cpu_ratios = [], [], [], []
    timed(a, env), timed(b, env)  # warm the page cache and .pyc files
    for i in range(pairs):
        if i % 2:
            (y, cy), (x, cx) = timed_cpu(b, env), timed_cpu(a, env)
        else:
            (x, cx), (y, cy) = timed_cpu(a, env), timed_cpu(b, env)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
        cpu_ratios.append(cx / cy)
    return (
        statistics.median(ta),
        statistics.median(tb),
        statistics.median(ratios),
        statistics.median(cpu_ratios),
    )


def isolated_env(home: Path) -> dict[str, str]:
    """The environment for timed licensectl processes: config, data and keys under
    `home`, no colour, and bytecode as an installed package has it (pip compiles on
    install): with PYTHONDONTWRITEBYTECODE set, a warm-up could not write licensectl's
    .pyc files and every run compiled its sources again, while the libraries ran from
    the .pyc files pip wrote."""
    env = {
        **os.environ,
        "LICENSECTL_CONFIG_DIR": str(home / "config"),
        "LICENSECTL_DATA_DIR": str(home / "data"),
        "LICENSECTL_KEY_DIR": str(home / "keys"),
        "NO_COLOR": "1",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=21)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = isolated_env(home)
        minimal = home / "minimal.py"
        minimal.write_text(MINIMAL_TYPER)
        store = str(home / "store.db")
        lctl = [py, "-m", "licensectl"]
        subprocess.run(
            [*lctl, "--db", store, "partner", "add", "Acme"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        request = home / "request.json"
        subprocess.run(
            [*lctl, "smartserver", "request", "--install-code", "SS-1", "--license",
             "b1e52546-f2db-4053-b2dd-2ab2fa7732d2", "--out", str(request)],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        cases = [
            ("licensectl --help", [*lctl, "--help"], [py, str(minimal), "--help"], 1.3),
            (
                "smartserver inspect",
                [*lctl, "smartserver", "inspect", str(request)],
                [py, str(minimal), "--help"],
                None,
            ),
            (
                "partner list (SQLite)",
                [*lctl, "--db", store, "partner", "list"],
                [py, "-c", "import typer, sqlmodel"],
                1.3,
            ),
            # licensectl spares its start-up objects the collector's walks, the last one at
            # shutdown included (licensectl/gcpause.py); this baseline does the same, so
            # the ratio shows what licensectl's own code costs beyond the libraries.
            (
                "partner list, frozen baseline",
                [*lctl, "--db", store, "partner", "list"],
                [py, "-c", "import gc; gc.disable(); import typer, sqlmodel; gc.freeze()"],
                None,
            ),
        ]
        # ratio: of wall-clock times (the floors); cpu: of the CPU time each process used
        print(f"{'command':28} {'licensectl':>11} {'baseline':>9} {'ratio':>6} {'cpu':>5}  floor")
        for name, ours, base, floor in cases:
            a, b, ratio, cpu = paired_cpu(ours, base, env, args.pairs)
            verdict = "" if floor is None else ("ok" if ratio <= floor else f"OVER {floor}")
            print(
                f"{name:28} {a * 1000:9.0f}ms {b * 1000:7.0f}ms {ratio:6.2f} {cpu:5.2f}  {verdict}"
            )


if __name__ == "__main__":
    main()
