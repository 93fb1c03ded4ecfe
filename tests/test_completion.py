"""Completion of real objects (issue 12), through the shell completion protocol: a
subprocess run with `_LICENSECTL_COMPLETE` and the words typed, as a shell runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

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


# --- on a server: through its `complete` route ------------------------------------------

over_http = pytest.mark.parametrize(
    "store_url", [pytest.param("http", marks=pytest.mark.http)], indirect=True
)
#: The server shares the test's process: give it time on a busy machine (the default
#: budget, 0.25 s, is the shell user's, not a loaded CI runner's).
PATIENT = {"LICENSECTL_COMPLETION_TIMEOUT": "30"}


@over_http
def test_a_server_offers_what_its_store_would(store: dict[str, str], cli: Cli) -> None:
    """`--url`, LICENSECTL_URL and a remote profile: the same candidates as the local fast
    path on the store the server serves, in the same order."""
    assert cli.url is not None and os.environ["LICENSECTL_TOKEN"]
    db, url = store["db"], cli.url
    cases = [
        "transfer ",
        f"activate {store['active'][:3]}",
        "license show ",
        f"transfer {store['remainder']} --to ",
        "transfer x --to P2",
        f"license list --customer {store['customer1'][:4]}",
        "license list --partner ac",
    ]
    for words in cases:
        local = bash(f"licensectl --db {db} {words}")
        assert local, words
        assert bash(f"licensectl --url {url} {words}", **PATIENT) == local, words
    assert bash(f"licensectl --url {url} transfer ", **PATIENT)[0] == store["remainder"]
    assert bash("licensectl transfer ", LICENSECTL_URL=url, **PATIENT)[0] == store["remainder"]
    cli.ok("profile", "add", "portal", "--url", url)
    shown = bash("licensectl --profile portal license show ", **PATIENT)
    assert shown == [store["remainder"], store["active"], store["license"]]
    zsh = run_complete(f"licensectl --url {url} transfer ", shell="zsh", **PATIENT)
    assert "available capacity 200×3 PO PO-1001" in zsh.stdout


@over_http
def test_a_server_offers_only_what_the_token_reaches(store: dict[str, str], cli: Cli) -> None:
    cli.ok("partner", "add", "Beta")
    beta = cli.ok("license", "add", "-p", "Beta", "--po", "B-1", "--type", "core",
                  "--devices", "1").stdout.strip()  # fmt: skip
    token = cli.ok("token", "create", "--role", "partner", "--partner", "Beta", "--name", "b")
    scoped = {**PATIENT, "LICENSECTL_TOKEN": token.stdout.strip()}
    assert cli.url is not None
    assert bash(f"licensectl --url {cli.url} transfer ", **scoped) == [beta]
    assert bash(f"licensectl --url {cli.url} transfer x --to ", **scoped) == []
    assert bash(f"licensectl --url {cli.url} license list -p ", **scoped) == ["Beta"]
    assert beta in bash(f"licensectl --url {cli.url} transfer ", **PATIENT)  # the admin's


@over_http
def test_a_server_that_cannot_answer_offers_nothing_silently(
    store: dict[str, str], cli: Cli
) -> None:
    assert cli.url is not None
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    cases = [
        (f"licensectl --url {cli.url} transfer ", {"LICENSECTL_TOKEN": ""}),  # no token
        (f"licensectl --url {cli.url} transfer ", {"LICENSECTL_TOKEN": "lctl_wrong"}),
        (f"licensectl --url http://127.0.0.1:{port} transfer ", {}),  # unreachable
        (f"licensectl --url {cli.url}/nowhere transfer ", {}),  # not a licensectl route
    ]
    cli.ok("profile", "add", "portal", "--url", cli.url)
    # A remote profile with no token kept (no usable keyring here) and none in the env.
    cases.append(("licensectl --profile portal transfer ", {"LICENSECTL_TOKEN": ""}))
    for words, env in cases:
        for shell in ("bash", "zsh"):
            result = run_complete(words, shell=shell, **PATIENT, **env)
            assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), words


def test_complete_is_scoped_in_the_service(
    store: dict[str, str], cli: Cli, backend_as: Any
) -> None:
    from licensectl.contract.requests import CompleteQuery
    from licensectl.domain import Role

    cli.ok("partner", "add", "Beta")
    cli.ok("customer", "add", "B-Site", "-p", "Beta")
    beta = backend_as(Role.PARTNER, partner="Beta")

    def values(backend: Any, kind: str, prefix: str = "") -> list[str]:
        found = backend.complete(CompleteQuery(kind=kind, prefix=prefix)).items
        return [c.value for c in found]

    assert values(beta, "license") == []
    offered = values(beta, "customer")
    assert offered[0] == "B-Site" and len(offered) == 2  # its name, then its Customer ID
    assert store["customer1"] not in offered and "P2022-0208" not in offered
    assert values(beta, "partner") == ["Beta"]
    admin = backend_as(Role.ADMIN)
    assert values(admin, "license_in_force") == [store["remainder"], store["active"]]
    assert values(admin, "license") == [store["remainder"], store["active"], store["license"]]
    assert values(admin, "partner", "B") == ["Beta"]


@pytest.mark.parametrize("window", [1, 2])
def test_license_ids_past_the_window_come_from_the_status_index(
    store: dict[str, str],
    backend_as: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    window: int,
) -> None:
    """Fewer IDs read in order than the range holds (a store of millions, shrunk): the
    statuses too rare to be among them are found from where the window ended, in the
    same order as a window that held everything."""
    from licensectl.contract.requests import CompleteQuery
    from licensectl.domain import Role
    from licensectl.service import completion

    monkeypatch.setattr(complete, "WINDOW", window)
    monkeypatch.setattr(completion, "WINDOW", window)
    everything = [store["remainder"], store["active"], store["license"]]
    for words, expected in (("license show ", everything), ("transfer ", everything[:2])):
        line = f"licensectl --db {store['db']} {words}"
        env = {"_LICENSECTL_COMPLETE": "bash_complete", "COMP_WORDS": line,
               "COMP_CWORD": str(len(line.split(" ")) - 1)}  # fmt: skip
        assert complete.fast_path(env) == 0
        assert capsys.readouterr().out.split("\n") == expected
    admin = backend_as(Role.ADMIN)
    served = admin.complete(CompleteQuery(kind="license", prefix="")).items
    assert [c.value for c in served] == everything
