"""The offline activation file formats (licensectl/activation.py, docs/activation-files.md).

The device side is meant to be implementable by someone else from the docs alone, so
besides round trips and every kind of bad input, these tests check our output with
verifiers that share no code with licensectl (PyNaCl, the openssl CLI, jq) and check that
the worked example printed in the docs is exactly what the code produces.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensectl import activation as act
from licensectl.activation import (
    ActivationRequest,
    ActivationResponse,
    GrantedLicense,
    canonical_json,
    dump_file,
    key_id_for,
    new_request,
    parse_file,
    parse_request,
    parse_response,
    request_digest,
    sign_response,
    verify_response,
)
from licensectl.errors import ExitStatus, InvalidDataError, UsageError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "activation-files.md"

CAPACITY_ID = "b1e52546-f2db-4053-b2dd-2ab2fa7732d2"
MAINTENANCE_ID = "5d0f7a1e-3c8b-4e9a-a6f2-0b7d41c9e852"
RETURNED_ID = "c3a9e0d4-7f21-4b65-9e8d-12f4a6b7c0de"


@pytest.fixture(autouse=True)
def _own_key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing here uses the key store, but no test may ever touch a real home.
    monkeypatch.setenv("LICENSECTL_KEY_DIR", str(tmp_path / "keys"))


# --- building blocks --------------------------------------------------------------


def example_key() -> Ed25519PrivateKey:
    """The documentation's example key: a published seed, so anyone can reproduce it."""
    seed = hashlib.sha256(b"licensectl documentation example key").digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def example_request() -> ActivationRequest:
    return parse_request(
        json.dumps(
            {
                "format": "licensectl.activation-request",
                "version": 1,
                "install_code": "5A7C-31F2-9D04-E86B",
                "name": 'Gebäude 1 "Lobby"',
                "nonce": "8f14e45fceea167a5a36dedd4bea2543",
                "created_at": "2026-11-29T10:15:00Z",
                "licenses": [
                    {"license_id": CAPACITY_ID, "copies": 2},
                    {"license_id": MAINTENANCE_ID, "copies": 1},
                    {"license_id": RETURNED_ID, "copies": 0},
                ],
            }
        ).encode()
    )


def granted_for(request: ActivationRequest) -> list[dict[str, Any]]:
    """What a portal would grant: the request's copies, with plausible license facts."""
    facts: dict[str, dict[str, Any]] = {
        CAPACITY_ID: {"type": "capacity", "devices": 200, "term_months": None},
        MAINTENANCE_ID: {"type": "maintenance", "devices": 1000, "term_months": 36},
        RETURNED_ID: {"type": "capacity", "devices": 1000, "term_months": None},
    }
    rows = []
    for line in request.licenses:
        fact = facts.get(line.license_id, {"type": "capacity", "devices": 100, "term_months": None})
        maintained = fact["type"] == "maintenance" and line.copies > 0
        rows.append(
            {
                "license_id": line.license_id,
                **fact,
                "copies": line.copies,
                "maintenance_expires": "2029-11-29T10:20:00Z" if maintained else None,
            }
        )
    return rows


def respond(
    request: ActivationRequest, key: Ed25519PrivateKey, **overrides: Any
) -> ActivationResponse:
    payload = act.response_payload(
        request,
        licenses=granted_for(request),
        capacity=400,
        maintenance_devices=1000,
        covered=True,
        issued_at=datetime(2026, 11, 29, 10, 20, tzinfo=UTC),
    )
    payload.update(overrides)
    return sign_response(payload, key_id=key_id_for(key.public_key()), private_key=key)


@dataclass(frozen=True)
class DocExample:
    public_pem: str
    request_file: str
    request_canonical: str
    request_digest: str
    response_file: str
    signed_bytes: str
    signature: str


