"""Alembic's environment: run on the connection licensectl hands over (store/schema.py).

The connection is already inside licensectl's serialised write transaction, so Alembic
neither opens nor commits one: the revisions and the stamp commit together, or not at all.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from licensectl import models  # noqa: F401  (the tables, for the metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("licensectl's migrations run through 'licensectl db upgrade'")

context.configure(connection=connection, target_metadata=SQLModel.metadata)
with context.begin_transaction():
    context.run_migrations()
