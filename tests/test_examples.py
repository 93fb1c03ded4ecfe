"""The examples/ scripts are documentation: they must run as written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import HttpTarget

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


@pytest.mark.skipif(shutil.which("licensectl") is None, reason="licensectl is not installed")
def test_offline_activation_example_runs_on_the_embedded_default(isolated_home: Path) -> None:
    out = subprocess.run(
        ["bash", str(ROOT / "examples" / "offline-activation.sh")],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Error" not in out.stderr
    assert "Verified: signed by portal key" in out.stderr
    server = json.loads(out.stdout[out.stdout.rindex("\n{") + 1 :])
    assert (server["capacity"], server["maintenance_devices"], server["covered"]) == (
        400,
        1000,
        True,
    )
    assert (isolated_home / "keys").is_dir()


@pytest.mark.skipif(shutil.which("licensectl") is None, reason="licensectl is not installed")
def test_ci_import_example_imports_once_and_keeps_its_summaries(
    isolated_home: Path, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    env = {**os.environ, "ARTIFACTS": str(artifacts)}
    script = str(ROOT / "examples" / "ci-import.sh")
    for created, unchanged in ((8, 0), (0, 8)):  # a second run changes nothing
        out = subprocess.run(["bash", script], capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        dry = json.loads((artifacts / "import-dry-run.json").read_text())
        summary = json.loads((artifacts / "import-summary.json").read_text())
        assert dry["dry_run"] is True and summary["dry_run"] is False
        assert (summary["created"], summary["unchanged"]) == (created, unchanged)
        assert (dry["created"], dry["unchanged"]) == (created, unchanged)
    assert summary["errors"] == []
    # a bad file fails the job with exit 7, its errors kept in the artifact
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "partner,purchase_order,po_line,type,devices\n"
        "Acme Integrators,PO-2026-0117,1,capacity,500\n"  # exists with 200 devices
        "Nobody Ltd,PO-1,1,core,1\n"
    )
    out = subprocess.run(
        ["bash", script, str(bad)], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 7
    rejected = json.loads((artifacts / "import-dry-run.json").read_text())
    assert [(e["row"], e["field"]) for e in rejected["errors"]] == [
        (2, "devices"),
        (2, "quantity"),
        (3, "partner"),
    ]
    assert "row 3, partner" in out.stderr


@pytest.mark.skipif(shutil.which("licensectl") is None, reason="licensectl is not installed")
def test_onboard_batch_example_onboards_a_project(isolated_home: Path) -> None:
    env = {**os.environ}
    subprocess.run(
        ["licensectl", "partner", "add", "Acme Integrators"], check=True, env=env, timeout=300
    )
    out = subprocess.run(
        ["licensectl", "batch", str(ROOT / "examples" / "onboard-batch.jsonl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["op"] for r in lines] == [
        "customer.add",
        "customer.email.add",
        "license.add",
        "license.add",
        "transfer",
        "transfer",
        "activate",
        "activate",
    ]
    assert all(r["ok"] for r in lines)
    project = lines[0]["result"]["customer_id"]
    shown = subprocess.run(
        ["licensectl", "-o", "json", "customer", "show", project],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    licenses = json.loads(shown.stdout)["licenses"]
    assert sorted((lic["type"], lic["quantity"], lic["status"]) for lic in licenses) == [
        ("capacity", 2, "activated"),
        ("maintenance", 1, "activated"),
    ]


@pytest.mark.skipif(shutil.which("licensectl") is None, reason="licensectl is not installed")
def test_partner_remote_example_runs_against_a_server(
    isolated_home: Path, tmp_path: Path, http_target: HttpTarget
) -> None:
    """A partner's remote session: profile, login (no keyring in a child process, so the
    script falls back to LICENSECTL_TOKEN), a customer, a transfer, an export."""
    from conftest import Cli

    store = http_target.serve(tmp_path / "served.db")
    try:
        admin = Cli(db=str(tmp_path / "served.db"))
        admin.ok("partner", "add", "Acme Integrators")
        admin.ok("license", "add", "--po", "PO-1", "--type", "capacity", "--devices", "200",
                 "--quantity", "3")  # fmt: skip
        partner = admin.ok(
            "token", "create", "--role", "partner", "--partner", "Acme Integrators"
        ).stdout.strip()
        out_file = tmp_path / "held.jsonl"
        env = {
            **os.environ,
            "PORTAL_URL": http_target.base,
            "PORTAL_TOKEN": partner,
            "OUT": str(out_file),
        }
        out = subprocess.run(
            ["bash", str(ROOT / "examples" / "partner-remote.sh")],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert "using LICENSECTL_TOKEN" in out.stderr and partner not in out.stdout + out.stderr
        held = [json.loads(line) for line in out_file.read_text().splitlines()]
        assert [(lic["quantity"], lic["customer"]) for lic in held] == [(1, "P-Remote Site")]
        profiles = admin.json("profile", "list")
        assert [(p["name"], p["kind"], p["url"]) for p in profiles] == [
            ("portal", "remote", http_target.base)
        ]
    finally:
        store.dispose()
