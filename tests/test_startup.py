"""What a process imports decides how long a user waits for it (bench/startup.py measures
the time; these pin the imports that made it slip)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _modules(argv: list[str], env_dir: Path) -> set[str]:
    code = (
        "import sys\n"
        "from licensectl.cli.app import main\n"
        f"main({argv!r})\n"
        "sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(env_dir),
        "LICENSECTL_CONFIG_DIR": str(env_dir / "config"),
        "LICENSECTL_DATA_DIR": str(env_dir / "data"),
        "LICENSECTL_KEY_DIR": str(env_dir / "keys"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    line = next(x for x in out.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_help_needs_neither_pydantic_nor_the_database(tmp_path: Path) -> None:
    loaded = _modules(["--help"], tmp_path)
    assert not {m for m in loaded if m.split(".")[0] in ("pydantic", "sqlalchemy", "keyring")}


def test_a_sqlite_store_command_does_not_load_postgresql(tmp_path: Path) -> None:
    store = str(tmp_path / "store.db")
    _modules(["--db", store, "partner", "add", "Acme"], tmp_path)
    loaded = _modules(["--db", store, "partner", "list"], tmp_path)
    assert "sqlalchemy" in loaded  # it is a store command
    assert not {m for m in loaded if m.startswith(("sqlalchemy.dialects.postgresql", "psycopg"))}
    # nor the offline activation formats and keys, which it does not use
    assert not {"licensectl.activation", "licensectl.keys", "cryptography"} & loaded
    # nor Alembic: the store is at the latest revision, which one query tells
    assert not {m for m in loaded if m.split(".")[0] == "alembic"}
