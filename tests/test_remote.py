"""The remote profile's own paths: tokens and scoping through the CLI, login and the
keyring, a server that is down or drops an answer, TLS, and a start-up without the
database stack. Every other CLI test runs over HTTP too (the `http` target, conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from conftest import Cli, HttpTarget
from keyring.backends import fail
from memory_keyring import MemoryKeyring
from serverkit import make_tls, serving


@pytest.fixture
def target(http_target: HttpTarget, tmp_path: Path) -> Iterator[HttpTarget]:
    store = http_target.serve(tmp_path / "served.db")
    try:
        yield http_target
    finally:
        store.dispose()


def as_token(target: HttpTarget, token: str | None) -> Cli:
    """The CLI over the server with this token (in LICENSECTL_TOKEN)."""
    return TokenCli(db=None, url=target.base, token=token)


class TokenCli(Cli):
    def __init__(self, db: str | None, url: str | None, token: str | None, **env: str) -> None:
        super().__init__(db=db, url=url)
        self.token = token
        self.env = env

    def run(
        self,
        *args: str,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        obj: Any = None,
    ) -> Any:
        extra = {"LICENSECTL_TOKEN": self.token or "", **self.env}
        return super().run(*args, input=input, env={**extra, **(env or {})}, obj=obj)


def _lic(cli: Cli, po: str, partner: str, quantity: int = 5) -> str:
    out = cli.ok(
        "license",
        "add",
        "--po",
        po,
        "--type",
        "capacity",
        "--devices",
        "10",
        "--quantity",
        str(quantity),
        "--partner",
        partner,
    )
    return str(out.stdout.strip())


@pytest.fixture
def two_partners(target: HttpTarget) -> dict[str, str]:
    """Partners A and B, each with a customer holding a license, and their tokens."""
    admin = as_token(target, target.token)
    ids: dict[str, str] = {}
    for p in ("A", "B"):
        admin.ok("partner", "add", f"Partner {p}")
        ids[f"cust{p}"] = admin.ok(
            "customer", "add", f"Site {p}", "--partner", f"Partner {p}"
        ).stdout.strip()
        lic = _lic(admin, f"PO-{p}", f"Partner {p}")
        moved = admin.json("--yes", "transfer", lic, "--to", ids[f"cust{p}"], "--quantity", "2")
        ids[f"owned{p}"] = moved["transferred"]["license_id"]
        ids[f"inv{p}"] = moved["remainder"]["license_id"] if moved.get("remainder") else lic
        ids[f"lic{p}"] = lic
        ids[f"token{p}"] = admin.json(
            "token",
            "create",
            "--role",
            "partner",
            "--partner",
            f"Partner {p}",
            "--name",
            f"bot-{p}",
        )["secret"]
    ids["tokenCustA"] = admin.json(
        "token", "create", "--role", "customer", "--customer", ids["custA"], "--name", "site-a"
    )["secret"]
    return ids


# --- scoping through the CLI ----------------------------------------------------------------


def test_partner_b_sees_and_changes_nothing_of_partner_a(
    target: HttpTarget, two_partners: dict[str, str]
) -> None:
    ids = two_partners
    b = as_token(target, ids["tokenB"])
    listed = {row["license_id"] for row in b.json("license", "list", "--all")}
    assert ids["licA"] not in listed and ids["ownedA"] not in listed
    assert ids["ownedB"] in listed
    assert [p["name"] for p in b.json("partner", "list")] == ["Partner B"]
    assert [c["name"] for c in b.json("customer", "list")] == ["Site B"]
    for args in (
        ("license", "show", ids["ownedA"]),
        ("license", "history", ids["licA"]),
        ("customer", "show", ids["custA"]),
        ("--yes", "transfer", ids["invA"], "--to", ids["custB"], "--quantity", "1"),
        ("activate", ids["ownedA"], "--install-code", "5A7C-31F2-9D04-E86B"),
    ):
        error = b.fails(3, *args)
        assert "Partner A" not in error.stderr
    assert b.json("search", "po", "PO-A") == []
    # Nothing of A's changed.
    admin = as_token(target, target.token)
    assert admin.json("license", "show", ids["ownedA"])["activations"] == []
    # B may act on its own.
    b.ok("activate", ids["ownedB"], "--install-code", "5A7C-31F2-9D04-E86B")


def test_a_customer_sees_only_its_own_account(
    target: HttpTarget, two_partners: dict[str, str]
) -> None:
    ids = two_partners
    customer = as_token(target, ids["tokenCustA"])
    listed = [row["license_id"] for row in customer.json("license", "list", "--all")]
    assert listed == [ids["ownedA"]]
    assert [c["customer_id"] for c in customer.json("customer", "list")] == [ids["custA"]]
    customer.fails(3, "license", "show", ids["invA"])
    customer.fails(3, "customer", "show", ids["custB"])
    who = customer.json("whoami")
    assert who["role"] == "customer" and who["customer_id"] == ids["custA"]
    # A customer may not add licenses: a permission error, exit 5.
    customer.fails(5, "license", "add", "--po", "X", "--type", "core", "--devices", "1")


def test_a_revoked_token_is_exit_5_saying_to_log_in(
    target: HttpTarget, two_partners: dict[str, str]
) -> None:
    ids = two_partners
    admin = as_token(target, target.token)
    b = as_token(target, ids["tokenB"])
    token_id = b.json("whoami")["token_id"]
    admin.ok("--yes", "token", "revoke", token_id)
    error = b.fails(5, "license", "list")
    assert "licensectl login" in error.stderr and target.base in error.stderr
    assert ids["tokenB"] not in error.stderr + error.stdout
    nobody = as_token(target, None)
    assert "licensectl login" in nobody.fails(5, "partner", "list").stderr


# --- the server down, an answer lost, TLS ------------------------------------------------------


def test_a_server_that_is_down_is_exit_6_naming_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cli = TokenCli(db=None, url=url, token="lctl_" + "x" * 43, LICENSECTL_RETRIES="1")
    error = cli.fails(6, "license", "list")
    assert url in error.stderr and "lctl_" not in error.stderr
    debug = cli.run("--debug", "license", "list")
    assert debug.exit_code == 6 and "lctl_" not in debug.stdout + debug.stderr


def test_a_server_that_does_not_answer_times_out_with_exit_6() -> None:
    """A listening socket that never answers: the read timeout (settable) ends it."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        cli = TokenCli(
            db=None, url=url, token="lctl_x", LICENSECTL_READ_TIMEOUT="0.3", LICENSECTL_RETRIES="1"
        )
        error = cli.fails(6, "partner", "list")
        assert url in error.stderr and "0.3 s" in error.stderr
        assert "LICENSECTL_READ_TIMEOUT" in error.stderr
    for bad in ("LICENSECTL_READ_TIMEOUT", "LICENSECTL_CONNECT_TIMEOUT", "LICENSECTL_RETRIES"):
        TokenCli(db=None, url=url, token="lctl_x", **{bad: "soon"}).fails(2, "partner", "list")


