"""What a process imports decides how long a user waits for it (bench/startup.py measures
the time; these pin the imports that made it slip)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
import typer.main
from typer.testing import CliRunner


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


# --- the root builds only what a command line names -----------------------------------

#: Counts the commands Typer builds (each one's parameters from its function's signature).
_COUNTING = (
    "import sys, typer.main\n"
    "built = []\n"
    "_real = typer.main.get_command_from_info\n"
    "def counting(command_info, **kw):\n"
    "    built.append(command_info.name or command_info.callback.__name__)\n"
    "    return _real(command_info=command_info, **kw)\n"
    "typer.main.get_command_from_info = counting\n"
    "from licensectl.cli.app import main\n"
    "try:\n"
    "    code = main({argv!r})\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "sys.stderr.write(f'CODE {{code}}\\n')\n"
    "sys.stderr.write('BUILT ' + ' '.join(sorted(built)) + '\\n')\n"
    "sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
)

#: The modules of the root's commands and groups.
_COMMAND_MODULES = {
    "licensectl.cli." + name
    for name in (
        "activate auth batch bulk customer db keys license partner profile report search "
        "serve smartserver token transfer"
    ).split()
}


def _built_and_loaded(argv: list[str], env_dir: Path, code: int = 0) -> tuple[list[str], set[str]]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(env_dir),
        "COLUMNS": "120",
        "NO_COLOR": "1",
        "LICENSECTL_CONFIG_DIR": str(env_dir / "config"),
        "LICENSECTL_DATA_DIR": str(env_dir / "data"),
        "LICENSECTL_KEY_DIR": str(env_dir / "keys"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    out = subprocess.run(
        [sys.executable, "-c", _COUNTING.format(argv=argv)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    lines = out.stderr.splitlines()
    assert f"CODE {code}" in lines, out.stderr[-2000:]
    built = next(x for x in lines if x.startswith("BUILT")).split()[1:]
    loaded = set(next(x for x in lines if x.startswith("MODULES ")).split()[1:])
    return built, loaded


def test_root_help_builds_no_command_and_imports_none_of_their_modules(tmp_path: Path) -> None:
    for argv, code in ((["--help"], 0), ([], 2)):  # no command: the help, exit 2
        built, loaded = _built_and_loaded(argv, tmp_path, code)
        assert built == [], argv
        assert not _COMMAND_MODULES & loaded, (argv, sorted(_COMMAND_MODULES & loaded))


def test_a_command_builds_only_its_own_group(tmp_path: Path) -> None:
    store = str(tmp_path / "store.db")
    _built_and_loaded(["--db", store, "partner", "add", "Acme"], tmp_path)
    built, loaded = _built_and_loaded(["--db", store, "partner", "list"], tmp_path)
    assert sorted(built) == ["add", "list", "rename"]
    assert _COMMAND_MODULES & loaded == {"licensectl.cli.partner"}
    built, loaded = _built_and_loaded(["transfer", "--help"], tmp_path)
    assert built == ["transfer"]
    assert _COMMAND_MODULES & loaded == {"licensectl.cli.transfer"}


def _root_help(root: Any) -> str:
    runner = CliRunner()
    with runner.isolation(env={"COLUMNS": "120", "NO_COLOR": "1"}) as (out, _, _):
        code = root.main(["--help"], prog_name="licensectl", standalone_mode=False)
        text = out.getvalue().decode()
    assert code == 0
    return text


def test_root_help_lists_every_command_as_the_full_tree_does() -> None:
    """The entries the root lists without building them (`ENTRIES`) say what the built
    commands say: same names, panels and help, in the same order."""
    from licensectl.cli.app import ENTRIES, app

    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    listed = _root_help(root)  # from the entries alone
    commands = dict(root.commands.items())  # builds every command and group
    assert [e.name for e in ENTRIES] == list(commands)
    for entry in ENTRIES:
        command = commands[entry.name]
        assert isinstance(command, (typer.core.TyperCommand, typer.core.TyperGroup)), entry.name
        assert entry.group == hasattr(command, "commands"), entry.name
        assert entry.panel == command.rich_help_panel, entry.name
        first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        assert entry.help == first, entry.name
        assert not command.hidden and not command.deprecated, entry.name
    # The root's help, listed from the entries, reads as it does with everything built.
    assert _root_help(root) == listed
    assert "Partners: the system integrators that buy licenses." in listed


def test_an_unknown_command_is_still_a_usage_error(tmp_path: Path) -> None:
    from licensectl.cli.app import app

    for word, hint in (("nosuch", ""), ("partne", " Did you mean 'partner'?")):
        result = CliRunner().invoke(app, [word])
        assert result.exit_code == 2
        expected = f"Error: No such command {word!r}.{hint} (see 'licensectl --help')\n"
        assert result.stderr == expected


# --- a store command loads the operations it uses -------------------------------------


def test_a_store_command_loads_only_its_group_of_operations(tmp_path: Path) -> None:
    store = str(tmp_path / "store.db")
    _built_and_loaded(["--db", store, "partner", "add", "Acme"], tmp_path)
    _, loaded = _built_and_loaded(["--db", store, "partner", "list"], tmp_path)
    assert "licensectl.service.accounts" in loaded
    others = {
        "licensectl.service." + name
        for name in (
            "activation batch corrections exporting importing licenses reports tokens transfer"
        ).split()
    }
    assert not (others | {"licensectl.importer", "licensectl.exporter"}) & loaded


def test_local_backend_finds_every_operation_where_its_groups_define_it() -> None:
    """`OPERATIONS` is what the class inheriting every group in `PARTS` would resolve."""
    from licensectl.service import OPERATIONS, PARTS, LocalBackend, part
    from licensectl.service.base import BaseBackend

    full = type("Full", tuple(part(p) for p in PARTS), {})
    expected: dict[str, str] = {}
    for name in dir(full):
        owner = next(k for k in full.__mro__ if name in k.__dict__)
        if name.startswith("__") or owner in (full, BaseBackend, object):
            continue
        expected[name] = f"{owner.__module__.rsplit('.', 1)[1]}.{owner.__name__}"
    assert OPERATIONS == expected
    backend = LocalBackend.__new__(LocalBackend)
    for name, where in OPERATIONS.items():
        getattr(backend, name)  # taken from its group on first use, then kept
        assert LocalBackend.__dict__[name] is part(where).__dict__[name], name
    with pytest.raises(AttributeError):
        backend.no_such_operation  # type: ignore[attr-defined]  # noqa: B018
