"""The operations of licensectl over a local store.

`LocalBackend` holds every business rule (through `licensectl.domain`) over a SQLite or
PostgreSQL store, assembled from one class per group of operations. It implements the
`licensectl.contract.protocol.Backend` protocol; the CLI and the server only translate
arguments and results, and a remote backend speaks the same protocol over HTTP.

A command uses a few operations of one group, so the groups' modules are imported when an
operation of theirs is first used (`OPERATIONS` says where each one lives; a test holds it
to the class the groups make together): `licensectl partner list` loads neither the
importer nor the reports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from licensectl import gcpause
from licensectl.service.base import BaseBackend, local_operator

#: The groups of operations, in the order LocalBackend inherits them (the first that
#: defines a name wins): the module under licensectl.service and the class.
PARTS: tuple[str, ...] = (
    "accounts.AccountOps",
    "corrections.CorrectionOps",
    "licenses.LicenseOps",
    "transfer.TransferOps",
    "activation.ActivationOps",
    "importing.ImportOps",
    "exporting.ExportOps",
    "batch.BatchOps",
    "reports.ReportOps",
    "completion.CompletionOps",
    "tokens.TokenOps",
)

#: Where LocalBackend finds each operation and helper of its groups (by its MRO).
OPERATIONS: dict[str, str] = {
    # activation.ActivationOps
    "_answered": "activation.ActivationOps",
    "_apply": "activation.ActivationOps",
    "_change_public": "activation.ActivationOps",
    "_coverage": "activation.ActivationOps",
    "_fixed_expiry": "activation.ActivationOps",
    "_granted": "activation.ActivationOps",
    "_held": "activation.ActivationOps",
    "_named": "activation.ActivationOps",
    "_new_smartserver": "activation.ActivationOps",
    "_plan": "activation.ActivationOps",
    "_rename": "activation.ActivationOps",
    "_smartserver": "activation.ActivationOps",
    "activate": "activation.ActivationOps",
    "activate_offline": "activation.ActivationOps",
    "return_license": "activation.ActivationOps",
    "smartserver_show": "activation.ActivationOps",
    # lookup.Lookups
    "_customer": "lookup.Lookups",
    "_customer_by_name": "lookup.Lookups",
    "_customer_page": "lookup.Lookups",
    "_customer_prefix": "lookup.Lookups",
    "_events_of": "lookup.Lookups",
    "_find_partner": "lookup.Lookups",
    "_license": "lookup.Lookups",
    "_license_select": "lookup.Lookups",
    "_page": "lookup.Lookups",
    "_partner": "lookup.Lookups",
    "_search_mode": "lookup.Lookups",
    "_visible": "lookup.Lookups",
    # accounts.AccountOps
    "_customer_add": "accounts.AccountOps",
    "_email_change": "accounts.AccountOps",
    "customer_add": "accounts.AccountOps",
    "customer_email_add": "accounts.AccountOps",
    "customer_email_remove": "accounts.AccountOps",
    "customer_list": "accounts.AccountOps",
    "customer_show": "accounts.AccountOps",
    "partner_add": "accounts.AccountOps",
    "partner_list": "accounts.AccountOps",
    # completion.CompletionOps
    "_complete_customers": "completion.CompletionOps",
    "_complete_licenses": "completion.CompletionOps",
    "_complete_partners": "completion.CompletionOps",
    "complete": "completion.CompletionOps",
    # batch.BatchOps
    "_dispatch": "batch.BatchOps",
    "run_batch": "batch.BatchOps",
    # exporting.ExportOps
    "_joined_rows": "exporting.ExportOps",
    "export_licenses": "exporting.ExportOps",
    "export_rows": "exporting.ExportOps",
    # admin.AdminOps
    "_key_store": "admin.AdminOps",
    "db_backup": "admin.AdminOps",
    "db_check": "admin.AdminOps",
    "db_upgrade": "admin.AdminOps",
    "key_store": "admin.AdminOps",
    "keys_list": "admin.AdminOps",
    "keys_public_pem": "admin.AdminOps",
    "keys_rotate": "admin.AdminOps",
    # tokens.TokenOps
    "_mint": "tokens.TokenOps",
    "_token_scope": "tokens.TokenOps",
    "login_eid": "tokens.TokenOps",
    "token_create": "tokens.TokenOps",
    "token_list": "tokens.TokenOps",
    "token_revoke": "tokens.TokenOps",
    # corrections.CorrectionOps
    "_on": "corrections.CorrectionOps",
    "customer_note": "corrections.CorrectionOps",
    "customer_remove": "corrections.CorrectionOps",
    "customer_rename": "corrections.CorrectionOps",
    "license_note": "corrections.CorrectionOps",
    "license_void": "corrections.CorrectionOps",
    "partner_rename": "corrections.CorrectionOps",
    # reports.ReportOps
    "_report_scope": "reports.ReportOps",
    "report_activity": "reports.ReportOps",
    "report_coverage": "reports.ReportOps",
    "report_inventory": "reports.ReportOps",
    "report_renewals": "reports.ReportOps",
    # transfer.TransferOps
    "_transfer": "transfer.TransferOps",
    "_transfer_events": "transfer.TransferOps",
    "_transfer_target": "transfer.TransferOps",
    "transfer": "transfer.TransferOps",
    # importing.ImportOps
    "import_licenses": "importing.ImportOps",
    # licenses.LicenseOps
    "license_add": "licenses.LicenseOps",
    "license_history": "licenses.LicenseOps",
    "license_list": "licenses.LicenseOps",
    "license_show": "licenses.LicenseOps",
    "search_customers": "licenses.LicenseOps",
    "search_po": "licenses.LicenseOps",
}


def part(where: str) -> type:
    """The class `where` (`accounts.AccountOps`) names, its module imported."""
    module, name = where.rsplit(".", 1)
    found: type = getattr(importlib.import_module(f"licensectl.service.{module}"), name)
    gcpause.release()  # the command has started: its work proper follows
    return found


if TYPE_CHECKING:
    from licensectl.service.accounts import AccountOps
    from licensectl.service.activation import ActivationOps
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

else:

    class LocalBackend(BaseBackend):
        """The rules of the domain over a SQLite or PostgreSQL store, as one principal.

        Behaves as the class that inherits every group in `PARTS`: an operation is taken
        from its group (imported then) on first use and kept on the class.
        """

        def __getattr__(self, name: str) -> Any:
            where = OPERATIONS.get(name)
            if where is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            setattr(LocalBackend, name, part(where).__dict__[name])
            return getattr(self, name)


__all__ = ["OPERATIONS", "PARTS", "LocalBackend", "local_operator", "part"]
