"""profile add/list/use/show/remove, and stores chosen through a profile."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from conftest import Cli
from memory_keyring import LockedKeyring, MemoryKeyring


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
    other = Cli(db=str(tmp_path / "c.db"))
    other.ok("partner", "add", "Delta Co")
    assert [p["name"] for p in other.json("partner", "list")] == ["Delta Co"]
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


# --- database passwords: in the OS keyring, never in the config file or the output -------

PASSWORD = "S3cret-pw"
PG_WITH_PASSWORD = f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/licensing"


def _all_output(runner: Cli, *args: str) -> str:
    result = runner.ok(*args)
    return result.stdout + result.stderr


def test_profile_password_goes_to_the_keyring_only(
    isolated_home: Path, memory_keyring: MemoryKeyring
) -> None:
    runner = Cli(db=None)
    added = runner.json("profile", "add", "pg", "--db", PG_WITH_PASSWORD)
    assert added["db"] == "postgresql+psycopg://postgres@127.0.0.1:5432/licensing"
    assert added["db_password"] == "keyring"
    config_text = (isolated_home / "config" / "config.json").read_text()
    assert PASSWORD not in config_text
    assert json.loads(config_text)["profiles"]["pg"] == {
        "db": "postgresql+psycopg://postgres@127.0.0.1:5432/licensing",
        "db_password": "keyring",
    }
    assert memory_keyring.entries == {("licensectl", "pg:db-password"): PASSWORD}
    for fmt in ("table", "json", "jsonl", "csv"):
        for command in (("profile", "list"), ("profile", "show"), ("profile", "show", "pg")):
            shown = _all_output(runner, "-o", fmt, *command)
            assert PASSWORD not in shown and "S3cret" not in shown, (fmt, command, shown)
    [listed] = runner.json("profile", "list")
    assert listed["db"] == added["db"] and listed["db_password"] == "keyring"


def test_a_percent_encoded_password_is_kept_decoded(memory_keyring: MemoryKeyring) -> None:
    runner = Cli(db=None)
    runner.ok("profile", "add", "pg", "--db", "postgres://app:p%40ss%3Aw%2Frd@db.example/lic")
    assert memory_keyring.entries == {("licensectl", "pg:db-password"): "p@ss:w/rd"}
    from licensectl import config

    profile = config.get_profile("pg")
    assert profile is not None and "p%40ss" not in str(profile.db)
    # Put back encoded, so SQLAlchemy reads the same password again.
    url = config.profile_db_url(profile)
    assert url == "postgresql+psycopg://app:p%40ss%3Aw%2Frd@db.example/lic"
    from sqlalchemy import make_url

    assert make_url(url).password == "p@ss:w/rd"


def test_a_profile_without_password_never_touches_the_keyring(isolated_home: Path) -> None:
    # No working keyring at all: profiles without a password work exactly as before.
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    runner = Cli(db=None)
    db = isolated_home / "a.db"
    runner.ok("profile", "add", "local", "--db", str(db))
    runner.ok("partner", "add", "Acme")
    assert runner.json("profile", "show")["db_password"] is None
    runner.ok("profile", "remove", "local")


@pytest.mark.parametrize("backend", ["fail", "locked"])
def test_a_password_without_a_usable_keyring_is_refused(isolated_home: Path, backend: str) -> None:
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring() if backend == "fail" else LockedKeyring())  # type: ignore[no-untyped-call]
    runner = Cli(db=None)
    result = runner.fails(5, "profile", "add", "pg", "--db", PG_WITH_PASSWORD)
    assert "~/.pgpass" in result.stderr and "PGPASSWORD" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    # Nothing was written anywhere: no profile, no config file holding the password.
    config_file = isolated_home / "config" / "config.json"
    assert not config_file.exists() or PASSWORD not in config_file.read_text()
    runner.fails(3, "profile", "show", "pg")
    # Without the password in the URL the same profile is fine (libpq finds it).
    runner.ok("profile", "add", "pg", "--db", PG_WITH_PASSWORD.replace(f":{PASSWORD}", ""))


def test_profile_remove_deletes_the_keyring_entry(memory_keyring: MemoryKeyring) -> None:
    runner = Cli(db=None)
    runner.ok("profile", "add", "pg", "--db", PG_WITH_PASSWORD)
    runner.ok("profile", "add", "other", "--db", PG_WITH_PASSWORD.replace("licensing", "b"))
    runner.ok("profile", "remove", "pg")
    assert memory_keyring.entries == {("licensectl", "other:db-password"): PASSWORD}
    runner.fails(3, "profile", "show", "pg")


def test_profile_remove_keeps_the_profile_when_the_keyring_cannot_delete(
    memory_keyring: MemoryKeyring,
) -> None:
    runner = Cli(db=None)
    runner.ok("profile", "add", "pg", "--db", PG_WITH_PASSWORD)
    keyring.set_keyring(LockedKeyring())
    runner.fails(5, "profile", "remove", "pg")
    keyring.set_keyring(memory_keyring)
    assert runner.json("profile", "show", "pg")["db_password"] == "keyring"
    runner.ok("profile", "remove", "pg")
    assert memory_keyring.entries == {}


def test_the_keyring_entry_does_not_clash_with_a_bare_profile_name(
    memory_keyring: MemoryKeyring,
) -> None:
    # API tokens are keyed by the bare profile name: a DB password never is.
    memory_keyring.set_password("licensectl", "pg", "an-api-token")
    runner = Cli(db=None)
    runner.ok("profile", "add", "pg", "--db", PG_WITH_PASSWORD)
    runner.ok("profile", "remove", "pg")
    assert memory_keyring.entries == {("licensectl", "pg"): "an-api-token"}


def test_a_lost_keyring_entry_is_exit_5_when_opening(memory_keyring: MemoryKeyring) -> None:
    runner = Cli(db=None)
    runner.ok("profile", "add", "pg", "--db", PG_WITH_PASSWORD)
    memory_keyring.entries.clear()
    result = runner.fails(5, "partner", "list")
    assert "pg:db-password" in result.stderr and "PGPASSWORD" in result.stderr
    keyring.set_keyring(LockedKeyring())
    runner.fails(5, "partner", "list")


def test_the_password_is_put_back_when_the_store_is_opened(
    pg_database: str, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    # The test server trusts 127.0.0.1, so any password connects; the redacted URL that
    # db check reports shows that one was given, and nothing shows which.
    runner = Cli(db=None)
    url = pg_database.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    assert PASSWORD in url
    runner.ok("profile", "add", "pg", "--db", url)
    runner.ok("partner", "add", "Acme")
    assert runner.json("partner", "list")[0]["name"] == "Acme"
    for args in (("db", "check"), ("db", "upgrade")):
        report = runner.json(*args)
        assert report["store"] == pg_database.replace("postgres@", "postgres:***@", 1)
        for fmt in ("table", "jsonl", "csv"):
            assert PASSWORD not in _all_output(runner, "-o", fmt, *args)
    failed = runner.fails(2, "db", "backup", str(tmp_path / "backup.db"))
    assert PASSWORD not in failed.stdout + failed.stderr


def test_a_password_left_in_an_old_config_file_is_never_shown(isolated_home: Path) -> None:
    (isolated_home / "config").mkdir()
    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/licensing"
    (isolated_home / "config" / "config.json").write_text(
        json.dumps({"current": "old", "profiles": {"old": {"db": url}}})
    )
    runner = Cli(db=None)
    for fmt in ("table", "json", "jsonl", "csv"):
        for command in (("profile", "list"), ("profile", "show")):
            assert PASSWORD not in _all_output(runner, "-o", fmt, *command)
    assert runner.json("profile", "show")["db"] == url.replace(PASSWORD, "***")
    # Using it still works (here: nothing listens on port 1), says where the password
    # is, and never prints it, not even with --debug.
    result = runner.run("--debug", "partner", "list")
    assert result.exit_code == 6
    assert "keeps its database password in the config file" in result.stderr
    assert "Traceback" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
