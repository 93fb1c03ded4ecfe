"""`login` against a real Secret Service: Debian's gnome-keyring in a private D-Bus
session, reached through keyring's SecretService backend (SecretStorage).

`.ci/run` installs gnome-keyring and dbus, so in CI (CI set) this test always runs; on
a machine without them it is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, HttpTarget

NEEDED = ("dbus-run-session", "gnome-keyring-daemon")
MISSING = [name for name in NEEDED if shutil.which(name) is None]

pytestmark = pytest.mark.skipif(
    bool(MISSING) and not os.environ.get("CI"),
    reason=f"needs {', '.join(MISSING)} (apt-get install gnome-keyring dbus); CI runs it",
)

#: Inside the D-Bus session: start and unlock the keyring daemon, then run the steps.
SESSION = r"""
set -e
printf '%s' "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$PYTHON" -m licensectl --profile portal login --with-token < "$TOKEN_FILE"
"$PYTHON" -m licensectl --profile portal -o jsonl whoami
"$PYTHON" -c "$PEEK" kept
"$PYTHON" -m licensectl --profile portal logout
"$PYTHON" -c "$PEEK" after
"""

#: What the keyring holds for the profile, as the SecretService backend reads it.
PEEK = (
    "import json, sys, keyring\n"
    "print(json.dumps({sys.argv[1]: keyring.get_password('licensectl', 'portal'),\n"
    "                  'backend': type(keyring.get_keyring()).__module__}))\n"
)


@pytest.fixture
def target(http_target: HttpTarget, tmp_path: Path) -> Iterator[HttpTarget]:
    store = http_target.serve(tmp_path / "served.db")
    try:
        yield http_target
    finally:
        store.dispose()


def test_login_keeps_the_token_in_gnome_keyring(
    target: HttpTarget, tmp_path: Path, isolated_home: Path
) -> None:
    assert not MISSING, f"CI must have {', '.join(MISSING)}: .ci/run installs them"
    Cli(db=None).ok("profile", "add", "portal", "--url", target.base)
    token_file = tmp_path / "token"
    token_file.write_text(target.token + "\n")
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "TOKEN_FILE": str(token_file),
        "KEYRING_PASSWORD": "test-only-password",
        "PEEK": PEEK,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
    }
    env.pop("LICENSECTL_TOKEN", None)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", SESSION],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    who, kept, after = lines[0], lines[1], lines[2]
    assert who["role"] == "admin" and who["profile"] == "portal"
    assert kept == {"kept": target.token, "backend": "keyring.backends.SecretService"}
    assert after == {"after": None, "backend": "keyring.backends.SecretService"}
    assert target.token not in result.stdout.replace(json.dumps(kept), "") + result.stderr
