"""Property-based fuzzing of every operation in the OpenAPI document: no 5xx, ever.

Schemathesis generates requests from the document, valid (positive: events from the
contract's JSON Schema, well-formed parameters) and invalid (negative), and checks each answer:
never a server error, and status, content type and body as the document says.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from keruen.store import db
from tests.api.conftest import Api, make_api

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402
from schemathesis.specs.openapi import checks as oa_checks  # noqa: E402

CHECKS = [
    st_checks.not_a_server_error,
    oa_checks.status_code_conformance,
    oa_checks.content_type_conformance,
    oa_checks.response_schema_conformance,
]
ADMIN_PATHS = ("/v1/users", "/v1/keys", "/v1/audit")
# per operation, mode and caller: a few seconds in the suite; KERUEN_FUZZ_EXAMPLES=200 (and
# KERUEN_FUZZ_RANDOM=1 for fresh inputs each run) for a deep run
EXAMPLES = int(os.environ.get("KERUEN_FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("KERUEN_FUZZ_RANDOM") == "1"


@pytest.fixture(scope="module")
def fuzz_api() -> Iterator[Api]:
    with db.scratch() as eng:
        yield from make_api(eng)


def fuzz(api: Api, user: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=not RANDOM,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            caller = "root" if case.path.startswith(ADMIN_PATHS) else user
            case.call_and_validate(headers=api.auth(caller), checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise  # only an operation without inputs has no invalid request to make


@pytest.mark.parametrize(
    ("user", "mode"),
    [
        ("olga", GenerationMode.POSITIVE),
        ("acme", GenerationMode.POSITIVE),
        ("olga", GenerationMode.NEGATIVE),
    ],  # invalid requests fail before the caller matters
)
def test_no_server_errors(fuzz_api: Api, user: str, mode: GenerationMode) -> None:
    fuzz(fuzz_api, user, mode)
