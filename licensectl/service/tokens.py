"""API tokens of `licensectl serve`: creating, listing, revoking, the EID login, and
turning a bearer secret back into a principal.

A token's secret is `lctl_` and 256 random bits (URL-safe base64). It is shown once, in
the `TokenCreated` that makes it; the store keeps only its SHA-256, so a copy of the
store cannot be used to act as anyone. The token id is short, random and public: lists,
revocations and the audit log name a token by it.

Every request is checked against the store (`authenticate`), with no cache, so a revoked
or expired token is refused at once by every server worker.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.contract.models import Principal, TokenCreated, TokenPublic, format_utc
from licensectl.domain import Role, utcnow
from licensectl.errors import AuthError, ConflictError, NotFoundError, UsageError
from licensectl.models import ApiToken, Customer, License, LoginFailure, Partner
from licensectl.service.base import BaseBackend, _insert
from licensectl.service.lookup import Lookups

if TYPE_CHECKING:
    from licensectl.contract.requests import EidLogin, TokenCreate
    from licensectl.store.engine import Store

SECRET_PREFIX: Final = "lctl_"
#: A customer token from an EID login lasts a working day; a new login gives a new one.
EID_TOKEN_LIFETIME: Final = timedelta(hours=12)
#: `expires_in_days` may be at most this (ten years); leave it out for no expiry.
MAX_EXPIRY_DAYS: Final = 3650
#: `last_used_at` is written at most this often per token: a write per request would
#: make every read a write.
LAST_USED_EVERY: Final = timedelta(minutes=1)
#: Who an EID login is recorded as having been made by.
EID_CREATOR: Final = "eid-login"
#: The principal of requests that need no token (the public key, the EID login). It
#: reaches nothing: a customer principal with no account, whose scope cannot resolve.
ANONYMOUS: Final = Principal(role=Role.CUSTOMER, name="anonymous")

_EID_REFUSED: Final = (
    "no customer account holds that License ID: log in with a License ID (EID) of a "
    "license in your account"
)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _new_token_id() -> str:
    return secrets.token_hex(6)


class TokenOps(Lookups):
    """`token create|list|revoke` (admin; anyone may revoke its own) and the EID login."""

    def token_create(self, request: TokenCreate) -> TokenCreated:
        self._allow(Role.ADMIN, action="create API tokens")
        lifetime = _lifetime(request.expires_in_days)
        name = (
            domain.clean_name(request.name, what="token name") if request.name is not None else None
        )
        with self._write() as s:
            partner_id, customer_pk = self._token_scope(s, request)
            row, secret = self._mint(
                s,
                role=request.role,
                name=name,
                partner_id=partner_id,
                customer_pk=customer_pk,
                lifetime=lifetime,
                created_by=self.principal.actor,
            )
            created = TokenCreated(token=_public(s, row), secret=secret)
            self._event(
                s,
                "token.create",
                customer_id=created.token.customer_id,
                partner_id=partner_id,
                token_id=row.token_id,
                name=row.name,
                role=row.role.value,
                partner=created.token.partner,
                expires_at=_iso(row.expires_at),
            )
            return created

    def token_list(self) -> list[TokenPublic]:
        self._allow(Role.ADMIN, action="list API tokens")
        with self._read() as s:
            rows = s.exec(select(ApiToken).order_by(col(ApiToken.id))).all()
            return [_public(s, row) for row in rows]

    def token_revoke(self, token_id: str) -> TokenPublic:
        """Revoke a token: an admin any, anyone its own (logout). Revoking a revoked
        token changes nothing. Another's token is not found, as if it did not exist."""
        wanted = token_id.strip().lower()
        with self._write() as s:
            row = s.exec(
                select(ApiToken).where(ApiToken.token_id == wanted).with_for_update()
            ).first()
            own = self.principal.token_id is not None and self.principal.token_id == wanted
            if row is None or not (own or self.principal.role is Role.ADMIN):
                raise NotFoundError(f"no API token {token_id!r} (see 'licensectl token list')")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                s.add(row)
                s.flush()
                self._event(
                    s,
                    "token.revoke",
                    partner_id=row.partner_id,
                    customer_id=_customer_id(s, row.customer_pk),
                    token_id=row.token_id,
                    name=row.name,
                )
            return _public(s, row)

    def login_eid(self, request: EidLogin) -> TokenCreated:
        """A customer token for the account holding that License ID (the EID login).

        An unknown License ID, a malformed one and one in a partner's own inventory are
        refused with the same words (401), so the answer tells nothing about licenses one
        does not hold. The token lasts `EID_TOKEN_LIFETIME`.
        """
        text = request.license_id.strip()
        if not domain.looks_like_uuid(text):
            raise AuthError(_EID_REFUSED)
        license_id = domain.parse_uuid(text, what="License ID")
        with self._write() as s:
            # Unscoped on purpose: the caller has no scope yet, the License ID is the proof.
            lic = s.exec(select(License).where(License.license_id == license_id)).first()
            customer = s.get(Customer, lic.customer_pk) if lic and lic.customer_pk else None
            if customer is None:
                raise AuthError(_EID_REFUSED)
            row, secret = self._mint(
                s,
                role=Role.CUSTOMER,
                name=None,
                partner_id=customer.partner_id,
                customer_pk=customer.id,
                lifetime=EID_TOKEN_LIFETIME,
                created_by=EID_CREATOR,
                prefix="eid",
            )
            created = TokenCreated(token=_public(s, row), secret=secret)
            # The login is recorded as the principal it creates: its later events name
            # the same actor, so the history reads as one session.
            BaseBackend(self.store, principal=_principal(created.token))._event(
                s,
                "token.login-eid",
                customer_id=customer.customer_id,
                partner_id=customer.partner_id,
                token_id=row.token_id,
                expires_at=_iso(row.expires_at),
            )
            return created

    # --- helpers -----------------------------------------------------------------

    def _token_scope(self, s: Session, request: TokenCreate) -> tuple[int | None, int | None]:
        """(partner row id, customer row id) a token of this role is scoped to."""
        if request.role is Role.ADMIN:
            for given, field in ((request.partner, "partner"), (request.customer, "customer")):
                if given is not None:
                    raise UsageError(
                        f"an admin token reaches everything: leave out {field}", field=field
                    )
            return None, None
        if request.role is Role.PARTNER:
            if request.customer is not None:
                raise UsageError(
                    "a partner token is scoped by its partner alone: leave out customer, or "
                    "make a customer token",
                    field="customer",
                )
            return self._partner(s, request.partner).id, None
        if request.customer is None:
            raise UsageError(
                "a customer token needs the customer (ID or name) it is scoped to",
                field="customer",
            )
        found = self._customer(s, request.customer, partner=request.partner)
        return found.partner_id, found.id

    def _mint(
        self,
        s: Session,
        *,
        role: Role,
        name: str | None,
        partner_id: int | None,
        customer_pk: int | None,
        lifetime: timedelta | None,
        created_by: str,
        prefix: str | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token row and its secret (which goes nowhere but the caller's result).

        Created and expiring from one reading of the clock: two readings could straddle a
        second, and the token would last a second less than it says."""
        now = utcnow()
        token_id = _new_token_id()
        name = name or f"{prefix or role.value}-{token_id}"
        key = domain.name_key(name)
        taken = f"an API token named {name!r} exists already; choose another name"
        if s.exec(select(ApiToken.id).where(ApiToken.name_key == key)).first() is not None:
            raise ConflictError(taken, field="name")
        secret = _new_secret()
        row = ApiToken(
            token_id=token_id,
            name=name,
            name_key=key,
            role=role,
            partner_id=partner_id,
            customer_pk=customer_pk,
            secret_hash=secret_hash(secret),
            created_by=created_by,
            created_at=now,
            expires_at=now + lifetime if lifetime is not None else None,
        )
        _insert(s, row, taken)
        return row, secret


def _lifetime(days: int | None) -> timedelta | None:
    if days is None:
        return None
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise UsageError(
            f"a token expires in 1 to {MAX_EXPIRY_DAYS} days (leave it out for never), not {days}",
            field="expires_in_days",
        )
    return timedelta(days=days)


def _iso(moment: datetime | None) -> str | None:
    return format_utc(moment) if moment is not None else None


def _customer_id(s: Session, customer_pk: int | None) -> str | None:
    if customer_pk is None:
        return None
    found = s.get(Customer, customer_pk)
    return found.customer_id if found is not None else None


def _public(s: Session, row: ApiToken) -> TokenPublic:
    partner = s.get(Partner, row.partner_id) if row.partner_id is not None else None
    return TokenPublic(
        token_id=row.token_id,
        name=row.name,
        role=row.role,
        partner=partner.name if partner is not None else None,
        customer_id=_customer_id(s, row.customer_pk),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _principal(token: TokenPublic) -> Principal:
    return Principal(
        role=token.role,
        name=token.name,
        partner=token.partner,
        customer_id=token.customer_id,
        token_id=token.token_id,
    )


# --- the server's side: who sent this request? ----------------------------------------


def authenticate(store: Store, secret: str | None, *, now: datetime | None = None) -> Principal:
    """The principal a bearer secret stands for, looked up in the store on every call.

    No, unknown, revoked and expired secrets raise `AuthError` (HTTP 401). Nothing is
    cached, so a revocation made by any process holds for the next request everywhere.
    """
    if not secret:
        raise AuthError(
            "this needs an API token: send 'Authorization: Bearer lctl_…' "
            "(an admin makes one with 'licensectl token create')"
        )
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        raise AuthError("that is not a licensectl API token (they start with 'lctl_')")
    with store.read() as s:
        row = s.exec(select(ApiToken).where(ApiToken.secret_hash == secret_hash(secret))).first()
        if row is None:
            raise AuthError("unknown API token: mistyped, or from another server")
        if row.revoked_at is not None:
            raise AuthError(f"API token {row.token_id} was revoked; ask for a new one")
        if row.expires_at is not None and row.expires_at <= (now or utcnow()):
            raise AuthError(f"API token {row.token_id} has expired; log in again")
        return _principal(_public(s, row))


def token_used(store: Store, token_id: str, *, now: datetime | None = None) -> None:
    """Record that a token was used: at most one write per token a minute.

    The update is conditional, so several workers recording the same minute write once.
    """
    now = now or utcnow()
    with store.write() as s:
        s.execute(
            update(ApiToken)
            .where(
                col(ApiToken.token_id) == token_id,
                or_(
                    col(ApiToken.last_used_at).is_(None),
                    col(ApiToken.last_used_at) < now - LAST_USED_EVERY,
                ),
            )
            .values(last_used_at=now)
        )


# --- failed logins, counted in the store so that every worker sees them ---------------


def client_key(address: str) -> str:
    """How a client address is kept: hashed, since nothing needs the address itself."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:32]


def recent_login_failures(
    store: Store, client: str, *, window: timedelta, now: datetime | None = None
) -> int:
    since = (now or utcnow()) - window
    with store.read() as s:
        count = s.execute(
            select(func.count())
            .select_from(LoginFailure)
            .where(col(LoginFailure.client) == client, col(LoginFailure.at) > since)
        ).scalar_one()
    return int(count)


def record_login_failure(
    store: Store, client: str, *, window: timedelta, now: datetime | None = None
) -> None:
    """Count a failed login; failures older than the window go, so the table stays as
    small as the failures of the last window."""
    now = now or utcnow()
    with store.write() as s:
        s.execute(delete(LoginFailure).where(col(LoginFailure.at) <= now - window))
        s.add(LoginFailure(client=client, at=now))
