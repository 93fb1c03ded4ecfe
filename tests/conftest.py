"""Shared fixtures: an isolated home for every test, and a CLI bound to a real store.

The `store_url` fixture is parametrised over every backend a user can have: a SQLite
file always, a real PostgreSQL database when LICENSECTL_TEST_PG_URL is set (CI sets
it), and `http`: a real uvicorn server on a loopback port over a SQLite store, which the
`cli` fixture reaches with `--url` and an admin token in LICENSECTL_TOKEN (the remote
profile). Each test gets a database of its own, created and dropped here.

The http target costs one server per test session (per xdist worker): the server runs
in a thread of the test process, and each test swaps a fresh copy of a template store
(schema and admin token made once) in under it. Only tests that use `cli` run over
http; `@pytest.mark.local_only` keeps a test about the local store off it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from memory_keyring import MemoryKeyring
from typer.testing import CliRunner, Result

from licensectl.cli.app import app

PG_URL = os.environ.get("LICENSECTL_TEST_PG_URL")

#: The license keys scripts may rely on (docs/json.md).
LICENSE_KEYS = {
    "license_id",
    "type",
    "devices",
    "quantity",
    "free_copies",
    "term_months",
    "purchase_order",
    "po_line",
    "status",
    "partner",
    "customer_id",
    "parent_id",
    "created_at",
}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test may read or write the real user's config, data, keys or keyring."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("LICENSECTL_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("LICENSECTL_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("LICENSECTL_KEY_DIR", str(home / "keys"))
    for name in (
        "LICENSECTL_DB",
        "LICENSECTL_PROFILE",
        "LICENSECTL_OUTPUT",
        "LICENSECTL_DEBUG",
        "LICENSECTL_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # Tables fit the terminal; a test must not depend on the one it happens to run in
    # (pytest-xdist's workers have none). Width tests set their own.
    monkeypatch.setenv("COLUMNS", "200")
    # In this process: a fresh in-memory keyring per test. In child processes (which
    # cannot share it): no keyring at all, never the real one.
    keyring.set_keyring(MemoryKeyring())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return home


@pytest.fixture
def memory_keyring(isolated_home: Path) -> MemoryKeyring:
    """The in-memory keyring this test runs with, to look inside it."""
    backend = keyring.get_keyring()
    assert isinstance(backend, MemoryKeyring)
    return backend


def _pg_admin_url() -> str:
    assert PG_URL is not None
    return PG_URL.replace("postgresql+psycopg://", "postgresql://")


def create_pg_database(
    prefix: str = "licensectl_test", *, template: str | None = None, empty: bool = False
) -> str:
    """A new PostgreSQL database (a copy of `template`'s when given); returns its URL.

    Without a template it is made a licensectl store, as `licensectl db upgrade` would
    (licensectl initialises an existing database only when asked), unless `empty`.
    """
    import psycopg

    assert PG_URL is not None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    base = PG_URL.rsplit("/", 1)[0] if PG_URL.count("/") > 2 else PG_URL
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://")
    if template is None and not empty:
        from licensectl.store.engine import Store
        from licensectl.store.gate import Access, prepare

        store = Store(url)
        try:
            prepare(store, Access.INITIALISE)
        finally:
            store.dispose()
    return url


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not PG_URL:
        pytest.skip("set LICENSECTL_TEST_PG_URL to run the PostgreSQL tests")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database with no tables at all, dropped afterwards."""
    if not PG_URL:
        pytest.skip("set LICENSECTL_TEST_PG_URL to run the PostgreSQL tests")
    url = create_pg_database(empty=True)
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty licensectl store, as `licensectl db upgrade` leaves a new file, made once."""
    from licensectl.store.engine import Store
    from licensectl.store.gate import Access, prepare
    from licensectl.store.url import sqlite_url

    path = tmp_path_factory.mktemp("template") / "store.db"
    store = Store(sqlite_url(path))
    try:
        prepare(store, Access.INITIALISE)
    finally:
        store.dispose()
    with sqlite3.connect(path) as conn:  # one file, nothing in a WAL beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@dataclass
class HttpTarget:
    """One uvicorn server for the session, whose store each test swaps for its own."""

    app: Any
    base: str
    template: Path
    token: str

    def serve(self, path: Path) -> Any:
        """Serve a fresh copy of the template store at `path`; returns the store."""
        from licensectl.store.engine import Store
        from licensectl.store.url import sqlite_url

        shutil.copyfile(self.template, path)
        store = Store(sqlite_url(path))
        store._schema_ready = True
        self.app.state.store = store
        return store


@pytest.fixture(scope="session")
def http_target(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[HttpTarget]:
    import logging

    import uvicorn

    from licensectl.contract.requests import TokenCreate
    from licensectl.domain import Role
    from licensectl.server.app import create_app
    from licensectl.service import LocalBackend
    from licensectl.store.engine import Store
    from licensectl.store.url import sqlite_url

    folder = tmp_path_factory.mktemp("http-target")
    template = folder / "template.db"
    shutil.copyfile(sqlite_template, template)
    backend = LocalBackend.open(sqlite_url(template))
    token = backend.token_create(TokenCreate(role=Role.ADMIN, name="http-target")).secret
    backend.close()
    with sqlite3.connect(template) as conn:  # one file, nothing in a WAL beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    spare = folder / "spare.db"
    shutil.copyfile(template, spare)
    store = Store(sqlite_url(spare))
    app = create_app(store)
    # The server shares the test's process: it must say nothing on the streams a
    # CliRunner captures (its errors still reach pytest's log capture).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "licensectl.server"):
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", log_level="error")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the http target did not start"
        time.sleep(0.01)
    try:
        yield HttpTarget(app, f"http://127.0.0.1:{port}", template, token)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The http target is the CLI's: a test that does not run the CLI, or that is about
    the local store itself, is not run over it."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        over_http = callspec is not None and callspec.params.get("store_url") == "http"
        if over_http and (
            "cli" not in getattr(item, "fixturenames", ())
            or item.get_closest_marker("local_only") is not None
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("http", marks=pytest.mark.http),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty licensectl store on each engine (a read never creates one: docs/cli.md);
    for http, the SQLite store the http target serves to this test."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield str(path)
    elif request.param == "postgres":
        yield str(request.getfixturevalue("pg_database"))
    else:
        target: HttpTarget = request.getfixturevalue("http_target")
        path = tmp_path / "store.db"
        store = target.serve(path)
        try:
            yield str(path)
        finally:
            store.dispose()


@dataclass
class Cli:
    """Runs licensectl in-process against one store, as a user would type it; with `url`,
    against the server at `url` (the http target), `db` being the store it serves."""

    db: str | None
    url: str | None = None

    @property
    def remote(self) -> bool:
        return self.url is not None

    def run(
        self,
        *args: str,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        obj: Any = None,
    ) -> Result:
        if self.url:
            argv = ["--url", self.url, *args]
        else:
            argv = (["--db", self.db] if self.db else []) + list(args)
        extra = {"obj": obj} if obj is not None else {}
        return CliRunner().invoke(app, argv, input=input, env=env, **extra)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (
            f"licensectl {' '.join(args)} exited {result.exit_code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
        )
        return result

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self.ok("-o", "json", *args, input=input).stdout)

    def fails(self, code: int, *args: str, input: str | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == code, (
            f"expected exit {code}, got {result.exit_code}\nstdout: {result.stdout}\n"
            f"stderr: {result.stderr}\n{result.exception!r}"
        )
        assert_one_error_line(result)
        return result


def assert_one_error_line(result: Result) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, f"expected one Error: line on stderr, got: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout


@pytest.fixture
def cli(request: pytest.FixtureRequest, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    if request.node.callspec.params.get("store_url") == "http":
        target: HttpTarget = request.getfixturevalue("http_target")
        monkeypatch.setenv("LICENSECTL_TOKEN", target.token)
        return Cli(db=store_url, url=target.base)
    return Cli(db=store_url)


@pytest.fixture
def backend_as(store_url: str) -> Iterator[Callable[..., Any]]:
    """`backend_as(role, partner=…, customer_id=…)`: the target's Backend, acting as that
    principal (the CLI always acts as the local admin)."""
    from licensectl.contract.models import Principal
    from licensectl.domain import Role
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    opened: list[Any] = []

    def make(
        role: Role = Role.ADMIN,
        *,
        partner: str | None = None,
        customer_id: str | None = None,
        name: str = "test",
    ) -> Any:
        principal = Principal(role=role, name=name, partner=partner, customer_id=customer_id)
        backend = LocalBackend.open(normalize_db_url(store_url), principal=principal)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    """For tests about the SQLite file itself (concurrency, file layout)."""
    return Cli(db=str(tmp_path / "store.db"))


@pytest.fixture
def onboarded(cli: Cli) -> dict[str, str]:
    """One partner with two customers and a capacity license of 5 copies in inventory."""
    cli.ok("partner", "add", "Acme Integrators", "--email", "ops@acme.example")
    c1 = cli.ok("customer", "add", "P2022-0208", "--email", "owner@example.com").stdout.strip()
    c2 = cli.ok("customer", "add", "P-Building 1").stdout.strip()
    lic = cli.ok(
        "license",
        "add",
        "--po",
        "PO-1001",
        "--type",
        "capacity",
        "--devices",
        "200",
        "--quantity",
        "5",
    ).stdout.strip()
    return {"customer1": c1, "customer2": c2, "license": lic}
