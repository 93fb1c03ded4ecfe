"""The portal's Ed25519 signing keys, kept as files in a private directory.

Keys live outside the database on purpose: a database backup, a replica or a remote
profile must never carry the means to mint activations. Layout of the key directory
(``LICENSECTL_KEY_DIR``, else ``<user data dir>/licensectl/keys``, mode 0700)::

    <key_id>.pem       private key, PKCS#8 PEM, unencrypted, mode 0600
    <key_id>.pub.pem   public key, SubjectPublicKeyInfo PEM (what devices get)
    <key_id>.json      {"key_id": ..., "created_at": ...}
    active             the key id new responses are signed with
    .lock              serialises key creation and rotation between processes
    .<name>.<hex>.tmp  a file of the above being written (fileio.write_atomic)

Rotation adds a key and moves ``active``; old keys stay so that responses they signed
keep verifying. The key id is derived from the public key (see activation.key_id_for),
so a response names its key without naming a file.

Whoever can put a key pair in this directory can mint activations that verify, so every
use, reads included, first checks the directory (owned by the user, no access for group
or others) and everything in it (regular files owned by the user, writable by no one
else, private keys 0600, nothing outside the layout above, no public or metadata file
without its private key). Any deviation is a KeyStoreError (exit 6) naming the path and
the fix. A public key is trusted only as the public half of its private key.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from licensectl.activation import (
    format_timestamp,
    key_id_for,
    load_public_key_pem,
    parse_timestamp,
    public_key_pem,
)
from licensectl.errors import InvalidDataError, NotFoundError, StoreUnavailableError
from licensectl.fileio import temporary_target, write_atomic

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

KEY_DIR_ENV = "LICENSECTL_KEY_DIR"
_KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_PRIVATE_RE = re.compile(r"^([0-9a-f]{16})\.pem$")
_KEY_FILE_RE = re.compile(r"^([0-9a-f]{16})\.(pem|pub\.pem|json)$")
_FIXED_FILES = frozenset({"active", ".lock"})
_LAYOUT = "<key id>.pem, <key id>.pub.pem, <key id>.json, active and .lock"
# POSIX permission bits mean nothing on Windows; there the user profile's ACLs protect us.
_POSIX = os.name == "posix"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class KeyStoreError(StoreUnavailableError):
    """The key directory is unusable: insecure permissions, a missing or corrupt file.

    Exit 6 like a store that cannot be opened: the portal side cannot work, and it is
    not a bug in licensectl.
    """


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never the private part."""

    key_id: str
    public_pem: str
    active: bool
    created_at: datetime


@dataclass(frozen=True, eq=False)
class SigningKey:
    """A private key ready to sign; its repr shows only the key id."""

    key_id: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


