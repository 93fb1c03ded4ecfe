"""The operations of licensectl over a local store.

`LocalBackend` holds every business rule (through `licensectl.domain`) over a SQLite or
PostgreSQL store, assembled from one class per group of operations. It implements the
`licensectl.contract.protocol.Backend` protocol; the CLI and the server only translate
arguments and results, and a remote backend speaks the same protocol over HTTP.
"""

from licensectl.service.accounts import AccountOps
from licensectl.service.activation import ActivationOps
from licensectl.service.base import local_operator
from licensectl.service.batch import BatchOps
from licensectl.service.completion import CompletionOps
from licensectl.service.corrections import CorrectionOps
from licensectl.service.exporting import ExportOps
from licensectl.service.importing import ImportOps
from licensectl.service.licenses import LicenseOps
from licensectl.service.reports import ReportOps
from licensectl.service.tokens import TokenOps
from licensectl.service.transfer import TransferOps


class LocalBackend(
    AccountOps,
    CorrectionOps,
    LicenseOps,
    TransferOps,
    ActivationOps,
    ImportOps,
    ExportOps,
    BatchOps,
    ReportOps,
    CompletionOps,
    TokenOps,
):
    """The rules of the domain over a SQLite or PostgreSQL store, as one principal."""


__all__ = ["LocalBackend", "local_operator"]
