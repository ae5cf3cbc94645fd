"""CostMemo answers a repeated operation without coercing its variables again: what that may and
may not change (schema/extensions/cost.py)."""

from __future__ import annotations

from graphql import parse

from schema import schema as project_schema
from schema.extensions.cost import CostMemo, operation_cost

CORE = project_schema._schema
PAGED = "query($unit: String, $n: Int) { voters(unit: $unit, first: $n) { edges { node { name } } } }"
NESTED = (
    "query($unit: String, $n: Int) { voters(unit: $unit, first: $n) { edges { node { name "
    "calls(first: $n) { edges { node { id } } } } } } }"
)


def test_a_hit_is_keyed_by_the_paging_values_as_sent() -> None:
    memo = CostMemo(50_000)
    document = parse(PAGED)
    for n in (20, 20.0, True, "20", None):
        variables = {"unit": "UP", "n": n}
        expected = operation_cost(CORE, document, None, variables)
        assert memo.cost(CORE, PAGED, document, None, variables) == expected
        # The second time is a hit, with another unit: the same answer.
        assert memo.cost(CORE, PAGED, document, None, {"unit": "UP-AWD", "n": n}) == expected
    # 20 and 20.0 coerce to the same Int: the same price under two keys; "20" and true do not coerce.
    assert memo.cost(CORE, PAGED, document, None, {"n": 20}) == memo.cost(CORE, PAGED, document, None, {"n": 20.0})
    assert memo.cost(CORE, PAGED, document, None, {"n": "20"}) is None
    assert memo.cost(CORE, PAGED, document, None, {"n": True}) is None


def test_a_hit_over_the_limit_is_checked_the_full_way() -> None:
    memo = CostMemo(50_000)
    document = parse(NESTED)
    over = memo.cost(CORE, NESTED, document, None, {"unit": "UP", "n": 500})
    assert over is not None and over > 50_000
    assert memo.cost(CORE, NESTED, document, None, {"unit": "UP", "n": 500}) == over
    # Another variable that does not coerce: graphql-core refuses the operation for it, as before
    # the memo (no QUERY_TOO_COMPLEX in its place).
    assert memo.cost(CORE, NESTED, document, None, {"unit": 7, "n": 500}) is None


def test_a_hit_under_the_limit_prices_what_would_run() -> None:
    memo = CostMemo(50_000)
    document = parse(NESTED)
    priced = memo.cost(CORE, NESTED, document, None, {"unit": "UP", "n": 20})
    assert priced == operation_cost(CORE, document, None, {"unit": "UP", "n": 20})
    # A non-coercing `unit` on a hit keeps the price (graphql-core refuses to run it; within a
    # batch that only counts against the shared MAX_COST, never in favour of anything).
    assert memo.cost(CORE, NESTED, document, None, {"unit": 7, "n": 20}) == priced
    # A list value is no memo key: the full way, every time.
    assert memo.cost(CORE, NESTED, document, None, {"unit": "UP", "n": [20]}) is None
