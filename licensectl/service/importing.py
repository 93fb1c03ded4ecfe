"""Bulk purchase-order import.

The import (README, "Import files") is one write transaction that
streams the file through in batches: each batch is checked against the store in one
query and written straight away with one executemany per table, so memory stays flat
however long the file is. Writing as it goes is what makes the checks cheap: a key
repeated later in the file finds the earlier row's license already in the store. Any bad
row, or a dry run, rolls the whole transaction back, so the store is exactly as before,
and a killed import is simply a transaction that never committed.

The events are the ones `customer add`, `license add` and `transfer` write. Those of the
licenses are written at the end, a chunk of licenses at a time, each event's hash chained
to the one before it (store/audit.py): on SQLite by one `INSERT … SELECT` per chunk that
calls the hash as a registered function. The import also sets aside, inside its
transaction, what costs more row by row than built once at the end (`_SqlitePauses`).

That is the SQLite path. On PostgreSQL the import is `service/importing_pg.py`: the file
is copied into a staging table by `COPY` and checked and written by set-based SQL.
"""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    func,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from licensectl import domain
from licensectl.contract.models import ImportSummary, RowError
from licensectl.contract.requests import ImportOptions
from licensectl.domain import LicenseState, LicenseStatus, LicenseType, Role, utcnow
from licensectl.importer import ImportRow, iter_rows
from licensectl.models import Customer, License, Partner
from licensectl.service.base import BaseBackend, _DryRun
from licensectl.service.lookup import IN_CHUNK, Lookups
from licensectl.store.audit import (
    add_day_counts,
    at_text,
    chain_function,
    chain_head,
)

#: Rows checked and written together: big enough that per-statement costs vanish, small
#: enough that a batch's rows and look-ups stay a few megabytes.
IMPORT_BATCH: Final = 5000
#: SQLite's page cache during an import (the default is 2 MiB): the License ID indexes
#: take inserts at random places, and re-reading their pages made imports 10 % slower.
IMPORT_CACHE_KIB: Final = 16 * 1024
#: Once the store holds this many licenses (its own and the import's so far), their
#: License ID index (some 60 bytes a license) outgrows `IMPORT_CACHE_KIB`, and the
#: import's cache grows to `IMPORT_BIG_CACHE_KIB`: with 16 MiB, the licenses' insert of
#: a 1M-row file cost half as much CPU again, the customers' 70 % more. Both are fixed
#: sizes, so memory stays flat in the file's length.
IMPORT_BIG_CACHE_FROM: Final = 200_000
IMPORT_BIG_CACHE_KIB: Final = 64 * 1024
#: Partners and customers are remembered between batches up to this many each.
NAME_CACHE: Final = 20_000

LICENSES: Final[Table] = License.__table__  # type: ignore[attr-defined]
CUSTOMERS: Final[Table] = Customer.__table__  # type: ignore[attr-defined]
PARTNERS: Final[Table] = Partner.__table__  # type: ignore[attr-defined]

#: The license columns an import writes, in the order of the executemany tuples.
_LICENSE_COLUMNS: Final = (
    "license_id",
    "partner_id",
    "customer_pk",
    "type",
    "devices",
    "quantity",
    "term_months",
    "purchase_order",
    "po_key",
    "po_line",
    "status",
    "active_copies",
    "parent_id",
    "created_at",
)
_COMPARED: Final = ("type", "devices", "quantity", "term_months")
_TYPE_VALUES: Final = {t: t.value for t in LicenseType}

# Scratch tables of one import, private to its connection and gone with its transaction.
_scratch = MetaData()


def _scratch_table(name: str, *columns: Column[Any]) -> Table:
    # No `postgresql_on_commit="DROP"`: the import drops these itself, a rolled-back
    # CREATE TEMPORARY TABLE leaves nothing on PostgreSQL, and naming a dialect option
    # here would load SQLAlchemy's PostgreSQL dialect on every store command.
    return Table(name, _scratch, *columns, prefixes=["TEMPORARY"])


