"""Parse and validate a bulk purchase-order import (README, "Import files").

This is the half of ``licensectl import`` that needs no store: it turns a CSV or JSONL
stream into validated `ImportRow`s or, for a bad row, every `RowError` found in it. The
service layer decides what each valid row means against the store (create, unchanged or
conflict) and writes all or nothing.

Rows stream through; the only state kept is the natural keys seen so far, to report a key
repeated inside the file. Validation is plain Python on purpose, not a pydantic model per
row: the whole import must stay within 1.5x of a raw csv + executemany baseline (issue 4).
The shape rules themselves live in `licensectl.domain` and are only called from here.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final, Literal, NamedTuple

from licensectl.contract.models import RowError
from licensectl.domain import (
    LicenseType,
    check_license_values,
    clean_customer_name,
    clean_name,
    clean_po,
    name_key,
    po_key,
)
from licensectl.errors import UsageError
from licensectl.safe_text import printable

Format = Literal["csv", "jsonl"]
FORMATS: Final[tuple[Format, ...]] = ("csv", "jsonl")
JSONL_SUFFIXES: Final = (".jsonl", ".ndjson")

#: The columns of an import file, in the order errors within a row are reported.
COLUMNS: Final = (
    "partner",
    "purchase_order",
    "po_line",
    "type",
    "devices",
    "quantity",
    "term_months",
    "customer",
)
REQUIRED_COLUMNS: Final = frozenset({"partner", "purchase_order", "type", "devices"})
_COLUMN_SET: Final = frozenset(COLUMNS)

#: Counts are stored in INTEGER columns, which are 32-bit on PostgreSQL; a larger number
#: would otherwise surface as a database error in the middle of the write.
INT_MAX: Final = 2**31 - 1
_MAX_DIGITS: Final = 12
_NAME_CACHE: Final = 4096
#: Numbers as the quick CSV path has seen them spelled (plain digits), up to this many.
_INT_CACHE: Final = 4096

_TYPES: Final = {t.value: t for t in LicenseType}
_TYPE_CHOICES: Final = ", ".join(t.value for t in LicenseType)

NaturalKey = tuple[str, str, int]


class ImportRow(NamedTuple):
    """One valid line of the file. A NamedTuple because it is built 100k+ times a second."""

    row: int
    partner: str
    purchase_order: str
    po_line: int
    type: LicenseType
    devices: int
    quantity: int
    term_months: int | None
    customer: str | None

    @property
    def key(self) -> NaturalKey:
        return natural_key(self.partner, self.purchase_order, self.po_line)


ParsedRow = ImportRow | list[RowError]


def natural_key(partner: str, purchase_order: str, po_line: int) -> NaturalKey:
    """The import's identity of a license: names and POs compare ignoring case."""
    return (name_key(partner), po_key(purchase_order), po_line)


def detect_format(path: str | None, explicit: str | None) -> Format:
    """``--format`` wins; else a ``.jsonl``/``.ndjson`` name means JSONL; else CSV.

    ``None`` or ``-`` is standard input, which has no name to go by: CSV unless told.
    """
    if explicit is not None:
        fmt = explicit.strip().lower()
        if fmt == "csv":
            return "csv"
        if fmt == "jsonl":
            return "jsonl"
        raise UsageError(f"unknown import format {explicit!r}: use --format csv or --format jsonl")
    if path is not None and path != "-" and path.lower().endswith(JSONL_SUFFIXES):
        return "jsonl"
    return "csv"


@contextmanager
def open_input(path: str | None) -> Iterator[Iterable[str]]:
    """Open FILE, or standard input for ``-``/None, the way `iter_rows` expects it.

    UTF-8 with or without a BOM (Excel writes one), and line endings left as they are:
    the csv module needs that to keep line breaks inside quoted fields. A file that
    cannot be read, at open or part-way (an I/O error, as /proc/self/mem gives), is a
    usage error naming it, never an internal one.
    """
    if path is None or path == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:  # already a text stream (an embedding application, a test)
            yield _readable(sys.stdin, "standard input")
            return
        stream = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
        try:
            yield _readable(stream, "standard input")
        finally:
            stream.detach()  # stdin is not ours to close
        return
    shown = printable(path)
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except IsADirectoryError:
        raise UsageError(f"cannot read {shown}: it is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {printable(exc.strerror or str(exc))}") from None
    with handle:
        yield _readable(handle, shown)


def _readable(lines: Iterable[str], shown: str) -> Iterator[str]:
    # A plain loop, not `yield from`: closing this generator early (an interrupted
    # import) must not close the stream, which is not its to close (stdin).
    try:
        for line in lines:  # noqa: UP028 - see above
            yield line
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {printable(exc.strerror or str(exc))}") from None


