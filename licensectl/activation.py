"""Offline activation files: the request a SmartServer writes and the signed response.

Both are versioned JSON formats documented in docs/activation-files.md, which is the
contract a device maker implements; keep the two in step. This module is pure (no store,
no terminal) so the portal side (``activate-offline``) and the device side
(``smartserver request|verify|inspect``) share one definition of each format.

The signature covers :func:`canonical_json` of the response without its ``signature``
field, never the file's bytes, so the file can stay pretty-printed for humans while any
implementation can rebuild the signed bytes from the parsed content alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from licensectl.domain import (
    INSTALL_CODE_MAX,
    NAME_MAX,
    LicenseType,
    clean_install_code,
    clean_name,
    install_code_key,
    maintenance_status,
    parse_uuid,
)
from licensectl.errors import InvalidDataError, UsageError
from licensectl.safe_text import unsafe_at

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

REQUEST_FORMAT = "licensectl.activation-request"
RESPONSE_FORMAT = "licensectl.activation-response"
FORMAT_VERSION = 1

#: Files are small; refusing big ones early keeps a hostile file from costing memory.
MAX_FILE_BYTES = 1024 * 1024
MAX_LICENSES = 1000
#: Largest integer in either format: exact in IEEE doubles, so JavaScript or jq-based
#: device tooling reads every count without rounding.
MAX_INT = 2**53 - 1
NONCE_MIN, NONCE_MAX = 16, 128

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NONCE_RE = re.compile(rf"^[A-Za-z0-9_-]{{{NONCE_MIN},{NONCE_MAX}}}$")
_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_SIGNATURE_RE = re.compile(r"^[A-Za-z0-9+/]{86}==$")
# Control characters and lone surrogates are refused in every string, so the canonical
# form never has to escape anything but '"' and '\\' (simple to reimplement on a device).
_BAD_CHARS_RE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


# --- canonical JSON -------------------------------------------------------------


def canonical_json(obj: Any) -> bytes:
    """The exact bytes that are hashed and signed.

    UTF-8, object keys sorted by code point, no whitespace between tokens, non-ASCII
    characters as themselves (not \\u escapes), integers in plain decimal, no NaN.
    """
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def dump_file(model: ActivationRequest | ActivationResponse) -> bytes:
    """The file form: pretty JSON for humans, sorted keys, LF line ends, final newline.

    ``verify_response`` insists on exactly these bytes, so a file edited in any way, even
    only in whitespace, is refused rather than silently accepted.
    """
    text = json.dumps(
        model.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


# --- value checks used by the models ---------------------------------------------


def _check_text(value: str, *, max_len: int) -> str:
    # Requiring the clean_name form (rather than normalising) keeps what was signed and
    # hashed identical to what the device wrote; clean_name is what the CLI applies.
    if not value:
        raise ValueError("must not be empty")
    if _BAD_CHARS_RE.search(value) or unsafe_at(value) is not None:
        raise ValueError("must not contain control characters, invisible ones or invalid Unicode")
    if value != " ".join(value.split()):
        raise ValueError("must not have leading, trailing or repeated whitespace")
    if len(value) > max_len:
        raise ValueError(f"is {len(value)} characters long; the limit is {max_len}")
    return value


def _install_code(value: str) -> str:
    return _check_text(value, max_len=INSTALL_CODE_MAX)


def _name(value: str) -> str:
    return _check_text(value, max_len=NAME_MAX)


def _license_id(value: str) -> str:
    if not _UUID_RE.match(value):
        raise ValueError("must be a UUID in lower-case 8-4-4-4-12 form")
    return value


def _nonce(value: str) -> str:
    if not _NONCE_RE.match(value):
        raise ValueError(f"must be {NONCE_MIN} to {NONCE_MAX} characters from A-Z a-z 0-9 '-' '_'")
    return value


def _timestamp(value: str) -> str:
    if not _TIMESTAMP_RE.match(value):
        raise ValueError("must be an ISO 8601 UTC time such as 2026-11-29T10:15:00Z")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date and time") from None
    return value


def _sha256(value: str) -> str:
    if not _SHA256_RE.match(value):
        raise ValueError("must be 64 lower-case hex digits (SHA-256)")
    return value


def _key_id(value: str) -> str:
    if not _KEY_ID_RE.match(value):
        raise ValueError("must be 16 lower-case hex digits")
    return value


def _signature(value: str) -> str:
    # Decoding is not enough: base64 has spare bits in its last character, so several
    # strings decode to the same 64 bytes. Requiring the one canonical spelling means a
    # changed character is always a changed signature.
    if not _SIGNATURE_RE.match(value):
        raise ValueError("must be a 64-byte Ed25519 signature in base64 (88 characters)")
    raw = base64.b64decode(value, validate=True)
    if base64.b64encode(raw).decode("ascii") != value:
        raise ValueError("is not canonical base64")
    return value


InstallCode = Annotated[str, AfterValidator(_install_code)]
Name = Annotated[str, AfterValidator(_name)]
LicenseId = Annotated[str, AfterValidator(_license_id)]
Nonce = Annotated[str, AfterValidator(_nonce)]
Timestamp = Annotated[str, AfterValidator(_timestamp)]
Sha256Hex = Annotated[str, AfterValidator(_sha256)]
KeyId = Annotated[str, AfterValidator(_key_id)]
Signature = Annotated[str, AfterValidator(_signature)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Devices = Annotated[int, Field(ge=1, le=MAX_INT)]

# strict: no "1" for 1 or true for an int; every field required (no defaults), so the
# parsed model dumps back to exactly the JSON object it came from.
_FILE_MODEL = ConfigDict(strict=True, extra="forbid", frozen=True)


def _no_duplicate_ids(items: Sequence[RequestLicense | GrantedLicense]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.license_id in seen:
            raise ValueError(f"license {item.license_id} is listed twice")
        seen.add(item.license_id)


# --- the request ------------------------------------------------------------------


class RequestLicense(BaseModel):
    """One line of a request: hold ``copies`` of this license afterwards (0 = return)."""

    model_config = _FILE_MODEL

    license_id: LicenseId
    copies: Count


class ActivationRequest(BaseModel):
    """Version 1 of the file a SmartServer writes (docs/activation-files.md)."""

    model_config = _FILE_MODEL

    format: Literal["licensectl.activation-request"]
    version: Literal[1]
    install_code: InstallCode
    name: Name | None
    nonce: Nonce
    created_at: Timestamp
    licenses: Annotated[list[RequestLicense], Field(min_length=1, max_length=MAX_LICENSES)]

    @field_validator("licenses")
    @classmethod
    def _unique_licenses(cls, value: list[RequestLicense]) -> list[RequestLicense]:
        _no_duplicate_ids(value)
        return value


# --- the response -----------------------------------------------------------------


class GrantedLicense(BaseModel):
    """A license as the SmartServer holds it once the response is applied."""

    model_config = _FILE_MODEL

    license_id: LicenseId
    # Not strict: the JSON string "capacity" must become the enum.
    type: Annotated[LicenseType, Field(strict=False)]
    devices: Devices
    copies: Count
    term_months: Literal[12, 36] | None
    maintenance_expires: Timestamp | None

    @model_validator(mode="after")
    def _maintenance_fields(self) -> GrantedLicense:
        # Shape only: which fields a type carries. Whether a grant is allowed is the
        # service's business (domain rules), not the file format's.
        if self.type is LicenseType.MAINTENANCE:
            if self.term_months is None:
                raise ValueError("a maintenance license needs term_months 12 or 36")
            if (self.maintenance_expires is None) != (self.copies == 0):
                raise ValueError("maintenance_expires is required exactly when copies > 0")
        elif self.term_months is not None or self.maintenance_expires is not None:
            raise ValueError(
                f"term_months and maintenance_expires must be null for a {self.type.value} license"
            )
        return self


class _ResponseBody(BaseModel):
    """Everything the signature covers: the response without its ``signature``."""

    model_config = _FILE_MODEL

    format: Literal["licensectl.activation-response"]
    version: Literal[1]
    install_code: InstallCode
    nonce: Nonce
    request_digest: Sha256Hex
    issued_at: Timestamp
    licenses: Annotated[list[GrantedLicense], Field(min_length=1, max_length=MAX_LICENSES)]
    capacity: Count
    maintenance_devices: Count
    covered: bool
    key_id: KeyId

    @field_validator("licenses")
    @classmethod
    def _unique_licenses(cls, value: list[GrantedLicense]) -> list[GrantedLicense]:
        _no_duplicate_ids(value)
        return value


class ActivationResponse(_ResponseBody):
    """Version 1 of the signed file the portal writes (docs/activation-files.md)."""

    signature: Signature


# --- times ------------------------------------------------------------------------


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with Z, to the second; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    # Sub-second digits would only make the files harder to compare by eye.
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime:
    """Aware UTC, the form domain.utcnow() returns and the store compares times in."""
    return datetime.fromisoformat(value).astimezone(UTC)


# --- parsing ----------------------------------------------------------------------

_Model = TypeVar("_Model", bound=BaseModel)
_WHAT = {REQUEST_FORMAT: "activation request", RESPONSE_FORMAT: "activation response"}


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would silently keep the last of two equal keys: a second, hidden value
    # must not slip past the reader of the file.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _load_json(data: bytes, what: str) -> Any:
    """Bytes to a JSON value, or one line saying why the file is not JSON."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidDataError(f"{what}: file is larger than {MAX_FILE_BYTES} bytes")
    # A BOM is how some Windows editors say UTF-8; tolerate it on input.
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidDataError(f"{what}: not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise InvalidDataError(f"{what}: the file is empty")
    try:
        return json.loads(
            text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        hint = " (is the file truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise InvalidDataError(
            f"{what}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}"
        ) from None
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise InvalidDataError(f"{what}: not valid JSON: {reason}") from None


def _check_envelope(obj: Any, expected: str) -> None:
    """Format and version first, so a wrong file gets a message about that, not its fields."""
    what = _WHAT[expected]
    if not isinstance(obj, dict):
        raise InvalidDataError(f"{what}: expected a JSON object, found {type(obj).__name__}")
    fmt = obj.get("format")
    if fmt != expected:
        if fmt in _WHAT:
            raise InvalidDataError(f"this file is an {_WHAT[fmt]}, not an {what}")
        raise InvalidDataError(f"not an {what}: 'format' must be {expected!r}, found {fmt!r}")
    version = obj.get("version")
    # type() check: True and 1.0 compare equal to 1 but are not the integer 1.
    if type(version) is not int or version != FORMAT_VERSION:
        raise InvalidDataError(
            f"unsupported {what} version {version!r}; this licensectl reads version "
            f"{FORMAT_VERSION}"
        )


def _loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _summarise(exc: ValidationError) -> str:
    """The first problem on one line with its field path; the rest only counted."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    path = _loc(first["loc"])
    if first["type"] == "missing":
        text = f"missing field {path!r}"
    elif first["type"] == "extra_forbidden":
        text = f"unknown field {path!r}"
    else:
        message = first["msg"].removeprefix("Value error, ")
        text = f"{path}: {message}" if path else message
    more = len(errors) - 1
    return text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def _validate(model: type[_Model], obj: dict[str, Any], what: str) -> _Model:
    try:
        parsed = model.model_validate(obj)
    except ValidationError as exc:
        raise InvalidDataError(f"{what}: {_summarise(exc)}") from None
    # Signatures and digests are over the parsed content; if validation had coerced any
    # value (12.0 to 12, say) the device and the portal would hash different bytes.
    if canonical_json(parsed.model_dump(mode="json")) != canonical_json(obj):
        raise InvalidDataError(f"{what}: a value is not in its canonical JSON form")
    return parsed


def parse_request(data: bytes) -> ActivationRequest:
    """Read an activation request file; any defect is an InvalidDataError (exit 7)."""
    obj = _load_json(data, "activation request")
    _check_envelope(obj, REQUEST_FORMAT)
    return _validate(ActivationRequest, obj, "activation request")


def parse_response(data: bytes) -> ActivationResponse:
    """Read an activation response file WITHOUT checking its signature (see verify_response)."""
    obj = _load_json(data, "activation response")
    _check_envelope(obj, RESPONSE_FORMAT)
    return _validate(ActivationResponse, obj, "activation response")


def parse_file(data: bytes) -> ActivationRequest | ActivationResponse:
    """Either kind of file, told apart by its ``format`` field (for ``smartserver inspect``)."""
    obj = _load_json(data, "activation file")
    fmt = obj.get("format") if isinstance(obj, dict) else None
    if fmt == RESPONSE_FORMAT:
        _check_envelope(obj, RESPONSE_FORMAT)
        return _validate(ActivationResponse, obj, "activation response")
    if fmt == REQUEST_FORMAT:
        _check_envelope(obj, REQUEST_FORMAT)
        return _validate(ActivationRequest, obj, "activation request")
    raise InvalidDataError(
        f"not an activation file: 'format' must be {REQUEST_FORMAT!r} or {RESPONSE_FORMAT!r}"
    )


# --- making a request (device side) -------------------------------------------------


def new_request(
    *,
    install_code: str,
    name: str | None,
    licenses: Sequence[tuple[str, int]],
    now: datetime | None = None,
) -> ActivationRequest:
    """A fresh request with a random 128-bit nonce. Bad arguments are UsageError (exit 2)."""
    lines: dict[str, int] = {}
    for raw_id, copies in licenses:
        license_id = parse_uuid(raw_id, what="License ID")
        if license_id in lines:
            raise UsageError(f"license {license_id} is given more than once")
        if copies < 0:
            raise UsageError(f"copies must be 0 or more, not {copies} (0 returns the license)")
        lines[license_id] = copies
    if not lines:
        raise UsageError("a request needs at least one --license ID[:COPIES]")
    obj = {
        "format": REQUEST_FORMAT,
        "version": FORMAT_VERSION,
        "install_code": clean_install_code(install_code),
        "name": None if name is None else clean_name(name, what="SmartServer name"),
        "nonce": secrets.token_hex(16),
        "created_at": format_timestamp(now or datetime.now(UTC)),
        "licenses": [{"license_id": k, "copies": v} for k, v in lines.items()],
    }
    try:
        return ActivationRequest.model_validate(obj)
    except ValidationError as exc:
        raise UsageError(f"cannot make an activation request: {_summarise(exc)}") from None


def request_digest(request: ActivationRequest) -> str:
    """SHA-256 (hex) of the request's canonical JSON: binds a response to one request."""
    return hashlib.sha256(canonical_json(request.model_dump(mode="json"))).hexdigest()


# --- keys --------------------------------------------------------------------------


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw 32-byte public key."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """SubjectPublicKeyInfo PEM, the form ``openssl pkeyutl -pubin`` reads."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pem = public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def load_public_key_pem(data: bytes) -> Ed25519PublicKey:
    """A ``--public-key`` file; anything but an Ed25519 public key PEM is InvalidDataError."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InvalidDataError("public key file is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidDataError("public key file holds a key of another kind; expected Ed25519")
    return key


# --- signing (portal side) ----------------------------------------------------------


def response_payload(
    request: ActivationRequest,
    *,
    licenses: Sequence[GrantedLicense | Mapping[str, Any]],
    capacity: int,
    maintenance_devices: int,
    covered: bool,
    issued_at: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned fields of the response to ``request``, echoing what binds it."""
    return {
        "install_code": request.install_code,
        "nonce": request.nonce,
        "request_digest": request_digest(request),
        "issued_at": format_timestamp(issued_at or datetime.now(UTC)),
        "licenses": [
            lic.model_dump(mode="json") if isinstance(lic, GrantedLicense) else dict(lic)
            for lic in licenses
        ],
        "capacity": capacity,
        "maintenance_devices": maintenance_devices,
        "covered": covered,
    }


def signed_bytes(response: ActivationResponse) -> bytes:
    """The exact bytes the signature is over: canonical JSON without ``signature``."""
    return canonical_json(response.model_dump(mode="json", exclude={"signature"}))


def sign_response(
    payload: Mapping[str, Any], *, key_id: str, private_key: Ed25519PrivateKey
) -> ActivationResponse:
    """Sign a response. ``format``, ``version`` and ``key_id`` are filled in here.

    A payload that does not make a valid response is a bug in the caller, so it raises
    ValueError (an internal error) rather than a user-facing InvalidDataError.
    """
    for field, value in (
        ("format", RESPONSE_FORMAT),
        ("version", FORMAT_VERSION),
        ("key_id", key_id),
    ):
        if payload.get(field, value) != value:
            raise ValueError(f"payload has {field}={payload[field]!r}, expected {value!r}")
    body_fields = {
        **payload,
        "format": RESPONSE_FORMAT,
        "version": FORMAT_VERSION,
        "key_id": key_id,
    }
    try:
        body = _ResponseBody.model_validate(body_fields, strict=False)
    except ValidationError as exc:
        raise ValueError(f"cannot sign an invalid response: {_summarise(exc)}") from None
    if key_id_for(private_key.public_key()) != key_id:
        raise ValueError(f"key id {key_id} does not belong to the given private key")
    message = canonical_json(body.model_dump(mode="json"))
    signature = base64.b64encode(private_key.sign(message)).decode("ascii")
    return ActivationResponse.model_validate(
        {**body.model_dump(mode="json"), "signature": signature}
    )


# --- verifying (device side) ----------------------------------------------------------


def _pick_key(
    response: ActivationResponse,
    public_keys: Mapping[str, Ed25519PublicKey] | Ed25519PublicKey,
) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if isinstance(public_keys, Ed25519PublicKey):
        # One key given (--public-key): its id is derivable, so say which key was expected.
        given = key_id_for(public_keys)
        if given != response.key_id:
            raise InvalidDataError(
                f"activation response is signed with key {response.key_id}, "
                f"but the public key given is {given}"
            )
        return public_keys
    key = public_keys.get(response.key_id)
    if key is None:
        known = ", ".join(sorted(public_keys)) or "none"
        raise InvalidDataError(
            f"activation response is signed with unknown key {response.key_id} (known: {known})"
        )
    return key


def _check_signature(response: ActivationResponse, key: Ed25519PublicKey) -> None:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(response.signature), signed_bytes(response))
    except InvalidSignature:
        raise InvalidDataError(
            "activation response: signature does not verify (the file was changed after "
            "signing, or it was signed by another portal)"
        ) from None


