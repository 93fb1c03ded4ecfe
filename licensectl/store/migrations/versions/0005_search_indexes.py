"""Indexes for a store of millions of licenses (store/search_index.py).

- customer substring search: FTS5 trigram on SQLite, pg_trgm + GIN on PostgreSQL (where
  the extension cannot be created, search falls back to a scan and `db check` says so);
- purchase-order prefixes in code-point order on PostgreSQL, whatever the collation;
- license status, so that a rare status is an index range, not a scan.
"""

from __future__ import annotations

from alembic import op

from licensectl.store.schema import SEARCH_INDEXES, record
from licensectl.store.search_index import create_search_indexes

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    create_search_indexes(conn)
    record(conn, revision, SEARCH_INDEXES)


def downgrade() -> None:
    raise NotImplementedError("licensectl stores are not downgraded: restore the backup")
