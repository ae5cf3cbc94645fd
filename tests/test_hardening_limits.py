"""Query limits (QUERY_TOO_COMPLEX): depth, aliases, tokens, cost; refused before execution."""

from __future__ import annotations

import time

from graphql import get_introspection_query, parse

from schema.extensions.aliases import Aliases
from schema.extensions.depth import Depth
from tests.serverkit import bearer, client_for

GQL_RESPONSE = "application/graphql-response+json"


def depth_of(query: str) -> int:
    depth = Depth(parse(query).definitions)
    return max(depth.selections(op.selection_set) for op in depth.operations)


def test_depth_is_counted_as_service_md_says() -> None:
    assert depth_of("{ a }") == 1
    assert depth_of("{ a { b } }") == 2
    assert depth_of("{ a { b } c { d { e } } }") == 3
    assert depth_of("{ a { ...F } } fragment F on T { b { c } }") == 3  # counted where spread
    assert depth_of("{ a { ... on T { b { c } } } }") == 3  # inline fragments add no level
    assert depth_of("{ __schema { types { fields { type { ofType { ofType { name } } } } } } a }") == 1
    assert depth_of("{ a { __typename } }") == 1
    assert depth_of("{ ...F } fragment F on Q { a { ...F } }") == 1  # a cycle counts 0 (validation refuses it)


def test_aliases_are_counted_where_spread() -> None:
    aliases = Aliases(parse("{ x: a y: b { ...F ...F } } fragment F on T { p: c q: d }").definitions)
    assert sum(aliases.selections(op.selection_set) for op in aliases.operations) == 6


def nested(levels: int, leaf: str = "id") -> str:
    """items > edges > node, then children > edges > node …, `levels` fields deep in all."""
    names = ["items", "edges", "node"] + ["children", "edges", "node"] * 10
    body = leaf
    for name in reversed(names[: levels - 1]):
        body = f"{name} {{ {body} }}"
    return "{ " + body + " }"


async def post(client, query: str, accept: str | None = None, variables: dict | None = None):  # type: ignore[no-untyped-def]
    headers = bearer() | ({"Accept": accept} if accept else {})
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def assert_too_complex(response, status: int = 200) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body


async def test_depth_limit(database_url: str) -> None:
    async with client_for(database_url) as client:
        ten = nested(10)
        assert depth_of(ten) == 10
        ok = await post(client, ten)
        assert ok.status_code == 200 and "errors" not in ok.json(), ok.text
        eleven = nested(12, leaf="__typename")  # 11 counted levels + an uncounted __typename
        assert depth_of(eleven) == 11
        assert_too_complex(await post(client, eleven))
        assert_too_complex(await post(client, eleven, GQL_RESPONSE), 400)
        # The same 11 levels with most of them in a fragment: counted where it is spread.
        inner = "edges { node { children { edges { node { children { edges { node { children { id } } } } } } } } }"
        through_fragment = "{ items { ...E } } fragment E on ItemConnection { " + inner + " }"
        assert depth_of(through_fragment) == 11
        assert_too_complex(await post(client, through_fragment))


