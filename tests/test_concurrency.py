"""Several real processes racing on one license: exactly one may win.

Each racer imports licensectl first, then waits at a file gate, so all of them hit
the store within milliseconds of each other rather than one import-time apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Cli

RACERS = 6

DRIVER = r"""
import os, sys, time
from licensectl.cli.app import main
gate = sys.argv[1]
while not os.path.exists(gate):
    time.sleep(0.001)
sys.exit(main(sys.argv[2:]))
"""


def race(tmp_path: Path, argv_per_racer: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    gate = tmp_path / "go"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(driver), str(gate), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argv_per_racer
    ]
    time.sleep(2.5)  # let every racer finish importing and reach the gate
    gate.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


@pytest.mark.local_only  # races or kills 'licensectl --db' child processes on the store itself
@pytest.mark.slow
def test_racing_transfers_of_one_license(
    cli: Cli, onboarded: dict[str, str], tmp_path: Path
) -> None:
    lic = onboarded["license"]
    argv = ["--db", str(cli.db), "transfer", lic, "--to", "P2022-0208", "--yes", "--quantity", "2"]
    results = race(tmp_path, [argv] * RACERS)
    codes = sorted(r.returncode for r in results)
    assert codes == [0] + [4] * (RACERS - 1), [(r.returncode, r.stderr) for r in results]
    for r in results:
        if r.returncode == 4:
            assert r.stderr.startswith("Error: ") and "Traceback" not in r.stderr
    shown = cli.json("license", "show", lic)
    assert shown["status"] == "transferred"
    assert len(shown["successors"]) == 2  # one moved part and one remainder, once
    everything = cli.json("license", "list", "--all")
    assert sorted(r["quantity"] for r in everything if r["parent_id"] == lic) == [2, 3]
    events = cli.json("license", "history", lic)["events"]
    assert [e["action"] for e in events].count("license.transfer") == 1


@pytest.mark.local_only  # races or kills 'licensectl --db' child processes on the store itself
@pytest.mark.slow
def test_racing_license_adds_of_one_po_line(cli: Cli, tmp_path: Path) -> None:
    cli.ok("partner", "add", "Acme")
    argv = [
        "--db",
        str(cli.db),
        "-o",
        "json",
        "license",
        "add",
        "--po",
        "PO-RACE",
        "--type",
        "core",
        "--devices",
        "1",
    ]
    results = race(tmp_path, [argv] * 4)
    assert sorted(r.returncode for r in results) == [0, 4, 4, 4], [r.stderr for r in results]
    winners = [json.loads(r.stdout) for r in results if r.returncode == 0]
    assert [lic["license_id"] for lic in cli.json("license", "list")] == [winners[0]["license_id"]]