def default_key_dir() -> Path:
    """``LICENSECTL_KEY_DIR`` if set, else ``keys`` in the user data directory.

    The data directory is config.data_dir(): platformdirs' user data path, unless
    LICENSECTL_DATA_DIR moves it, so keys follow the default store wherever it goes.
    """
    override = os.environ.get(KEY_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from licensectl.config import data_dir

    return data_dir() / "keys"


def _mode(st_mode: int) -> str:
    return oct(stat.S_IMODE(st_mode))[2:].zfill(4)


class KeyStore:
    """The signing keys in one directory. Nothing is created until a key is needed."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_key_dir()

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    # --- public API -----------------------------------------------------------------

    def active(self) -> SigningKey:
        """The key to sign with; the first call on an empty directory creates it."""
        with self._os_errors():
            self._ensure_dir()
            self._audit()
            key_id = self._read_active()
            if key_id is None:
                with self._lock():
                    # Another process may have created it while we waited for the lock.
                    key_id = self._read_active()
                    if key_id is None:
                        key_id = self._create()
                        self._write_active(key_id)
            return SigningKey(key_id=key_id, private_key=self._load_private(key_id))

    def rotate(self) -> KeyInfo:
        """A new active key; the old ones stay so their responses still verify."""
        with self._os_errors():
            self._ensure_dir()
            self._audit()
            with self._lock():
                key_id = self._create()
                self._write_active(key_id)
            return self._info(key_id, active_id=key_id)

    def list(self) -> builtins.list[KeyInfo]:
        """Every key, oldest first. Creates nothing; never shows a private key."""
        with self._os_errors():
            if not self._audit():
                return []
            active_id = self._read_active()
            infos = [self._info(key_id, active_id=active_id) for key_id in self._key_ids()]
        return sorted(infos, key=lambda info: (info.created_at, info.key_id))

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Key id → public key for every key, old ones included: what verifying needs."""
        with self._os_errors():
            if not self._audit():
                return {}
            return {key_id: self._load_public(key_id) for key_id in self._key_ids()}

    def public_pem(self, key_id: str | None = None) -> str:
        """The PEM to hand to devices: the active key's (created if need be) by default."""
        if key_id is None:
            return public_key_pem(self.active().public_key)
        with self._os_errors():
            if not self._audit() or key_id not in self._key_ids():
                raise NotFoundError(f"no signing key {key_id!r} in {self.path}")
            return public_key_pem(self._load_public(key_id))

    # --- directory and files -----------------------------------------------------------

    def _ensure_dir(self) -> None:
        """Create the directory, 0700, if there is none yet (the first key's first use)."""
        if not os.path.lexists(self.path):
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask; say exactly what we mean.
            os.chmod(self.path, 0o700)

    def _audit(self) -> bool:
        """Refuse a directory that anyone but the user could have put a key into.

        False when there is no directory yet (nothing to trust, nothing to refuse).
        """
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(st.st_mode):
            raise KeyStoreError(
                f"cannot use key directory {self.path}: it exists but is not a directory; "
                f"move it away or set {KEY_DIR_ENV} to a directory"
            )
        if _POSIX:
            me = os.geteuid()
            if st.st_uid != me:
                raise KeyStoreError(
                    f"key directory {self.path} belongs to another user (uid {st.st_uid}), "
                    f"who could plant keys in it; use a directory of your own ({KEY_DIR_ENV}), "
                    f"or, if it is yours, run as root: chown {me} {self.path}"
                )
            # Whoever can write the directory can swap the keys or the active pointer;
            # whoever can enter it can read a key file left readable by mistake.
            if st.st_mode & 0o077:
                raise KeyStoreError(
                    f"key directory {self.path} is open to other users (mode "
                    f"{_mode(st.st_mode)}); only its owner may use it. "
                    f"Run: chmod 700 {self.path}"
                )
        private: set[str] = set()
        dependent: dict[str, Path] = {}
        for name in sorted(os.listdir(self.path)):
            path = self.path / name
            try:
                entry = os.lstat(path)
            except FileNotFoundError:
                continue  # a temporary file renamed into place since listdir
            kind = self._audit_entry(path, entry)
            key_file = _KEY_FILE_RE.match(name)
            if key_file is not None and kind == "pem":
                private.add(key_file.group(1))
            elif key_file is not None:
                dependent.setdefault(key_file.group(1), path)
        for key_id, path in sorted(dependent.items()):
            if key_id not in private:
                raise KeyStoreError(
                    f"{path} in the key directory has no private key {key_id}.pem beside it "
                    f"(a leftover, or planted); remove it: rm {path}"
                )
        for key_id in sorted(private):
            # Each private key must load, be named by its id, and match its .pub.pem.
            self._load_public(key_id)
        return True

    def _audit_entry(self, path: Path, st: os.stat_result) -> str:
        """Check one directory entry; returns its kind ('pem', 'pub.pem', 'json', 'other')."""
        name = path.name
        # A file another process is writing right now (fileio's temporary names).
        temp = temporary_target(name)
        target = temp or name
        key_file = _KEY_FILE_RE.match(target)
        if key_file is None and target not in _FIXED_FILES:
            raise KeyStoreError(
                f"{path} does not belong in the key directory, which holds only {_LAYOUT}; "
                f"move it out of {self.path}"
            )
        kind = key_file.group(2) if key_file else "other"
        if stat.S_ISLNK(st.st_mode):
            raise KeyStoreError(
                f"{path} in the key directory is a symbolic link; key files must be regular "
                f"files. Remove it (rm {path}) or put the file itself there"
            )
        if not stat.S_ISREG(st.st_mode):
            raise KeyStoreError(
                f"{path} in the key directory is not a regular file; move it out of {self.path}"
            )
        if _POSIX:
            if st.st_uid != os.geteuid():
                raise KeyStoreError(
                    f"{path} in the key directory belongs to another user (uid {st.st_uid}) "
                    f"and may have been planted; remove it (rm {path}) unless you know it is "
                    "yours"
                )
            if kind == "pem" and st.st_mode & 0o077:
                raise KeyStoreError(
                    f"private key {path} is accessible by other users (mode "
                    f"{_mode(st.st_mode)}); refusing to use it. Run: chmod 600 {path}"
                )
            if st.st_mode & 0o022:
                raise KeyStoreError(
                    f"{path} in the key directory is writable by other users (mode "
                    f"{_mode(st.st_mode)}); run: chmod go-w {path}"
                )
        return "tmp" if temp is not None else kind

    @contextmanager
    def _os_errors(self) -> Iterator[None]:
        """A full disk or a file where the directory should be: one line, not a traceback."""
        try:
            yield
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise KeyStoreError(f"cannot use key directory {self.path}: {reason}") from None

    @contextmanager
    def _lock(self) -> Iterator[None]:
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT | _O_NOFOLLOW, 0o600)
        try:
            if sys.platform != "win32":
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _key_ids(self) -> builtins.list[str]:
        if not self.path.is_dir():
            return []
        names = (_PRIVATE_RE.match(p.name) for p in self.path.iterdir())
        return sorted(m.group(1) for m in names if m)

    def _read_active(self) -> str | None:
        try:
            key_id = (self.path / "active").read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            key_id = ""
        if not _KEY_ID_RE.match(key_id):
            raise KeyStoreError(f"{self.path / 'active'} does not hold a key id; fix or remove it")
        return key_id

    def _write_active(self, key_id: str) -> None:
        write_atomic(self.path / "active", f"{key_id}\n".encode("ascii"), mode=0o600)

    def _create(self) -> str:
        """Generate a key and write its three files; the private one first and 0600."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        private_key = Ed25519PrivateKey.generate()
        key_id = key_id_for(private_key.public_key())
        pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        write_atomic(self.path / f"{key_id}.pem", pem, mode=0o600)
        public = public_key_pem(private_key.public_key()).encode("ascii")
        write_atomic(self.path / f"{key_id}.pub.pem", public, mode=0o644)
        meta = {"key_id": key_id, "created_at": format_timestamp(datetime.now(UTC))}
        write_atomic(self.path / f"{key_id}.json", json.dumps(meta).encode(), mode=0o644)
        return key_id

    def _load_private(self, key_id: str) -> Ed25519PrivateKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        path = self.path / f"{key_id}.pem"
        data = self._read_private_file(path)
        try:
            key = load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            # Deliberately no detail from the parser: it never needs to echo key bytes.
            raise KeyStoreError(f"{path} is not an unencrypted PKCS#8 PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"{path} is not an Ed25519 key")
        if key_id_for(key.public_key()) != key_id:
            raise KeyStoreError(f"{path} holds a different key than its name says")
        return key

    def _read_private_file(self, path: Path) -> bytes:
        """Read a private key, refusing one that others could read (like ssh does)."""
        try:
            fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW)
        except FileNotFoundError:
            raise KeyStoreError(f"private key {path} is missing") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot open private key {path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if _POSIX and st.st_mode & 0o077:
                raise KeyStoreError(
                    f"private key {path} is accessible by other users (mode "
                    f"{_mode(st.st_mode)}); refusing to use it. Run: chmod 600 {path}"
                )
            return handle.read()

    def _load_public(self, key_id: str) -> Ed25519PublicKey:
        """The public half of the private key; its `.pub.pem`, when present, must match."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        derived = self._load_private(key_id).public_key()
        path = self.path / f"{key_id}.pub.pem"
        try:
            fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW)
        except FileNotFoundError:
            # The public half is derivable; a lost .pub.pem must not strand the key.
            return derived
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
        try:
            key = load_public_key_pem(data)
        except InvalidDataError as exc:
            raise KeyStoreError(f"{path}: {exc.message}") from None
        # The private key is the truth (its id was checked against its name); a key id
        # is only 64 bits of a hash, so compare the whole key, not the id.
        raw = (Encoding.Raw, PublicFormat.Raw)
        if key.public_bytes(*raw) != derived.public_bytes(*raw):
            raise KeyStoreError(
                f"{path} does not match the private key {key_id}.pem beside it; remove it "
                f"(rm {path}): licensectl derives the public key from the private one"
            )
        return derived

    def _info(self, key_id: str, *, active_id: str | None) -> KeyInfo:
        return KeyInfo(
            key_id=key_id,
            public_pem=public_key_pem(self._load_public(key_id)),
            active=key_id == active_id,
            created_at=self._created_at(key_id),
        )

    def _created_at(self, key_id: str) -> datetime:
        try:
            meta = json.loads((self.path / f"{key_id}.json").read_text(encoding="utf-8"))
            return parse_timestamp(str(meta["created_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            # Metadata is a convenience; fall back to when the key file was written.
            mtime = (self.path / f"{key_id}.pem").stat().st_mtime
            return datetime.fromtimestamp(mtime, UTC).replace(microsecond=0)
