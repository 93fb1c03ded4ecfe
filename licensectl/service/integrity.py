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

import bisect
import os
import re
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable
from enum import Enum
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    case,
    func,
    or_,
    select,
    true,
    type_coerce,
    union,
)
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


#: `progress(fraction)`: how much of the check is done, from 0 to 1.
Progress = Callable[[float], None]


def check_store(
    s: Session, store: Store, state: SchemaState, progress: Progress | None = None
) -> StoreCheckReport:
    """Every check, each on its own: a damaged file fails the checks it breaks (naming
    the database's error) and the others still run.

    On a SQLite file, `PRAGMA integrity_check` (the database's own code, a third of the
    time on a large store) runs on a connection of its own in a thread while the other
    checks run here: SQLite lets go of Python's lock while it works. `progress` hears how
    far the checks have come (in events and licenses read)."""
    meter = _Meter(s, progress, sqlite=store.is_sqlite)
    background = _start_integrity(s, store) if store.is_sqlite and store.sqlite_path else None
    # The value tests' reads, beside the hash chain (which holds this thread).
    scan = _ValueScan(store) if background is not None else None
    checks: list[_Check] = []
    try:
        if store.is_sqlite and background is None:
            checks += _guarded(s, "sqlite integrity_check", _sqlite_integrity)
        if store.is_sqlite:
            checks += _guarded(s, "sqlite foreign_key_check", _sqlite_foreign_keys)
        checks.append(_revision(state))
        checks += _guarded(s, "audit log: append-only guards present", _audit_guards)
        # The log counted by day, and its times tested, in the chain's pass (SQLite).
        days = audit.DayCounts(time_ok=_SQLITE_TIME.fullmatch)
        checks += _guarded(
            s, "audit log: hash chain unbroken", lambda s: _audit_chain(s, meter.events, days)
        )
        meter.done(meter.event_units + _finished(background, meter))
        if "0007" not in state.pending:  # the day counts came with revision 0007
            checks += _guarded(s, _DAY_COUNTS, lambda s: _day_counts(s, days))
        if store.is_sqlite:
            checks += _guarded(
                s, "schema: tables and columns as licensectl made them", _sqlite_schema
            )
        checks += _guarded(
            s,
            "values: every stored value is one licensectl writes",
            lambda s: _values(s, days, scan),
        )
        meter.done(meter.license_units + _finished(background, meter))
        checks += _guarded(s, "lineage: every parent_id names a license", _lineage)
        checks += _guarded(
            s, "ownership: customers' licenses belong to the customer's partner", _ownership
        )
        checks += _guarded(s, "licenses: transfers, active copies, status", _licenses)
        checks += _guarded(s, "smartservers: one per install code, in any case", _install_codes)
        meter.done(meter.license_units + _finished(background, meter))
        if background is not None:
            share = meter.integrity_units / background.weight
            checks[:0] = background.result(lambda weight: meter.done(weight * share))
        meter.done(meter.total)
    finally:
        if scan is not None:
            scan.stop()
        if background is not None:
            background.stop()
    results = [c.result() for c in checks]
    return StoreCheckReport(
        store=redact_url(store.url),
        ok=all(r.ok for r in results),
        checks=results,
        revision=state.revision,
        latest_revision=state.latest,
        pending=state.pending,
    )


class _Meter:
    """Progress in units of rows read: the events (the hash chain), the licenses twice
    (values, then the license rules), and on SQLite the integrity check as much again
    as all that (it reads every row and index entry)."""

    def __init__(self, s: Session, progress: Progress | None, *, sqlite: bool) -> None:
        self._progress = progress
        self._done = 0.0
        self.event_units = self.license_units = self.integrity_units = 0.0
        self.total = 1.0
        if progress is None:
            return
        try:
            with s.begin_nested():
                conn = s.connection()
                events = conn.exec_driver_sql("SELECT max(id) FROM event").scalar()
                licenses = conn.exec_driver_sql("SELECT max(seq) FROM license").scalar()
        except Exception:  # a damaged store: the checks say what is wrong
            events = licenses = 0
        self.event_units = float(events if isinstance(events, int) else 0)
        self.license_units = float(licenses if isinstance(licenses, int) else 0)
        work = self.event_units + 2 * self.license_units
        self.integrity_units = work if sqlite else 0.0
        self.total = max(1.0, work + self.integrity_units)
        progress(0.0)

    def events(self, count: int) -> None:
        if self._progress is not None:
            self._progress(min(self._done + count, self._done + self.event_units) / self.total)

    def done(self, units: float) -> None:
        """A part of `units` is finished."""
        if self._progress is not None:
            self._done = min(self._done + units, self.total)
            self._progress(self._done / self.total)


