"""`Idempotency-Key`: what a key and a request are, and how an answer is kept and replayed.

The same key with the same request (method, path, query and body) replays the first
answer, status and bytes; with another request it is refused (409). Keys are scoped by
who sends them (the token; `public` for the routes that need none), so two clients
never meet each other's keys.

The store keeps only a hash of the key, and the answer sealed (AES-GCM) with a key
derived from the Idempotency-Key itself: a copy of the store yields no answer, so not
the secret of a token an answer carried either.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request
from fastapi.responses import Response

from licensectl.contract.api import IDEMPOTENCY_HEADER, IDEMPOTENT_REPLAY_HEADER
from licensectl.errors import ConflictError, UsageError
from licensectl.service.idempotency import Recorded

_KEY_RE: Final = re.compile(r"^[\x21-\x7e]{1,200}$")
_NONCE: Final = 12
#: Statuses whose answer is kept. Not a 5xx (a retry should run again), 401 (nothing was
#: done), 408, 413 or 429 (the request did not get to run).
_NOT_KEPT: Final = frozenset({401, 408, 413, 429})


def kept(status: int) -> bool:
    return status < 500 and status not in _NOT_KEPT


@dataclass(frozen=True)
class Key:
    """One client's Idempotency-Key."""

    value: str
    scope: str

    @property
    def hash(self) -> str:
        data = b"\0".join((b"licensectl-idempotency-v1", self.scope.encode(), self.value.encode()))
        return hashlib.sha256(data).hexdigest()

    def _aead(self) -> AESGCM:
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"licensectl-idempotency-v1",
            info=self.scope.encode(),
        ).derive(self.value.encode())
        return AESGCM(key)

    def seal(self, body: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead().encrypt(nonce, body, None)

    def open(self, sealed: bytes) -> bytes:
        return self._aead().decrypt(sealed[:_NONCE], sealed[_NONCE:], None)


def key_of(request: Request, scope: str) -> Key | None:
    """The request's Idempotency-Key, if it sent one; a malformed one is a usage error."""
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not _KEY_RE.match(value):
        raise UsageError(
            f"{IDEMPOTENCY_HEADER} must be 1 to 200 printable ASCII characters, e.g. a UUID",
            field=IDEMPOTENCY_HEADER,
        )
    return Key(value, scope)


def request_digest(request: Request) -> hashlib._Hash:
    """A digest started over what identifies a request besides its body."""
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest


def replay(found: Recorded, key: Key, fingerprint: str) -> Response:
    """The answer recorded under the key, or why there is none to give (409)."""
    if found.status is None or found.body is None or found.fingerprint is None:
        raise ConflictError(
            f"a request with this {IDEMPOTENCY_HEADER} is still running, or was cut short "
            "after it had begun (some of a batch's operations may have run): check, and "
            "send new requests with a new key",
            field=IDEMPOTENCY_HEADER,
        )
    reused = ConflictError(
        f"this {IDEMPOTENCY_HEADER} was used for another request (another path or body); "
        "use a new key for a new request",
        field=IDEMPOTENCY_HEADER,
    )
    if found.fingerprint != fingerprint:
        raise reused
    try:
        body = key.open(found.body)
    except InvalidTag:
        raise reused from None
    return Response(
        body,
        status_code=found.status,
        media_type=found.media_type,
        headers={IDEMPOTENT_REPLAY_HEADER: "true"},
    )
