"""`licensectl token …` and the checks `licensectl serve` makes before it starts."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli

from licensectl.cli.output import Environment
from licensectl.store.schema import HEAD, LATEST

SECRET_RE = re.compile(r"^lctl_[A-Za-z0-9_-]{43}$")


@pytest.mark.local_only  # counts the store's tokens; the http target logs in with one
def test_token_create_prints_the_secret_once(cli: Cli, onboarded: dict[str, str]) -> None:
    made = cli.ok("token", "create", "--role", "partner", "--partner", "Acme Integrators",
                  "--name", "acme-bot")  # fmt: skip
    secret = made.stdout.strip()
    assert SECRET_RE.match(secret) and made.stdout == secret + "\n"
    created = cli.json("token", "create", "--role", "customer", "--customer", "P2022-0208",
                       "--expires-in", "30")  # fmt: skip
    assert set(created) == {"token", "secret"} and SECRET_RE.match(created["secret"])
    assert created["token"]["customer_id"] == onboarded["customer1"]
    assert created["token"]["expires_at"] is not None
    listed = cli.json("token", "list")
    assert [t["name"] for t in listed] == ["acme-bot", created["token"]["name"]]
    assert set(listed[0]) == {"token_id", "name", "role", "partner", "customer_id",
                              "created_at", "last_used_at", "expires_at", "revoked_at"}  # fmt: skip
    table = cli.ok("token", "list").stdout
    for text in (json.dumps(listed), table):
        assert secret not in text and created["secret"] not in text
    assert "acme-bot" in table and "partner Acme Integrators" in table


@pytest.mark.local_only  # counts the store's tokens; the http target logs in with one
def test_token_create_refuses_a_scope_that_does_not_fit_the_role(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    cli.fails(2, "token", "create", "--role", "admin", "--partner", "Acme Integrators")
    cli.fails(2, "token", "create", "--role", "partner", "--customer", "P2022-0208")
    missing = cli.fails(2, "token", "create", "--role", "customer")
    assert "(--customer)" in missing.stderr
    cli.fails(3, "token", "create", "--role", "partner", "--partner", "Nobody")
    cli.fails(3, "token", "create", "--role", "customer", "--customer", "Nobody")
    cli.fails(2, "token", "create", "--role", "admin", "--expires-in", "0")
    huge = cli.fails(2, "token", "create", "--role", "admin", "--expires-in", str(2**70))
    assert "1 to 3650 days" in huge.stderr and "Traceback" not in huge.stderr
    cli.fails(2, "token", "create", "--role", "root")
    cli.ok("token", "create", "--role", "admin", "--name", "ci")
    cli.fails(4, "token", "create", "--role", "admin", "--name", "CI")
    assert len(cli.json("token", "list")) == 1


@pytest.mark.local_only  # counts the store's tokens; the http target logs in with one
def test_token_revoke_is_confirmed_like_transfer(cli: Cli, onboarded: dict[str, str]) -> None:
    token = cli.json("token", "create", "--role", "admin", "--name", "ci")["token"]
    refused = cli.fails(2, "token", "revoke", token["token_id"])
    assert "--yes" in refused.stderr
    tty = Environment(stdin_isatty=True, stdout_isatty=False, stderr_isatty=True)
    declined = cli.run("token", "revoke", token["token_id"], input="n\n", obj=tty)
    assert declined.exit_code == 130 and "ci, admin" in declined.stderr
    assert cli.json("token", "list")[0]["revoked_at"] is None
    accepted = cli.run("token", "revoke", token["token_id"], input="y\n", obj=tty)
    assert accepted.exit_code == 0 and accepted.stdout.strip() == token["token_id"]
    revoked_at = cli.json("token", "list")[0]["revoked_at"]
    assert revoked_at is not None
    again = cli.json("--yes", "token", "revoke", token["token_id"])
    assert again["revoked_at"] == revoked_at  # revoking twice changes nothing
    cli.fails(3, "--yes", "token", "revoke", "0123456789ab")
    assert "revoked" in cli.ok("token", "list").stdout


# --- serve: what it refuses before it starts -------------------------------------------------


def test_serve_refuses_a_store_without_the_current_schema(tmp_path: Path) -> None:
    fresh = Cli(db=str(tmp_path / "fresh.db"))
    error = fresh.fails(6, "serve", "--port", "1")
    assert "licensectl db upgrade" in error.stderr
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    assert "not a licensectl store" in Cli(db=str(foreign)).fails(6, "serve").stderr


def test_an_older_store_is_upgraded_with_the_api_tables(tmp_path: Path) -> None:
    """Migration 3 on a store made before it: serve refuses it, db upgrade brings it up."""
    path = tmp_path / "old.db"
    old = Cli(db=str(path))
    old.ok("partner", "add", "Acme")
    with sqlite3.connect(path) as conn:  # as migration 1 left it before the API tables
        for table in ("api_token", "idempotency_key", "login_failure"):
            conn.execute(f"DROP TABLE {table}")
        # and before Alembic: only the numbered migrations' table
        conn.execute("DELETE FROM schema_migration WHERE version >= 3")
        conn.execute("DROP TABLE alembic_version")
    # The port is taken, so a serve that wrongly accepted the store fails (exit 2), never hangs.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        refused = old.fails(6, "serve", "--port", port)
        assert "revision 0002" in refused.stderr and "licensectl db upgrade" in refused.stderr
        upgraded = old.json("db", "upgrade")
        assert upgraded["version"] == LATEST and upgraded["revision"] == HEAD
        assert SECRET_RE.match(old.ok("token", "create", "--role", "admin").stdout.strip())
        # The store passes now: serve goes on to the address, which is taken.
        busy = old.fails(2, "serve", "--port", port)
    assert "cannot listen on 127.0.0.1" in busy.stderr


@pytest.mark.local_only  # serve runs where the store is
def test_serve_wants_both_tls_files(cli: Cli, tmp_path: Path) -> None:
    cli.ok("db", "upgrade")
    assert "go together" in cli.fails(2, "serve", "--ssl-certfile", "cert.pem").stderr
    missing = cli.fails(
        2, "serve", "--ssl-certfile", str(tmp_path / "no.pem"), "--ssl-keyfile", "no.key"
    )
    assert "cannot read" in missing.stderr


def test_a_tokens_lifetime_is_exact_whatever_the_clock_does(
    backend_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created and expiring from one reading of the clock (the EID test saw 11:59:59 when
    the second ticked between two readings)."""
    from datetime import UTC, datetime, timedelta

    import licensectl.service.tokens as tokens
    from licensectl.contract.requests import TokenCreate
    from licensectl.domain import Role

    ticks = iter(range(100))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(seconds=next(ticks)))
    made = backend_as(Role.ADMIN).token_create(
        TokenCreate(role=Role.ADMIN, name="ci", expires_in_days=30)
    )
    assert made.token.expires_at - made.token.created_at == timedelta(days=30)
