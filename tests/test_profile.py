"""profile add/list/use/show/remove, and stores chosen through a profile."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli


def test_profiles_pick_the_store_and_default_partner(tmp_path: Path, isolated_home: Path) -> None:
    runner = Cli(db=None)
    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    assert runner.ok("profile", "add", "alpha", "--db", a).stdout == "alpha\n"
    runner.ok("profile", "add", "beta", "--db", b, "--partner", "Beta Co")
    listed = runner.json("profile", "list")
    assert [(p["name"], p["current"]) for p in listed] == [("alpha", True), ("beta", False)]
    runner.ok("partner", "add", "Alpha Co")  # goes to the current profile's store
    assert Cli(db=a).json("partner", "list")[0]["name"] == "Alpha Co"
    # another profile for one command, then switch
    runner.ok("--profile", "beta", "partner", "add", "Beta Co")
    runner.ok("--profile", "beta", "partner", "add", "Gamma Co")
    runner.ok("profile", "use", "beta")
    # the profile's default partner stands in for --partner, even with two partners
    cid = runner.ok("customer", "add", "Site B").stdout.strip()
    assert runner.json("customer", "show", cid)["partner"] == "Beta Co"
    assert runner.json("profile", "show")["name"] == "beta"
    assert (
        runner.run("partner", "list", env={"LICENSECTL_PROFILE": "alpha"}).stdout.count("Alpha Co")
        == 1
    )
    # --db still wins over any profile
    assert Cli(db=str(tmp_path / "c.db")).json("partner", "list") == []
    runner.ok("profile", "remove", "beta")
    assert runner.json("partner", "list") == []  # back to the embedded default
    config = json.loads((isolated_home / "config" / "config.json").read_text())
    assert set(config["profiles"]) == {"alpha"} and "current" not in config


def test_profile_errors(tmp_path: Path) -> None:
    runner = Cli(db=None)
    runner.ok("profile", "add", "alpha", "--db", str(tmp_path / "a.db"))
    runner.fails(4, "profile", "add", "alpha", "--db", str(tmp_path / "b.db"))
    runner.fails(2, "profile", "add", "bad name!", "--db", str(tmp_path / "b.db"))
    runner.fails(2, "profile", "add", "gamma", "--db", "mysql://x")
    runner.fails(3, "profile", "use", "nope")
    runner.fails(3, "profile", "show", "nope")
    runner.fails(3, "profile", "remove", "nope")
    runner.fails(3, "--profile", "nope", "partner", "list")


def test_broken_config_file_is_exit_7(isolated_home: Path) -> None:
    (isolated_home / "config").mkdir()
    (isolated_home / "config" / "config.json").write_text("{not json")
    Cli(db=None).fails(7, "partner", "list")
