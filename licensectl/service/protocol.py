"""The Backend protocol: every store operation, local or remote."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from licensectl.domain import (
    ActivationMode,
    LicenseType,
)
from licensectl.importer import Format, ImportSummary
from licensectl.models import (
    ActivationPublic,
    CustomerDetail,
    CustomerPublic,
    LicenseDetail,
    LicenseHistory,
    LicensePage,
    LicensePublic,
    PartnerPublic,
    SmartServerPublic,
    TransferResult,
)
from licensectl.service.base import DEFAULT_LIMIT, LicenseFilter


class Backend(Protocol):
    """Every store operation; local and remote backends behave the same."""

    def partner_add(self, name: str, *, email: str | None = None) -> PartnerPublic: ...
    def partner_list(self) -> list[PartnerPublic]: ...
    def customer_add(
        self, name: str, *, partner: str | None = None, emails: Sequence[str] = ()
    ) -> CustomerPublic: ...
    def customer_list(self, *, partner: str | None = None) -> list[CustomerPublic]: ...
    def customer_show(self, customer: str, *, partner: str | None = None) -> CustomerDetail: ...
    def customer_email_add(
        self, customer: str, email: str, *, partner: str | None = None
    ) -> CustomerPublic: ...
    def customer_email_remove(
        self, customer: str, email: str, *, partner: str | None = None
    ) -> CustomerPublic: ...
    def license_add(
        self,
        *,
        partner: str | None,
        purchase_order: str,
        po_line: int,
        type: LicenseType,
        devices: int,
        quantity: int,
        term_months: int | None,
        note: str | None = None,
    ) -> LicensePublic: ...
    def license_list(
        self, filters: LicenseFilter, *, limit: int | None = DEFAULT_LIMIT, after: str | None = None
    ) -> LicensePage: ...
    def license_show(self, license_id: str) -> LicenseDetail: ...
    def license_history(self, license_id: str) -> LicenseHistory: ...
    def transfer(
        self, license_id: str, *, to: str, quantity: int | None = None, dry_run: bool = False
    ) -> TransferResult: ...
    def search_customers(
        self, text: str, *, limit: int | None = DEFAULT_LIMIT
    ) -> list[CustomerDetail]: ...
    def search_po(
        self,
        text: str,
        *,
        exact: bool = False,
        limit: int | None = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> LicensePage: ...
    def activate(
        self,
        license_id: str,
        *,
        install_code: str,
        copies: int = 1,
        name: str | None = None,
        mode: ActivationMode = ActivationMode.ONLINE,
    ) -> ActivationPublic: ...
    def return_license(self, license_id: str, *, install_code: str) -> ActivationPublic: ...
    def activate_offline(self, request_bytes: bytes) -> bytes: ...
    def smartserver_show(self, install_code: str) -> SmartServerPublic: ...
    def atomic(self) -> AbstractContextManager[None]:
        """Run the operations inside as one transaction: all of them or none."""
        ...

    def import_licenses(
        self, lines: Iterable[str], *, fmt: Format = "csv", dry_run: bool = False
    ) -> ImportSummary: ...
    def export_licenses(
        self, filters: LicenseFilter, *, batch_size: int = 1000
    ) -> Iterator[list[LicensePublic]]: ...
