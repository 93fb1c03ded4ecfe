"""Turn what a user typed after `--db` into a database URL (no SQLAlchemy import).

Every URL is checked here, before SQLAlchemy or a driver sees it, so that a malformed one
is a usage error (exit 2) with one line that never repeats the URL's credentials, rather
than a driver's traceback or, worse, a misparse that shows part of a password as a host.

The PostgreSQL form is parsed with the same pattern SQLAlchemy's `make_url` uses, so what
is checked here is exactly what SQLAlchemy will connect to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote, unquote

from licensectl.errors import UsageError

SQLITE = "sqlite"
POSTGRES = "postgresql+psycopg"

_FORMS = "a file path, sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE"

# SQLAlchemy's URL pattern (sqlalchemy.engine.url._parse_url), anchored at both ends.
_URL_RE = re.compile(
    r"""
    (?P<scheme>[\w+]+)://
    (?:
        (?P<username>[^:/]*)
        (?::(?P<password>[^@]*))?
    @)?
    (?:
        (?:
            \[(?P<ipv6host>[^/?]+)\] |
            (?P<ipv4host>[^/:?]+)
        )?
        (?::(?P<port>[^/?]*))?
    )?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X | re.S,
)

# Query parameters that would carry a secret: refused, so that a password only ever sits
# where this module knows to take it out (the URL's user-info).
_SECRET_PARAMS = frozenset({"password", "sslpassword"})


@dataclass(frozen=True)
class _PgUrl:
    """A PostgreSQL URL split into its parts, each as written (still percent-encoded)."""

    username: str | None
    password: str | None
    hostport: str
    database: str
    query: str | None

    def text(self, *, password: str | None) -> str:
        userinfo = ""
        if self.username is not None or password is not None:
            userinfo = (self.username or "") + (f":{password}" if password is not None else "")
            userinfo += "@"
        query = f"?{self.query}" if self.query is not None else ""
        return f"{POSTGRES}://{userinfo}{self.hostport}/{self.database}{query}"


