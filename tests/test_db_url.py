"""What `--db`, LICENSECTL_DB and `profile add --db` accept, and that a store URL's
password never reaches the output, an error message or a `--debug` traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PG_URL, Cli, assert_one_error_line

PASSWORD = "Hunter2-zq"


def _three_ways(url: str, code: int) -> list[str]:
    """Give `url` as --db, as LICENSECTL_DB and to profile add: each must exit `code`
    with one Error: line. Returns the three stderr texts."""
    runner = Cli(db=None)
    texts = []
    for result in (
        runner.run("--db", url, "partner", "list"),
        runner.run("partner", "list", env={"LICENSECTL_DB": url}),
        runner.run("profile", "add", "p", "--db", url),
    ):
        assert result.exit_code == code, (url, result.exit_code, result.stderr)
        assert_one_error_line(result)
        texts.append(result.stdout + result.stderr)
    runner.fails(3, "profile", "show", "p")  # profile add wrote nothing
    return texts


@pytest.mark.parametrize(
    "url",
    [
        # the reported ones
        "sqlite://relative.db",
        "postgresql://u@127.0.0.1:99999/db",
        "postgresql://u@127.0.0.1:abc/db",
        # the same classes, not reported
        "sqlite://",
        "sqlite:///",
        "sqlite:///:memory:",
        "sqlite:///x.db?mode=ro",
        "postgresql://u@127.0.0.1:0/db",
        "postgresql://u@127.0.0.1:/db",
        "postgresql://u@127.0.0.1:5432,127.0.0.2:5432/db",
        "postgresql://u@[::1/db",
        "postgresql://u@127.0.0.1:5432",
        "postgresql://u@127.0.0.1:5432/",
        "postgresql://u@127.0.0.1/db?no_such_option=1",
        "postgresql://u@127.0.0.1/db?sslmode",
        # a known option with a value libpq refuses (at connect time, where it was exit 6)
        "postgresql://u@127.0.0.1/db?sslmode=bogus",
        "postgresql://u@127.0.0.1/db?target_session_attrs=writable",
        "postgresql://u@127.0.0.1/db?gssencmode=always",
        "postgresql://u@127.0.0.1/db?connect_timeout=abc",
        "postgresql://u@127.0.0.1/db?keepalives_idle=-",
        "postgresql://u@127.0.0.1/db?=x",
        "mysql://u@127.0.0.1/db",
        "postgresql+psycopg2://u@127.0.0.1/db",
        "://nothing",
    ],
)
def test_a_malformed_store_url_is_a_usage_error(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # were one accepted, its file would land here
    _three_ways(url, 2)
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://postgres:{PASSWORD}@@127.0.0.1/db",
        "postgresql://postgres:Hunter@2-zq@127.0.0.1/db",
        "postgresql://postgres:Hunter@2-zq@127.0.0.1:5432/db",
        "postgres://postgres:Hun@ter@2-zq@localhost/db",
        "postgresql://post@gres:Hunter2-zq@127.0.0.1/db",
        "postgresql://postgres:Hunter@2-zq@127.0.0.1/db?sslmode=disable",
    ],
)
def test_an_unencoded_at_in_credentials_is_refused_without_showing_them(url: str) -> None:
    for text in _three_ways(url, 2):
        assert "percent-encode" in text and "%40" in text
        for fragment in ("Hunter", "2-zq", "ter", "Hun@", "post@gres"):
            assert fragment not in text, (fragment, text)


def test_an_encoded_at_is_fine(memory_keyring: object) -> None:
    Cli(db=None).ok("profile", "add", "p", "--db", "postgresql://u:Hunter%402-zq@h/db")


def test_an_empty_db_option_is_a_usage_error(tmp_path: Path) -> None:
    runner = Cli(db=None)
    env_db = str(tmp_path / "env.db")
    assert runner.run("partner", "add", "Acme", env={"LICENSECTL_DB": env_db}).exit_code == 0
    for empty in ("", "  "):
        result = runner.run("--db", empty, "partner", "list", env={"LICENSECTL_DB": env_db})
        assert result.exit_code == 2, result.stderr
        assert_one_error_line(result)
        assert "--db must not be empty" in result.stderr
    # An empty LICENSECTL_DB means unset: the embedded default store.
    assert runner.run("-o", "json", "partner", "list", env={"LICENSECTL_DB": ""}).stdout == "[]\n"
    assert runner.json("partner", "list") == []


def test_sqlite_urls_with_three_and_four_slashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Cli(db="sqlite:///rel.db").ok("partner", "add", "Relative")
    assert (tmp_path / "rel.db").exists()
    absolute = tmp_path / "abs.db"
    Cli(db="sqlite:///" + str(absolute)).ok("partner", "add", "Absolute")
    assert absolute.exists()
    # Each is the same store as its plain path.
    assert Cli(db=str(tmp_path / "rel.db")).json("partner", "list")[0]["name"] == "Relative"
    assert Cli(db=str(absolute)).json("partner", "list")[0]["name"] == "Absolute"
    # A profile keeps the absolute path, so it means the same file from anywhere.
    runner = Cli(db=None)
    assert runner.json("profile", "add", "rel", "--db", "sqlite:///rel.db")["db"] == (
        "sqlite:///" + str((tmp_path / "rel.db").resolve())
    )
    monkeypatch.chdir(tmp_path.parent)
    assert runner.json("partner", "list")[0]["name"] == "Relative"


def _refused_port() -> int:
    return 1  # nothing listens on port 1


def test_a_password_never_shows_in_errors_even_with_debug(tmp_path: Path) -> None:
    runner = Cli(db=None)
    urls = [
        # nothing listens there: exit 6
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1:{_refused_port()}/db", 6),
        # malformed: exit 2
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1:{PASSWORD}/db", 2),
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1/db?bogus=1", 2),
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1", 2),
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1/db?password={PASSWORD}", 2),
        # the host left out: the password reads as a port
        (f"postgresql://postgres:{PASSWORD}/db", 2),
    ]
    for url, code in urls:
        for args in (("partner", "list"), ("db", "check"), ("db", "upgrade")):
            result = runner.run("--debug", "--db", url, *args)
            assert result.exit_code == code, (url, args, result.stderr)
            assert PASSWORD not in result.stdout + result.stderr, (url, args, result.stderr)


@pytest.mark.postgres
def test_a_password_never_shows_from_a_real_server(pg_database: str, tmp_path: Path) -> None:
    assert PG_URL
    with_password = pg_database.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    runner = Cli(db=with_password)
    runner.ok("partner", "add", "Acme")
    for args in (("db", "check"), ("db", "upgrade"), ("partner", "list")):
        for fmt in ("table", "json", "jsonl", "csv"):
            result = runner.ok("-o", fmt, *args)
            assert PASSWORD not in result.stdout + result.stderr
    assert runner.json("db", "check")["store"] == with_password.replace(PASSWORD, "***")
    # A database that does not exist: the server's error, and still no password.
    missing = with_password.rsplit("/", 1)[0] + "/licensectl_no_such_database"
    result = Cli(db=missing).run("--debug", "partner", "list")
    assert result.exit_code == 6, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    result = runner.run("--debug", "db", "backup", str(tmp_path / "x.db"))
    assert result.exit_code == 2
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["a%41b.db", "q?x.db", "h#x.db", "50% off.db", "ä ö.db"])
def test_a_plain_path_is_that_file_whatever_its_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # SQLAlchemy decodes %XX in a URL's path and ends it at "?": a plain path is no URL.
    monkeypatch.chdir(tmp_path)
    Cli(db=name).ok("partner", "add", "Acme")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == [name]
    assert Cli(db=str(tmp_path / name)).json("partner", "list")[0]["name"] == "Acme"
    # The URL form is percent-encoded, as URLs are.
    encoded = name.replace("%", "%25").replace("?", "%3F")
    assert Cli(db="sqlite:///" + encoded).json("partner", "list")[0]["name"] == "Acme"


def test_the_embedded_default_store_in_a_folder_with_odd_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "100% data?"
    monkeypatch.setenv("LICENSECTL_DATA_DIR", str(data))
    Cli(db=None).ok("partner", "add", "Acme")
    assert (data / "licensectl.db").exists()
