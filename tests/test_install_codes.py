"""Install codes compare case-insensitively and are stored in one canonical form (upper
case), wherever they enter: options, request files, batch lines, `smartserver show`.
Stores from before, which may hold a code in another case or one device twice, keep
working and `db check` reports the double-counted ones."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, assert_one_error_line
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, create_engine, text

from licensectl import activation as act
from licensectl.errors import InvalidDataError
from licensectl.store.url import normalize_db_url

DEVICE = Cli(db=None)
UPPER, LOWER, MIXED = "5A7C-31F2-9D04-E86B", "5a7c-31f2-9d04-e86b", "5a7C-31f2-9D04-e86B"


@pytest.fixture
def licenses(cli: Cli, onboarded: dict[str, str]) -> dict[str, str]:
    """Two capacity licenses in customer P2022-0208: 5 copies × 200 and 3 × 1000."""
    first = cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--yes").stdout
    add = ["license", "add", "--po", "PO-2002", "--type", "capacity", "--devices", "1000"]
    second = cli.ok(*add, "--quantity", "3").stdout.strip()
    second = cli.ok("transfer", second, "--to", "P2022-0208", "--yes").stdout
    return {"small": first.strip(), "big": second.strip()}


@contextmanager
def sql(cli: Cli) -> Iterator[Connection]:
    """The store's tables, as a store written by an older licensectl would have them."""
    engine = create_engine(normalize_db_url(str(cli.db)))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def smartservers(cli: Cli) -> list[str]:
    with sql(cli) as conn:
        return [
            r[0] for r in conn.execute(text("SELECT install_code FROM smartserver ORDER BY id"))
        ]


def test_one_code_in_any_case_is_one_smartserver(cli: Cli, licenses: dict[str, str]) -> None:
    small = licenses["small"]
    first = cli.json("activate", small, "--install-code", UPPER)
    assert first["install_code"] == UPPER
    # The reported defect: the same code in lower case made a second SmartServer and
    # took a second copy. Now it is the same SmartServer holding the same copy.
    again = cli.json("activate", small, "--install-code", LOWER)
    assert again["install_code"] == UPPER and again["copies"] == 1
    assert cli.json("license", "show", small)["free_copies"] == 4
    # Any case, any command.
    cli.ok("activate", licenses["big"], "--install-code", MIXED, "--copies", "2")
    for code in (UPPER, LOWER, MIXED, f"  {LOWER} "):
        shown = cli.json("smartserver", "show", code)
        assert shown["install_code"] == UPPER
        assert shown["capacity"] == 200 + 2 * 1000
    assert smartservers(cli) == [UPPER]
    cli.ok("return", small, "--install-code", MIXED, "--yes")
    assert cli.json("license", "show", small)["free_copies"] == 5
    assert cli.json("smartserver", "show", LOWER)["capacity"] == 2000


def test_batch_lines_compare_install_codes_in_any_case(cli: Cli, licenses: dict[str, str]) -> None:
    lines = [
        {"op": "activate", "license_id": licenses["small"], "install_code": UPPER},
        {"op": "activate", "license_id": licenses["small"], "install_code": LOWER},
        {"op": "activate", "license_id": licenses["big"], "install_code": MIXED, "copies": 2},
        {"op": "return", "license_id": licenses["big"], "install_code": LOWER},
    ]
    out = cli.ok("batch", "-", input="\n".join(json.dumps(line) for line in lines)).stdout
    results = [json.loads(line) for line in out.splitlines()]
    assert all(r["ok"] for r in results)
    assert {r["result"]["install_code"] for r in results} == {UPPER}
    assert cli.json("license", "show", licenses["small"])["free_copies"] == 4
    assert smartservers(cli) == [UPPER]


def _request(tmp_path: Path, code: str, *lines: tuple[str, int]) -> Path:
    """A request as a device of another maker might write it: the code as it spells it."""
    nonce = secrets.token_hex(16)
    request = {
        "format": "licensectl.activation-request",
        "version": 1,
        "install_code": code,
        "name": None,
        "nonce": nonce,
        "created_at": "2026-11-29T10:15:00Z",
        "licenses": [{"license_id": lid, "copies": copies} for lid, copies in lines],
    }
    path = tmp_path / f"request-{nonce[:8]}.json"
    path.write_text(json.dumps(request, indent=2, sort_keys=True) + "\n")
    return path


