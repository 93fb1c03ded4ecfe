"""The HTTP face of the Backend protocol: one route per operation, and the error body.

`licensectl serve` (licensectl.server) mounts these routes over a local backend; the
remote profile (licensectl.remote) calls them. Both read this table, so a path, a method
or a status is defined once. Scripts and devices depend on these paths (docs/api.md):
change them only with a CHANGELOG entry.

Request bodies are the request models of `requests.py`: the fields a path names (in
braces) go in the path, the others in a JSON body; a GET takes its arguments as query
parameters of the same names (`LicenseFilter`'s and `Page`'s fields, `partner`, `exact`),
but for the search text, which is `q`. A list answers a page (`items`, `next_after`);
`limit` defaults to 100, so a client wanting all follows `next_after`.
`keys_public_pem` has no route of its own: each key of `keys_list` carries its PEM.
Answers are the models of `models.py`, with the route's `status`. Every error is
`{"error": {"message", "kind", "exit_code", "field"}}` with the status below
(`error_body`), so a client rebuilds exactly the `Error:` line and exit code a local run
would give. Imports only the standard library.

Streams: `import_licenses` takes the file's bytes as the body (CSV or JSONL; `format` and
`dry_run` as query parameters); `export_licenses` answers CSV or JSONL; `run_batch` takes
JSONL and answers one JSON result line per operation (`BATCH_MEDIA_TYPE`). Should a
batch fail after its answer has begun, its last line is an error body instead of a
result. `activate_offline` takes the request file's bytes and answers the signed
response file's bytes.
"""

from __future__ import annotations

from typing import Final, NamedTuple

API_PREFIX: Final = "/v1"
#: Sent with every write; the same key with the same body replays the first answer.
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
#: Set on an answer replayed for a repeated Idempotency-Key.
IDEMPOTENT_REPLAY_HEADER: Final = "Idempotent-Replayed"
#: What JSON bodies may weigh; imports and batches stream and have their own cap.
JSON_BODY_MAX: Final = 1024 * 1024
#: Batch bodies and answers: JSON lines.
BATCH_MEDIA_TYPE: Final = "application/x-ndjson"
#: Export answers, by format.
EXPORT_MEDIA_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
}


class Route(NamedTuple):
    method: str
    path: str
    #: Needs no token (a device fetching the public key, a customer logging in).
    public: bool = False
    #: The status of a successful answer.
    status: int = 200


ROUTES: Final[dict[str, Route]] = {
    # who, and tokens
    "whoami": Route("GET", "/v1/whoami"),
    "token_create": Route("POST", "/v1/tokens", status=201),
    "token_list": Route("GET", "/v1/tokens"),
    "token_revoke": Route("DELETE", "/v1/tokens/{token_id}"),
    "login_eid": Route("POST", "/v1/login/eid", public=True),
    # accounts
    "partner_add": Route("POST", "/v1/partners", status=201),
    "partner_list": Route("GET", "/v1/partners"),
    "customer_add": Route("POST", "/v1/customers", status=201),
    "customer_list": Route("GET", "/v1/customers"),
    "customer_show": Route("GET", "/v1/customers/{customer}"),
    "customer_email_add": Route("POST", "/v1/customers/{customer}/emails"),
    "customer_email_remove": Route("DELETE", "/v1/customers/{customer}/emails"),
    # fixing mistakes
    "partner_rename": Route("POST", "/v1/partners/{partner}/rename"),
    "customer_rename": Route("POST", "/v1/customers/{customer}/rename"),
    "customer_note": Route("PUT", "/v1/customers/{customer}/note"),
    "customer_remove": Route("DELETE", "/v1/customers/{customer}"),
    "license_note": Route("PUT", "/v1/licenses/{license_id}/note"),
    "license_void": Route("POST", "/v1/licenses/{license_id}/void"),
    # licenses
    "license_add": Route("POST", "/v1/licenses", status=201),
    "license_list": Route("GET", "/v1/licenses"),
    "license_show": Route("GET", "/v1/licenses/{license_id}"),
    "license_history": Route("GET", "/v1/licenses/{license_id}/history"),
    "transfer": Route("POST", "/v1/licenses/{license_id}/transfer"),
    "search_customers": Route("GET", "/v1/search/customers"),
    "search_po": Route("GET", "/v1/search/po"),
    # activation: a return is an activation to 0 copies
    "activate": Route("POST", "/v1/licenses/{license_id}/activations"),
    "return_license": Route("POST", "/v1/licenses/{license_id}/activations"),
    "activate_offline": Route("POST", "/v1/activations/offline"),
    "smartserver_show": Route("GET", "/v1/smartservers/{install_code}"),
    # bulk
    "import_licenses": Route("POST", "/v1/imports"),
    "export_licenses": Route("GET", "/v1/exports"),
    "run_batch": Route("POST", "/v1/batches"),
    # reports: their query models' fields as query parameters
    "report_renewals": Route("GET", "/v1/reports/renewals"),
    "report_coverage": Route("GET", "/v1/reports/coverage"),
    "report_inventory": Route("GET", "/v1/reports/inventory"),
    "report_activity": Route("GET", "/v1/reports/activity"),
    # shell completion of objects: `kind` and `prefix` as query parameters
    "complete": Route("GET", "/v1/complete"),
    # the portal's keys and the store
    "keys_list": Route("GET", "/v1/keys/public", public=True),
    "keys_rotate": Route("POST", "/v1/keys/rotate"),
    "db_check": Route("GET", "/v1/store/check"),
}

#: Operations a remote profile cannot serve, and why (they exit 2 there).
STORE_SIDE_ONLY: Final[dict[str, str]] = {
    "db_upgrade": "a server upgrades its store before it starts: run 'licensectl db upgrade' "
    "where the store is",
    "db_backup": "a backup is taken where the store is: 'licensectl db backup' there, or "
    "pg_dump for PostgreSQL",
}

#: HTTP status of each error kind (errors.py); the body carries the exit code too.
STATUS_BY_KIND: Final[dict[str, int]] = {
    "usage": 400,
    "not_found": 404,
    "conflict": 409,
    "invalid_data": 422,
    "auth": 401,
    "forbidden": 403,
    "unavailable": 503,
    "store_unavailable": 503,
    "remote": 502,
    "too_large": 413,
    "rate_limited": 429,
    "error": 500,
}


def error_body(
    kind: str, exit_code: int, message: str, field: str | None = None
) -> dict[str, dict[str, object]]:
    """The one shape of every error answer (and of a broken batch's last line)."""
    return {"error": {"message": message, "kind": kind, "exit_code": exit_code, "field": field}}
