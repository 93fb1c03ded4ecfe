"""Short IDs (issue 12): a unique prefix of 8+ hex digits stands for a License ID or a
Customer ID wherever one is taken; an ambiguous one exits 2 listing the candidates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import Cli

from licensectl.domain import Role
from licensectl.store.url import normalize_db_url


def set_ids(store_url: str, table: str, column: str, mapping: dict[str, str]) -> None:
    """Give rows chosen IDs, so that prefixes collide (random UUIDs never would)."""
    from sqlalchemy import text

    from licensectl.store.engine import Store

    store = Store(normalize_db_url(store_url))
    try:
        with store.write() as s:
            for old, new in mapping.items():
                s.execute(
                    text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                    {"new": new, "old": old},
                )
    finally:
        store.dispose()


def test_a_prefix_works_wherever_a_license_id_is_taken(cli: Cli, onboarded: dict[str, str]) -> None:
    lid, cid = onboarded["license"], onboarded["customer1"]
    short = lid[:8]
    assert cli.json("license", "show", short)["license_id"] == lid
    assert cli.json("license", "show", lid[:13].upper())["license_id"] == lid
    assert cli.json("license", "history", short)["license"]["license_id"] == lid
    moved = cli.json("transfer", short, "--to", cid[:10], "--quantity", "2", "--yes")
    assert moved["original"]["license_id"] == lid  # JSON keeps full IDs
    assert moved["transferred"]["customer_id"] == cid
    new = moved["transferred"]["license_id"]
    activated = cli.json("activate", new[:8], "--install-code", "SS-1")
    assert activated["license_id"] == new
    returned = cli.json("--yes", "return", new[:9], "--install-code", "SS-1")
    assert returned["copies"] == 0
    assert cli.json("license", "note", new[:8], "x")["license_id"] == new
    assert cli.ok("customer", "show", cid[:8]).exit_code == 0
    assert {i["license_id"] for i in cli.json("license", "list", "--customer", cid[:8])} == {new}


def test_too_short_malformed_or_unknown_prefixes(cli: Cli, onboarded: dict[str, str]) -> None:
    lid = onboarded["license"]
    assert "not a UUID" in cli.fails(2, "license", "show", lid[:7]).stderr
    cli.fails(2, "license", "show", lid[:6] + "-" + lid[6:10])  # a dash where none goes
    cli.fails(2, "license", "show", "zzzzzzzz")
    missing = "0000000000" if not lid.startswith("0000000000") else "ffffffffff"
    assert "no License ID starts with" in cli.fails(3, "license", "show", missing).stderr
    cli.fails(3, "transfer", lid, "--to", missing, "--yes")


def test_an_ambiguous_prefix_exits_2_listing_at_most_ten(
    cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    add = ("license", "add", "--po", "PO-9", "--type", "core", "--devices", "1", "--po-line")
    made = [cli.ok(*add, str(n)).stdout.strip() for n in range(1, 13)]
    crafted = {old: f"abcdef12-{n:04x}-4000-8000-000000000000" for n, old in enumerate(made)}
    set_ids(store_url, "license", "license_id", crafted)
    result = cli.fails(2, "license", "show", "abcdef12")
    error = result.stderr
    assert "ambiguous" in error and "and more" in error
    assert error.count("abcdef12-") == 10
    # More characters make it unique; the full ID in the output.
    shown = cli.json("license", "show", "abcdef12-0005")
    assert shown["license_id"] == "abcdef12-0005-4000-8000-000000000000"
    # Customers alike.
    set_ids(
        store_url,
        "customer",
        "customer_id",
        {
            onboarded["customer1"]: "12345678-aaaa-4000-8000-000000000001",
            onboarded["customer2"]: "12345678-aaab-4000-8000-000000000002",
        },
    )
    both = cli.fails(2, "customer", "show", "12345678").stderr
    assert "P2022-0208" in both and "P-Building 1" in both
    assert cli.json("customer", "show", "12345678-aaab")["name"] == "P-Building 1"
    # All-f prefixes have no upper bound; still exact.
    cli.fails(3, "customer", "show", "ffffffffff")


def test_a_customer_named_like_a_prefix_is_found_by_name_first(
    cli: Cli, onboarded: dict[str, str], store_url: str
) -> None:
    cid = cli.ok("customer", "add", "deadbeef").stdout.strip()
    set_ids(
        store_url,
        "customer",
        "customer_id",
        {onboarded["customer2"]: "deadbeef-0000-4000-8000-000000000000"},
    )
    assert cli.json("customer", "show", "deadbeef")["customer_id"] == cid
    assert cli.json("customer", "show", "deadbeef-0")["name"] == "P-Building 1"


def test_prefixes_resolve_only_within_scope(
    cli: Cli, store_url: str, backend_as: Callable[..., Any]
) -> None:
    from licensectl.contract.requests import EidLogin
    from licensectl.errors import LicensectlError

    cli.ok("partner", "add", "Acme")
    cli.ok("partner", "add", "Beta")
    mine = cli.ok("license", "add", "-p", "Acme", "--po", "A", "--type", "core", "--devices", "1")
    theirs = cli.ok("license", "add", "-p", "Beta", "--po", "B", "--type", "core", "--devices", "1")
    a, b = mine.stdout.strip(), theirs.stdout.strip()
    set_ids(
        store_url,
        "license",
        "license_id",
        {a: "cafecafe-0000-4000-8000-00000000000a", b: "cafecafe-0000-4000-8000-00000000000b"},
    )
    partner = backend_as(Role.PARTNER, partner="Acme")
    # One match in the partner's scope: no ambiguity, and nothing of Beta's named.
    assert partner.license_show("cafecafe").license_id.endswith("0a")
    admin = backend_as(Role.ADMIN)
    try:
        admin.license_show("cafecafe")
        raise AssertionError("ambiguous for an admin")
    except LicensectlError as exc:
        assert exc.exit_code == 2 and "0b" in exc.message
    # The EID login takes the whole License ID only: a prefix is no proof.
    try:
        admin.login_eid(EidLogin(license_id="cafecafe-0000-4000-8000-00000000000"))
        raise AssertionError("a prefix must not log in")
    except LicensectlError as exc:
        assert exc.exit_code in (2, 3, 5)
