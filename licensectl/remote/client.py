"""`RemoteBackend`: every operation of the Backend protocol, as a call of its route.

The client adds nothing but translation. `call(op, ...)` reads the operation's route
from `licensectl.contract.api.ROUTES`; the fields its path names (in braces) fill the
path, the rest go in the query string (GET) or in a JSON body; the answer is parsed into
the result model the protocol names. An error answer's body is rebuilt into the very
error a local run raises (`errors.from_wire`), so the `Error:` line and the exit code are
the same. The streams (import, export, batch, offline activation) are the only methods
with a body of their own.

Network behaviour:

- timeouts: connect 5 s, read 60 s (`LICENSECTL_CONNECT_TIMEOUT`,
  `LICENSECTL_READ_TIMEOUT`, in seconds);
- every write carries an `Idempotency-Key` (a uuid4), reused by its retries, so a retried
  write applies once;
- reads, and writes whose body can be sent again, are retried on connection errors,
  timeouts, a connection cut before the answer, and 502/503/504: `LICENSECTL_RETRIES`
  more attempts (default 2), after 0.25 s, 0.5 s, ...;
- an unreachable or failing server, a timeout or a TLS failure is a RemoteError (exit 6)
  naming the URL; a refused token (401) an AuthError (exit 5) saying to log in;
- TLS is always verified: against the system's CAs (certifi), or the `ca_bundle` given.
  There is no way to turn verification off.

The token is sent in the Authorization header only: it is in no message, repr or log.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from licensectl import __version__, gcpause
from licensectl.contract.api import (
    BATCH_MEDIA_TYPE,
    IDEMPOTENCY_HEADER,
    ROUTES,
    STORE_SIDE_ONLY,
)
from licensectl.contract.models import (
    ActivationPublic,
    ActivityReport,
    BatchResult,
    Completions,
    CoverageReport,
    CustomerPage,
    CustomerPublic,
    CustomerSearchPage,
    CustomerShow,
    ImportSummary,
    InventoryReport,
    KeyPublic,
    LicenseDetail,
    LicenseHistory,
    LicensePage,
    LicensePublic,
    PartnerPublic,
    Principal,
    RenewalsReport,
    SmartServerPublic,
    StoreBackup,
    StoreCheckReport,
    StoreSchema,
    TokenCreated,
    TokenPublic,
    TransferResult,
)
from licensectl.errors import (
    AuthError,
    LicensectlError,
    NotFoundError,
    RemoteError,
    UsageError,
    from_wire,
)

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

    from licensectl.contract.requests import (
        Activate,
        ActivityQuery,
        CompleteQuery,
        CoverageQuery,
        CustomerAdd,
        CustomerEmail,
        CustomerNote,
        CustomerRemove,
        CustomerRename,
        EidLogin,
        ImportOptions,
        InventoryQuery,
        LicenseAdd,
        LicenseFilter,
        LicenseNote,
        LicenseVoid,
        Page,
        PartnerAdd,
        PartnerRename,
        RenewalsQuery,
        Return,
        TokenCreate,
        Transfer,
    )

ENV_CONNECT_TIMEOUT: Final = "LICENSECTL_CONNECT_TIMEOUT"
ENV_READ_TIMEOUT: Final = "LICENSECTL_READ_TIMEOUT"
ENV_RETRIES: Final = "LICENSECTL_RETRIES"

#: Statuses worth another attempt: a proxy or the store that is briefly unavailable.
RETRY_STATUSES: Final = frozenset({502, 503, 504})
#: The answer's stream is read and the upload's body sent in pieces of about this size.
CHUNK: Final = 1 << 16
#: Licenses per batch an export yields (as the local export does, roughly).
EXPORT_BATCH: Final = 500
#: Operations where a profile's default partner stands in for a partner left out, as
#: the local backend's `default_partner` does.
DEFAULT_PARTNER_OPS: Final = frozenset(
    {"customer_add", "customer_show", "customer_email_add", "customer_email_remove", "license_add"}
    | {"customer_rename", "customer_note", "customer_remove"}
)
#: The same operations as batch lines ("customer.email.add" for "customer_email_add").
DEFAULT_PARTNER_LINES: Final = frozenset(op.replace("_", ".") for op in DEFAULT_PARTNER_OPS)
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number of seconds, not {text!r}") from None
    if value <= 0:
        raise UsageError(f"{name} must be more than 0, not {text!r}")
    return value


def _env_retries() -> int:
    text = os.environ.get(ENV_RETRIES, "").strip()
    if not text:
        return 2
    if not text.isdigit() or int(text) > 10:
        raise UsageError(f"{ENV_RETRIES} must be a whole number from 0 to 10, not {text!r}")
    return int(text)


def check_url(url: str) -> str:
    """A server URL as kept and used: https (or http on loopback), no path, no slash."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UsageError(f"{url!r} is not a URL: give https://HOST[:PORT]") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{url!r} is not a server URL: give https://HOST[:PORT]")
    if parts.username or parts.password:
        raise UsageError(
            "a server URL holds no user or password: run 'licensectl login' for the token"
        )
    if parts.path or parts.query or parts.fragment:
        raise UsageError(f"{url!r} has a path: give only https://HOST[:PORT]")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise UsageError(
            f"{url!r} would send the token in clear text: use https (http is only for "
            "a server on this machine's loopback)"
        )
    del port
    return text


