"""What a server process is told: the store and the limits, also across worker processes.

`licensectl serve --workers N` starts workers that import the app by name, so they learn
their settings from the environment: the store URL (which may hold a password) travels
there rather than on a command line, and is never logged.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Final

from licensectl.contract.api import JSON_BODY_MAX
from licensectl.errors import UsageError

STORE_ENV: Final = "LICENSECTL_SERVER_STORE"
SETTINGS_ENV: Final = "LICENSECTL_SERVER_SETTINGS"
#: The default cap on an import or batch body.
UPLOAD_MAX_MIB: Final = 100


@dataclass(frozen=True)
class Settings:
    #: JSON bodies (every write but imports and batches): beyond it, 413.
    json_body_max: int = JSON_BODY_MAX
    #: Import and batch bodies, which stream: beyond it, 413.
    upload_max: int = UPLOAD_MAX_MIB * 1024 * 1024
    #: Failed EID logins one client address may make in `login_window` seconds.
    login_failures: int = 10
    login_window: int = 60

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get(SETTINGS_ENV)
        if not raw:
            return cls()
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise UsageError(f"{SETTINGS_ENV} is not valid: {exc}") from None


def store_url_from_env() -> str:
    url = os.environ.get(STORE_ENV)
    if not url:
        raise UsageError(f"{STORE_ENV} names no store; start the server with 'licensectl serve'")
    return url