#: Every valid row's key, written batch by batch; a batch's rows are joined against the
#: store in one query, and the first of two repeated rows is looked up here.
_ROWS = _scratch_table(
    "licensectl_import_rows",
    Column("file_row", Integer, primary_key=True, autoincrement=False),
    Column("partner_id", Integer, nullable=False),
    Column("po_key", String(100), nullable=False),
    Column("po_line", Integer, nullable=False),
)
#: Licenses that existed before the import and a row matched: a second row with the same
#: key is a repeat even though the store did not change.
_SEEN = _scratch_table(
    "licensectl_import_seen",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("file_row", Integer, nullable=False),
)


class ImportOps(Lookups):
    """`import`: purchased licenses from purchase-order files, all rows or none."""

    def import_licenses(self, lines: Iterable[str], options: ImportOptions) -> ImportSummary:
        """Import purchased licenses from CSV or JSONL text: every row or none.

        Returns the summary; with any row errors (or a dry run) nothing is written. A row
        with errors counts toward nothing, and then neither does any other: the counts of
        a failed import are 0.
        """
        self._allow(Role.ADMIN, action="import purchase orders")
        rows = iter_rows(lines, options.format, check_duplicates=False)
        try:
            with _no_gc_pauses(), self._write() as s:
                conn = s.connection()
                if conn.dialect.name == "postgresql":
                    # Imported only here: a store command on SQLite never needs it.
                    from licensectl.service.importing_pg import PgImport

                    summary = PgImport(conn, self.principal.actor, dry_run=options.dry_run).run(
                        rows
                    )
                else:
                    with _page_cache(conn, IMPORT_CACHE_KIB):
                        summary = _Import(self, conn, dry_run=options.dry_run).run(rows)
                if options.dry_run or summary.errors:
                    raise _DryRun(summary)
                return summary
        except _DryRun as rolled_back:
            summary = rolled_back.result
            assert isinstance(summary, ImportSummary)
            if summary.errors:
                summary.created = summary.unchanged = summary.customers_created = 0
            return summary


# --- the import -------------------------------------------------------------------


@dataclass(slots=True)
class _Existing:
    """A license a row's key named: its values, and what the import knows about it."""

    seq: int
    license_id: str
    type: LicenseType
    devices: int
    quantity: int
    term_months: int | None
    #: The row of an earlier batch that matched it already, if any.
    seen_at: int | None
    #: The customers (name keys) its direct successors went to.
    holders: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _PartnerRef:
    id: int
    name: str


class _New(NamedTuple):
    row: ImportRow
    partner: _PartnerRef
    po_key: str


