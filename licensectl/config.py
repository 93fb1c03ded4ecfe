"""Where licensectl keeps its files, and which store a command talks to.

Resolution order for the store: `--db`/`LICENSECTL_DB`, then the profile named by
`--profile`/`LICENSECTL_PROFILE` or the current profile, then the embedded default:
a SQLite file in the user data directory. Nothing secret is ever written here:
tokens live in the OS keyring.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from licensectl.errors import ConflictError, InvalidDataError, NotFoundError, UsageError

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
    return "sqlite:///" + str((data_dir() / "licensectl.db").resolve())


@dataclass(frozen=True)
class Profile:
    name: str
    db: str | None = None
    url: str | None = None
    partner: str | None = None


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
    return Profile(
        name=wanted, db=entry.get("db"), url=entry.get("url"), partner=entry.get("partner")
    )


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
        Profile(name=name, db=entry.get("db"), url=entry.get("url"), partner=entry.get("partner"))
        for name, entry in sorted(config.get("profiles", {}).items())
        if isinstance(entry, dict)
    ]
    return profiles, config.get("current")


def add_profile(profile: Profile) -> None:
    if not _PROFILE_NAME.match(profile.name):
        raise UsageError(
            f"profile name {profile.name!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    config = load_config()
    profiles = config.setdefault("profiles", {})
    if profile.name in profiles:
        raise ConflictError(f"a profile named {profile.name!r} already exists")
    entry = {"db": profile.db, "url": profile.url, "partner": profile.partner}
    profiles[profile.name] = {k: v for k, v in entry.items() if v is not None}
    save_config(config)


def use_profile(name: str) -> None:
    config = load_config()
    if name not in config.get("profiles", {}):
        raise NotFoundError(f"no profile named {name!r} (see 'licensectl profile list')")
    config["current"] = name
    save_config(config)


def remove_profile(name: str) -> None:
    config = load_config()
    if name not in config.get("profiles", {}):
        raise NotFoundError(f"no profile named {name!r} (see 'licensectl profile list')")
    del config["profiles"][name]
    if config.get("current") == name:
        del config["current"]
    save_config(config)
