"""The initial schema: every table of the models, and the append-only event log.

Was numbered migration 1; it calls the same function, so it does exactly what it did.
"""

from __future__ import annotations

from alembic import op

from licensectl.store.schema import MIGRATIONS, record

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _, name, apply = MIGRATIONS[1 - 1]
    conn = op.get_bind()
    apply(conn)
    record(conn, revision, name)


def downgrade() -> None:
    raise NotImplementedError("licensectl stores are not downgraded: restore the backup")