def iter_rows(
    stream: Iterable[str], fmt: Format, *, check_duplicates: bool = True
) -> Iterator[ParsedRow]:
    """Each data row of the file, in order: an `ImportRow`, or every `RowError` of that row.

    Problems with the file as a whole (header, encoding, broken quoting) come out as error
    lists too, against the line where they were found. Blank lines are skipped. The caller
    must treat any error as failing the whole import.

    A natural key repeated inside the file is an error on the later row, naming the first.
    That needs the keys seen so far, the only memory that grows with the file (about 130
    bytes a row); ``check_duplicates=False`` leaves the check to a caller that has a better
    place for it, such as a temporary table.
    """
    validator = _Validator(check_duplicates=check_duplicates)
    if fmt == "csv":
        return _iter_csv(stream, validator)
    if fmt == "jsonl":
        return _iter_jsonl(stream, validator)
    raise UsageError(f"unknown import format {fmt!r}: use csv or jsonl")


# --- CSV ------------------------------------------------------------------------------


def _iter_csv(lines: Iterable[str], validator: _Validator) -> Iterator[ParsedRow]:
    reader = csv.reader(_without_bom(lines))
    try:
        header: list[str] | None = None
        header_row = 1
        while header is None:
            header_row = reader.line_num + 1
            record = next(reader, None)
            if record is None:
                yield [RowError(1, "header", _EMPTY_CSV)]
                return
            if any(cell.strip() for cell in record):
                header = record
        names = [cell.strip() for cell in header]
        header_errors, unnamed = _check_header(header_row, names)
        if header_errors:
            yield header_errors
        # A missing column was reported once above; its cells are not reported again.
        missing = {e.field for e in header_errors if e.field in REQUIRED_COLUMNS}

        width = len(names)
        # A clean header: rows of exactly its width may take the quick path.
        quick = validator.quick_csv(names) if not (header_errors or unnamed) else None
        # csv.reader counts physical lines, so a record starts one after the last one
        # read, whatever quoted line breaks it spans.
        start = reader.line_num
        for values in reader:
            row, start = start + 1, reader.line_num
            if quick is not None and len(values) == width:
                quick_result = quick(row, values)
                if quick_result is not None:
                    yield quick_result
                    continue
                del values[width:]  # the quick path's padding
            if not any(values):  # a blank line, or a spreadsheet's empty ",,,,"
                continue
            result = validator.validate(row, dict(zip(names, values, strict=False)))
            if missing and isinstance(result, list):
                result = [e for e in result if e.field not in missing]
                if not result:
                    continue
            if len(values) > width or unnamed:
                extra = _stray_values(row, values, width, unnamed)
                if extra:
                    result = extra + (result if isinstance(result, list) else [])
            yield result
    except csv.Error as exc:
        yield [RowError(reader.line_num, "file", f"malformed CSV: {exc}")]
    except UnicodeDecodeError:
        yield [RowError(reader.line_num + 1, "file", _NOT_UTF8)]


_EMPTY_CSV: Final = (
    f"the file is empty: a CSV import needs a header line naming its columns ({', '.join(COLUMNS)})"
)
_NOT_UTF8: Final = "the file is not UTF-8 text (at or after this line); save it as UTF-8"


def _check_header(row: int, names: list[str]) -> tuple[list[RowError], list[int]]:
    """Errors of a CSV header, and the positions of unnamed columns (tolerated if empty)."""
    errors: list[RowError] = []
    unnamed: list[int] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            unnamed.append(position - 1)
        elif name not in _COLUMN_SET:
            errors.append(RowError(row, name, _unknown_column(name)))
        elif name in seen:
            errors.append(RowError(row, name, f"column {name!r} appears more than once"))
        seen.add(name)
    for name in COLUMNS:
        if name in REQUIRED_COLUMNS and name not in seen:
            message = f"missing required column {name!r}"
            if len(names) == 1 and ";" in names[0]:
                message += "; the file seems to separate values with ';', use ',' instead"
            errors.append(RowError(row, name, message))
    return errors, unnamed


def _unknown_column(name: str, what: str = "column") -> str:
    message = f"unknown {what} {name!r}"
    close = difflib.get_close_matches(name.lower(), COLUMNS, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}; the {what}s are {', '.join(COLUMNS)}"


