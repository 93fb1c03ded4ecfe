"""The bulk import on PostgreSQL: `COPY` into a staging table, then set-based SQL.

The file streams into a temporary staging table by one `COPY` (psycopg's `cursor.copy`),
each valid row with its partner's id, its case-folded PO and customer name, and License
and Customer IDs minted for it in bulk. Everything else is a handful of statements over
that table, whatever the file's length:

- the rows whose key names an existing license are matched in one join (and, with a
  customer, whether that license was ever transferred to it);
- repeated keys, differences from the existing licenses and foreign customers come back
  in one query, only for the rows that have them, and become the same row errors the
  SQLite path reports;
- without errors (and unless a dry run), one `INSERT … SELECT` each writes the new
  customers, the licenses and their successors (the transfers to those customers), and
  each kind of event, in the order `customer add`, `license add` and `transfer` write
  them. Each event's hash is chained to the one before it by the server itself: a
  temporary aggregate (`licensectl_chain`, run as a window over the events in the order
  their ids are drawn) links each event to the running hash, exactly as `audit.link`
  spells it.

When the import adds more licenses (or events) than the table held before it, the
table's non-unique secondary indexes are dropped inside the transaction and made again
from their own definitions before it commits (`_PgPauses`): one sorted build costs far
less than inserting every row into them one by one. PostgreSQL's schema changes are
transactional, so a failed import or a dry run restores them with everything else, but
`DROP INDEX` holds an ACCESS EXCLUSIVE lock until the commit: other connections' reads of
that table wait for the import to end (they never see it without its indexes). An
import into a store larger than itself keeps every index, and readers go on as usual.

Nothing of the file is kept in Python's memory but row errors; the planner's statistics
are kept current (the staging table after the copy, the written tables at the end).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import Connection

from licensectl import domain
from licensectl.contract.models import ImportSummary, RowError
from licensectl.domain import utcnow
from licensectl.importer import ImportRow
from licensectl.service.importing import unknown_partner
from licensectl.store.audit import at_text, chain_head, count_days_since, lock_chain

#: IDs minted per `os.urandom` call while the file streams in.
_MINT: Final = 5000
#: Work memory for the import's sorts and hashes (the staging table's keys, the events'
#: order): the default 4 MB spills a million-row sort to disk. For this transaction only.
_WORK_MEM: Final = "64MB"
_MAINTENANCE_WORK_MEM: Final = "256MB"

STAGE: Final = "licensectl_import_stage"
MATCHED: Final = "licensectl_import_matched"
_STAGE_COLUMNS: Final = (
    "file_row",
    "partner_id",
    "po_key",
    "po_line",
    "purchase_order",
    "type",
    "devices",
    "quantity",
    "term_months",
    "customer",
    "customer_key",
    "license_id",
    "successor_id",
    "customer_uid",
)
_STAGE_DDL: Final = (
    f"CREATE TEMPORARY TABLE {STAGE} (file_row integer NOT NULL, partner_id integer NOT NULL, "
    "po_key text NOT NULL, po_line integer NOT NULL, purchase_order text NOT NULL, "
    "type text NOT NULL, devices integer NOT NULL, quantity integer NOT NULL, "
    "term_months integer, customer text, customer_key text, license_id text NOT NULL, "
    "successor_id text, customer_uid text)"
)
#: The staged row's natural key, on an original license (the partial unique index).
_SAME_KEY: Final = (
    "l.partner_id = s.partner_id AND l.po_key = s.po_key AND l.po_line = s.po_line "
    "AND l.parent_id IS NULL AND l.status <> 'void'"
)
#: Staged rows whose key names an existing license, with its values, and whether one of
#: its direct successors went to the row's customer (always true without a customer).
_MATCH: Final = (
    f"CREATE TEMPORARY TABLE {MATCHED} AS SELECT s.file_row, l.license_id, l.type, "
    "l.devices, l.quantity, l.term_months, (s.customer_key IS NULL OR EXISTS ("
    "SELECT 1 FROM license m JOIN customer c ON c.id = m.customer_pk "
    "WHERE m.parent_id = l.license_id AND c.name_key = s.customer_key)) AS held "
    f"FROM {STAGE} s JOIN license l ON {_SAME_KEY}"
)
#: Every staged row with something to report: a key repeated from an earlier row, or an
#: existing license that differs or never went to the row's customer. In file order.
_PROBLEMS: Final = (
    "SELECT s.file_row, s.first_row, s.partner_id, s.purchase_order, s.po_line, s.type, "
    "s.devices, s.quantity, s.term_months, s.customer, m.license_id, m.type, m.devices, "
    "m.quantity, m.term_months, m.held "
    "FROM (SELECT *, min(file_row) OVER (PARTITION BY partner_id, po_key, po_line) "
    f"AS first_row FROM {STAGE}) s LEFT JOIN {MATCHED} m ON m.file_row = s.file_row "
    "WHERE s.file_row <> s.first_row OR (m.file_row IS NOT NULL AND (m.type <> s.type "
    "OR m.devices <> s.devices OR m.quantity <> s.quantity "
    "OR m.term_months IS DISTINCT FROM s.term_months OR NOT m.held)) "
    "ORDER BY s.file_row"
)
_NEW: Final = f"NOT EXISTS (SELECT 1 FROM {MATCHED} m WHERE m.file_row = s.file_row)"
#: The customers the new rows name that the store does not have yet, each once, spelled
#: as the first row naming it spells it, in the order of those rows.
_NEW_CUSTOMERS: Final = (
    "SELECT d.customer_uid, d.partner_id, d.customer, d.customer_key FROM ("
    "SELECT DISTINCT ON (s.partner_id, s.customer_key) s.file_row, s.customer_uid, "
    f"s.partner_id, s.customer, s.customer_key FROM {STAGE} s "
    f"WHERE s.customer_key IS NOT NULL AND {_NEW} "
    "ORDER BY s.partner_id, s.customer_key, s.file_row) d "
    "WHERE NOT EXISTS (SELECT 1 FROM customer c "
    "WHERE c.partner_id = d.partner_id AND c.name_key = d.customer_key) "
    "ORDER BY d.file_row"
)
_LICENSE_COLUMNS: Final = (
    "license_id, partner_id, customer_pk, type, devices, quantity, term_months, "
    "purchase_order, po_key, po_line, status, active_copies, parent_id, created_at"
)
_ORIGINALS: Final = (
    f"INSERT INTO license ({_LICENSE_COLUMNS}) SELECT s.license_id, s.partner_id, NULL, "
    "s.type, s.devices, s.quantity, s.term_months, s.purchase_order, s.po_key, s.po_line, "
    "CASE WHEN s.customer_key IS NULL THEN 'available' ELSE 'transferred' END, 0, NULL, "
    f"%(at)s FROM {STAGE} s WHERE {_NEW} ORDER BY s.file_row"
)
#: The licenses of rows naming a customer, transferred whole to it: `transfer` would
#: mint a successor holding every copy and mark the original transferred.
_SUCCESSORS: Final = (
    f"INSERT INTO license ({_LICENSE_COLUMNS}) SELECT s.successor_id, s.partner_id, c.id, "
    "s.type, s.devices, s.quantity, s.term_months, s.purchase_order, s.po_key, s.po_line, "
    f"'available', 0, s.license_id, %(at)s FROM {STAGE} s JOIN customer c "
    "ON c.partner_id = s.partner_id AND c.name_key = s.customer_key "
    f"WHERE s.customer_key IS NOT NULL AND {_NEW} ORDER BY s.file_row"
)

# --- the events ---------------------------------------------------------------------

#: One link of the chain (audit.link): the hash of the previous hash and the rest of the
#: canonical content, which the caller spells from `|at|actor|action|` on.
_STEP: Final = (
    "CREATE FUNCTION pg_temp.licensectl_chain_step(state text, head text, rest text) "
    "RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ DECLARE previous text := "
    "coalesce(state, head); BEGIN RETURN encode(sha256(convert_to(length(previous) || ':' "
    "|| previous || rest, 'UTF8')), 'hex'); END $$"
)
#: `licensectl_chain(head, rest) OVER (ORDER BY …)`: each row's hash, the first linked to
#: `head`, every other one to the row before it.
_CHAIN: Final = (
    "CREATE AGGREGATE pg_temp.licensectl_chain(text, text) "
    "(SFUNC = pg_temp.licensectl_chain_step, STYPE = text)"
)
_DROP_CHAIN: Final = (
    "DROP AGGREGATE pg_temp.licensectl_chain(text, text)",
    "DROP FUNCTION pg_temp.licensectl_chain_step(text, text, text)",
)


def _json(column: str) -> str:
    """A text column as a JSON string (null when NULL), escaped as Python's json does."""
    return f"coalesce(to_json({column}::text)::text, 'null')"