def build_doc_example() -> DocExample:
    """Everything the worked example in docs/activation-files.md shows, recomputed."""
    key = example_key()
    request = example_request()
    response = respond(request, key)
    return DocExample(
        public_pem=act.public_key_pem(key.public_key()),
        request_file=dump_file(request).decode(),
        request_canonical=canonical_json(request.model_dump(mode="json")).decode(),
        request_digest=request_digest(request),
        response_file=dump_file(response).decode(),
        signed_bytes=act.signed_bytes(response).decode(),
        signature=response.signature,
    )


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def request_() -> ActivationRequest:
    return new_request(
        install_code="SS-0001",
        name="Plant room",
        licenses=[(CAPACITY_ID, 2), (MAINTENANCE_ID, 1), (RETURNED_ID, 0)],
    )


@pytest.fixture(scope="module")
def response_bytes(request_: ActivationRequest, key: Ed25519PrivateKey) -> bytes:
    return dump_file(respond(request_, key))


def assert_invalid(exc: pytest.ExceptionInfo[InvalidDataError], *fragments: str) -> None:
    """One line, exit 7, and it says what was wrong."""
    assert exc.value.exit_code == ExitStatus.INVALID_DATA
    message = str(exc.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# --- canonical JSON -------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8() -> None:
    data = {"b": [1, {"z": None, "a": True}], "a": 'Gebäude "1" \\ ok', "é": 0}
    assert canonical_json(data) == (
        '{"a":"Gebäude \\"1\\" \\\\ ok","b":[1,{"a":true,"z":null}],"é":0}'.encode()
    )


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_request_digest_is_sha256_of_the_documented_bytes(request_: ActivationRequest) -> None:
    obj = json.loads(dump_file(request_))
    independent = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert request_digest(request_) == hashlib.sha256(independent.encode()).hexdigest()


# --- requests ---------------------------------------------------------------------------


def test_new_request_round_trips_through_its_file(request_: ActivationRequest) -> None:
    data = dump_file(request_)
    assert data.endswith(b"}\n") and b'\n  "format": ' in data
    assert parse_request(data) == request_
    assert parse_file(data) == request_
    assert re.fullmatch(r"[0-9a-f]{32}", request_.nonce)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", request_.created_at)


def test_new_request_normalises_what_a_user_types() -> None:
    req = new_request(
        install_code="  SS  0002 ",
        name=None,
        licenses=[(CAPACITY_ID.upper(), 3)],
        now=datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC),
    )
    assert req.install_code == "SS 0002"
    assert req.licenses[0].license_id == CAPACITY_ID
    assert req.created_at == "2026-01-02T03:04:05Z"
    assert req.name is None


def test_every_request_gets_a_fresh_nonce() -> None:
    nonces = {
        new_request(install_code="X", name=None, licenses=[(CAPACITY_ID, 1)]).nonce
        for _ in range(50)
    }
    assert len(nonces) == 50


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"licenses": [("not-a-uuid", 1)]}, "not a UUID"),
        ({"licenses": [(CAPACITY_ID, 1), (CAPACITY_ID.upper(), 2)]}, "more than once"),
        ({"licenses": [(CAPACITY_ID, -1)]}, "0 or more"),
        ({"licenses": []}, "at least one"),
        ({"install_code": "   "}, "install code"),
        ({"install_code": "x" * 129}, "limit is 128"),
        ({"name": "a\tb\x00"}, "control"),
    ],
)
def test_new_request_refuses_bad_arguments_as_usage_errors(
    kwargs: dict[str, Any], fragment: str
) -> None:
    args: dict[str, Any] = {"install_code": "SS-1", "name": None, "licenses": [(CAPACITY_ID, 1)]}
    with pytest.raises(UsageError, match=fragment):
        new_request(**{**args, **kwargs})


def _request_obj() -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(dump_file(example_request()))
    return obj


def _with(path: str, value: Any) -> bytes:
    """The example request with one field (dotted path, list indices) set or deleted."""
    obj = _request_obj()
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target: Any = obj
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return json.dumps(obj).encode()


_DELETE = object()

