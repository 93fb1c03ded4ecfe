"""transfer: rules 1–3 of docs/domain.md, confirmation, dry runs and lineage."""

from __future__ import annotations

import uuid

from conftest import Cli

from licensectl.cli.output import Environment


def test_whole_transfer_mints_new_id_and_retires_original(
    cli: Cli, onboarded: dict[str, str]
) -> None:
    lic = onboarded["license"]
    out = cli.ok("transfer", lic, "--to", "P2022-0208", "--yes").stdout
    new_ids = out.split()
    assert len(new_ids) == 1 and new_ids[0] != lic
    original = cli.json("license", "show", lic)
    assert original["status"] == "transferred" and original["free_copies"] == 0
    assert original["successors"] == new_ids
    moved = cli.json("license", "show", new_ids[0])
    assert moved["parent_id"] == lic
    assert moved["customer_id"] == onboarded["customer1"]
    assert moved["quantity"] == 5 and moved["status"] == "available"
    # the original is read-only from now on
    cli.fails(4, "transfer", lic, "--to", "P-Building 1", "--yes")


def test_partial_transfer_mints_part_and_remainder(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    result = cli.json("transfer", lic, "--to", onboarded["customer2"], "--quantity", "2", "--yes")
    assert result["dry_run"] is False
    assert result["original"]["status"] == "transferred"
    assert result["transferred"]["quantity"] == 2
    assert result["transferred"]["customer_id"] == onboarded["customer2"]
    assert result["remainder"]["quantity"] == 3
    assert result["remainder"]["customer_id"] is None
    assert {result["transferred"]["parent_id"], result["remainder"]["parent_id"]} == {lic}
    # the remainder can move on; customer -> another customer of the same partner
    onward = cli.ok(
        "transfer", result["transferred"]["license_id"], "--to", "P2022-0208", "--yes"
    ).stdout.split()
    assert len(onward) == 1
    history = cli.json("license", "history", onward[0])
    assert [a["license_id"] for a in history["ancestors"]] == [
        lic,
        result["transferred"]["license_id"],
    ]
    root = cli.json("license", "history", lic)
    assert set(root) >= {"license", "ancestors", "descendants", "events"}
    assert len(root["descendants"]) == 3
    actions = [e["action"] for e in root["events"]]
    assert actions == ["license.add", "license.transfer"]
    event = root["events"][1]
    assert set(event) >= {"at", "actor", "action", "license_id", "details"}
    assert event["details"]["quantity"] == 2
    assert event["actor"].startswith("admin:")


def test_partial_transfer_table_prints_both_ids(cli: Cli, onboarded: dict[str, str]) -> None:
    out = cli.ok(
        "transfer", onboarded["license"], "--to", "P2022-0208", "--quantity", "1", "--yes"
    ).stdout
    moved, remainder = out.split()
    assert cli.json("license", "show", moved)["quantity"] == 1
    assert cli.json("license", "show", remainder)["quantity"] == 4


def test_transfer_rules_refuse_and_change_nothing(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    cli.ok("partner", "add", "Other Partner")
    foreign = cli.ok("customer", "add", "Elsewhere", "--partner", "Other Partner").stdout.strip()
    before = cli.json("license", "list", "--all")
    cli.fails(4, "transfer", lic, "--to", foreign, "--yes")  # another partner's customer
    cli.fails(3, "transfer", lic, "--to", "Elsewhere", "--yes")  # name looked up in own partner
    cli.fails(4, "transfer", lic, "--to", "P2022-0208", "--quantity", "6", "--yes")
    cli.fails(2, "transfer", lic, "--to", "P2022-0208", "--quantity", "0", "--yes")
    cli.fails(3, "transfer", str(uuid.uuid4()), "--to", "P2022-0208", "--yes")
    cli.fails(2, "transfer", "bogus", "--to", "P2022-0208", "--yes")
    cli.fails(3, "transfer", lic, "--to", str(uuid.uuid4()), "--yes")
    assert cli.json("license", "list", "--all") == before
    # to the current owner
    moved = cli.ok("transfer", lic, "--to", "P2022-0208", "--yes").stdout.strip()
    cli.fails(4, "transfer", moved, "--to", onboarded["customer1"], "--yes")


def test_dry_run_writes_nothing(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    before = cli.json("license", "list", "--all")
    plan = cli.json("transfer", lic, "--to", "P2022-0208", "--quantity", "2", "--dry-run")
    assert plan["dry_run"] is True
    assert plan["transferred"]["quantity"] == 2 and plan["remainder"]["quantity"] == 3
    table = cli.ok("transfer", lic, "--to", "P2022-0208", "--dry-run").stdout
    assert "dry run" in table
    assert cli.json("license", "list", "--all") == before
    assert [e["action"] for e in cli.json("license", "history", lic)["events"]] == ["license.add"]
    # a dry run still checks the rules
    cli.fails(4, "transfer", lic, "--to", "P2022-0208", "--quantity", "9", "--dry-run")


def test_confirmation_needed_without_terminal(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    result = cli.fails(2, "transfer", lic, "--to", "P2022-0208")
    assert "--yes" in result.stderr
    cli.fails(2, "--no-input", "transfer", lic, "--to", "P2022-0208")
    assert cli.json("license", "show", lic)["status"] == "available"


def test_confirmation_on_a_terminal(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    tty = Environment(stdin_isatty=True, stdout_isatty=False, stderr_isatty=True)
    declined = cli.run("transfer", lic, "--to", "P2022-0208", input="n\n", obj=tty)
    assert declined.exit_code == 130
    # the typed answer is not echoed here, so the error follows the prompt on its line
    assert declined.stderr.count("Error: ") == 1 and "cancelled" in declined.stderr
    assert "[y/N]" in declined.stderr
    assert "Transfer plan" in declined.stderr
    assert cli.json("license", "show", lic)["status"] == "available"
    # --no-input wins over a terminal
    no_input = cli.run("--no-input", "transfer", lic, "--to", "P2022-0208", obj=tty)
    assert no_input.exit_code == 2
    accepted = cli.run("transfer", lic, "--to", "P2022-0208", input="y\n", obj=tty)
    assert accepted.exit_code == 0, accepted.stderr
    assert len(accepted.stdout.split()) == 1
    assert cli.json("license", "show", lic)["status"] == "transferred"


def test_history_table_shows_tree(cli: Cli, onboarded: dict[str, str]) -> None:
    lic = onboarded["license"]
    cli.ok("transfer", lic, "--to", "P2022-0208", "--quantity", "2", "--yes")
    table = cli.ok("license", "history", lic).stdout
    assert "Lineage of PO PO-1001" in table
    assert "└──" in table or "├──" in table
    assert "license.transfer" in table
