"""Turn what a user typed after `--db` into a database URL (no SQLAlchemy import)."""

from __future__ import annotations

from pathlib import Path

from licensectl.errors import UsageError


def normalize_db_url(value: str) -> str:
    """A plain path, `sqlite:///path` or `postgresql+psycopg://…` → a SQLAlchemy URL."""
    value = value.strip()
    if not value:
        raise UsageError("--db must not be empty")
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser().resolve())
    scheme = value.split("://", 1)[0].lower()
    if scheme == "sqlite":
        return value
    if scheme in ("postgresql", "postgres"):
        # psycopg 3 is the driver we ship (the `postgres` extra); psycopg2 is not.
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if scheme == "postgresql+psycopg":
        return value
    raise UsageError(
        f"unsupported --db URL scheme {scheme!r}: use a file path, sqlite:///PATH "
        "or postgresql+psycopg://USER@HOST/DB"
    )


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
