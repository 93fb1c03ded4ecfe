"""`licensectl batch`: many operations from JSON lines, in one process.

Each line of a batch file is one operation, such as
``{"op": "transfer", "license_id": "…", "to": "P-Building 1", "quantity": 2}``; the
operations and their fields are listed in `OPERATIONS` (and in the README). An operation
may be named with ``"as": "NAME"`` so that later lines can use what it made: ``"$NAME"``
is its main identifier (the Customer ID of `customer.add`, the License ID of
`license.add`, the moved part's License ID of `transfer`), and ``"$NAME.a.b"`` any field
of its result. A string that should start with ``$`` is written ``$$``.

This module parses and dispatches; every rule is the backend's. Each operation is its own
transaction, or, with ``atomic=True``, all of them are one (`Backend.atomic`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from licensectl.domain import LicenseType
from licensectl.errors import InvalidDataError, LicensectlError
from licensectl.service.protocol import Backend

Args = dict[str, Any]

_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Field:
    kind: str  # "text", "count", "texts", "type"
    required: bool = False
    nullable: bool = False


@dataclass(frozen=True)
class Operation:
    fields: dict[str, Field]
    run: Callable[[Backend, Args], Any]
    #: The result's main identifier, what `$NAME` stands for.
    primary: Callable[[dict[str, Any]], Any]
    doc: str


def _required(kind: str) -> Field:
    return Field(kind, required=True)


OPERATIONS: Final[dict[str, Operation]] = {
    "customer.add": Operation(
        {"name": _required("text"), "partner": Field("text"), "emails": Field("texts")},
        lambda b, a: b.customer_add(
            a["name"], partner=a.get("partner"), emails=a.get("emails", ())
        ),
        lambda r: r["customer_id"],
        "add a customer/project account; result: the customer",
    ),
    "customer.email.add": Operation(
        {"customer": _required("text"), "email": _required("text"), "partner": Field("text")},
        lambda b, a: b.customer_email_add(a["customer"], a["email"], partner=a.get("partner")),
        lambda r: r["customer_id"],
        "add an email contact to a customer; result: the customer",
    ),
    "license.add": Operation(
        {
            "purchase_order": _required("text"),
            "type": _required("type"),
            "devices": _required("count"),
            "partner": Field("text"),
            "po_line": Field("count"),
            "quantity": Field("count"),
            "term_months": Field("count", nullable=True),
            "note": Field("text"),
        },
        lambda b, a: b.license_add(
            partner=a.get("partner"),
            purchase_order=a["purchase_order"],
            po_line=a.get("po_line", 1),
            type=a["type"],
            devices=a["devices"],
            quantity=a.get("quantity", 1),
            term_months=a.get("term_months"),
            note=a.get("note"),
        ),
        lambda r: r["license_id"],
        "add a purchased license to a partner's inventory; result: the license",
    ),
    "transfer": Operation(
        {"license_id": _required("text"), "to": _required("text"), "quantity": Field("count")},
        lambda b, a: b.transfer(a["license_id"], to=a["to"], quantity=a.get("quantity")),
        lambda r: r["transferred"]["license_id"],
        "transfer a license (or some copies) to a customer; result: the transfer result",
    ),
    "activate": Operation(
        {
            "license_id": _required("text"),
            "install_code": _required("text"),
            "copies": Field("count"),
            "name": Field("text"),
        },
        lambda b, a: b.activate(
            a["license_id"],
            install_code=a["install_code"],
            copies=a.get("copies", 1),
            name=a.get("name"),
        ),
        lambda r: r["license_id"],
        "online activation: the SmartServer holds COPIES afterwards; result: the activation",
    ),
    "return": Operation(
        {"license_id": _required("text"), "install_code": _required("text")},
        lambda b, a: b.return_license(a["license_id"], install_code=a["install_code"]),
        lambda r: r["license_id"],
        "return every copy a SmartServer holds of a license; result: the activation",
    ),
}


@dataclass
class BatchResult:
    """What one line did; `to_dict` is the result line of CLI.md."""

    line: int
    op: str | None
    ok: bool
    result: Any = None
    error: LicensectlError | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line": self.line, "op": self.op, "ok": self.ok}
        if self.ok:
            data["result"] = self.result
        else:
            assert self.error is not None
            data["error"] = {
                "message": self.error.message,
                "exit_code": self.error.exit_code,
                "kind": self.error.kind,
            }
        return data


class _Abort(Exception):
    def __init__(self, result: BatchResult) -> None:
        super().__init__(result.error.message if result.error else "aborted")
        self.result = result


def run_batch(
    backend: Backend, lines: Iterable[str], *, atomic: bool = False
) -> Iterator[BatchResult]:
    """Run each operation line in order, yielding one result per operation.

    Without `atomic`, each operation commits on its own and the batch goes on after a
    failure. With it, all run in one transaction that stops at the first failure and
    rolls everything back; results come once the batch has committed, or, when it
    failed, only the failing line's (nothing else happened).
    """
    runner = _Runner(backend)
    if not atomic:
        for number, text in _operation_lines(lines):
            yield runner.run(number, text)
        return
    done: list[BatchResult] = []
    try:
        with backend.atomic():
            for number, text in _operation_lines(lines):
                result = runner.run(number, text)
                if not result.ok:
                    raise _Abort(result)
                done.append(result)
    except _Abort as abort:
        yield abort.result
        return
    yield from done


def _operation_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line holding an operation: not blank, not a # comment."""
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