@dataclass(frozen=True)
class RemoteSettings:
    """Where the server is and how to reach it; the token never shows in a repr."""

    url: str
    token: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    default_partner: str | None = None
    #: The profile this run uses (None for `--url`), named in the messages.
    profile: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    retries: int = 2
    backoff: float = 0.25

    @classmethod
    def from_env(cls, url: str, **kwargs: Any) -> RemoteSettings:
        """Settings with the timeouts and retries of the environment, if set."""
        return cls(
            url=check_url(url),
            connect_timeout=_env_number(ENV_CONNECT_TIMEOUT, 5.0),
            read_timeout=_env_number(ENV_READ_TIMEOUT, 60.0),
            retries=_env_retries(),
            **kwargs,
        )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_PATH_FIELD = re.compile(r"\{(\w+)\}")


def fill_path(template: str, data: dict[str, Any]) -> str:
    """The route's path with its `{fields}` taken out of `data` (percent-encoded)."""
    from urllib.parse import quote

    def one(match: re.Match[str]) -> str:
        value = data.pop(match.group(1))
        return quote(str(value), safe="")

    return _PATH_FIELD.sub(one, template)


def _is_tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _load_httpx() -> Any:
    """httpx, without its command-line tool: `httpx/__init__` imports `httpx._main` if it
    can, which pulls in click, rich.progress and pygments (a tenth of a remote command's
    start-up) for a `main` licensectl never calls. Marking it absent makes httpx take its
    own fallback for a missing CLI extra."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx

    return httpx


class RemoteBackend:
    """The Backend protocol over HTTP: one route of contract/api.py per operation."""

    def __init__(self, settings: RemoteSettings) -> None:
        http_lib = _load_httpx()
        gcpause.release()  # the command has started: its work proper follows

        self.settings = settings
        self.url = settings.url
        headers = {"User-Agent": f"licensectl/{__version__}", "Accept": "application/json"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._http: httpx.Client = http_lib.Client(
            base_url=settings.url,
            headers=headers,
            verify=self._tls_context(),
            timeout=http_lib.Timeout(
                settings.read_timeout,
                connect=settings.connect_timeout,
                pool=settings.connect_timeout,
            ),
            follow_redirects=False,
            trust_env=False,
        )

    def __repr__(self) -> str:
        return f"RemoteBackend({self.url!r})"

    def _tls_context(self) -> ssl.SSLContext | bool:
        bundle = self.settings.ca_bundle
        if self.url.startswith("http://"):
            # Plain HTTP to loopback (check_url allows nothing else): no TLS will happen,
            # so skip loading the CA store (a third of a command's time); a context that
            # trusts nothing, should it ever be used.
            return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if bundle is None:
            return True
        try:
            return ssl.create_default_context(cafile=bundle)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(
                f"the CA bundle {bundle} cannot be used ({_reason(exc)}): give a PEM file of "
                "the CA that signed the server's certificate"
            ) from None

    # --- the wire -------------------------------------------------------------------

    def send(
        self,
        op: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        replayable: bool = True,
    ) -> httpx.Response:
        """Send one request of `op`, retrying where that is safe; the answer, checked.

        A write carries one Idempotency-Key for all its attempts. `replayable=False`
        (a body that streams from a file once) sends it once.
        """
        import httpx

        route = ROUTES[op]
        headers = dict(headers or {})
        if route.method != "GET":
            headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        attempts = 1 + (self.settings.retries if replayable else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                request = self._http.build_request(
                    route.method,
                    path,
                    params=params,
                    json=json_body,
                    content=content,
                    headers=headers,
                )
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if last or _is_tls_failure(exc):
                    raise self._transport_error(exc) from None
                self._pause(attempt)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                response.close()
                self._pause(attempt)
                continue
            if response.is_success:
                return response
            if stream:
                response.read()
            raise self._error(op, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int) -> None:
        time.sleep(self.settings.backoff * (2**attempt))

    def _transport_error(self, exc: Exception) -> RemoteError:
        import httpx

        where = f"the licensectl server at {self.url}"
        if isinstance(exc, httpx.TimeoutException):
            if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                seconds, env = self.settings.connect_timeout, ENV_CONNECT_TIMEOUT
            else:
                seconds, env = self.settings.read_timeout, ENV_READ_TIMEOUT
            return RemoteError(
                f"{where} did not answer within {seconds:g} s (set {env} to wait longer); "
                "a write may or may not have been applied: check before running it again"
                if not isinstance(exc, httpx.ConnectTimeout)
                else f"{where} did not answer within {seconds:g} s (set {env} to wait longer)"
            )
        if _is_tls_failure(exc):
            return RemoteError(
                f"TLS verification of {where} failed ({_reason(exc)}): if it uses a private "
                "CA, give that CA's certificate with --ca-bundle FILE (licensectl profile add)"
            )
        if isinstance(exc, httpx.ConnectError):
            return RemoteError(f"cannot reach {where} ({_reason(exc)}); nothing was changed")
        return RemoteError(f"{where} broke off its answer ({_reason(exc)})")

    def _error(self, op: str, response: httpx.Response) -> LicensectlError:
        status = response.status_code
        detail: dict[str, Any] | None = None
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                detail = body["error"]
        except ValueError:
            detail = None
        if status == 401 and op != "login_eid":
            login = "licensectl login" + (
                f" --profile {self.settings.profile}" if self.settings.profile else ""
            )
            said = f" ({detail['message']})" if detail and detail.get("message") else ""
            refused = "refused the token" if self.settings.token else "needs a token"
            return AuthError(
                f"the licensectl server at {self.url} {refused}{said}: run '{login}' "
                "(or set LICENSECTL_TOKEN to a valid token)"
            )
        if detail is not None and {"message", "kind", "exit_code"} <= set(detail):
            message = str(detail["message"])
            if status >= 500:
                message = f"{message} (the licensectl server at {self.url})"
            error = from_wire(str(detail["kind"]), int(detail["exit_code"]), message)
            field_name = detail.get("field")
            error.field = str(field_name) if field_name else None
            return error
        if status >= 500:
            return RemoteError(f"the licensectl server at {self.url} failed (HTTP {status})")
        return RemoteError(
            f"unexpected answer from {self.url} (HTTP {status}): is this a licensectl server?"
        )

    def call(self, op: str, result: Any, request: BaseModel | None = None, **fields: Any) -> Any:
        """Run `op` by its route: path fields, then query (GET) or JSON body; the answer
        parsed as `result` (a model class or a type such as `list[Model]`)."""
        from pydantic import BaseModel, TypeAdapter

        data: dict[str, Any] = request.model_dump(mode="json") if request is not None else {}
        for name, value in fields.items():
            if isinstance(value, BaseModel):
                data.update(value.model_dump(mode="json"))
            else:
                data[name] = value
        partner = self.settings.default_partner
        if partner is not None and op in DEFAULT_PARTNER_OPS and data.get("partner") is None:
            data["partner"] = partner
        route = ROUTES[op]
        path = fill_path(route.path, data)
        if route.method == "GET":
            params = {k: _query_value(v) for k, v in data.items() if v is not None}
            response = self.send(op, path, params=params)
        else:
            response = self.send(op, path, json_body=data)
        try:
            if isinstance(result, type) and issubclass(result, BaseModel):
                return result.model_validate_json(response.content)
            return TypeAdapter(result).validate_json(response.content)
        except ValueError:
            raise RemoteError(
                f"the licensectl server at {self.url} answered {op} with something this "
                "version cannot read: is it a licensectl server of the same version?"
            ) from None

    def _all_pages(
        self,
        op: str,
        result: Any,
        page: Page | None,
        *,
        items: str = "items",
        next_after: str = "next_after",
        **fields: Any,
    ) -> Any:
        """One page as asked; or, for `limit=None` (all), every page followed. `items`
        and `next_after` name the answer's list and its cursor."""
        from licensectl.contract.requests import Page

        page = page if page is not None else Page()
        if page.limit is not None:
            return self.call(op, result, page=page, **fields)
        first = self.call(op, result, page=Page(after=page.after), **fields)
        current = first
        while (cursor := getattr(current, next_after)) is not None:
            current = self.call(op, result, page=Page(after=cursor), **fields)
            getattr(first, items).extend(getattr(current, items))
        setattr(first, next_after, None)
        return first

    # --- who, and API tokens -------------------------------------------------------

    def whoami(self) -> Principal:
        result: Principal = self.call("whoami", Principal)
        return result

    def token_create(self, request: TokenCreate) -> TokenCreated:
        result: TokenCreated = self.call("token_create", TokenCreated, request)
        return result

    def token_list(self) -> list[TokenPublic]:
        result: list[TokenPublic] = self.call("token_list", list[TokenPublic])
        return result

    def token_revoke(self, token_id: str) -> TokenPublic:
        result: TokenPublic = self.call("token_revoke", TokenPublic, token_id=token_id)
        return result

    def login_eid(self, request: EidLogin) -> TokenCreated:
        result: TokenCreated = self.call("login_eid", TokenCreated, request)
        return result

    # --- accounts ---------------------------------------------------------------

    def partner_add(self, request: PartnerAdd) -> PartnerPublic:
        result: PartnerPublic = self.call("partner_add", PartnerPublic, request)
        return result

    def partner_list(self) -> list[PartnerPublic]:
        result: list[PartnerPublic] = self.call("partner_list", list[PartnerPublic])
        return result

    def customer_add(self, request: CustomerAdd) -> CustomerPublic:
        result: CustomerPublic = self.call("customer_add", CustomerPublic, request)
        return result

    def customer_list(
        self, *, partner: str | None = None, page: Page | None = None
    ) -> CustomerPage:
        result: CustomerPage = self._all_pages("customer_list", CustomerPage, page, partner=partner)
        return result

    def customer_show(
        self, customer: str, *, partner: str | None = None, page: Page | None = None
    ) -> CustomerShow:
        result: CustomerShow = self._all_pages(
            "customer_show",
            CustomerShow,
            page,
            items="licenses",
            next_after="licenses_next_after",
            customer=customer,
            partner=partner,
        )
        return result

    def customer_email_add(self, request: CustomerEmail) -> CustomerPublic:
        result: CustomerPublic = self.call("customer_email_add", CustomerPublic, request)
        return result

    def customer_email_remove(self, request: CustomerEmail) -> CustomerPublic:
        result: CustomerPublic = self.call("customer_email_remove", CustomerPublic, request)
        return result

    # --- fixing mistakes -----------------------------------------------------------

    def partner_rename(self, request: PartnerRename) -> PartnerPublic:
        result: PartnerPublic = self.call("partner_rename", PartnerPublic, request)
        return result

    def customer_rename(self, request: CustomerRename) -> CustomerPublic:
        result: CustomerPublic = self.call("customer_rename", CustomerPublic, request)
        return result

    def customer_note(self, request: CustomerNote) -> CustomerPublic:
        result: CustomerPublic = self.call("customer_note", CustomerPublic, request)
        return result

    def customer_remove(self, request: CustomerRemove) -> CustomerPublic:
        result: CustomerPublic = self.call("customer_remove", CustomerPublic, request)
        return result

    def license_note(self, request: LicenseNote) -> LicensePublic:
        result: LicensePublic = self.call("license_note", LicensePublic, request)
        return result

    def license_void(self, request: LicenseVoid) -> LicensePublic:
        result: LicensePublic = self.call("license_void", LicensePublic, request)
        return result

    # --- reports --------------------------------------------------------------------

    def report_renewals(self, query: RenewalsQuery) -> RenewalsReport:
        result: RenewalsReport = self.call("report_renewals", RenewalsReport, query)
        return result

    def report_coverage(self, query: CoverageQuery) -> CoverageReport:
        result: CoverageReport = self.call("report_coverage", CoverageReport, query)
        return result

    def report_inventory(self, query: InventoryQuery) -> InventoryReport:
        result: InventoryReport = self.call("report_inventory", InventoryReport, query)
        return result

    def report_activity(self, query: ActivityQuery) -> ActivityReport:
        result: ActivityReport = self.call("report_activity", ActivityReport, query)
        return result

    def complete(self, query: CompleteQuery) -> Completions:
        result: Completions = self.call("complete", Completions, query)
        return result

    # --- licenses ---------------------------------------------------------------

    def license_add(self, request: LicenseAdd) -> LicensePublic:
        result: LicensePublic = self.call("license_add", LicensePublic, request)
        return result

    def license_list(self, filters: LicenseFilter, *, page: Page | None = None) -> LicensePage:
        result: LicensePage = self._all_pages("license_list", LicensePage, page, filters=filters)
        return result

    def license_show(self, license_id: str) -> LicenseDetail:
        result: LicenseDetail = self.call("license_show", LicenseDetail, license_id=license_id)
        return result

    def license_history(self, license_id: str, *, page: Page | None = None) -> LicenseHistory:
        result: LicenseHistory = self._all_pages(
            "license_history",
            LicenseHistory,
            page,
            items="events",
            next_after="events_next_after",
            license_id=license_id,
        )
        return result

    def transfer(self, request: Transfer) -> TransferResult:
        result: TransferResult = self.call("transfer", TransferResult, request)
        return result

    def search_customers(self, text: str, *, page: Page | None = None) -> CustomerSearchPage:
        result: CustomerSearchPage = self._all_pages(
            "search_customers", CustomerSearchPage, page, q=text
        )
        return result

    def search_po(self, text: str, *, exact: bool = False, page: Page | None = None) -> LicensePage:
        result: LicensePage = self._all_pages("search_po", LicensePage, page, q=text, exact=exact)
        return result

    # --- activation -------------------------------------------------------------

    def activate(self, request: Activate) -> ActivationPublic:
        result: ActivationPublic = self.call("activate", ActivationPublic, request)
        return result

    def return_license(self, request: Return) -> ActivationPublic:
        # The route is the activation's: a return is an activation to 0 copies.
        result: ActivationPublic = self.call("return_license", ActivationPublic, request, copies=0)
        return result

    def activate_offline(self, request_file: bytes) -> bytes:
        route = ROUTES["activate_offline"]
        response = self.send(
            "activate_offline",
            route.path,
            content=request_file,
            headers={"Content-Type": "application/octet-stream"},
        )
        return response.content

    def smartserver_show(self, install_code: str) -> SmartServerPublic:
        result: SmartServerPublic = self.call(
            "smartserver_show", SmartServerPublic, install_code=install_code
        )
        return result

    # --- bulk -------------------------------------------------------------------

    def import_licenses(self, lines: Iterable[str], options: ImportOptions) -> ImportSummary:
        """The file streams up as it is read (memory holds a chunk); it is sent once, as
        a file read once cannot be sent again (imports are idempotent by PO line)."""
        media = "application/x-ndjson" if options.format == "jsonl" else "text/csv"
        response = self.send(
            "import_licenses",
            ROUTES["import_licenses"].path,
            params={k: _query_value(v) for k, v in options.model_dump(mode="json").items()},
            content=_encoded(lines),
            headers={"Content-Type": f"{media}; charset=utf-8"},
            replayable=False,
        )
        return ImportSummary.model_validate_json(response.content)

    def export_licenses(self, filters: LicenseFilter) -> Iterator[list[LicensePublic]]:
        """The server's JSON lines, parsed as they arrive, a batch at a time (the CLI
        renders them exactly as a local export). A stream cut short is an error."""
        import httpx

        params = {
            k: _query_value(v) for k, v in filters.model_dump(mode="json").items() if v is not None
        }
        params["format"] = "jsonl"
        response = self.send(
            "export_licenses", ROUTES["export_licenses"].path, params=params, stream=True
        )
        try:
            batch: list[LicensePublic] = []
            for line in response.iter_lines():
                if not line.strip():
                    continue
                batch.append(LicensePublic.model_validate_json(line))
                if len(batch) >= EXPORT_BATCH:
                    yield batch
                    batch = []
            if batch:
                yield batch
        except httpx.TransportError as exc:
            raise RemoteError(
                f"the export from the licensectl server at {self.url} broke off "
                f"({_reason(exc)}); what was written is incomplete"
            ) from None
        finally:
            response.close()

    def run_batch(self, lines: Iterable[str], *, atomic: bool = False) -> Iterator[BatchResult]:
        """Run server-side; the result lines stream back as the operations run. A batch
        whose lines are all in memory (the CLI reads them first) is retried safely."""
        import httpx

        replayable = isinstance(lines, Sequence)
        partner = self.settings.default_partner
        if partner is not None:
            filled = (_with_partner(line, partner) for line in lines)
            lines = list(filled) if replayable else filled
        content: bytes | Iterator[bytes] = (
            "".join(lines).encode("utf-8") if replayable else _encoded(lines)
        )
        response = self.send(
            "run_batch",
            ROUTES["run_batch"].path,
            params={"atomic": _query_value(atomic)},
            content=content,
            headers={"Content-Type": BATCH_MEDIA_TYPE},
            stream=True,
            replayable=replayable,
        )
        try:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                data = json.loads(line)
                if (
                    isinstance(data, dict)
                    and isinstance(data.get("error"), dict)
                    and "line" not in data
                ):
                    error = data["error"]
                    raise from_wire(
                        str(error.get("kind", "error")),
                        int(error.get("exit_code", 1)),
                        f"{error.get('message', 'the batch broke off')} (the licensectl "
                        f"server at {self.url})",
                    )
                yield BatchResult.model_validate(data)
        except httpx.TransportError as exc:
            raise RemoteError(
                f"the batch's answer from the licensectl server at {self.url} broke off "
                f"({_reason(exc)}); see the result lines above for what ran"
            ) from None
        except ValueError:
            raise RemoteError(
                f"the licensectl server at {self.url} sent a batch result this version cannot read"
            ) from None
        finally:
            response.close()

    # --- the portal's signing keys ------------------------------------------------

    def keys_list(self) -> list[KeyPublic]:
        result: list[KeyPublic] = self.call("keys_list", list[KeyPublic])
        return result

    def keys_public_pem(self, key_id: str | None = None) -> str:
        """The key's PEM from `keys_list` (the route has no other); as locally, the first
        key is made if there is none yet (`keys_rotate`, which needs an admin)."""
        keys = self.keys_list()
        if not keys and key_id is None:
            try:
                return self.keys_rotate().public_key_pem
            except AuthError:
                keys = self.keys_list()
        for key in keys:
            if (key.key_id == key_id) if key_id is not None else key.active:
                return key.public_key_pem
        if key_id is not None:
            raise NotFoundError(f"no signing key with id {key_id!r} (see 'licensectl keys show')")
        raise NotFoundError(
            f"the licensectl server at {self.url} has no signing key yet: an admin creates "
            "it with 'licensectl keys rotate'"
        )

    def keys_rotate(self) -> KeyPublic:
        result: KeyPublic = self.call("keys_rotate", KeyPublic)
        return result

    # --- the store ----------------------------------------------------------------

    def db_check(self, progress: Callable[[float], None] | None = None) -> StoreCheckReport:
        del progress  # the server's check reports no progress
        result: StoreCheckReport = self.call("db_check", StoreCheckReport)
        return result

    def db_upgrade(self) -> StoreSchema:
        raise _store_side_only("db_upgrade", "db upgrade")

    def db_backup(self, path: str) -> StoreBackup:
        del path
        raise _store_side_only("db_backup", "db backup")

    def close(self) -> None:
        self._http.close()


