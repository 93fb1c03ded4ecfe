"""The store's schema: Alembic revisions (store/migrations/), applied by store/gate.py.

Revisions 0001-0004 call the functions of the numbered migrations they once were
(recorded in the `schema_migration` table). A store made before Alembic, at version N
there, is recognised and stamped at revision N, never recreated. Every revision still
records its number in `schema_migration`: that is what the gate's one cheap probe reads,
and an older licensectl that knows only that table refuses a newer store.

Alembic is imported only when a revision is pending, so start-up does not pay for it.
Upgrades run inside the gate's serialised write transaction (all revisions or none), and
a SQLite store with data is first copied beside itself, through the online backup API,
named after its old revision (`licensectl.db.0004.backup`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, func, inspect, make_url, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, col

from licensectl import models
from licensectl.errors import StoreUnavailableError
from licensectl.store.audit import add_hash_chain, count_days_since
from licensectl.store.engine import Store
from licensectl.store.nfkc_keys import rekey_nfkc
from licensectl.store.url import redact_url

Migration = tuple[int, str, Callable[[Connection], None]]


def _initial(conn: Connection) -> None:
    SQLModel.metadata.create_all(conn)
    _append_only_events(conn)


def _append_only_events(conn: Connection) -> None:
    """The audit log is append-only in the database itself, not just by convention."""
    if conn.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS event_no_{verb.lower()} BEFORE {verb} ON event "
                "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION licensectl_event_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'events are append-only'; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
            "FOR EACH ROW EXECUTE FUNCTION licensectl_event_append_only()"
        )


def _api_tables(conn: Connection) -> None:
    """API tokens, idempotency keys and failed logins (`licensectl serve`).

    `checkfirst`: on a new store migration 1 already made them from the current models.
    """
    for table in (models.ApiToken, models.IdempotencyRecord, models.LoginFailure):
        table.__table__.create(conn, checkfirst=True)  # type: ignore[union-attr]


def everyday(conn: Connection) -> None:
    """Customer notes; void licenses give up their PO line (docs/domain.md, Lifecycle);
    events indexed by time (`report activity`).

    Idempotent, as a new store made by migration 1 already has both.
    """
    columns = {c["name"] for c in inspect(conn).get_columns("customer")}
    if "note" not in columns:
        conn.exec_driver_sql("ALTER TABLE customer ADD COLUMN note VARCHAR(2000)")
    conn.exec_driver_sql("DROP INDEX IF EXISTS uq_license_po_line")
    conn.execute(models.PO_LINE_INDEX)
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_event_at ON event (at)")


def report_speed(conn: Connection) -> None:
    """`report inventory`'s covering index (models.INVENTORY_INDEX); `event_day`, the
    events a day that `report activity` adds up, counted once from the whole log.

    Idempotent: a new store made by migration 1 already has both (and no events)."""
    name, *columns = models.INVENTORY_INDEX
    conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON license ({', '.join(columns)})")
    models.EventDay.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]
    if conn.exec_driver_sql("SELECT count(*) FROM event_day").scalar() == 0:
        count_days_since(conn, 0)


def held_index(conn: Connection) -> None:
    """PostgreSQL: the partial index of the licenses customers hold, in seq order
    (models.HELD_INDEX; none on SQLite, whose planner does not take it).

    Idempotent: a new store made by migration 1 already has it."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql(models.HELD_INDEX_SQL)


#: The numbered migrations from before Alembic; each is now the revision "000N".
#: (Number 4 never shipped without Alembic, but stores of its branch may exist.)
MIGRATIONS: list[Migration] = [
    (1, "initial schema", _initial),
    (2, "name and PO keys compared after NFKC normalisation", rekey_nfkc),
    (3, "API tokens, idempotency keys, failed logins", _api_tables),
    (4, "audit log: hash chain, REPLACE and TRUNCATE guards", add_hash_chain),
]
#: Every revision, oldest first (tests check it against store/migrations/versions/).
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
HEAD = REVISIONS[-1]
#: The number each revision records in `schema_migration`.
LATEST = len(REVISIONS)
#: The names revisions after the numbered migrations record in `schema_migration`.
SEARCH_INDEXES = "indexes for search at scale"
EVERYDAY = "customer notes; void licenses free their PO line; events by time"
REPORT_SPEED = "reports: inventory covering index, events a day"
HELD_LICENSES = "licenses customers hold, in seq order"


def recorded_names() -> dict[int, str]:
    """Every (number, name) a revision records in `schema_migration` (db check)."""
    return {
        **{version: name for version, name, _ in MIGRATIONS},
        5: SEARCH_INDEXES,
        6: EVERYDAY,
        7: REPORT_SPEED,
        8: HELD_LICENSES,
    }


