"""`db check`: is the store sound, file and rows alike?

The database's own checks first (on SQLite: `PRAGMA integrity_check` and
`foreign_key_check`; a PostgreSQL server enforces its foreign keys itself), then the
invariants docs/domain.md puts on licenses, which no constraint expresses: lineage, transfer
quantities, active copies and status. Licenses are read in one streaming query, so the
check runs in constant memory on any size of store.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Table, func, select
from sqlmodel import Session

from licensectl import domain
from licensectl.contract.models import CheckResult, StoreCheckReport
from licensectl.domain import LicenseStatus
from licensectl.models import Activation, Customer, License, SmartServer
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
    checks: list[_Check] = []
    if store.is_sqlite:
        checks += [_sqlite_integrity(s), _sqlite_foreign_keys(s)]
    checks.append(_schema(state))
    checks += [_lineage(s), _ownership(s), *_licenses(s), _install_codes(s)]
    results = [c.result() for c in checks]
    return StoreCheckReport(
        store=redact_url(store.url),
        ok=all(r.ok for r in results),
        checks=results,
        revision=state.revision,
        latest_revision=state.latest,
        pending=state.pending,
    )


def _schema(state: SchemaState) -> _Check:
    check = _Check(f"schema: revision {state.revision or 'none'}, latest {state.latest}")
    if not state.known:
        check.fail(f"revision {state.revision} is newer than this licensectl: upgrade licensectl")
    elif not state.is_licensectl:
        check.fail("the database has tables but no licensectl schema")
    elif state.pending:
        check.fail(
            f"{len(state.pending)} revisions pending ({', '.join(state.pending)}): "
            "run 'licensectl db upgrade'"
        )
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
        expected = domain.license_status(transferred=bool(children), active_copies=active)
        if current is not expected:
            status.fail(f"license {lid} is {current.value}; it should be {expected.value}")
    return [transfers, activations, status]