BAD_REQUESTS: list[tuple[str, bytes, str]] = [
    ("empty", b"", "empty"),
    ("blank", b"  \n", "empty"),
    ("not utf-8", b'{"name": "\xff"}', "not UTF-8"),
    ("latin-1", '{"name": "Geb\u00e4ude"}'.encode("latin-1"), "not UTF-8"),
    ("utf-16", json.dumps(_request_obj()).encode("utf-16"), "not UTF-8"),
    ("not json", b"install_code=SS-1", "not valid JSON"),
    ("truncated", dump_file(example_request())[:40], "truncated"),
    ("array", b"[]", "expected a JSON object"),
    ("string", b'"licensectl.activation-request"', "expected a JSON object"),
    ("no format", _with("format", _DELETE), "'format' must be"),
    ("other format", _with("format", "something-else"), "'format' must be"),
    (
        "response instead",
        _with("format", "licensectl.activation-response"),
        "not an activation request",
    ),
    ("version 2", _with("version", 2), "unsupported activation request version 2"),
    ("version true", _with("version", True), "version True"),
    ("version 1.0", _with("version", 1.0), "version 1.0"),
    ("version string", _with("version", "1"), "version '1'"),
    ("no version", _with("version", _DELETE), "version None"),
    ("missing nonce", _with("nonce", _DELETE), "missing field 'nonce'"),
    ("missing name", _with("name", _DELETE), "missing field 'name'"),
    ("extra field", _with("colour", "red"), "unknown field 'colour'"),
    ("extra nested", _with("licenses.0.devices", 5), "unknown field 'licenses[0].devices'"),
    ("bad uuid", _with("licenses.0.license_id", "b1e52546"), "licenses[0].license_id"),
    ("upper uuid", _with("licenses.0.license_id", CAPACITY_ID.upper()), "lower-case"),
    ("negative copies", _with("licenses.1.copies", -1), "licenses[1].copies"),
    ("float copies", _with("licenses.0.copies", 1.5), "licenses[0].copies"),
    ("bool copies", _with("licenses.0.copies", True), "licenses[0].copies"),
    ("string copies", _with("licenses.0.copies", "2"), "licenses[0].copies"),
    ("huge copies", _with("licenses.0.copies", 2**60), "licenses[0].copies"),
    ("duplicate license", _with("licenses.2.license_id", CAPACITY_ID), "listed twice"),
    ("no licenses", _with("licenses", []), "licenses"),
    ("licenses not a list", _with("licenses", {}), "licenses"),
    ("short nonce", _with("nonce", "abc"), "nonce"),
    ("nonce charset", _with("nonce", "0123456789abcdef!"), "nonce"),
    ("empty install code", _with("install_code", ""), "install_code: must not be empty"),
    ("untrimmed install code", _with("install_code", " SS-1"), "whitespace"),
    ("control chars", _with("install_code", "SS\n1"), "control characters"),
    ("surrogate", _with("name", "\ud800"), "control characters"),
    ("long install code", _with("install_code", "x" * 129), "limit is 128"),
    ("install code type", _with("install_code", 1234), "install_code"),
    ("local time", _with("created_at", "2026-11-29T10:15:00+01:00"), "created_at"),
    ("impossible date", _with("created_at", "2026-02-30T10:15:00Z"), "not a real date"),
    (
        "duplicate key",
        b'{"format": "a", "format": "licensectl.activation-request"}',
        "duplicate key",
    ),
    ("NaN", b'{"version": NaN}', "NaN is not allowed"),
    ("too big", b" " * (act.MAX_FILE_BYTES + 1), "larger than"),
    ("deep", b"[" * 100_000, "nested too deeply"),
    ("huge int", b'{"version": 1' + b"0" * 5000 + b"}", "not valid JSON"),
]


