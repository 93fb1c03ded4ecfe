"""Where licensectl keeps its files, and which store a command talks to.

Resolution order for the store: `--db`/`LICENSECTL_DB`, then the profile named by
`--profile`/`LICENSECTL_PROFILE` or the current profile, then the embedded default:
a SQLite file in the user data directory. Nothing secret is ever written here:
tokens live in the OS keyring.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from licensectl.errors import InvalidDataError, NotFoundError

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
