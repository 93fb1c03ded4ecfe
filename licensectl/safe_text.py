"""Text that is safe to show: no terminal control, no invisible look-alikes, no formulas.

Pure functions over strings, with no I/O and no Rich, so that every layer may use them:
`domain.clean_name` refuses on input what `unsafe_at` finds, and the renderers (the CLI's
tables, status and error lines, CSV cells, JSON text; later the export encoder below the
CLI) escape the same characters on output. One definition means that what the input
check lets through is exactly what the output may print raw.

Unsafe characters are those that can drive a terminal or hide in a name:
- control characters (Unicode Cc: C0 such as ESC, DEL, and C1 such as U+009B CSI);
- format characters (Cf): bidi overrides and isolates (U+202E), zero-width space and
  joiners (U+200B-U+200D), soft hyphen, BOM, tag characters;
- line and paragraph separators (Zl, Zp), surrogates (Cs), private use (Co) and
  unassigned code points (Cn), whose rendering nobody can predict;
- the remaining default-ignorable characters, which render as nothing although they are
  letters or marks: Hangul fillers, variation selectors, the combining grapheme joiner,
  Mongolian free variation selectors, Khmer inherent vowels, and the Braille blank.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

#: Default-ignorable or blank-rendering characters outside the C* and Z[lp] categories.
_INVISIBLE: Final = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u2800\u3164"
    "\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
#: What may need escaping in JSON text: json.dumps(ensure_ascii=False) already escapes
#: C0 controls, but passes DEL and everything above ASCII through as it is.
_JSON_CANDIDATES: Final = re.compile("[^\x00-\x7e]")  # negated: quick to compile
#: A cell a spreadsheet would evaluate (OWASP, "CSV Injection").
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_unsafe(char: str) -> bool:
    """Whether one character must not be shown raw (see the module docstring)."""
    category = unicodedata.category(char)
    if category[0] == "C" or category in ("Zl", "Zp"):
        return True
    return _INVISIBLE.match(char) is not None


def unsafe_at(text: str) -> int | None:
    """The index of the first unsafe character in `text`, or None."""
    # isprintable() is C-fast and false for every C* and Z* character but the space, so
    # ordinary text needs one regex pass for the invisible letters and marks.
    if text.isprintable():
        found = _INVISIBLE.search(text)
        return found.start() if found else None
    for index, char in enumerate(text):
        if is_unsafe(char):
            return index
    return None


def describe_char(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`: how an error names a refused character."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every unsafe character written as a Python-style escape (`\\u202e`).

    For display: tables, status and error lines, paths echoed in messages, CSV cells.
    Backslashes are left alone, so the escapes are for reading, not for decoding.
    """
    if unsafe_at(text) is None:
        return text
    return "".join(_escape(c) if is_unsafe(c) else c for c in text)


def json_text(data: Any, *, indent: int | None = None, compact: bool = False) -> str:
    """JSON for stdout and files: the same values, with unsafe characters as \\u escapes.

    The decoded data is exactly what `json.dumps` would give; only the text differs, so
    that a raw C1 control or bidi override inside a string cannot reach a terminal that
    shows the JSON (json.dumps with ensure_ascii=False lets both through).
    """
    import json

    separators = (",", ":") if compact else None
    text = json.dumps(data, ensure_ascii=False, indent=indent, separators=separators)
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_CANDIDATES.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if not is_unsafe(char):
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, the only way JSON spells an astral escape
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def csv_cell(text: str, *, raw: bool = False) -> str:
    """A text cell for CSV that a spreadsheet shows as text, never runs as a formula.

    A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
    `'` (OWASP's advice), except a plain number such as `-5`, which a spreadsheet reads
    as the number it is; unsafe characters are escaped as in `printable`. `raw` returns
    the text exactly as stored, for scripts that need the bytes.
    """
    if raw:
        return text
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        text = "'" + text
    return printable(text)


def csv_value(value: Any, *, raw: bool = False) -> Any:
    """One value of a JSON-shaped row as a CSV cell: numbers stay numbers, None is empty,
    booleans are `true`/`false`, lists and objects are compact JSON, text is `csv_cell`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | dict):
        return json_text(value, compact=True)
    return csv_cell(str(value), raw=raw)
