"""The examples/ scripts are documentation: they must run as written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("licensectl") is None, reason="licensectl is not installed")
def test_onboard_example_runs_twice_on_the_embedded_default(isolated_home: Path) -> None:
    env = {**os.environ}
    for _ in range(2):  # a second run reuses the partner and still succeeds
        out = subprocess.run(
            ["bash", str(ROOT / "examples" / "onboard.sh")],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert "Error" not in out.stderr
    assert (isolated_home / "data" / "licensectl.db").exists()
    last_json = out.stdout[out.stdout.rindex("\n[") + 1 :]
    licenses = json.loads(last_json)
    assert sorted(lic["type"] for lic in licenses) == ["capacity", "maintenance"]
    assert [lic["quantity"] for lic in licenses if lic["type"] == "capacity"] == [2]