def _check_binding(response: ActivationResponse, request: ActivationRequest) -> None:
    """Is this the answer to *that* request: same device, same nonce, same content?

    Install codes compare case-insensitively (the portal echoes the request's spelling,
    but `5a7c-…` and `5A7C-…` are one SmartServer); the digest binds the exact bytes.
    """
    if install_code_key(response.install_code) != install_code_key(request.install_code):
        raise InvalidDataError(
            f"activation response: install code does not match the request "
            f"({response.install_code!r} vs {request.install_code!r})"
        )
    if response.nonce != request.nonce:
        raise InvalidDataError("activation response: nonce does not match the request")
    if response.request_digest != request_digest(request):
        raise InvalidDataError(
            "activation response: request digest does not match the request "
            "(it answers a different request with the same nonce)"
        )
    wanted = {lic.license_id: lic.copies for lic in request.licenses}
    granted = {lic.license_id: lic.copies for lic in response.licenses}
    if wanted != granted:
        raise InvalidDataError(
            "activation response: granted licenses or copies do not match the request"
        )


def verify_response(
    data: bytes,
    *,
    public_keys: Mapping[str, Ed25519PublicKey] | Ed25519PublicKey,
    request: ActivationRequest | None = None,
) -> ActivationResponse:
    """Accept a response file only if it is intact, signed by a known key and, given the
    request, answers exactly that request. Every failure is InvalidDataError (exit 7)."""
    response = parse_response(data)
    _check_signature(response, _pick_key(response, public_keys))
    # The signature covers content, not layout; requiring the exact bytes the portal
    # wrote also catches whitespace edits, so *any* changed byte is refused.
    if data != dump_file(response):
        raise InvalidDataError(
            "activation response: the file's layout was changed after signing "
            "(whitespace or line endings differ from what the portal wrote)"
        )
    if request is not None:
        _check_binding(response, request)
    return response