def legacy_revision(version: int) -> str:
    """The revision a store at numbered version `version` (schema_migration) is at."""
    return REVISIONS[version - 1]


def record(conn: Connection, revision: str, name: str) -> None:
    """Note an applied revision in `schema_migration` too (for older licensectl)."""
    conn.execute(
        models.SchemaMigration.__table__.insert().values(  # type: ignore[attr-defined]
            version=REVISIONS.index(revision) + 1, name=name
        )
    )


def current_version(conn: Connection) -> int:
    """The highest number in `schema_migration` (0: none)."""
    if not inspect(conn).has_table("schema_migration"):
        return 0
    version = conn.execute(select(func.max(col(models.SchemaMigration.version)))).scalar()
    return int(version or 0)


class _NoAlembicTable(Exception):
    pass


def _alembic_revision(conn: Connection) -> str | None:
    """`alembic_version`'s revision (None if empty); _NoAlembicTable if there is none."""
    try:
        value = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError as exc:
        if "alembic_version" not in str(exc.orig):
            raise
        raise _NoAlembicTable from None
    return None if value is None else str(value)


@dataclass(frozen=True)
class SchemaState:
    """Where a store's schema stands."""

    #: The store's revision; None for a store without a licensectl schema.
    revision: str | None
    #: Whether the database has tables at all (a store without a schema but with tables
    #: is not a licensectl store).
    has_tables: bool = True

    @property
    def latest(self) -> str:
        return HEAD

    @property
    def known(self) -> bool:
        return self.revision is None or self.revision in REVISIONS

    @property
    def pending(self) -> list[str]:
        """The revisions an upgrade would apply, oldest first."""
        if not self.known:
            return []
        start = 0 if self.revision is None else REVISIONS.index(self.revision) + 1
        return list(REVISIONS[start:])

    @property
    def is_licensectl(self) -> bool:
        return self.revision is not None or not self.has_tables


def schema_state(conn: Connection) -> SchemaState:
    """Read a store's schema state. Every revision records its number in
    `schema_migration` (what store/gate.py probes); the revision is Alembic's."""
    version = current_version(conn)
    if version > LATEST:
        return SchemaState(f"version {version}")  # a newer licensectl's: unknown
    if inspect(conn).has_table("alembic_version"):
        revision = _alembic_revision(conn)
        if revision is not None:
            return SchemaState(revision)
    if version:
        return SchemaState(legacy_revision(version))
    return SchemaState(None, has_tables=bool(inspect(conn).get_table_names()))


def store_schema(store: Store) -> SchemaState:
    with store.read() as session:
        return schema_state(session.connection())


def refuse_unknown(store: Store, state: SchemaState) -> None:
    if not state.known:
        raise StoreUnavailableError(
            f"the store {redact_url(store.url)} has schema revision {state.revision}, newer "
            f"than this licensectl knows ({HEAD}): upgrade licensectl"
        )


def ensure_schema(store: Store) -> SchemaState:
    """Create or upgrade `store` on purpose, as `db upgrade` does (store/gate.py)."""
    from licensectl.store.gate import Access, prepare

    prepare(store, Access.INITIALISE, remembered=False)
    return SchemaState(HEAD)


def upgrade(conn: Connection, have: int) -> None:
    """Inside the caller's write transaction: apply every pending revision to a store
    at numbered version `have` (0: a new one), stamping a store made before Alembic at
    its revision first, never recreating it."""
    if have >= LATEST:
        return
    stamp = None
    if have and not inspect(conn).has_table("alembic_version"):
        stamp = legacy_revision(have)
    _upgrade(conn, stamp=stamp)


def _upgrade(conn: Connection, *, stamp: str | None) -> None:
    """Alembic: stamp a pre-Alembic store at its revision, then upgrade to the head."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = conn
    if stamp is not None:
        command.stamp(config, stamp)
    command.upgrade(config, "head")


def backup_before_upgrade(store: Store, revision: str) -> Path | None:
    """Copy a SQLite store beside itself before upgrading it: `<store>.<revision>.backup`."""
    from licensectl.store.backup import backup_sqlite

    database = make_url(store.url).database
    if not database or database == ":memory:":
        return None
    base = Path(database)
    target = base.with_name(f"{base.name}.{revision}.backup")
    n = 2
    while target.exists() or target.is_symlink():
        target = base.with_name(f"{base.name}.{revision}.{n}.backup")
        n += 1
    backup_sqlite(store, str(target))
    return target
