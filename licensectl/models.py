"""SQLModel tables: the store's rows. What backends return is in licensectl.contract.

Tables keep surrogate integer keys for joins and paging; the public identifiers
(Customer ID, License ID) are UUID text columns with unique indexes. Names and
purchase orders also keep a case-folded key column, so look-ups and prefix searches
are plain index range scans on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, JSON, Column, Index, LargeBinary, UniqueConstraint, event
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from licensectl.domain import (
    ActivationMode,
    LicenseStatus,
    LicenseType,
    Role,
    utcnow,
)


def _enum(cls: type[StrEnum]) -> SAEnum:
    """Store an enum by its value (`capacity`), not its Python name, as plain text."""
    return SAEnum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


# --- tables ---------------------------------------------------------------------


class _Table(SQLModel):
    """Base of every table. Rows are made from trusted values (by the service or the
    ORM) and never validated through pydantic, so pydantic builds a table's validator
    only if something asks for it, not when the class is declared: every store command
    would otherwise pay for thirteen validators it never uses."""

    model_config = SQLModel.model_config | {"defer_build": True}


class Partner(_Table, table=True):
    __tablename__ = "partner"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200, unique=True)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow)


class Customer(_Table, table=True):
    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("partner_id", "name_key", name="uq_customer_partner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(max_length=36, unique=True)
    partner_id: int = Field(foreign_key="partner.id", index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class CustomerEmail(_Table, table=True):
    __tablename__ = "customer_email"
    __table_args__ = (
        UniqueConstraint("customer_pk", "email_key", name="uq_customer_email"),
        Index("ix_customer_email_key", "email_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_pk: int = Field(foreign_key="customer.id")
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow)


#: The partial index of the licenses customers hold, in seq order (revision 0008).
HELD_INDEX = "ix_license_held_seq"

#: `report inventory`'s covering index: name, then columns (store/schema.py, 0007).
INVENTORY_INDEX = (
    "ix_license_inventory",
    "customer_pk",
    "type",
    "status",
    "partner_id",
    "quantity",
    "active_copies",
)


class License(_Table, table=True):
    __tablename__ = "license"
    # The natural key's partial unique index (uq_license_po_line) is PO_LINE_INDEX below.
    __table_args__ = (
        Index("ix_license_po_key", "po_key", "seq"),
        Index("ix_license_partner_seq", "partner_id", "seq"),
        Index("ix_license_customer_seq", "customer_pk", "seq"),
        Index("ix_license_parent", "parent_id"),
        # Covers `report inventory`: every figure of every license, in the customer key's
        # order (by customer without a sort; by type and the total without the table).
        Index(*INVENTORY_INDEX),
    )

    # seq orders licenses oldest first and drives keyset paging (`--after ID`).
    seq: int | None = Field(default=None, primary_key=True)
    license_id: str = Field(max_length=36, unique=True)
    partner_id: int = Field(foreign_key="partner.id")
    customer_pk: int | None = Field(default=None, foreign_key="customer.id")
    type: LicenseType = Field(sa_type=_enum(LicenseType))
    devices: int
    quantity: int
    term_months: int | None = None
    purchase_order: str = Field(max_length=100)
    po_key: str = Field(max_length=100)
    po_line: int = 1
    status: LicenseStatus = Field(default=LicenseStatus.AVAILABLE, sa_type=_enum(LicenseStatus))
    # Copies bound to SmartServers right now; kept on the row so that status and
    # free copies need no join and the activation check is a single-row lock.
    active_copies: int = 0
    parent_id: str | None = Field(default=None, max_length=36)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


#: The natural key of a purchased license: unique among originals only, since a
#: transfer's successors repeat their ancestor's PO line (docs/domain.md, rule 2), and
#: void licenses do not hold it (their PO line may be imported again). Plain
#: DDL that SQLite and PostgreSQL both accept: declared with `postgresql_where`, the index
#: would load SQLAlchemy's PostgreSQL dialect on every start, SQLite stores included.
PO_LINE_INDEX = DDL(  # type: ignore[no-untyped-call]
    "CREATE UNIQUE INDEX uq_license_po_line ON license (partner_id, po_key, po_line) "
    "WHERE parent_id IS NULL AND status <> 'void'"
)
event.listen(License.__table__, "after_create", PO_LINE_INDEX)  # type: ignore[attr-defined]

#: PostgreSQL: the licenses customers hold, oldest first (`license list --inventory
#: customer`). They are successors, minted by transfers and so often newer than most
#: licenses (the import adds them all at its end), and walking the primary key for them
#: read a million rows to find a page (store/schema.py, revision 0008). SQLite's planner
#: scans the table for that query whatever the index (without statistics, which
#: licensectl does not gather there), so it gets none. Plain DDL, as PO_LINE_INDEX is.
HELD_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {HELD_INDEX} ON license (seq) WHERE customer_pk IS NOT NULL"
)
event.listen(
    License.__table__,  # type: ignore[attr-defined]
    "after_create",
    DDL(HELD_INDEX_SQL).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)


class SmartServer(_Table, table=True):
    __tablename__ = "smartserver"

    id: int | None = Field(default=None, primary_key=True)
    install_code: str = Field(max_length=128, unique=True)
    name: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class Activation(_Table, table=True):
    """Copies of one license bound to one SmartServer; copies 0 means returned."""

    __tablename__ = "activation"
    __table_args__ = (
        UniqueConstraint("license_seq", "smartserver_id", name="uq_activation_license_server"),
        Index("ix_activation_server", "smartserver_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    license_seq: int = Field(foreign_key="license.seq")
    smartserver_id: int = Field(foreign_key="smartserver.id")
    copies: int
    mode: ActivationMode = Field(sa_type=_enum(ActivationMode))
    activated_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    maintenance_expires: datetime | None = Field(default=None, index=True)


class OfflineRequest(_Table, table=True):
    """An answered offline activation request, kept so a replay gets the same bytes (rule 6).

    Keyed by the canonical install code (domain.clean_install_code) and the nonce; the
    digest tells a true replay from a nonce reused with other content.
    """

    __tablename__ = "offline_request"
    __table_args__ = (UniqueConstraint("install_code", "nonce", name="uq_offline_request_nonce"),)

    id: int | None = Field(default=None, primary_key=True)
    install_code: str = Field(max_length=128)
    nonce: str = Field(max_length=128)
    request_digest: str = Field(max_length=64)
    key_id: str = Field(max_length=16)
    #: The signed response file, byte for byte as first handed out.
    response: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    actor: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Event(_Table, table=True):
    """Append-only audit record: nothing ever updates or deletes a row here."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    #: Indexed for `report activity` (events since a day).
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    license_id: str | None = Field(default=None, max_length=36, index=True)
    customer_id: str | None = Field(default=None, max_length=36, index=True)
    partner_id: int | None = Field(default=None)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: SHA-256 over this event and the previous one's hash (licensectl/store/audit.py).
    hash: str | None = Field(default=None, max_length=64)


