"""The Backend protocol: every store operation, local or remote, and nothing else.

The CLI reaches a store only through this protocol (`Application.backend()` is typed
with it), so a command a remote backend cannot serve does not type-check. The local
backend (`licensectl.service.LocalBackend`) applies the rules over a SQLite or
PostgreSQL store; the remote one speaks the same operations over HTTP to
`licensectl serve`, which runs a local backend per request.

Every method is one transaction, except `run_batch(atomic=True)`, which runs many
operations as one, inside the backend. Every operation acts as the backend's principal
may: objects outside its scope do not exist for it (not found), and a forbidden action
on an object it can see is a permission error.

Imports pydantic, the standard library and `licensectl.domain` only (a subprocess test
keeps SQLAlchemy and SQLModel out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from licensectl.contract.models import (
    ActivationPublic,
    ActivityReport,
    BatchResult,
    Completions,
    CoverageReport,
    CustomerPage,
    CustomerPublic,
    CustomerSearchPage,
    CustomerShow,
    ImportSummary,
    InventoryReport,
    KeyPublic,
    LicenseDetail,
    LicenseHistory,
    LicensePage,
    LicensePublic,
    PartnerPublic,
    Principal,
    RenewalsReport,
    SmartServerPublic,
    StoreBackup,
    StoreCheckReport,
    StoreSchema,
    TokenCreated,
    TokenPublic,
    TransferResult,
)
from licensectl.contract.requests import (
    Activate,
    ActivityQuery,
    CompleteQuery,
    CoverageQuery,
    CustomerAdd,
    CustomerEmail,
    CustomerNote,
    CustomerRemove,
    CustomerRename,
    EidLogin,
    ImportOptions,
    InventoryQuery,
    LicenseAdd,
    LicenseFilter,
    LicenseNote,
    LicenseVoid,
    Page,
    PartnerAdd,
    PartnerRename,
    RenewalsQuery,
    Return,
    TokenCreate,
    Transfer,
)


class Backend(Protocol):
    """Every store operation; a local and a remote backend behave the same."""

    # --- who, and API tokens -------------------------------------------------------
    def whoami(self) -> Principal: ...
    def token_create(self, request: TokenCreate) -> TokenCreated:
        """A new API token; its secret is in the result and nowhere else, ever."""
        ...

    def token_list(self) -> list[TokenPublic]: ...
    def token_revoke(self, token_id: str) -> TokenPublic: ...
    def login_eid(self, request: EidLogin) -> TokenCreated:
        """A customer token for the account holding that License ID (the EID login)."""
        ...

    # --- accounts ---------------------------------------------------------------
    def partner_add(self, request: PartnerAdd) -> PartnerPublic: ...
    def partner_list(self) -> list[PartnerPublic]: ...
    def customer_add(self, request: CustomerAdd) -> CustomerPublic: ...
    def customer_list(self, *, partner: str | None = None, page: Page = ...) -> CustomerPage: ...
    def customer_show(
        self, customer: str, *, partner: str | None = None, page: Page = ...
    ) -> CustomerShow:
        """A customer with a page of its licenses (`page` pages the licenses)."""
        ...

    def customer_email_add(self, request: CustomerEmail) -> CustomerPublic: ...
    def customer_email_remove(self, request: CustomerEmail) -> CustomerPublic: ...

    # --- fixing mistakes (each writes an event with the old and new value) -------
    def partner_rename(self, request: PartnerRename) -> PartnerPublic: ...
    def customer_rename(self, request: CustomerRename) -> CustomerPublic: ...
    def customer_note(self, request: CustomerNote) -> CustomerPublic: ...
    def customer_remove(self, request: CustomerRemove) -> CustomerPublic:
        """Remove an account that never held a license; answers it as it was."""
        ...

    def license_note(self, request: LicenseNote) -> LicensePublic: ...
    def license_void(self, request: LicenseVoid) -> LicensePublic:
        """Void a license never transferred or activated: kept, read-only, its PO line free."""
        ...

    # --- licenses ---------------------------------------------------------------
    def license_add(self, request: LicenseAdd) -> LicensePublic: ...
    def license_list(self, filters: LicenseFilter, *, page: Page = ...) -> LicensePage: ...
    def license_show(self, license_id: str) -> LicenseDetail: ...
    def license_history(self, license_id: str, *, page: Page = ...) -> LicenseHistory:
        """Lineage and a page of the events (`page.after`: an event number)."""
        ...

    def transfer(self, request: Transfer) -> TransferResult: ...
    def search_customers(self, text: str, *, page: Page = ...) -> CustomerSearchPage: ...
    def search_po(self, text: str, *, exact: bool = False, page: Page = ...) -> LicensePage: ...

    # --- activation -------------------------------------------------------------
    def activate(self, request: Activate) -> ActivationPublic: ...
    def return_license(self, request: Return) -> ActivationPublic: ...
    def activate_offline(self, request_file: bytes) -> bytes:
        """Answer an activation request file with the signed response file's bytes."""
        ...

    def smartserver_show(self, install_code: str) -> SmartServerPublic: ...

    # --- bulk -------------------------------------------------------------------
    def import_licenses(self, lines: Iterable[str], options: ImportOptions) -> ImportSummary:
        """Every row or none; `lines` is read once, as it streams."""
        ...

    def export_licenses(self, filters: LicenseFilter) -> Iterator[list[LicensePublic]]:
        """Every license the filters select, oldest first, in batches, as it streams."""
        ...

    def run_batch(self, lines: Iterable[str], *, atomic: bool = False) -> Iterator[BatchResult]:
        """Run batch lines (JSON operations) in order, one result each.

        Each operation is its own transaction and the batch goes on after a failure;
        with `atomic`, all are one transaction that stops at the first failure, and
        only that failure's result is yielded.
        """
        ...

    # --- reports (SQL aggregates, within the principal's scope) ------------------
    def report_renewals(self, query: RenewalsQuery) -> RenewalsReport: ...
    def report_coverage(self, query: CoverageQuery) -> CoverageReport: ...
    def report_inventory(self, query: InventoryQuery) -> InventoryReport: ...
    def report_activity(self, query: ActivityQuery) -> ActivityReport: ...

    # --- shell completion (a few index range scans, within the principal's scope) ---
    def complete(self, query: CompleteQuery) -> Completions:
        """Candidates starting with `query.prefix`: License IDs (available first),
        customer names and IDs, or partner names; at most COMPLETE_LIMIT."""
        ...

    # --- the portal's signing keys ------------------------------------------------
    def keys_list(self) -> list[KeyPublic]: ...
    def keys_public_pem(self, key_id: str | None = None) -> str:
        """The public key devices verify with (the active key's unless `key_id`)."""
        ...

    def keys_rotate(self) -> KeyPublic: ...

    # --- the store ----------------------------------------------------------------
    def db_check(self, progress: Callable[[float], None] | None = None) -> StoreCheckReport:
        """`progress(fraction done)` is called now and then by a local store; a server's
        check reports no progress."""
        ...

    def db_upgrade(self) -> StoreSchema: ...
    def db_backup(self, path: str) -> StoreBackup: ...

    def close(self) -> None: ...
