"""activate, return, activate-offline, smartserver … and keys …, on every backend.

Device-side commands (`smartserver request|verify|inspect`) run without any store
(`DEVICE`), as they would on a SmartServer's side of the air gap.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli

from licensectl.cli.output import Environment
from licensectl.domain import Role
from licensectl.errors import PermissionDeniedError

DEVICE = Cli(db=None)
#: Device-side behaviour does not depend on the portal's database: one backend will do.
sqlite_portal = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

ACTIVATION_KEYS = {
    "license_id",
    "install_code",
    "copies",
    "mode",
    "activated_at",
    "maintenance_expires",
    "maintenance_status",
}
SMARTSERVER_KEYS = {
    "install_code",
    "name",
    "capacity",
    "maintenance_devices",
    "covered",
    "maintenance_status",
    "activations",
}


@pytest.fixture
def lic(cli: Cli, onboarded: dict[str, str]) -> dict[str, str]:
    """License IDs in each state an activation cares about.

    capacity: 5 copies × 200 devices in customer P2022-0208; maintenance: 2 copies × 1000
    devices, 12 months, same customer; retired: the capacity license's transferred
    original; inventory: a capacity license still in the partner's own inventory.
    """
    capacity = cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--yes").stdout
    add = ["license", "add", "--po", "PO-2002", "--devices", "1000"]
    maint = cli.ok(*add, "--type", "maintenance", "--term", "12", "--quantity", "2").stdout
    maintenance = cli.ok("transfer", maint.strip(), "--to", "P2022-0208", "--yes").stdout
    inventory = cli.ok(*add, "--po-line", "2", "--type", "capacity").stdout
    return {
        "capacity": capacity.strip(),
        "maintenance": maintenance.strip(),
        "retired": onboarded["license"],
        "inventory": inventory.strip(),
    }


def make_request(tmp_path: Path, code: str, *lines: str, name: str | None = None) -> Path:
    path = tmp_path / f"request-{uuid.uuid4().hex[:8]}.json"
    args = ["smartserver", "request", "--install-code", code, "--out", str(path)]
    for line in lines:
        args += ["--license", line]
    if name is not None:
        args += ["--name", name]
    DEVICE.ok(*args)
    return path


def events(cli: Cli, license_id: str) -> list[str]:
    return [e["action"] for e in cli.json("license", "history", license_id)["events"]]


def state_of(cli: Cli) -> Any:
    """Everything an activation may change, to show that a refusal changed nothing."""
    licenses = cli.json("license", "list", "--all")
    return licenses, [cli.json("license", "show", x["license_id"])["activations"] for x in licenses]


# --- online ---------------------------------------------------------------------


def test_activate_holds_copies_and_repeating_changes_nothing(cli: Cli, lic: dict[str, str]) -> None:
    capacity = lic["capacity"]
    first = cli.json("activate", capacity, "--install-code", "SS-1", "--name", "Lobby")
    assert ACTIVATION_KEYS <= set(first)
    assert (first["copies"], first["mode"], first["install_code"]) == (1, "online", "SS-1")
    assert first["maintenance_expires"] is None and first["maintenance_status"] is None
    shown = cli.json("license", "show", capacity)
    assert (shown["status"], shown["free_copies"]) == ("activated", 4)
    assert [a["install_code"] for a in shown["activations"]] == ["SS-1"]
    # copies is the count to hold, not to add: asking again for 1 changes nothing
    before = events(cli, capacity)
    again = cli.json("activate", capacity, "--install-code", "SS-1")
    assert again == first
    assert events(cli, capacity) == before
    assert cli.json("license", "show", capacity)["free_copies"] == 4
    # grow to 3, shrink to 2: each a change with its event
    assert cli.json("activate", capacity, "--install-code", "SS-1", "--copies", "3")["copies"] == 3
    assert cli.json("activate", capacity, "--install-code", "SS-1", "--copies", "2")["copies"] == 2
    assert cli.json("license", "show", capacity)["free_copies"] == 3
    assert events(cli, capacity)[len(before) :] == ["license.activate", "license.return"]
    history = cli.json("license", "history", capacity)["events"][-1]
    assert history["details"] | {"previous": 3, "copies": 2} == history["details"]
    server = cli.json("smartserver", "show", "SS-1")
    assert server["name"] == "Lobby" and server["capacity"] == 400


def test_return_frees_copies_and_is_idempotent(cli: Cli, lic: dict[str, str]) -> None:
    capacity = lic["capacity"]
    cli.ok("activate", capacity, "--install-code", "SS-1", "--copies", "2")
    cli.ok("activate", capacity, "--install-code", "SS-2", "--copies", "3")
    assert cli.json("license", "show", capacity)["free_copies"] == 0
    cli.fails(4, "activate", capacity, "--install-code", "SS-3")
    returned = cli.json("return", capacity, "--install-code", "SS-1", "--yes")
    assert returned["copies"] == 0 and returned["activated_at"] is not None
    shown = cli.json("license", "show", capacity)
    assert (shown["status"], shown["free_copies"]) == ("activated", 2)
    assert [a["install_code"] for a in shown["activations"]] == ["SS-2"]
    count = len(events(cli, capacity))
    # again: nothing held, nothing to confirm, nothing changes
    assert cli.json("return", capacity, "--install-code", "SS-1")["copies"] == 0
    assert len(events(cli, capacity)) == count
    # `activate --copies 0` is the same as return
    cli.ok("activate", capacity, "--install-code", "SS-2", "--copies", "0")
    shown = cli.json("license", "show", capacity)
    assert (shown["status"], shown["free_copies"], shown["activations"]) == ("available", 5, [])
    # a SmartServer that never held the license: nothing to return, exit 0
    never = cli.json("return", capacity, "--install-code", "NEVER-SEEN")
    assert never["copies"] == 0 and never["activated_at"] is None
    cli.fails(3, "smartserver", "show", "NEVER-SEEN")
    # once returned, the license can be transferred again
    cli.ok("transfer", capacity, "--to", "P-Building 1", "--yes")


def test_activation_rules_refuse_and_change_nothing(cli: Cli, lic: dict[str, str]) -> None:
    before = state_of(cli)
    result = cli.fails(4, "activate", lic["inventory"], "--install-code", "SS-1")
    assert "transfer it to a customer account" in result.stderr
    result = cli.fails(4, "activate", lic["retired"], "--install-code", "SS-1")
    assert "was transferred" in result.stderr
    result = cli.fails(4, "activate", lic["capacity"], "--install-code", "SS-1", "--copies", "6")
    assert "not enough free copies" in result.stderr
    cli.fails(3, "activate", str(uuid.uuid4()), "--install-code", "SS-1")
    cli.fails(2, "activate", "not-a-uuid", "--install-code", "SS-1")
    cli.fails(2, "activate", lic["capacity"], "--install-code", "SS-1", "--copies", "-1")
    cli.fails(2, "activate", lic["capacity"], "--install-code", "   ")
    cli.fails(2, "activate", lic["capacity"], "--install-code", "x" * 129)
    cli.fails(2, "activate", lic["capacity"])  # no install code
    assert state_of(cli) == before
    cli.fails(3, "smartserver", "show", "SS-1")  # not even created


def test_transfer_of_an_activated_license_is_refused(cli: Cli, lic: dict[str, str]) -> None:
    cli.ok("activate", lic["capacity"], "--install-code", "SS-1")
    result = cli.fails(4, "transfer", lic["capacity"], "--to", "P-Building 1", "--yes")
    assert "return them before transferring" in result.stderr
    cli.fails(4, "transfer", lic["capacity"], "--to", "P-Building 1", "--quantity", "1", "--yes")
    assert cli.json("license", "show", lic["capacity"])["status"] == "activated"


def test_return_asks_for_confirmation(cli: Cli, lic: dict[str, str]) -> None:
    capacity = lic["capacity"]
    cli.ok("activate", capacity, "--install-code", "SS-1", "--copies", "2")
    result = cli.fails(2, "return", capacity, "--install-code", "SS-1")
    assert "--yes" in result.stderr
    cli.fails(2, "--no-input", "return", capacity, "--install-code", "SS-1")
    tty = Environment(stdin_isatty=True, stdout_isatty=False, stderr_isatty=True)
    declined = cli.run("return", capacity, "--install-code", "SS-1", input="n\n", obj=tty)
    assert declined.exit_code == 130
    assert "Return 2 copies" in declined.stderr and "[y/N]" in declined.stderr
    assert cli.json("license", "show", capacity)["free_copies"] == 3
    accepted = cli.run("return", capacity, "--install-code", "SS-1", input="y\n", obj=tty)
    assert accepted.exit_code == 0, accepted.stderr
    assert cli.json("license", "show", capacity)["free_copies"] == 5


def test_activation_json_and_table(cli: Cli, lic: dict[str, str]) -> None:
    table = cli.ok("activate", lic["capacity"], "--install-code", "SS-1").stdout
    assert "SS-1" in table and "online" in table
    jsonl = cli.ok("-o", "jsonl", "activate", lic["capacity"], "--install-code", "SS-1").stdout
    assert json.loads(jsonl)["copies"] == 1
    shown = cli.ok("license", "show", lic["capacity"]).stdout
    assert "Activations" in shown and "SS-1" in shown


# --- maintenance -------------------------------------------------------------------


def test_maintenance_expiry_status_and_expiring_within(cli: Cli, lic: dict[str, str]) -> None:
    maintenance = lic["maintenance"]
    assert cli.json("license", "list", "--expiring-within", "400") == []
    act = cli.json("activate", maintenance, "--install-code", "SS-1")
    assert act["maintenance_status"] == "active"
    activated = act["activated_at"]
    # a 12-month term counts from activation, to the second
    year, rest = activated.split("-", 1)
    assert act["maintenance_expires"] == f"{int(year) + 1}-{rest}" or rest.startswith("02-29")
    cli.ok("activate", lic["capacity"], "--install-code", "SS-1")
    listed = [x["license_id"] for x in cli.json("license", "list", "--expiring-within", "400")]
    assert listed == [maintenance]
    assert cli.json("license", "list", "--expiring-within", "300") == []
    assert cli.json("license", "list", "--expiring-within", "0") == []
    # further than the calendar goes: everything with maintenance in use
    far = cli.json("license", "list", "--expiring-within", str(10**12))
    assert [x["license_id"] for x in far] == [maintenance]
    both = ["--expiring-within", "400", "--type", "capacity"]
    assert cli.json("license", "list", *both) == []
    assert cli.json("license", "show", maintenance)["activations"][0]["maintenance_status"] == (
        "active"
    )
    # returned maintenance no longer needs renewal
    cli.ok("return", maintenance, "--install-code", "SS-1", "--yes")
    assert cli.json("license", "list", "--expiring-within", "400") == []
    cli.fails(2, "license", "list", "--expiring-within", "-1")


def test_returning_and_activating_again_never_extends_maintenance(
    cli: Cli, lic: dict[str, str]
) -> None:
    maintenance = lic["maintenance"]
    first = cli.json("activate", maintenance, "--install-code", "SS-1")
    cli.ok("return", maintenance, "--install-code", "SS-1", "--yes")
    again = cli.json("activate", maintenance, "--install-code", "SS-2")
    assert again["maintenance_expires"] == first["maintenance_expires"]
    # nor does a transfer after the return: the successor inherits the term
    cli.ok("return", maintenance, "--install-code", "SS-2", "--yes")
    moved = cli.ok("transfer", maintenance, "--to", "P-Building 1", "--yes").stdout.strip()
    later = cli.json("activate", moved, "--install-code", "SS-3")
    assert later["maintenance_expires"] == first["maintenance_expires"]


def test_smartserver_show_capacity_and_coverage(cli: Cli, lic: dict[str, str]) -> None:
    cli.ok("activate", lic["capacity"], "--install-code", "SS-1", "--copies", "2")
    server = cli.json("smartserver", "show", "SS-1")
    assert SMARTSERVER_KEYS <= set(server)
    assert (server["capacity"], server["maintenance_devices"], server["covered"]) == (400, 0, False)
    assert server["maintenance_status"] is None
    assert [a["copies"] for a in server["activations"]] == [2]
    assert ACTIVATION_KEYS <= set(server["activations"][0])
    cli.ok("activate", lic["maintenance"], "--install-code", "SS-1")
    server = cli.json("smartserver", "show", "SS-1")
    assert (server["capacity"], server["maintenance_devices"], server["covered"]) == (
        400,
        1000,
        True,
    )
    assert server["maintenance_status"] == "active"
    # capacity equal to maintenance is covered; without maintenance it is not
    cli.ok("activate", lic["capacity"], "--install-code", "SS-1", "--copies", "5")
    server = cli.json("smartserver", "show", "SS-1")
    assert (server["capacity"], server["covered"]) == (1000, True)
    cli.ok("activate", lic["maintenance"], "--install-code", "SS-1", "--copies", "0")
    assert cli.json("smartserver", "show", "SS-1")["covered"] is False
    table = cli.ok("smartserver", "show", "SS-1").stdout
    assert "capacity" in table and "1000" in table and "Activations" in table
    assert cli.ok("-o", "csv", "smartserver", "show", "SS-1").stdout.startswith("install_code,")


# --- offline -------------------------------------------------------------------------


def test_offline_flow_end_to_end_in_files(cli: Cli, lic: dict[str, str], tmp_path: Path) -> None:
    capacity, maintenance = lic["capacity"], lic["maintenance"]
    cli.ok("activate", capacity, "--install-code", "5A7C-31F2", "--copies", "1")
    # 1. the device asks for 2 capacity copies and a maintenance copy
    req = make_request(
        tmp_path, "5A7C-31F2", f"{capacity}:2", maintenance, name='Gebäude 1 "Lobby"'
    )
    assert json.loads(req.read_text())["licenses"] == [
        {"copies": 2, "license_id": capacity},
        {"copies": 1, "license_id": maintenance},
    ]
    # 2. the portal answers it
    resp = tmp_path / "response.json"
    summary = cli.json("activate-offline", str(req), "--out", str(resp))
    assert (summary["capacity"], summary["maintenance_devices"], summary["covered"]) == (
        400,
        1000,
        True,
    )
    pem = tmp_path / "portal.pem"
    cli.ok("keys", "export-public", "--out", str(pem))
    assert pem.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    # 3. the device accepts it, and sees what it was granted
    verified = DEVICE.json(
        "smartserver", "verify", str(resp), "--public-key", str(pem), "--request", str(req)
    )
    assert verified["verified"] is True and verified["request_checked"] is True
    assert verified["install_code"] == "5A7C-31F2"
    assert verified["nonce"] == json.loads(req.read_text())["nonce"]
    assert [(g["license_id"], g["copies"]) for g in verified["licenses"]] == [
        (capacity, 2),
        (maintenance, 1),
    ]
    assert verified["licenses"][1]["maintenance_status"] == "active"
    table = DEVICE.ok("smartserver", "verify", str(resp), "--public-key", str(pem)).stdout
    assert "capacity" in table and "400" in table
    # the portal recorded it all
    server = cli.json("smartserver", "show", "5A7C-31F2")
    assert server["name"] == 'Gebäude 1 "Lobby"'
    assert {(a["license_id"], a["copies"], a["mode"]) for a in server["activations"]} == {
        (capacity, 2, "offline"),
        (maintenance, 1, "offline"),
    }
    assert (
        server["activations"][1]["maintenance_expires"]
        == verified["licenses"][1]["maintenance_expires"]
    )
    assert cli.json("license", "show", capacity)["free_copies"] == 3
    assert "license.activate" in events(cli, capacity)
    # inspect shows both files without a store
    for path, kind in ((req, "activation request"), (resp, "activation response")):
        assert DEVICE.json("smartserver", "inspect", str(path))["kind"] == kind
    assert "signature was not checked" in DEVICE.ok("smartserver", "inspect", str(resp)).stderr
    # 4. later the device returns the capacity copies the same way
    back = make_request(tmp_path, "5A7C-31F2", f"{capacity}:0", f"{maintenance}:1")
    resp2 = tmp_path / "response2.json"
    cli.ok("activate-offline", str(back), "--out", str(resp2))
    verified = DEVICE.json(
        "smartserver", "verify", str(resp2), "--public-key", str(pem), "--request", str(back)
    )
    assert (verified["capacity"], verified["maintenance_devices"]) == (0, 1000)
    assert verified["licenses"][0]["maintenance_expires"] is None
    assert cli.json("license", "show", capacity)["free_copies"] == 5


def test_response_on_stdout_and_request_from_stdin(
    cli: Cli, lic: dict[str, str], tmp_path: Path
) -> None:
    req = make_request(tmp_path, "SS-1", lic["capacity"])
    out = cli.run("activate-offline", str(req))
    assert out.exit_code == 0, out.stderr
    assert "Signed with key" in out.stderr
    again = cli.run("activate-offline", "-", input=req.read_text(encoding="utf-8"))
    assert again.exit_code == 0, again.stderr
    assert again.stdout_bytes == out.stdout_bytes
    assert json.loads(out.stdout)["format"] == "licensectl.activation-response"
    # and a request can go to stdout too
    printed = DEVICE.ok(
        "smartserver", "request", "--install-code", "SS-1", "--license", lic["capacity"]
    )
    assert json.loads(printed.stdout)["format"] == "licensectl.activation-request"


def test_the_same_request_twice_gives_the_same_bytes_and_consumes_nothing(
    cli: Cli, lic: dict[str, str], tmp_path: Path
) -> None:
    capacity = lic["capacity"]
    req = make_request(tmp_path, "SS-1", f"{capacity}:2")
    first, second = tmp_path / "r1.json", tmp_path / "r2.json"
    cli.ok("activate-offline", str(req), "--out", str(first))
    count = len(events(cli, capacity))
    cli.ok("keys", "rotate")  # even a new signing key does not change the answer
    cli.ok("activate-offline", str(req), "--out", str(second))
    assert first.read_bytes() == second.read_bytes()
    assert cli.json("license", "show", capacity)["free_copies"] == 3
    assert len(events(cli, capacity)) == count
    # the same nonce with other content is refused, and changes nothing
    doc = json.loads(req.read_text())
    doc["licenses"][0]["copies"] = 3
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    result = cli.fails(4, "activate-offline", str(forged), "--out", str(tmp_path / "r3.json"))
    assert "nonce" in result.stderr and "already used" in result.stderr
    assert not (tmp_path / "r3.json").exists()
    assert cli.json("license", "show", capacity)["free_copies"] == 3
    # the same nonce from another SmartServer is its own request
    doc["install_code"] = "SS-2"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    cli.ok("activate-offline", str(other), "--out", str(tmp_path / "r4.json"))
    assert cli.json("license", "show", capacity)["free_copies"] == 0


def test_an_unchanged_request_still_gets_a_response(
    cli: Cli, lic: dict[str, str], tmp_path: Path
) -> None:
    cli.ok("activate", lic["capacity"], "--install-code", "SS-1", "--copies", "2")
    count = len(events(cli, lic["capacity"]))
    req = make_request(tmp_path, "SS-1", f"{lic['capacity']}:2")
    assert (
        cli.json("activate-offline", str(req), "--out", str(tmp_path / "r.json"))["capacity"] == 400
    )
    assert len(events(cli, lic["capacity"])) == count


def test_bad_request_files_exit_7_and_change_nothing(
    cli: Cli, lic: dict[str, str], tmp_path: Path
) -> None:
    req = make_request(tmp_path, "SS-1", lic["capacity"])
    good = req.read_bytes()
    doc = json.loads(good)
    response = tmp_path / "response.json"
    cli.ok("activate-offline", str(req), "--out", str(response))
    before = state_of(cli)
    cases = {
        "not-json": b"install_code=SS-1\n",
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "wrong-version": json.dumps({**doc, "version": 2}).encode(),
        "unknown-field": json.dumps({**doc, "extra": 1}).encode(),
        "array": b"[]",
        "binary": b"\xff\xfe\x00garbage",
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        cli.fails(7, "activate-offline", str(path))
    cli.fails(7, "activate-offline", str(response))  # a response is not a request
    cli.fails(2, "activate-offline", str(tmp_path / "missing.json"))
    cli.fails(2, "activate-offline", str(tmp_path))
    assert state_of(cli) == before


def test_offline_rules_are_all_or_nothing(cli: Cli, lic: dict[str, str], tmp_path: Path) -> None:
    before = state_of(cli)
    out = tmp_path / "r.json"
    for bad in (lic["inventory"], lic["retired"], f"{lic['capacity']}:6"):
        req = make_request(tmp_path, "SS-1", f"{lic['maintenance']}:1", bad)
        cli.fails(4, "activate-offline", str(req), "--out", str(out))
    req = make_request(tmp_path, "SS-1", lic["capacity"], str(uuid.uuid4()))
    cli.fails(3, "activate-offline", str(req), "--out", str(out))
    assert not out.exists()
    assert state_of(cli) == before
    cli.fails(3, "smartserver", "show", "SS-1")
    # an unwritable --out is refused before anything is recorded
    req = make_request(tmp_path, "SS-1", lic["capacity"])
    cli.fails(2, "activate-offline", str(req), "--out", str(tmp_path / "no" / "such" / "dir.json"))
    assert state_of(cli) == before


def test_offline_maintenance_needs_an_admin(
    cli: Cli, lic: dict[str, str], backend_as: Callable[..., Any], tmp_path: Path
) -> None:
    cli.ok("activate", lic["capacity"], "--install-code", "SS-1")
    owner = cli.json("license", "show", lic["capacity"])["customer_id"]
    customer = backend_as(Role.CUSTOMER, customer_id=owner, name="owner")
    maint_req = make_request(tmp_path, "SS-1", lic["maintenance"], f"{lic['capacity']}:2")
    with pytest.raises(PermissionDeniedError, match="maintenance") as raised:
        customer.activate_offline(maint_req.read_bytes())
    assert raised.value.exit_code == 5
    assert cli.json("license", "show", lic["capacity"])["free_copies"] == 4
    # capacity offline is fine for a customer; so is maintenance an admin activated
    cap_req = make_request(tmp_path, "SS-1", f"{lic['capacity']}:2")
    customer.activate_offline(cap_req.read_bytes())
    cli.ok("activate-offline", str(maint_req), "--out", str(tmp_path / "admin.json"))
    again = make_request(tmp_path, "SS-1", f"{lic['maintenance']}:1", f"{lic['capacity']}:0")
    customer.activate_offline(again.read_bytes())
    history = cli.json("license", "history", lic["capacity"])["events"]
    assert history[-1]["actor"] == "customer:owner"
    assert cli.json("smartserver", "show", "SS-1")["capacity"] == 0


# --- verifying on the device ------------------------------------------------------------


@pytest.fixture
def answered(cli: Cli, lic: dict[str, str], tmp_path: Path) -> dict[str, Path]:
    req = make_request(tmp_path, "SS-1", f"{lic['capacity']}:2", lic["maintenance"])
    resp = tmp_path / "response.json"
    cli.ok("activate-offline", str(req), "--out", str(resp))
    pem = tmp_path / "portal.pem"
    cli.ok("keys", "export-public", "--out", str(pem))
    return {"request": req, "response": resp, "pem": pem}


def verify(answered: dict[str, Path], response: Path | None = None, **kw: Path) -> list[str]:
    paths = {**answered, **kw}
    return [
        "smartserver",
        "verify",
        str(response or paths["response"]),
        "--public-key",
        str(paths["pem"]),
        "--request",
        str(paths["request"]),
    ]


@sqlite_portal
def test_independent_verifiers_accept_a_portal_response(
    answered: dict[str, Path], tmp_path: Path
) -> None:
    """What `activate-offline` wrote verifies with PyNaCl and OpenSSL (the documented bytes)."""
    from nacl.signing import VerifyKey
    from test_activation_files import OPENSSL, _openssl_verify, documented_signed_bytes

    from licensectl.activation import load_public_key_pem

    data = answered["response"].read_bytes()
    public = load_public_key_pem(answered["pem"].read_bytes())
    raw = public.public_bytes_raw()
    VerifyKey(raw).verify(
        documented_signed_bytes(data), base64.b64decode(json.loads(data)["signature"])
    )
    if OPENSSL is not None:
        result = _openssl_verify(tmp_path, answered["pem"].read_text(), data)
        assert result.returncode == 0, result.stdout + result.stderr


@sqlite_portal
def test_tampered_responses_are_refused(answered: dict[str, Path], tmp_path: Path) -> None:
    DEVICE.ok(*verify(answered))
    good = answered["response"].read_text(encoding="utf-8")
    doc = json.loads(good)
    tampered = tmp_path / "tampered.json"
    edits = [
        good.replace('"capacity": 400', '"capacity": 401'),
        good.replace('"copies": 2', '"copies": 3'),
        good.replace(doc["signature"][:4], "AAAA" if doc["signature"][:4] != "AAAA" else "BBBB"),
        good.replace("\n", "\r\n"),
        good + " ",
        good.replace(doc["install_code"], "SS-2"),
    ]
    for text in edits:
        assert text != good
        tampered.write_bytes(text.encode("utf-8"))
        result = DEVICE.fails(7, *verify(answered, tampered))
        assert "activation response" in result.stderr


@sqlite_portal
def test_a_response_to_another_request_is_refused(
    cli: Cli, lic: dict[str, str], answered: dict[str, Path], tmp_path: Path
) -> None:
    other_req = make_request(tmp_path, "SS-1", f"{lic['capacity']}:2", lic["maintenance"])
    result = DEVICE.fails(7, *verify(answered, request=other_req))
    assert "nonce does not match" in result.stderr
    # a request of another SmartServer
    other_code = make_request(tmp_path, "SS-9", f"{lic['capacity']}:2", lic["maintenance"])
    DEVICE.fails(7, *verify(answered, request=other_code))
    # a key that did not sign it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from licensectl.activation import public_key_pem

    stranger = tmp_path / "stranger.pem"
    stranger.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    DEVICE.fails(7, *verify(answered, pem=stranger))
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello\n")
    DEVICE.fails(7, *verify(answered, pem=not_a_key))
    DEVICE.fails(2, *verify(answered, pem=tmp_path / "missing.pem"))
    # a request file that is not one
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    DEVICE.fails(7, *verify(answered, request=broken))


@sqlite_portal
def test_verify_without_public_key_uses_the_local_portal_keys(
    answered: dict[str, Path], isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DEVICE.json("smartserver", "verify", str(answered["response"]))["verified"] is True
    monkeypatch.setenv("LICENSECTL_KEY_DIR", str(isolated_home / "no-keys-here"))
    result = DEVICE.fails(2, "smartserver", "verify", str(answered["response"]))
    assert "--public-key" in result.stderr


def test_inspect_refuses_what_is_not_an_activation_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"format": "something-else"}')
    DEVICE.fails(7, "smartserver", "inspect", str(junk))
    junk.write_text("not json")
    DEVICE.fails(7, "smartserver", "inspect", str(junk))
    DEVICE.fails(2, "smartserver", "inspect", str(tmp_path / "missing.json"))


def test_request_arguments_are_checked(tmp_path: Path) -> None:
    lid = str(uuid.uuid4())
    base = ["smartserver", "request", "--install-code", "SS-1"]
    DEVICE.fails(2, *base)  # no --license
    DEVICE.fails(2, *base, "--license", "nope")
    DEVICE.fails(2, *base, "--license", f"{lid}:two")
    DEVICE.fails(2, *base, "--license", f"{lid}:-1")
    DEVICE.fails(2, *base, "--license", lid, "--license", f"{lid}:2")
    DEVICE.fails(2, "smartserver", "request", "--install-code", " ", "--license", lid)
    req = tmp_path / "r.json"
    out = DEVICE.ok(*base, "--license", lid.upper(), "--name", "  Hall  7 ", "--out", str(req))
    assert out.stdout.strip().splitlines()[0].startswith("Activation request")
    doc = json.loads(req.read_text())
    assert doc["licenses"] == [{"copies": 1, "license_id": lid}] and doc["name"] == "Hall 7"


# --- keys ----------------------------------------------------------------------------


@sqlite_portal
def test_key_rotation_through_the_cli(
    cli: Cli, lic: dict[str, str], tmp_path: Path, isolated_home: Path
) -> None:
    assert cli.json("keys", "show") == []
    old_id = json.loads(
        cli.ok(
            "activate-offline",
            str(make_request(tmp_path, "SS-1", lic["capacity"])),
        ).stdout
    )["key_id"]
    old_pem = tmp_path / "old.pem"
    cli.ok("keys", "export-public", "--out", str(old_pem))
    old_req = make_request(tmp_path, "SS-2", lic["capacity"])
    old_resp = tmp_path / "old.json"
    cli.ok("activate-offline", str(old_req), "--out", str(old_resp))
    new_id = cli.ok("keys", "rotate").stdout.strip()
    assert new_id != old_id and len(new_id) == 16
    keys = cli.json("keys", "show")
    assert {k["key_id"]: k["active"] for k in keys} == {old_id: False, new_id: True}
    new_req = make_request(tmp_path, "SS-3", lic["capacity"])
    new_resp = tmp_path / "new.json"
    cli.ok("activate-offline", str(new_req), "--out", str(new_resp))
    assert json.loads(new_resp.read_text())["key_id"] == new_id
    # old responses still verify with the old key; new ones need the new key
    DEVICE.ok("smartserver", "verify", str(old_resp), "--public-key", str(old_pem))
    result = DEVICE.fails(7, "smartserver", "verify", str(new_resp), "--public-key", str(old_pem))
    assert new_id in result.stderr
    new_pem = tmp_path / "new.pem"
    cli.ok("keys", "export-public", "--out", str(new_pem))
    DEVICE.ok("smartserver", "verify", str(new_resp), "--public-key", str(new_pem))
    assert cli.ok("keys", "export-public", "--key-id", old_id).stdout == old_pem.read_text()
    cli.fails(3, "keys", "export-public", "--key-id", "0123456789abcdef")
    # the portal's own key store verifies both
    for resp in (old_resp, new_resp):
        DEVICE.ok("smartserver", "verify", str(resp))


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_private_keys_are_0600_files_and_never_printed(isolated_home: Path) -> None:
    runner = Cli(db=None)
    first = runner.ok("keys", "rotate").stdout.strip()
    second = runner.ok("keys", "rotate").stdout.strip()
    key_dir = isolated_home / "keys"
    for key_id in (first, second):
        private = key_dir / f"{key_id}.pem"
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in private.read_bytes()
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for args in (["keys", "show"], ["-o", "json", "keys", "show"], ["keys", "export-public"]):
        out = runner.ok(*args)
        assert "PRIVATE" not in out.stdout + out.stderr
    # an unsafe private key is a clear error, not a bug report
    (key_dir / f"{second}.pem").chmod(0o644)
    result = runner.fails(6, "keys", "export-public")
    assert "chmod 600" in result.stderr


def test_device_side_commands_do_not_load_the_database_stack(
    tmp_path: Path, isolated_home: Path
) -> None:
    """`import sqlmodel` costs ~1 s: a SmartServer-side command must not pay it."""
    from licensectl import activation as files
    from licensectl.keys import KeyStore

    lid = str(uuid.uuid4())
    req = files.new_request(install_code="X", name=None, licenses=[(lid, 1)])
    key = KeyStore().active()
    grant = {
        "license_id": lid,
        "type": "core",
        "devices": 1,
        "copies": 1,
        "term_months": None,
        "maintenance_expires": None,
    }
    payload = files.response_payload(
        req, licenses=[grant], capacity=0, maintenance_devices=0, covered=True
    )
    answered = {
        "request": tmp_path / "req.json",
        "response": tmp_path / "resp.json",
        "pem": tmp_path / "portal.pem",
    }
    answered["request"].write_bytes(files.dump_file(req))
    answered["response"].write_bytes(
        files.dump_file(
            files.sign_response(payload, key_id=key.key_id, private_key=key.private_key)
        )
    )
    answered["pem"].write_text(KeyStore().public_pem())
    commands = [
        ["smartserver", "request", "--install-code", "X", "--license", lid],
        ["smartserver", "verify", str(answered["response"]), "--public-key", str(answered["pem"])],
        ["smartserver", "inspect", str(answered["request"])],
    ]
    code = (
        "import sys, json\n"
        "from licensectl.cli.app import main\n"
        "rc = main(json.loads(sys.argv[1]))\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'psycopg'))\n"
        "sys.stderr.write(f'RC {rc} HEAVY {heavy}\\n')\n"
    )
    for argv in commands:
        out = subprocess.run(
            [sys.executable, "-c", code, json.dumps(argv)], capture_output=True, text=True
        )
        assert "RC 0 HEAVY []" in out.stderr, (argv, out.stderr[-500:])
    # The keys are portal-side (a remote profile asks its server), but a local key
    # directory is not the store: reading keys opens no store, let alone creates one.
    for argv in (["keys", "show"], ["keys", "export-public"]):
        Cli(db=None).ok(*argv)
    assert not (isolated_home / "data" / "licensectl.db").exists()
