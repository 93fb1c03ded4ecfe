"""Alembic migrations of the store (see licensectl/store/schema.py); no alembic.ini needed."""
