"""The portal's signing keys (licensectl/keys.py): files, modes, rotation, secrecy."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from licensectl import activation as act
from licensectl.errors import InvalidDataError, NotFoundError
from licensectl.keys import KeyStore, KeyStoreError, SigningKey, default_key_dir

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys"
    monkeypatch.setenv("LICENSECTL_KEY_DIR", str(path))
    return path


@pytest.fixture
def store(key_dir: Path) -> KeyStore:
    return KeyStore(key_dir)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_response(store: KeyStore) -> tuple[act.ActivationRequest, bytes]:
    request = act.new_request(
        install_code="SS-1", name=None, licenses=[("b1e52546-f2db-4053-b2dd-2ab2fa7732d2", 1)]
    )
    payload = act.response_payload(
        request,
        licenses=[
            {
                "license_id": "b1e52546-f2db-4053-b2dd-2ab2fa7732d2",
                "type": "capacity",
                "devices": 200,
                "copies": 1,
                "term_months": None,
                "maintenance_expires": None,
            }
        ],
        capacity=200,
        maintenance_devices=0,
        covered=False,
    )
    key = store.active()
    signed = act.sign_response(payload, key_id=key.key_id, private_key=key.private_key)
    return request, act.dump_file(signed)


# --- where the keys live ------------------------------------------------------------


def test_key_dir_comes_from_the_environment(key_dir: Path) -> None:
    assert default_key_dir() == key_dir
    assert KeyStore().path == key_dir


def test_key_dir_defaults_to_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.delenv("LICENSECTL_KEY_DIR")
    monkeypatch.delenv("LICENSECTL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_key_dir() == platformdirs.user_data_path("licensectl") / "keys"
    monkeypatch.setenv("LICENSECTL_DATA_DIR", str(tmp_path / "data"))
    assert default_key_dir() == tmp_path / "data" / "keys"


def test_nothing_is_created_until_a_key_is_needed(store: KeyStore, key_dir: Path) -> None:
    assert store.list() == []
    assert store.public_keys() == {}
    assert not key_dir.exists()


# --- the first key --------------------------------------------------------------------


@posix_only
def test_first_key_is_created_private(store: KeyStore, key_dir: Path) -> None:
    key = store.active()
    assert mode(key_dir) == 0o700
    assert mode(key_dir / f"{key.key_id}.pem") == 0o600
    assert (key_dir / "active").read_text() == f"{key.key_id}\n"
    assert sorted(p.name for p in key_dir.iterdir() if not p.name.startswith(".")) == sorted(
        [f"{key.key_id}.pem", f"{key.key_id}.pub.pem", f"{key.key_id}.json", "active"]
    )
    # No temporary files are left behind.
    assert [p.name for p in key_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_private_key_is_unencrypted_pkcs8_pem(store: KeyStore, key_dir: Path) -> None:
    key = store.active()
    data = (key_dir / f"{key.key_id}.pem").read_bytes()
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    loaded = load_pem_private_key(data, password=None)
    assert act.key_id_for(loaded.public_key()) == key.key_id  # type: ignore[arg-type]


def test_key_id_is_sha256_of_the_raw_public_key(store: KeyStore) -> None:
    key = store.active()
    raw = key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert len(raw) == 32
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16]


def test_the_active_key_is_stable(store: KeyStore, key_dir: Path) -> None:
    first = store.active()
    assert KeyStore(key_dir).active().key_id == first.key_id
    assert store.public_pem() == act.public_key_pem(first.public_key)
    [info] = store.list()
    assert info.key_id == first.key_id and info.active
    assert info.public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert abs((datetime.now(UTC) - info.created_at).total_seconds()) < 60


@posix_only
def test_private_key_is_0600_even_with_a_permissive_umask(store: KeyStore, key_dir: Path) -> None:
    old = os.umask(0)
    try:
        key = store.active()
        rotated = store.rotate()
    finally:
        os.umask(old)
    assert mode(key_dir) == 0o700
    assert mode(key_dir / f"{key.key_id}.pem") == 0o600
    assert mode(key_dir / f"{rotated.key_id}.pem") == 0o600


@posix_only
def test_private_key_is_never_readable_by_others_even_before_the_rename(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, int] = {}
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen[Path(dst).name] = stat.S_IMODE(os.stat(src).st_mode)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    key = store.active()
    assert seen[f"{key.key_id}.pem"] == 0o600


@pytest.mark.slow
def test_first_key_creation_is_safe_across_processes(key_dir: Path) -> None:
    # Several processes needing the first key at once must agree on one key.
    code = (
        "import sys; from licensectl.keys import KeyStore; "
        "print(KeyStore(sys.argv[1]).active().key_id)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(key_dir)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    ids = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(ids) == 1
    assert [info.key_id for info in KeyStore(key_dir).list()] == list(ids)


# --- rotation -------------------------------------------------------------------------


def test_rotation_keeps_old_responses_verifying(store: KeyStore) -> None:
    old_request, old_response = make_response(store)
    old_id = store.active().key_id

    info = store.rotate()
    assert info.active and info.key_id != old_id
    assert store.active().key_id == info.key_id

    new_request, new_response = make_response(store)
    assert act.parse_response(new_response).key_id == info.key_id
    assert act.parse_response(old_response).key_id == old_id

    keys = store.public_keys()
    assert set(keys) == {old_id, info.key_id}
    act.verify_response(old_response, public_keys=keys, request=old_request)
    act.verify_response(new_response, public_keys=keys, request=new_request)
    # The exported (active) public key alone no longer verifies the old response.
    new_pem = act.load_public_key_pem(store.public_pem().encode())
    with pytest.raises(InvalidDataError, match=f"signed with key {old_id}"):
        act.verify_response(old_response, public_keys=new_pem)
    old_pem = act.load_public_key_pem(store.public_pem(old_id).encode())
    act.verify_response(old_response, public_keys=old_pem, request=old_request)


def test_list_shows_every_key_oldest_first_with_one_active(store: KeyStore, key_dir: Path) -> None:
    first = store.active().key_id
    second = store.rotate().key_id
    third = store.rotate().key_id
    infos = store.list()
    assert {i.key_id for i in infos} == {first, second, third}
    assert [i.key_id for i in infos if i.active] == [third]
    assert infos == sorted(infos, key=lambda i: (i.created_at, i.key_id))


def test_public_pem_of_an_unknown_key_is_not_found(store: KeyStore) -> None:
    store.active()
    with pytest.raises(NotFoundError):
        store.public_pem("0123456789abcdef")


# --- refusing unsafe or broken key files ----------------------------------------------


@posix_only
@pytest.mark.parametrize("bad_mode", [0o640, 0o604, 0o660, 0o620, 0o601, 0o644])
def test_a_private_key_others_can_read_is_refused(
    store: KeyStore, key_dir: Path, bad_mode: int
) -> None:
    key_id = store.active().key_id
    path = key_dir / f"{key_id}.pem"
    path.chmod(bad_mode)
    with pytest.raises(KeyStoreError) as exc:
        KeyStore(key_dir).active()
    message = str(exc.value)
    assert "accessible by other users" in message and f"chmod 600 {path}" in message
    assert oct(bad_mode)[2:] in message


@posix_only
def test_a_key_dir_others_can_write_is_refused(store: KeyStore, key_dir: Path) -> None:
    store.active()
    key_dir.chmod(0o777)
    try:
        with pytest.raises(KeyStoreError, match="chmod 700"):
            store.active()
    finally:
        key_dir.chmod(0o700)


def test_a_file_where_the_key_dir_should_be_is_a_clear_error(key_dir: Path) -> None:
    key_dir.write_text("oops")
    with pytest.raises(KeyStoreError, match="is not a directory"):
        KeyStore(key_dir).active()
    with pytest.raises(KeyStoreError, match="is not a directory"):
        KeyStore(key_dir).rotate()
    with pytest.raises(KeyStoreError, match="cannot use key directory"):
        KeyStore(key_dir).list()


def test_a_corrupt_active_file_is_refused(store: KeyStore, key_dir: Path) -> None:
    store.active()
    (key_dir / "active").write_text("not-a-key-id\n")
    with pytest.raises(KeyStoreError, match="does not hold a key id"):
        store.active()


def test_a_missing_private_key_is_refused(store: KeyStore, key_dir: Path) -> None:
    key_id = store.active().key_id
    (key_dir / f"{key_id}.pem").unlink()
    with pytest.raises(KeyStoreError, match="missing"):
        store.active()


def test_a_swapped_key_file_is_refused(store: KeyStore, key_dir: Path) -> None:
    first = store.active().key_id
    second = store.rotate().key_id
    # Contents swapped in place (renaming would leave the first key's other files
    # orphaned, which is refused for that reason first).
    (key_dir / f"{second}.pem").write_bytes((key_dir / f"{first}.pem").read_bytes())
    with pytest.raises(KeyStoreError, match="different key than its name"):
        store.active()
    (key_dir / f"{second}.pub.pem").write_bytes((key_dir / f"{first}.pub.pem").read_bytes())
    with pytest.raises(KeyStoreError, match="different key than its name"):
        store.public_keys()


def test_garbage_in_a_key_file_is_refused_without_echoing_it(
    store: KeyStore, key_dir: Path
) -> None:
    key_id = store.active().key_id
    path = key_dir / f"{key_id}.pem"
    path.write_bytes(b"SECRET-GARBAGE")
    with pytest.raises(KeyStoreError) as exc:
        store.active()
    assert "SECRET" not in str(exc.value)
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_a_lost_public_file_is_rebuilt_from_the_private_key(store: KeyStore, key_dir: Path) -> None:
    key = store.active()
    (key_dir / f"{key.key_id}.pub.pem").unlink()
    (key_dir / f"{key.key_id}.json").unlink()
    assert act.key_id_for(store.public_keys()[key.key_id]) == key.key_id
    [info] = store.list()
    assert info.key_id == key.key_id and info.active


# --- secrecy ---------------------------------------------------------------------------


def test_private_key_material_never_shows_in_repr_or_str(store: KeyStore, key_dir: Path) -> None:
    key = store.active()
    pem = (key_dir / f"{key.key_id}.pem").read_text()
    body = "".join(pem.splitlines()[1:-1])
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = key.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    shown = " ".join(
        [repr(key), str(key), repr(store), repr(store.list()), str(store.list()), repr(vars(store))]
    )
    assert key.key_id in repr(key)
    assert repr(key) == f"SigningKey(key_id={key.key_id!r})"
    for secret in (body, raw.hex(), raw.hex().upper(), str(list(raw))):
        assert secret not in shown
    assert "PRIVATE" not in shown


def test_signing_key_signs(store: KeyStore) -> None:
    key = store.active()
    assert isinstance(key, SigningKey)
    key.public_key.verify(key.sign(b"message"), b"message")


def test_key_metadata_is_plain_json(store: KeyStore, key_dir: Path) -> None:
    key_id = store.active().key_id
    meta = json.loads((key_dir / f"{key_id}.json").read_text())
    assert meta["key_id"] == key_id
    assert act.parse_timestamp(meta["created_at"]) == store.list()[0].created_at
