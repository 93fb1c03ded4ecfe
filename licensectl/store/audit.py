"""The audit log (table `event`): append-only in the database, and a hash chain.

Guards. The database itself refuses to change an event once written:
- SQLite: `BEFORE UPDATE` and `BEFORE DELETE` triggers, and a `BEFORE INSERT` trigger that
  refuses an insert whose id is taken, which is what `INSERT OR REPLACE` and `REPLACE INTO`
  do (their conflict resolution deletes the old row without firing DELETE triggers unless
  a connection turns `recursive_triggers` on, which a hand edit would not).
- PostgreSQL: a row trigger before UPDATE or DELETE, and a statement trigger before
  TRUNCATE.
`db check` verifies that every guard is present, enabled and as written here.

The chain. Every event carries `hash`, the SHA-256 (hex) of its canonical content and the
previous event's hash (id order; the first event follows `GENESIS`). The canonical content
is the sequence

    previous hash, at, actor, action, license_id, customer_id, partner_id, details

each field spelled `<length>:<text>` (length in code points) or `-` when null, joined with
`|` and encoded as UTF-8: a prefix-free spelling, so no two contents hash the same text.
Here `at` is the time as stored (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) and `details` the
JSON text exactly as stored. Changing, inserting, removing or reordering an event breaks
the link at that event and `db check` names it. Only `append_events` writes events; it
reads the previous hash inside the caller's serialised write transaction (SQLite's
BEGIN IMMEDIATE; on PostgreSQL a transaction-level advisory lock that every event writer
takes), so two writers can never both append after the same event.

The functions here take a SQLAlchemy Connection and nothing else, so each migration step is
a plain function (an Alembic revision can call them unchanged).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Connection, inspect

GENESIS: Final = "0" * 64
#: The PostgreSQL advisory lock every event writer holds until its transaction ends.
CHAIN_LOCK: Final = 7_146_253_010
#: How stored times are spelled: SQLAlchemy's SQLite DateTime format, always 6 decimals.
AT_FORMAT: Final = "%Y-%m-%d %H:%M:%S.%f"
_CHUNK: Final = 5000

_REFUSE = "SELECT RAISE(ABORT, 'events are append-only');"
SQLITE_GUARDS: Final[dict[str, str]] = {
    "event_no_update": f"CREATE TRIGGER event_no_update BEFORE UPDATE ON event BEGIN {_REFUSE} END",
    "event_no_delete": f"CREATE TRIGGER event_no_delete BEFORE DELETE ON event BEGIN {_REFUSE} END",
    "event_no_replace": (
        "CREATE TRIGGER event_no_replace BEFORE INSERT ON event "
        f"WHEN EXISTS (SELECT 1 FROM event WHERE id = NEW.id) BEGIN {_REFUSE} END"
    ),
}
PG_FUNCTION: Final = "licensectl_event_append_only"
_PG_BODY: Final = " BEGIN RAISE EXCEPTION 'events are append-only'; END "
#: Trigger name → what `pg_get_triggerdef` must say about it.
PG_GUARDS: Final[dict[str, tuple[str, ...]]] = {
    "event_append_only": ("BEFORE", "UPDATE", "DELETE", "FOR EACH ROW", PG_FUNCTION),
    "event_no_truncate": ("BEFORE TRUNCATE", "FOR EACH STATEMENT", PG_FUNCTION),
}

# --- the guards ----------------------------------------------------------------------


def install_guards(conn: Connection) -> None:
    """(Re)create every guard of the event table, exactly as `missing_guards` expects."""
    if conn.dialect.name == "sqlite":
        for name, ddl in SQLITE_GUARDS.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            conn.exec_driver_sql(ddl)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $${_PG_BODY}$$"
        )
        for name in PG_GUARDS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON event")
        conn.exec_driver_sql(
            "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
        )


def _drop_guards(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for name in SQLITE_GUARDS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    elif conn.dialect.name == "postgresql":
        for name in PG_GUARDS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON event")


def missing_guards(conn: Connection) -> list[str]:
    """The guards that are missing, disabled or not as written here, each with why."""
    problems: list[str] = []
    if conn.dialect.name == "sqlite":
        found: dict[str, str] = dict(
            conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event'"
            ).all()
        )
        for name, ddl in SQLITE_GUARDS.items():
            if name not in found:
                problems.append(f"trigger {name} is missing")
            elif found[name] != ddl:
                problems.append(f"trigger {name} is not the one licensectl made")
    elif conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "WHERE t.tgrelid = 'event'::regclass AND NOT t.tgisinternal"
        ).all()
        found_pg = {name: (str(enabled), str(ddl)) for name, enabled, ddl in rows}
        for name, words in PG_GUARDS.items():
            if name not in found_pg:
                problems.append(f"trigger {name} is missing")
                continue
            enabled, ddl = found_pg[name]
            if enabled == "D":
                problems.append(f"trigger {name} is disabled")
            elif not all(word in ddl for word in words):
                problems.append(f"trigger {name} is not the one licensectl made")
        body = conn.exec_driver_sql(
            "SELECT prosrc FROM pg_proc WHERE proname = %s", (PG_FUNCTION,)
        ).scalar()
        if body is None:
            problems.append(f"function {PG_FUNCTION} is missing")
        elif _words(str(body)) != _words(_PG_BODY):
            problems.append(f"function {PG_FUNCTION} is not the one licensectl made")
    return problems


def _words(sql: str) -> list[str]:
    return sql.split()


# --- the chain -----------------------------------------------------------------------


def at_text(at: datetime | str) -> str:
    """A time as the store keeps it (UTC, microseconds), whatever came in."""
    if isinstance(at, str):
        return at
    if not isinstance(at, datetime):  # a damaged row: never equal to what was hashed
        return repr(at)
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime(AT_FORMAT)


#: One encoder for every event: json.dumps builds a new one per call with these options.
_DETAILS: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def details_text(details: Mapping[str, Any]) -> str:
    """The JSON text an event's details are stored as (and hashed as)."""
    return _DETAILS.encode(details)