class _Import:
    """One run of an import over one connection inside the caller's write transaction."""

    def __init__(self, backend: BaseBackend, conn: Connection, *, dry_run: bool) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.summary = ImportSummary(dry_run=dry_run)
        self.now = utcnow()
        self.actor = backend.principal.actor
        self.partners: dict[str, _PartnerRef | None] = {}
        self.customers: dict[tuple[int, str], int] = {}
        #: Rows repeating a key whose first row made a new license: (row, that License
        #: ID), turned into errors naming the first row at the end.
        self.repeats_of_new: list[tuple[int, str]] = []
        self.columns: dict[str, Sequence[str]] = {
            LICENSES.name: _LICENSE_COLUMNS,
            _ROWS.name: ("file_row", "partner_id", "po_key", "po_line"),
            _SEEN.name: ("seq", "file_row"),
            CUSTOMERS.name: ("id", "customer_id", "partner_id", "name", "name_key", "created_at"),
        }
        self.insert = {
            table.name: self._insert_sql(table, self.columns[table.name])
            for table in (LICENSES, _ROWS, _SEEN, CUSTOMERS)
        }
        #: Licenses written so far (originals and successors), and successors alone.
        self.written = 0
        self.successors = 0
        #: SQLite: the events written at the end, counted as they are planned for
        #: `event_day`: (action, partner id) → how many.
        self.day_counts: Counter[tuple[str, int]] = Counter()
        #: The quantities whose transfer passed the rules (the rest of a just imported
        #: license's state is always the same).
        self.transfers_checked: set[int] = set()
        #: Whether the page cache has grown to `IMPORT_BIG_CACHE_KIB` (SQLite).
        self.big_cache = False
        bind = LICENSES.c.created_at.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        self.created_at = bind(self.now) if bind else self.now

    def run(self, rows: Iterable[ImportRow | list[RowError]]) -> ImportSummary:
        # SQLite's BEGIN IMMEDIATE has already taken the whole store's write lock, so the
        # licenses above `watermark` are this import's own.
        self.watermark = self._max_seq()
        for table in (_ROWS, _SEEN):
            table.drop(self.conn, checkfirst=True)
            table.create(self.conn)
        self.pauses = _SqlitePauses(self.conn)
        #: The customers above this one are the import's own (the write lock).
        self.customer_mark = self._max_customer()
        batch: list[_New] = []
        last_po, last_po_key = "", ""
        for item in rows:
            if isinstance(item, list):
                self.summary.errors.extend(item)
                continue
            partner = self._partner(item.partner)
            if partner is None:
                self.summary.errors.append(unknown_partner(item))
                continue
            if item.purchase_order != last_po:  # a PO's lines mostly follow each other
                last_po, last_po_key = item.purchase_order, domain.po_key(item.purchase_order)
            batch.append(_New(item, partner, last_po_key))
            if len(batch) >= IMPORT_BATCH:
                self._batch(batch)
                batch = []
        self._batch(batch)
        self._name_first_rows()
        if not (self.summary.errors or self.summary.dry_run):
            # All at once at the end: cheaper than batch by batch, and skipped when
            # everything is about to be rolled back.
            self._license_events(self.watermark)
            self.pauses.resume()
        # Otherwise the caller rolls everything back, paused objects included.
        for table in (_ROWS, _SEEN):
            table.drop(self.conn)
        self.summary.errors.sort(key=lambda e: e.row)  # stable: a row's own order stays
        return self.summary

    # --- one batch ------------------------------------------------------------------

    def _batch(self, batch: list[_New]) -> None:
        if not batch:
            return
        found = self._existing(batch)
        first_in_batch: dict[tuple[int, str, int], int] = {}
        new: list[_New] = []
        matched: list[tuple[_New, _Existing, int | None]] = []
        for n in batch:
            row = n.row.row
            first = first_in_batch.setdefault((n.partner.id, n.po_key, n.row.po_line), row)
            repeats = first if first != row else None
            existing = found.get(row)
            if existing is not None and existing.seq <= self.watermark:
                matched.append((n, existing, repeats))
            elif repeats is not None:
                self._repeat(row, repeats)
            elif existing is None:
                new.append(n)
            else:  # a license this import made, from a row of an earlier batch
                self.repeats_of_new.append((row, existing.license_id))
        if matched:
            self._compare(matched)
        if new:
            self._write(new)

    def _existing(self, batch: list[_New]) -> dict[int, _Existing]:
        """The original license (not a successor) each row's key names, by row."""
        self._bulk(_ROWS, [(n.row.row, n.partner.id, n.po_key, n.row.po_line) for n in batch])
        lic, seen = LICENSES, _SEEN
        stmt = (
            select(
                _ROWS.c.file_row,
                lic.c.seq,
                lic.c.license_id,
                *(lic.c[name] for name in _COMPARED),
                seen.c.file_row.label("seen_at"),
            )
            .select_from(_ROWS)
            .join(lic, _same_key(lic))
            .outerjoin(seen, seen.c.seq == lic.c.seq)
            .where(_ROWS.c.file_row >= batch[0].row.row)
        )
        found = {
            r.file_row: _Existing(
                r.seq, r.license_id, r.type, r.devices, r.quantity, r.term_months, r.seen_at
            )
            for r in self.conn.execute(stmt)
        }
        return found

    def _compare(self, matched: list[tuple[_New, _Existing, int | None]]) -> None:
        """Rows whose key the store already had: unchanged, or each difference an error.

        `repeats` is the earlier row of this batch with the same key, if any; rows of
        earlier batches were recorded in the `_SEEN` scratch table.
        """
        first_seen = [
            (f.seq, n.row.row) for n, f, repeats in matched if repeats is None and f.seen_at is None
        ]
        if first_seen:
            self._bulk(_SEEN, first_seen)
        if any(n.row.customer is not None for n, _, _ in matched):
            self._holders({f.seq: f for _, f, _ in matched}, matched[0][0].row.row)
        for n, f, repeats in matched:
            row = n.row
            errors = len(self.summary.errors)
            first = f.seen_at if f.seen_at is not None else repeats
            if first is not None:
                self._repeat(row.row, first)
            for name in _COMPARED:
                if getattr(f, name) != getattr(row, name):
                    self._conflict(
                        n,
                        f,
                        name,
                        f"with {name} {_show(getattr(f, name))}; "
                        f"this row says {_show(getattr(row, name))}",
                    )
            if row.customer is not None and domain.name_key(row.customer) not in f.holders:
                self._conflict(n, f, "customer", f"and was never transferred to {row.customer!r}")
            if len(self.summary.errors) == errors:
                self.summary.unchanged += 1

    def _holders(self, matched: dict[int, _Existing], first_row: int) -> None:
        """Fill in the customers the matched licenses' direct successors went to."""
        lic, moved = LICENSES, LICENSES.alias("successor")
        holders = (
            select(lic.c.seq, CUSTOMERS.c.name_key)
            .select_from(_ROWS)
            .join(lic, _same_key(lic))
            .join(moved, moved.c.parent_id == lic.c.license_id)
            .join(CUSTOMERS, CUSTOMERS.c.id == moved.c.customer_pk)
            .where(_ROWS.c.file_row >= first_row)
        )
        for seq, name_key in self.conn.execute(holders):
            if seq in matched:
                matched[seq].holders.add(name_key)

    def _conflict(self, n: _New, found: _Existing, field: str, difference: str) -> None:
        self.summary.errors.append(
            RowError(
                n.row.row,
                field,
                f"purchase order {n.row.purchase_order!r} line {n.row.po_line} of partner "
                f"{n.partner.name!r} already exists (License ID {found.license_id}) {difference}",
            )
        )

    def _write(self, new: list[_New]) -> None:
        """Insert the batch's new licenses, their customers and successors."""
        customer_pks = self._customers([n for n in new if n.row.customer is not None])
        ids = domain.new_ids(len(new) + len(customer_pks))
        successor_ids = iter(ids[len(new) :])
        originals: list[tuple[Any, ...]] = []
        successors: list[tuple[Any, ...]] = []
        available, transferred = LicenseStatus.AVAILABLE.value, LicenseStatus.TRANSFERRED.value
        created_at = self.created_at
        type_value = _TYPE_VALUES  # `LicenseType.value` is a descriptor call each time
        for (row, partner, po_key), license_id in zip(new, ids, strict=False):
            customer_pk = customer_pks.get(row.row)
            if customer_pk is not None:
                if row.quantity not in self.transfers_checked:  # all else is the same
                    _check_transfer(license_id, partner.id, customer_pk, row.quantity)
                    self.transfers_checked.add(row.quantity)
                successors.append(
                    (
                        next(successor_ids),
                        partner.id,
                        customer_pk,
                        type_value[row.type],
                        row.devices,
                    )
                    + (row.quantity, row.term_months, row.purchase_order, po_key, row.po_line)
                    + (available, 0, license_id, created_at)
                )
            originals.append(
                (
                    license_id,
                    partner.id,
                    None,
                    type_value[row.type],
                    row.devices,
                    row.quantity,
                    row.term_months,
                    row.purchase_order,
                    po_key,
                    row.po_line,
                    available if customer_pk is None else transferred,
                    0,
                    None,
                    created_at,
                )
            )
        self.pauses.indexes(
            LICENSES.name, self.watermark, self.written + len(originals) + len(successors)
        )
        self._bulk(LICENSES, originals)
        if successors:
            self._bulk(LICENSES, successors)
        self.day_counts.update(("license.add", n.partner.id) for n in new)
        for action in ("license.transfer", "license.mint"):
            self.day_counts.update((action, s[1]) for s in successors)
        self.summary.created += len(new)
        self.successors += len(successors)
        self.written += len(originals) + len(successors)
        if not self.big_cache and self.watermark + self.written >= IMPORT_BIG_CACHE_FROM:
            # Restored with the rest by `_page_cache` when the import ends.
            self.conn.exec_driver_sql(f"PRAGMA cache_size = -{int(IMPORT_BIG_CACHE_KIB)}")
            self.big_cache = True

    def _customers(self, rows: list[_New]) -> dict[int, int]:
        """The customer (primary key) of each row naming one, created where missing."""
        wanted: dict[tuple[int, str], tuple[_PartnerRef, str]] = {}
        keys: list[tuple[int, str]] = []
        known = self.customers
        name_key = domain.name_key
        for n in rows:
            assert n.row.customer is not None
            key = (n.partner.id, name_key(n.row.customer))
            keys.append(key)
            if key not in known and key not in wanted:
                wanted[key] = (n.partner, n.row.customer)
        if wanted:
            self._find_customers(wanted)
            missing = {k: v for k, v in wanted.items() if k not in known}
            if missing:
                self._create_customers(missing)
        pks = {n.row.row: known[key] for n, key in zip(rows, keys, strict=True)}
        if len(known) > NAME_CACHE:
            known.clear()
        return pks

    def _find_customers(self, wanted: dict[tuple[int, str], tuple[_PartnerRef, str]]) -> None:
        # The partner is in the query, so that the (partner_id, name_key) unique index
        # serves it: by name_key alone both engines scanned every customer.
        stmt = select(CUSTOMERS.c.id, CUSTOMERS.c.name_key).where(
            CUSTOMERS.c.partner_id == bindparam("partner"),
            CUSTOMERS.c.name_key.in_(bindparam("keys", expanding=True)),
        )
        by_partner: dict[int, set[str]] = {}
        for partner_id, name_key in wanted:
            by_partner.setdefault(partner_id, set()).add(name_key)
        for partner_id, keys in sorted(by_partner.items()):
            for chunk in _chunks(sorted(keys)):
                for r in self.conn.execute(stmt, {"partner": partner_id, "keys": chunk}):
                    self.customers[(partner_id, r.name_key)] = r.id

    def _create_customers(self, missing: dict[tuple[int, str], tuple[_PartnerRef, str]]) -> None:
        """As `customer add` would: a new Customer ID each, and a `customer.add` event."""
        created = [
            (customer_id, key, partner, name)
            for customer_id, (key, (partner, name)) in zip(
                domain.new_ids(len(missing)), missing.items(), strict=True
            )
        ]
        pks = self._new_customer_pks(len(created))
        self._bulk(
            CUSTOMERS,
            [
                (pk, customer_id, partner.id, name, key[1], self.created_at)
                for pk, (customer_id, key, partner, name) in zip(pks, created, strict=True)
            ],
        )
        # Their events are written at the end with the licenses', in the same order
        # (`_license_events_sqlite`).
        self.day_counts.update(("customer.add", partner.id) for _, _, partner, _ in created)
        for pk, (_, key, _, _) in zip(pks, created, strict=True):
            self.customers[key] = pk
        self.summary.customers_created += len(created)

    def _new_customer_pks(self, count: int) -> list[int]:
        """Primary keys for `count` new customers, so that nothing needs reading back:
        the ones SQLite would give them itself (the largest plus one, and so on; nobody
        else writes while the import holds the write lock)."""
        last = int(self.conn.exec_driver_sql("SELECT max(id) FROM customer").scalar() or 0)
        return list(range(last + 1, last + 1 + count))

    def _license_events(self, start: int) -> None:
        before = self.conn.exec_driver_sql("SELECT max(id) FROM event").scalar()
        adding = self.summary.created + 2 * self.successors + self.summary.customers_created
        self.pauses.indexes("event", int(before or 0), adding)
        self._license_events_sqlite(start)

    def _license_events_sqlite(self, start: int) -> None:
        """The events of the import's customers and licenses (`customer.add`,
        `license.add`, and `license.transfer` + `license.mint` for every successor, with
        the details the commands record), built by SQLite itself: one
        `INSERT … SELECT` per chunk of customers or licenses, the details made by
        `json_object` and each hash by `audit.chain_function` registered as a function,
        called row after row in key order. Serialising and binding every event in Python
        cost the import half its time. The `customer.add` events come first, in the order
        the customers were made, as if each batch had written its own. The chain holds
        only if SQLite calls the function in the order it inserts the rows; each chunk's
        stored hashes are read back in id order and compared with the ones computed, so
        an import can never leave a broken chain (it fails instead). The day counts
        (`event_day`) were counted as the rows were planned (`day_counts`).
        """
        raw = self.conn.connection.dbapi_connection
        assert raw is not None
        made: list[str] = []
        head = [chain_head(self.conn)]
        at = at_text(self.now)
        # The partner's name by a (left) join, as the sub-select it replaces: a correlated
        # sub-select per row cost a fifth more.
        customers = (
            "json_object('name', c.name, 'partner', p.name, 'emails', json_array(), "
            "'via', 'import')"
        )
        originals = (
            "json_object('partner', p.name, 'purchase_order', l.purchase_order, "
            "'po_line', l.po_line, 'type', l.type, "
            "'devices', l.devices, 'quantity', l.quantity, 'term_months', l.term_months, "
            "'via', 'import')"
        )
        transfers = (
            "json_object('source', json_object('customer_id', NULL, 'inventory', 'partner'), "
            "'to_customer_id', c.customer_id, 'to_customer', c.name, 'quantity', l.quantity, "
            "'transferred', l.license_id, 'remainder', NULL, 'via', 'import')"
        )
        mints = (
            "json_object('parent_id', l.parent_id, 'reason', 'transfer', "
            "'quantity', l.quantity, 'to_customer', c.name)"
        )
        top = self._max_seq()
        customers_top = self._max_customer() if self.summary.customers_created else 0
        # (action, License ID, Customer ID, partner id, details, rows, which, key, after, top)
        plans = (
            ("customer.add", "NULL", "c.customer_id", "c.partner_id", customers,
             "customer c LEFT JOIN partner p ON p.id = c.partner_id", "1", "c.id",
             self.customer_mark, customers_top),
            ("license.add", "l.license_id", "NULL", "l.partner_id", originals,
             "license l LEFT JOIN partner p ON p.id = l.partner_id", "l.parent_id IS NULL", "l.seq",
             start, top),
            ("license.transfer", "l.parent_id", "c.customer_id", "l.partner_id", transfers,
             "license l JOIN customer c ON c.id = l.customer_pk", "l.parent_id IS NOT NULL",
             "l.seq", start, top if self.successors else start),
            ("license.mint", "l.license_id", "c.customer_id", "l.partner_id", mints,
             "license l JOIN customer c ON c.id = l.customer_pk", "l.parent_id IS NOT NULL",
             "l.seq", start, top if self.successors else start),
        )  # fmt: skip
        try:
            for action, license_id, customer_id, partner_id, details, rows, which, key, low, \
                    high_end in plans:  # fmt: skip
                raw.create_function(
                    "licensectl_chain", 4, chain_function(at, self.actor, action, head, made)
                )
                # The events come from a subquery that SQLite runs as a co-routine (its
                # OFFSET keeps it from being merged into the INSERT), so each one's details
                # are built once and passed as they are stored to the hash.
                sql = (
                    "INSERT INTO event (at, actor, action, license_id, customer_id, "
                    f"partner_id, details, hash) SELECT ?, ?, '{action}', e.lid, e.cid, e.pid, "
                    "e.details, licensectl_chain(e.lid, e.cid, e.pid, e.details) FROM "
                    f"(SELECT {license_id} AS lid, {customer_id} AS cid, {partner_id} AS pid, "
                    f"{details} AS details FROM {rows} "
                    f"WHERE {key} > ? AND {key} <= ? AND {which} "
                    f"ORDER BY {key} LIMIT -1 OFFSET 0) AS e"
                )
                while low < high_end:
                    high = min(low + IMPORT_BATCH * 4, high_end)
                    last = self.conn.exec_driver_sql("SELECT max(id) FROM event").scalar() or 0
                    made.clear()
                    self.conn.exec_driver_sql(sql, (at, self.actor, low, high))
                    # The stored hashes in id order, as one text: SQLite joins them.
                    stored = self.conn.exec_driver_sql(
                        "SELECT group_concat(hash, '') FROM "
                        "(SELECT hash FROM event WHERE id > ? ORDER BY id)",
                        (last,),
                    ).scalar()
                    if (stored or "") != "".join(made):
                        raise RuntimeError("the import's events were not chained in order")
                    low = high
            day = at[:10]
            add_day_counts(
                self.conn,
                {(day, self.actor, action, pid): n for (action, pid), n in self.day_counts.items()},
            )
        finally:
            raw.create_function("licensectl_chain", 4, None)

    def _partner(self, name: str) -> _PartnerRef | None:
        if name in self.partners:
            return self.partners[name]
        found = self.conn.execute(
            select(PARTNERS.c.id, PARTNERS.c.name).where(
                PARTNERS.c.name_key == domain.name_key(name)
            )
        ).first()
        ref = _PartnerRef(found.id, found.name) if found is not None else None
        if len(self.partners) < NAME_CACHE:
            self.partners[name] = ref
        return ref

    def _repeat(self, row: int, first: int) -> None:
        self.summary.errors.append(
            RowError(
                row,
                "purchase_order",
                f"partner, purchase order and PO line repeat row {first}; "
                "each PO line may appear only once in a file",
            )
        )

    def _name_first_rows(self) -> None:
        """Turn each repeat of a key this import created into an error naming its row."""
        if not self.repeats_of_new:
            return
        # Only now worth an index: the first row of each repeated key, in one join.
        self.conn.exec_driver_sql(
            f"CREATE INDEX {_ROWS.name}_key ON {_ROWS.name} (partner_id, po_key, po_line)"
        )
        ids = sorted({license_id for _, license_id in self.repeats_of_new})
        stmt = (
            select(LICENSES.c.license_id, func.min(_ROWS.c.file_row))
            .select_from(LICENSES)
            .join(_ROWS, _same_key(LICENSES))
            .where(LICENSES.c.license_id.in_(bindparam("ids", expanding=True)))
            .group_by(LICENSES.c.license_id)
        )
        first_row: dict[str, int] = {}
        for chunk in _chunks(ids):
            for license_id, row in self.conn.execute(stmt, {"ids": chunk}):
                first_row[license_id] = row
        for row, license_id in self.repeats_of_new:
            self._repeat(row, first_row[license_id])

    def _max_seq(self) -> int:
        return int(self.conn.execute(select(func.max(LICENSES.c.seq))).scalar() or 0)

    def _max_customer(self) -> int:
        return int(self.conn.exec_driver_sql("SELECT max(id) FROM customer").scalar() or 0)

    def _bulk(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows (tuples in the order of `self.columns[table.name]`): one
        executemany of the driver's."""
        if rows:
            self.conn.exec_driver_sql(self.insert[table.name], rows)

    def _insert_sql(self, table: Table, columns: Sequence[str]) -> str:
        """INSERT for the driver's own executemany: Core's per-row parameter handling
        costs a third more than the insert itself. Values go in already as the column
        types would bind them (the one non-trivial one, `created_at`, is made once)."""
        quote = self.dialect.identifier_preparer.quote
        marker = "?" if self.dialect.paramstyle == "qmark" else "%s"
        return (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(marker for _ in columns)})"
        )