async def test_standard_introspection_passes(database_url: str) -> None:
    async with client_for(database_url) as client:
        response = await post(client, get_introspection_query(descriptions=True))
        assert response.status_code == 200
        assert "errors" not in response.json(), response.text[:500]
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_alias_limit(database_url: str) -> None:
    async with client_for(database_url) as client:
        twenty = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(20)) + " }"
        assert "errors" not in (await post(client, twenty)).json()
        assert_too_complex(await post(client, "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(21)) + " }"))
        # 11 aliases in a fragment, counted each time it is spread
        fragment = "fragment F on Me { " + " ".join(f"f{i}: id" for i in range(11)) + " }"
        assert_too_complex(await post(client, "{ me { ...F } again: me { ...F } } " + fragment))
        assert_too_complex(await post(client, "{ me { ...F ...F } } " + fragment))


async def test_fragment_cycles_and_fan_out_stay_cheap(database_url: str) -> None:
    async with client_for(database_url) as client:
        cycle = await post(client, "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", GQL_RESPONSE)
        assert cycle.status_code == 400
        assert cycle.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

        # F0 spreads F1 twice, F1 spreads F2 twice … : 2^30 expansions if walked naively.
        levels = 30
        fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
        fan_out = "{ ...F0 } " + fragments + f" fragment F{levels} on Query {{ me {{ id }} }}"
        started = time.perf_counter()
        response = await post(client, fan_out)
        assert time.perf_counter() - started < 5
        assert response.status_code in (200, 400)


async def test_cost_limit_refuses_before_execution(database_url: str) -> None:
    async with client_for(database_url) as client:
        expensive = "{ items(first: 500) { edges { node { children(first: 500) { edges { node { id } } } } } } }"
        refused = await post(client, expensive)
        assert_too_complex(refused)
        assert refused.json()["errors"][0]["extensions"]["cost"] > 50_000
        assert_too_complex(await post(client, expensive, GQL_RESPONSE), 400)

        by_variable = (
            "query($n: Int) { items(first: $n) { edges { node { children(first: $n) { edges { node { id } } } } } } }"
        )
        assert_too_complex(await post(client, by_variable, variables={"n": 500}))
        assert "errors" not in (await post(client, by_variable, variables={"n": 20})).json()
        # Left out, `first` costs its schema default (50 and 10 here): allowed.
        assert (
            "errors"
            not in (await post(client, "{ items { edges { node { children { edges { node { id } } } } } } }")).json()
        )
        # A huge `first` alone is the resolver's BAD_USER_INPUT to give, not a cost refusal.
        huge = await post(client, "{ items(first: 100000) { edges { node { id } } } }")
        assert "errors" not in huge.json()


async def test_token_limit_and_deep_documents(database_url: str) -> None:
    async with client_for(database_url, max_tokens=2_000) as client:
        many = "{ " + " ".join("me { id }" for _ in range(600)) + " }"
        assert_too_complex(await post(client, many))
        assert_too_complex(await post(client, many, GQL_RESPONSE), 400)
        deep = "{ " + "items { edges { node { " * 400 + "id" + " } } }" * 400 + " }"
        response = await post(client, deep, GQL_RESPONSE)
        assert response.status_code == 400
    async with client_for(database_url, seeded=False, max_tokens=100_000) as client:
        deep = "{ " + "me { " * 3000 + "id" + " }" * 3000 + " }"
        response = await post(client, deep, GQL_RESPONSE)
        assert 400 <= response.status_code < 500, response.text[:300]


def test_cost_memo_gives_what_operation_cost_gives() -> None:
    from schema import schema as project_schema
    from schema.extensions.cost import CostMemo, operation_cost

    core_schema = project_schema._schema
    memo = CostMemo(50_000, maxsize=2, per_document=3)
    documents = [
        "query($unit: String, $n: Int, $m: Int) { voters(unit: $unit, first: $n) { edges { node { name "
        "calls(first: $m) { edges { node { id } } } } } } }",
        "query($n: Int = 7) { voters(first: $n) { edges { node { name } } } }",
        "query($epic: String!) { voter(epicNumber: $epic) { name } }",
    ]
    values = [None, 0, 1, True, 1.0, 20, 500, 10_000, [3], "5"]
    for round_ in range(3):  # a second and third pass hit the memo, or an evicted document
        for i, query in enumerate(documents):
            document = parse(query)
            for j, n in enumerate(values):
                variables = {"unit": f"UP-{j}", "epic": "X", "n": n, "m": values[(j + round_ + i) % len(values)]}
                if n is None:
                    del variables["n"]
                expected = operation_cost(core_schema, document, None, variables)
                assert memo.cost(core_schema, query, document, None, variables) == expected, (query, variables)