@pytest.mark.parametrize(
    ("data", "fragment"), [(d, f) for _, d, f in BAD_REQUESTS], ids=[n for n, _, _ in BAD_REQUESTS]
)
def test_a_bad_request_file_is_invalid_data(data: bytes, fragment: str) -> None:
    with pytest.raises(InvalidDataError) as exc:
        parse_request(data)
    assert_invalid(exc, fragment)


def test_a_coerced_value_is_refused_so_hashes_stay_honest() -> None:
    # Literal[12] accepts 12.0 even in strict mode; the canonical check catches it.
    obj = json.loads(dump_file(respond(example_request(), example_key())))
    obj["licenses"][1]["term_months"] = 36.0
    with pytest.raises(InvalidDataError) as exc:
        parse_response(json.dumps(obj).encode())
    assert_invalid(exc, "canonical")


def test_every_truncation_of_a_request_is_refused() -> None:
    data = dump_file(example_request())
    for end in range(len(data.rstrip())):
        with pytest.raises(InvalidDataError):
            parse_request(data[:end])


def test_requests_are_read_whatever_their_layout() -> None:
    # Devices write requests; any valid JSON layout (and a Windows BOM) must do.
    req = example_request()
    compact = canonical_json(req.model_dump(mode="json"))
    assert parse_request(compact) == req
    assert parse_request(b"\xef\xbb\xbf" + compact.replace(b",", b",\r\n\t")) == req


def test_the_many_problems_count_is_reported_on_one_line() -> None:
    obj = _request_obj()
    obj["nonce"] = "?"
    obj["created_at"] = "yesterday"
    with pytest.raises(InvalidDataError) as exc:
        parse_request(json.dumps(obj).encode())
    assert_invalid(exc, "(and 1 more problem)")


# --- responses ----------------------------------------------------------------------------


def test_sign_and_verify_round_trip(
    request_: ActivationRequest, key: Ed25519PrivateKey, response_bytes: bytes
) -> None:
    resp = verify_response(response_bytes, public_keys=key.public_key(), request=request_)
    assert resp.install_code == request_.install_code
    assert resp.nonce == request_.nonce
    assert resp.request_digest == request_digest(request_)
    assert resp.key_id == key_id_for(key.public_key())
    assert [lic.copies for lic in resp.licenses] == [2, 1, 0]
    assert parse_response(response_bytes) == resp
    assert parse_file(response_bytes) == resp
    by_mapping = verify_response(response_bytes, public_keys={resp.key_id: key.public_key()})
    assert by_mapping == resp


def test_signing_is_deterministic_so_a_replayed_request_can_get_identical_bytes(
    request_: ActivationRequest, key: Ed25519PrivateKey, response_bytes: bytes
) -> None:
    assert dump_file(respond(request_, key)) == response_bytes


def test_sign_response_refuses_a_bad_payload(
    request_: ActivationRequest, key: Ed25519PrivateKey
) -> None:
    with pytest.raises(ValueError, match="licenses"):
        respond(request_, key, licenses=[])
    with pytest.raises(ValueError, match="payload has key_id"):
        respond(request_, key, key_id="0" * 16)
    with pytest.raises(ValueError, match="signature"):
        respond(request_, key, signature="x")
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ValueError, match="does not belong"):
        sign_response(
            respond(request_, key).model_dump(exclude={"signature", "key_id"}),
            key_id=key_id_for(key.public_key()),
            private_key=other,
        )


def test_granted_license_shapes() -> None:
    base = {"license_id": CAPACITY_ID, "devices": 1, "copies": 1}
    GrantedLicense.model_validate(
        {**base, "type": "core", "term_months": None, "maintenance_expires": None}
    )
    bad = [
        {**base, "type": "capacity", "term_months": 12, "maintenance_expires": None},
        {**base, "type": "maintenance", "term_months": None, "maintenance_expires": None},
        {**base, "type": "maintenance", "term_months": 12, "maintenance_expires": None},
        {**base, "type": "flux", "term_months": None, "maintenance_expires": None},
        {**base, "type": "core", "devices": 0, "term_months": None, "maintenance_expires": None},
    ]
    for obj in bad:
        with pytest.raises(ValueError):
            GrantedLicense.model_validate(obj)


