"""The request fields' descriptions and defaults, declared once.

The request models (`requests.py`, pydantic) and the CLI's options both read these, so a
field means and defaults to the same thing on every face. This module imports nothing, so
the CLI can build its help from it without paying for pydantic at start-up.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Doc(NamedTuple):
    help: str
    #: The default when the field is left out (None: no default, or "none").
    default: int | str | None = None


#: Rows a list returns unless told otherwise.
DEFAULT_LIMIT: Final = 100
#: Candidates a completion offers at most (a shell shows no more than a screenful).
COMPLETE_LIMIT: Final = 50

FIELDS: Final[dict[str, Doc]] = {
    # accounts
    "partner_name": Doc("Partner name (unique, any case)."),
    "email": Doc("Contact email."),
    "customer_name": Doc("Account name, e.g. P2022-0208 (unique within its partner)."),
    "partner": Doc("Partner name (optional when the store has one partner)."),
    "emails": Doc("Contact email, usable as a customer login (repeatable)."),
    "customer": Doc("Customer ID (or a unique prefix of 8+ hex digits) or name."),
    "contact": Doc("Email address."),
    "partner_current": Doc("The partner's current name."),
    "new_partner_name": Doc("The partner's new name (unique, any case)."),
    "new_customer_name": Doc("The account's new name (unique within its partner)."),
    "set_note": Doc("The new note; empty clears it."),
    "void_reason": Doc("Why the license is void, e.g. 'wrong PO line' (kept in its history)."),
    # licenses
    "purchase_order": Doc("Purchase order number."),
    "type": Doc("License type: capacity, maintenance or core."),
    "devices": Doc("Device count of one copy, e.g. 200."),
    "po_line": Doc("Line within the purchase order.", 1),
    "quantity": Doc("Copies; each can be activated on one SmartServer.", 1),
    "term_months": Doc("Maintenance term in months: 12 or 36 (maintenance only)."),
    "note": Doc("Free-text note."),
    # transfer
    "license_id": Doc("License ID, or a unique prefix of it (8+ hex digits)."),
    "to": Doc(
        "Receiving customer: Customer ID (or a unique prefix), or a name among the license's "
        "partner's."
    ),
    "transfer_quantity": Doc("Copies to move (default all); the rest stay with the sender."),
    "dry_run": Doc("Show the result; change nothing."),
    # activation
    "install_code": Doc("The SmartServer's install code (its identity)."),
    "copies": Doc("Copies the SmartServer should hold afterwards (0 returns them all).", 1),
    "smartserver_name": Doc("SmartServer name, shown in the portal."),
    # filters and paging
    "filter_partner": Doc("Only this partner's."),
    "filter_customer": Doc("Only this customer's (ID or name)."),
    "inventory": Doc("mine = the partner's own inventory; customer = customers'."),
    "status": Doc("Only this status."),
    "filter_type": Doc("Only this type."),
    "expiring_within": Doc("Maintenance expiring within this many days."),
    "limit": Doc("At most this many rows.", DEFAULT_LIMIT),
    "after": Doc("Only rows after this ID: the next page."),
    # reports
    "within_days": Doc("Maintenance expiring within this many days.", 90),
    "report_partner": Doc("Only this partner's."),
    "inventory_by": Doc("Group by customer, po or type.", "type"),
    "since": Doc("Events from this day on (YYYY-MM-DD; default: 30 days ago)."),
    "groups_limit": Doc(
        "At most this many groups (the total still counts every license).", DEFAULT_LIMIT
    ),
    "all_groups": Doc("Every group, no limit."),
    # completion
    "complete_kind": Doc(
        "What to complete: license (available first), license_in_force, customer or partner."
    ),
    "complete_prefix": Doc("What was typed so far.", ""),
    # tokens
    "token_role": Doc("What the token may do: admin, partner or customer."),
    "token_partner": Doc("The partner a partner or customer token is scoped to."),
    "token_customer": Doc("The customer (ID or name) a customer token is scoped to."),
    "token_name": Doc("A name for the token, shown in lists and recorded on events."),
    "expires_in_days": Doc("Days until the token expires (default: never)."),
    "eid": Doc("A License ID of the customer's account (the EID)."),
    # bulk
    "format": Doc("csv or jsonl.", "csv"),
    "import_dry_run": Doc("Check everything and report; write nothing."),
}


def doc(name: str) -> str:
    """The help text of a field, with its default where it has one."""
    entry = FIELDS[name]
    return entry.help if entry.default is None else f"{entry.help} (default: {entry.default})"


def default(name: str) -> int | str:
    value = FIELDS[name].default
    assert value is not None, f"{name} has no default"
    return value
