"""Everyday corrections: customer notes; void licenses give up their PO line (the
PO-line unique index covers only licenses that are not void); events indexed by time
(`report activity`). store/schema.py `everyday`.
"""

from __future__ import annotations

from alembic import op

from licensectl.store.schema import EVERYDAY, everyday, record

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    everyday(conn)
    record(conn, revision, EVERYDAY)


def downgrade() -> None:
    raise NotImplementedError("licensectl stores are not downgraded: restore the backup")