class DropFirstAnswer:
    """A loopback TCP proxy that forwards every request, but drops the server's answer
    to the first write (POST) and cuts that connection: the write was applied, the
    client never hears of it."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.dropped = 0
        self.armed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream))

        def cut() -> None:
            for end in (client, upstream):  # shutdown also wakes a pump blocked on it
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

        def requests() -> None:
            with contextlib.suppress(OSError):
                while data := client.recv(65536):
                    if data.startswith(b"POST") and not self.dropped:
                        self.armed = True
                    upstream.sendall(data)
            cut()

        threading.Thread(target=requests, daemon=True).start()
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if self.armed:  # the write's answer: it was applied; lose it
                    self.armed = False
                    self.dropped += 1
                    break
                client.sendall(data)
        cut()
        client.close()
        upstream.close()

    def close(self) -> None:
        self.listener.close()


def test_a_retried_write_whose_answer_was_lost_applies_once(target: HttpTarget) -> None:
    admin = as_token(target, target.token)
    admin.ok("partner", "add", "Acme")
    proxy = DropFirstAnswer(int(target.base.rsplit(":", 1)[1]))
    try:
        via = TokenCli(db=None, url=f"http://127.0.0.1:{proxy.port}", token=target.token)
        # One POST: its answer is lost, the client sends it again with the same
        # Idempotency-Key, and the server replays the first answer (without the key the
        # retry would be a second customer of that name: a conflict, exit 4).
        added = via.ok("customer", "add", "Site", "--email", "ops@site.example").stdout.strip()
    finally:
        proxy.close()
    assert proxy.dropped == 1 and proxy.connections >= 2
    customers = admin.json("customer", "list")
    assert [c["customer_id"] for c in customers] == [added]


class Busy503First(DropFirstAnswer):
    """Answers the first request 503 (store unavailable), then forwards everything."""

    def __init__(self, upstream_port: int) -> None:
        super().__init__(upstream_port)
        self.dropped = 1  # never drop an answer
        self.busy = 0

    def _serve(self, client: socket.socket) -> None:
        if self.busy:
            super()._serve(client)
            return
        self.busy += 1
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in client.recv(65536):
                pass
            body = json.dumps(
                {"error": {"message": "the store is busy", "kind": "store_unavailable",
                           "exit_code": 6, "field": None}}
            ).encode()  # fmt: skip
            client.sendall(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                b"Connection: close\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
        client.close()


def test_a_503_is_retried_and_without_retries_names_the_server(target: HttpTarget) -> None:
    port = int(target.base.rsplit(":", 1)[1])
    front = Busy503First(port)
    try:
        url = f"http://127.0.0.1:{front.port}"
        assert TokenCli(db=None, url=url, token=target.token).json("partner", "list") == []
        assert front.busy == 1
    finally:
        front.close()
    once = Busy503First(port)
    try:
        url = f"http://127.0.0.1:{once.port}"
        cli = TokenCli(db=None, url=url, token=target.token, LICENSECTL_RETRIES="0")
        error = cli.fails(6, "partner", "list")
        assert "the store is busy" in error.stderr and url in error.stderr
    finally:
        once.close()


def test_tls_is_verified_against_the_ca_bundle(target: HttpTarget, tmp_path: Path) -> None:
    tls = make_tls(tmp_path)
    shutil.copyfile(target.template, tmp_path / "tls.db")
    with serving(str(tmp_path / "tls.db"), tmp_path, tls=tls) as server:
        url = f"https://127.0.0.1:{server.port}"
        cli = TokenCli(db=None, url=url, token=target.token, LICENSECTL_RETRIES="0")
        error = cli.fails(6, "partner", "list")
        assert "TLS" in error.stderr and url in error.stderr and "--ca-bundle" in error.stderr
        assert cli.json("--ca-bundle", str(tls.ca_file), "partner", "list") == []
        # A profile keeps the bundle's path (never a token).
        Cli(db=None).ok("profile", "add", "tls", "--url", url, "--ca-bundle", str(tls.ca_file))
        by_profile = TokenCli(db=None, url=None, token=target.token)
        assert by_profile.json("--profile", "tls", "whoami")["role"] == "admin"


def test_urls_that_would_leak_a_token_are_refused(target: HttpTarget) -> None:
    cli = Cli(db=None)
    for url in ("http://portal.example.com", "https://u:p@host", "https://host/path", "ftp://h"):
        cli.fails(2, "--url", url, "partner", "list")
        cli.fails(2, "profile", "add", "x", "--url", url)
    cli.fails(2, "--url", target.base, "--db", "x.db", "partner", "list")
    cli.fails(2, "profile", "add", "x", "--db", "x.db", "--url", target.base)


def test_store_side_commands_are_refused_remotely(target: HttpTarget, tmp_path: Path) -> None:
    admin = as_token(target, target.token)
    for args in (("db", "backup", str(tmp_path / "copy.db")), ("db", "upgrade"), ("serve",)):
        error = admin.fails(2, *args)
        assert "where the store is" in error.stderr or "local store" in error.stderr
    assert not (tmp_path / "copy.db").exists()
    assert admin.json("db", "check")["ok"] is True
    admin.ok("partner", "add", "Acme")
    secret = admin.json("token", "create", "--role", "partner", "--partner", "Acme")["secret"]
    assert "may not rotate" in as_token(target, secret).fails(5, "keys", "rotate").stderr


# --- profiles, login, the keyring --------------------------------------------------------------


def _scan_for(secret: str, home: Path) -> list[Path]:
    """Every file under the config and data directories (and the whole home) that holds
    the secret."""
    found = []
    for root in {
        home,
        Path(os.environ["LICENSECTL_CONFIG_DIR"]),
        Path(os.environ["LICENSECTL_DATA_DIR"]),
    }:
        for path in root.rglob("*"):
            if path.is_file() and secret.encode() in path.read_bytes():
                found.append(path)
    return found


def test_login_keeps_the_token_in_the_keyring_only(
    target: HttpTarget, memory_keyring: MemoryKeyring, isolated_home: Path
) -> None:
    cli = Cli(db=None)
    added = cli.json("profile", "add", "portal", "--url", target.base + "/", "--partner", "Acme")
    assert added["kind"] == "remote" and added["url"] == target.base
    cli.fails(5, "partner", "list")  # not logged in yet: says to log in
    result = cli.ok("login", "--with-token", input=target.token + "\n")
    assert memory_keyring.entries == {("licensectl", "portal"): target.token}
    assert target.token not in result.stdout + result.stderr
    assert "admin" in result.stderr
    who = cli.json("whoami")
    assert who["role"] == "admin" and who["profile"] == "portal" and who["server"] == target.base
    assert cli.ok("partner", "add", "Acme").stdout == "Acme\n"
    assert cli.json("customer", "add", "Site")["partner"] == "Acme"
    assert _scan_for(target.token, isolated_home) == []
    listed = cli.json("profile", "list")
    assert [(p["name"], p["kind"], p["url"]) for p in listed] == [("portal", "remote", target.base)]
    table = cli.ok("profile", "list").stdout
    assert "remote" in table and target.base in table
    # --debug shows no token, not even in a traceback.
    for args in (("--debug", "license", "show", "0" * 8), ("--debug", "whoami")):
        result = cli.run(*args)
        assert target.token not in result.stdout + result.stderr
    debug = cli.run("--debug", "partner", "list", env={"LICENSECTL_TOKEN": target.token + "x"})
    assert debug.exit_code == 5 and target.token not in debug.stdout + debug.stderr
    # A wrong token is refused before anything is kept.
    cli.fails(5, "login", "--with-token", input="lctl_wrong\n")
    refused = cli.run("--debug", "login", "--with-token", input="lctl_wrong_secret\n")
    assert refused.exit_code == 5 and "Traceback" in refused.stderr
    assert "lctl_wrong_secret" not in refused.stdout + refused.stderr
    assert memory_keyring.entries == {("licensectl", "portal"): target.token}


def test_logout_forgets_and_revokes_the_token(
    target: HttpTarget, memory_keyring: MemoryKeyring
) -> None:
    admin = as_token(target, target.token)
    admin.ok("partner", "add", "Acme")
    secret = admin.json("token", "create", "--role", "partner", "--partner", "Acme")["secret"]
    cli = Cli(db=None)
    cli.ok("profile", "add", "portal", "--url", target.base)
    cli.ok("login", "--with-token", input=secret)
    assert cli.json("whoami")["role"] == "partner"
    cli.ok("logout")
    assert memory_keyring.entries == {}
    assert "licensectl login" in as_token(target, secret).fails(5, "partner", "list").stderr
    assert "not logged in" in cli.ok("logout").stderr
    # profile remove forgets a remote profile's token too.
    cli.ok("login", "--with-token", input=target.token)
    assert memory_keyring.entries
    cli.ok("profile", "remove", "portal")
    assert memory_keyring.entries == {}


def test_login_asks_on_a_terminal_without_echo(
    target: HttpTarget, memory_keyring: MemoryKeyring
) -> None:
    from licensectl.cli.output import Environment

    cli = Cli(db=None)
    cli.ok("profile", "add", "portal", "--url", target.base)
    tty = Environment(stdin_isatty=True, stdout_isatty=True, stderr_isatty=True)
    result = cli.run("login", input=target.token + "\n", obj=tty)
    assert result.exit_code == 0, result.stderr
    assert "API token" in result.stderr
    assert target.token not in result.stdout + result.stderr
    assert memory_keyring.entries == {("licensectl", "portal"): target.token}


def test_licensectl_token_wins_over_the_keyring(
    target: HttpTarget, memory_keyring: MemoryKeyring
) -> None:
    admin = as_token(target, target.token)
    admin.ok("partner", "add", "Acme")
    partner = admin.json("token", "create", "--role", "partner", "--partner", "Acme")["secret"]
    cli = Cli(db=None)
    cli.ok("profile", "add", "portal", "--url", target.base)
    cli.ok("login", "--with-token", input=target.token)
    assert cli.json("whoami")["role"] == "admin"
    assert TokenCli(db=None, url=None, token=partner).json("whoami")["role"] == "partner"


def test_eid_login_gives_a_customer_token(
    target: HttpTarget,
    memory_keyring: MemoryKeyring,
    two_partners: dict[str, str],
    isolated_home: Path,
) -> None:
    ids = two_partners
    cli = Cli(db=None)
    cli.ok("profile", "add", "site", "--url", target.base)
    result = cli.ok("login", "--eid", ids["ownedA"])
    secret = memory_keyring.entries[("licensectl", "site")]
    assert secret.startswith("lctl_") and secret not in result.stdout + result.stderr
    who = cli.json("whoami")
    assert who["role"] == "customer" and who["customer_id"] == ids["custA"]
    assert [r["license_id"] for r in cli.json("license", "list")] == [ids["ownedA"]]
    assert _scan_for(secret, isolated_home) == []
    # A license in a partner's own inventory logs nobody in.
    cli.fails(5, "login", "--eid", ids["invB"])


def test_login_without_a_keyring_is_exit_5_and_writes_nothing(
    target: HttpTarget, isolated_home: Path
) -> None:
    cli = Cli(db=None)
    cli.ok("profile", "add", "portal", "--url", target.base)
    before = {p: p.read_bytes() for p in isolated_home.rglob("*") if p.is_file()}
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    error = cli.fails(5, "login", "--with-token", input=target.token)
    assert "LICENSECTL_TOKEN" in error.stderr and "Secret Service" in error.stderr
    after = {p: p.read_bytes() for p in isolated_home.rglob("*") if p.is_file()}
    assert after == before
    # CI's way still works.
    assert (
        TokenCli(db=None, url=None, token=target.token).json("--profile", "portal", "whoami")[
            "role"
        ]
        == "admin"
    )


def test_login_needs_a_remote_profile_and_asks_only_on_a_terminal(target: HttpTarget) -> None:
    cli = Cli(db=None)
    cli.fails(2, "login", "--with-token", input="x")
    cli.fails(2, "--url", target.base, "login", "--with-token", input="x")
    cli.ok("profile", "add", "local", "--db", "x.db")
    cli.fails(2, "login", "--with-token", input="x")
    cli.ok("profile", "add", "portal", "--url", target.base)
    cli.fails(2, "--profile", "portal", "login")  # no terminal to ask on


def test_the_remote_path_imports_no_database_stack(target: HttpTarget) -> None:
    admin = as_token(target, target.token)
    admin.ok("partner", "add", "Acme")
    lic = _lic(admin, "PO-1", "Acme")
    script = (
        "import sys\n"
        "from licensectl.cli.app import main\n"
        f"code = main(['--url', {target.base!r}, '-o', 'json', 'license', 'show', {lic!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'psycopg', 'licensectl.store', 'licensectl.service'))\n"
        "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
    )
    env = {**os.environ, "LICENSECTL_TOKEN": target.token}
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "heavy": []}
    assert json.loads(result.stdout)["license_id"] == lic


def test_the_remote_backend_is_the_route_table_and_the_protocol() -> None:
    """Every operation of the Backend protocol is a method of RemoteBackend with the same
    parameters; every operation of the route table is one of them, and those without a
    route are the store-side ones (refused remotely), the PEM (read from keys_list) and
    close. A new route or operation without its client method fails here."""
    import inspect

    from licensectl.contract.api import ROUTES, STORE_SIDE_ONLY
    from licensectl.contract.protocol import Backend
    from licensectl.remote import RemoteBackend

    ops = {name for name in vars(Backend) if not name.startswith("_")}
    assert set(ROUTES) <= ops
    assert ops - set(ROUTES) == set(STORE_SIDE_ONLY) | {"keys_public_pem", "close"}
    for op in ops:
        ours = inspect.signature(getattr(RemoteBackend, op))
        theirs = inspect.signature(getattr(Backend, op))
        assert list(ours.parameters) == list(theirs.parameters), op


def test_a_profiles_default_partner_stands_in_for_batch_lines_as_it_does_locally(
    target: HttpTarget, tmp_path: Path
) -> None:
    """With two partners, a remote profile's --partner is used by batch lines that leave
    the partner out, exactly as by the same commands run one by one (and locally)."""
    admin = as_token(target, target.token)
    admin.ok("partner", "add", "Acme")
    admin.ok("partner", "add", "Beta Co")
    cli = TokenCli(db=None, url=None, token=target.token)
    cli.ok("profile", "add", "portal", "--url", target.base, "--partner", "Beta Co")
    lines = tmp_path / "onboard.jsonl"
    lines.write_text(
        '{"op": "customer.add", "name": "Site B"}\n'
        '{"op": "license.add", "purchase_order": "PO-B", "type": "capacity", "devices": 100}\n'
        '{"op": "customer.add", "name": "Site A", "partner": "Acme"}\n'
        "not json: left for the server to refuse\n",
        encoding="utf-8",
    )
    done = cli.run("--profile", "portal", "batch", str(lines))
    assert done.exit_code == 7, done.stderr  # the malformed line, and only it
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["ok"] for r in results] == [True, True, True, False]
    assert results[0]["result"]["partner"] == "Beta Co"
    assert results[1]["result"]["partner"] == "Beta Co"
    assert results[2]["result"]["partner"] == "Acme"  # a partner given is kept
    assert "not valid JSON" in results[3]["error"]["message"]


def test_a_store_or_server_given_on_the_command_line_beats_the_other_from_the_environment(
    target: HttpTarget, tmp_path: Path
) -> None:
    local = str(tmp_path / "local.db")
    Cli(db=local).ok("partner", "add", "Local Co")
    as_token(target, target.token).ok("partner", "add", "Served Co")

    def cli(**env: str) -> Cli:
        return TokenCli(db=None, url=None, token=target.token, **env)

    # LICENSECTL_URL for the session, --db for one command: the local store
    listed = cli(LICENSECTL_URL=target.base).json("--db", local, "partner", "list")
    assert [p["name"] for p in listed] == ["Local Co"]
    # LICENSECTL_DB for the session, --url for one command: the server
    listed = cli(LICENSECTL_DB=local).json("--url", target.base, "partner", "list")
    assert [p["name"] for p in listed] == ["Served Co"]
    # both from the environment, or both typed: say which
    both = cli(LICENSECTL_DB=local, LICENSECTL_URL=target.base)
    assert "not both" in both.fails(2, "partner", "list").stderr
    typed = cli().fails(2, "--db", local, "--url", target.base, "partner", "list")
    assert "not both" in typed.stderr