def normalize_db_url(value: str) -> str:
    """A plain path, `sqlite:///path` or `postgresql+psycopg://…` → a checked SQLAlchemy URL.

    SQLite paths come back absolute (`sqlite:///rel.db` is relative to the current
    directory, `sqlite:////abs.db` absolute), so a profile keeps meaning the same file
    wherever it is used from. Anything malformed is a UsageError (exit 2).
    """
    value = value.strip()
    if not value:
        raise UsageError(f"--db must not be empty: give {_FORMS}")
    if "://" not in value:
        return _sqlite_url(value, expand_user=True)
    scheme, rest = value.split("://", 1)
    scheme = scheme.lower()
    if scheme == SQLITE:
        return _sqlite(rest)
    if scheme in ("postgresql", "postgres", POSTGRES):
        # psycopg 3 is the driver we ship (the `postgres` extra); psycopg2 is not.
        pg = _parse_pg(rest)
        return pg.text(password=pg.password)
    shown = scheme if re.fullmatch(r"[\w+.-]{1,40}", scheme) else "?"
    raise UsageError(f"unsupported --db URL scheme {shown!r}: use {_FORMS}")


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite file. SQLAlchemy percent-decodes the path and ends it at a
    `?`, so those two are encoded: `a%41.db` must not open `aA.db`, nor `q?x.db` open `q`."""
    return "sqlite:///" + str(path).replace("%", "%25").replace("?", "%3F")


def _sqlite_url(path: str, *, expand_user: bool) -> str:
    target = Path(path).expanduser() if expand_user else Path(path)
    return sqlite_url(target.resolve())


def _sqlite(rest: str) -> str:
    path, _, query = rest.partition("?")
    if query or "?" in rest:
        raise UsageError(
            "a SQLite --db URL takes no query parameters (licensectl sets its own); "
            "give sqlite:///PATH"
        )
    if not path.startswith("/"):
        # sqlite://x.db: SQLAlchemy would read "x.db" as a host name and refuse.
        raise UsageError(
            "a SQLite --db URL has three slashes before a relative path "
            "(sqlite:///store.db is store.db in the current directory) and four before an "
            "absolute one (sqlite:////srv/store.db); or give the plain path"
        )
    path = path[1:]
    if path in ("", ":memory:"):
        raise UsageError(
            "an in-memory SQLite database would vanish when the command ends: give a file, "
            "e.g. sqlite:///store.db"
        )
    return _sqlite_url(unquote(path), expand_user=False)


def _at_signs(rest: str) -> None:
    # SQLAlchemy splits the user-info at the first "@" and takes the rest as the host, so
    # an unencoded "@" in a password would send part of the password out as a host name
    # (to DNS, and into every error message). Say what to do and show none of it.
    if rest.count("@") > 1:
        raise UsageError(
            "the --db URL has more than one '@': percent-encode every '@' in the user name, "
            "password or database name as %40, as in "
            "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE with PASSWORD's '@' written %40"
        )


def _parse_pg(rest: str) -> _PgUrl:
    """Check a PostgreSQL URL (the part after `://`); every message hides the credentials."""
    _at_signs(rest)
    match = _URL_RE.fullmatch(f"{POSTGRES}://{rest}")
    if match is None:
        raise UsageError(f"the --db URL is not a PostgreSQL URL of the form {_FORMS}")
    parts = match.groupdict()
    host = parts["ipv6host"] or parts["ipv4host"] or ""
    if parts["ipv6host"] is None and ("[" in host or "]" in host):
        raise UsageError("the --db URL's host is malformed: write an IPv6 address as [ADDRESS]")
    port = parts["port"]
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        # Not echoed: in "USER:PASSWORD/db" (no "@HOST") the password reads as the port.
        raise UsageError(
            "the --db URL's port is not a number from 1 to 65535 "
            "(postgresql+psycopg://USER@HOST:5432/DATABASE)"
        )
    database = parts["database"]
    query = parts["query"]
    params = _query_params(query) if query else {}
    if not database and "dbname" not in params:
        raise UsageError("the --db URL names no database: postgresql+psycopg://USER@HOST/DATABASE")
    hostport = f"[{host}]" if parts["ipv6host"] is not None else host
    if port is not None:
        hostport += f":{port}"
    return _PgUrl(
        username=parts["username"],
        password=parts["password"],
        hostport=hostport,
        database=database or "",
        query=query or None,
    )


def _query_params(query: str) -> dict[str, str]:
    """`a=1&b=2`, strictly: each part a `key=value`, and keys libpq knows."""
    params: dict[str, str] = {}
    for part in query.split("&"):
        key, eq, val = part.partition("=")
        key = unquote(key)
        if not eq or not key:
            raise UsageError(
                "the --db URL's query must be KEY=VALUE pairs joined by '&' (e.g. ?sslmode=require)"
            )
        if key.lower() in _SECRET_PARAMS:
            raise UsageError(
                f"the --db URL must not carry {key!r} as a query parameter: give the password "
                "as USER:PASSWORD@HOST, or leave it to libpq's ~/.pgpass or PGPASSWORD"
            )
        params[key] = unquote(val)
    _check_libpq_params(params)
    return params


#: libpq options whose values are a fixed set (PostgreSQL's "Parameter Key Words"): libpq
#: checks them only when it connects, so a typo would read as an unreachable store.
_LIBPQ_CHOICES: Final[dict[str, frozenset[str]]] = {
    "sslmode": frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
    "gssencmode": frozenset({"disable", "prefer", "require"}),
    "channel_binding": frozenset({"disable", "prefer", "require"}),
    "sslcertmode": frozenset({"disable", "allow", "require"}),
    "sslnegotiation": frozenset({"postgres", "direct"}),
    "load_balance_hosts": frozenset({"disable", "random"}),
    "target_session_attrs": frozenset(
        {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}
    ),
}
#: libpq options that take a whole number (seconds, counts, or a 0/1 switch).
_LIBPQ_INTEGERS: Final = frozenset(
    {
        "connect_timeout",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "sslcompression",
    }
)


def _check_libpq_values(params: dict[str, str]) -> None:
    for key, value in params.items():
        name = key.lower()
        choices = _LIBPQ_CHOICES.get(name)
        if choices is not None and value not in choices:
            raise UsageError(
                f"the --db URL's {key}={value!r} is not valid for PostgreSQL: use one of "
                + ", ".join(sorted(choices))
            )
        if name in _LIBPQ_INTEGERS and not re.fullmatch(r"\s*-?\d+\s*", value):
            raise UsageError(
                f"the --db URL's {key}={value!r} is not valid for PostgreSQL: a whole number"
            )


def _check_libpq_params(params: dict[str, str]) -> None:
    """Unknown connection options, and values libpq would refuse only when it connects,
    are usage errors (the option names by libpq's own list, when installed)."""
    _check_libpq_values(params)
    try:
        from psycopg import ProgrammingError
        from psycopg.conninfo import make_conninfo
    except ImportError:  # the driver is missing; opening the store will say so
        return
    try:
        make_conninfo("", **params)
    except ProgrammingError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "not a libpq connection option"
        raise UsageError(f"the --db URL's query is not valid for PostgreSQL: {reason}") from None


def password_of(url: str) -> str | None:
    """The password in a normalised PostgreSQL URL (decoded), or None."""
    rest = _pg_rest(url)
    if rest is None:
        return None
    password = _parse_pg(rest).password
    return unquote(password) if password is not None else None


def without_password(url: str) -> str:
    """The normalised URL with its password removed: what may be written to a file."""
    rest = _pg_rest(url)
    if rest is None:
        return url
    return _parse_pg(rest).text(password=None)


def with_password(url: str, password: str) -> str:
    """Put a password (as stored, not encoded) into a normalised PostgreSQL URL."""
    rest = _pg_rest(url)
    if rest is None:
        raise UsageError("only a PostgreSQL store URL takes a password")
    return _parse_pg(rest).text(password=quote(password, safe=""))


def _pg_rest(url: str) -> str | None:
    prefix = f"{POSTGRES}://"
    return url[len(prefix) :] if url.startswith(prefix) else None


def redact_url(url: str) -> str:
    """The URL without its password, for messages and output.

    Safe on any text, even a URL that failed to parse: everything between `://` and the
    last `@` before the path is credentials, and only the user name before its first
    `:` is kept.
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if "@" not in rest:
        return url
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    if "@" in user or "/" in user:
        user = "…"
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
