"""The server's logging: uvicorn's access log and ours, with tokens kept out.

Uvicorn's access log shows the method, path, status and client; it never shows headers,
so the Authorization header cannot reach it. The filter below also rewrites anything
shaped like a token (`lctl_…`) in any record, should one ever be put in a URL.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

_TOKEN_RE: Final = re.compile(r"lctl_[A-Za-z0-9_\-]+")
_REDACTED: Final = "lctl_[redacted]"


def redact(text: str) -> str:
    return _TOKEN_RE.sub(_REDACTED, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging set-up, with the token filter on every handler and ours added."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "licensectl.server.logs.RedactTokens"}},
        "formatters": {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s [%(process)d] %(message)s",
                "use_colors": None,
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": (
                    '%(levelprefix)s [%(process)d] %(client_addr)s - "%(request_line)s" '
                    "%(status_code)s"
                ),
            },
        },
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["redact"],
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["redact"],
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "licensectl": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
