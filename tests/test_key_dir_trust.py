"""The key directory is trusted only when nobody else could have put anything in it.

A key pair planted in the portal's key directory would make forged responses verify, so
every command that reads it (`smartserver verify` without `--public-key`, `keys show`,
`keys export-public`, `activate-offline`, `keys rotate`) refuses, with exit 6 and one
line naming the path and the fix, a directory or a file that is not exactly the
documented layout, owned and writable only by the user.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from licensectl import activation as act

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
DEVICE = Cli(db=None)
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")


@pytest.fixture
def portal(tmp_path: Path, isolated_home: Path) -> dict[str, Path]:
    """A portal with one signing key, a request for a customer's license, its answer."""
    cli = Cli(db=str(tmp_path / "portal.db"))
    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "Site A")
    lid = cli.ok(
        "license",
        "add",
        "--po",
        "PO-1",
        "--type",
        "capacity",
        "--devices",
        "200",
        "--quantity",
        "3",
    ).stdout.strip()
    moved = cli.ok("transfer", lid, "--to", "Site A", "--yes").stdout.strip()
    request = tmp_path / "request.json"
    DEVICE.ok(
        "smartserver",
        "request",
        "--install-code",
        "SS-1",
        "--license",
        f"{moved}:1",
        "--out",
        str(request),
    )
    response = tmp_path / "response.json"
    cli.ok("activate-offline", str(request), "--out", str(response))
    second = tmp_path / "request-2.json"
    DEVICE.ok(
        "smartserver",
        "request",
        "--install-code",
        "SS-2",
        "--license",
        f"{moved}:1",
        "--out",
        str(second),
    )
    key_dir = isolated_home / "keys"
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    return {
        "db": tmp_path / "portal.db",
        "request": request,
        "response": response,
        "second_request": second,
        "key_dir": key_dir,
    }


def _key_id(key_dir: Path) -> str:
    return (key_dir / "active").read_text().strip()


def _readers(portal: dict[str, Path]) -> dict[str, tuple[str, ...]]:
    """Every command that trusts the key directory, reads included."""
    return {
        "verify": ("smartserver", "verify", str(portal["response"])),
        "verify --request": (
            "smartserver",
            "verify",
            str(portal["response"]),
            "--request",
            str(portal["request"]),
        ),
        "keys show": ("keys", "show"),
        "keys export-public": ("keys", "export-public"),
        "activate-offline": (
            "--db",
            str(portal["db"]),
            "activate-offline",
            str(portal["second_request"]),
        ),
        "keys rotate": ("keys", "rotate"),
    }


def _all_refuse(portal: dict[str, Path], *needles: str) -> None:
    for what, args in _readers(portal).items():
        result = DEVICE.fails(6, *args)
        for needle in needles:
            assert needle in result.stderr, (what, needle, result.stderr)
    # Nothing was granted meanwhile: the second request is still unanswered.
    cli = Cli(db=str(portal["db"]))
    with pytest.raises(AssertionError):
        cli.json("smartserver", "show", "SS-2")


def _plant_pair(key_dir: Path) -> Ed25519PrivateKey:
    """The attack: another key pair, named by its own key id, as licensectl names them."""
    key = Ed25519PrivateKey.generate()
    key_id = act.key_id_for(key.public_key())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (key_dir / f"{key_id}.pem").write_bytes(pem)
    (key_dir / f"{key_id}.pem").chmod(0o600)
    (key_dir / f"{key_id}.pub.pem").write_text(act.public_key_pem(key.public_key()))
    return key


def _forge(portal: dict[str, Path], key: Ed25519PrivateKey) -> Path:
    """A response to the device's own request granting a capacity of 999999."""
    request = act.parse_request(portal["request"].read_bytes())
    genuine = act.parse_response(portal["response"].read_bytes())
    licenses = [{**lic.model_dump(mode="json"), "devices": 999999} for lic in genuine.licenses]
    payload = act.response_payload(
        request, licenses=licenses, capacity=999999, maintenance_devices=0, covered=False
    )
    forged = act.sign_response(payload, key_id=act.key_id_for(key.public_key()), private_key=key)
    path = portal["response"].with_name("forged.json")
    path.write_bytes(act.dump_file(forged))
    return path