class _Integrity:
    """`PRAGMA integrity_check`, in parts that run side by side on connections of their
    own, in threads (SQLite lets go of Python's lock while it works), the largest first.

    The parts together check all that the whole pragma checks (`integrity_parts`):
    `PRAGMA quick_check` checks every b-tree, that each page of the file is used exactly
    once (or is free), the free list, NOT NULL and CHECK constraints; it leaves out only
    what `PRAGMA integrity_check(TABLE)` adds for one table: every row's record header and
    its entry in each of the table's indexes (present, unique where the index is, and no
    extra ones). So the quick check runs once, and the table check once per table of
    `sqlite_master`, whatever tables a later revision adds."""

    NAME: Final = "sqlite integrity_check"

    def __init__(self, store: Store, parts: list[tuple[str, float]]) -> None:
        self._store = store
        self._parts = parts
        self._results: list[list[str] | BaseException | None] = [None] * len(parts)
        self._finished: list[int] = []  # indexes of finished parts, in finishing order
        self._reported = 0
        self._lock = threading.Lock()
        self._next = 0
        self._raws: list[Any] = []
        self._stopping = False
        order = sorted(range(len(parts)), key=lambda i: -parts[i][1])
        self._order = order
        workers = max(1, min(len(parts), os.cpu_count() or 1))
        self._threads = [
            threading.Thread(target=self._work, name=f"db-check-integrity-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def weight(self) -> float:
        return sum(weight for _, weight in self._parts) or 1.0

    def _take(self) -> int | None:
        with self._lock:
            if self._stopping or self._next >= len(self._order):
                return None
            self._next += 1
            return self._order[self._next - 1]

    def _work(self) -> None:
        try:
            with self._store.engine.connect() as conn:
                raw: Any = conn.connection.driver_connection
                with self._lock:
                    self._raws.append(raw)
                (default,) = raw.execute("PRAGMA cache_size").fetchone()
                while (index := self._take()) is not None:
                    sql = self._parts[index][0]
                    cache = _PART_CACHES.get(sql)
                    try:
                        if cache is not None:
                            raw.execute(f"PRAGMA cache_size = {int(cache)}")
                        messages = [str(message) for (message,) in raw.execute(sql)
                                    if message != "ok"]  # fmt: skip
                        self._done(index, messages)
                    except BaseException as exc:  # handed to the main thread by result()
                        self._done(index, exc)
                    finally:
                        if cache is not None:  # the pages let go of for the next part
                            raw.execute(f"PRAGMA cache_size = {int(default)}")
        except BaseException as exc:  # no connection: every part not taken fails so
            while (index := self._take()) is not None:
                self._done(index, exc)

    def _done(self, index: int, result: list[str] | BaseException) -> None:
        with self._lock:
            self._results[index] = result
            self._finished.append(index)

    def finished_weight(self) -> float:
        """The weight of the parts finished since the last call (for the progress bar)."""
        with self._lock:
            fresh = self._finished[self._reported :]
            self._reported = len(self._finished)
        return sum(self._parts[i][1] for i in fresh)

    def result(self, progress: Callable[[float], None] | None = None) -> list[_Check]:
        """The one check of the parts together, waiting for them; `progress(weight)`
        hears of each part as it finishes."""
        for thread in self._threads:
            while thread.is_alive():
                thread.join(0.2)
                if progress is not None:
                    progress(self.finished_weight())
        if progress is not None:
            progress(self.finished_weight())
        check = _Check(self.NAME)
        seen: set[str] = set()
        for result in self._results:  # in the parts' order, whatever finished first
            if isinstance(result, BaseException):
                failed = _failure(self.NAME, result)
                if failed is None:
                    raise result
                messages = failed.details
            else:
                messages = result or []
            for message in messages:
                if message not in seen:  # a b-tree both parts walked: said once
                    seen.add(message)
                    check.fail(message)
        return [check]

    def stop(self) -> None:
        """Interrupt the parts still running (the other checks ended early: Ctrl-C)."""
        with self._lock:
            self._stopping = True
            raws = list(self._raws)
        if any(thread.is_alive() for thread in self._threads):
            for raw in raws:
                raw.interrupt()
        for thread in self._threads:
            thread.join()


#: A larger page cache (KiB, as `PRAGMA cache_size` takes a negative size) for the parts
#: where it saves CPU: `license`'s check looks each row up in its 8 indexes, 3 of them in
#: an order unrelated to the rows' (the license ids', the inventory's, the PO lines'),
#: so with the default 2 MiB each look-up reads its index page again from the file, by a
#: system call. 64 MiB took that part from 14.1-14.6 s of CPU to 12.7 s (1.2M licenses,
#: bench/README.md); 128 or 256 MiB saved no more. `event`'s check saved nothing (the
#: system time saved came back as user time), so the other parts keep the default.
_PART_CACHES: Final = {"PRAGMA integrity_check('license')": -64 * 1024}


def integrity_parts(conn: Connection) -> list[tuple[str, float]]:
    """The statements `_Integrity` runs, with a guess of each one's cost: the quick check,
    then `integrity_check(TABLE)` for `sqlite_master` and every table it lists (in the
    order it lists them). The cost of a table's check grows with its rows times its
    b-trees (the table and each index); its rows are counted (`count(*)` walks its
    smallest b-tree's pages, a fraction of a second for a million rows), not guessed from
    its largest rowid (an FTS5 table's rowids are not a count)."""
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    parts: list[tuple[str, float]] = [("PRAGMA quick_check", 6.0 * float(pages or 0))]
    indexes: dict[str, int] = {}
    tables: list[tuple[str, bool]] = [("sqlite_master", False)]
    for kind, name, table, sql in conn.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index')"
    ):
        if kind == "table":
            virtual = str(sql or "").upper().startswith("CREATE VIRTUAL")
            tables.append((str(name), virtual))
        else:
            indexes[str(table)] = indexes.get(str(table), 0) + 1
    for table, virtual in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        try:  # a virtual table has no b-tree of its own: its shadow tables are checked
            rows = 0 if virtual else conn.exec_driver_sql(f"SELECT count(*) FROM {quoted}").scalar()
        except DBAPIError:  # damaged: the check will tell
            rows = 0
        weight = float(rows if isinstance(rows, int) else 0) * (1 + indexes.get(table, 0))
        literal = "'" + table.replace("'", "''") + "'"
        parts.append((f"PRAGMA integrity_check({literal})", weight))
    return parts


def _finished(background: _Integrity | None, meter: _Meter) -> float:
    """The progress units of the integrity check's parts finished since last asked."""
    if background is None:
        return 0.0
    return background.finished_weight() * meter.integrity_units / background.weight


def _start_integrity(s: Session, store: Store) -> _Integrity | None:
    """The integrity check's parts, started; None when the schema cannot be read (the
    whole `PRAGMA integrity_check` then runs here and names the damage)."""
    try:
        with s.begin_nested():
            parts = integrity_parts(s.connection())
    except (DBAPIError, sqlite3.Error):
        return None
    return _Integrity(store, parts)


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
    except Exception as exc:
        check = _failure(name, exc)
        if check is None:
            raise
        return [check]
    return done if isinstance(done, list) else [done]


def _failure(name: str, exc: BaseException) -> _Check | None:
    """The check `name` failed by `exc` when it is an error reading the store (a
    SQLAlchemy or driver error, a value that does not load), else None."""
    if not isinstance(exc, (DBAPIError, *_driver_errors(), LookupError, ValueError, TypeError)):
        return None
    check = _Check(name)
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    check.fail(f"the store could not be read: {text[0] if text else type(exc).__name__}")
    return check


def _driver_errors() -> tuple[type[Exception], ...]:
    """The drivers' base errors, for checks that read through a driver's own cursor
    (psycopg's only once it is loaded: nothing else can raise them)."""
    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error, psycopg.Error) if psycopg is not None else (sqlite3.Error,)


