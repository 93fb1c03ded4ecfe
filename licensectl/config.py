"""Where licensectl keeps its files, and which store a command talks to.

Resolution order for the store: `--db`/`LICENSECTL_DB`, then the profile named by
`--profile`/`LICENSECTL_PROFILE` or the current profile, then the embedded default:
a SQLite file in the user data directory.

Nothing secret is ever written to the config file. A PostgreSQL password given to
`profile add` goes to the OS keyring (licensectl.credentials) and the profile records
only that it is there (`"db_password": "keyring"`); the store URL is written without it,
and the password is put back into the URL in memory when the store is opened.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from licensectl import credentials
from licensectl.errors import (
    AuthError,
    ConflictError,
    InvalidDataError,
    NotFoundError,
    UsageError,
)

APP_NAME = "licensectl"
ENV_CONFIG_DIR = "LICENSECTL_CONFIG_DIR"
ENV_DATA_DIR = "LICENSECTL_DATA_DIR"


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override) if override else platformdirs.user_config_path(APP_NAME)


def data_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    return Path(override) if override else platformdirs.user_data_path(APP_NAME)


def default_db_url() -> str:
    from licensectl.store.url import sqlite_url

    return sqlite_url((data_dir() / "licensectl.db").resolve())


#: Where a profile's database password is kept, when it has one: the only value.
PASSWORD_IN_KEYRING = "keyring"

_PASSWORD_HINT = (
    "give the --db URL without its password and let libpq read it from ~/.pgpass or the "
    "PGPASSWORD environment variable instead"
)


@dataclass(frozen=True)
class Profile:
    name: str
    db: str | None = None
    url: str | None = None
    partner: str | None = None
    #: PASSWORD_IN_KEYRING when the store's password is in the OS keyring, else None.
    db_password: str | None = None
    #: A remote profile's private CA (a PEM file), when its server's certificate is not
    #: signed by a CA the system trusts.
    ca_bundle: str | None = None

    @property
    def kind(self) -> str:
        """ "remote" for a profile with a server URL, else "local"."""
        return "remote" if self.url else "local"


def _profile(name: str, entry: dict[str, Any]) -> Profile:
    return Profile(
        name=name,
        db=entry.get("db"),
        url=entry.get("url"),
        partner=entry.get("partner"),
        db_password=entry.get("db_password"),
        ca_bundle=entry.get("ca_bundle"),
    )


def _config_file() -> Path:
    return config_dir() / "config.json"


def load_config() -> dict[str, Any]:
    path = _config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDataError(f"the config file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidDataError(f"the config file {path} must hold a JSON object")
    return data


def get_profile(name: str | None) -> Profile | None:
    """The named profile, else the current one, else None (the embedded default)."""
    config = load_config()
    profiles = config.get("profiles", {})
    wanted = name or config.get("current")
    if not wanted:
        return None
    entry = profiles.get(wanted)
    if not isinstance(entry, dict):
        raise NotFoundError(f"no profile named {wanted!r} (see 'licensectl profile list')")
    return _profile(wanted, entry)


_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def save_config(config: dict[str, Any]) -> None:
    """Write the config file atomically (a crash never leaves half a file), private to
    the user (0600) like the temporary file it was always written through."""
    from licensectl.fileio import write_atomic

    path = _config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    write_atomic(path, text.encode("utf-8"), mode=0o600)


def list_profiles() -> tuple[list[Profile], str | None]:
    config = load_config()
    profiles = [
        _profile(name, entry)
        for name, entry in sorted(config.get("profiles", {}).items())
        if isinstance(entry, dict)
    ]
    return profiles, config.get("current")


def add_profile(profile: Profile, *, password: str | None = None) -> Profile:
    """Record a profile; its database password, if any, goes to the OS keyring only.

    `profile.db` must come without a password (store.url.without_password). Without a
    working keyring a password is refused (AuthError, exit 5) and nothing is written.
    """
    if not _PROFILE_NAME.match(profile.name):
        raise UsageError(
            f"profile name {profile.name!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    config = load_config()
    profiles = config.setdefault("profiles", {})
    if profile.name in profiles:
        raise ConflictError(f"a profile named {profile.name!r} already exists")
    entry = {
        "db": profile.db,
        "url": profile.url,
        "partner": profile.partner,
        "ca_bundle": profile.ca_bundle,
    }
    kept = {k: v for k, v in entry.items() if v is not None}
    secret_entry = credentials.db_password_entry(profile.name)
    what = f"the database password of profile {profile.name!r}"
    if password is not None:
        credentials.set_secret(secret_entry, password, what=what, hint=_PASSWORD_HINT)
        kept["db_password"] = PASSWORD_IN_KEYRING
    profiles[profile.name] = kept
    try:
        save_config(config)
    except BaseException:
        if password is not None:
            # The config file was not written: take the password back out of the keyring.
            with contextlib.suppress(AuthError):
                credentials.delete_secret(secret_entry, what=what, hint=_PASSWORD_HINT)
        raise
    return _profile(profile.name, kept)


def profile_db_url(profile: Profile) -> str:
    """The profile's store URL, checked, with its password put back (in memory only)."""
    from licensectl.store.url import normalize_db_url, with_password

    assert profile.db is not None
    url = normalize_db_url(profile.db)
    if profile.db_password != PASSWORD_IN_KEYRING:
        return url
    entry = credentials.db_password_entry(profile.name)
    hint = (
        f"make the keyring usable, or run 'licensectl profile remove {profile.name}' and add "
        f"it again without the password, letting libpq read it from ~/.pgpass or PGPASSWORD"
    )
    password = credentials.get_secret(
        entry, what=f"the database password of profile {profile.name!r}", hint=hint
    )
    if password is None:
        raise AuthError(
            f"the OS keyring holds no database password for profile {profile.name!r} "
            f"(service {credentials.SERVICE!r}, entry {entry!r}): {hint}"
        )
    return with_password(url, password)


def use_profile(name: str) -> None:
    config = load_config()
    if name not in config.get("profiles", {}):
        raise NotFoundError(f"no profile named {name!r} (see 'licensectl profile list')")
    config["current"] = name
    save_config(config)


def remove_profile(name: str) -> None:
    """Forget a profile and the password it keeps in the keyring (first: if the keyring
    cannot delete it, the profile stays, so the password is never left orphaned)."""
    config = load_config()
    if name not in config.get("profiles", {}):
        raise NotFoundError(f"no profile named {name!r} (see 'licensectl profile list')")
    entry = config["profiles"][name]
    if isinstance(entry, dict) and entry.get("db_password") == PASSWORD_IN_KEYRING:
        credentials.delete_secret(
            credentials.db_password_entry(name),
            what=f"the database password of profile {name!r}",
            hint="make the keyring usable and try again; the profile is kept until then",
        )
    if isinstance(entry, dict) and entry.get("url"):
        # A remote profile's API token, if it was logged in: forgotten with it (a keyring
        # that cannot be used holds none of ours).
        with contextlib.suppress(AuthError):
            credentials.delete_secret(
                credentials.token_entry(name),
                what=f"the API token of profile {name!r}",
                hint="make the keyring usable and remove it by hand",
            )
    del config["profiles"][name]
    if config.get("current") == name:
        del config["current"]
    save_config(config)
