"""`batch`: many operations from JSON lines, run inside the backend.

Each line of a batch file is one operation, such as
``{"op": "transfer", "license_id": "…", "to": "P-Building 1", "quantity": 2}``: a request
model of `licensectl.contract.requests` with its `op`. An operation may be named with
``"as": "NAME"`` so that later lines can use what it made: ``"$NAME"`` is its main
identifier (the Customer ID of `customer.add`, the License ID of `license.add`, the moved
part's License ID of `transfer`), and ``"$NAME.a.b"`` any field of its result. A string
that should start with ``$`` is written ``$$``.

Each operation is its own transaction, or, with ``atomic=True``, all of them are one. The
rules are the backend's own operations'; a line runs exactly as the matching command.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from licensectl.contract.models import BatchError, BatchResult
from licensectl.contract.requests import BATCH_OPS, describe_invalid
from licensectl.errors import InvalidDataError, LicensectlError
from licensectl.service.base import BaseBackend

_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


class _Abort(Exception):
    def __init__(self, result: BatchResult) -> None:
        super().__init__("batch aborted")
        self.result = result


class BatchOps(BaseBackend):
    """`run_batch`; the operations themselves come from the other groups."""

    def _dispatch(self) -> dict[str, Callable[[Any], BaseModel]]:
        ops: Any = self  # the LocalBackend this mixin is part of
        handlers: dict[str, Callable[[Any], BaseModel]] = {
            "customer.add": ops.customer_add,
            "customer.email.add": ops.customer_email_add,
            "customer.email.remove": ops.customer_email_remove,
            "partner.rename": ops.partner_rename,
            "customer.rename": ops.customer_rename,
            "customer.note": ops.customer_note,
            "customer.remove": ops.customer_remove,
            "license.note": ops.license_note,
            "license.void": ops.license_void,
            "license.add": ops.license_add,
            "transfer": ops.transfer,
            "activate": ops.activate,
            "return": ops.return_license,
        }
        assert handlers.keys() == BATCH_OPS.keys()
        return handlers

    def run_batch(self, lines: Iterable[str], *, atomic: bool = False) -> Iterator[BatchResult]:
        """Run each operation line in order, yielding one result per operation.

        Without `atomic`, each operation commits on its own and the batch goes on after a
        failure. With it, all run in one transaction that stops at the first failure and
        rolls everything back; results come once the batch has committed, or, when it
        failed, only the failing line's (nothing else happened).
        """
        runner = _Runner(self._dispatch())
        if not atomic:
            for number, text in _operation_lines(lines):
                yield runner.run(number, text)
            return
        done: list[BatchResult] = []
        try:
            with self._atomic():
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
    primary: Any = None
    result: Any = None
    failed: bool = False


@dataclass
class _Runner:
    handlers: dict[str, Callable[[Any], BaseModel]]
    names: dict[str, _Named] = field(default_factory=dict)

    def run(self, number: int, text: str) -> BatchResult:
        op: str | None = None
        name: str | None = None
        try:
            record = _parse(text)
            op = record.get("op") if isinstance(record.get("op"), str) else None
            model, primary = _operation(op)
            name = self._name(record)
            resolved = {k: self._resolve(v) for k, v in record.items() if k != "as"}
            try:
                request = model.model_validate(resolved)
            except ValidationError as exc:
                raise InvalidDataError(f"{op}: {describe_invalid(exc, model)}") from None
            assert op is not None
            data = self.handlers[op](request).model_dump(mode="json")
        except LicensectlError as exc:
            if name is not None:
                self.names[name] = _Named(number, failed=True)
            return BatchResult(
                line=number,
                op=op,
                ok=False,
                error=BatchError(message=exc.message, exit_code=exc.exit_code, kind=exc.kind),
            )
        if name is not None:
            self.names[name] = _Named(number, primary=_dig(data, primary), result=data)
        return BatchResult(line=number, op=op, ok=True, result=data)

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

    def _resolve(self, value: Any) -> Any:
        """`$NAME` and `$NAME.path` → what the named line made; `$$…` → `$…`."""
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if not isinstance(value, str) or not value.startswith("$"):
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
        if not path:
            return named.primary
        found = _dig(named.result, path)
        if found is _MISSING:
            raise InvalidDataError(f"the result of line {named.line} has no {path!r}")
        return found


_MISSING: Final = object()


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


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


def _operation(op: str | None) -> tuple[type[BaseModel], str]:
    if op is None:
        raise InvalidDataError(f'each line needs an "op": one of {", ".join(BATCH_OPS)}')
    found = BATCH_OPS.get(op)
    if found is None:
        close = difflib.get_close_matches(op, BATCH_OPS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(BATCH_OPS)}"
        raise InvalidDataError(f"unknown op {op!r}: {hint}")
    return found