def test_a_device_writing_its_code_in_lower_case_accepts_the_response(
    cli: Cli, licenses: dict[str, str], tmp_path: Path
) -> None:
    small = licenses["small"]
    cli.ok("activate", small, "--install-code", UPPER)  # online first, in upper case
    request = _request(tmp_path, LOWER, (small, 2))
    response = tmp_path / "response.json"
    cli.ok("activate-offline", str(request), "--out", str(response))
    pem = tmp_path / "portal.pem"
    cli.ok("keys", "export-public", "--out", str(pem))
    # The response echoes the device's own spelling, so both binding checks hold.
    assert json.loads(response.read_text())["install_code"] == LOWER
    verified = DEVICE.json(
        "smartserver", "verify", str(response), "--public-key", str(pem), "--request", str(request)
    )
    assert verified["verified"] and verified["install_code"] == LOWER
    # The portal recorded it on the one SmartServer: 2 copies held, not 1 + 2.
    assert verified["capacity"] == 400
    assert cli.json("license", "show", small)["free_copies"] == 3
    assert smartservers(cli) == [UPPER]
    # A replay gets the same bytes and consumes nothing.
    again = tmp_path / "again.json"
    cli.ok("activate-offline", str(request), "--out", str(again))
    assert again.read_bytes() == response.read_bytes()
    # The same nonce with the code in another case is another request: refused.
    other = json.loads(request.read_text())
    other["install_code"] = MIXED
    reused = tmp_path / "reused.json"
    reused.write_text(json.dumps(other, indent=2, sort_keys=True) + "\n")
    cli.fails(4, "activate-offline", str(reused))


def test_smartserver_request_writes_the_canonical_form(tmp_path: Path) -> None:
    out = tmp_path / "request.json"
    DEVICE.ok(
        "smartserver",
        "request",
        "--install-code",
        f" {LOWER} ",
        "--license",
        "b1e52546-f2db-4053-b2dd-2ab2fa7732d2",
        "--out",
        str(out),
    )
    assert json.loads(out.read_text())["install_code"] == UPPER


def _signed(request: act.ActivationRequest, install_code: str) -> tuple[bytes, Any]:
    key = Ed25519PrivateKey.generate()
    payload = act.response_payload(
        request,
        licenses=[
            {
                "license_id": line.license_id,
                "type": "capacity",
                "devices": 200,
                "copies": line.copies,
                "term_months": None,
                "maintenance_expires": None,
            }
            for line in request.licenses
        ],
        capacity=200,
        maintenance_devices=0,
        covered=False,
    )
    payload["install_code"] = install_code
    response = act.sign_response(payload, key_id=act.key_id_for(key.public_key()), private_key=key)
    return act.dump_file(response), key.public_key()


def test_the_device_check_compares_install_codes_in_any_case() -> None:
    # A portal that echoes the canonical form instead of the request's spelling.
    request = act.parse_request(
        json.dumps(
            {
                "format": "licensectl.activation-request",
                "version": 1,
                "install_code": LOWER,
                "name": None,
                "nonce": "8f14e45fceea167a5a36dedd4bea2543",
                "created_at": "2026-11-29T10:15:00Z",
                "licenses": [{"license_id": "b1e52546-f2db-4053-b2dd-2ab2fa7732d2", "copies": 1}],
            }
        ).encode()
    )
    data, public = _signed(request, UPPER)
    assert act.verify_response(data, public_keys=public, request=request).install_code == UPPER
    data, public = _signed(request, "5A7C-31F2-9D04-E86C")
    with pytest.raises(InvalidDataError, match="install code does not match"):
        act.verify_response(data, public_keys=public, request=request)


# --- stores written before install codes were canonical ------------------------------


def _respell(cli: Cli, old: str, new: str) -> None:
    with sql(cli) as conn:
        conn.execute(
            text("UPDATE smartserver SET install_code = :new WHERE install_code = :old"),
            {"new": new, "old": old},
        )


