"""Idempotency keys: the answers to writes sent with an `Idempotency-Key`, kept 24 hours.

The server (licensectl.server.idempotency) decides what a key and a request are; this
module keeps their records in the store, so they hold across restarts and workers.

A single operation and its recorded answer are one transaction (`transaction`): the key
is claimed first, inside it, so a retry either finds the whole answer or finds nothing
happened. Two requests with one key at once cannot both run: on SQLite the write
transaction is `BEGIN IMMEDIATE`; on PostgreSQL the second claim waits on the first's
unique-key insert until that transaction ends, then finds its answer.

A batch commits as it goes, so its key is claimed in a transaction of its own first
(`claim_now`) and its answer recorded once it has run (`record_now`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from licensectl.domain import utcnow
from licensectl.models import IdempotencyRecord

if TYPE_CHECKING:
    from licensectl.service.base import BaseBackend
    from licensectl.store.engine import Store

#: How long a key is remembered: at least this long, until the next purge.
KEEP: Final = timedelta(hours=24)
#: How often (seconds) a process purges every expired record, on its next claim.
PURGE_EVERY: Final = 600.0

_last_purge = 0.0


@dataclass(frozen=True)
class Recorded:
    """What the store holds under a key."""

    fingerprint: str | None
    #: None while the first request runs, or after it was interrupted mid-way.
    status: int | None
    media_type: str | None
    body: bytes | None


@contextmanager
def transaction(backend: BaseBackend) -> Iterator[Session]:
    """One write transaction for a backend's next operation and the key's record: the
    operation runs in a savepoint inside it, so a refused operation still leaves its
    answer to be recorded."""
    with backend._atomic():
        assert backend._outer is not None
        yield backend._outer


def claim(s: Session, key_hash: str, *, now: datetime | None = None) -> Recorded | None:
    """Take the key in this transaction (None), or what an earlier request left under it."""
    now = now or utcnow()
    _purge(s, key_hash, now)
    try:
        with s.begin_nested():
            s.add(IdempotencyRecord(key_hash=key_hash, created_at=now))
    except IntegrityError:
        found = s.exec(
            select(IdempotencyRecord).where(IdempotencyRecord.key_hash == key_hash)
        ).first()
        if found is None:  # pragma: no cover - the holder rolled back after our insert failed
            return Recorded(None, None, None, None)
        return Recorded(found.fingerprint, found.status, found.media_type, found.body)
    return None


def record(
    s: Session,
    key_hash: str,
    *,
    fingerprint: str,
    status: int,
    media_type: str,
    body: bytes,
) -> None:
    """The answer to the request that claimed the key."""
    s.execute(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.key_hash) == key_hash)
        .values(fingerprint=fingerprint, status=status, media_type=media_type, body=body)
    )


def claim_now(store: Store, key_hash: str) -> Recorded | None:
    """`claim`, committed at once: for a request that commits as it goes (a batch)."""
    with store.write() as s:
        return claim(s, key_hash)


def record_now(
    store: Store,
    key_hash: str,
    *,
    fingerprint: str,
    status: int,
    media_type: str,
    body: bytes,
) -> None:
    with store.write() as s:
        record(
            s, key_hash, fingerprint=fingerprint, status=status, media_type=media_type, body=body
        )


def release(store: Store, key_hash: str) -> None:
    """Forget a claim whose request changed nothing, so that a retry runs it."""
    with store.write() as s:
        s.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.key_hash) == key_hash))


def _purge(s: Session, key_hash: str, now: datetime) -> None:
    """Expired records go: this key's at once, all of them every PURGE_EVERY seconds."""
    global _last_purge
    cutoff = now - KEEP
    stale = col(IdempotencyRecord.created_at) < cutoff
    if time.monotonic() - _last_purge > PURGE_EVERY:
        _last_purge = time.monotonic()
        s.execute(delete(IdempotencyRecord).where(stale))
    else:
        s.execute(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.key_hash) == key_hash, stale)
        )