def test_verify_refuses_another_key(response_bytes: bytes, request_: ActivationRequest) -> None:
    stranger = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(InvalidDataError) as exc:
        verify_response(response_bytes, public_keys=stranger, request=request_)
    assert_invalid(exc, "signed with key", key_id_for(stranger))
    with pytest.raises(InvalidDataError) as exc:
        verify_response(response_bytes, public_keys={key_id_for(stranger): stranger})
    assert_invalid(exc, "unknown key")
    with pytest.raises(InvalidDataError) as exc:
        verify_response(response_bytes, public_keys={})
    assert_invalid(exc, "known: none")


def test_verify_refuses_a_key_id_that_lies(response_bytes: bytes) -> None:
    # Someone maps the right id to the wrong key: the signature itself must fail.
    resp = parse_response(response_bytes)
    stranger = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(InvalidDataError) as exc:
        verify_response(response_bytes, public_keys={resp.key_id: stranger})
    assert_invalid(exc, "signature does not verify")


def test_verify_refuses_a_transplanted_signature(
    request_: ActivationRequest, key: Ed25519PrivateKey, response_bytes: bytes
) -> None:
    other = respond(request_, key, capacity=100_000)
    forged = json.loads(response_bytes)
    forged["capacity"] = other.capacity
    with pytest.raises(InvalidDataError) as exc:
        verify_response(
            dump_file(ActivationResponse.model_validate(forged)), public_keys=key.public_key()
        )
    assert_invalid(exc, "signature does not verify")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("install_code", "SS-9999", "install code does not match the request"),
        ("nonce", "0" * 32, "nonce does not match the request"),
        ("request_digest", "0" * 64, "request digest does not match the request"),
    ],
)
def test_verify_binds_the_response_to_its_request(
    request_: ActivationRequest, key: Ed25519PrivateKey, field: str, value: str, fragment: str
) -> None:
    data = dump_file(respond(request_, key, **{field: value}))
    verify_response(data, public_keys=key.public_key())  # intact, only not ours
    with pytest.raises(InvalidDataError) as exc:
        verify_response(data, public_keys=key.public_key(), request=request_)
    assert_invalid(exc, fragment)


def test_verify_detects_a_reused_nonce_with_other_content(
    request_: ActivationRequest, key: Ed25519PrivateKey
) -> None:
    twin = ActivationRequest.model_validate(
        {**request_.model_dump(mode="json"), "licenses": [{"license_id": CAPACITY_ID, "copies": 5}]}
    )
    data = dump_file(respond(twin, key))
    with pytest.raises(InvalidDataError) as exc:
        verify_response(data, public_keys=key.public_key(), request=request_)
    assert_invalid(exc, "request digest does not match")


def test_verify_refuses_grants_other_than_requested(
    request_: ActivationRequest, key: Ed25519PrivateKey
) -> None:
    rows = granted_for(request_)
    rows[0]["copies"] = 1
    data = dump_file(respond(request_, key, licenses=rows))
    with pytest.raises(InvalidDataError) as exc:
        verify_response(data, public_keys=key.public_key(), request=request_)
    assert_invalid(exc, "do not match the request")


def test_verify_refuses_a_reformatted_file(response_bytes: bytes, key: Ed25519PrivateKey) -> None:
    for edited in (
        response_bytes.replace(b"\n", b"\r\n"),
        response_bytes.rstrip(b"\n"),
        canonical_json(json.loads(response_bytes)),
    ):
        with pytest.raises(InvalidDataError) as exc:
            verify_response(edited, public_keys=key.public_key())
        assert_invalid(exc, "layout was changed")


def test_verify_refuses_a_request_file(key: Ed25519PrivateKey) -> None:
    with pytest.raises(InvalidDataError) as exc:
        verify_response(dump_file(example_request()), public_keys=key.public_key())
    assert_invalid(exc, "this file is an activation request, not an activation response")