def test_a_code_stored_in_another_case_is_still_found(cli: Cli, licenses: dict[str, str]) -> None:
    small = licenses["small"]
    cli.ok("activate", small, "--install-code", UPPER)
    _respell(cli, UPPER, LOWER)  # as an older licensectl stored "5a7c-…"
    cli.ok("activate", small, "--install-code", UPPER, "--copies", "2")
    assert smartservers(cli) == [LOWER]  # no second SmartServer
    assert cli.json("license", "show", small)["free_copies"] == 3
    assert cli.json("smartserver", "show", MIXED)["capacity"] == 400
    cli.ok("return", small, "--install-code", UPPER, "--yes")
    assert cli.json("license", "show", small)["free_copies"] == 5
    cli.ok("db", "check")


def test_one_device_under_two_spellings_is_reported_and_can_be_repaired(
    cli: Cli, licenses: dict[str, str]
) -> None:
    small, big = licenses["small"], licenses["big"]
    # What the defect left behind: the device twice, each spelling holding a copy.
    cli.ok("activate", small, "--install-code", UPPER)
    _respell(cli, UPPER, LOWER)
    cli.ok("activate", small, "--install-code", "TEMP-1")
    _respell(cli, "TEMP-1", UPPER)
    assert smartservers(cli) == [LOWER, UPPER]
    assert cli.json("license", "show", small)["free_copies"] == 3
    # db check names both spellings and how to repair (exit 7, one Error: line).
    result = cli.run("-o", "json", "db", "check")
    assert result.exit_code == 7
    assert_one_error_line(result)
    report = json.loads(result.stdout)
    [failed] = [c for c in report["checks"] if not c["ok"]]
    assert failed["name"] == "smartservers: one per install code, in any case"
    assert LOWER in failed["details"][0] and UPPER in failed["details"][0]
    # Each spelling is reachable exactly; any other spelling means the canonical one.
    assert cli.json("smartserver", "show", LOWER)["install_code"] == LOWER
    assert cli.json("smartserver", "show", UPPER)["install_code"] == UPPER
    assert cli.json("smartserver", "show", MIXED)["install_code"] == UPPER
    # Other licenses still activate, on the canonical SmartServer.
    cli.ok("activate", big, "--install-code", MIXED)
    assert cli.json("smartserver", "show", UPPER)["capacity"] == 200 + 1000
    # The repair: return the extra copy from one spelling.
    cli.ok("return", small, "--install-code", LOWER, "--yes")
    assert cli.json("license", "show", small)["free_copies"] == 4
    cli.ok("db", "check")


def test_two_other_spellings_are_ambiguous_not_a_crash(cli: Cli, licenses: dict[str, str]) -> None:
    small = licenses["small"]
    for temp, spelling in (("TEMP-1", LOWER), ("TEMP-2", MIXED)):
        cli.ok("activate", small, "--install-code", temp)
        _respell(cli, temp, spelling)
    for args in (
        ("smartserver", "show", UPPER),
        ("activate", small, "--install-code", UPPER),
        ("return", small, "--install-code", UPPER, "--yes"),
    ):
        result = cli.fails(7, *args)
        assert LOWER in result.stderr and MIXED in result.stderr
    assert cli.json("license", "show", small)["free_copies"] == 3  # nothing changed
    assert cli.json("smartserver", "show", LOWER)["capacity"] == 200
    cli.fails(7, "db", "check")


def test_an_offline_request_answered_before_still_replays(
    cli: Cli, licenses: dict[str, str], tmp_path: Path
) -> None:
    request = _request(tmp_path, LOWER, (licenses["small"], 1))
    response = tmp_path / "response.json"
    cli.ok("activate-offline", str(request), "--out", str(response))
    # An older licensectl recorded the request under the code as the request spelled it.
    with sql(cli) as conn:
        conn.execute(text("UPDATE offline_request SET install_code = :c"), {"c": LOWER})
        conn.execute(text("UPDATE smartserver SET install_code = :c"), {"c": LOWER})
    again = tmp_path / "again.json"
    cli.ok("activate-offline", str(request), "--out", str(again))
    assert again.read_bytes() == response.read_bytes()
    assert cli.json("license", "show", licenses["small"])["free_copies"] == 4
