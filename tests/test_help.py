"""`--help`: every command and group ends with examples; one style for names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from conftest import Cli

from licensectl.cli.app import app
from licensectl.cli.examples import EXAMPLES


def _paths() -> list[tuple[tuple[str, ...], bool]]:
    """Every command and group: (path, is a group)."""
    found: list[tuple[tuple[str, ...], bool]] = [((), True)]

    def walk(command: object, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            group = hasattr(sub, "commands")
            found.append(((*path, name), group))
            if group:
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


PATHS = _paths()
ROOT = Path(__file__).resolve().parent.parent


def test_every_command_has_its_examples_and_no_stale_ones() -> None:
    commands = {" ".join(path) for path, group in PATHS if not group}
    assert commands == set(EXAMPLES)


@pytest.mark.parametrize("path", [p for p, _ in PATHS], ids=lambda p: " ".join(p) or "root")
def test_help_ends_with_examples_and_names_things_one_way(path: tuple[str, ...]) -> None:
    result = Cli(db=None).run(*path, "--help", env={"COLUMNS": "160"})
    assert result.exit_code == 0
    text = result.stdout
    tail = text[text.rindex("Examples") :]
    examples = [line.strip() for line in tail.splitlines()[1:] if line.strip()]
    assert 1 <= len(examples) <= 2, examples
    assert all("licensectl " in line for line in examples), examples
    assert not text[text.rindex("Examples") :].count("╭"), "examples must come last"
    # No Python types as placeholders, no braces around arguments.
    assert not re.search(r"<(bool|str|int|list\[[a-z]+\]|int range)>", text), text
    assert not re.search(r"\{[A-Za-z_]+\}", text.split("\n\n")[0] + text), text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    for word in usage.split()[2 + len(path) :]:
        if word.startswith("[") or word in ("COMMAND", "ARGS..."):
            continue
        assert word == word.upper(), f"argument {word!r} in {usage!r}"


def test_a_flag_shows_no_placeholder_and_a_number_no_storage_limit() -> None:
    text = Cli(db=None).run("license", "list", "--help", env={"COLUMNS": "160"}).stdout
    all_line = next(line for line in text.splitlines() if "--all" in line)
    assert "Every row" in all_line and "TEXT" not in all_line and "<" not in all_line
    limit_line = next(line for line in text.splitlines() if "--limit" in line)
    assert "N [x>=1]" in limit_line and "2147483647" not in limit_line


def test_every_command_is_in_the_readme_and_root_help_groups_them_by_task() -> None:
    """sqlite-utils' habit: every command is documented where users look, with an example."""
    from licensectl.cli.app import PANEL_OF, PANELS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [" ".join(path) for path, group in PATHS if not group]
    missing = [c for c in commands if f"licensectl {c}" not in readme]
    assert missing == [], missing
    assert all(EXAMPLES[c] for c in commands)
    text = Cli(db=None).run("--help", env={"COLUMNS": "160"}).stdout
    positions = [text.index(f"─ {panel} ") for panel in PANELS]
    assert positions == sorted(positions), "panels in task order"
    top = {path[0] for path, _ in PATHS if len(path) == 1}
    assert top == set(PANEL_OF), top ^ set(PANEL_OF)
    for name, panel in PANEL_OF.items():
        start = text.index(f"─ {panel} ")
        end = min([p for p in positions if p > start], default=len(text))
        assert f" {name} " in text[start:end], (name, panel)


def test_readme_has_the_recipes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipes = readme[readme.index("## Recipes") :]
    recipes = recipes[: recipes.index("\n## ", 10)]
    for task in (
        "Onboard a customer project",
        "Move licenses between two projects",
        "Renew maintenance",
        "License an offline SmartServer",
        "Import a PO file in CI",
        "Find where a PO's licenses went",
    ):
        assert f"**{task}.**" in recipes, task