def test_every_single_byte_flip_is_refused(response_bytes: bytes, key: Ed25519PrivateKey) -> None:
    """Exhaustive over positions: each byte with its lowest bit flipped."""
    for i in range(len(response_bytes)):
        mutated = bytearray(response_bytes)
        mutated[i] ^= 0x01
        with pytest.raises(InvalidDataError):
            verify_response(bytes(mutated), public_keys=key.public_key())


@settings(
    max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_single_changed_byte_is_refused(
    data: st.DataObject, response_bytes: bytes, key: Ed25519PrivateKey, request_: ActivationRequest
) -> None:
    index = data.draw(st.integers(0, len(response_bytes) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != response_bytes[index]), label="byte")
    mutated = bytearray(response_bytes)
    mutated[index] = byte
    with pytest.raises(InvalidDataError):
        verify_response(bytes(mutated), public_keys=key.public_key(), request=request_)


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_inserted_or_deleted_byte_is_refused(
    data: st.DataObject, response_bytes: bytes, key: Ed25519PrivateKey
) -> None:
    index = data.draw(st.integers(0, len(response_bytes) - 1), label="index")
    if data.draw(st.booleans(), label="insert"):
        mutated = (
            response_bytes[:index]
            + bytes([data.draw(st.integers(0, 255))])
            + response_bytes[index:]
        )
    else:
        mutated = response_bytes[:index] + response_bytes[index + 1 :]
    with pytest.raises(InvalidDataError):
        verify_response(mutated, public_keys=key.public_key())


def test_a_non_canonical_base64_signature_is_refused(
    response_bytes: bytes, key: Ed25519PrivateKey
) -> None:
    # 64 bytes leave 4 spare bits in the last base64 digit: "...A==" and "...B==" decode
    # alike, so a lenient decoder would accept an edited file.
    resp = parse_response(response_bytes)
    last = resp.signature[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = alphabet[alphabet.index(last) ^ 1]
    edited = response_bytes.replace(
        resp.signature.encode(), (resp.signature[:-3] + twin + "==").encode()
    )
    assert base64.b64decode(resp.signature[:-3] + twin + "==") == base64.b64decode(resp.signature)
    with pytest.raises(InvalidDataError) as exc:
        verify_response(edited, public_keys=key.public_key())
    assert_invalid(exc, "canonical base64")


# --- inspect ---------------------------------------------------------------------------


def test_describe_both_kinds(request_: ActivationRequest, response_bytes: bytes) -> None:
    req = act.describe(request_)
    assert req["kind"] == "activation request"
    assert req["request_digest"] == request_digest(request_)
    assert req["licenses"][0] == {"license_id": CAPACITY_ID, "copies": 2}
    json.dumps(req)
    resp = act.describe(parse_response(response_bytes), now=datetime(2029, 10, 1, tzinfo=UTC))
    assert resp["kind"] == "activation response"
    assert resp["capacity"] == 400 and resp["covered"] is True
    statuses = [lic["maintenance_status"] for lic in resp["licenses"]]
    assert statuses == [None, "expiring", None]
    json.dumps(resp)


def test_parse_file_refuses_something_else() -> None:
    with pytest.raises(InvalidDataError) as exc:
        parse_file(b'{"format": "x", "version": 1}')
    assert_invalid(exc, "not an activation file")


def test_public_key_pem_round_trip(key: Ed25519PrivateKey) -> None:
    pem = act.public_key_pem(key.public_key()).encode()
    assert key_id_for(act.load_public_key_pem(pem)) == key_id_for(key.public_key())
    with pytest.raises(InvalidDataError):
        act.load_public_key_pem(b"not a key")
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(InvalidDataError, match="Ed25519"):
        act.load_public_key_pem(ec_pem)


# --- independent verifiers ------------------------------------------------------------


def documented_signed_bytes(response_file: bytes) -> bytes:
    """The docs' recipe, written from scratch: parse, drop 'signature', canonical JSON."""
    obj = json.loads(response_file.decode("utf-8"))
    del obj["signature"]
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_pynacl_verifies_a_real_response(response_bytes: bytes, key: Ed25519PrivateKey) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    verify_key = VerifyKey(raw)
    signature = base64.b64decode(json.loads(response_bytes)["signature"])
    message = documented_signed_bytes(response_bytes)
    verify_key.verify(message, signature)
    assert hashlib.sha256(raw).hexdigest()[:16] == json.loads(response_bytes)["key_id"]
    with pytest.raises(BadSignatureError):
        verify_key.verify(message.replace(b'"capacity":400', b'"capacity":401'), signature)


OPENSSL = shutil.which("openssl")
OPENSSL_COMMAND = (
    "openssl pkeyutl -verify -pubin -inkey portal.pem -rawin -in signed.bin -sigfile sig.bin"
)


def _openssl_verify(
    workdir: Path, pem: str, response_file: bytes
) -> subprocess.CompletedProcess[str]:
    """Exactly the docs' shell recipe: jq for the bytes when installed, else the same rule."""
    (workdir / "portal.pem").write_text(pem)
    (workdir / "response.json").write_bytes(response_file)
    jq = shutil.which("jq")
    if jq:
        signed = subprocess.run(
            [jq, "-jcS", "del(.signature)", "response.json"],
            cwd=workdir,
            capture_output=True,
            check=True,
        ).stdout
    else:
        signed = documented_signed_bytes(response_file)
    (workdir / "signed.bin").write_bytes(signed)
    sig = json.loads(response_file)["signature"]
    (workdir / "sig.bin").write_bytes(base64.b64decode(sig))
    assert OPENSSL is not None
    # The very command the docs print, run with the openssl found on PATH.
    args = OPENSSL_COMMAND.split()[1:]
    return subprocess.run(
        [OPENSSL, *args], cwd=workdir, capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_openssl_verifies_a_real_response(
    tmp_path: Path, response_bytes: bytes, key: Ed25519PrivateKey
) -> None:
    pem = act.public_key_pem(key.public_key())
    result = _openssl_verify(tmp_path, pem, response_bytes)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Verified Successfully" in result.stdout
    tampered = response_bytes.replace(b'"capacity": 400', b'"capacity": 401')
    result = _openssl_verify(tmp_path, pem, tampered)
    assert result.returncode != 0


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_openssl_verifies_the_documented_example(tmp_path: Path) -> None:
    example = build_doc_example()
    result = _openssl_verify(tmp_path, example.public_pem, example.response_file.encode())
    assert result.returncode == 0, result.stdout + result.stderr


# --- the docs ---------------------------------------------------------------------------


def _doc_blocks() -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def test_the_documented_example_is_what_the_code_produces() -> None:
    example = build_doc_example()
    blocks = _doc_blocks()
    for value in (
        example.public_pem,
        example.request_file,
        example.request_canonical + "\n",
        example.request_digest + "\n",
        example.response_file,
        example.signed_bytes + "\n",
        example.signature + "\n",
    ):
        assert value in blocks, f"docs/activation-files.md lacks this block:\n{value}"


def test_the_documented_example_verifies() -> None:
    example = build_doc_example()
    request = parse_request(example.request_file.encode())
    public_key = act.load_public_key_pem(example.public_pem.encode())
    verify_response(example.response_file.encode(), public_keys=public_key, request=request)


def test_the_docs_state_the_limits_the_code_enforces() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for fact in (
        act.REQUEST_FORMAT,
        act.RESPONSE_FORMAT,
        str(act.MAX_INT),
        f"{act.NONCE_MIN} to {act.NONCE_MAX}",
        OPENSSL_COMMAND,
        "jq -jcS 'del(.signature)' response.json > signed.bin",
        "jq -jr .signature response.json | base64 -d > sig.bin",
    ):
        assert fact in text, fact