def _audit_guards(s: Session) -> _Check:
    check = _Check("audit log: append-only guards present")
    for problem in audit.missing_guards(s.connection()):
        check.fail(f"{problem}: the audit log can be rewritten; 'licensectl db upgrade' "
                   "does not restore it, restore a backup or report it")  # fmt: skip
    return check


def _audit_chain(
    s: Session,
    progress: Callable[[int], None] | None = None,
    days: audit.DayCounts | None = None,
) -> _Check:
    """Every event's hash, recomputed from its content and the previous event's hash
    (and on SQLite the events counted by day into `days`, for `_day_counts`)."""
    check = _Check("audit log: hash chain unbroken")
    first = True
    for broken in audit.verify_chain(s.connection(), progress, days):
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


def _values(
    s: Session, logged: audit.DayCounts | None = None, scan: _ValueScan | None = None
) -> _Check:
    """Values no constraint guards that a damaged byte may change: enum values, UUIDs,
    the name and PO keys (recomputed from the names), counts and terms, the names of the
    migrations, and on SQLite the times' text.

    Each table is read once for all its tests (`_value_tests`): the database lists the
    rows for which some test in SQL is not true (a test every row licensectl writes
    passes in all but rare cases, such as a name outside ASCII), with which tests those
    were, and only those values are checked here, each by its rule in Python: a million
    licenses are checked in the database's time, and what is reported is decided by the
    Python rules alone. The findings are listed test by test, in the order of the tests.
    `logged`: the chain's pass over the log, which tested the events' times already
    (`DayCounts.odd_times`) when it read every event with the types licensectl writes.
    `scan`: the tests of every table but the log's, made already in a thread."""
    check = _Check("values: every stored value is one licensectl writes")
    conn = s.connection()
    tests = _value_tests(conn.dialect.name == "sqlite", logged)
    found = [_Findings(test) for test in tests]
    scanned = scan.result() if scan is not None else None
    tables: dict[str, list[int]] = {}
    for n, test in enumerate(tests):
        if scanned is not None and test.table != "event":
            found[n] = scanned[n]
        elif test.given is not None:
            for values in test.given:
                found[n].add(values)
        else:
            tables.setdefault(test.table, []).append(n)
    for table, indexes in tables.items():
        _scan_values(conn, table, [(tests[n], found[n]) for n in indexes])
    for findings in found:
        findings.report(check)
    return check