@contextlib.contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold off the cyclic garbage collector: an import allocates millions of small
    objects that die young and acyclic, and the collections they set off cost 7 % of
    its time for nothing. Reference counting still frees them as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _page_cache(conn: Connection, kib: int) -> Iterator[None]:
    """A bigger SQLite page cache for this connection while the block runs."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    restore = f"PRAGMA cache_size = {int(before or -2000)}"
    try:
        yield
    except BaseException:
        # The block failed, perhaps interrupted (Ctrl-C) inside the driver: the
        # connection may refuse any statement until rolled back, and a failure here
        # must not replace the one that is on its way up. At worst the connection
        # keeps the bigger cache until it is closed.
        with contextlib.suppress(Exception):
            conn.exec_driver_sql(restore)
        raise
    conn.exec_driver_sql(restore)


class _SqlitePauses:
    """SQLite: schema objects that cost an import more row by row than made afresh, dropped
    inside the import's transaction and made again from their own text before it commits.

    - The trigram index's per-row trigger (store/search_index.py): the customers an import
      creates enter the index in one statement at the end, ten times cheaper.
    - The event table's REPLACE guard (store/audit.py), a look-up per inserted event: the
      import's own events always take new ids, and no other connection can write while
      the import holds the store's write lock.
    - Secondary (non-unique) indexes of `license` and `event` that the import's own
      queries never use, once the import has written more rows into the table than it
      held before: then building them in one pass at the end is cheaper than inserting
      every row into them at random places (the events' License and Customer IDs are
      random). An import into a store much larger than itself keeps them.

    Nothing of this is visible to any other connection: SQLite's schema changes are part
    of the transaction, so readers go on seeing the committed schema, indexes and guards
    included, and a rolled-back import (errors, a dry run, a kill) restores every object
    with everything else. The schema's text afterwards is as before.
    """

    SEARCH_TRIGGER: Final = "customer_fts_insert"
    GUARD: Final = "event_no_replace"
    #: Indexes the import's own queries use, never paused (the natural key's unique
    #: index is unique, so it never is anyway).
    KEEP: Final = frozenset({"ix_license_parent"})

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: DDL of every dropped object, in the order dropped.
        self.dropped: list[str] = []
        self.paused_tables: set[str] = set()
        self.customers_before: int | None = None
        if self._drop("trigger", self.SEARCH_TRIGGER):
            last = conn.exec_driver_sql("SELECT max(id) FROM customer").scalar()
            self.customers_before = int(last or 0)
        self._drop("trigger", self.GUARD)

    def _drop(self, kind: str, name: str) -> bool:
        ddl: str | None = self.conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = ? AND name = ?", (kind, name)
        ).scalar()
        if ddl is None:
            return False
        self.conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
        self.dropped.append(ddl)
        return True

    def indexes(self, table: str, before: int, adding: int) -> None:
        """Pause `table`'s secondary indexes once the import adds more rows than the
        table held before it (`before`, as its largest key: an upper bound of its rows)."""
        if table in self.paused_tables or adding <= before:
            return
        self.paused_tables.add(table)
        found = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table,),
        ).all()
        for name, sql in found:
            if name not in self.KEEP and not str(sql).upper().startswith("CREATE UNIQUE"):
                self._drop("index", str(name))

    def resume(self) -> None:
        if self.customers_before is not None:
            self.conn.exec_driver_sql(
                "INSERT INTO customer_fts (rowid, name_key) "
                f"SELECT id, name_key FROM customer WHERE id > {self.customers_before}"
            )
            self.customers_before = None
        for ddl in self.dropped:
            self.conn.exec_driver_sql(ddl)
        self.dropped = []


def unknown_partner(item: ImportRow) -> RowError:
    """The error of a row naming a partner the store does not have (both importers)."""
    return RowError(
        item.row,
        "partner",
        f"no partner named {item.partner!r}: add it first with 'licensectl partner add', "
        "or correct the name",
    )


def _check_transfer(license_id: str, partner_id: int, customer_pk: int, quantity: int) -> None:
    """The transfer rules, for the record: a license just imported always passes them."""
    domain.plan_transfer(
        LicenseState(
            license_id=license_id,
            partner_id=partner_id,
            customer_pk=None,
            status=LicenseStatus.AVAILABLE,
            quantity=quantity,
            active_copies=0,
        ),
        target_partner_id=partner_id,
        target_customer_pk=customer_pk,
        quantity=None,
    )


def _same_key(lic: Table) -> ColumnElement[bool]:
    """The scratch batch row's natural key, on an original license (the unique index)."""
    return and_(
        lic.c.partner_id == _ROWS.c.partner_id,
        lic.c.po_key == _ROWS.c.po_key,
        lic.c.po_line == _ROWS.c.po_line,
        lic.c.parent_id.is_(None),
        lic.c.status != LicenseStatus.VOID.value,
    )


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, LicenseType):
        return value.value
    return str(value)


_T = TypeVar("_T")


def _chunks(items: Sequence[_T]) -> Iterator[list[_T]]:
    for start in range(0, len(items), IN_CHUNK):
        yield list(items[start : start + IN_CHUNK])