def _field(value: str | int | None) -> str:
    if value is None:
        return "-"
    text = str(value)
    return f"{len(text)}:{text}"


def link(previous: str, at: str, actor: str, action: str, license_id: str | None,
         customer_id: str | None, partner_id: int | None, details: str) -> str:  # fmt: skip
    """One event's hash: its canonical content chained to the previous event's hash.

    Spelled inline rather than by mapping `_field` over the fields: an import hashes every
    one of its events, and this is a fifth of the cost of writing them."""
    canonical = (
        f"{len(previous)}:{previous}|{len(at)}:{at}|{len(actor)}:{actor}|"
        f"{len(action)}:{action}|{_field(license_id)}|{_field(customer_id)}|"
        f"{_field(partner_id)}|{len(details)}:{details}"
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def chain_function(
    at: str, actor: str, action: str, head: list[str], made: list[str]
) -> Callable[[str | None, str | None, int | None, str], str]:
    """A function of (license_id, customer_id, partner_id, details) for events sharing
    `at`, `actor` and `action`, as SQLite calls it row after row in an `INSERT … SELECT`
    (the import's): each call links one event to `head[0]` (the hash before it) as `link`
    does, moves the head on, records the hash in `made` and returns it. Spelled in one
    function: it runs once per event of an import."""
    shared = f"|{len(at)}:{at}|{len(actor)}:{actor}|{len(action)}:{action}|"
    sha256 = hashlib.sha256
    record = made.append

    def chain(license_id: str | None, customer_id: str | None, partner_id: int | None,
              details: str) -> str:  # fmt: skip
        previous = head[0]
        pid = "-" if partner_id is None else str(partner_id)
        canonical = (
            f"{len(previous)}:{previous}{shared}"
            f"{'-' if license_id is None else f'{len(license_id)}:{license_id}'}|"
            f"{'-' if customer_id is None else f'{len(customer_id)}:{customer_id}'}|"
            f"{pid if partner_id is None else f'{len(pid)}:{pid}'}|{len(details)}:{details}"
        )
        head[0] = hashed = sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
        record(hashed)
        return hashed

    return chain


def lock_chain(conn: Connection) -> None:
    """Serialise event writers on PostgreSQL until the transaction ends (SQLite writers are
    serialised by BEGIN IMMEDIATE already). Taken first by every service write, so the
    order is always this lock, then rows: no deadlock between writers."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")


def chain_head(conn: Connection) -> str:
    """The last event's hash, GENESIS on an empty log (call inside the write lock)."""
    last = conn.exec_driver_sql("SELECT hash FROM event ORDER BY id DESC LIMIT 1").first()
    return str(last[0]) if last is not None and last[0] is not None else GENESIS


class NewEvent(NamedTuple):
    at: datetime
    actor: str
    action: str
    license_id: str | None
    customer_id: str | None
    partner_id: int | None
    details: Mapping[str, Any]


def append_events(conn: Connection, events: Iterable[NewEvent]) -> int:
    """Append events to the log, chained: the one way events are written. Returns how many.

    Runs inside the caller's write transaction; takes the chain lock (PostgreSQL) and reads
    the head once, then hashes in Python and inserts with the driver's executemany.
    """
    lock_chain(conn)
    sqlite = conn.dialect.name == "sqlite"
    marker = "?" if sqlite else "%s"
    details_marker = marker if sqlite else "CAST(%s AS json)"
    sql = (
        f"INSERT INTO event ({_COLUMNS}) "
        f"VALUES ({', '.join([marker] * 6)}, {details_marker}, {marker})"
    )
    head = chain_head(conn)
    count = 0
    batch: list[tuple[Any, ...]] = []
    days: Counter[tuple[str, str, str, int]] = Counter()
    moment: object = None
    at = ""
    stored_at: Any = None
    for e in events:
        if e.at is not moment:  # an import's events share one time: spell it once
            moment = e.at
            at = at_text(e.at)
            stored_at = at if sqlite else datetime.strptime(at, AT_FORMAT)
        text = details_text(e.details)
        head = link(head, at, e.actor, e.action, e.license_id, e.customer_id, e.partner_id, text)
        batch.append(
            (stored_at, e.actor, e.action, e.license_id, e.customer_id, e.partner_id, text, head)
        )
        if len(batch) >= _CHUNK:
            _insert(conn, sql, batch)
            count += len(batch)
            batch = []
        days[(at[:10], e.actor, e.action, e.partner_id or 0)] += 1
    if batch:
        _insert(conn, sql, batch)
        count += len(batch)
    add_day_counts(conn, days)
    return count


_DAY_UPSERT = (
    "INSERT INTO event_day (day, actor, action, partner_id, count) {source} "
    "ON CONFLICT (day, actor, action, partner_id) "
    "DO UPDATE SET count = event_day.count + excluded.count"
)


def add_day_counts(conn: Connection, days: Mapping[tuple[str, str, str, int], int]) -> None:
    """Add events just written to `event_day` (models.EventDay): per (day, actor, action,
    partner id or 0), how many. Call inside the write transaction that wrote them."""
    if not days:
        return
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = _DAY_UPSERT.format(source=f"VALUES ({', '.join([mark] * 5)})")
    conn.exec_driver_sql(sql, [(*key, n) for key, n in days.items()])


def _counted_days(conn: Connection, where: str = "") -> str:
    """The log counted as `event_day` counts it: (day, actor, action, pid, n), a UTC day
    (the session's zone is UTC on PostgreSQL, store/engine.py) and partner id or 0."""
    day = "substr(at, 1, 10)" if conn.dialect.name == "sqlite" else "to_char(at, 'YYYY-MM-DD')"
    return (
        f"SELECT {day} AS day, actor, action, coalesce(partner_id, 0) AS pid, count(*) AS n "
        f"FROM event {where} GROUP BY {day}, actor, action, coalesce(partner_id, 0)"
    )


def count_days_since(conn: Connection, after_id: int) -> None:
    """Add every event above `after_id` to `event_day`, counted by the database: for
    writers that insert events with INSERT ... SELECT (the import on SQLite), and for
    revision 0007, which counts the whole log (`after_id` 0)."""
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    source = _counted_days(conn, f"WHERE id > {mark}")
    conn.exec_driver_sql(_DAY_UPSERT.format(source=source), (after_id,))


#: From this many events on, PostgreSQL takes them by COPY rather than an executemany.
_COPY_FROM: Final = 50
_COLUMNS: Final = "at, actor, action, license_id, customer_id, partner_id, details, hash"


def _insert(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert event rows (in the order of `_COLUMNS`): one executemany, or on PostgreSQL
    for many rows one COPY on the same connection and transaction, several times faster.
    COPY's text input keeps the details' JSON text exactly as given, as the insert does."""
    if conn.dialect.name != "postgresql" or len(rows) < _COPY_FROM:
        conn.exec_driver_sql(sql, rows)
        return
    driver: Any = conn.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY event ({_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def day_count_mismatches(
    conn: Connection, limit: int = 20, logged: DayCounts | None = None
) -> list[tuple[Any, ...]]:
    """Where `event_day` disagrees with the log it counts: (day, actor, action, partner
    id or 0, logged, kept) for each key whose counts differ, at most `limit` of them.

    `logged`: the log already counted by `verify_chain` (its `days`), when that pass read
    every event with the types licensectl writes; else the database counts the log."""
    if logged is not None and logged.complete:
        compared = _compare_days(conn, logged, limit)
        if compared is not None:
            return compared
    counted = _counted_days(conn)
    same = "c.day = d.day AND c.actor = d.actor AND c.action = d.action AND c.pid = d.partner_id"
    sql = (
        f"WITH c AS ({counted}) "
        "SELECT c.day, c.actor, c.action, c.pid, c.n, d.count FROM c "
        f"LEFT JOIN event_day d ON {same} WHERE d.count IS NULL OR d.count <> c.n "
        "UNION ALL "
        "SELECT d.day, d.actor, d.action, d.partner_id, 0, d.count FROM event_day d "
        f"WHERE NOT EXISTS (SELECT 1 FROM c WHERE {same}) "
        f"ORDER BY 1, 2, 3, 4 LIMIT {int(limit)}"
    )
    return [tuple(row) for row in conn.exec_driver_sql(sql)]


class DayCounts(Counter[tuple[str, str, str, int]]):
    """The log counted as `event_day` counts it, by (day, actor, action, partner id or 0),
    filled by `verify_chain` as it reads the events (so `db check` reads the log once).
    `complete` only once every event was read and had the types licensectl writes (a
    damaged row's day is what the database would make of it: it counts them then).

    With `time_ok`, the same pass lists in `odd_times` (in id order) each event time it
    finds not ok: `db check`'s test of how times are spelled, without another read."""

    def __init__(self, time_ok: Callable[[str], object] | None = None) -> None:
        super().__init__()
        self.complete = False
        self.time_ok = time_ok
        self.odd_times: list[str] = []


def _compare_days(conn: Connection, logged: DayCounts, limit: int) -> list[tuple[Any, ...]] | None:
    """`day_count_mismatches` from the log counted in Python, in the same order; None
    when `event_day` holds a value of a type licensectl never writes there (the
    database then compares, as it orders mixed types its own way)."""
    kept: dict[tuple[str, str, str, int], Any] = {}
    for day, actor, action, pid, count in conn.exec_driver_sql(
        "SELECT day, actor, action, partner_id, count FROM event_day"
    ):
        if not (type(day) is str and type(actor) is str and type(action) is str
                and type(pid) is int and type(count) is int):  # fmt: skip
            return None
        key = (day, actor, action, pid)
        if key in kept:  # a duplicate key the unique index should forbid: as SQL joins it
            return None
        kept[key] = count
    rows = [(*key, n, kept.get(key)) for key, n in logged.items() if kept.get(key) != n]
    rows += [(*key, 0, count) for key, count in kept.items() if key not in logged]
    rows.sort(key=lambda row: row[:4])
    return rows[: max(0, int(limit))]


class StoredEvent(NamedTuple):
    id: int
    at: str
    actor: str
    action: str
    license_id: str | None
    customer_id: str | None
    partner_id: int | None
    details: str
    hash: str | None


def stored_events(conn: Connection, after: int = 0, limit: int = _CHUNK) -> list[StoredEvent]:
    """Events after id `after`, in id order, each column as stored."""
    if conn.dialect.name == "sqlite":
        sql = (
            "SELECT id, at, actor, action, license_id, customer_id, partner_id, details, hash "
            "FROM event WHERE id > ? ORDER BY id LIMIT ?"
        )
    else:
        sql = (
            "SELECT id, at, actor, action, license_id, customer_id, partner_id, "
            "details::text, hash FROM event WHERE id > %s ORDER BY id LIMIT %s"
        )
    return [_stored_event(r) for r in conn.exec_driver_sql(sql, (after, limit)).all()]


def _stored_event(r: Any) -> StoredEvent:
    """One event row (the columns of stored_events) with each column as stored."""
    return StoredEvent(
        id=int(r[0]),
        at=at_text(r[1]),
        actor=_text(r[2]),
        action=_text(r[3]),
        license_id=_optional(r[4]),
        customer_id=_optional(r[5]),
        partner_id=r[6] if r[6] is None or isinstance(r[6], int) else repr(r[6]),  # type: ignore[arg-type]
        details=_text(r[7]),
        hash=_optional(r[8]),
    )


def _text(value: Any) -> str:
    """A stored text as it is; anything else a damaged row may hold, spelled so that it
    never equals what was hashed."""
    return value if isinstance(value, str) else repr(value)


def _optional(value: Any) -> str | None:
    return None if value is None else _text(value)


def _stored_link(previous: str, e: StoredEvent) -> str:
    return link(
        previous, e.at, e.actor, e.action, e.license_id, e.customer_id, e.partner_id, e.details
    )


class Break(NamedTuple):
    event_id: int
    why: str


#: The events' columns as the chain covers them, in id order (PostgreSQL: the JSON text).
_CHAIN_SQL: Final = (
    "SELECT id, at, actor, action, license_id, customer_id, partner_id, {details}, hash "
    "FROM event ORDER BY id"
)
#: How many events pass between two calls of verify_chain's `progress`.
PROGRESS_EVERY: Final = 20_000


def verify_chain(
    conn: Connection,
    progress: Callable[[int], None] | None = None,
    days: DayCounts | None = None,
) -> Iterator[Break]:
    """Every broken link, in id order. Each event is checked against the stored hash of
    the one before it, so one changed event breaks its own link (and a changed hash the
    next one too), not every link after it.

    On SQLite one query read as it goes through the driver's own cursor, so memory
    stays flat; a row whose columns all have the types licensectl
    writes is hashed inline (`link`'s spelling), any other one as `stored_events` reads
    it, so a damaged row is spelled exactly as before. On PostgreSQL the server hashes
    (`_verify_in_postgres`). `progress(n)` hears now and then how many events (by id)
    are checked. `days`, on SQLite: counts the events by day as `event_day` does
    (`DayCounts`), in the same pass (PostgreSQL counts them in `day_count_mismatches`)."""
    if conn.dialect.name == "postgresql":
        yield from _verify_in_postgres(conn, progress)
        return
    raw: Any = conn.connection.driver_connection
    cursor = raw.execute(_CHAIN_SQL.format(details="details"))
    try:
        yield from _verify_rows(cursor, progress, days)
    finally:
        cursor.close()


def _spelled(column: str) -> str:
    """PostgreSQL: a text column as `_field` spells it (`-` for NULL)."""
    return f"coalesce(length({column}) || ':' || {column}, '-')"


#: The chain on PostgreSQL, hashed by the server (sha256, PostgreSQL 11 and later): the
#: canonical content of `link`, spelled in SQL, for the events of one id range, each
#: following the stored hash of the event before it (`lag`; the first one of the range,
#: the last hash before the range). Lists the events whose hash differs or is NULL.
_PG_CHAIN: Final = (
    "SELECT id, hash FROM (SELECT id, hash, encode(sha256(convert_to("
    "length(previous) || ':' || previous || '|' || length(at) || ':' || at || '|' || "
    "length(actor) || ':' || actor || '|' || length(action) || ':' || action || '|' || "
    f"{_spelled('license_id')} || '|' || {_spelled('customer_id')} || '|' || "
    f"{_spelled('partner_id::text')} || '|' || length(details) || ':' || details, "
    "'UTF8')), 'hex') AS computed FROM (SELECT id, hash, actor, action, license_id, "
    "customer_id, partner_id, details::text AS details, "
    "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at, "
    f"coalesce(nullif(lag(hash, 1, (SELECT hash FROM event WHERE id <= %(low)s "
    f"ORDER BY id DESC LIMIT 1)) OVER (ORDER BY id), ''), '{GENESIS}') AS previous "
    "FROM event WHERE id > %(low)s AND id <= %(high)s) AS e) AS linked "
    "WHERE computed IS DISTINCT FROM hash ORDER BY id"
)
#: Events hashed per statement on PostgreSQL (one progress step each).
_PG_RANGE: Final = 100_000


def _verify_in_postgres(
    conn: Connection, progress: Callable[[int], None] | None
) -> Iterator[Break]:
    """verify_chain on PostgreSQL: the server hashes every event (in C, next to the
    data) and sends only the broken links, a range of ids at a time."""
    last = conn.exec_driver_sql("SELECT max(id) FROM event").scalar()
    low = 0
    while last is not None and low < last:
        high = low + _PG_RANGE
        for event_id, stored in conn.exec_driver_sql(_PG_CHAIN, {"low": low, "high": high}):
            if stored is None:
                yield Break(event_id, "has no hash")
            else:
                yield Break(event_id, "does not match its content and the previous event's hash")
        low = high
        if progress is not None:
            progress(min(high, last))


def _verify_rows(
    rows: Iterable[Any],
    progress: Callable[[int], None] | None,
    days: DayCounts | None = None,
) -> Iterator[Break]:
    sha256 = hashlib.sha256
    previous = GENESIS
    count = 0
    mark = PROGRESS_EVERY
    # Counted here only for rows of the types licensectl writes: `day_count_mismatches`
    # counts in the database if any other one turns up (`typed` then stays False).
    counted: dict[tuple[str, str, str, int], int] = {}
    typed = True
    time_ok = days.time_ok if days is not None else None
    odd_times: list[str] = []
    last_time = ""  # the last time found ok: an import's events share theirs
    for row in rows:
        event_id, at, actor, action, license_id, customer_id, partner_id, details, stored = row
        count += 1
        if count == mark:
            mark += PROGRESS_EVERY
            if progress is not None:
                progress(count)
        if type(at) is not str:
            at = at_text(at) if isinstance(at, datetime) else None  # PostgreSQL's times
        if (
            type(stored) is str
            and type(at) is str
            and type(actor) is str
            and type(action) is str
            and type(details) is str
            and (license_id is None or type(license_id) is str)
            and (customer_id is None or type(customer_id) is str)
            and (partner_id is None or type(partner_id) is int)
        ):
            canonical = (
                f"{len(previous)}:{previous}|{len(at)}:{at}|{len(actor)}:{actor}|"
                f"{len(action)}:{action}|"
                f"{'-' if license_id is None else f'{len(license_id)}:{license_id}'}|"
                f"{'-' if customer_id is None else f'{len(customer_id)}:{customer_id}'}|"
                f"{_field(partner_id)}|{len(details)}:{details}"
            )
            if sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest() != stored:
                yield Break(event_id, "does not match its content and the previous event's hash")
            previous = stored or GENESIS
            key = (at[:10], actor, action, partner_id or 0)
            counted[key] = counted.get(key, 0) + 1
            if time_ok is not None and at != last_time:
                if time_ok(at):
                    last_time = at
                else:
                    odd_times.append(at)
            continue
        typed = False
        e = _stored_event(row)  # a damaged row: spelled as stored_events spells it
        if e.hash is None:
            yield Break(e.id, "has no hash")
        elif _stored_link(previous, e) != e.hash:
            yield Break(e.id, "does not match its content and the previous event's hash")
        previous = e.hash or GENESIS
    if progress is not None:
        progress(count)
    if days is not None:
        days.update(counted)
        days.odd_times = odd_times
        days.complete = typed


# --- migration 4 ---------------------------------------------------------------------


def add_hash_chain(conn: Connection) -> None:
    """Migration 4: the `hash` column, filled in id order for the events there are, and
    every guard (the REPLACE and TRUNCATE ones are new). Idempotent."""
    lock_chain(conn)
    columns = {c["name"] for c in inspect(conn).get_columns("event")}
    if "hash" not in columns:
        conn.exec_driver_sql("ALTER TABLE event ADD COLUMN hash VARCHAR(64)")
    # The guards forbid the UPDATE that fills the column in: off for this transaction.
    _drop_guards(conn)
    marker = "?" if conn.dialect.name == "sqlite" else "%s"
    update = f"UPDATE event SET hash = {marker} WHERE id = {marker}"
    previous = GENESIS
    after = 0
    while rows := stored_events(conn, after):
        filled = []
        for e in rows:
            previous = _stored_link(previous, e)
            filled.append((previous, e.id))
        conn.exec_driver_sql(update, filled)
        after = rows[-1].id
    install_guards(conn)


__all__ = [
    "GENESIS",
    "DayCounts",
    "NewEvent",
    "add_hash_chain",
    "add_day_counts",
    "append_events",
    "count_days_since",
    "install_guards",
    "missing_guards",
    "verify_chain",
]