def _number(column: str) -> str:
    return f"coalesce({column}::text, 'null')"


def _spelled(column: str) -> str:
    """A field of the canonical content (audit._field): `<length>:<text>`, `-` if NULL."""
    return f"coalesce(length({column}) || ':' || {column}, '-')"


#: Per kind of event: (license_id, customer_id, partner_id, details as compact JSON text
#: (the spelling of audit.details_text, keys in the order the commands write them), the
#: FROM clause, its condition, the order). `%(after)s` is the largest key before the
#: import.
_EVENTS: Final[dict[str, tuple[str, str, str, str, str, str, str]]] = {
    "customer.add": (
        "NULL",
        "c.customer_id",
        "c.partner_id",
        f"""'{{"name":' || {_json("c.name")} || ',"partner":' || {_json("p.name")} """
        """|| ',"emails":[],"via":"import"}'""",
        "customer c JOIN partner p ON p.id = c.partner_id",
        "c.id > %(after)s",
        "c.id",
    ),
    "license.add": (
        "l.license_id",
        "NULL",
        "l.partner_id",
        f"""'{{"partner":' || {_json("p.name")} || ',"purchase_order":' """
        f"""|| {_json("l.purchase_order")} || ',"po_line":' || l.po_line """
        f"""|| ',"type":' || {_json("l.type")} || ',"devices":' || l.devices """
        f"""|| ',"quantity":' || l.quantity || ',"term_months":' """
        f"""|| {_number("l.term_months")} || ',"via":"import"}}'""",
        "license l JOIN partner p ON p.id = l.partner_id",
        "l.seq > %(after)s AND l.parent_id IS NULL",
        "l.seq",
    ),
    "license.transfer": (
        "l.parent_id",
        "c.customer_id",
        "l.partner_id",
        """'{"source":{"customer_id":null,"inventory":"partner"},"to_customer_id":' """
        f"""|| {_json("c.customer_id")} || ',"to_customer":' || {_json("c.name")} """
        f"""|| ',"quantity":' || l.quantity || ',"transferred":' """
        f"""|| {_json("l.license_id")} || ',"remainder":null,"via":"import"}}'""",
        "license l JOIN customer c ON c.id = l.customer_pk",
        "l.seq > %(after)s AND l.parent_id IS NOT NULL",
        "l.seq",
    ),
    "license.mint": (
        "l.license_id",
        "c.customer_id",
        "l.partner_id",
        f"""'{{"parent_id":' || {_json("l.parent_id")} || ',"reason":"transfer",'"""
        f"""|| '"quantity":' || l.quantity || ',"to_customer":' || {_json("c.name")} """
        """|| '}'""",
        "license l JOIN customer c ON c.id = l.customer_pk",
        "l.seq > %(after)s AND l.parent_id IS NOT NULL",
        "l.seq",
    ),
}


