"""Completion of real objects (issue 12), through the shell completion protocol: a
subprocess run with `_LICENSECTL_COMPLETE` and the words typed, as a shell runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli

from licensectl.cli import complete


def run_complete(
    words: str, *, shell: str = "bash", instruction: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """What the shell gets for `words` (the cursor at their end)."""
    variables = {**os.environ, **env}
    variables["_LICENSECTL_COMPLETE"] = instruction or f"{shell}_complete"
    if shell == "bash":
        parts = words.split(" ")
        variables["COMP_WORDS"] = words
        variables["COMP_CWORD"] = str(len(parts) - 1)
    else:
        variables["_TYPER_COMPLETE_ARGS"] = words
    return subprocess.run(
        [sys.executable, "-m", "licensectl"],
        env=variables,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bash(words: str, **env: str) -> list[str]:
    result = run_complete(words, **env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return [line for line in result.stdout.split("\n") if line]


@pytest.fixture
def store(cli: Cli, onboarded: dict[str, str]) -> dict[str, str]:
    """The onboarded store with a transferred, an activated and an available license."""
    assert cli.db is not None
    moved = cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2",
                   "--yes").stdout.split()  # fmt: skip
    cli.ok("activate", moved[0], "--install-code", "SS-1")
    return {**onboarded, "active": moved[0], "remainder": moved[1], "db": cli.db}


def test_license_ids_available_first_where_one_is_acted_on(store: dict[str, str]) -> None:
    db = store["db"]
    offered = bash(f"licensectl --db {db} transfer ")
    assert offered == [store["remainder"], store["active"]]  # available, then activated
    assert store["license"] not in offered  # retired: nothing to act on
    shown = bash(f"licensectl license show --db {db} ")
    assert shown == [store["remainder"], store["active"], store["license"]]
    for command in ("activate", "return", "license history"):
        assert store["active"] in bash(f"licensectl --db {db} {command} ")
    assert bash(f"licensectl --db {db} activate {store['active'][:3]}") == [store["active"]]
    # A License ID already given: the next word is not one.
    assert store["active"] not in bash(f"licensectl --db {db} transfer {store['active']} x")


def test_customers_partners_and_profiles(store: dict[str, str], cli: Cli, tmp_path: Path) -> None:
    db = store["db"]
    to = bash(f"licensectl --db {db} transfer {store['remainder']} --to ")
    assert to[:2] == ["P-Building\\ 1", "P2022-0208"]  # names, shell-escaped, then IDs
    assert set(to[2:]) == {store["customer1"], store["customer2"]}
    assert bash(f"licensectl --db {db} license list --customer p2") == ["P2022-0208"]
    assert bash(f"licensectl --db {db} customer show P-") == ["P-Building\\ 1"]
    assert bash(f"licensectl --db {db} license list --partner ac") == ["Acme\\ Integrators"]
    assert bash(f"licensectl --db {db} license list -p ") == ["Acme\\ Integrators"]
    cli.ok("profile", "add", "alpha", "--db", str(tmp_path / "a.db"))
    cli.ok("profile", "add", "beta", "--db", str(tmp_path / "b.db"))
    assert bash("licensectl --profile ") == ["alpha", "beta"]
    assert bash("licensectl profile use b") == ["beta"]


def test_through_the_profile_and_the_environment(store: dict[str, str], cli: Cli) -> None:
    cli.ok("profile", "add", "main", "--db", store["db"])
    assert bash("licensectl --profile main transfer ")[0] == store["remainder"]
    assert bash("licensectl transfer ", LICENSECTL_DB=store["db"])[0] == store["remainder"]
    # A server (--url, or LICENSECTL_URL): no objects offered, and never the local store's.
    assert bash("licensectl --url https://portal.example transfer ") == []
    assert bash("licensectl transfer ", LICENSECTL_URL="https://portal.example") == []
    # No store yet: nothing offered, nothing created, no error.
    assert bash("licensectl --db /nonexistent/x.db transfer ") == []
    assert not Path("/nonexistent/x.db").exists()


def test_commands_and_options_still_complete(store: dict[str, str]) -> None:
    assert bash("licensectl lic") == ["license"]
    assert "void" in bash("licensectl license ")
    assert "--to" in bash(f"licensectl --db {store['db']} transfer --")
    assert {"renewals", "coverage", "inventory", "activity"} <= set(bash("licensectl report "))
    # Typer's own spelling of the instruction works too.
    assert bash("licensectl lic", _LICENSECTL_COMPLETE="complete_bash") == ["license"]


def test_zsh_and_fish(store: dict[str, str]) -> None:
    db = store["db"]
    zsh = run_complete(f"licensectl --db {db} transfer ", shell="zsh")
    assert zsh.stdout.startswith("_arguments '*: :((") and store["remainder"] in zsh.stdout
    assert "available capacity 200×3 PO PO-1001" in zsh.stdout
    fish = run_complete(
        f"licensectl --db {db} transfer {store['remainder'][:4]}",
        shell="fish",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
    )
    assert fish.stdout.split("\t")[0] == store["remainder"]
    is_args = run_complete(
        f"licensectl --db {db} transfer ", shell="fish", _TYPER_COMPLETE_FISH_ACTION="is-args"
    )
    assert is_args.returncode == 0


def test_the_fast_path_loads_no_cli_framework_or_orm(store: dict[str, str]) -> None:
    code = (
        "import sys, os\n"
        "from licensectl.cli import entry\n"
        "assert entry.main() == 0\n"
        "heavy = {'typer', 'rich', 'sqlalchemy', 'sqlmodel', 'pydantic', 'click'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {
        **os.environ,
        "_LICENSECTL_COMPLETE": "bash_complete",
        "COMP_WORDS": f"licensectl --db {store['db']} transfer ",
        "COMP_CWORD": "4",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("[]"), result.stdout


def test_completion_prints_each_shells_script(cli: Cli) -> None:
    for shell in ("bash", "zsh", "fish"):
        text = cli.ok("completion", shell).stdout
        assert text == complete.script(shell) and "_LICENSECTL_COMPLETE" in text
    assert "complete -o default -F _licensectl_completion licensectl" in complete.script("bash")
    assert "use bash, zsh or fish" in cli.fails(2, "completion", "tcsh").stderr


def test_words_are_parsed_like_a_shell() -> None:
    assert complete.target(["--db", "x", "license", "show"], "") == ("license", ("license", "show"))
    assert complete.target(["license", "show", "abc"], "") == (None, ("license", "show"))
    assert complete.target(["-o", "json", "transfer", "L", "--to"], "") == (
        "customer",
        ("transfer",),
    )
    assert complete.target(["customer", "email", "add"], "") == (
        "customer",
        ("customer", "email", "add"),
    )
    assert complete.target(["transfer", "L", "--quantity"], "") == (None, ("transfer",))
    assert complete.words_of("zsh", {"_TYPER_COMPLETE_ARGS": "licensectl a b"}) == (["a"], "b")
    assert complete.words_of("zsh", {"_TYPER_COMPLETE_ARGS": "licensectl a b "}) == (
        ["a", "b"],
        "",
    )
    bash_env = {"COMP_WORDS": "licensectl 'P-Building 1' x", "COMP_CWORD": "2"}
    assert complete.words_of("bash", bash_env) == (["P-Building 1"], "x")


def test_the_command_tree_of_the_fast_path_is_current() -> None:
    import typer

    from licensectl.cli.app import app
    from licensectl.cli.completion_tree import TREE

    assert complete.tree_of(typer.main.get_command(app)) == TREE, (
        "commands or options changed: run python -m licensectl.cli.complete"
    )


def test_names_complete_on_the_fast_path_too(store: dict[str, str]) -> None:
    db = store["db"]
    by_c = bash(f"licensectl --db {db} license list -c ")
    assert by_c[:2] == ["P-Building\\ 1", "P2022-0208"]
    assert set(by_c[2:]) == {store["customer1"], store["customer2"]}
    assert bash(f"licensectl --db {db} license list --status ") == [
        "available",
        "activated",
        "transferred",
        "void",
    ]  # a choice: Typer answers
    assert bash("licensectl -o j") == ["json", "jsonl"]
    assert bash("licensectl report inventory --b") == ["--by"]
    assert bash("licensectl customer email ") == ["add", "remove"]
