"""Where data lives: engines, sessions and schema for SQLite and PostgreSQL."""
