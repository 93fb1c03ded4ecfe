"""The operations of licensectl.

`LocalBackend` holds every business rule (through `licensectl.domain`) over a store,
assembled from one class per group of operations over the shared `BaseBackend`. The
CLI, and later the server, only translate arguments and results; a remote backend
speaks the same `Backend` protocol over HTTP. Each public method is one transaction,
unless the caller wraps several in `atomic()`.
"""

from licensectl.service.activation import ActivationOps
from licensectl.service.base import DEFAULT_LIMIT, LicenseFilter, Principal, local_operator
from licensectl.service.bulk import BulkOps
from licensectl.service.core import CoreOps
from licensectl.service.protocol import Backend


class LocalBackend(CoreOps, ActivationOps, BulkOps):
    """The rules of DOMAIN.md over a SQLite or PostgreSQL store."""


__all__ = [
    "DEFAULT_LIMIT",
    "Backend",
    "LicenseFilter",
    "LocalBackend",
    "Principal",
    "local_operator",
]
