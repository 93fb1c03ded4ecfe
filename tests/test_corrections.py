"""Fixing mistakes (issue 12): renames, notes, removing an unused account, voiding a
license; on SQLite and PostgreSQL, in batch and through the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import Cli
from serverkit import InProcess

from licensectl.store.url import normalize_db_url


def events(store_url: str, action: str) -> list[dict[str, Any]]:
    """The events of one action, oldest first, straight from the store."""
    from sqlmodel import col, select

    from licensectl.models import Event
    from licensectl.store.engine import Store

    store = Store(normalize_db_url(store_url))
    try:
        with store.read() as s:
            rows = s.exec(select(Event).where(Event.action == action).order_by(col(Event.id)))
            return [{"actor": e.actor, "customer_id": e.customer_id, **e.details} for e in rows]
    finally:
        store.dispose()


# --- renames and notes ----------------------------------------------------------------


def test_partner_rename_keeps_everything_and_logs_old_and_new(
    cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    assert cli.ok("partner", "rename", "acme integrators", "Acme Systems").stdout.strip() == (
        "Acme Systems"
    )
    assert [p["name"] for p in cli.json("partner", "list")] == ["Acme Systems"]
    lic = cli.json("license", "show", onboarded["license"])
    assert lic["partner"] == "Acme Systems"
    [event] = events(store_url, "partner.rename")
    assert (event["old"], event["new"]) == ("Acme Integrators", "Acme Systems")
    cli.ok("partner", "add", "Beta")
    taken = cli.fails(4, "partner", "rename", "Beta", "ACME systems")
    assert "already exists" in taken.stderr
    cli.fails(3, "partner", "rename", "Nobody", "Somebody")
    cli.fails(2, "partner", "rename", "Beta", "  ")
    assert [p["name"] for p in cli.json("partner", "list")] == ["Acme Systems", "Beta"]


def test_customer_rename_and_note_keep_the_id_and_log_old_and_new(
    cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    cid = onboarded["customer1"]
    assert cli.ok("customer", "rename", "P2022-0208", "P2022-0209").stdout.strip() == cid
    shown = cli.json("customer", "note", cid, "east wing")
    assert (shown["customer_id"], shown["name"], shown["note"]) == (cid, "P2022-0209", "east wing")
    assert cli.json("customer", "note", "P2022-0209", "")["note"] is None
    [renamed] = events(store_url, "customer.rename")
    assert (renamed["old"], renamed["new"], renamed["customer_id"]) == (
        "P2022-0208",
        "P2022-0209",
        cid,
    )
    notes = events(store_url, "customer.note")
    assert [(e["old"], e["new"]) for e in notes] == [(None, "east wing"), ("east wing", None)]
    taken = cli.fails(4, "customer", "rename", cid, "p-building 1")
    assert onboarded["customer2"] in taken.stderr
    cli.fails(2, "customer", "rename", cid, "00000000-0000-4000-8000-000000000000")
    cli.fails(3, "customer", "note", "P2022-0208", "x")  # the old name is gone
    assert cli.json("customer", "show", cid)["name"] == "P2022-0209"


def test_license_note_logs_old_and_new(cli: Cli, onboarded: dict[str, str], store_url: str) -> None:
    lid = onboarded["license"]
    assert cli.json("license", "note", lid, "for the east wing")["note"] == "for the east wing"
    cli.json("license", "note", lid, "for the west wing")
    history = cli.json("license", "history", lid)
    notes = [e["details"] for e in history["events"] if e["action"] == "license.note"]
    assert notes == [
        {"old": None, "new": "for the east wing"},
        {"old": "for the east wing", "new": "for the west wing"},
    ]
    cli.fails(2, "license", "note", lid, "bad\x1b[31m")
    cli.fails(3, "license", "note", "00000000-0000-4000-8000-000000000000", "x")


# --- removing an account ---------------------------------------------------------------


def test_customer_remove_only_an_account_that_never_held_a_license(
    cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "1", "--yes")
    held = cli.fails(4, "customer", "remove", "P2022-0208", "--yes")
    assert "has held 1 license" in held.stderr and "rename" in held.stderr
    assert cli.json("customer", "show", "P2022-0208")["emails"] == ["owner@example.com"]
    # Without --yes and no terminal to ask: exit 2, nothing removed.
    cli.fails(2, "customer", "remove", "P-Building 1")
    assert (
        cli.ok("customer", "remove", "P-Building 1", "--yes").stdout.strip()
        == (onboarded["customer2"])
    )
    cli.fails(3, "customer", "show", onboarded["customer2"])
    [removed] = events(store_url, "customer.remove")
    assert removed["name"] == "P-Building 1" and removed["customer_id"] == onboarded["customer2"]
    # The name is free again.
    cli.ok("customer", "add", "P-Building 1")
    assert cli.json("db", "check")["ok"]


def test_customer_remove_drops_its_contacts(cli: Cli, onboarded: dict[str, str]) -> None:
    cli.ok("customer", "add", "Typo", "--email", "a@example.com", "--email", "b@example.com")
    removed = cli.json("--yes", "customer", "remove", "Typo")
    assert removed["emails"] == ["a@example.com", "b@example.com"]
    cli.ok("customer", "add", "Typo", "--email", "a@example.com")


# --- voiding a license ---------------------------------------------------------------


def _add(cli: Cli, line: int, quantity: int = 2) -> str:
    return cli.ok(
        "license", "add", "--po", "PO-2001", "--po-line", str(line), "--type", "core",
        "--devices", "1", "--quantity", str(quantity),
    ).stdout.strip()  # fmt: skip


def test_void_keeps_the_license_read_only_and_frees_its_po_line(
    cli: Cli, onboarded: dict[str, str], store_url: str, tmp_path: Path
) -> None:
    lid = _add(cli, 1)
    cli.fails(2, "license", "void", lid, "--reason", "wrong line")  # needs --yes here
    assert (
        cli.ok("license", "void", lid, "--reason", "wrong PO line", "--yes").stdout.strip() == lid
    )
    shown = cli.json("license", "show", lid)
    assert (shown["status"], shown["free_copies"]) == ("void", 0)
    # Listed only when asked for; exports alike.
    listed = {i["license_id"] for i in cli.json("license", "list")}
    assert lid not in listed and onboarded["license"] in listed
    assert [i["license_id"] for i in cli.json("license", "list", "--status", "void")] == [lid]
    assert lid not in cli.ok("export", "--format", "jsonl").stdout
    voided = cli.ok("export", "--format", "csv", "--status", "void").stdout
    assert lid in voided and ",void," in voided
    # Search by PO still finds it, so a PO can be traced.
    assert lid in {i["license_id"] for i in cli.json("search", "po", "PO-2001")}
    # Read-only: no transfer, no activation, no second void.
    assert "is void" in cli.fails(4, "transfer", lid, "--to", "P2022-0208", "--yes").stderr
    assert "is void" in cli.fails(4, "activate", lid, "--install-code", "SS-1").stderr
    assert "already void" in cli.fails(4, "license", "void", lid, "--reason", "x", "--yes").stderr
    [event] = events(store_url, "license.void")
    assert event["reason"] == "wrong PO line" and (event["old"], event["new"]) == (
        "available",
        "void",
    )
    history = cli.json("license", "history", lid)
    assert [e["action"] for e in history["events"]] == ["license.add", "license.void"]
    # Its PO line can be added again, and imported again.
    again = _add(cli, 1)
    assert again != lid
    lid2 = _add(cli, 2)
    cli.ok("license", "void", lid2, "--reason", "typo", "--yes")
    file = tmp_path / "po.csv"
    file.write_text(
        "partner,purchase_order,po_line,type,devices,quantity\n"
        "Acme Integrators,PO-2001,2,core,1,3\n"
    )
    assert cli.json("import", str(file))["created"] == 1
    assert cli.json("import", str(file))["unchanged"] == 1  # the new one, not the void one
    report = cli.json("db", "check")
    assert report["ok"], report


def test_only_a_license_never_transferred_or_activated_can_be_voided(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    moved = cli.ok(
        "transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "2", "--yes"
    ).stdout.split()
    assert "was transferred" in (
        cli.fails(4, "license", "void", onboarded["license"], "--reason", "x", "--yes").stderr
    )
    for minted in moved:
        assert "came from a transfer" in (
            cli.fails(4, "license", "void", minted, "--reason", "x", "--yes").stderr
        )
    cli.fails(2, "license", "void", _add(cli, 1), "--reason", "  ", "--yes")
    cli.fails(3, "license", "void", "00000000-0000-4000-8000-000000000000", "--reason", "x")
    assert cli.json("license", "list", "--status", "void") == []


# --- batch and the server ---------------------------------------------------------------


def test_every_correction_runs_in_batch(cli: Cli, onboarded: dict[str, str]) -> None:
    lid = _add(cli, 1)
    lines = [
        {"op": "partner.rename", "partner": "Acme Integrators", "name": "Acme Systems"},
        {"op": "customer.rename", "customer": "P2022-0208", "name": "P2022-0209"},
        {"op": "customer.note", "customer": "P2022-0209", "note": "east"},
        {"op": "customer.add", "name": "Typo", "as": "typo"},
        {"op": "customer.remove", "customer": "$typo"},
        {"op": "license.note", "license_id": lid, "note": "mistake"},
        {"op": "license.void", "license_id": lid, "reason": "wrong PO line", "as": "v"},
        {"op": "license.void", "license_id": "$v", "reason": "again"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    result = cli.run("-o", "jsonl", "batch", "-", input=text)
    results = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["ok"] for r in results] == [True] * 7 + [False]
    assert results[-1]["error"]["exit_code"] == 4
    assert results[6]["result"]["status"] == "void"
    assert cli.json("customer", "show", "P2022-0209")["note"] == "east"


def test_a_batch_shows_a_partners_new_name_after_its_rename(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    """An atomic batch is one session: a partner's name noted by an earlier operation (to
    show a customer without reading the partner again) is read anew after a rename."""
    lines = [
        {"op": "customer.add", "name": "Harbour", "partner": "Acme Integrators", "as": "h"},
        {"op": "partner.rename", "partner": "Acme Integrators", "name": "Acme Systems"},
        {"op": "customer.note", "customer": "$h", "note": "east"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    result = cli.run("-o", "jsonl", "batch", "--atomic", "-", input=text)
    results = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["ok"] for r in results] == [True] * 3, results
    assert results[0]["result"]["partner"] == "Acme Integrators"
    assert results[2]["result"]["partner"] == "Acme Systems"


def test_corrections_through_the_server(
    cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    from test_server_api import open_app

    secret = cli.ok("token", "create", "--role", "admin", "--name", "root").stdout.strip()
    partner_secret = cli.ok(
        "token", "create", "--role", "partner", "--partner", "Acme Integrators", "--name", "p"
    ).stdout.strip()
    app, store = open_app(store_url)
    api = InProcess(app)
    api.token = secret
    try:
        lid = _add(cli, 1)
        r = api.post("/v1/partners/Acme Integrators/rename", json={"name": "Acme Systems"})
        assert r.status_code == 200 and r.json()["name"] == "Acme Systems", r.text
        r = api.post(f"/v1/customers/{onboarded['customer1']}/rename", json={"name": "P-9"})
        assert r.json()["name"] == "P-9", r.text
        r = api.request("PUT", "/v1/customers/P-9/note", json={"note": "east"})
        assert r.json()["note"] == "east", r.text
        r = api.request("PUT", f"/v1/licenses/{lid}/note", json={"note": "oops"})
        assert r.json()["note"] == "oops", r.text
        # A partner may not void (403), an admin may (200); then 409.
        r = api.post(f"/v1/licenses/{lid}/void", json={"reason": "x"}, token=partner_secret)
        assert r.status_code == 403, r.text
        r = api.post(f"/v1/licenses/{lid}/void", json={"reason": "wrong line"})
        assert r.status_code == 200 and r.json()["status"] == "void", r.text
        r = api.post(f"/v1/licenses/{lid}/void", json={"reason": "wrong line"})
        assert r.status_code == 409 and r.json()["error"]["exit_code"] == 4
        assert (
            api.get("/v1/licenses", params={"status": "void"}).json()["items"][0]["license_id"]
            == lid
        )
        # The partner may remove its own unused account.
        r = api.request(
            "DELETE", f"/v1/customers/{onboarded['customer2']}", json={}, token=partner_secret
        )
        assert r.status_code == 200, r.text
        assert api.get(f"/v1/customers/{onboarded['customer2']}").status_code == 404
        cli.ok("transfer", onboarded["license"], "--to", "P-9", "--yes")
        r = api.request("DELETE", "/v1/customers/P-9", json={})
        assert r.status_code == 409 and "has held" in r.json()["error"]["message"], r.text
    finally:
        api.close()
        store.dispose()


def test_a_store_made_before_void_is_upgraded(store_url: str, cli: Cli) -> None:
    """Revision 0006 on a store at 0005: customer notes, and void frees the PO line."""
    from sqlalchemy import text

    from licensectl.store.engine import Store

    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "C1")
    store = Store(normalize_db_url(store_url))
    try:
        with store.write() as s:  # back to revision 0005, as an older licensectl left it
            s.execute(text("DROP INDEX uq_license_po_line"))
            s.execute(
                text(
                    "CREATE UNIQUE INDEX uq_license_po_line ON license "
                    "(partner_id, po_key, po_line) WHERE parent_id IS NULL"
                )
            )
            s.execute(text("ALTER TABLE customer DROP COLUMN note"))
            s.execute(text("DELETE FROM schema_migration WHERE version >= 6"))
            s.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    finally:
        store.dispose()

    # A new process, as an upgraded licensectl would be (this one remembers the store
    # as current).
    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "licensectl", "--db", store_url, "-o", "json", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert json.loads(run("customer", "note", "C1", "hello"))["note"] == "hello"
    po = ("license", "add", "--po", "PO-2001", "--type", "core", "--devices", "1")
    lid = json.loads(run(*po))["license_id"]
    run("--yes", "license", "void", lid, "--reason", "typo")
    assert json.loads(run(*po))["license_id"] != lid
    assert json.loads(run("db", "check"))["ok"]
