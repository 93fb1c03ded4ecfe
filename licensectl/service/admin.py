"""The store itself (check, upgrade, backup) and the portal's signing keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from licensectl.contract.models import KeyPublic, StoreBackup, StoreCheckReport, StoreSchema
from licensectl.domain import Role
from licensectl.service.base import BaseBackend
from licensectl.service.integrity import check_store
from licensectl.store.gate import Access, prepare, probe
from licensectl.store.schema import LATEST, current_version, schema_state, store_schema
from licensectl.store.search_index import search_mode
from licensectl.store.url import redact_url

if TYPE_CHECKING:
    from licensectl.keys import KeyInfo, KeyStore


class AdminOps(BaseBackend):
    """Store administration (admin only) and signing keys (public part for anyone)."""

    _key_store: KeyStore | None = None

    @property
    def key_store(self) -> KeyStore:
        """The portal's signing keys (LICENSECTL_KEY_DIR, else the user data dir)."""
        if self._key_store is None:
            from licensectl.keys import KeyStore  # not every store command signs

            self._key_store = KeyStore()
        return self._key_store

    @key_store.setter
    def key_store(self, value: KeyStore) -> None:
        self._key_store = value

    # --- the store ----------------------------------------------------------------

    def db_check(self, progress: Callable[[float], None] | None = None) -> StoreCheckReport:
        """Check the store's files and every invariant the domain puts on its rows;
        `progress(fraction)` hears now and then how much is done (0 to 1)."""
        self._allow(Role.ADMIN, action="check the store")
        found = probe(self.store)
        if found is None or not 0 < found.version < LATEST:
            # The gate's rules (creates the embedded store, refuses what is not a store
            # or is newer: exit 6). An older store is reported, not upgraded: its pending
            # revisions fail the check (exit 7).
            self._ready()
        state = store_schema(self.store)
        with self.store.read() as s:
            report = check_store(s, self.store, state, progress)
            report.search_index = search_mode(s.connection())
            return report

    def db_backup(self, path: str) -> StoreBackup:
        """Copy a SQLite store, online and consistent, to a new file (store/backup.py)."""
        self._allow(Role.ADMIN, action="back up the store")
        from licensectl.store.backup import backup_sqlite

        copy = backup_sqlite(self._ready(), path)
        return StoreBackup(
            store=redact_url(self.store.url),
            path=copy.path,
            bytes=copy.bytes,
            licenses=copy.licenses,
        )

    def db_upgrade(self) -> StoreSchema:
        """The store's schema version, brought up to date (stores also do it on first use)."""
        self._allow(Role.ADMIN, action="upgrade the store")
        # Looked at afresh, whatever this process remembers: this is the one command that
        # initialises a store on purpose, or repairs a schema record.
        self.store._schema_ready = False
        prepare(self.store, Access.INITIALISE, remembered=False)
        with self._read() as s:
            conn = s.connection()
            version = current_version(conn)
            state = schema_state(conn)
        return StoreSchema(
            store=redact_url(self.store.url),
            version=version,
            latest=LATEST,
            revision=state.revision,
            latest_revision=state.latest,
        )

    # --- signing keys -------------------------------------------------------------

    def keys_list(self) -> list[KeyPublic]:
        return [_key_public(info) for info in self.key_store.list()]

    def keys_public_pem(self, key_id: str | None = None) -> str:
        return self.key_store.public_pem(key_id)

    def keys_rotate(self) -> KeyPublic:
        self._allow(Role.ADMIN, action="rotate the portal's signing keys")
        return _key_public(self.key_store.rotate())


def _key_public(info: KeyInfo) -> KeyPublic:
    return KeyPublic(
        key_id=info.key_id,
        active=info.active,
        created_at=info.created_at,
        public_key_pem=info.public_pem,
    )