def test_the_reported_attack_a_planted_pair_in_a_0777_directory(portal: dict[str, Path]) -> None:
    key_dir = portal["key_dir"]
    portal_pem = portal["response"].with_name("portal.pem")
    DEVICE.ok("keys", "export-public", "--out", str(portal_pem))
    key_dir.chmod(0o777)
    key = _plant_pair(key_dir)
    forged = _forge(portal, key)
    for extra in ((), ("--request", str(portal["request"]))):
        result = DEVICE.fails(6, "smartserver", "verify", str(forged), *extra)
        assert f"chmod 700 {key_dir}" in result.stderr
        assert "999999" not in result.stdout
    # Checked against the portal's own public key, the forgery is what it is.
    DEVICE.fails(7, "smartserver", "verify", str(forged), "--public-key", str(portal_pem))


@as_root
def test_a_planted_pair_owned_by_someone_else_is_refused(portal: dict[str, Path]) -> None:
    key_dir = portal["key_dir"]
    key = _plant_pair(key_dir)
    key_id = act.key_id_for(key.public_key())
    for name in (f"{key_id}.pem", f"{key_id}.pub.pem"):
        os.chown(key_dir / name, 4242, 4242)
    forged = _forge(portal, key)
    result = DEVICE.fails(6, "smartserver", "verify", str(forged))
    assert "belongs to another user (uid 4242)" in result.stderr
    assert f"rm {key_dir / f'{key_id}.pem'}" in result.stderr
    _all_refuse(portal, "uid 4242")


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o711, 0o705, 0o701, 0o770, 0o707, 0o777], ids=oct)
def test_a_key_directory_others_can_enter_is_refused(portal: dict[str, Path], mode: int) -> None:
    key_dir = portal["key_dir"]
    key_dir.chmod(mode)
    _all_refuse(portal, f"chmod 700 {key_dir}", oct(mode)[2:])
    key_dir.chmod(0o700)
    DEVICE.ok("smartserver", "verify", str(portal["response"]))


@as_root
def test_a_key_directory_of_another_user_is_refused(portal: dict[str, Path]) -> None:
    os.chown(portal["key_dir"], 4242, 4242)
    _all_refuse(portal, str(portal["key_dir"]), "uid 4242", "chown")


def _other_key_pem() -> bytes:
    key = Ed25519PrivateKey.generate()
    return act.public_key_pem(key.public_key()).encode()


#: name → (how to break the directory, words the message must hold)
Breakage = Callable[[Path, str], Path]


def _symlinked_active(key_dir: Path, key_id: str) -> Path:
    target = key_dir.parent / "active-elsewhere"
    target.write_text(f"{key_id}\n")
    (key_dir / "active").unlink()
    (key_dir / "active").symlink_to(target)
    return key_dir / "active"


def _symlinked_public(key_dir: Path, key_id: str) -> Path:
    target = key_dir.parent / "elsewhere.pub.pem"
    target.write_bytes((key_dir / f"{key_id}.pub.pem").read_bytes())
    (key_dir / f"{key_id}.pub.pem").unlink()
    (key_dir / f"{key_id}.pub.pem").symlink_to(target)
    return key_dir / f"{key_id}.pub.pem"


def _chmod(name: str, mode: int) -> Breakage:
    def apply(key_dir: Path, key_id: str) -> Path:
        path = key_dir / name.format(key_id=key_id)
        path.chmod(mode)
        return path

    return apply


def _extra_file(name: str) -> Breakage:
    def apply(key_dir: Path, key_id: str) -> Path:
        path = key_dir / name.format(key_id=key_id)
        path.write_text("x")
        path.chmod(0o600)
        return path

    return apply


def _extra_dir(key_dir: Path, key_id: str) -> Path:
    path = key_dir / f"{key_id}.json.d"
    path.mkdir(mode=0o700)
    return path


