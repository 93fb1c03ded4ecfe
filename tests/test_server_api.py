"""The HTTP API in-process (httpx's ASGI transport), on SQLite and PostgreSQL.

What a route answers is checked against what the CLI says for the same thing: the same
message and exit code, so a remote profile can print exactly the `Error:` line of a
local run.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PG_URL, Cli, create_pg_database, drop_pg_database
from serverkit import InProcess, chunks, error_of
from typer.testing import Result

from licensectl.contract.api import (
    IDEMPOTENCY_HEADER,
    IDEMPOTENT_REPLAY_HEADER,
    ROUTES,
    STATUS_BY_KIND,
    STORE_SIDE_ONLY,
)
from licensectl.contract.protocol import Backend

SECRET_RE = re.compile(r"^lctl_[A-Za-z0-9_-]{43}$")


def open_app(store_url: str, **settings: Any) -> tuple[Any, Any]:
    from licensectl.server.app import create_app
    from licensectl.server.settings import Settings
    from licensectl.store.engine import Store
    from licensectl.store.url import normalize_db_url

    store = Store(normalize_db_url(store_url))
    return create_app(store, Settings(**settings)), store


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """The onboarded store with an admin token, built once per engine; each test gets a
    copy of it (a file copy, or a PostgreSQL database made from it as a template)."""
    folder = tmp_path_factory.mktemp("api-world")
    if request.param == "sqlite":
        url = str(folder / "world.db")
    else:
        if not PG_URL:
            pytest.skip("set LICENSECTL_TEST_PG_URL to run the PostgreSQL tests")
        url = create_pg_database("licensectl_apiworld")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HOME", "LICENSECTL_CONFIG_DIR", "LICENSECTL_DATA_DIR", "LICENSECTL_KEY_DIR"):
            patch.setenv(name, str(folder / "home" / name.lower()))
        world = Cli(db=url)
        world.ok("partner", "add", "Acme Integrators", "--email", "ops@acme.example")
        ids = {
            "customer1": world.ok("customer", "add", "P2022-0208", "--email", "owner@example.com")
            .stdout.strip(),
            "customer2": world.ok("customer", "add", "P-Building 1").stdout.strip(),
            "license": world.ok("license", "add", "--po", "PO-1001", "--type", "capacity",
                                "--devices", "200", "--quantity", "5").stdout.strip(),
            "admin": world.ok("token", "create", "--role", "admin", "--name", "root")
            .stdout.strip(),
        }  # fmt: skip
    yield request.param, url, ids
    if request.param == "postgres":
        drop_pg_database(url)


@pytest.fixture
def store_url(template: tuple[str, str, dict[str, str]], tmp_path: Path) -> Iterator[str]:
    """A copy of the template's store, for this test alone (`cli` runs on it)."""
    engine, url, _ = template
    if engine == "sqlite":
        copy = str(tmp_path / "store.db")
        shutil.copyfile(url, copy)
        yield copy
        return
    copy = create_pg_database("licensectl_api", template=url)
    try:
        yield copy
    finally:
        drop_pg_database(copy)


@pytest.fixture
def onboarded(template: tuple[str, str, dict[str, str]]) -> dict[str, str]:
    return template[2]


@pytest.fixture
def api(store_url: str, onboarded: dict[str, str]) -> Iterator[InProcess]:
    """The app over a copy of the onboarded store, with an admin token."""
    app, store = open_app(store_url)
    client = InProcess(app)
    client.token = onboarded["admin"]
    yield client
    client.close()
    store.dispose()


def cli_error(result: Result) -> str:
    line = next(x for x in result.stderr.splitlines() if x.startswith("Error: "))
    return line.removeprefix("Error: ")


# --- the route table ---------------------------------------------------------------------