class _ValueScan:
    """`_values`' reads of every table but the log's (whose times the chain's pass may
    have tested), in a thread on a connection of its own, started with the check: SQLite
    lets go of Python's lock while it reads, so they run beside the hash chain instead of
    after it on the main thread, the longest of the check's threads."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._tests = _value_tests(store.is_sqlite, None)
        self._found = [_Findings(test) for test in self._tests]
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._raw: Any = None
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="db-check-values", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            with self._store.engine.connect() as conn:
                with self._lock:
                    if self._stopping:
                        return
                    self._raw = conn.connection.driver_connection
                tables: dict[str, list[int]] = {}
                for n, test in enumerate(self._tests):
                    if test.table != "event":
                        tables.setdefault(test.table, []).append(n)
                for table, indexes in tables.items():
                    _scan_values(conn, table, [(self._tests[n], self._found[n]) for n in indexes])
        except BaseException as exc:  # raised again by result(), in the values check
            self._error = exc

    def result(self) -> list[_Findings]:
        """The findings of each test of `_value_tests` (those of the log's: none yet),
        waiting for the reads; their error, if one failed."""
        while self._thread.is_alive():
            self._thread.join(0.2)
        if self._error is not None:
            raise self._error
        return self._found

    def stop(self) -> None:
        """Interrupt the reads if they still run (the other checks ended early: Ctrl-C)."""
        with self._lock:
            self._stopping = True
            raw = self._raw
        if raw is not None and self._thread.is_alive():
            raw.interrupt()
        self._thread.join()


class _ValueTest(NamedTuple):
    """One test of `_values`: the rows of `table` for which the SQL test `ok` is not true
    (false or NULL; `ok` None: every row) hand their `columns` to `problem`, the rule
    itself, which names what is wrong, if anything."""

    table: str
    columns: tuple[str, ...]
    ok: str | None
    problem: Callable[..., str | None]
    #: Each value named once (the enums), as a `SELECT DISTINCT` listed them.
    distinct: bool = False
    #: Named in the order of the values (and of the rows for equal values), as a scan of
    #: the column's index listed them (UUIDs, license status, event times); otherwise in
    #: the order the table is read (rowid), as the queries that scanned it did. (Two
    #: tests read an index in another order before: `license.type` and the quantity and
    #: active-copies counts, by the inventory index; those now list in rowid order.)
    ordered: bool = False
    #: The values, read already (the events' odd times, from the chain's pass).
    given: list[tuple[Any, ...]] | None = None


def _value_tests(sqlite: bool, logged: audit.DayCounts | None) -> list[_ValueTest]:
    """The tests of `_values`, in the order their findings are listed."""
    tests = [
        _ValueTest(
            table,
            (column,),
            _enum_ok(column, enum, sqlite),
            _enum_rule(table, column, enum),
            distinct=True,
            # As the index on the status listed them; the others in the order read.
            ordered=(table, column) == ("license", "status"),
        )
        for table, column, enum in _ENUMS
    ]
    tests += [
        _ValueTest(
            table, (column,), _uuid_ok(column, sqlite), _uuid_rule(table, column), ordered=True
        )
        for table, column in _UUIDS
    ]
    tests += [
        _ValueTest(table, (name, key), _key_ok(name, key, sqlite), _key_rule(table, name, fold))
        for table, name, key, fold in _KEYS
    ]
    for table, column, low, nullable in _COUNTS:
        ok = f"NOT ({column} < {low} OR {column} > {domain.COUNT_MAX})"
        ok = f"{column} IS NULL OR {ok}" if nullable else f"{column} IS NOT NULL AND {ok}"
        tests.append(_ValueTest(table, (column,), ok, _count_rule(table, column)))
    terms = ", ".join(str(t) for t in domain.MAINTENANCE_TERMS)
    tests.append(
        _ValueTest(
            "license",
            ("term_months",),
            f"term_months IS NULL OR term_months IN ({terms})",
            lambda value: f"license.term_months holds {value!r}, not 12 or 36",
        )
    )
    tests.append(_ValueTest("schema_migration", ("version", "name"), None, _migration_rule()))
    if sqlite:
        tested = logged if logged is not None and logged.complete and logged.time_ok else None
        for table, column in (*_TIMES, ("schema_migration", "applied_at")):
            given = None
            if tested is not None and (table, column) == ("event", "at"):
                given = [(value,) for value in tested.odd_times]
            tests.append(
                _ValueTest(
                    table,
                    (column,),
                    _sqlite_time_ok(column),
                    _time_rule(table, column),
                    ordered=(table, column) == ("event", "at"),
                    given=given,
                )
            )
    return tests


def _scan_values(conn: Connection, table: str, tests: list[tuple[_ValueTest, _Findings]]) -> None:
    """One read of `table` for all its `tests`: the rows for which some test in SQL is
    not true, and which tests those were (a CASE each: SQLite then stops at the first
    part of an AND or OR that decides it)."""
    columns: list[str] = []
    for test, _ in tests:
        columns += [c for c in test.columns if c not in columns]
    flags = [f"CASE WHEN {test.ok} THEN 1 ELSE 0 END" if test.ok is not None else "0"
             for test, _ in tests]  # fmt: skip
    sql = f"SELECT {', '.join(columns + flags)} FROM {table}"
    if all(test.ok is not None for test, _ in tests):
        yes, no = ("1", "0") if conn.dialect.name == "sqlite" else ("TRUE", "FALSE")
        every = " AND ".join(f"({test.ok})" for test, _ in tests)
        sql += f" WHERE CASE WHEN {every} THEN {no} ELSE {yes} END"
    at = [tuple(columns.index(c) for c in test.columns) for test, _ in tests]
    width = len(columns)
    for row in conn.exec_driver_sql(sql):
        for n, (_, findings) in enumerate(tests):
            if row[width + n] != 1:
                findings.add(tuple(row[i] for i in at[n]))


class _Findings:
    """What one test of `_values` found: the problems counted, the first `SHOWN` kept."""

    def __init__(self, test: _ValueTest) -> None:
        self._test = test
        self._count = 0
        self._kept: list[tuple[Any, int, str]] = []
        self._seen: set[Any] = set()

    def add(self, values: tuple[Any, ...]) -> None:
        """A row the SQL test did not pass: the rule decides."""
        key = _sql_order(values[0])
        if self._test.distinct:
            if key in self._seen:
                return
            self._seen.add(key)
        message = self._test.problem(*values)
        if message is None:
            return
        self._count += 1
        if self._test.ordered:
            bisect.insort(self._kept, (key, self._count, message))
            del self._kept[SHOWN:]
        elif len(self._kept) < SHOWN:
            self._kept.append((None, self._count, message))

    def report(self, check: _Check) -> None:
        for _, _, message in self._kept:
            check.fail(message)
        check.problems += self._count - len(self._kept)


def _sql_order(value: object) -> tuple[int, Any]:
    """A value's place in SQLite's order of values (NULL, numbers, text by its UTF-8
    bytes, blobs): the order of an index on a column."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value.encode("utf-8", "surrogatepass"))
    return (3, bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else repr(value))


def _enum_ok(column: str, enum: type[Enum], sqlite: bool) -> str:
    values = ", ".join("'" + str(member.value).replace("'", "''") + "'" for member in enum)
    return (f"typeof({column}) = 'text' AND " if sqlite else "") + f"{column} IN ({values})"


def _enum_rule(table: str, column: str, enum: type[Enum]) -> Callable[[Any], str | None]:
    allowed = {member.value for member in enum}

    def rule(value: Any) -> str | None:
        if value in allowed:
            return None
        return f"{table}.{column} holds {value!r}, not one of {sorted(allowed)}"

    return rule


def _uuid_rule(table: str, column: str) -> Callable[[Any], str | None]:
    def rule(value: Any) -> str | None:
        if value is not None and not _is_uuid(value):
            return f"{table}.{column} holds {value!r}, not a UUID"
        return None

    return rule


def _key_rule(
    table: str, name: str, fold: Callable[[str], str]
) -> Callable[[Any, Any], str | None]:
    def rule(value: Any, key: Any) -> str | None:
        if not isinstance(value, str):
            return f"{table}.{name} holds {value!r}, not text"
        expected = fold(value)
        if key != expected and not str(key).startswith(expected + " #"):
            return f"{table} {value!r} has the key {key!r}; it should be {expected!r}"
        return None

    return rule


def _count_rule(table: str, column: str) -> Callable[[Any], str | None]:
    return lambda value: f"{table}.{column} holds {value!r}, not a count licensectl writes"


def _migration_rule() -> Callable[[Any, Any], str | None]:
    from licensectl.store.schema import recorded_names

    known = recorded_names()

    def rule(version: Any, name: Any) -> str | None:
        if known.get(version) != name:
            return f"schema_migration {version!r} is named {name!r}, not a migration"
        return None

    return rule


def _time_rule(table: str, column: str) -> Callable[[Any], str | None]:
    def rule(value: Any) -> str | None:
        if isinstance(value, str) and _SQLITE_TIME.fullmatch(value):
            return None
        return f"{table}.{column} holds {value!r}, not a time licensectl wrote"

    return rule


#: A canonical UUID's text, as SQLite's GLOB and a PostgreSQL regular expression.
_HEX = "[0-9a-f]"
_UUID_GLOB: Final = "-".join(_HEX * n for n in (8, 4, 4, 4, 12))
_UUID_REGEX: Final = "^" + "-".join(f"{_HEX}{{{n}}}" for n in (8, 4, 4, 4, 12)) + "$"


def _uuid_ok(column: str, sqlite: bool) -> str:
    """SQL true only for NULL or lower-case canonical UUID text (which `_is_uuid` passes).
    On SQLite the text's bytes are counted too: GLOB stops at a NUL character."""
    if sqlite:
        return (
            f"{column} IS NULL OR (typeof({column}) = 'text' AND "
            f"length(CAST({column} AS BLOB)) = 36 AND {column} GLOB '{_UUID_GLOB}')"
        )
    return f"{column} IS NULL OR {column} ~ '{_UUID_REGEX}'"


def _key_ok(name: str, key: str, sqlite: bool) -> str:
    """SQL true only where `name` is printable ASCII with single inner spaces (so its
    key is `lower(name)`: domain._fold) and `key` is that key or it plus ` #…`. Any
    other row (a name outside ASCII, a damaged one) is checked in Python."""
    if sqlite:
        # As many bytes as characters: ASCII, and no NUL (length() stops at one).
        plain = (
            f"typeof({name}) = 'text' AND typeof({key}) = 'text' AND "
            f"length(CAST({name} AS BLOB)) = length({name}) AND {name} NOT GLOB '*[^ -~]*' "
            f"AND instr({name}, '  ') = 0 AND {name} NOT GLOB ' *' AND {name} NOT GLOB '* '"
        )
        lower = f"lower({name})"
    else:
        plain = (
            f"octet_length({name}) = length({name}) AND {name} !~ '[[:cntrl:]]' AND "
            f"position('  ' in {name}) = 0 AND left({name}, 1) <> ' ' AND "
            f"right({name}, 1) <> ' '"
        )
        lower = f'lower({name} COLLATE "C")'
    return (
        f"{plain} AND ({key} = {lower} OR substr({key}, 1, length({name}) + 2) = {lower} || ' #')"
    )


_DIGITS: Final = "[0-9]"
_DAY_GLOB: Final = f"{_DIGITS * 4}-{_DIGITS * 2}-{_DIGITS * 2}"
_SECOND_GLOB: Final = f"{_DAY_GLOB} {_DIGITS * 2}:{_DIGITS * 2}:{_DIGITS * 2}"


def _sqlite_time_ok(column: str) -> str:
    """SQL true only for text that `_SQLITE_TIME` matches (ASCII digits, no NUL); the
    spelling licensectl writes (microseconds) is tried first."""
    return (
        f"typeof({column}) = 'text' AND length(CAST({column} AS BLOB)) = length({column}) "
        f"AND ({column} GLOB '{_SECOND_GLOB}.{_DIGITS * 6}' OR {column} GLOB '{_SECOND_GLOB}' "
        f"OR {column} GLOB '{_DAY_GLOB}')"
    )


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


_DAY_COUNTS: Final = "audit log: day counts (report activity) match the log"


def _day_counts(s: Session, logged: audit.DayCounts | None = None) -> _Check:
    """`event_day` is kept by the writers of events; `report activity` adds it up. Any
    count that differs from the log (a hand edit, a writer that bypassed it) is named.
    `logged`: the log as the chain's pass counted it (SQLite), so it is not read again."""
    check = _Check(_DAY_COUNTS)
    mismatches = audit.day_count_mismatches(s.connection(), logged=logged)
    for day, actor, action, pid, logged_n, kept in mismatches:
        partner = f", partner #{pid}" if pid else ""
        check.fail(
            f"{day} {action} by {actor}{partner}: the log holds {logged_n} events, the day "
            f"counts say {kept}"
        )
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


def _license_suspects(successors: Any, held: Any) -> Any:
    """The licenses `_licenses` must look at (a statement of their seq): those with
    successors, those with held copies, and those a test of the license row alone does
    not pass. Any other license is sound by every rule there: with no successors and no
    held copies, `sound` reduces to exactly that test (an available or void license with
    no active copies and a quantity of at least 0). The million others are then only read
    once, with no look-up in the successors or the activations per license."""
    plain, parents, holders = (
        LICENSES.alias("plain"),
        LICENSES.alias("parents"),
        LICENSES.alias("holders"),
    )
    alone = and_(
        type_coerce(plain.c.status, String).in_(
            [LicenseStatus.AVAILABLE.value, LicenseStatus.VOID.value]
        ),
        plain.c.active_copies == 0,
        plain.c.quantity >= 0,
    )
    return union(
        select(plain.c.seq).where(alone.is_not(true())),
        # The same join conditions as in `_licenses`, so the same licenses.
        select(parents.c.seq).join(successors, successors.c.parent_id == parents.c.license_id),
        select(holders.c.seq).join(held, held.c.license_seq == holders.c.seq),
    )


def _licenses(s: Session) -> list[_Check]:
    """Transfers, active copies and status: one query over every license, which lists the
    licenses that break a rule."""
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
    # The rules below, in SQL: the database lists the licenses that break one (or whose
    # values it cannot compare), and only those are looked at here, by the same rules.
    children, moved, bound = successors.c["count"], successors.c.copies, held.c.copies
    status_text = type_coerce(lic.c.status, String)
    active, quantity = lic.c.active_copies, lic.c.quantity
    should_be = case(
        (children.is_not(None), LicenseStatus.TRANSFERRED.value),
        (active > 0, LicenseStatus.ACTIVATED.value),
        else_=LicenseStatus.AVAILABLE.value,
    )
    sound = and_(
        status_text.in_([member.value for member in LicenseStatus]),
        or_(children.is_(None), moved == quantity),
        or_(status_text != LicenseStatus.TRANSFERRED.value, children.is_not(None)),
        func.coalesce(bound, 0) == active,
        active.between(0, quantity),
        case(
            (status_text == LicenseStatus.VOID.value, and_(children.is_(None), active == 0)),
            else_=status_text == should_be,
        ),
    )
    stmt = (
        select(lic.c.license_id, lic.c.status, quantity, active, children, moved, bound)
        .outerjoin(successors, successors.c.parent_id == lic.c.license_id)
        .outerjoin(held, held.c.license_seq == lic.c.seq)
        .where(lic.c.seq.in_(_license_suspects(successors, held)), sound.is_not(true()))
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
