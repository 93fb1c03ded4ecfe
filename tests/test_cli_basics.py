"""Global options, help, version, error handling and start-up cost."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import Cli, assert_one_error_line

from licensectl import __version__
from licensectl.cli.app import app, hoist_global_options

ROOT = Path(__file__).resolve().parent.parent


def test_version(sqlite_cli: Cli) -> None:
    result = Cli(db=None).ok("--version")
    assert result.stdout.strip() == f"licensectl {__version__}"


def test_global_options_before_or_after_the_command(cli: Cli, onboarded: dict[str, str]) -> None:
    before = cli.ok("-o", "json", "license", "list").stdout
    after = cli.ok("license", "list", "-o", "json").stdout
    long_eq = cli.ok("license", "list", "--output=json").stdout
    glued = cli.ok("license", "list", "-ojson").stdout
    assert before == after == long_eq == glued
    assert json.loads(before)[0]["license_id"] == onboarded["license"]
    # --yes and --quiet after the command too
    result = cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quiet", "--yes")
    assert result.stderr == ""


def test_db_given_after_the_command(tmp_path: Path) -> None:
    db = str(tmp_path / "after.db")
    assert Cli(db=None).ok("partner", "add", "Acme", "--db", db).stdout == "Acme\n"
    assert Cli(db=db).json("partner", "list")[0]["name"] == "Acme"


def test_hoisting_respects_double_dash() -> None:
    assert hoist_global_options(["customer", "add", "--", "-o"]) == ["customer", "add", "--", "-o"]
    assert hoist_global_options(["license", "list", "--db", "x", "--yes"]) == [
        "--db",
        "x",
        "--yes",
        "license",
        "list",
    ]


def test_db_env_var(tmp_path: Path) -> None:
    db = str(tmp_path / "env.db")
    runner = Cli(db=None)
    assert runner.run("partner", "add", "Acme", env={"LICENSECTL_DB": db}).exit_code == 0
    assert Cli(db="sqlite:///" + db).json("partner", "list")[0]["name"] == "Acme"


def test_embedded_default_store_in_data_dir(isolated_home: Path) -> None:
    runner = Cli(db=None)
    runner.ok("partner", "add", "Acme")
    assert (isolated_home / "data" / "licensectl.db").exists()
    assert runner.json("partner", "list")[0]["name"] == "Acme"


def test_usage_errors_are_one_line_exit_2(cli: Cli) -> None:
    cli.fails(2, "license", "list", "--bogus")
    cli.fails(2, "nosuchcommand")
    cli.fails(2, "-o", "yaml", "partner", "list")
    cli.fails(2, "license", "add", "--po")


def test_unsupported_db_url_and_unknown_profile() -> None:
    Cli(db="mysql://x/y").fails(2, "partner", "list")
    Cli(db=None).fails(3, "--profile", "nope", "partner", "list")


def test_unreachable_postgres_is_exit_6() -> None:
    result = Cli(db="postgresql+psycopg://nobody@127.0.0.1:1/none").fails(6, "partner", "list")
    assert "cannot open the store" in result.stderr


def test_unwritable_sqlite_path_is_exit_6(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    Cli(db=str(blocker / "sub" / "x.db")).fails(6, "partner", "list")


def test_not_a_database_file_is_one_clean_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = Cli(db=str(junk)).fails(6, "partner", "list")
    assert "not a SQLite database" in result.stderr
    assert_one_error_line(result)


def test_debug_shows_traceback(cli: Cli) -> None:
    result = cli.run("--debug", "license", "show", "nope")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "Error: malformed License ID" in result.stderr


def _all_commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    cmd = typer.main.get_command(group)
    found: list[tuple[str, ...]] = []

    def walk(c: object, path: tuple[str, ...]) -> None:
        subs = getattr(c, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*path, name))
        else:
            found.append(path)

    walk(cmd, prefix)
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = _all_commands(app)
    assert len(commands) >= 14
    for path in commands:
        result = Cli(db=None).run(*path, "--help")
        assert result.exit_code == 0, path
        assert "Usage" in result.stdout
        doc = typer.main.get_command(app)
        for part in path:
            doc = doc.commands[part]  # type: ignore[attr-defined]
        assert doc.help, f"{' '.join(path)} has no help text"
        assert f"licensectl {' '.join(path)}" in readme, f"{' '.join(path)} missing from README"


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["license", "--help"], ["transfer", "--help"]]
)
def test_no_database_stack_for_help_and_version(argv: list[str]) -> None:
    """`import sqlmodel` costs ~1 s: commands that need no store must not pay it."""
    code = (
        "import sys\n"
        "from licensectl.cli.app import main\n"
        f"rc = main({argv!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'psycopg', 'cryptography'))\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert re.search(r"^HEAVY \[\]$", out.stdout, re.M), out.stdout[-500:]


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "licensectl", "--db", str(tmp_path / "m.db"), "partner", "add", "X"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stdout == "X\n"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "licensectl",
            "--db",
            str(tmp_path / "m.db"),
            "license",
            "show",
            "00000000-0000-4000-8000-000000000000",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 3
    assert bad.stderr.startswith("Error: no license") and bad.stderr.count("\n") == 1


def test_no_command_shows_help_without_an_empty_error() -> None:
    result = Cli(db=None).run()
    assert result.exit_code == 2
    assert "Usage" in result.stdout
    assert "Error" not in result.stderr


def test_a_reader_that_left_is_not_an_error(tmp_path: Path) -> None:
    """`licensectl … | grep -q` under `set -o pipefail`: the reader may go before the
    output is written; licensectl exits 0 all the same (the reader here is gone before
    the first byte, so the write always fails)."""
    db = str(tmp_path / "pipe.db")
    for name in ("A", "B", "C"):
        subprocess.run([sys.executable, "-m", "licensectl", "--db", db, "partner", "add", name],
                       check=True, capture_output=True)  # fmt: skip
    for fmt in ("jsonl", "table"):
        read, write = os.pipe()
        os.close(read)
        try:
            out = subprocess.run(
                [sys.executable, "-m", "licensectl", "--db", db, "-o", fmt, "partner", "list"],
                stdout=write,
                stderr=subprocess.PIPE,
                text=True,
            )
        finally:
            os.close(write)
        assert out.returncode == 0, (fmt, out.returncode, out.stderr)
        assert "Traceback" not in out.stderr and "Error" not in out.stderr