def _event_sql(license_id: str, customer_id: str, partner_id: str, details: str, source: str,
               where: str, order: str) -> str:  # fmt: skip
    """One kind of event for every row of `source`, in `order`, chained: the ids are
    drawn (the column's default, nextval) in the order the window hands the rows on,
    which is its own order."""
    rest = (
        f"%(shared)s || {_spelled('e.lid')} || '|' || {_spelled('e.cid')} || '|' || "
        f"{_spelled('e.pid::text')} || '|' || length(e.details) || ':' || e.details"
    )
    return (
        "INSERT INTO event (at, actor, action, license_id, customer_id, partner_id, details, "
        "hash) SELECT %(at)s, %(actor)s, %(action)s, w.lid, w.cid, w.pid, w.details::json, "
        "w.hash FROM ("
        f"SELECT e.lid, e.cid, e.pid, e.details, pg_temp.licensectl_chain(%(head)s, {rest}) "
        "OVER (ORDER BY e.k) AS hash FROM ("
        f"SELECT {order} AS k, {license_id} AS lid, {customer_id} AS cid, "
        f"{partner_id} AS pid, {details} AS details "
        f"FROM {source} WHERE {where}) e) w"
    )


class PgImport:
    """One run of an import on PostgreSQL, inside the caller's write transaction."""

    def __init__(self, conn: Connection, actor: str, *, dry_run: bool) -> None:
        self.conn = conn
        self.actor = actor
        self.summary = ImportSummary(dry_run=dry_run)
        self.now = utcnow()
        #: Partner name as written in the file → (id, name), or None when unknown.
        self.partners: dict[str, tuple[int, str] | None] = {}
        self.partner_names: dict[int, str] = {}
        self.partner_keys: dict[str, tuple[int, str]] = {}

    def run(self, rows: Iterable[ImportRow | list[RowError]]) -> ImportSummary:
        conn = self.conn
        lock_chain(conn)
        # Writers of licenses wait until the import ends (readers do not).
        conn.exec_driver_sql("LOCK TABLE license IN SHARE ROW EXCLUSIVE MODE")
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{_WORK_MEM}'")
        conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{_MAINTENANCE_WORK_MEM}'")
        for table in (STAGE, MATCHED):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        conn.exec_driver_sql(_STAGE_DDL)
        staged = self._stage(rows)
        conn.exec_driver_sql(f"ANALYZE {STAGE}")
        conn.exec_driver_sql(_MATCH)
        matched = int(conn.exec_driver_sql(f"SELECT count(*) FROM {MATCHED}").scalar() or 0)
        self._problems()
        if not self.summary.errors:
            self.summary.unchanged = matched
            self.summary.created = staged - matched
            if self.summary.dry_run:
                self.summary.customers_created = int(
                    conn.exec_driver_sql(f"SELECT count(*) FROM ({_NEW_CUSTOMERS}) n").scalar() or 0
                )
            elif self.summary.created:
                self._write()
        # With errors or a dry run, the caller rolls everything back.
        for table in (STAGE, MATCHED):
            conn.exec_driver_sql(f"DROP TABLE {table}")
        self.summary.errors.sort(key=lambda e: e.row)  # stable: a row's own order stays
        return self.summary

    # --- staging --------------------------------------------------------------------

    def _stage(self, rows: Iterable[ImportRow | list[RowError]]) -> int:
        """COPY every valid row into the staging table; returns how many."""
        # Every partner, read before the COPY (the connection is busy during it): an
        # import's rows name a handful of them, and a store holds a few thousand at most.
        for pid, name, key in self.conn.exec_driver_sql("SELECT id, name, name_key FROM partner"):
            self.partner_keys[str(key)] = (int(pid), str(name))
            self.partner_names[int(pid)] = str(name)
        errors = self.summary.errors
        name_key = domain.name_key
        po_key = domain.po_key
        new_ids = domain.new_ids
        ids: list[str] = []
        last_po, last_po_key = "", ""
        count = 0
        driver: Any = self.conn.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {STAGE} ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy,
        ):
            write = copy.write_row
            for item in rows:
                if isinstance(item, list):
                    errors.extend(item)
                    continue
                if item.partner in self.partners:
                    partner = self.partners[item.partner]
                else:
                    partner = self._partner(item.partner)
                if partner is None:
                    errors.append(unknown_partner(item))
                    continue
                if item.purchase_order != last_po:  # a PO's lines mostly follow each other
                    last_po, last_po_key = item.purchase_order, po_key(item.purchase_order)
                if len(ids) < 3:
                    ids = new_ids(_MINT)
                customer = item.customer
                if customer is None:
                    write((item.row, partner[0], last_po_key, item.po_line, last_po,
                           item.type.value, item.devices, item.quantity, item.term_months,
                           None, None, ids.pop(), None, None))  # fmt: skip
                else:
                    write((item.row, partner[0], last_po_key, item.po_line, last_po,
                           item.type.value, item.devices, item.quantity, item.term_months,
                           customer, name_key(customer), ids.pop(), ids.pop(),
                           ids.pop()))  # fmt: skip
                count += 1
        return count

    def _partner(self, name: str) -> tuple[int, str] | None:
        ref = self.partner_keys.get(domain.name_key(name))
        self.partners[name] = ref  # partners are few: every spelling the file uses
        return ref

    # --- the checks -----------------------------------------------------------------

    def _problems(self) -> None:
        """Row errors for repeated keys, and for rows that differ from the license their
        key names (as the SQLite path words them)."""
        for r in self.conn.exec_driver_sql(_PROBLEMS):
            (row, first, partner_id, po, po_line, type_, devices, quantity, term,
             customer, license_id, *found) = r  # fmt: skip
            if row != first:
                self.summary.errors.append(
                    RowError(
                        row,
                        "purchase_order",
                        f"partner, purchase order and PO line repeat row {first}; "
                        "each PO line may appear only once in a file",
                    )
                )
            if license_id is None:
                continue
            given = {"type": type_, "devices": devices, "quantity": quantity,
                     "term_months": term}  # fmt: skip
            existing = dict(zip(given, found, strict=False))
            where = (
                f"purchase order {po!r} line {po_line} of partner "
                f"{self.partner_names[partner_id]!r} already exists (License ID {license_id})"
            )
            for name, value in given.items():
                if existing[name] != value:
                    self.summary.errors.append(
                        RowError(
                            row,
                            name,
                            f"{where} with {name} {_show(existing[name])}; "
                            f"this row says {_show(value)}",
                        )
                    )
            if not found[-1]:
                self.summary.errors.append(
                    RowError(row, "customer", f"{where} and was never transferred to {customer!r}")
                )

    # --- the writes -----------------------------------------------------------------

    def _write(self) -> None:
        conn = self.conn
        watermark = self._largest("seq", "license")
        customers_before = self._largest("id", "customer")
        events_before = self._largest("id", "event")
        successors = int(
            conn.exec_driver_sql(
                f"SELECT count(*) FROM {STAGE} s WHERE s.customer_key IS NOT NULL AND {_NEW}"
            ).scalar()
            or 0
        )
        new_customers = int(
            conn.exec_driver_sql(f"SELECT count(*) FROM ({_NEW_CUSTOMERS}) n").scalar() or 0
        )
        pauses = _PgPauses(conn)
        pauses.indexes("license", watermark, self.summary.created + successors)
        pauses.indexes("customer", customers_before, new_customers)
        pauses.indexes(
            "event", events_before, new_customers + self.summary.created + 2 * successors
        )
        at = {"at": self.now}
        made = conn.exec_driver_sql(
            "INSERT INTO customer (customer_id, partner_id, name, name_key, created_at) "
            f"SELECT n.customer_uid, n.partner_id, n.customer, n.customer_key, %(at)s "
            f"FROM ({_NEW_CUSTOMERS}) n",
            at,
        )
        self.summary.customers_created = made.rowcount
        conn.exec_driver_sql(_ORIGINALS, at)
        conn.exec_driver_sql(_SUCCESSORS, at)
        self._events(watermark, customers_before)
        count_days_since(conn, events_before)
        pauses.resume()
        conn.exec_driver_sql("ANALYZE license, customer, event")

    def _largest(self, column: str, table: str) -> int:
        return int(self.conn.exec_driver_sql(f"SELECT max({column}) FROM {table}").scalar() or 0)

    def _events(self, watermark: int, customers_before: int) -> None:
        conn = self.conn
        conn.exec_driver_sql(_STEP)
        conn.exec_driver_sql(_CHAIN)
        at = at_text(self.now)
        for action, (lid, cid, pid, details, source, where, order) in _EVENTS.items():
            after = customers_before if action == "customer.add" else watermark
            shared = f"|{len(at)}:{at}|{len(self.actor)}:{self.actor}|{len(action)}:{action}|"
            conn.exec_driver_sql(
                _event_sql(lid, cid, pid, details, source, where, order),
                {
                    "after": after,
                    "at": self.now,
                    "actor": self.actor,
                    "action": action,
                    "head": chain_head(conn),
                    "shared": shared,
                },
            )
        for drop in _DROP_CHAIN:
            conn.exec_driver_sql(drop)


