"""schemathesis' GraphQL mode against a live server: uvicorn on a free port (serverkit.running_server),
the real app over a clone of the tiny data set, the schema loaded by introspection with a valid token.

Every root field of Query and Mutation is one schemathesis operation; each gets a bounded number of
generated queries (hypothesis-graphql: every argument, inline literals, nested selections), sent
as the state president and as a booth president, each answer checked with schemathesis'
`not_a_server_error` and `response_schema_conformance` (a JSON object, no null in a non-null
field) and with the contract's codes.

schemathesis counts any error of an executed operation that is not marked as a client error
(BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, ...) as a "GraphQL server error". The contract's
FORBIDDEN and NOT_FOUND are answers, not failures (service.md), so exactly those are let through
here; INTERNAL_SERVER_ERROR, a 5xx or any other code still fails."""

from __future__ import annotations

import asyncio
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.graphql.checks import GraphQLServerError
from schemathesis.specs.openapi.checks import response_schema_conformance

from schema import schema as live_schema
from server import build_schema, create_app
from tests.serverkit import running_server, settings_for, token

EXAMPLES_PER_OPERATION = 20
USERS = ("u-000001", "u-000018")  # STATE_PRESIDENT at UP; BOOTH_PRESIDENT of UP-AWD-LKO-M01-B0002
CONTRACT_ANSWERS = {"FORBIDDEN", "NOT_FOUND"}  # errors of executed operations that service.md prescribes
KNOWN_CODES = CONTRACT_ANSWERS | {
    "UNAUTHENTICATED",
    "BAD_USER_INPUT",
    "QUERY_TOO_COMPLEX",
    "RATE_LIMITED",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
}


def root_fields() -> set[str]:
    gql = live_schema._schema
    assert gql.query_type is not None and gql.mutation_type is not None
    return {f"Query.{n}" for n in gql.query_type.fields} | {f"Mutation.{n}" for n in gql.mutation_type.fields}


def argument_free_fields() -> set[str]:
    """Root fields without arguments: hypothesis can vary only their selection, and stops early when
    it has sent every distinct one (`statsPolicy { minCellSize }` has a single query)."""
    gql = live_schema._schema
    roots = {"Query": gql.query_type, "Mutation": gql.mutation_type}
    return {f"{kind}.{n}" for kind, t in roots.items() if t for n, f in t.fields.items() if not f.args}


ROOT_FIELDS = root_fields()
ARGUMENT_FREE = argument_free_fields()


def codes(response: requests.Response) -> list[Any]:
    return [(e.get("extensions") or {}).get("code") for e in response.json().get("errors") or []]


def validate(case: Any, response: requests.Response, headers: dict[str, str]) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    got = codes(response)
    assert set(got) <= KNOWN_CODES, (got, case.body, response.text[:500])
    try:
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=headers)
    except FailureGroup as group:
        unexplained = [
            f for f in group.exceptions if not (isinstance(f, GraphQLServerError) and set(got) <= CONTRACT_ANSWERS)
        ]
        if unexplained:
            raise


def exercise(operation: Any, session: requests.Session, headers: dict[str, str], calls: dict[str, int]) -> None:
    """EXAMPLES_PER_OPERATION generated queries of one operation, each sent and checked."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def one(case: Any) -> None:
        response = case.call(session=session, headers=headers, timeout=30)
        calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
        validate(case, response, headers)

    one()


def run_schemathesis(base: str) -> dict[str, int]:
    calls: dict[str, int] = {}
    session = requests.Session()
    for user in USERS:
        headers = {"Authorization": f"Bearer {token(user)}"}
        loaded = schemathesis.graphql.from_url(f"{base}/graphql", headers=headers, timeout=30)
        operations = [result.ok() for result in loaded.get_all_operations() if isinstance(result, Ok)]
        assert {op.label for op in operations} == ROOT_FIELDS
        for operation in operations:
            exercise(operation, session, headers, calls)
    return calls


async def test_schemathesis_graphql_mode_against_a_live_server(read_db_url: str) -> None:
    overrides: dict[str, Any] = {"rate_limit_per_s": 1e6, "rate_limit_burst": 1_000_000}
    config = settings_for(read_db_url, **overrides)
    app = create_app(config, schema=build_schema(config))

    def run() -> dict[str, int]:
        with running_server(app) as base:
            return run_schemathesis(base)

    calls = await asyncio.to_thread(run)
    assert set(calls) == ROOT_FIELDS, sorted(calls.items())
    few = {label: n for label, n in calls.items() if n < len(USERS) * (1 if label in ARGUMENT_FREE else 10)}
    assert few == {}, few
