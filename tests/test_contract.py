"""The contract between faces: database-free, complete, and one definition per field."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import BaseModel, ValidationError

from licensectl.contract import fields
from licensectl.contract.requests import (
    BATCH_OPS,
    LicenseAdd,
    Page,
    Transfer,
    describe_invalid,
)


def test_the_contract_imports_no_database_code() -> None:
    """A remote client imports the contract and the protocol, and must not pay for the
    database stack (about half a second) nor depend on it."""
    code = (
        "import sys\n"
        "import licensectl.contract.models, licensectl.contract.requests\n"
        "import licensectl.contract.protocol, licensectl.contract.fields\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'psycopg'))\n"
        "heavy += sorted(m for m in sys.modules if m.startswith(('licensectl.service', "
        "'licensectl.store', 'licensectl.models')))\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_fields_module_imports_nothing() -> None:
    """The CLI reads help texts from it at start-up: it must stay free of pydantic."""
    code = "import sys, licensectl.contract.fields\nprint('pydantic' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_defaults_come_from_one_place() -> None:
    assert LicenseAdd.model_fields["po_line"].default == fields.default("po_line")
    assert LicenseAdd.model_fields["quantity"].default == fields.default("quantity")
    assert Page().limit == fields.DEFAULT_LIMIT
    assert "(default: 1)" in fields.doc("po_line")


def test_every_batch_op_is_its_request_model_plus_op() -> None:
    for op, (model, primary) in BATCH_OPS.items():
        assert model.model_fields["op"].is_required(), op
        # A partner's identifier is its name (partner.rename).
        assert primary.split(".")[-1] in ("customer_id", "license_id", "name"), op
        base = model.__mro__[1]
        assert issubclass(base, BaseModel), op
        assert set(model.model_fields) - set(base.model_fields) == {"op", "as_"}, op


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"license_id": "x"}, "needs the field 'to'"),
        ({"license_id": "x", "to": "y", "quantiy": 1}, "did you mean 'quantity'?"),
        ({"license_id": "x", "to": "y", "quantity": "2"}, "quantity must be a whole number"),
        ({"license_id": 5, "to": "y"}, "license_id must be text, not 5"),
    ],
)
def test_malformed_requests_read_the_same_everywhere(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Transfer.model_validate(data)
    assert message in describe_invalid(raised.value, Transfer)


def test_results_are_plain_json() -> None:
    from licensectl.contract.models import BatchError, BatchResult, ImportSummary, RowError

    summary = ImportSummary(errors=[RowError(2, "devices", "devices is required")])
    assert json.loads(summary.model_dump_json())["errors"] == [
        {"row": 2, "field": "devices", "message": "devices is required"}
    ]
    failed = BatchResult(
        line=3, op="transfer", ok=False, error=BatchError(message="m", exit_code=4, kind="k")
    )
    assert failed.wire() == {
        "line": 3,
        "op": "transfer",
        "ok": False,
        "error": {"message": "m", "exit_code": 4, "kind": "k"},
    }