# --- human summaries ----------------------------------------------------------------


def _describe_granted(lic: GrantedLicense, now: datetime | None) -> dict[str, Any]:
    row: dict[str, Any] = lic.model_dump(mode="json")
    row["maintenance_status"] = (
        maintenance_status(parse_timestamp(lic.maintenance_expires), now=now).value
        if lic.maintenance_expires
        else None
    )
    return row


def describe(
    model: ActivationRequest | ActivationResponse, *, now: datetime | None = None
) -> dict[str, Any]:
    """A flat, JSON-friendly summary for ``smartserver inspect`` (signature NOT checked)."""
    if isinstance(model, ActivationRequest):
        return {
            "kind": "activation request",
            "version": model.version,
            "install_code": model.install_code,
            "name": model.name,
            "nonce": model.nonce,
            "created_at": model.created_at,
            "request_digest": request_digest(model),
            "licenses": [lic.model_dump(mode="json") for lic in model.licenses],
        }
    return {
        "kind": "activation response",
        "version": model.version,
        "install_code": model.install_code,
        "nonce": model.nonce,
        "request_digest": model.request_digest,
        "issued_at": model.issued_at,
        "key_id": model.key_id,
        "capacity": model.capacity,
        "maintenance_devices": model.maintenance_devices,
        "covered": model.covered,
        "licenses": [_describe_granted(lic, now) for lic in model.licenses],
    }
