"""Name and PO keys compared after NFKC normalisation (store/nfkc_keys.py).

Was numbered migration 2; it calls the same function, so it does exactly what it did.
"""

from __future__ import annotations

from alembic import op

from licensectl.store.schema import MIGRATIONS, record

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _, name, apply = MIGRATIONS[2 - 1]
    conn = op.get_bind()
    apply(conn)
    record(conn, revision, name)


def downgrade() -> None:
    raise NotImplementedError("licensectl stores are not downgraded: restore the backup")
