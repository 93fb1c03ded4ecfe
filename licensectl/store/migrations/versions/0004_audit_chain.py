"""The audit log: a hash chain over the events, and guards against REPLACE and TRUNCATE.

Was numbered migration 4 (store/audit.py); it calls the same function, so it does
exactly what it did.
"""

from __future__ import annotations

from alembic import op

from licensectl.store.schema import MIGRATIONS, record

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _, name, apply = MIGRATIONS[4 - 1]
    conn = op.get_bind()
    apply(conn)
    record(conn, revision, name)


def downgrade() -> None:
    raise NotImplementedError("licensectl stores are not downgraded: restore the backup")
