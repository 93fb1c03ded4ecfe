"""What every backend takes: one request model per write, the filters, and paging.

Each operation's fields, defaults and descriptions are declared once, here. The Typer
commands build these models, batch lines parse into them (a discriminated union on
`op`), and the server takes them as request bodies; so defaults and the messages for a
malformed request are the same everywhere. The domain rules (ranges, terms, names) are
the service's, and apply to every face alike.

Imports pydantic, the standard library and `licensectl.domain` only.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from licensectl.contract.base import Page as Page
from licensectl.contract.base import Request, _field
from licensectl.contract.fields import DEFAULT_LIMIT as DEFAULT_LIMIT
from licensectl.contract.fields import FIELDS
from licensectl.domain import Inventory, LicenseStatus, LicenseType, Role


def _lower(value: Any) -> Any:
    """Enum values any case, with stray spaces: `Capacity` is `capacity`."""
    return value.strip().lower() if isinstance(value, str) else value


Type = Annotated[LicenseType, BeforeValidator(_lower)]


# --- accounts ---------------------------------------------------------------------


class PartnerAdd(Request):
    name: StrictStr = _field("partner_name", required=True)
    email: StrictStr | None = _field("email")


class CustomerAdd(Request):
    name: StrictStr = _field("customer_name", required=True)
    partner: StrictStr | None = _field("partner")
    emails: list[StrictStr] = Field([], description=FIELDS["emails"].help)


class CustomerEmail(Request):
    """Add or remove one email contact of a customer."""

    customer: StrictStr = _field("customer", required=True)
    email: StrictStr = _field("contact", required=True)
    partner: StrictStr | None = _field("partner")


class PartnerRename(Request):
    partner: StrictStr = _field("partner_current", required=True)
    name: StrictStr = _field("new_partner_name", required=True)


class CustomerRename(Request):
    customer: StrictStr = _field("customer", required=True)
    name: StrictStr = _field("new_customer_name", required=True)
    partner: StrictStr | None = _field("partner")


class CustomerNote(Request):
    customer: StrictStr = _field("customer", required=True)
    note: StrictStr | None = _field("set_note")
    partner: StrictStr | None = _field("partner")


class CustomerRemove(Request):
    """Remove an account that never held a license (a mistake); refused otherwise."""

    customer: StrictStr = _field("customer", required=True)
    partner: StrictStr | None = _field("partner")


# --- licenses ---------------------------------------------------------------------


class LicenseNote(Request):
    license_id: StrictStr = _field("license_id", required=True)
    note: StrictStr | None = _field("set_note")


class LicenseVoid(Request):
    """Withdraw a license added by mistake, never transferred or activated."""

    license_id: StrictStr = _field("license_id", required=True)
    reason: StrictStr = _field("void_reason", required=True)


class LicenseAdd(Request):
    purchase_order: StrictStr = _field("purchase_order", required=True)
    type: Type = _field("type", required=True)
    devices: StrictInt = _field("devices", required=True)
    partner: StrictStr | None = _field("partner")
    po_line: StrictInt = _field("po_line")
    quantity: StrictInt = _field("quantity")
    term_months: StrictInt | None = _field("term_months")
    note: StrictStr | None = _field("note")


class Transfer(Request):
    license_id: StrictStr = _field("license_id", required=True)
    to: StrictStr = _field("to", required=True)
    quantity: StrictInt | None = _field("transfer_quantity")
    dry_run: bool = Field(False, description=FIELDS["dry_run"].help)


class Activate(Request):
    """Online activation: the SmartServer holds `copies` afterwards (0 returns them)."""

    license_id: StrictStr = _field("license_id", required=True)
    install_code: StrictStr = _field("install_code", required=True)
    copies: StrictInt = _field("copies")
    name: StrictStr | None = _field("smartserver_name")


class Return(Request):
    license_id: StrictStr = _field("license_id", required=True)
    install_code: StrictStr = _field("install_code", required=True)


# --- queries ----------------------------------------------------------------------


class LicenseFilter(Request):
    """Which licenses `license list` and `export` select."""

    partner: StrictStr | None = _field("filter_partner")
    customer: StrictStr | None = _field("filter_customer")
    inventory: Inventory | None = _field("inventory")
    status: LicenseStatus | None = _field("status")
    type: Type | None = _field("filter_type")
    expiring_within: StrictInt | None = _field("expiring_within")


ImportFormat = Literal["csv", "jsonl"]


class ImportOptions(Request):
    format: ImportFormat = _field("format")
    dry_run: bool = Field(False, description=FIELDS["import_dry_run"].help)


# --- reports ----------------------------------------------------------------------


class RenewalsQuery(Request):
    within_days: StrictInt = _field("within_days")
    partner: StrictStr | None = _field("report_partner")


class CoverageQuery(Request):
    partner: StrictStr | None = _field("report_partner")


InventoryBy = Literal["customer", "po", "type"]


class InventoryQuery(Request):
    partner: StrictStr | None = _field("report_partner")
    by: InventoryBy = _field("inventory_by")
    limit: StrictInt = _field("groups_limit")
    all: bool = Field(False, description=FIELDS["all_groups"].help)


class ActivityQuery(Request):
    since: date | None = _field("since")


# --- completion -------------------------------------------------------------------

CompleteKind = Literal["license", "license_in_force", "customer", "partner"]


class CompleteQuery(Request):
    kind: CompleteKind = _field("complete_kind", required=True)
    prefix: StrictStr = _field("complete_prefix")


# --- tokens -----------------------------------------------------------------------


class TokenCreate(Request):
    role: Role = _field("token_role", required=True)
    partner: StrictStr | None = _field("token_partner")
    customer: StrictStr | None = _field("token_customer")
    name: StrictStr | None = _field("token_name")
    expires_in_days: StrictInt | None = _field("expires_in_days")


class EidLogin(Request):
    license_id: StrictStr = _field("eid", required=True)


# --- batch ------------------------------------------------------------------------


class _Op(Request):
    """A batch line: an operation's request plus `op` and an optional `as` name."""

    as_: StrictStr | None = Field(None, alias="as")


