"""The indexes that keep search fast on a large store (revision 0004), and how to use them.

Customer search is a case-insensitive substring match on `customer.name_key` (already
NFKC case folded). A B-tree cannot serve `LIKE '%x%'`, so:
- SQLite: an external-content FTS5 table with the trigram tokenizer (`customer_fts`),
  kept in step with `customer` by triggers. A phrase query finds candidates for needles
  of three characters or more; the exact `LIKE` then checks them.
- PostgreSQL: `pg_trgm` and a GIN index on `name_key || ''`, which serves
  `LIKE '%x%'` on that expression.
  Creating the extension needs a privilege the store's role may lack: then no index is
  made, search scans, and `db check` says so.
Either way, without the index the same query still answers correctly, only slower.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

SearchMode = Literal["fts5 trigram", "pg_trgm", "scan"]

#: What the PostgreSQL trigram index holds and substring search compares: `name_key`
#: itself, as an expression that only the search uses.
PG_SEARCHED = "(name_key || '')"

#: Needles shorter than a trigram cannot use a trigram index: they scan.
TRIGRAM = 3


def create_search_indexes(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        _sqlite(conn)
    elif conn.dialect.name == "postgresql":
        _postgresql(conn)
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_license_status_seq ON license (status, seq)"
    )


def _sqlite(conn: Connection) -> None:
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE IF NOT EXISTS customer_fts USING fts5(name_key, "
                "content='customer', content_rowid='id', tokenize='trigram')"
            )
    except DBAPIError:
        return  # a SQLite without FTS5 or its trigram tokenizer (before 3.34): scan
    conn.exec_driver_sql("INSERT INTO customer_fts (customer_fts) VALUES ('rebuild')")
    conn.exec_driver_sql(
        "CREATE TRIGGER IF NOT EXISTS customer_fts_insert AFTER INSERT ON customer BEGIN "
        "INSERT INTO customer_fts (rowid, name_key) VALUES (new.id, new.name_key); END"
    )
    conn.exec_driver_sql(
        "CREATE TRIGGER IF NOT EXISTS customer_fts_delete AFTER DELETE ON customer BEGIN "
        "INSERT INTO customer_fts (customer_fts, rowid, name_key) "
        "VALUES ('delete', old.id, old.name_key); END"
    )
    conn.exec_driver_sql(
        "CREATE TRIGGER IF NOT EXISTS customer_fts_update AFTER UPDATE OF name_key ON customer "
        "BEGIN "
        "INSERT INTO customer_fts (customer_fts, rowid, name_key) "
        "VALUES ('delete', old.id, old.name_key); "
        "INSERT INTO customer_fts (rowid, name_key) VALUES (new.id, new.name_key); END"
    )


def _postgresql(conn: Connection) -> None:
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError:
        pass  # no privilege, or no contrib package: search scans, `db check` says so
    else:
        # On an expression, not the column: a GIN trigram index on `name_key` itself
        # also serves `name_key = …`, and the planner took it for the import's look-ups
        # by name (every trigram of "… building" is in every name: seconds a query).
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_customer_name_key_trgm "
            f"ON customer USING gin (({PG_SEARCHED}) gin_trgm_ops)"
        )
    # Prefixes as a range in code-point order: right under any database collation.
    conn.exec_driver_sql(
        'CREATE INDEX IF NOT EXISTS ix_license_po_key_c ON license (po_key COLLATE "C", seq)'
    )


def search_mode(conn: Connection) -> SearchMode:
    """Which index serves customer substring search in this store."""
    if conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customer_fts'"
        ).first()
        return "fts5 trigram" if found else "scan"
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(
            "SELECT 1 FROM pg_indexes WHERE tablename = 'customer' "
            "AND indexname = 'ix_customer_name_key_trgm'"
        ).first()
        return "pg_trgm" if found else "scan"
    return "scan"


def fts_phrase(needle: str) -> str:
    """An FTS5 phrase matching `needle` as a substring (trigram tokenizer)."""
    return '"' + needle.replace('"', '""') + '"'


def like_contains(needle: str) -> str:
    """A `LIKE … ESCAPE '\\'` pattern for a substring."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