def _orphan_public(key_dir: Path, key_id: str) -> Path:
    path = key_dir / "0123456789abcdef.pub.pem"
    path.write_bytes(_other_key_pem())
    return path


def _mismatched_public(key_dir: Path, key_id: str) -> Path:
    path = key_dir / f"{key_id}.pub.pem"
    path.write_bytes(_other_key_pem())
    return path


BREAKAGES: dict[str, tuple[Breakage, tuple[str, ...]]] = {
    "symlinked active": (_symlinked_active, ("symbolic link", "rm ")),
    "symlinked public key": (_symlinked_public, ("symbolic link", "rm ")),
    "group-writable metadata": (_chmod("{key_id}.json", 0o664), ("writable", "chmod go-w")),
    "world-writable public key": (_chmod("{key_id}.pub.pem", 0o646), ("writable", "chmod go-w")),
    "group-writable active": (_chmod("active", 0o620), ("writable", "chmod go-w")),
    "group-readable private key": (_chmod("{key_id}.pem", 0o640), ("chmod 600",)),
    "world-readable private key": (_chmod("{key_id}.pem", 0o604), ("chmod 600",)),
    "a stray file": (_extra_file("notes.txt"), ("does not belong", "move it out")),
    "a backup copy": (_extra_file("{key_id}.pem.bak"), ("does not belong", "move it out")),
    "an upper-case key id": (_extra_file("0123456789ABCDEF.pem"), ("does not belong",)),
    "a stray temporary file": (_extra_file(".evil.0123456789abcdef.tmp"), ("does not belong",)),
    "a directory": (_extra_dir, ("does not belong",)),
    "a public key without its private key": (_orphan_public, ("no private key", "rm ")),
    "a public key of another pair": (_mismatched_public, ("does not match", "rm ")),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_anything_unexpected_in_the_key_directory_is_refused(
    portal: dict[str, Path], breakage: str
) -> None:
    break_it, needles = BREAKAGES[breakage]
    key_dir = portal["key_dir"]
    path = break_it(key_dir, _key_id(key_dir))
    _all_refuse(portal, str(path), *needles)


@as_root
@pytest.mark.parametrize("name", ["{key_id}.pem", "{key_id}.pub.pem", "{key_id}.json", "active"])
def test_a_key_file_owned_by_someone_else_is_refused(portal: dict[str, Path], name: str) -> None:
    key_dir = portal["key_dir"]
    path = key_dir / name.format(key_id=_key_id(key_dir))
    os.chown(path, 4242, -1)
    _all_refuse(portal, str(path), "uid 4242", f"rm {path}")


def test_files_being_written_are_tolerated(portal: dict[str, Path]) -> None:
    # fileio.write_atomic's temporary files: another process may be rotating right now.
    key_dir = portal["key_dir"]
    key_id = _key_id(key_dir)
    # fileio's names: .NAME.PID.RANDOM.tmp (a PID in it made the first-key race fail).
    for name in (
        ".active.4242.0123456789abcdef.tmp",
        f".{key_id}.pem.4242.fedcba9876543210.tmp",
        f".{key_id}.json.31337.00112233aabbccdd.tmp",
    ):
        (key_dir / name).write_text("partial")
        (key_dir / name).chmod(0o600)
    DEVICE.ok("smartserver", "verify", str(portal["response"]))
    assert [k["key_id"] for k in DEVICE.json("keys", "show")] == [key_id]


def test_a_lost_public_key_file_is_still_fine(portal: dict[str, Path]) -> None:
    key_dir = portal["key_dir"]
    (key_dir / f"{_key_id(key_dir)}.pub.pem").unlink()
    DEVICE.ok("smartserver", "verify", str(portal["response"]))
    assert json.loads(DEVICE.ok("-o", "json", "keys", "show").stdout)[0]["active"]


def test_the_first_use_creates_the_directory_0700(isolated_home: Path) -> None:
    key_dir = isolated_home / "keys"
    old = os.umask(0)
    try:
        DEVICE.ok("keys", "export-public")
    finally:
        os.umask(old)
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    DEVICE.ok("keys", "show")