class CustomerAddOp(CustomerAdd, _Op):
    op: Literal["customer.add"]


class CustomerEmailAddOp(CustomerEmail, _Op):
    op: Literal["customer.email.add"]


class CustomerEmailRemoveOp(CustomerEmail, _Op):
    op: Literal["customer.email.remove"]


class PartnerRenameOp(PartnerRename, _Op):
    op: Literal["partner.rename"]


class CustomerRenameOp(CustomerRename, _Op):
    op: Literal["customer.rename"]


class CustomerNoteOp(CustomerNote, _Op):
    op: Literal["customer.note"]


class CustomerRemoveOp(CustomerRemove, _Op):
    op: Literal["customer.remove"]


class LicenseNoteOp(LicenseNote, _Op):
    op: Literal["license.note"]


class LicenseVoidOp(LicenseVoid, _Op):
    op: Literal["license.void"]


class LicenseAddOp(LicenseAdd, _Op):
    op: Literal["license.add"]


class TransferOp(Transfer, _Op):
    op: Literal["transfer"]


class ActivateOp(Activate, _Op):
    op: Literal["activate"]


class ReturnOp(Return, _Op):
    op: Literal["return"]


BatchOp = Annotated[
    CustomerAddOp
    | CustomerEmailAddOp
    | CustomerEmailRemoveOp
    | PartnerRenameOp
    | CustomerRenameOp
    | CustomerNoteOp
    | CustomerRemoveOp
    | LicenseNoteOp
    | LicenseVoidOp
    | LicenseAddOp
    | TransferOp
    | ActivateOp
    | ReturnOp,
    Field(discriminator="op"),
]

#: op name → (request model, the result field a `$NAME` reference stands for).
BATCH_OPS: dict[str, tuple[type[_Op], str]] = {
    "customer.add": (CustomerAddOp, "customer_id"),
    "customer.email.add": (CustomerEmailAddOp, "customer_id"),
    "customer.email.remove": (CustomerEmailRemoveOp, "customer_id"),
    "partner.rename": (PartnerRenameOp, "name"),
    "customer.rename": (CustomerRenameOp, "customer_id"),
    "customer.note": (CustomerNoteOp, "customer_id"),
    "customer.remove": (CustomerRemoveOp, "customer_id"),
    "license.note": (LicenseNoteOp, "license_id"),
    "license.void": (LicenseVoidOp, "license_id"),
    "license.add": (LicenseAddOp, "license_id"),
    "transfer": (TransferOp, "transferred.license_id"),
    "activate": (ActivateOp, "license_id"),
    "return": (ReturnOp, "license_id"),
}


# --- messages for malformed requests ------------------------------------------------

_KINDS: dict[str, str] = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
}


def describe_invalid(exc: ValidationError, model: type[BaseModel]) -> str:
    """One sentence for the first thing wrong with a request, naming its field.

    Used wherever a request arrives as data (a batch line, an API body), so the same
    mistake reads the same everywhere.
    """
    return describe_error(exc.errors(include_url=False)[0], model)


def describe_error(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """`describe_invalid` for one error as pydantic lists them (the server gets them so
    from FastAPI, with the `loc` of the body's own fields)."""
    names = (
        [f.alias or name for name, f in model.model_fields.items() if name != "op"]
        if model is not None
        else []
    )
    fields = [n for n in names if n != "as"] + [n for n in names if n == "as"]
    loc = ".".join(str(part) for part in error["loc"]) or "body"
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return f"needs the field {loc!r}"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(loc, fields, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = f" (its fields: {', '.join(fields)})" if fields else ""
        return f"has no field {loc!r}{hint}{listed}"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{loc}: unknown value {_show(value)}; use {expected.replace(chr(39), '')}"
    if kind == "literal_error":
        return f"{loc}: unknown value {_show(value)}"
    if kind in _KINDS:
        return f"{loc} must be {_KINDS[kind]}, not {_show(value)}"
    return f"{loc}: {error['msg']}"


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
