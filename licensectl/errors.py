"""The exception tree. Every error licensectl reports carries its exit code.

This module imports nothing from licensectl (or anything heavy) so that any layer,
including the CLI before it has touched a store, may raise and catch these.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    NOT_FOUND = 3
    CONFLICT = 4
    AUTH = 5
    REMOTE = 6
    INVALID_DATA = 7
    INTERRUPTED = 130


class LicensectlError(Exception):
    """Base class: a failure we can explain to the user in one line."""

    exit_status: ExitStatus = ExitStatus.ERROR
    #: A stable machine-readable kind, used by the server and batch results.
    kind: str = "error"

    def __init__(self, message: str, *, details: Any = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        #: The request field at fault, if one is (`partner`, `term_months`): the CLI
        #: names its option, an API client its field.
        self.field = field

    @property
    def exit_code(self) -> int:
        return int(self.exit_status)


class UsageError(LicensectlError):
    """Malformed argument, missing required choice, or a prompt that cannot be shown."""

    exit_status = ExitStatus.USAGE
    kind = "usage"


class OutputError(UsageError):
    """An output file or standard output could not be written (no space left, read-only,
    an I/O error). Exit 2 like any file argument that cannot be used; the message says
    what, if anything, had already been saved."""

    kind = "output"


class NotFoundError(LicensectlError):
    exit_status = ExitStatus.NOT_FOUND
    kind = "not_found"


class ConflictError(LicensectlError):
    """A domain rule refused the change; nothing was written."""

    exit_status = ExitStatus.CONFLICT
    kind = "conflict"


class AuthError(LicensectlError):
    """No credentials, or bad, expired or revoked ones (HTTP 401)."""

    exit_status = ExitStatus.AUTH
    kind = "auth"


class PermissionDeniedError(AuthError):
    """The caller is known and may see the object, but not do this to it (HTTP 403).

    Objects outside the caller's scope are not found (`NotFoundError`), never this.
    """

    kind = "forbidden"


class UnavailableError(LicensectlError):
    """Where the data lives cannot be used right now: exit 6, and nothing was changed."""

    exit_status = ExitStatus.REMOTE
    kind = "unavailable"


class StoreUnavailableError(UnavailableError):
    """A local store that cannot be opened, stays locked, is not a licensectl store, or
    an unsafe key directory."""

    kind = "store_unavailable"


class RemoteError(UnavailableError):
    """A licensectl server that is unreachable, timed out, or failing."""

    kind = "remote"


class TooLargeError(UsageError):
    """A request body beyond the server's limit (HTTP 413): split it, or ask for a
    larger limit. Exit 2 like any request that cannot be served as given."""

    kind = "too_large"


class RateLimitedError(AuthError):
    """Too many failed logins from one address (HTTP 429); `retry_after` in seconds."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidDataError(LicensectlError):
    """A bad import/batch file or a malformed or tampered activation file."""

    exit_status = ExitStatus.INVALID_DATA
    kind = "invalid_data"


class StoreDamagedError(InvalidDataError):
    """A store whose file or rows are damaged: a malformed SQLite file, a value no
    licensectl wrote (an unknown enum value, a time that does not parse). Exit 7;
    `licensectl db check` says what is wrong."""

    kind = "store_damaged"


class Interrupted(LicensectlError):
    """Interrupted, or a confirmation declined."""

    exit_status = ExitStatus.INTERRUPTED
    kind = "interrupted"


ERRORS_BY_KIND: dict[str, type[LicensectlError]] = {
    cls.kind: cls
    for cls in (
        LicensectlError,
        UsageError,
        OutputError,
        NotFoundError,
        ConflictError,
        AuthError,
        PermissionDeniedError,
        UnavailableError,
        StoreUnavailableError,
        RemoteError,
        InvalidDataError,
        StoreDamagedError,
        Interrupted,
        TooLargeError,
        RateLimitedError,
    )
}


def from_wire(kind: str, exit_code: int, message: str) -> LicensectlError:
    """An error that arrived as data (a batch result, a server's error body), rebuilt so
    that it prints and exits exactly as it would have where it was raised."""
    cls = ERRORS_BY_KIND.get(kind)
    if cls is not None and cls.exit_status == exit_code:
        return cls(message)
    error = LicensectlError(message)
    try:
        error.exit_status = ExitStatus(exit_code)
    except ValueError:
        error.exit_status = ExitStatus.ERROR
    error.kind = kind
    return error
