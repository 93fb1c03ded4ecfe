"""partner and customer commands, good and bad input, on every backend."""

from __future__ import annotations

import uuid

from conftest import Cli


def test_partner_add_prints_name_and_lists(cli: Cli) -> None:
    assert cli.ok("partner", "add", "  Acme   Integrators ").stdout == "Acme Integrators\n"
    partners = cli.json("partner", "list")
    assert [p["name"] for p in partners] == ["Acme Integrators"]
    assert set(partners[0]) >= {"name", "email", "created_at"}
    assert partners[0]["created_at"].endswith("Z")


def test_partner_duplicate_name_any_case_is_conflict(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    result = cli.fails(4, "partner", "add", "ACME")
    assert "already exists" in result.stderr
    assert len(cli.json("partner", "list")) == 1


def test_partner_bad_names_and_email(cli: Cli) -> None:
    cli.fails(2, "partner", "add", "   ")
    cli.fails(2, "partner", "add", "x" * 201)
    cli.fails(2, "partner", "add", "Acme", "--email", "not-an-email")
    assert cli.json("partner", "list") == []


def test_customer_add_prints_uuid(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    out = cli.ok(
        "customer", "add", "P2022-0208", "--email", "a@example.com", "--email", "b@Example.COM"
    ).stdout
    customer_id = out.strip()
    assert out == customer_id + "\n"
    assert uuid.UUID(customer_id).version == 4
    shown = cli.json("customer", "show", customer_id)
    assert shown["customer_id"] == customer_id
    assert shown["partner"] == "Acme"
    assert shown["emails"] == ["a@example.com", "b@example.com"]
    assert shown["licenses"] == []
    # by name, any case
    assert cli.json("customer", "show", "p2022-0208")["customer_id"] == customer_id


def test_customer_json_create_returns_object(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    created = cli.json("customer", "add", "Site A")
    assert set(created) >= {"customer_id", "name", "partner", "emails", "created_at"}


def test_customer_name_unique_per_partner_not_globally(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    cli.ok("partner", "add", "Beta")
    cli.ok("customer", "add", "Site A", "--partner", "Acme")
    cli.fails(4, "customer", "add", "site a", "--partner", "Acme")
    cli.ok("customer", "add", "Site A", "--partner", "Beta")
    # ambiguous name without --partner: usage error naming the fix
    result = cli.fails(2, "customer", "show", "Site A")
    assert "--partner" in result.stderr
    assert cli.json("customer", "show", "Site A", "--partner", "Beta")["partner"] == "Beta"
    assert len(cli.json("customer", "list")) == 2
    assert [c["partner"] for c in cli.json("customer", "list", "--partner", "beta")] == ["Beta"]


def test_partner_required_when_several(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    cli.ok("partner", "add", "Beta")
    result = cli.fails(2, "customer", "add", "Site A")
    assert "--partner" in result.stderr
    assert cli.json("customer", "list") == []


def test_no_partner_yet_and_unknown_partner(cli: Cli) -> None:
    cli.fails(3, "customer", "add", "Site A")
    cli.ok("partner", "add", "Acme")
    cli.fails(3, "customer", "add", "Site A", "--partner", "Nope")
    cli.fails(3, "customer", "list", "--partner", "Nope")


def test_customer_not_found_and_malformed(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    cli.fails(3, "customer", "show", str(uuid.uuid4()))
    cli.fails(3, "customer", "show", "no such name")


def test_customer_bad_email_writes_nothing(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    cli.fails(2, "customer", "add", "Site A", "--email", "ok@example.com", "--email", "bad@")
    assert cli.json("customer", "list") == []


def test_customer_email_add_remove(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    cid = cli.ok("customer", "add", "Site A").stdout.strip()
    assert cli.json("customer", "email", "add", cid, "Ops@Example.com")["emails"] == [
        "Ops@example.com"
    ]
    cli.fails(4, "customer", "email", "add", "Site A", "ops@example.com")
    cli.fails(2, "customer", "email", "add", "Site A", "nope")
    cli.fails(3, "customer", "email", "remove", "Site A", "other@example.com")
    assert cli.json("customer", "email", "remove", "Site A", "OPS@example.com")["emails"] == []
    cli.fails(3, "customer", "email", "add", str(uuid.uuid4()), "x@example.com")


def test_empty_lists_are_empty_json(cli: Cli) -> None:
    assert cli.json("partner", "list") == []
    assert cli.json("customer", "list") == []
    result = cli.ok("partner", "list")
    assert result.stdout == ""


def test_a_name_with_a_slash_or_a_percent_sign_is_one_name_on_every_route(cli: Cli) -> None:
    """Names go in the API's paths percent-encoded; a slash in one must not split it
    (over the server it found no route, or another customer's), nor may an encoded
    slash typed as text be decoded twice."""
    cli.ok("partner", "add", "Acme / North")
    plain = cli.ok("customer", "add", "Werk").stdout.strip()
    slashed = cli.ok("customer", "add", "Werk/emails").stdout.strip()
    typed = cli.ok("customer", "add", "Halle 100%2F 50%41").stdout.strip()
    assert cli.json("customer", "show", "Werk/emails")["customer_id"] == slashed
    assert cli.json("customer", "show", "Halle 100%2F 50%41")["customer_id"] == typed
    cli.ok("customer", "email", "add", "Werk/emails", "ops@example.com")
    cli.ok("customer", "note", "Werk/emails", "east wing")
    shown = cli.json("customer", "show", "Werk/emails")
    assert shown["emails"] == ["ops@example.com"] and shown["note"] == "east wing"
    cli.ok("customer", "email", "remove", "Werk/emails", "ops@example.com")
    cli.ok("customer", "rename", "Werk/emails", "Werk/remove")
    cli.ok("customer", "remove", "Werk/remove", "--yes")
    cli.fails(3, "customer", "show", slashed)
    untouched = cli.json("customer", "show", "Werk")
    assert untouched["customer_id"] == plain
    assert untouched["emails"] == [] and untouched["note"] is None
    cli.ok("partner", "rename", "Acme / North", "Acme/South")
    assert [p["name"] for p in cli.json("partner", "list")] == ["Acme/South"]
