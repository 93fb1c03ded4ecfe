"""The parse + validate half of `licensectl import` (licensectl/importer.py): no store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from licensectl import importer
from licensectl.contract.models import ImportSummary, RowError
from licensectl.domain import LicenseType
from licensectl.errors import UsageError
from licensectl.importer import (
    Format,
    ImportRow,
    ParsedRow,
    detect_format,
    iter_rows,
    open_input,
)

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer"


def parse(text: str, fmt: Format = "csv", *, check_duplicates: bool = True) -> list[ParsedRow]:
    stream = io.StringIO(text, newline="")
    return list(iter_rows(stream, fmt, check_duplicates=check_duplicates))


def good_rows(text: str, fmt: Format = "csv") -> list[ImportRow]:
    parsed = parse(text, fmt)
    assert all(isinstance(item, ImportRow) for item in parsed), parsed
    return [item for item in parsed if isinstance(item, ImportRow)]


def all_errors(text: str, fmt: Format = "csv") -> list[RowError]:
    return [e for item in parse(text, fmt) if isinstance(item, list) for e in item]


def where(text: str, fmt: Format = "csv") -> list[tuple[int, str]]:
    """(row, field) of every error, in the order reported."""
    return [(e.row, e.field) for e in all_errors(text, fmt)]


def csv_of(*lines: str, header: str = HEADER) -> str:
    return "\n".join((header, *lines)) + "\n"


def jsonl_of(*records: dict[str, object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


# --- good files -----------------------------------------------------------------------


def test_good_csv_gives_typed_trimmed_rows_with_defaults() -> None:
    rows = good_rows(
        csv_of(
            "Acme,PO-1,1,capacity,200,2,,",
            "  Acme  Corp ,  PO-1 ,2,maintenance,1000,1,36,  P-Building   1 ",
            "Acme,PO-2,,core,1,,,",
        )
    )
    assert rows == [
        ImportRow(2, "Acme", "PO-1", 1, LicenseType.CAPACITY, 200, 2, None, None),
        ImportRow(3, "Acme Corp", "PO-1", 2, LicenseType.MAINTENANCE, 1000, 1, 36, "P-Building 1"),
        ImportRow(4, "Acme", "PO-2", 1, LicenseType.CORE, 1, 1, None, None),
    ]
    assert rows[0].key == ("acme", "po-1", 1)


def test_only_required_columns_in_any_order() -> None:
    rows = good_rows(csv_of("200,capacity,PO-9,Acme", header="devices,type,purchase_order,partner"))
    assert rows == [ImportRow(2, "Acme", "PO-9", 1, LicenseType.CAPACITY, 200, 1, None, None)]


def test_type_is_case_insensitive_and_header_cells_are_trimmed() -> None:
    text = csv_of("Acme,PO-1,CAPACITY,200", header=" partner , purchase_order ,type,devices")
    assert good_rows(text)[0].type is LicenseType.CAPACITY


def test_good_jsonl() -> None:
    text = jsonl_of(
        {"partner": "Acme", "purchase_order": "PO-1", "type": "capacity", "devices": 200},
        {
            "partner": "Acme",
            "purchase_order": 4500012345,
            "po_line": 2,
            "type": "maintenance",
            "devices": "500",
            "quantity": 3,
            "term_months": 12,
            "customer": "P2022-0208",
        },
        {
            "partner": "Acme",
            "purchase_order": "PO-3",
            "type": "core",
            "devices": 1,
            "customer": None,
        },
    )
    assert good_rows(text, "jsonl") == [
        ImportRow(1, "Acme", "PO-1", 1, LicenseType.CAPACITY, 200, 1, None, None),
        ImportRow(2, "Acme", "4500012345", 2, LicenseType.MAINTENANCE, 500, 3, 12, "P2022-0208"),
        ImportRow(3, "Acme", "PO-3", 1, LicenseType.CORE, 1, 1, None, None),
    ]


def test_jsonl_blank_lines_are_skipped_but_counted() -> None:
    record = {"partner": "Acme", "purchase_order": "PO-1", "type": "core", "devices": 1}
    text = "\n" + json.dumps(record) + "\n   \n\n" + json.dumps({**record, "po_line": 2}) + "\n"
    assert [r.row for r in good_rows(text, "jsonl")] == [2, 5]


def test_csv_blank_and_all_empty_lines_are_skipped_but_counted() -> None:
    text = csv_of("Acme,PO-1,1,core,1,,,", "", ",,,,,,,", "Acme,PO-1,2,core,1,,,")
    assert [r.row for r in good_rows(text)] == [2, 5]


def test_crlf_line_endings() -> None:
    text = csv_of("Acme,PO-1,1,core,1,,,", "Acme,PO-1,2,core,1,,,P 1").replace("\n", "\r\n")
    rows = good_rows(text)
    assert [(r.row, r.customer) for r in rows] == [(2, None), (3, "P 1")]


def test_crlf_jsonl() -> None:
    text = jsonl_of(
        {"partner": "Acme", "purchase_order": "PO-1", "type": "core", "devices": 1}
    ).replace("\n", "\r\n")
    assert good_rows(text, "jsonl")[0].row == 1


def test_bom_prefixed_csv_opened_as_plain_utf8() -> None:
    rows = good_rows("\ufeff" + csv_of("Acme,PO-1,1,core,1,,,"))
    assert rows[0].partner == "Acme"


def test_bom_prefixed_jsonl() -> None:
    text = "\ufeff" + jsonl_of(
        {"partner": "A", "purchase_order": "P", "type": "core", "devices": 1}
    )
    assert good_rows(text, "jsonl")[0].partner == "A"


def test_bom_and_crlf_file_through_open_input(tmp_path: Path) -> None:
    path = tmp_path / "po.csv"
    # What Excel's "CSV UTF-8" writes: a BOM, CRLF, and a quoted cell with a line break.
    path.write_bytes(
        ("\ufeff" + csv_of('Acme,"PO-1",1,core,1,,,"Line\nbreak"', "Acme,PO-2,1,core,1,,,"))
        .replace("\n", "\r\n")
        .encode("utf-8")
    )
    with open_input(str(path)) as stream:
        rows = [r for r in iter_rows(stream, "csv") if isinstance(r, ImportRow)]
    assert [(r.row, r.customer) for r in rows] == [(2, "Line break"), (4, None)]


def test_open_input_reads_stdin_bytes_and_leaves_stdin_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = io.BytesIO(("\ufeff" + csv_of("Acme,PO-1,1,core,1,,,")).encode("utf-8"))
    stdin = io.TextIOWrapper(raw, encoding="latin-1")
    monkeypatch.setattr("sys.stdin", stdin)
    with open_input("-") as stream:
        rows = list(iter_rows(stream, "csv"))
    assert rows == [ImportRow(2, "Acme", "PO-1", 1, LicenseType.CORE, 1, 1, None, None)]
    assert not raw.closed


def test_open_input_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"), open_input(str(tmp_path / "nope.csv")):
        pass


def test_header_only_file_has_no_rows() -> None:
    assert parse(HEADER + "\n") == []
    assert parse("", "jsonl") == []


# --- detect_format --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "explicit", "expected"),
    [
        ("po.csv", None, "csv"),
        ("po.jsonl", None, "jsonl"),
        ("PO.NDJSON", None, "jsonl"),
        ("po.txt", None, "csv"),
        ("po.jsonl", "csv", "csv"),
        ("po.csv", "JSONL", "jsonl"),
        ("-", None, "csv"),
        (None, None, "csv"),
        ("-", "jsonl", "jsonl"),
    ],
)
def test_detect_format(path: str | None, explicit: str | None, expected: str) -> None:
    assert detect_format(path, explicit) == expected


def test_detect_format_refuses_unknown_format() -> None:
    with pytest.raises(UsageError, match="--format csv or --format jsonl"):
        detect_format("po.csv", "xlsx")


# --- the header -----------------------------------------------------------------------


def test_missing_required_column_is_reported_once() -> None:
    text = csv_of(
        "Acme,PO-1,1,200",
        "Acme,PO-2,1,200",
        header="partner,purchase_order,po_line,devices",
    )
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [(1, "type")]
    assert "missing required column 'type'" in errors[0].message


def test_missing_column_does_not_hide_other_errors() -> None:
    text = csv_of(
        "Acme,PO-1,1,200", "Acme,PO-2,x,200", header="partner,purchase_order,po_line,devices"
    )
    assert where(text) == [(1, "type"), (3, "po_line")]


def test_unknown_column_is_reported_once_against_the_header() -> None:
    text = csv_of(
        "Acme,PO-1,capacity,200,blue",
        "Acme,PO-2,capacity,200,red",
        header="partner,purchase_order,type,devices,colour",
    )
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [(1, "colour")]
    assert "unknown column 'colour'" in errors[0].message


def test_misspelt_column_suggests_the_right_one() -> None:
    text = csv_of("Acme,PO-1,capacity,200", header="partner,purchase_ordr,type,devices")
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [(1, "purchase_ordr"), (1, "purchase_order")]
    assert "did you mean 'purchase_order'" in errors[0].message


def test_duplicate_column() -> None:
    text = csv_of(
        "Acme,PO-1,capacity,200,300", header="partner,purchase_order,type,devices,devices"
    )
    assert where(text) == [(1, "devices")]


def test_semicolon_separated_file_gets_a_hint() -> None:
    text = "partner;purchase_order;type;devices\nAcme;PO-1;capacity;200\n"
    errors = all_errors(text)
    assert errors[0].row == 1
    assert any("separate values with ';'" in e.message for e in errors)


def test_empty_csv_file_is_an_error() -> None:
    assert where("") == [(1, "header")]
    assert where("\n\n") == [(1, "header")]


def test_trailing_unnamed_columns_are_tolerated_when_empty() -> None:
    text = csv_of("Acme,PO-1,capacity,200,,", header="partner,purchase_order,type,devices,,")
    assert len(good_rows(text)) == 1
    text = csv_of("Acme,PO-1,capacity,200,,x", header="partner,purchase_order,type,devices,,")
    assert where(text) == [(2, "column 6")]


def test_extra_values_beyond_the_header() -> None:
    text = csv_of("Acme,PO-1,capacity,200,oops", header="partner,purchase_order,type,devices")
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [(2, "row")]
    assert "5 values" in errors[0].message


def test_short_row_reports_the_missing_required_values() -> None:
    text = csv_of("Acme,PO-1", header="partner,purchase_order,type,devices")
    assert where(text) == [(2, "type"), (2, "devices")]


# --- bad rows -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("Acme,PO-1,1,gold,200,1,,", "type", "unknown license type 'gold'"),
        ("Acme,PO-1,1,,200,1,,", "type", "type is required"),
        ("Acme,PO-1,1,capacity,two hundred,1,,", "devices", "must be a whole number"),
        ("Acme,PO-1,1,capacity,1.5,1,,", "devices", "must be a whole number"),
        ("Acme,PO-1,1,capacity,1_000,1,,", "devices", "must be a whole number"),
        ("Acme,PO-1,1,capacity,١٠٠,1,,", "devices", "must be a whole number"),
        ("Acme,PO-1,1,capacity,,1,,", "devices", "devices is required"),
        ("Acme,PO-1,1,capacity,0,1,,", "devices", "devices must be at least 1"),
        ("Acme,PO-1,1,capacity,-5,1,,", "devices", "devices must be at least 1"),
        ("Acme,PO-1,1,capacity,3000000000,1,,", "devices", "must be at most 2147483647"),
        ("Acme,PO-1,1,capacity,99999999999999999999,1,,", "devices", "out of range"),
        ("Acme,PO-1,1,capacity,200,0,,", "quantity", "quantity must be at least 1"),
        ("Acme,PO-1,1,capacity,200,-1,,", "quantity", "quantity must be at least 1"),
        ("Acme,PO-1,1,capacity,200,x,,", "quantity", "must be a whole number"),
        ("Acme,PO-1,0,capacity,200,1,,", "po_line", "PO line must be at least 1"),
        ("Acme,PO-1,-2,capacity,200,1,,", "po_line", "PO line must be at least 1"),
        ("Acme,PO-1,first,capacity,200,1,,", "po_line", "must be a whole number"),
        ("Acme,PO-1,1,maintenance,200,1,,", "term_months", "needs a term of 12 or 36 months"),
        ("Acme,PO-1,1,maintenance,200,1,24,", "term_months", "term must be 12 or 36 months"),
        ("Acme,PO-1,1,maintenance,200,1,one year,", "term_months", "must be a whole number"),
        ("Acme,PO-1,1,capacity,200,1,12,", "term_months", "only to maintenance"),
        ("Acme,PO-1,1,core,1,1,36,", "term_months", "only to maintenance"),
        (",PO-1,1,capacity,200,1,,", "partner", "partner must not be empty"),
        ("   ,PO-1,1,capacity,200,1,,", "partner", "partner must not be empty"),
        ("Acme,,1,capacity,200,1,,", "purchase_order", "purchase order must not be empty"),
        (f"{'A' * 201},PO-1,1,capacity,200,1,,", "partner", "the limit is 200"),
        (f"Acme,{'9' * 101},1,capacity,200,1,,", "purchase_order", "the limit is 100"),
        ("Acme,PO-1\x00,1,capacity,200,1,,", "purchase_order", "control characters"),
        (f"Acme,PO-1,1,capacity,200,1,,{'c' * 201}", "customer", "the limit is 200"),
    ],
)
def test_bad_value(line: str, field: str, message: str) -> None:
    errors = all_errors(csv_of(line))
    assert [(e.row, e.field) for e in errors] == [(2, field)]
    assert message in errors[0].message


def test_every_error_of_a_row_is_reported_in_column_order() -> None:
    text = csv_of("   ,PO-1,0,maintenance,abc,-1,,", "Acme,PO-2,1,capacity,200,1,12,")
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [
        (2, "partner"),
        (2, "po_line"),
        (2, "devices"),
        (2, "quantity"),
        (2, "term_months"),
        (3, "term_months"),
    ]
    # Messages speak of the file's columns, not of `license add` options.
    assert all("--" not in e.message for e in errors)


def test_bad_rows_do_not_stop_good_rows() -> None:
    parsed = parse(csv_of("Acme,PO-1,1,capacity,0,1,,", "Acme,PO-1,2,capacity,200,1,,"))
    assert isinstance(parsed[0], list)
    assert isinstance(parsed[1], ImportRow)


def test_duplicate_key_in_file_names_the_first_row() -> None:
    text = csv_of(
        "Acme,PO-1,1,capacity,200,1,,",
        "Acme,PO-1,2,capacity,200,1,,",
        "Other,PO-1,1,capacity,200,1,,",
        " ACME ,po-1,,core,1,1,,",  # same key: names and POs ignore case, po_line defaults to 1
        "acme,PO-1,1,capacity,200,1,,",
    )
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [(5, "purchase_order"), (6, "purchase_order")]
    assert all("repeat row 2" in e.message for e in errors)


def test_duplicate_is_found_even_when_a_row_has_other_errors() -> None:
    text = csv_of("Acme,PO-1,1,capacity,0,1,,", "Acme,PO-1,1,capacity,200,1,,")
    assert where(text) == [(2, "devices"), (3, "purchase_order")]


def test_duplicate_check_can_be_left_to_the_caller() -> None:
    text = csv_of("Acme,PO-1,1,core,1,,,", "Acme,PO-1,1,core,1,,,")
    parsed = parse(text, check_duplicates=False)
    assert all(isinstance(item, ImportRow) for item in parsed)


def test_multiline_quoted_csv_keeps_physical_line_numbers() -> None:
    text = csv_of(
        '"Acme\nBuilding\nAutomation",PO-1,1,capacity,200,1,,',  # lines 2-4
        'Acme,PO-2,1,capacity,0,1,,"P\n1"',  # lines 5-6
        "Acme,PO-3,1,gold,200,1,,",  # line 7
    )
    parsed = parse(text)
    assert isinstance(parsed[0], ImportRow)
    assert (parsed[0].row, parsed[0].partner) == (2, "Acme Building Automation")
    assert where(text) == [(5, "devices"), (7, "type")]


def test_multiline_quoted_csv_with_crlf() -> None:
    text = csv_of('Acme,PO-1,1,capacity,200,1,,"P\n1"', "Acme,PO-1,1,core,1,1,,").replace(
        "\n", "\r\n"
    )
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [(4, "purchase_order")]
    assert "repeat row 2" in errors[0].message


def test_malformed_csv_stops_with_an_error() -> None:
    text = csv_of("Acme,PO-1,1,core,1,,,", "Acme,PO-2,1,core,1,,," + "x" * 200_000)
    errors = all_errors(text)
    assert [(e.row, e.field) for e in errors] == [(3, "file")]
    assert "malformed CSV" in errors[0].message


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "po.csv"
    path.write_bytes(csv_of("Müller AG,PO-1,1,core,1,,,").encode("latin-1"))
    with open_input(str(path)) as stream:
        parsed = list(iter_rows(stream, "csv"))
    errors = [e for item in parsed if isinstance(item, list) for e in item]
    assert [e.field for e in errors] == ["file"]
    assert "not UTF-8" in errors[0].message


# --- bad JSONL ------------------------------------------------------------------------

GOOD = {"partner": "Acme", "purchase_order": "PO-1", "type": "capacity", "devices": 200}


def test_bad_json_line_is_an_error_for_that_row_only() -> None:
    text = jsonl_of(GOOD) + '{"partner": "Acme", \n' + jsonl_of({**GOOD, "po_line": 2})
    parsed = parse(text, "jsonl")
    assert [type(item) for item in parsed] == [ImportRow, list, ImportRow]
    errors = all_errors(text, "jsonl")
    assert [(e.row, e.field) for e in errors] == [(2, "json")]
    assert "not valid JSON" in errors[0].message


@pytest.mark.parametrize(("line", "kind"), [("[1, 2]", "a list"), ('"x"', "text"), ("42", "42")])
def test_json_line_that_is_not_an_object(line: str, kind: str) -> None:
    errors = all_errors(jsonl_of(GOOD) + line + "\n", "jsonl")
    assert [(e.row, e.field) for e in errors] == [(2, "json")]
    assert "expected a JSON object" in errors[0].message
    assert kind in errors[0].message


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"devices": 1.5}, "devices", "must be a whole number"),
        ({"devices": True}, "devices", "must be a whole number"),
        ({"devices": None}, "devices", "devices is required"),
        ({"devices": [200]}, "devices", "must be a whole number"),
        ({"quantity": 0}, "quantity", "at least 1"),
        ({"partner": 7}, "partner", "must be text"),
        ({"partner": None}, "partner", "partner is required"),
        ({"type": 1}, "type", "unknown license type"),
        ({"type": "maintenance"}, "term_months", "needs a term of 12 or 36"),
        ({"term_months": 12}, "term_months", "only to maintenance"),
        ({"customer": 5}, "customer", "must be text"),
    ],
)
def test_bad_jsonl_value(changes: dict[str, object], field: str, message: str) -> None:
    errors = all_errors(jsonl_of({**GOOD, **changes}), "jsonl")
    assert [(e.row, e.field) for e in errors] == [(1, field)]
    assert message in errors[0].message


def test_jsonl_missing_key() -> None:
    record = {k: v for k, v in GOOD.items() if k != "purchase_order"}
    assert where(jsonl_of(record), "jsonl") == [(1, "purchase_order")]


def test_jsonl_unknown_key_is_reported_at_its_first_row_only() -> None:
    text = jsonl_of(
        GOOD,
        {**GOOD, "po_line": 2, "colour": "blue"},
        {**GOOD, "po_line": 3, "colour": "red", "devics": 1},
    )
    errors = all_errors(text, "jsonl")
    assert [(e.row, e.field) for e in errors] == [(2, "colour"), (3, "devics")]
    assert "did you mean 'devices'" in errors[1].message


def test_jsonl_duplicate_key() -> None:
    text = jsonl_of(
        GOOD, {**GOOD, "devices": 500}, {**GOOD, "purchase_order": "po-1", "po_line": 1}
    )
    assert where(text, "jsonl") == [(2, "purchase_order"), (3, "purchase_order")]


# --- the summary ----------------------------------------------------------------------


def test_summary_matches_the_json_contract() -> None:
    summary = ImportSummary(created=2, customers_created=1, dry_run=True)
    summary.errors.append(RowError(3, "devices", "devices must be at least 1"))
    assert not summary.ok
    assert json.loads(json.dumps(summary.model_dump())) == {
        "created": 2,
        "unchanged": 0,
        "customers_created": 1,
        "errors": [{"row": 3, "field": "devices", "message": "devices must be at least 1"}],
        "dry_run": True,
    }
    assert ImportSummary().ok


# --- the quick CSV path ---------------------------------------------------------------

#: Rows of every shape: the quick path takes the common ones and must give what
#: `validate` gives; every other one must fall through to `validate`, errors included.
ODD_ROWS = (
    "Acme,PO-1,1,capacity,200,2,,",
    "Acme,PO-1,2,maintenance,1000,1,36,Site A",
    " Acme ,PO-1,3,Core,1,,,Site A ",
    "Acme,PO-2,007,capacity,+5,1,,",
    "Acme,PO-2,1,capacity,0,1,,",
    "Acme,PO-2,2,capacity,5,1,12,",
    "Acme,PO-2,3,maintenance,5,1,,",
    "Acme,PO-2,4,maintenance,5,1,24,",
    "Acme,PO-1,1,capacity,200,2,,",
    "acme,po-1,2,maintenance,1000,1,36,site a",
    "Acme,,1,capacity,1,1,,",
    ",PO-3,1,capacity,1,1,,",
    "Acme,PO-3,1,capacity,1,1,,2133c667-af41-4518-94df-a2bb3b775330",
    "Acme,PO-3,2,capacity,1,1,,   ",
    "Acme,PO-3,3,capacity,99999999999,1,,",
    "Acme,PO-3,4,capacity,１２,1,,",
    "Acme,PO-3,5,capacity,12,1,,Zoë Ltd",
    "Acme,PO-3,6,widget,12,1,,",
    "Acme,PO-3,7,capacity,,1,,",
    "Acme\x01,PO-4,1,capacity,1,1,,",
    ",,,,,,,",
    "Acme,PO-4,2,capacity,1,1,,,extra",
    "Acme,PO-4,3,capacity,1,1",
    "Acme,PO-4,4,capacity,2147483648,1,,",
    "Acme,PO-4,5,capacity,1,1,,Acme",
    "Acme,PO-4,6,capacity,1,1,," + "x" * 300,
    "Acme,PO-4,7,capacity,1,1,,Zoë Ltd",
    "Acme,PO-4\x02,8,capacity,1,1,,",
    "Acme,PO-4,9,capacity, 3,1,,",
    "Acme,PO-4,10,capacity,3,1,, Site B",
    "Acme,PO-4,11,capacity,3,1,,Site B",
    "Acme,PO-4,12,capacity,3,1,,Site B",
    "Acme,PO-5,,core,1,,,",
    "Acme,PO-5,2,maintenance,5,1,036,",
)


def partner_last(line: str) -> str:
    first, _, rest = line.partition(",")
    return f"{rest},{first}"


@pytest.mark.parametrize("check_duplicates", [True, False])
@pytest.mark.parametrize(
    "text",
    [
        csv_of(*ODD_ROWS),
        csv_of(*map(partner_last, ODD_ROWS), header=partner_last(HEADER)),
        csv_of(
            "200,capacity,PO-9,Acme",
            "1,core,PO-9,Acme",
            "5,maintenance,PO-10,Acme",
            "x,capacity,PO-10,Acme",
            header="devices,type,purchase_order,partner",
        ),
    ],
    ids=["all columns", "partner last", "required columns only"],
)
def test_the_quick_csv_path_gives_exactly_what_validate_gives(
    text: str, check_duplicates: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = parse(text, check_duplicates=check_duplicates)
    assert any(isinstance(item, ImportRow) for item in quick)
    assert any(isinstance(item, list) for item in quick)
    monkeypatch.setattr(importer._Validator, "quick_csv", lambda self, names: None)
    assert parse(text, check_duplicates=check_duplicates) == quick


UUID_NAME = "0b1e5254-6f2d-4b40-93dd-2ab2fa7732d2"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_name_allowed_as_a_partner_is_still_checked_as_a_customer(fmt: Format) -> None:
    """Partner and customer names follow different rules (a customer's may not parse as
    a UUID), so a name cleaned as one is not taken as cleaned for the other."""
    rows = [
        {"partner": UUID_NAME, "purchase_order": "PO-1", "type": "capacity", "devices": 10},
        {
            "partner": UUID_NAME,
            "purchase_order": "PO-2",
            "type": "capacity",
            "devices": 10,
            "customer": UUID_NAME,
        },
    ]
    if fmt == "csv":
        text = (
            HEADER
            + "\n"
            + "".join(
                f"{r['partner']},{r['purchase_order']},,{r['type']},{r['devices']},,,"
                f"{r.get('customer', '')}\n"
                for r in rows
            )
        )
    else:
        text = "".join(json.dumps(r) + "\n" for r in rows)
    errors = all_errors(text, fmt)
    assert [(e.row, e.field) for e in errors] == [(3 if fmt == "csv" else 2, "customer")]
    assert "UUID" in errors[0].message