class _PgPauses:
    """Every index but the primary key of a table the import more than doubles, dropped
    inside its transaction and made again from its own definition before it commits:
    plain and unique indexes by `DROP INDEX` / `pg_get_indexdef`, unique constraints by
    `ALTER TABLE … DROP CONSTRAINT` / `ADD CONSTRAINT … pg_get_constraintdef`, so the
    schema afterwards is as before, names included. A unique index made again checks its
    rows as it is built, so a duplicate would still fail the import (the import's own
    checks leave none: no repeated key, no key the store had, fresh random IDs).
    Foreign keys stay: dropping one locks the table it refers to (partner, customer)
    against every reader. See the module's text for the lock this takes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dropped: list[str] = []

    def indexes(self, table: str, before: int, adding: int) -> None:
        if adding <= before:
            return
        found = self.conn.exec_driver_sql(
            "SELECT quote_ident(i.relname), pg_get_indexdef(x.indexrelid), "
            "quote_ident(c.conname), pg_get_constraintdef(c.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype = 'u' "
            "AND c.conrelid = x.indrelid "
            "WHERE x.indrelid = %(table)s::regclass AND NOT x.indisprimary AND x.indisvalid "
            "AND x.indisready ORDER BY i.relname",
            {"table": table},
        ).all()
        if not found:
            return
        quoted = self.conn.exec_driver_sql(
            "SELECT %(table)s::regclass::text", {"table": table}
        ).scalar()
        constraints = [(str(c), str(d)) for _, _, c, d in found if c is not None]
        indexes = [(str(i), str(d)) for i, d, c, _ in found if c is None]
        if constraints:
            self.conn.exec_driver_sql(
                f"ALTER TABLE {quoted} "
                + ", ".join(f"DROP CONSTRAINT {name}" for name, _ in constraints)
            )
            self.dropped.extend(
                f"ALTER TABLE {quoted} ADD CONSTRAINT {name} {ddl}" for name, ddl in constraints
            )
        if indexes:
            self.conn.exec_driver_sql(f"DROP INDEX {', '.join(name for name, _ in indexes)}")
            self.dropped.extend(ddl for _, ddl in indexes)

    def resume(self) -> None:
        for ddl in self.dropped:
            self.conn.exec_driver_sql(ddl)
        self.dropped = []


def _show(value: object) -> str:
    return "none" if value is None else str(value)
