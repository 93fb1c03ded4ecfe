"""Reports at a million licenses: `report inventory`'s covering index on license, and
`event_day`, the events a day that `report activity` adds up (counted once here from
the whole log, then kept by the writers of events). store/schema.py `report_speed`.
"""

from __future__ import annotations

from alembic import op

from licensectl.store.schema import REPORT_SPEED, record, report_speed

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    report_speed(conn)
    record(conn, revision, REPORT_SPEED)


def downgrade() -> None:
    raise NotImplementedError("licensectl stores are not downgraded: restore the backup")