class EventDay(_Table, table=True):
    """Events a day, by actor, action and partner: what `report activity` adds up, so that
    it reads a few rows a day rather than every event (store/audit.py `count_days`).

    Kept by the writers of events, in the same transaction and under the same chain lock;
    events are never changed or deleted, so a count only grows. `day` is the event's
    `at` as YYYY-MM-DD (UTC); `partner_id` 0 stands for an event of no partner.
    """

    __tablename__ = "event_day"

    day: str = Field(primary_key=True, max_length=10)
    actor: str = Field(primary_key=True, max_length=200)
    action: str = Field(primary_key=True, max_length=64)
    partner_id: int = Field(primary_key=True)
    count: int


class ApiToken(_Table, table=True):
    """A bearer token of `licensectl serve`: who it acts as, and only the hash of its secret.

    Tokens are never deleted: a revoked one stays, so the events it made keep naming a
    token that can still be looked up.
    """

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    #: Short, random and public: what lists, revocations and logs name.
    token_id: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200, unique=True)
    role: Role = Field(sa_type=_enum(Role))
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    customer_pk: int | None = Field(default=None, foreign_key="customer.id")
    #: SHA-256 of the secret, hex: the secret itself is shown once and never stored.
    secret_hash: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class IdempotencyRecord(_Table, table=True):
    """The answer to a write sent with an `Idempotency-Key`, kept for retries (24 h).

    `key_hash` covers the key and who sent it, so one client's key never meets
    another's. `status` is None while the first request runs; the answer is encrypted
    with a key derived from the Idempotency-Key itself (which the store never keeps), so
    the store holds no readable answer: a new token's secret among them.
    """

    __tablename__ = "idempotency_key"

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    #: SHA-256 of the request (method, path, query, body); None until it is known.
    fingerprint: str | None = Field(default=None, max_length=64)
    status: int | None = None
    media_type: str | None = Field(default=None, max_length=100)
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LoginFailure(_Table, table=True):
    """A failed EID login, by client address (hashed): shared by every server worker."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_client_at", "client", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


class SchemaMigration(_Table, table=True):
    __tablename__ = "schema_migration"

    version: int = Field(primary_key=True)
    name: str
    applied_at: datetime = Field(default_factory=utcnow)
