"""`licensectl serve` for real: a uvicorn server with two workers and TLS on a loopback
port, one per store engine, raced by client processes; and a graceful SIGTERM.

The server's whole log is captured; the last test reads it for tokens and traces.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import PG_URL, Cli, create_pg_database, drop_pg_database
from serverkit import Racers, Server, error_of, launch_server, make_tls, wait_ready

from licensectl.contract.api import IDEMPOTENCY_HEADER

RACERS = 8


@dataclass
class Live:
    server: Server
    cli: Cli
    admin: str
    ids: dict[str, str]
    env: dict[str, str]
    racers: Racers

    def race(self, requests: list[tuple[str, str, Any]], **kw: Any) -> list[dict[str, Any]]:
        return self.racers.race(self.server, requests, token=self.admin, **kw)


def _home(folder: Path) -> dict[str, str]:
    """What isolated_home gives a test, for a server that outlives one test."""
    home = folder / "home"
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "LICENSECTL_CONFIG_DIR": str(home / "config"),
        "LICENSECTL_DATA_DIR": str(home / "data"),
        "LICENSECTL_KEY_DIR": str(home / "keys"),
        "NO_COLOR": "1",
    }


def _world(cli: Cli) -> dict[str, str]:
    cli.ok("partner", "add", "Acme")
    ids = {"X": cli.ok("customer", "add", "Race-X").stdout.strip()}
    ids["Y"] = cli.ok("customer", "add", "Race-Y").stdout.strip()

    def license(po: str, quantity: int) -> str:
        return str(
            cli.ok(
                "license",
                "add",
                "--po",
                po,
                "--type",
                "capacity",
                "--devices",
                "100",
                "--quantity",
                str(quantity),
            ).stdout.strip()  # fmt: skip
        )

    ids["transfer"] = license("PO-T", 1)
    ids["batch"] = license("PO-B", 1)
    ids["same-key"] = license("PO-K", 2)
    activation = license("PO-A", 5)
    moved = cli.json("transfer", activation, "--to", "Race-X", "--yes")
    ids["activation"] = moved["transferred"]["license_id"]
    cli.ok("activate", ids["activation"], "--install-code", "SS-0", "--copies", "2")
    eid = cli.json("transfer", license("PO-E", 1), "--to", "Race-Y", "--yes")
    ids["eid"] = eid["transferred"]["license_id"]
    return ids


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp(f"live-{request.param}")
    env = _home(folder)
    if request.param == "sqlite":
        db = str(folder / "store.db")
    else:
        if not PG_URL:
            pytest.skip("set LICENSECTL_TEST_PG_URL to run the PostgreSQL tests")
        db = create_pg_database("licensectl_live")
    tls = make_tls(folder)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        cli = Cli(db=db)
        admin = cli.ok("token", "create", "--role", "admin", "--name", "root").stdout.strip()
        # The store is current now: the server boots while the world is built.
        booting = launch_server(db, folder, "--workers", "2", "--upload-max", "1", tls=tls, env=env)
        ids = _world(cli)
    racers = Racers(RACERS)
    server = wait_ready(booting)
    try:
        yield Live(server, cli, admin, ids, env, racers)
    finally:
        racers.close()
        server.stop()
        if request.param == "postgres":
            drop_pg_database(db)


def _cli(live: Live, *args: str) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in live.env.items():
            patch.setenv(name, value)
        return live.cli.json(*args)


# --- TLS, tokens, limits over the wire ------------------------------------------------------


def test_tls_verifies_against_the_test_ca_only(live: Live) -> None:
    with live.server.client(live.admin) as client:
        assert client.get("/v1/whoami").json()["name"] == "root"
    with httpx.Client(verify=True) as stranger, pytest.raises(httpx.ConnectError):
        stranger.get(f"{live.server.base}/healthz")  # not a CA the system trusts
    assert live.server.tls is not None
    with socket.create_connection(("127.0.0.1", live.server.port)) as raw:
        context = live.server.tls.context()
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as secure:
            assert secure.version() in ("TLSv1.2", "TLSv1.3")
            cert = secure.getpeercert()
            assert cert is not None
            assert cert["subjectAltName"][0] == ("IP Address", "127.0.0.1")


def test_a_revoked_token_is_refused_at_once_on_every_worker(live: Live) -> None:
    with live.server.client(live.admin) as admin:
        made = admin.post("/v1/tokens", json={"role": "partner", "partner": "Acme"}).json()
    secret, token_id = made["secret"], made["token"]["token_id"]
    # Fresh connections, so the workers share them out.
    for _ in range(6):
        with live.server.client(secret) as client:
            assert client.get("/v1/whoami").status_code == 200
    with live.server.client(live.admin) as admin:
        assert admin.delete(f"/v1/tokens/{token_id}").status_code == 200
    for _ in range(6):
        with live.server.client(secret) as client:
            refused = client.get("/v1/whoami")
            assert refused.status_code == 401 and "revoked" in error_of(refused)["message"]
    with live.server.client() as anonymous:
        nothing = anonymous.get("/v1/licenses")
        assert nothing.status_code == 401 and nothing.headers["WWW-Authenticate"]


def test_bodies_beyond_the_caps_are_413(live: Live) -> None:
    with live.server.client(live.admin) as client:
        declared = client.post("/v1/partners", json={"name": "x" * (1024 * 1024 + 1)})
        assert declared.status_code == 413 and error_of(declared)["exit_code"] == 2

        def rows() -> Iterator[bytes]:  # 2 MiB without a Content-Length, beyond --upload-max 1
            yield b"partner,purchase_order,po_line,type,devices\nAcme,PO-HUGE-"
            for _ in range(32):
                yield b"9" * 65536
            yield b",1,core,1\n"

        cut = client.post("/v1/imports", content=rows(), headers={"Content-Type": "text/csv"})
        assert cut.status_code == 413 and "--upload-max" in error_of(cut)["message"]
        assert client.get("/v1/search/po", params={"q": "PO-HUGE-"}).json()["items"] == []


def test_failed_logins_are_limited_per_address_across_workers(live: Live) -> None:
    # Behind a trusted proxy (here: loopback) the client's address is X-Forwarded-For's.
    address = {"X-Forwarded-For": "198.51.100.23"}
    unknown = {"license_id": "00000000-0000-4000-8000-000000000000"}
    for _ in range(10):
        with live.server.client(headers=address) as client:  # new connections: both workers
            assert client.post("/v1/login/eid", json=unknown).status_code == 401
    with live.server.client(headers=address) as client:
        limited = client.post("/v1/login/eid", json={"license_id": live.ids["eid"]})
        assert limited.status_code == 429 and limited.headers["Retry-After"]
    with live.server.client(headers={"X-Forwarded-For": "198.51.100.24"}) as other:
        assert other.post("/v1/login/eid", json={"license_id": live.ids["eid"]}).status_code == 200


# --- races from several processes ------------------------------------------------------------


def test_racing_transfers_of_one_license_exactly_one_wins(live: Live) -> None:
    lic = live.ids["transfer"]
    results = live.race(
        [("POST", f"/v1/licenses/{lic}/transfer", {"to": "Race-X"})] * RACERS,
    )
    statuses = Counter(r["status"] for r in results)
    assert statuses == {200: 1, 409: RACERS - 1}, statuses
    shown = _cli(live, "license", "show", lic)
    assert shown["status"] == "transferred" and len(shown["successors"]) == 1


def test_racing_activations_never_over_allocate(live: Live) -> None:
    lic = live.ids["activation"]  # 5 copies, 2 held by SS-0: 3 free
    results = live.race(
        [
            ("POST", f"/v1/licenses/{lic}/activations", {"install_code": f"SS-{i}", "copies": 1})
            for i in range(1, RACERS + 1)
        ],
    )
    statuses = Counter(r["status"] for r in results)
    assert statuses == {200: 3, 409: RACERS - 3}, statuses
    shown = _cli(live, "license", "show", lic)
    assert sum(a["copies"] for a in shown["activations"]) == 5 and shown["free_copies"] == 0


def test_racing_atomic_batches_never_leave_half_a_batch(live: Live) -> None:
    lic = live.ids["batch"]

    def batch(n: int) -> str:
        lines = [
            {"op": "customer.add", "name": f"Batch-{n}", "as": "c"},
            {"op": "transfer", "license_id": lic, "to": "$c", "as": "m"},
            {"op": "activate", "license_id": "$m", "install_code": f"SS-B{n}"},
        ]
        return "".join(json.dumps(line) + "\n" for line in lines)

    results = live.race(
        [("POST", "/v1/batches?atomic=true", batch(n)) for n in (1, 2)],
        headers={"Content-Type": "application/x-ndjson"},
    )
    outcomes = []
    for result in results:
        assert result["status"] == 200
        lines = [json.loads(x) for x in result["body"].splitlines()]
        outcomes.append([line["ok"] for line in lines])
    assert sorted(outcomes) == [[False], [True, True, True]], outcomes
    loser = [n for n, o in zip((1, 2), outcomes, strict=True) if o == [False]][0]
    names = {c["name"] for c in _cli(live, "customer", "list")}
    assert f"Batch-{3 - loser}" in names and f"Batch-{loser}" not in names


def test_one_idempotency_key_sent_at_once_runs_once(live: Live) -> None:
    lic = live.ids["same-key"]
    results = live.race(
        [("POST", f"/v1/licenses/{lic}/transfer", {"to": "Race-Y", "quantity": 1})] * RACERS,
        headers={IDEMPOTENCY_HEADER: "race-key-1"},
    )
    statuses = Counter(r["status"] for r in results)
    # The first runs; each other waits for it, then replays its answer.
    assert statuses == {200: RACERS}, statuses
    assert len({r["body"] for r in results}) == 1
    shown = _cli(live, "license", "show", lic)
    assert shown["status"] == "transferred" and len(shown["successors"]) == 2
    history = _cli(live, "license", "history", lic)
    assert [e["action"] for e in history["events"]].count("license.transfer") == 1


# --- the log -------------------------------------------------------------------------------


def test_the_log_shows_no_token_trace_or_sql(live: Live) -> None:
    """A session of requests that handle secrets; none of them reaches the log."""
    secrets_seen = [live.admin]
    with live.server.client(live.admin) as admin:
        made = admin.post("/v1/tokens", json={"role": "admin", "name": "log-test"}).json()
        secrets_seen.append(made["secret"])
        admin.get("/v1/tokens")
        admin.get(f"/v1/licenses?token={made['secret']}")  # a token where none belongs
        admin.post("/v1/partners", json={"name": f"Log {made['secret']}"})
        admin.get("/v1/licenses/not-a-uuid")
    login = httpx.post(
        f"{live.server.base}/v1/login/eid",
        json={"license_id": live.ids["eid"]},
        verify=live.server.tls.context() if live.server.tls else True,
        headers={"X-Forwarded-For": "198.51.100.99"},
    ).json()
    secrets_seen.append(login["secret"])
    with live.server.client("lctl_" + "B" * 43) as bogus:
        assert bogus.get("/v1/whoami").status_code == 401
    with live.server.client(made["secret"]) as client:
        client.delete(f"/v1/tokens/{made['token']['token_id']}")
    log = live.server.log_text()
    assert "/v1/whoami" in log  # the access log is there
    for secret in secrets_seen:
        assert secret not in log
    assert re.findall(r"lctl_(?!\[redacted\])[A-Za-z0-9_-]+", log) == []
    leaks = ("Traceback", "Authorization", "Bearer", "SELECT ", "INSERT ", "UPDATE ", "Warning")
    for leak in leaks:
        assert leak not in log, leak
    started = set(re.findall(r"\[(\d+)\] Application startup complete", log))
    assert len(started) == 2, started  # two workers served this module


# --- a client that hangs up mid-upload ---------------------------------------------------


def _hang_up_mid_upload(live: Live, path: bytes, headers: bytes, head: bytes) -> None:
    """Send the start of a chunked upload, then close the connection without ending it."""
    server = live.server
    assert server.tls is not None
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    with server.tls.context().wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        conn.sendall(
            b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer "
            + live.admin.encode()
            + b"\r\n"
            + headers
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        _chunk(conn, head)
        time.sleep(0.5)  # the server is reading the body when the client leaves


@pytest.mark.parametrize(
    ("path", "headers", "head"),
    [
        (
            b"/v1/imports",
            b"Content-Type: text/csv\r\n",
            b"partner,purchase_order,po_line,type,devices,quantity\n"
            b"Acme,PO-HANGUP,1,capacity,100,1\nAcme,PO-HANGUP,2,capacity,100,1\n",
        ),
        (
            b"/v1/imports",
            b"Content-Type: text/csv\r\n" + IDEMPOTENCY_HEADER.encode() + b": hang-up-1\r\n",
            b"partner,purchase_order,po_line,type,devices,quantity\nAcme,PO-HANGUP,3,capa",
        ),
        (
            b"/v1/batches",
            b"Content-Type: application/x-ndjson\r\n",
            b'{"op": "license.add", "po": "PO-HANGUP", "type": "capa',
        ),
    ],
    ids=["import", "idempotent-import-half-a-line", "batch-half-a-line"],
)
def test_a_client_hanging_up_mid_upload_is_not_an_internal_error(
    live: Live, path: bytes, headers: bytes, head: bytes
) -> None:
    """The server notes it in one line; nothing of the unfinished request is written."""
    before = live.server.log_text()
    _hang_up_mid_upload(live, path, headers, head)
    deadline = time.monotonic() + 30
    while "went away" not in live.server.log_text()[len(before) :]:
        assert time.monotonic() < deadline, live.server.log_text()[len(before) :]
        time.sleep(0.1)
    log = live.server.log_text()[len(before) :]
    assert "internal error" not in log
    assert "Traceback" not in log
    # nothing of the unfinished upload was written
    assert _cli(live, "search", "po", "PO-HANGUP") == []


# --- SIGTERM: requests in flight are answered ----------------------------------------------


def test_sigterm_lets_the_requests_in_flight_finish(live: Live) -> None:
    """The last test of the module: it stops the module's server (two workers)."""
    server = live.server
    assert server.tls is not None
    context = server.tls.context()
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        conn.sendall(
            b"POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + live.admin.encode() + b"\r\n"
            b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        _chunk(conn, b'{"op": "customer.add", "name": "Before-TERM", "partner": "Acme"}\n')
        reader = conn.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 200")
        while reader.readline() != b"\r\n":  # the headers
            pass
        first = _read_chunk(reader)  # the first result: the request is in flight
        assert json.loads(first)["ok"] is True
        server.process.send_signal(signal.SIGTERM)
        _chunk(conn, b'{"op": "customer.add", "name": "After-TERM", "partner": "Acme"}\n')
        _chunk(conn, b"")
        second = _read_chunk(reader)
        assert json.loads(second)["ok"] is True
        assert _read_chunk(reader) == b""  # the answer ends whole
        reader.close()  # else the socket outlives `with`, and TLS shutdown waits for it
    # uvicorn stops gracefully, then lets SIGTERM end the process as it would have.
    assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    names = {c["name"] for c in _cli(live, "customer", "list")}
    assert {"Before-TERM", "After-TERM"} <= names
    assert "Shutting down" in server.log_text()


def _chunk(conn: Any, data: bytes) -> None:
    conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def _read_chunk(reader: Any) -> bytes:
    size = int(reader.readline().strip(), 16)
    data = reader.read(size)
    reader.readline()
    return bytes(data)
