"""The store itself (check, upgrade, backup) and the portal's signing keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from licensectl.contract.models import KeyPublic, StoreBackup, StoreCheckReport, StoreSchema
from licensectl.domain import Role
from licensectl.service.base import BaseBackend
from licensectl.service.integrity import check_store
from licensectl.store.schema import LATEST, current_version, ensure_schema, store_schema
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

    def db_check(self) -> StoreCheckReport:
        """Check the store's files and every invariant the domain puts on its rows."""
        self._allow(Role.ADMIN, action="check the store")
        # Not self._read(): that would upgrade the store, and the check reports pending
        # revisions instead (exit 7).
        state = store_schema(self.store)
        with self.store.read() as s:
            report = check_store(s, self.store, state)
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
        state = ensure_schema(self.store)
        self.store._schema_ready = True  # type: ignore[attr-defined]
        with self._read() as s:
            version = current_version(s.connection())
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
