"""The shared machinery of the local backend: who is acting, what they may reach, and
the transactions every operation runs in."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from licensectl import domain
from licensectl.contract.models import Principal
from licensectl.domain import Role, utcnow
from licensectl.errors import AuthError, ConflictError, PermissionDeniedError
from licensectl.models import Customer, License, Partner
from licensectl.store.audit import NewEvent, append_events, lock_chain
from licensectl.store.engine import Store
from licensectl.store.gate import Access, prepare


def local_operator() -> Principal:
    """On a local store the operator acts as admin."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Principal(role=Role.ADMIN, name=f"local:{user}")


@dataclass(frozen=True)
class Scope:
    """What a principal reaches, as row keys: None means no limit on that level.

    An admin's scope is everything; a partner's is its partner's rows; a customer's is
    its own account's (and of its partner only what its licenses name).
    """

    partner_id: int | None = None
    customer_pk: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.partner_id is None


def _insert(s: Session, row: Any, conflict: str) -> None:
    """Insert one row; a unique-key race lost to another writer becomes a conflict.

    The explicit checks before each insert give the precise message; this catches the
    window between check and insert on PostgreSQL, where we lock rows, not the table.
    The savepoint keeps the outer transaction usable for a clean rollback.
    """
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError:
        raise ConflictError(conflict) from None


class _DryRun(Exception):
    """Raised inside a write transaction to roll it back while keeping a result."""

    def __init__(self, result: Any) -> None:
        super().__init__("dry run")
        self.result = result


def license_state(lic: License) -> domain.LicenseState:
    """What the pure transfer and activation rules need to know about a stored license."""
    return domain.LicenseState(
        license_id=lic.license_id,
        partner_id=lic.partner_id,
        customer_pk=lic.customer_pk,
        status=lic.status,
        quantity=lic.quantity,
        active_copies=lic.active_copies,
    )


class BaseBackend:
    """A principal's view of one store: cheap to make, one per request if need be.

    The store is opened, checked and migrated once per process (`Store`); a backend
    only adds who is asking and the transactions their operations run in.
    """

    def __init__(
        self,
        store: Store,
        *,
        principal: Principal | None = None,
        default_partner: str | None = None,
    ) -> None:
        self.store = store
        self.principal = principal or local_operator()
        self.default_partner = default_partner
        self._outer: Session | None = None
        self._scope: Scope | None = None

    @classmethod
    def open(cls, url: str, *, embedded: bool = False, **kwargs: Any) -> Self:
        """A backend on the store at `url`; `embedded` for the default store, the one
        store any command creates on first use."""
        return cls(Store(url, embedded=embedded), **kwargs)

    def close(self) -> None:
        self.store.dispose()

    def whoami(self) -> Principal:
        return self.principal

    # --- transactions ---------------------------------------------------------

    def _ready(self, *, write: bool = False) -> Store:
        """The store, checked (and created or upgraded, where the rules allow: store/gate.py)
        once per process: a second backend on the same store runs no schema query."""
        if not self.store._schema_ready:
            prepare(self.store, Access.WRITE if write else Access.READ)
        return self.store

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """Run several operations as one transaction: all of them or none."""
        if self._outer is not None:
            yield
            return
        with self._ready(write=True).write() as session:
            lock_chain(session.connection())
            self._outer = session
            try:
                yield
            finally:
                self._outer = None

    @contextmanager
    def _write(self) -> Iterator[Session]:
        if self._outer is not None:
            # Inside _atomic(): a failed operation must not leave half its rows behind
            # while the batch goes on, so each runs in a savepoint of the outer one.
            with self._outer.begin_nested():
                yield self._outer
            return
        with self._ready(write=True).write() as session:
            lock_chain(session.connection())
            yield session

    @contextmanager
    def _read(self, *, transaction: bool = False) -> Iterator[Session]:
        """A session for reading: on PostgreSQL its statements run without a transaction
        (`Store.query`) unless `transaction` (a server-side cursor needs one)."""
        if self._outer is not None:
            yield self._outer
            return
        store = self._ready()
        with store.read() if transaction else store.query() as session:
            yield session

    def _event(
        self,
        session: Session,
        action: str,
        *,
        license_id: str | None = None,
        customer_id: str | None = None,
        partner_id: int | None = None,
        **details: Any,
    ) -> None:
        """Append one event to the audit log, chained to the one before it."""
        append_events(
            session.connection(),
            [
                NewEvent(
                    utcnow(),
                    self.principal.actor,
                    action,
                    license_id,
                    customer_id,
                    partner_id,
                    details,
                )
            ],
        )

    # --- who may do what ------------------------------------------------------

    def _scope_of(self, s: Session) -> Scope:
        """The principal's scope as row keys, resolved once per backend."""
        if self._scope is None:
            self._scope = self._resolve_scope(s)
        return self._scope

    def _resolve_scope(self, s: Session) -> Scope:
        p = self.principal
        if p.role is Role.ADMIN:
            return Scope()
        if p.role is Role.CUSTOMER:
            found = (
                s.exec(select(Customer).where(Customer.customer_id == p.customer_id)).first()
                if p.customer_id
                else None
            )
            if found is None:
                raise AuthError("the customer account of this login no longer exists")
            return Scope(partner_id=found.partner_id, customer_pk=found.id)
        partner = (
            s.exec(select(Partner).where(Partner.name_key == domain.name_key(p.partner))).first()
            if p.partner
            else None
        )
        if partner is None:
            raise AuthError("the partner of this login no longer exists")
        return Scope(partner_id=partner.id)

    def _allow(self, *roles: Role, action: str) -> None:
        """Refuse an action the principal's role may not take (exit 5).

        Call it once the object acted on is known to be in scope: an object outside the
        scope must answer "not found", never "forbidden".
        """
        if self.principal.role not in roles:
            who = "the partner or Customer Success" if Role.PARTNER in roles else "Customer Success"
            raise PermissionDeniedError(
                f"a {self.principal.role.value} login may not {action}; ask {who}"
            )