def test_every_route_of_the_table_is_served_and_every_operation_has_one(
    api: InProcess,
) -> None:
    for name, route in ROUTES.items():
        path = re.sub(r"\{[a-z_]+\}", "00000000-0000-4000-8000-000000000000", route.path)
        answer = api.request(route.method, path, content=b"{}")
        unrouted = answer.status_code == 405 or (
            answer.status_code == 404 and "no such API route" in answer.text
        )
        assert not unrouted, (name, answer.status_code, answer.text)
    operations = {
        n for n, m in inspect.getmembers(Backend) if not n.startswith("_") and callable(m)
    }
    # keys_public_pem is answered by keys_list (each key carries its PEM); close is local.
    assert operations - set(ROUTES) - set(STORE_SIDE_ONLY) == {"close", "keys_public_pem"}
    openapi = api.get("/openapi.json").json()
    for name, route in ROUTES.items():
        assert route.method.lower() in openapi["paths"][route.path], name
    assert api.get("/docs").status_code == 200


def test_health_and_readiness(api: InProcess) -> None:
    assert api.get("/healthz", token="").json() == {"status": "ok"}
    ready = api.get("/readyz", token="")
    assert ready.status_code == 200 and ready.json()["version"] == ready.json()["latest"]


def test_readyz_refuses_a_store_without_the_current_schema(tmp_path: Path) -> None:
    app, store = open_app(str(tmp_path / "empty.db"))
    client = InProcess(app)
    try:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        error = error_of(answer)
        assert "licensectl db upgrade" in error["message"] and error["exit_code"] == 6
        assert str(tmp_path) not in error["message"]  # where the store is stays private
    finally:
        client.close()
        store.dispose()


# --- errors: one body, the CLI's words and exit codes ----------------------------------------


def test_errors_carry_the_cli_message_and_exit_code(
    api: InProcess, cli: Cli, onboarded: dict[str, str]
) -> None:
    lic = onboarded["license"]
    moved = cli.json("transfer", lic, "--to", "P2022-0208", "--yes")
    cases = [
        # (CLI arguments, API method, path, body): a conflict, not found, usage, forbidden
        (["transfer", lic, "--to", "P-Building 1", "--yes"], "POST",
         f"/v1/licenses/{lic}/transfer", {"to": "P-Building 1"}),
        (["license", "show", "00000000-0000-4000-8000-000000000000"], "GET",
         "/v1/licenses/00000000-0000-4000-8000-000000000000", None),
        (["license", "show", "not-a-uuid"], "GET", "/v1/licenses/not-a-uuid", None),
        (["partner", "add", "acme integrators"], "POST", "/v1/partners",
         {"name": "acme integrators"}),
        (["activate", moved["transferred"]["license_id"], "--install-code", "SS-1",
          "--copies", "99"], "POST",
         f"/v1/licenses/{moved['transferred']['license_id']}/activations",
         {"install_code": "SS-1", "copies": 99}),
    ]  # fmt: skip
    for argv, method, path, body in cases:
        local = cli.run(*argv)
        assert local.exit_code != 0, argv
        answer = api.request(method, path, json=body)
        error = error_of(answer)
        assert error["exit_code"] == local.exit_code, (argv, error)
        assert answer.status_code == STATUS_BY_KIND[error["kind"]], (argv, error)
        assert cli_error(local).startswith(error["message"]), (argv, error)