def _store_side_only(op: str, command: str) -> UsageError:
    return UsageError(f"'{command}' does not work with a remote profile: {STORE_SIDE_ONLY[op]}")


#: Sent where the file stops being UTF-8: the server then reports that very line as not
#: UTF-8, as a local import would (the bytes themselves were lost to the decoder).
NOT_UTF8: Final = b"\xff\n"


def _with_partner(line: str, partner: str) -> str:
    """A batch line whose operation takes a partner and names none, with the profile's
    default partner filled in (as the local backend's `default_partner` stands in); any
    other line, malformed ones included, goes as it is for the server to judge."""
    if '"op"' not in line:
        return line
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return line
    if (
        not isinstance(record, dict)
        or record.get("op") not in DEFAULT_PARTNER_LINES
        or record.get("partner") is not None
    ):
        return line
    record["partner"] = partner
    ending = line[len(line.rstrip("\r\n")) :]
    return json.dumps(record, ensure_ascii=False) + ending


def _encoded(lines: Iterable[str]) -> Iterator[bytes]:
    """Lines as UTF-8, in pieces of about CHUNK bytes: an upload that streams."""
    pending: list[str] = []
    size = 0
    try:
        for line in lines:
            pending.append(line)
            size += len(line)
            if size >= CHUNK:
                yield "".join(pending).encode("utf-8")
                pending, size = [], 0
    except UnicodeDecodeError:
        pending.append(NOT_UTF8.decode("latin-1"))
        yield "".join(pending[:-1]).encode("utf-8") + NOT_UTF8
        return
    if pending:
        yield "".join(pending).encode("utf-8")
