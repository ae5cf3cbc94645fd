"""The fast completion of plain records (schema/execution.py) answers exactly like graphql-core.

Each query runs twice over the tiny data set, once with the project's execution context and
once with strawberry's default one, and the whole results (data and errors) must be equal.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
import strawberry
from graphql import parse
from strawberry.schema.config import StrawberryConfig

from schema import NODE_TYPES, Mutation, Query
from schema.enums import Gender
from schema.execution import FastRecordExecutionContext
from tests.read_support import context

PLAIN = strawberry.Schema(
    query=Query, mutation=Mutation, types=NODE_TYPES, config=StrawberryConfig(auto_camel_case=True)
)

QUERIES = [
    # A page of voters with every leaf field, nested booth and schemes, and __typename.
    """{ voters(first: 30) { totalCount pageInfo { hasNextPage endCursor }
         edges { cursor node { __typename id epicNumber serialNumber name nameHi relativeName age gender
           houseNumber phone casteCategory caste economicStatus contactConsent redactedFields
           booth { code name level } schemes { since scheme { code name } } } } } }""",
    # Aliases, fragments and @include/@skip (directives keep the general path).
    """query($yes: Boolean = true) { a: voters(first: 5, orderBy: AGE) { edges { node { ...V } } }
         b: voters(first: 5, orderBy: NAME) {
           edges { node { n: name age @include(if: $yes) gender @skip(if: $yes) } } } }
       fragment V on Voter { epicNumber years: age }""",
    # The state dashboard: buckets are plain records too.
    """{ unit(code: "UP") { code path { code } children { totalCount edges { node { code level
         stats { voters withPhone contactable surveyed suppressed byGender { key count } byAgeBand { key count }
           byCasteCategory { key count } byCaste(top: 5) { key count } byEconomicStatus { key count }
           beneficiaries { key count } outreach { assigned called byOutcome { key count } } } } } } } }""",
    """{ me { id name permissions assignments { id role unit { code name nameHi level } } roots { code level } } }""",
    """{ units(level: BOOTH, first: 7) { edges { node { code name parent { code } } } }
         schemes { code name nameHi } }""",
]
USERS = ["u-000001", "u-000006", "u-000008", "u-000013"]


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
async def test_fast_completion_answers_like_graphql_core(read_pool: asyncpg.Pool, user: str, query: str) -> None:
    from schema import schema

    assert schema._schema is not None
    fast = await schema.execute(query, context_value=await context(read_pool, user))
    plain = await PLAIN.execute(query, context_value=await context(read_pool, user))
    assert fast.errors == plain.errors
    assert fast.data == plain.data
    assert fast.data is not None


def test_the_project_schema_runs_with_the_fast_context() -> None:
    from schema import schema

    assert schema.execution_context_class is FastRecordExecutionContext


@strawberry.type
class Item:
    name: str
    size: int | None


@strawberry.type
class Shelf:
    @strawberry.field
    def items(self, broken: bool = False, none: bool = False, huge: bool = False) -> list[Item | None]:
        items: list[Item | None] = [Item(name=f"i{n}", size=n if n % 2 else None) for n in range(5)]
        if huge:
            items[2] = Item(name="big", size=2**31)  # no 32-bit Int: an error on both paths
            items[4] = Item(name="edge", size=2**31 - 1)
        if broken:
            items[3] = Item(name=None, size=1)  # type: ignore[arg-type]  # null in a non-null field
        if none:
            items[1] = None
        return items

    @strawberry.field
    def strict(self, broken: bool = False) -> list[Item]:
        items = [Item(name=f"s{n}", size=n) for n in range(3)]
        if broken:
            items[0] = "not an item"  # type: ignore[call-overload]  # fails is_type_of? a plain str
        return items


@strawberry.type
class ShelfQuery:
    @strawberry.field
    def shelf(self) -> Shelf:
        return Shelf()


def shelf_schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    """The same schema with the project's execution context and with strawberry's own."""
    fast = strawberry.Schema(query=ShelfQuery, execution_context_class=FastRecordExecutionContext)
    return fast, strawberry.Schema(query=ShelfQuery)


@pytest.mark.parametrize(
    "query",
    [
        "{ shelf { items { name size __typename } strict { name } } }",
        "{ shelf { items(broken: true) { name size } } }",
        "{ shelf { items(none: true) { name } } }",
        "{ shelf { items(huge: true) { name size } } }",
        "{ shelf { strict(broken: true) { name } } }",
    ],
)
def test_fast_lists_answer_like_graphql_core(query: str) -> None:
    fast, plain = shelf_schemas()
    fast_result = fast.execute_sync(query)
    plain_result = plain.execute_sync(query)
    assert fast_result.data == plain_result.data
    assert [(e.message, e.path) for e in fast_result.errors or ()] == [
        (e.message, e.path) for e in plain_result.errors or ()
    ]


@pytest.mark.parametrize(
    "query",
    [
        "query($x: Boolean!) { shelf { items { name ... @include(if: $x) { size } } } }",
        "query($x: Boolean!) { shelf { items { ...F } } } fragment F on Item { name size @skip(if: $x) }",
        "query($x: Boolean!) { shelf { items { ...F @include(if: $x) name } } } fragment F on Item { size }",
    ],
)
def test_plans_shared_between_requests_follow_the_variables(query: str) -> None:
    """A plan is shared between requests only when no directive can change the fields."""
    fast, plain = shelf_schemas()
    for x in (True, False, True, False):
        assert (
            fast.execute_sync(query, variable_values={"x": x}).data
            == plain.execute_sync(query, variable_values={"x": x}).data
        )


@strawberry.type
class Person:
    gender: Gender | None


@strawberry.type
class PeopleQuery:
    @strawberry.field
    def people(self) -> list[Person]:
        return [Person(gender=g) for g in Gender] + [Person(gender=None)]


def test_enum_values_serialize_like_strawberry() -> None:
    query = "{ people { gender } }"
    fast = strawberry.Schema(query=PeopleQuery, execution_context_class=FastRecordExecutionContext)
    plain = strawberry.Schema(query=PeopleQuery)
    assert fast.execute_sync(query).data == plain.execute_sync(query).data
    assert fast.execute_sync(query).data == {"people": [{"gender": g.name} for g in Gender] + [{"gender": None}]}


def test_identity_memo_hits_only_the_same_objects() -> None:
    from schema.identity_memo import IdentityMemo

    memo: IdentityMemo[str] = IdentityMemo(maxsize=2)
    a, b = parse("{ a }"), parse("{ a }")  # equal documents, different objects
    memo.put((a,), "a")
    assert memo.get((a,)) == "a"
    assert memo.get((b,)) is None
    memo.put((b,), "b")
    memo.put((a, b), "ab")  # full: starts over
    assert memo.get((a,)) is None and memo.get((a, b)) == "ab"


# graphql-core's executor methods that FastRecordExecutionContext overrides: an upstream rename
# would leave the override unused, and every answer would still be right, only slower.
OVERRIDDEN = ("complete_iterable_value", "collect_and_execute_subfields")


def test_the_overridden_executor_methods_still_exist_upstream() -> None:
    upstream = FastRecordExecutionContext.__mro__[1:]
    for name in OVERRIDDEN:
        assert name in vars(FastRecordExecutionContext)
        assert any(name in vars(base) for base in upstream), f"graphql-core has no {name} any more"


@pytest.mark.parametrize(
    ("query", "lists", "general"),
    [
        # Edges of plain records: the whole page in one planned loop.
        (
            "{ voters(first: 30) { edges { node { epicNumber name age gender } } } }",
            [30],
            [("Query", "voters"), ("VoterConnection", "edges")],
        ),
        # A cursor is resolved per edge, so edges take the general path; each voter is still planned.
        (
            "{ voters(first: 30) { edges { cursor node { id epicNumber name age gender } } } }",
            [],
            [("Query", "voters"), ("VoterConnection", "edges"), ("VoterEdge", "cursor"), ("VoterEdge", "node")],
        ),
    ],
)
async def test_a_page_of_voters_takes_the_planned_path(
    read_pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    lists: list[int],
    general: list[tuple[str, str]],
) -> None:
    """Through the real schema, graphql-core's per-field path never runs for a voter's fields
    (nor for an edge's, when the edges are plain records); the answer is graphql-core's."""
    from graphql.execution.executor import Executor

    from schema import execution, schema

    planned_lists: list[int] = []
    general_fields: set[tuple[str, str]] = set()
    complete_all = execution._complete_all
    execute_field = Executor.execute_field

    def counting_complete_all(plan: Any, item_type: Any, items: list[Any], info: Any) -> Any:
        planned_lists.append(len(items))
        return complete_all(plan, item_type, items, info)

    def counting_execute_field(self: Any, parent_type: Any, source: Any, details: Any, *args: Any) -> Any:
        general_fields.add((parent_type.name, details[0].node.name.value))
        return execute_field(self, parent_type, source, details, *args)

    monkeypatch.setattr(execution, "_complete_all", counting_complete_all)
    monkeypatch.setattr(Executor, "execute_field", counting_execute_field)
    fast = await schema.execute(query, context_value=await context(read_pool, "u-000001"))
    monkeypatch.undo()
    assert fast.errors is None
    assert planned_lists == lists
    assert sorted(general_fields) == sorted(general)
    plain = await PLAIN.execute(query, context_value=await context(read_pool, "u-000001"))
    assert fast.data == plain.data
    assert len(fast.data["voters"]["edges"]) == 30