@dataclass
class _Named:
    line: int
    result: Any = None
    failed: bool = False


@dataclass
class _Runner:
    backend: Backend
    names: dict[str, _Named] = field(default_factory=dict)

    def run(self, number: int, text: str) -> BatchResult:
        op: str | None = None
        name: str | None = None
        try:
            record = _parse(text)
            op = record["op"] if isinstance(record.get("op"), str) else None
            operation = _operation(op)
            assert op is not None
            name = self._name(record)
            args = self._arguments(op, operation, record)
            output = operation.run(self.backend, args)
            data = output.model_dump(mode="json") if hasattr(output, "model_dump") else output
        except LicensectlError as exc:
            if name is not None:
                self.names[name] = _Named(number, failed=True)
            return BatchResult(number, op, False, error=exc)
        if name is not None:
            self.names[name] = _Named(number, result=(operation.primary(data), data))
        return BatchResult(number, op, True, result=data)

    def _name(self, record: dict[str, Any]) -> str | None:
        name = record.get("as")
        if name is None:
            return None
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InvalidDataError(
                '"as" must be a name of letters, digits, _ and - (starting with a letter)'
            )
        if name in self.names:
            raise InvalidDataError(
                f"the name {name!r} is already taken by line {self.names[name].line}"
            )
        return name

    def _arguments(self, op: str, operation: Operation, record: dict[str, Any]) -> Args:
        unknown = sorted(record.keys() - operation.fields.keys() - {"op", "as"})
        if unknown:
            close = difflib.get_close_matches(unknown[0], operation.fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidDataError(
                f"{op} has no field {unknown[0]!r}{hint} (its fields: "
                f"{', '.join(operation.fields)})"
            )
        args: Args = {}
        for key, spec in operation.fields.items():
            if key not in record:
                if spec.required:
                    raise InvalidDataError(f"{op} needs the field {key!r}")
                continue
            args[key] = _check(op, key, spec, self._resolve(record[key]))
        return args

    def _resolve(self, value: Any) -> Any:
        """`$NAME` and `$NAME.path` → what the named line made; `$$…` → `$…`."""
        if not isinstance(value, str) or not value.startswith("$"):
            if isinstance(value, list):
                return [self._resolve(v) for v in value]
            return value
        if value.startswith("$$"):
            return value[1:]
        name, _, path = value[1:].partition(".")
        named = self.names.get(name)
        if named is None:
            raise InvalidDataError(
                f'{value!r} names no earlier operation: name one with "as": "{name}"'
            )
        if named.failed:
            raise InvalidDataError(f"{value!r} refers to line {named.line}, which failed")
        primary, data = named.result
        if not path:
            return primary
        current = data
        for part in path.split("."):
            if isinstance(current, dict) and part in current:
                current = current[part]
            else:
                raise InvalidDataError(f"the result of line {named.line} has no {path!r}")
        return current


def _parse(text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDataError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise InvalidDataError("not valid JSON: nested too deeply") from None
    if not isinstance(record, dict):
        raise InvalidDataError('each line must be a JSON object like {"op": "transfer", …}')
    return record


def _operation(op: str | None) -> Operation:
    if op is None:
        raise InvalidDataError(f'each line needs an "op": one of {", ".join(OPERATIONS)}')
    operation = OPERATIONS.get(op)
    if operation is None:
        close = difflib.get_close_matches(op, OPERATIONS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(OPERATIONS)}"
        raise InvalidDataError(f"unknown op {op!r}: {hint}")
    return operation


def _check(op: str, key: str, spec: Field, value: Any) -> Any:
    if value is None and spec.nullable:
        return None
    if spec.kind == "text" and isinstance(value, str):
        return value
    if spec.kind == "count" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if spec.kind == "texts" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if spec.kind == "type" and isinstance(value, str):
        try:
            return LicenseType(value.strip().lower())
        except ValueError:
            pass
        choices = ", ".join(t.value for t in LicenseType)
        raise InvalidDataError(f"{op}: unknown license type {value!r}; use {choices}")
    wanted = {
        "text": "text",
        "count": "a whole number",
        "texts": "a list of text",
        "type": "text",
    }[spec.kind]
    raise InvalidDataError(f"{op}: {key} must be {wanted}, not {json.dumps(value)[:40]}")
