"""The console script holds the cyclic garbage collector off while a command starts, and
puts it back before the work proper (licensectl/gcpause.py; bench/startup.py measures
what it saves)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from licensectl import gcpause
from licensectl.cli.entry import main
from licensectl.remote.client import RemoteBackend, RemoteSettings

#: Runs the console script's `main()` as `licensectl ARGS...` and reports what the
#: collector looked like when the work proper began, and after the command.
SCRIPT = """
import gc, json, sys
from licensectl import gcpause

seen = {}
original = gcpause.release

def release():
    if "before" not in seen:
        seen["before"] = gc.get_threshold()[0]
        seen["caller"] = sys._getframe(1).f_code.co_name
        original()
        seen["after"] = gc.get_threshold()[0]
        seen["frozen"] = gc.get_freeze_count()
    original()

gcpause.release = release
sys.argv = ["licensectl", *sys.argv[1:]]
from licensectl.cli.entry import main
code = main()
seen["end"] = gc.get_threshold()[0]
sys.stderr.write("SEEN " + json.dumps(seen) + "\\n")
raise SystemExit(code)
"""


def _console(
    args: list[str], home: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {
        **os.environ,
        "HOME": str(home),
        "LICENSECTL_CONFIG_DIR": str(home / "config"),
        "LICENSECTL_DATA_DIR": str(home / "data"),
        "LICENSECTL_KEY_DIR": str(home / "keys"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "NO_COLOR": "1",
    }
    env.pop("LICENSECTL_URL", None)
    env.pop("LICENSECTL_DB", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, env=env
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("SEEN "))
    return done, json.loads(line[5:])


@pytest.fixture
def untouched_collector() -> Iterator[None]:
    """Whatever a test does to the collector in this process is undone."""
    thresholds = gc.get_threshold()
    yield
    gcpause._saved.clear()
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_a_store_command_starts_with_the_collector_held_and_works_with_it_back(
    tmp_path: Path,
) -> None:
    store = str(tmp_path / "store.db")
    added, seen = _console(["--db", store, "partner", "add", "Acme"], tmp_path)
    assert added.returncode == 0, added.stderr
    listed, seen = _console(["-o", "json", "--db", store, "partner", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [p["name"] for p in json.loads(listed.stdout)] == ["Acme"]
    default = gc.get_threshold()[0]
    # held while the command started, released by the store operation's look-up ...
    assert seen["before"] == gcpause.START_UP_THRESHOLD
    assert seen["caller"] == "part"
    # ... which runs with Python's thresholds, start-up's objects frozen
    assert seen["after"] == default
    assert seen["frozen"] > 10_000
    assert seen["end"] == default


def test_a_command_without_a_store_gets_the_collector_back_at_the_end(tmp_path: Path) -> None:
    done, seen = _console(["--help"], tmp_path)
    assert done.returncode == 0 and "Usage" in done.stdout
    assert seen["before"] == gcpause.START_UP_THRESHOLD
    assert seen["caller"] == "finish"
    assert seen["end"] == gc.get_threshold()[0]


def test_a_failing_command_still_gets_the_collector_back(tmp_path: Path) -> None:
    done, seen = _console(["--db", str(tmp_path / "none" / "x.db"), "partner", "list"], tmp_path)
    assert done.returncode != 0 and "Error:" in done.stderr
    assert "Traceback" not in done.stderr
    assert seen["end"] == gc.get_threshold()[0]


def test_main_called_from_python_leaves_the_collector_alone(
    tmp_path: Path, untouched_collector: None, capsys: pytest.CaptureFixture[str]
) -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert main(["--db", str(tmp_path / "s.db"), "partner", "add", "Acme"]) == 0
    assert main(["--db", str(tmp_path / "s.db"), "partner", "list"]) == 0
    assert "Acme" in capsys.readouterr().out
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen


def test_release_without_hold_changes_nothing(untouched_collector: None) -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    gcpause.release()
    gcpause.release()
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen


def test_hold_twice_then_release_once_restores_pythons_thresholds(
    untouched_collector: None,
) -> None:
    thresholds = gc.get_threshold()
    gcpause.hold()
    gcpause.hold()
    assert gc.get_threshold()[0] == gcpause.START_UP_THRESHOLD
    assert gc.get_threshold()[1:] == thresholds[1:]
    gcpause.release()
    assert gc.get_threshold() == thresholds


def test_the_remote_client_releases_the_collector(untouched_collector: None) -> None:
    thresholds = gc.get_threshold()
    gcpause.hold()
    backend = RemoteBackend(RemoteSettings(url="http://127.0.0.1:9"))
    try:
        assert gc.get_threshold() == thresholds
    finally:
        backend.close()


def test_the_console_script_closes_the_store_before_it_exits(tmp_path: Path) -> None:
    """Nothing relies on the shutdown collection (frozen by `finish`): a write leaves
    no write-ahead log beside the SQLite store, as a cleanly closed store does not."""
    store = tmp_path / "store.db"
    done, _ = _console(["--db", str(store), "partner", "add", "Acme"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("store")) == ["store.db"]
