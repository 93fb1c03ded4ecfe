"""`db check`: is the store sound, file and rows alike?

The database's own checks first (on SQLite: `PRAGMA integrity_check` and
`foreign_key_check`; a PostgreSQL server enforces its foreign keys itself), then the audit
log (its guards are in place, its hash chain unbroken: store/audit.py), the stored values no
constraint guards (enum values, UUIDs, name and PO keys, times), then the invariants
docs/domain.md puts on licenses, which no constraint expresses: lineage, transfer
quantities, active copies and status. Each check runs on its own: one that cannot read a
damaged part of the store fails with the database's error, and the others still run.
Licenses are read in one streaming query, so the check runs in constant memory on any
size of store.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Final

from sqlalchemy import Table, func, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from licensectl import domain
from licensectl.contract.models import CheckResult, StoreCheckReport
from licensectl.domain import ActivationMode, LicenseStatus, LicenseType, Role
from licensectl.errors import LicensectlError
from licensectl.models import Activation, Customer, License, SmartServer
from licensectl.store import audit
from licensectl.store.engine import Store
from licensectl.store.schema import SchemaState
from licensectl.store.url import redact_url

#: Problems listed per check; the count covers them all.
SHOWN: Final = 20

LICENSES: Final[Table] = License.__table__  # type: ignore[attr-defined]
CUSTOMERS: Final[Table] = Customer.__table__  # type: ignore[attr-defined]
ACTIVATIONS: Final[Table] = Activation.__table__  # type: ignore[attr-defined]
SMARTSERVERS: Final[Table] = SmartServer.__table__  # type: ignore[attr-defined]


class _Check:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems = 0
        self.details: list[str] = []

    def fail(self, message: str) -> None:
        self.problems += 1
        if len(self.details) < SHOWN:
            self.details.append(message)

    def result(self) -> CheckResult:
        return CheckResult(
            name=self.name, ok=self.problems == 0, problems=self.problems, details=self.details
        )


def check_store(s: Session, store: Store, state: SchemaState) -> StoreCheckReport:
    """Every check, each on its own: a damaged file fails the checks it breaks (naming
    the database's error) and the others still run."""
    checks: list[_Check] = []
    if store.is_sqlite:
        checks += _guarded(s, "sqlite integrity_check", _sqlite_integrity)
        checks += _guarded(s, "sqlite foreign_key_check", _sqlite_foreign_keys)
    checks.append(_revision(state))
    checks += _guarded(s, "audit log: append-only guards present", _audit_guards)
    checks += _guarded(s, "audit log: hash chain unbroken", _audit_chain)
    if store.is_sqlite:
        checks += _guarded(s, "schema: tables and columns as licensectl made them", _sqlite_schema)
    checks += _guarded(s, "values: every stored value is one licensectl writes", _values)
    checks += _guarded(s, "lineage: every parent_id names a license", _lineage)
    checks += _guarded(
        s, "ownership: customers' licenses belong to the customer's partner", _ownership
    )
    checks += _guarded(s, "licenses: transfers, active copies, status", _licenses)
    checks += _guarded(s, "smartservers: one per install code, in any case", _install_codes)
    results = [c.result() for c in checks]
    return StoreCheckReport(
        store=redact_url(store.url),
        ok=all(r.ok for r in results),
        checks=results,
        revision=state.revision,
        latest_revision=state.latest,
        pending=state.pending,
    )


def _revision(state: SchemaState) -> _Check:
    """The store's Alembic revision: pending revisions fail (run `db upgrade`)."""
    check = _Check(f"schema revision: {state.revision or 'none'}, latest {state.latest}")
    if not state.known:
        check.fail(f"{state.revision} is newer than this licensectl: upgrade licensectl")
    elif not state.is_licensectl:
        check.fail("the database has tables but no licensectl schema")
    elif state.pending:
        check.fail(
            f"{len(state.pending)} revisions pending ({', '.join(state.pending)}): "
            "run 'licensectl db upgrade'"
        )
    return check


def _guarded(
    s: Session, name: str, run: Callable[[Session], _Check | list[_Check]]
) -> list[_Check]:
    """Run one check; an error reading the store (a damaged file, a value that does not
    load) fails it with that error instead of ending the whole report."""
    try:
        with s.begin_nested():
            done = run(s)
    except LicensectlError:
        raise
    except (DBAPIError, LookupError, ValueError, TypeError, UnicodeError) as exc:
        check = _Check(name)
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        check.fail(f"the store could not be read: {text[0] if text else type(exc).__name__}")
        return [check]
    return done if isinstance(done, list) else [done]


def _audit_guards(s: Session) -> _Check:
    check = _Check("audit log: append-only guards present")
    for problem in audit.missing_guards(s.connection()):
        check.fail(f"{problem}: the audit log can be rewritten; 'licensectl db upgrade' "
                   "does not restore it, restore a backup or report it")  # fmt: skip
    return check


def _audit_chain(s: Session) -> _Check:
    """Every event's hash, recomputed from its content and the previous event's hash."""
    check = _Check("audit log: hash chain unbroken")
    first = True
    for broken in audit.verify_chain(s.connection()):
        where = " (the first broken link)" if first else ""
        check.fail(f"event {broken.event_id} {broken.why}{where}")
        first = False
    return check


#: Columns holding enum values, and the values licensectl writes.
_ENUMS: Final = (
    ("license", "type", LicenseType),
    ("license", "status", LicenseStatus),
    ("activation", "mode", ActivationMode),
    ("api_token", "role", Role),
)
_UUIDS: Final = (("license", "license_id"), ("license", "parent_id"), ("customer", "customer_id"))
_KEYS: Final = (
    ("partner", "name", "name_key", domain.name_key),
    ("customer", "name", "name_key", domain.name_key),
    ("license", "purchase_order", "po_key", domain.po_key),
)
#: Counts a damaged byte may turn negative or huge: (table, column, least, may be NULL).
_COUNTS: Final = (
    ("license", "devices", 1, False),
    ("license", "quantity", 1, False),
    ("license", "po_line", 1, False),
    ("license", "active_copies", 0, False),
    ("activation", "copies", 0, False),
)
_TIMES: Final = (
    ("partner", "created_at"),
    ("customer", "created_at"),
    ("license", "created_at"),
    ("event", "at"),
)
_SQLITE_TIME: Final = re.compile(r"\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d(\.\d{6})?)?")


def _values(s: Session) -> _Check:
    """Values no constraint guards that a damaged byte may change: enum values, UUIDs,
    the name and PO keys (recomputed from the names), and on SQLite the times' text."""
    check = _Check("values: every stored value is one licensectl writes")
    conn = s.connection()
    for table, column, enum in _ENUMS:
        allowed = {member.value for member in enum}
        rows = conn.exec_driver_sql(f"SELECT DISTINCT {column} FROM {table}")
        for (value,) in rows:
            if value not in allowed:
                check.fail(f"{table}.{column} holds {value!r}, not one of {sorted(allowed)}")
    for table, column in _UUIDS:
        for (value,) in conn.exec_driver_sql(f"SELECT {column} FROM {table}"):
            if value is not None and not _is_uuid(value):
                check.fail(f"{table}.{column} holds {value!r}, not a UUID")
    for table, name, key_column, fold in _KEYS:
        for value, key in conn.exec_driver_sql(f"SELECT {name}, {key_column} FROM {table}"):
            if not isinstance(value, str):
                check.fail(f"{table}.{name} holds {value!r}, not text")
                continue
            expected = fold(value)
            if key != expected and not str(key).startswith(expected + " #"):
                check.fail(f"{table} {value!r} has the key {key!r}; it should be {expected!r}")
    for table, column, low, nullable in _COUNTS:
        bad = conn.exec_driver_sql(
            f"SELECT {column} FROM {table} WHERE "
            + ("" if nullable else f"{column} IS NULL OR ")
            + f"{column} < {low} OR {column} > {domain.COUNT_MAX}"
        )
        for (value,) in bad:
            check.fail(f"{table}.{column} holds {value!r}, not a count licensectl writes")
    terms = conn.exec_driver_sql(
        "SELECT term_months FROM license WHERE term_months IS NOT NULL AND term_months NOT IN "
        f"({', '.join(str(t) for t in domain.MAINTENANCE_TERMS)})"
    )
    for (value,) in terms:
        check.fail(f"license.term_months holds {value!r}, not 12 or 36")
    from licensectl.store.schema import recorded_names

    known = recorded_names()
    for version, name in conn.exec_driver_sql("SELECT version, name FROM schema_migration"):
        if known.get(version) != name:
            check.fail(f"schema_migration {version!r} is named {name!r}, not a migration")
    if conn.dialect.name == "sqlite":
        for table, column in (*_TIMES, ("schema_migration", "applied_at")):
            for (value,) in conn.exec_driver_sql(f"SELECT {column} FROM {table}"):
                if not (isinstance(value, str) and _SQLITE_TIME.fullmatch(value)):
                    check.fail(f"{table}.{column} holds {value!r}, not a time licensectl wrote")
    return check


def _is_uuid(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


def _sqlite_schema(s: Session) -> _Check:
    """Every table of the models, with their columns' names, declared types, NOT NULL and
    primary keys: the schema's text is bytes in the file like any row."""
    check = _Check("schema: tables and columns as licensectl made them")
    conn = s.connection()
    from licensectl.store.gate import schema_seal

    sealed = conn.exec_driver_sql("PRAGMA user_version").scalar()
    if sealed != schema_seal(conn):
        check.fail(
            "the schema (sqlite_master) differs from the one licensectl last wrote: "
            "a table, index or trigger was changed outside licensectl, or the file is damaged"
        )
    for table in SQLModel.metadata.sorted_tables:
        found = [
            (name, str(kind).upper(), bool(notnull), bool(pk))
            for _, name, kind, notnull, _, pk in conn.exec_driver_sql(
                f"PRAGMA table_info({table.name})"
            )
        ]
        expected = [
            (
                c.name,
                str(c.type.compile(dialect=conn.dialect)).upper(),
                not c.nullable and not c.primary_key,
                c.primary_key,
            )
            for c in table.columns
        ]
        if not found:
            check.fail(f"table {table.name} is missing")
            continue
        for want in expected:
            if want not in found and (want[0], want[1], True, want[3]) not in found:
                have = next((f for f in found if f[0] == want[0]), None)
                check.fail(f"table {table.name} column {want[0]}: {have or 'missing'}")
        for extra in {f[0] for f in found} - {c.name for c in table.columns}:
            check.fail(f"table {table.name} has a column {extra!r} licensectl does not know")
    return check


def _sqlite_integrity(s: Session) -> _Check:
    check = _Check("sqlite integrity_check")
    for (message,) in s.connection().exec_driver_sql("PRAGMA integrity_check"):
        if message != "ok":
            check.fail(str(message))
    return check


def _sqlite_foreign_keys(s: Session) -> _Check:
    check = _Check("sqlite foreign_key_check")
    for table, rowid, parent, _ in s.connection().exec_driver_sql("PRAGMA foreign_key_check"):
        check.fail(f"{table} row {rowid} refers to a missing {parent} row")
    return check


def _lineage(s: Session) -> _Check:
    """Every parent_id names a license that exists (no orphans)."""
    check = _Check("lineage: every parent_id names a license")
    child, parent = LICENSES.alias("child"), LICENSES.alias("parent")
    orphans = (
        select(child.c.license_id, child.c.parent_id)
        .outerjoin(parent, parent.c.license_id == child.c.parent_id)
        .where(child.c.parent_id.is_not(None), parent.c.seq.is_(None))
        .order_by(child.c.seq)
    )
    for license_id, parent_id in s.execute(orphans):
        check.fail(f"license {license_id} names parent {parent_id}, which does not exist")
    return check


def _ownership(s: Session) -> _Check:
    """A license in a customer's inventory belongs to a customer of its own partner."""
    check = _Check("ownership: customers' licenses belong to the customer's partner")
    lic, cust = LICENSES, CUSTOMERS
    stray = (
        select(lic.c.license_id, cust.c.customer_id)
        .join(cust, cust.c.id == lic.c.customer_pk)
        .where(cust.c.partner_id != lic.c.partner_id)
        .order_by(lic.c.seq)
    )
    for license_id, customer_id in s.execute(stray):
        check.fail(f"license {license_id} is held by {customer_id}, a customer of another partner")
    return check


def _install_codes(s: Session) -> _Check:
    """One device, one SmartServer: install codes compare case-insensitively.

    A store written before install codes were canonical may hold one device under two
    spellings (`5a7c-…` and `5A7C-…`). That is a problem once more than one of them holds
    copies, because the device then counts them twice; spellings that hold nothing are
    harmless history. Compared with the database's upper(), exact for ASCII codes.
    """
    check = _Check("smartservers: one per install code, in any case")
    server, act = SMARTSERVERS, ACTIVATIONS
    key = func.upper(server.c.install_code)
    twins = select(key).group_by(key).having(func.count() > 1)
    holders = (
        select(key.label("key"), server.c.install_code)
        .join(act, act.c.smartserver_id == server.c.id)
        .where(key.in_(twins), act.c.copies > 0)
        .group_by(key, server.c.id, server.c.install_code)
        .order_by(key, server.c.id)
    )
    groups: dict[str, list[str]] = {}
    for group, code in s.execute(holders):
        groups.setdefault(group, []).append(code)
    for codes in groups.values():
        if len(codes) > 1:
            spellings = ", ".join(repr(code) for code in codes)
            check.fail(
                f"install codes {spellings} are one SmartServer spelled in different case, and "
                "each holds copies: return the extra ones with 'licensectl return LICENSE_ID "
                "--install-code SPELLING'"
            )
    return check


def _licenses(s: Session) -> list[_Check]:
    """Transfers, active copies and status, in one streaming pass over every license."""
    transfers = _Check("transfers: successors' quantities add up to the original's")
    activations = _Check("activations: active_copies matches the active activations")
    status = _Check("status: consistent with successors and active copies")
    lic, act = LICENSES, ACTIVATIONS
    successors = (
        select(
            lic.c.parent_id,
            func.count().label("count"),
            func.sum(lic.c.quantity).label("copies"),
        )
        .where(lic.c.parent_id.is_not(None))
        .group_by(lic.c.parent_id)
        .subquery()
    )
    held = (
        select(act.c.license_seq, func.sum(act.c.copies).label("copies"))
        .where(act.c.copies > 0)
        .group_by(act.c.license_seq)
        .subquery()
    )
    stmt = (
        select(
            lic.c.license_id,
            lic.c.status,
            lic.c.quantity,
            lic.c.active_copies,
            successors.c["count"],
            successors.c.copies,
            held.c.copies,
        )
        .outerjoin(successors, successors.c.parent_id == lic.c.license_id)
        .outerjoin(held, held.c.license_seq == lic.c.seq)
        .order_by(lic.c.seq)
        .execution_options(yield_per=1000)
    )
    for lid, current, quantity, active, children, moved, bound in s.execute(stmt):
        if children and moved != quantity:
            transfers.fail(f"license {lid} has {quantity} copies; its successors hold {moved}")
        if current is LicenseStatus.TRANSFERRED and not children:
            transfers.fail(f"license {lid} is transferred but has no successors")
        if (bound or 0) != active:
            activations.fail(
                f"license {lid} counts {active} active copies; its activations hold {bound or 0}"
            )
        if not 0 <= active <= quantity:
            activations.fail(f"license {lid} counts {active} active copies of {quantity}")
        if current is LicenseStatus.VOID:
            # Void: withdrawn before it was ever transferred or activated.
            if children or active:
                status.fail(f"license {lid} is void but was transferred or holds copies")
            continue
        expected = domain.license_status(transferred=bool(children), active_copies=active)
        if current is not expected:
            status.fail(f"license {lid} is {current.value}; it should be {expected.value}")
    return [transfers, activations, status]
