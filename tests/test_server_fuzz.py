"""An OpenAPI-driven fuzzer (schemathesis) over every route, with an admin token.

Valid and invalid requests are generated from /openapi.json for each operation and sent
to the app in-process; not one may answer 5xx, a status the schema does not list, or a
body or content type that breaks the schema. `FUZZ_EXAMPLES` cases per operation and
mode keep it quick; the count is printed and checked.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import pytest
import schemathesis
from conftest import Cli

#: Cases per operation and generation mode (valid, invalid).
FUZZ_EXAMPLES = 4


@schemathesis.serializer("application/x-ndjson", "text/csv")
def _as_bytes(_context: Any, value: Any) -> bytes:
    """Import and batch bodies are files: whatever was generated, as bytes."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.mark.local_only  # fuzzes the server app itself
def test_the_fuzzer_finds_no_server_error_and_nothing_off_schema(
    cli: Cli, store_url: str, onboarded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import content_type_conformance, not_a_server_error
    from schemathesis.core.result import Err
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )

    from licensectl.server.app import create_app
    from licensectl.store.engine import Store
    from licensectl.store.url import normalize_db_url

    token = cli.ok("token", "create", "--role", "admin", "--name", "fuzzer").stdout.strip()
    store = Store(normalize_db_url(store_url))
    app = create_app(store)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation the schema describes wrongly
            raise result.err()
        operations.append(result.ok())

    def fuzz(operation: Any, mode: Any) -> None:
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            # The schema's security scheme makes a (random) Authorization header: ours wins.
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            response = case.call()
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=checks)
            except AssertionError as exc:  # the checks' failures, all of them kept
                failures.append(f"{operation.label}: {str(exc)[:400]}")

        run()

    try:
        for operation in operations:
            fuzz(operation, GenerationMode.POSITIVE)
            if _has_input(operation):  # else there is nothing to make invalid
                fuzz(operation, GenerationMode.NEGATIVE)
    finally:
        store.dispose()
    cases = sum(statuses.values())
    with capsys.disabled():
        sys.stdout.write(
            f"\nfuzzer: {cases} cases over {len(operations)} operations: {dict(statuses)}\n"
        )
    assert failures == []
    assert not [s for s in statuses if s >= 500]
    # Not a fuzzer that only ever hears "bad request": valid calls got through too.
    assert sum(n for s, n in statuses.items() if s < 300) > len(operations)
    assert cases >= len(operations) * 2


def _has_input(operation: Any) -> bool:
    """Whether the operation takes anything but the token: parameters or a body."""
    named = [p.name for p in operation.iter_parameters() if p.name != "Authorization"]
    return bool(named) or bool(list(operation.body))
