"""`license list --inventory customer` at a million licenses: a partial index of the
licenses customers hold, in seq order. store/schema.py `held_index`.
"""

from __future__ import annotations

from alembic import op

from licensectl.store.schema import HELD_LICENSES, held_index, record

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    held_index(conn)
    record(conn, revision, HELD_LICENSES)


def downgrade() -> None:
    raise NotImplementedError("licensectl stores are not downgraded: restore the backup")
