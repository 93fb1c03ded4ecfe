"""Keyset paging of the lists inside an object: a customer's licenses (`customer show`)
and a history's events (`license history`), on every backend (issue 11)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Cli
from pydantic import BaseModel

from licensectl.contract.models import CustomerDetail, CustomerPublic, LicensePublic
from licensectl.domain import LicenseStatus, LicenseType
from licensectl.service.convert import trusted

#: More than a page of the default limit (100).
MANY = 105


def _customer_with_licenses(cli: Cli, count: int) -> list[str]:
    """A customer holding `count` licenses (one import); their License IDs, oldest first."""
    cli.ok("partner", "add", "Acme")
    rows = "".join(f"Acme,PO-{n:04d},1,core,1,1,,Big Site\n" for n in range(count))
    header = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"
    cli.ok("--quiet", "import", "-", "--format", "csv", input=header + rows)
    ids = [r["license_id"] for r in cli.json("license", "list", "--customer", "Big Site", "--all")]
    assert len(ids) == count
    return ids


def test_customer_show_pages_its_licenses(cli: Cli) -> None:
    ids = _customer_with_licenses(cli, MANY)
    first = cli.run("-o", "json", "customer", "show", "Big Site")
    assert first.exit_code == 0, first.stderr
    shown = json.loads(first.stdout)
    # 100 by default, as every list: a customer with 1,000 licenses is not one huge table.
    assert [lic["license_id"] for lic in shown["licenses"]] == ids[:100]
    assert shown["licenses_next_after"] == ids[99]
    assert f"--after {ids[99]}" in first.stderr and "--all" in first.stderr
    rest = cli.json("customer", "show", "Big Site", "--after", ids[99])
    assert [lic["license_id"] for lic in rest["licenses"]] == ids[100:]
    assert rest["licenses_next_after"] is None
    # --all follows every page (over http: the client follows licenses_next_after).
    every = cli.run("-o", "json", "customer", "show", "Big Site", "--all")
    assert [lic["license_id"] for lic in json.loads(every.stdout)["licenses"]] == ids
    assert json.loads(every.stdout)["licenses_next_after"] is None
    assert "Warning" not in every.stderr
    two = cli.json("customer", "show", "Big Site", "--limit", "2", "--after", ids[0])
    assert [lic["license_id"] for lic in two["licenses"]] == ids[1:3]
    assert two["licenses_next_after"] == ids[2]
    table = cli.ok("customer", "show", "Big Site", "--limit", "3")
    assert ids[2] in table.stdout and ids[3] not in table.stdout
    assert f"--after {ids[2]}" in table.stderr
    assert "next_after" not in table.stdout  # the warning names the next page, once
    cli.fails(2, "customer", "show", "Big Site", "--after", "nope")
    cli.fails(2, "customer", "show", "Big Site", "--limit", "0")


def test_history_pages_its_events(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    lic = cli.ok(
        "license", "add", "--po", "PO-H", "--type", "core", "--devices", "1"
    ).stdout.strip()
    for n in range(4):
        cli.ok("license", "note", lic, f"note {n}")
    whole = cli.json("license", "history", lic)
    assert [e["action"] for e in whole["events"]] == ["license.add"] + ["license.note"] * 4
    assert whole["events_next_after"] is None
    first = cli.run("-o", "json", "license", "history", lic, "--limit", "2")
    assert first.exit_code == 0, first.stderr
    page = json.loads(first.stdout)
    assert page["events"] == whole["events"][:2]
    cursor = page["events_next_after"]
    assert cursor is not None and cursor.isdigit()
    assert f"--after {cursor}" in first.stderr and "--all" in first.stderr
    # The lineage is whole on every page; only the events are paged.
    assert page["license"] == whole["license"]
    second = cli.json("license", "history", lic, "--limit", "2", "--after", cursor)
    assert second["events"] == whole["events"][2:4]
    last = cli.json(
        "license", "history", lic, "--limit", "2", "--after", second["events_next_after"]
    )
    assert last["events"] == whole["events"][4:] and last["events_next_after"] is None
    every = cli.json("license", "history", lic, "--all", "--after", cursor)
    assert every["events"] == whole["events"][2:] and every["events_next_after"] is None
    assert cli.json("license", "history", lic, "--limit", "1", "--all")["events"] == whole["events"]
    table = cli.ok("license", "history", lic, "--limit", "1")
    assert "license.add" in table.stdout and "license.note" not in table.stdout
    assert "--after" in table.stderr
    cli.fails(2, "license", "history", lic, "--after", "nope")
    cli.fails(2, "license", "history", lic, "--after", "-1")
    cli.fails(2, "license", "history", lic, "--limit", "0")


@pytest.mark.parametrize(
    "model", [LicensePublic, CustomerPublic, CustomerDetail], ids=lambda m: m.__name__
)
def test_trusted_makes_what_model_construct_makes(model: type[BaseModel]) -> None:
    """convert.trusted skips model_construct's loop over aliases and defaults: only sound
    while the models have none of what that loop (or construction) would handle."""
    for name, field in model.model_fields.items():
        assert field.alias is None and field.validation_alias is None, name
    assert not model.__private_attributes__ and not model.__pydantic_post_init__
    values: dict[str, Any] = {
        "license_id": "a",
        "type": LicenseType.CORE,
        "devices": 1,
        "quantity": 2,
        "free_copies": 2,
        "term_months": None,
        "purchase_order": "PO",
        "po_line": 1,
        "status": LicenseStatus.AVAILABLE,
        "partner": "Acme",
        "customer_id": "c",
        "customer": "Big Site",
        "parent_id": None,
        "note": None,
        "created_at": datetime(2026, 11, 29, tzinfo=UTC),
        "name": "Big Site",
        "emails": ["a@example.com"],
        "licenses": [],
    }
    values = {k: v for k, v in values.items() if k in model.model_fields}
    assert set(values) == set(model.model_fields)
    made = trusted(model)(dict(values))
    assert made == model.model_construct(**values)
    assert made.model_fields_set == set(values)
    assert made.model_dump(mode="json") == model.model_construct(**values).model_dump(mode="json")
