"""Schemathesis over every operation of the OpenAPI document, against a live server with an admin key."""

from __future__ import annotations

import asyncio
import os
import warnings
from typing import Any

import httpx
import pytest

from bench import harness
from tests.conftest import bearer

EXAMPLES = int(os.environ.get("TOUCHPULSE_FUZZ_EXAMPLES", "15"))


def fuzz(base_url: str, headers: dict[str, str], examples: int, *,
         statuses: bool) -> tuple[int, list[str]]:
    """Run each operation's examples; returns (operations, one line per failing operation)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import hypothesis
        import schemathesis
        from schemathesis import checks
        from schemathesis.core.result import Ok

        schema = schemathesis.openapi.from_url(base_url + "/schema/openapi.json")
    wanted = ([checks.status_code_conformance] if statuses else
              [checks.not_a_server_error, checks.content_type_conformance,
               checks.response_schema_conformance, checks.response_headers_conformance])
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operations += 1
        if not isinstance(result, Ok):
            failures.append(f"an operation the document describes cannot be read: {result.err()}")
            continue
        operation = result.ok()

        @hypothesis.settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(hypothesis.HealthCheck),
                             phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
        @hypothesis.given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=wanted)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run()
        except (Exception, BaseExceptionGroup) as exc:  # collected, reported together below
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return operations, failures


async def _fuzz_live(database_url: str, make_key: Any, *, examples: int, statuses: bool) -> list[str]:
    key = await make_key("admin")
    service = harness.ServiceProcess(database_url)
    await asyncio.to_thread(service.start)
    try:
        document = await asyncio.to_thread(httpx.get, service.base_url + "/schema/openapi.json", timeout=30)
        assert document.status_code == 200, (
            f"GET /schema/openapi.json answers {document.status_code}: nothing to fuzz from\n"
            + service.log.read_text()[-1500:])
        operations, failures = await asyncio.to_thread(
            fuzz, service.base_url, bearer(key), examples, statuses=statuses)
    finally:
        await asyncio.to_thread(service.stop)
    assert operations >= 10
    return failures


@pytest.mark.slow
async def test_no_server_errors_and_every_body_matches_its_schema(database_url: str, make_key: Any) -> None:
    failures = await _fuzz_live(database_url, make_key, examples=EXAMPLES, statuses=False)
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
async def test_every_status_answered_is_documented(database_url: str, make_key: Any) -> None:
    failures = await _fuzz_live(database_url, make_key, examples=5, statuses=True)
    assert not failures, "\n\n".join(failures)