def test_malformed_requests_are_400_with_the_batch_words(api: InProcess) -> None:
    bad = api.post("/v1/licenses", json={"purchase_order": "PO-1", "type": "capacity"})
    assert bad.status_code == 400 and error_of(bad)["message"] == "needs the field 'devices'"
    typo = api.post("/v1/partners", json={"name": "X", "emial": "x@example.com"})
    assert "did you mean 'email'?" in error_of(typo)["message"]
    not_json = api.post("/v1/partners", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and "not valid JSON" in error_of(not_json)["message"]
    query = api.get("/v1/licenses", params={"status": "lost"})
    assert query.status_code == 400 and error_of(query)["message"].startswith("query parameter")
    assert api.get("/v1/nowhere").status_code == 404
    assert api.request("PUT", "/v1/partners").status_code == 405


def test_an_internal_error_shows_no_trace_sql_or_secret(
    api: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi import FastAPI

    app = api.app
    assert isinstance(app, FastAPI)

    @app.get("/v1/broken")
    def broken() -> None:
        raise RuntimeError(f"SELECT secret FROM api_token WHERE x = '{api.token}'")

    answer = api.get("/v1/broken")
    assert answer.status_code == 500
    error = error_of(answer)
    assert error["kind"] == "error" and error["exit_code"] == 1
    text = answer.text + caplog.text
    assert "SELECT" not in text and "Traceback" not in text and str(api.token) not in text
    assert "RuntimeError" in caplog.text and "internal error" in caplog.text


# --- tokens ----------------------------------------------------------------------------


def test_no_bad_revoked_or_expired_token_gets_in(api: InProcess, store_url: str) -> None:
    from licensectl.service.tokens import authenticate
    from licensectl.store.engine import Store
    from licensectl.store.url import normalize_db_url

    for token in ("", "lctl_" + "x" * 43, "not-a-token"):
        answer = api.get("/v1/whoami", token=token)
        assert answer.status_code == 401 and error_of(answer)["exit_code"] == 5
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    made = api.post("/v1/tokens", json={"role": "admin", "expires_in_days": 1})
    assert made.status_code == 201
    secret = made.json()["secret"]
    assert SECRET_RE.match(secret)
    assert (
        api.get("/v1/whoami", token=secret).json()["token_id"] == made.json()["token"]["token_id"]
    )
    store = Store(normalize_db_url(store_url))
    try:
        later = made.json()["token"]["expires_at"]
        from datetime import datetime

        after = datetime.fromisoformat(later.replace("Z", "+00:00")) + timedelta(seconds=1)
        with pytest.raises(Exception, match="has expired"):
            authenticate(store, secret, now=after)
    finally:
        store.dispose()
    gone = api.delete(f"/v1/tokens/{made.json()['token']['token_id']}")
    assert gone.status_code == 200 and gone.json()["revoked_at"]
    refused = api.get("/v1/whoami", token=secret)
    assert refused.status_code == 401 and "revoked" in error_of(refused)["message"]


def test_token_scope_roles_and_logout(api: InProcess, cli: Cli, onboarded: dict[str, str]) -> None:
    partner = api.post(
        "/v1/tokens", json={"role": "partner", "partner": "Acme Integrators", "name": "acme-bot"}
    ).json()
    assert partner["token"]["partner"] == "Acme Integrators"
    # A partner token may not make tokens (403), nor see the list.
    assert (
        api.post("/v1/tokens", json={"role": "admin"}, token=partner["secret"]).status_code == 403
    )
    assert api.get("/v1/tokens", token=partner["secret"]).status_code == 403
    # Wrong scope for the role: 400, naming the field.
    wrong = api.post("/v1/tokens", json={"role": "customer"})
    assert wrong.status_code == 400 and error_of(wrong)["field"] == "customer"
    customer = api.post(
        "/v1/tokens", json={"role": "customer", "customer": onboarded["customer1"]}
    ).json()
    # Another's token is not found for a non-admin; its own it may revoke (logout).
    other = api.delete(f"/v1/tokens/{partner['token']['token_id']}", token=customer["secret"])
    assert other.status_code == 404
    own = api.delete(f"/v1/tokens/{customer['token']['token_id']}", token=customer["secret"])
    assert own.status_code == 200
    assert api.get("/v1/whoami", token=customer["secret"]).status_code == 401
    listed = {t["token_id"]: t for t in api.get("/v1/tokens").json()}
    assert listed[customer["token"]["token_id"]]["revoked_at"] is not None
    assert "secret" not in json.dumps(listed) and customer["secret"] not in json.dumps(listed)


def test_events_name_the_token_and_never_a_secret(
    api: InProcess, cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    made = api.post(
        "/v1/tokens", json={"role": "partner", "partner": "Acme Integrators", "name": "acme-bot"}
    ).json()
    moved = api.post(
        f"/v1/licenses/{onboarded['license']}/transfer",
        json={"to": "P2022-0208", "quantity": 1},
        token=made["secret"],
    ).json()
    login = api.post("/v1/login/eid", json={"license_id": moved["transferred"]["license_id"]})
    api.delete(f"/v1/tokens/{made['token']['token_id']}")
    history = cli.json("license", "history", onboarded["license"])
    assert history["events"][-1]["actor"] == "partner:acme-bot"
    events = _all_events(store_url)
    by_action = {e["action"]: e for e in events}
    assert by_action["token.create"]["details"]["token_id"] == made["token"]["token_id"]
    assert by_action["token.create"]["actor"] == "admin:root"
    assert by_action["token.revoke"]["details"]["name"] == "acme-bot"
    eid = by_action["token.login-eid"]
    assert eid["actor"] == f"customer:{login.json()['token']['name']}"
    dump = json.dumps(events)
    assert api.token is not None
    for secret in (made["secret"], login.json()["secret"], api.token):
        assert secret not in dump


def _all_events(store_url: str) -> list[dict[str, Any]]:
    from sqlmodel import col, select

    from licensectl.models import Event
    from licensectl.store.engine import Store
    from licensectl.store.url import normalize_db_url

    store = Store(normalize_db_url(store_url))
    try:
        with store.read() as s:
            rows = s.exec(select(Event).order_by(col(Event.id))).all()
            return [{"action": e.action, "actor": e.actor, "details": e.details} for e in rows]
    finally:
        store.dispose()


# --- the EID login -------------------------------------------------------------------------


def test_eid_login_gives_a_customer_token_scoped_to_its_account(
    api: InProcess, cli: Cli, onboarded: dict[str, str]
) -> None:
    moved = cli.json(
        "transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes"
    )
    eid = moved["transferred"]["license_id"]
    login = api.post("/v1/login/eid", json={"license_id": eid}, token="")
    assert login.status_code == 200
    token = login.json()["token"]
    assert token["role"] == "customer" and token["customer_id"] == onboarded["customer1"]
    from datetime import datetime

    created = datetime.fromisoformat(token["created_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))
    assert expires - created == timedelta(hours=12)
    seen = api.get("/v1/licenses", token=login.json()["secret"]).json()["items"]
    assert {i["license_id"] for i in seen} == {eid}
    # The remainder sits in the partner's inventory: out of scope, so not found.
    remainder = moved["remainder"]["license_id"]
    hidden = api.get(f"/v1/licenses/{remainder}", token=login.json()["secret"])
    assert hidden.status_code == 404
    # A customer may not transfer even its own license: 403.
    forbidden = api.post(
        f"/v1/licenses/{eid}/transfer", json={"to": "P-Building 1"}, token=login.json()["secret"]
    )
    assert forbidden.status_code == 403 and error_of(forbidden)["kind"] == "forbidden"


def test_eid_login_refuses_alike_and_limits_failures_per_address(
    api: InProcess, cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    unknown = api.post("/v1/login/eid", json={"license_id": "00000000-0000-4000-8000-000000000000"})
    inventory = api.post("/v1/login/eid", json={"license_id": onboarded["license"]})
    malformed = api.post("/v1/login/eid", json={"license_id": "nonsense"})
    assert {unknown.status_code, inventory.status_code, malformed.status_code} == {401}
    assert error_of(unknown)["message"] == error_of(inventory)["message"]
    assert error_of(unknown)["message"] == error_of(malformed)["message"]
    for _ in range(7):  # 10 failures in all
        assert api.post("/v1/login/eid", json={"license_id": "nonsense"}).status_code == 401
    moved = cli.json("transfer", onboarded["license"], "--to", "P2022-0208", "--yes")
    good = {"license_id": moved["transferred"]["license_id"]}
    limited = api.post("/v1/login/eid", json=good)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert error_of(limited)["kind"] == "rate_limited"
    # Another address is not held back by this one's failures (a new app: the count is
    # in the store, not in the process).
    app, store = open_app(store_url)
    elsewhere = InProcess(app, client=("192.0.2.7", 40000))
    try:
        assert elsewhere.post("/v1/login/eid", json=good).status_code == 200
        same = InProcess(app)
        try:
            assert same.post("/v1/login/eid", json=good).status_code == 429
        finally:
            same.close()
    finally:
        elsewhere.close()
        store.dispose()


# --- retry-safe writes -------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer_and_changes_nothing_more(
    api: InProcess, cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    key = {IDEMPOTENCY_HEADER: "3f1c0b9e-first"}
    first = api.post("/v1/customers", json={"name": "Retry Co"}, headers=key)
    again = api.post("/v1/customers", json={"name": "Retry Co"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content and again.headers[IDEMPOTENT_REPLAY_HEADER] == "true"
    names = [c["name"] for c in cli.json("customer", "list")]
    assert names.count("Retry Co") == 1
    other = api.post("/v1/customers", json={"name": "Other Co"}, headers=key)
    assert other.status_code == 409 and error_of(other)["field"] == IDEMPOTENCY_HEADER
    # A refusal is an answer too: replayed, even once the cause is gone.
    dup = {IDEMPOTENCY_HEADER: "dup-1"}
    refused = api.post("/v1/customers", json={"name": "Retry Co"}, headers=dup)
    assert refused.status_code == 409
    # Keys are per token: another token's same key is its own.
    second = api.post("/v1/tokens", json={"role": "admin"}).json()["secret"]
    mine = api.post("/v1/customers", json={"name": "Mine Co"}, headers=key, token=second)
    assert mine.status_code == 201
    # And they hold across a restart: a new app over a newly opened store.
    app, store = open_app(store_url)
    restarted = InProcess(app)
    try:
        replayed = restarted.post(
            "/v1/customers", json={"name": "Retry Co"}, headers=key, token=str(api.token)
        )
        assert replayed.content == first.content
        assert (
            restarted.post(
                "/v1/customers", json={"name": "Retry Co"}, headers=dup, token=str(api.token)
            ).content
            == refused.content
        )
    finally:
        restarted.close()
        store.dispose()
    assert [c["name"] for c in cli.json("customer", "list")].count("Retry Co") == 1


def test_a_replayed_token_keeps_its_secret_out_of_the_store(api: InProcess, store_url: str) -> None:
    key = {IDEMPOTENCY_HEADER: "token-once"}
    first = api.post("/v1/tokens", json={"role": "admin", "name": "ci"}, headers=key)
    again = api.post("/v1/tokens", json={"role": "admin", "name": "ci"}, headers=key)
    assert first.status_code == 201 and again.content == first.content
    secret = first.json()["secret"]
    assert secret.encode() not in _store_bytes(store_url)


def _store_bytes(store_url: str) -> bytes:
    """Every byte the store holds that could carry a secret."""
    if "://" not in store_url:
        path = Path(store_url)
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    import psycopg

    with psycopg.connect(store_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT body FROM idempotency_key UNION ALL SELECT convert_to(secret_hash, 'UTF8') "
            "FROM api_token UNION ALL SELECT convert_to(details::text, 'UTF8') FROM event"
        ).fetchall()
    return b"".join(bytes(r[0] or b"") for r in rows)


def test_expired_keys_are_forgotten(store_url: str, cli: Cli) -> None:
    from licensectl.domain import utcnow
    from licensectl.service import idempotency as records
    from licensectl.store.engine import Store
    from licensectl.store.url import normalize_db_url

    cli.ok("db", "upgrade")
    store = Store(normalize_db_url(store_url))
    try:
        with store.write() as s:
            assert records.claim(s, "k" * 64, now=utcnow() - timedelta(hours=25)) is None
        with store.write() as s:
            assert records.claim(s, "k" * 64, now=utcnow() - timedelta(hours=23)) is not None
        with store.write() as s:  # 24 h on, the first claim is gone: the key is new again
            assert records.claim(s, "k" * 64) is None
    finally:
        store.dispose()


def test_streamed_writes_are_retry_safe_too(api: InProcess, cli: Cli) -> None:
    csv = b"partner,purchase_order,type,devices\nAcme Integrators,PO-77,core,1\n"
    key = {IDEMPOTENCY_HEADER: "import-1", "Content-Type": "text/csv"}
    first = api.post("/v1/imports", content=chunks(csv, 7), headers=key)
    again = api.post("/v1/imports", content=csv, headers=key)
    assert first.json()["created"] == 1 and again.content == first.content
    other = api.post("/v1/imports", content=csv.replace(b"PO-77", b"PO-78"), headers=key)
    assert other.status_code == 409
    batch = b'{"op": "customer.add", "name": "Batch Co"}\n'
    bkey = {IDEMPOTENCY_HEADER: "batch-1"}
    one = api.post("/v1/batches", content=batch, headers=bkey)
    two = api.post("/v1/batches", content=batch, headers=bkey)
    assert one.status_code == 200 and two.content == one.content
    assert two.headers[IDEMPOTENT_REPLAY_HEADER] == "true"
    assert [c["name"] for c in cli.json("customer", "list")].count("Batch Co") == 1
    assert len(cli.json("search", "po", "PO-77")) == 1


# --- bodies: caps, streams, the same bytes as the CLI ----------------------------------------


def test_bodies_beyond_their_cap_are_413_and_change_nothing(
    cli: Cli, store_url: str, onboarded: dict[str, str]
) -> None:
    app, store = open_app(store_url, json_body_max=1024, upload_max=4096)
    client = InProcess(app)
    client.token = cli.ok("token", "create", "--role", "admin").stdout.strip()
    try:
        big = {"name": "x" * 2000}
        declared = client.post("/v1/partners", json=big)
        assert declared.status_code == 413 and error_of(declared)["kind"] == "too_large"
        streamed = client.post(
            "/v1/partners", content=chunks(json.dumps(big).encode(), 100),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert streamed.status_code == 413
        rows = b"".join(b"Acme Integrators,PO-BIG,%d,core,1\n" % i for i in range(1, 400))
        upload = b"partner,purchase_order,po_line,type,devices\n" + rows
        assert len(upload) > 4096
        cut = client.post(
            "/v1/imports", content=chunks(upload, 512), headers={"Content-Type": "text/csv"}
        )
        assert cut.status_code == 413 and error_of(cut)["exit_code"] == 2
        assert cli.json("search", "po", "PO-BIG") == []  # all or nothing
        fits = client.post("/v1/imports", content=upload[:4000].rsplit(b"\n", 1)[0] + b"\n")
        assert fits.status_code == 200 and fits.json()["created"] > 0
    finally:
        client.close()
        store.dispose()


def test_the_import_body_is_read_as_it_streams_in_flat_memory() -> None:
    """16 MiB through the bridge holds no more than a few chunks at any time."""
    import tracemalloc

    import anyio
    from starlette.requests import Request

    from licensectl.server.streams import body_lines

    line = b"Acme Integrators,PO-1,capacity,200,1\n"
    total = 16 * 1024 * 1024
    chunk = line * (65536 // len(line))

    async def main() -> tuple[int, int]:
        sent = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent >= total:
                return {"type": "http.request", "body": b"", "more_body": False}
            sent += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}

        request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        lines = body_lines(request)

        def count() -> int:
            return sum(1 for _ in lines)

        tracemalloc.start()
        counted = await anyio.to_thread.run_sync(count)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return counted, peak

    counted, peak = anyio.run(main)
    assert counted == (total // len(chunk) + (total % len(chunk) > 0)) * (65536 // len(line))
    assert peak < 2 * 1024 * 1024, peak


def test_export_and_batch_answer_what_the_cli_prints(
    api: InProcess, cli: Cli, onboarded: dict[str, str], tmp_path: Path
) -> None:
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes")
    for fmt, media in (("csv", "text/csv"), ("jsonl", "application/x-ndjson")):
        local = cli.ok("export", "--format", fmt, "--status", "available").stdout_bytes
        remote = api.get("/v1/exports", params={"format": fmt, "status": "available"})
        assert remote.status_code == 200 and remote.headers["content-type"].startswith(media)
        assert remote.content == local
    assert api.get("/v1/exports", params={"customer": "nobody"}).status_code == 404
    batch = (
        '{"op": "customer.add", "name": "B-1", "as": "b"}\n'
        '{"op": "customer.email.add", "customer": "$b", "email": "ops@b.example"}\n'
        '{"op": "customer.add", "name": "B-1"}\n'
    )
    local_db = tmp_path / "twin.db"
    twin = Cli(db=str(local_db))
    twin.ok("partner", "add", "Acme Integrators")
    twin.ok("customer", "add", "P2022-0208")
    twin.ok("customer", "add", "P-Building 1")
    expected = twin.run("batch", "-", input=batch).stdout.splitlines()
    answer = api.post("/v1/batches", content=chunks(batch.encode(), 10))
    assert answer.status_code == 200
    got = [json.loads(x) for x in answer.text.splitlines()]
    want = [json.loads(x) for x in expected]
    assert [(g["line"], g["ok"]) for g in got] == [(w["line"], w["ok"]) for w in want]
    assert got[2]["error"]["exit_code"] == 4
    atomic = api.post(
        "/v1/batches",
        params={"atomic": "true"},
        content=b'{"op": "customer.add", "name": "B-2"}\n{"op": "customer.add", "name": "B-1"}\n',
    )
    assert [json.loads(x)["line"] for x in atomic.text.splitlines()] == [2]
    assert "B-2" not in {c["name"] for c in cli.json("customer", "list")}


def test_offline_activation_answers_the_signed_bytes(
    api: InProcess, cli: Cli, onboarded: dict[str, str], tmp_path: Path
) -> None:
    moved = cli.json("transfer", onboarded["license"], "--to", "P2022-0208", "--yes")
    lid = moved["transferred"]["license_id"]
    request = tmp_path / "request.json"
    cli.ok("smartserver", "request", "--install-code", "OFF-1", "--license", f"{lid}:2",
           "--out", str(request))  # fmt: skip
    answer = api.post("/v1/activations/offline", content=request.read_bytes())
    assert answer.status_code == 200
    # The CLI answering the same request gives the very same bytes (stored, not re-signed).
    assert cli.ok("activate-offline", str(request)).stdout_bytes == answer.content
    keys = api.get("/v1/keys/public", token="").json()
    public = tmp_path / "portal.pem"
    public.write_text(next(k for k in keys if k["active"])["public_key_pem"])
    response = tmp_path / "response.json"
    response.write_bytes(answer.content)
    cli.ok("smartserver", "verify", str(response), "--public-key", str(public),
           "--request", str(request))  # fmt: skip
    broken = api.post("/v1/activations/offline", content=b"{not a request")
    assert broken.status_code == 422 and error_of(broken)["exit_code"] == 7


def test_text_no_store_can_hold_is_a_bad_argument_not_a_crash(api: InProcess, cli: Cli) -> None:
    """A NUL character in text: PostgreSQL refuses it outright (found by the fuzzer)."""
    answers = [
        api.get("/v1/search/customers", params={"q": "a\x00b"}),
        api.get("/v1/search/po", params={"q": "PO\x00"}),
        api.get("/v1/licenses", params={"partner": "x\x00"}),
        api.post("/v1/customers", json={"name": "New", "partner": "x\x00"}),
    ]
    for answer in answers:  # SQLite takes it: nothing matches, or not found
        assert answer.status_code in (200, 400, 404), answer.text
        if answer.status_code != 200:
            assert error_of(answer)["exit_code"] in (2, 3)
    line = json.dumps({"op": "customer.add", "name": "N", "partner": "x\x00"})
    result = json.loads(cli.run("batch", "-", input=line + "\n").stdout)
    assert result["ok"] is False and result["error"]["exit_code"] in (2, 3)