def _stray_values(row: int, values: list[str], width: int, unnamed: list[int]) -> list[RowError]:
    """Values no column names: past the header's end, or under an unnamed header cell."""
    errors: list[RowError] = []
    for index in unnamed:
        if index < len(values) and values[index].strip():
            errors.append(
                RowError(row, f"column {index + 1}", "value in a column the header does not name")
            )
    if any(value.strip() for value in values[width:]):
        errors.append(
            RowError(row, "row", f"{len(values)} values, but the header names {width} columns")
        )
    return errors


# --- JSONL ----------------------------------------------------------------------------


def _iter_jsonl(lines: Iterable[str], validator: _Validator) -> Iterator[ParsedRow]:
    reported_unknown: set[str] = set()
    row = 0
    try:
        for row, line in enumerate(_without_bom(lines), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield [RowError(row, "json", f"not valid JSON: {exc.msg} (column {exc.colno})")]
                continue
            except RecursionError:
                yield [RowError(row, "json", "not valid JSON: nested too deeply")]
                continue
            if not isinstance(obj, dict):
                yield [RowError(row, "json", f"expected a JSON object, not {_kind(obj)}")]
                continue
            result = validator.validate(row, obj)
            unknown = obj.keys() - _COLUMN_SET
            if unknown:
                # Reported once per key, like a CSV column, not on every row that has it.
                errors = [
                    RowError(row, key, _unknown_key(key))
                    for key in sorted(unknown - reported_unknown)
                ]
                reported_unknown |= unknown
                if errors:
                    result = errors + (result if isinstance(result, list) else [])
            yield result
    except UnicodeDecodeError:
        yield [RowError(row + 1, "file", _NOT_UTF8)]


def _unknown_key(key: str) -> str:
    return _unknown_column(key, "key") + " (reported at its first row only)"


# --- one row --------------------------------------------------------------------------


class _KeyTracker:
    """The first row of each natural key seen so far, kept as compact as plain Python allows.

    One small dict per partner (partners are few), keyed by "<po key> NUL <po line>":
    about 130 bytes a row, half of what a dict of key tuples takes. The NUL cannot clash
    with a purchase order, which may not contain control characters.
    """

    def __init__(self) -> None:
        self._by_partner_key: dict[str, dict[str, int]] = {}
        # The same dicts by the partner's name as written, to skip case-folding it per row.
        self._by_partner: dict[str, dict[str, int]] = {}

    def first_row(self, row: int, partner: str, purchase_order: str, po_line: int) -> int:
        """The row where this key first appeared: ``row`` itself when it is new."""
        seen = self._by_partner.get(partner)
        if seen is None:
            seen = self._by_partner_key.setdefault(name_key(partner), {})
            self._by_partner[partner] = seen
        return seen.setdefault(f"{po_key(purchase_order)}\0{po_line}", row)


class _Validator:
    """Validates rows in file order, remembering the natural keys seen so far."""

    def __init__(self, *, check_duplicates: bool) -> None:
        self._keys = _KeyTracker() if check_duplicates else None
        # Partner and customer names repeat from row to row; purchase orders mostly do not.
        # One cache per field: the two follow different rules (a customer's name may not
        # parse as a UUID), so a name clean as a partner's is not clean as a customer's.
        self._names: dict[str, dict[str, str]] = {"partner": {}, "customer": {}}
        #: The last purchase order as written and cleaned: a PO's lines mostly follow
        #: each other.
        self._last_po: tuple[object, str] = (object(), "")

    def _name(
        self, value: object, field: str, row: int, errors: list[RowError], *, required: bool
    ) -> str | None:
        if isinstance(value, str):
            cleaned = self._names[field].get(value)
            if cleaned is not None:
                return cleaned
            if not value and not required:
                return None
        cleaned = _name(value, field, row, errors, required=required)
        cache = self._names[field]
        if cleaned is not None and isinstance(value, str) and len(cache) < _NAME_CACHE:
            cache[value] = cleaned
        return cleaned

    def quick_csv(self, names: list[str]) -> Callable[[int, list[str]], ImportRow | None]:
        """A faster `validate` for the CSV rows (of the header's width) whose every cell
        has a common shape: cached or clean names, plain digits, a known type, and values
        that passed the rules before. It returns exactly the `ImportRow` `validate` would,
        or None for any other row, which then goes through `validate` (that is where
        errors are found and spelled). `names` are the header's cells, a clean header
        (known columns, none twice, none unnamed); a row given to the function is
        padded with one empty cell, which stands for every absent column.
        """
        width = len(names)
        at = [names.index(c) if c in names else width for c in COLUMNS]
        cells = operator.itemgetter(*at)
        caches = self._names
        ints: dict[str, int] = {}
        types = _TYPES
        passed: set[tuple[LicenseType, int, int, int | None, int]] = set()
        keys = self._keys

        def name(value: str, field: str) -> str | None:
            names_cache = caches[field]
            cleaned = names_cache.get(value)
            if cleaned is not None or not value:
                return cleaned
            try:
                cleaned = (
                    clean_customer_name(value)
                    if field == "customer"
                    else clean_name(value, what=field)
                )
            except UsageError:
                return None
            if len(names_cache) < _NAME_CACHE:
                names_cache[value] = cleaned
            return cleaned

        def count(value: str, default: int | None) -> int | None:
            number = ints.get(value)
            if number is not None:
                return number
            if not value:
                return default
            if value.isdigit() and value.isascii() and len(value) < 10:
                number = int(value)
                if len(ints) < _INT_CACHE:
                    ints[value] = number
                return number
            return None

        def quick(row: int, values: list[str]) -> ImportRow | None:
            values.append("")  # the absent columns' cell
            raw_partner, raw_po, raw_line, raw_type, raw_devices, raw_quantity, raw_term, \
                raw_customer = cells(values)  # fmt: skip
            partner = name(raw_partner, "partner")
            if partner is None:
                return None
            last_raw_po, purchase_order = self._last_po
            if raw_po != last_raw_po:
                try:
                    purchase_order = clean_po(raw_po)
                except UsageError:
                    return None
                self._last_po = (raw_po, purchase_order)
            license_type = types.get(raw_type)
            po_line = count(raw_line, 1)
            devices = count(raw_devices, None)
            quantity = count(raw_quantity, 1)
            term_months = None if not raw_term else count(raw_term, None)
            if (
                license_type is None
                or po_line is None
                or devices is None
                or quantity is None
                or (term_months is None and raw_term)
            ):
                return None
            customer = None
            if raw_customer:
                customer = name(raw_customer, "customer")
                if customer is None:
                    return None
            shape = (license_type, devices, quantity, term_months, po_line)
            if shape not in passed:
                if not _fits_rules(*shape):
                    return None
                if len(passed) < _NAME_CACHE:
                    passed.add(shape)
            if keys is not None and keys.first_row(row, partner, purchase_order, po_line) != row:
                return None
            return ImportRow(
                row,
                partner,
                purchase_order,
                po_line,
                license_type,
                devices,
                quantity,
                term_months,
                customer,
            )

        return quick

    def validate(self, row: int, record: Mapping[str, object]) -> ParsedRow:
        errors: list[RowError] = []
        get = record.get
        partner = self._name(get("partner"), "partner", row, errors, required=True)
        raw_po = get("purchase_order")
        if raw_po == self._last_po[0] and isinstance(raw_po, str):
            purchase_order: str | None = self._last_po[1]  # the next line of the same PO
        else:
            purchase_order = _name(raw_po, "purchase_order", row, errors, required=True)
            if purchase_order is not None and isinstance(raw_po, str):
                self._last_po = (raw_po, purchase_order)
        po_line = _int(get("po_line"), "po_line", row, errors, default=1)
        license_type = _license_type(get("type"), row, errors)
        devices = _int(get("devices"), "devices", row, errors, required=True)
        quantity = _int(get("quantity"), "quantity", row, errors, default=1)
        term_months = _int(get("term_months"), "term_months", row, errors)
        customer = self._name(get("customer"), "customer", row, errors, required=False)

        if errors or not _fits_rules(license_type, devices, quantity, term_months, po_line):
            term_parsed = not any(e.field == "term_months" for e in errors)
            errors.extend(
                _rule_errors(
                    row, license_type, devices, quantity, term_months, po_line, term_parsed
                )
            )
            errors.sort(key=_column_position)  # parse and rule errors, in column order

        if (
            self._keys is not None
            and partner is not None
            and purchase_order is not None
            and po_line is not None
        ):
            first = self._keys.first_row(row, partner, purchase_order, po_line)
            if first != row:
                errors.append(
                    RowError(
                        row,
                        "purchase_order",
                        f"partner, purchase order and PO line repeat row {first}; "
                        "each PO line may appear only once in a file",
                    )
                )

        if errors:
            return errors
        # Every None above came with an error, so none is left here.
        assert partner is not None and purchase_order is not None and license_type is not None
        assert po_line is not None and devices is not None and quantity is not None
        return ImportRow(
            row,
            partner,
            purchase_order,
            po_line,
            license_type,
            devices,
            quantity,
            term_months,
            customer,
        )


_POSITIONS: Final = {name: position for position, name in enumerate(COLUMNS)}


def _column_position(error: RowError) -> int:
    return _POSITIONS.get(error.field, len(COLUMNS))


def _name(
    value: object, field: str, row: int, errors: list[RowError], *, required: bool
) -> str | None:
    if value is None or (not required and isinstance(value, str) and not value.strip()):
        if required:
            errors.append(RowError(row, field, f"{field} is required"))
        return None
    if field == "purchase_order" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # PO numbers are often plain numbers in JSON
    if not isinstance(value, str):
        errors.append(RowError(row, field, f"{field} must be text, not {_kind(value)}"))
        return None
    try:
        if field == "purchase_order":
            return clean_po(value)
        if field == "customer":
            return clean_customer_name(value)
        return clean_name(value, what=field)
    except UsageError as exc:
        errors.append(RowError(row, field, exc.message))
        return None


def _int(
    value: object,
    field: str,
    row: int,
    errors: list[RowError],
    *,
    default: int | None = None,
    required: bool = False,
) -> int | None:
    """A whole number from a cell or JSON value; None when absent (or after an error)."""
    if isinstance(value, str) and value.isdigit() and value.isascii() and len(value) < 10:
        return int(value)  # the common case, and below INT_MAX
    if isinstance(value, str) and not value.strip():
        value = None
    if value is None:
        if required:
            errors.append(RowError(row, field, f"{field} is required"))
        return default
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[0] in "+-" else text
        if not (digits.isascii() and digits.isdigit()):
            errors.append(
                RowError(row, field, f"{field} must be a whole number, not {_show(value)}")
            )
            return None
        if len(digits) > _MAX_DIGITS:
            errors.append(RowError(row, field, f"{field} is out of range: {_show(value)}"))
            return None
        number = int(text)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        errors.append(RowError(row, field, f"{field} must be a whole number, not {_kind(value)}"))
        return None
    if number > INT_MAX:
        errors.append(RowError(row, field, f"{field} must be at most {INT_MAX}, not {number}"))
        return None
    return number


def _license_type(value: object, row: int, errors: list[RowError]) -> LicenseType | None:
    if isinstance(value, str):
        found = _TYPES.get(value) or _TYPES.get(value.strip().lower())
        if found is not None:
            return found
        if not value.strip():
            value = None
    if value is None:
        errors.append(RowError(row, "type", f"type is required: {_TYPE_CHOICES}"))
    else:
        errors.append(
            RowError(row, "type", f"unknown license type {_show(value)}; use {_TYPE_CHOICES}")
        )
    return None


def _fits_rules(
    license_type: LicenseType | None,
    devices: int | None,
    quantity: int | None,
    term_months: int | None,
    po_line: int | None,
) -> bool:
    """The fast path: the whole row passes `check_license_values` in one call."""
    if license_type is None or devices is None or quantity is None or po_line is None:
        return False
    try:
        check_license_values(
            type=license_type,
            devices=devices,
            quantity=quantity,
            term_months=term_months,
            po_line=po_line,
        )
    except UsageError:
        return False
    return True


def _rule_errors(
    row: int,
    license_type: LicenseType | None,
    devices: int | None,
    quantity: int | None,
    term_months: int | None,
    po_line: int | None,
    term_parsed: bool,
) -> list[RowError]:
    """Every rule a row breaks, one field at a time.

    `check_license_values` stops at the first broken rule, so each parsed value is checked
    alone, with harmless values for the rest; this reports every field's error and keeps
    the rules in domain.py only. It runs for bad rows only.
    """
    checks: list[tuple[str, dict[str, Any]]] = []
    if devices is not None:
        checks.append(("devices", {"devices": devices}))
    if quantity is not None:
        checks.append(("quantity", {"quantity": quantity}))
    if po_line is not None:
        checks.append(("po_line", {"po_line": po_line}))
    if license_type is not None and term_parsed:
        checks.append(("term_months", {"type": license_type, "term_months": term_months}))
    errors: list[RowError] = []
    for field, values in checks:
        arguments: dict[str, Any] = {
            "type": LicenseType.CAPACITY,
            "devices": 1,
            "quantity": 1,
            "term_months": None,
            "po_line": 1,
            **values,
        }
        try:
            check_license_values(**arguments)
        except UsageError as exc:
            errors.append(RowError(row, field, exc.message))
    return errors


# --- helpers --------------------------------------------------------------------------


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    """The lines, minus a UTF-8 BOM on the first (left when the file was opened as utf-8)."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return
    yield first.removeprefix("\ufeff")
    yield from iterator


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    return _kind(value)
