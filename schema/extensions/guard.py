"""Every per-operation check of boothgraph in one strawberry extension.

strawberry enters each extension's hooks through a context manager per hook and per request:
with eight small extensions that was ~10% of a cheap request (bench/README.md). `OperationGuard`
does the same work with four hooks:

- on_operation: the token limit for the parser and the extra validation rules (depth, aliases,
  introspection when it is off); on the way out, error masking (masking.py) of the result;
- on_parse: a cached parse (`_parse` below; a document that does not parse is left to
  strawberry, so its syntax error is reported the ordinary way);
- on_validate: a cached validation, keyed by schema, query text and rules (`validation_errors`);
- on_execute: the cost limit (cost.py), refused before anything runs; the operations of a
  batch share one MAX_COST.

Pass `operation_guard(settings)` (a factory): strawberry builds one instance per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema, ValidationRule, parse
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.schema.schema import validate_document

from core.settings import Settings
from schema.extensions.aliases import aliases_rule
from schema.extensions.cost import CostMemo, cost_error
from schema.extensions.depth import depth_rule
from schema.extensions.masking import MaskErrorsWithCodes

CACHE_SIZE = 1024  # distinct documents remembered (parse and validation), per process


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, max_tokens: int) -> Any:
    return parse(query, max_tokens=max_tokens)


def parsed_document(query: str, max_tokens: int) -> Any:
    """The cached parse of `query`, or None when it does not parse (for the HTTP view)."""
    try:
        return _parse(query, max_tokens)
    except GraphQLError:
        return None


# (schema, query text, rules) -> (the document validated, its errors). Keyed by the text, not the
# document: graphql-core's nodes hash by walking the whole tree (~10-50 us a request for Q1-Q5,
# bench/README.md), a string's hash is computed once per string. A hit counts only for the very
# document object that was validated (the parse cache hands out one object per text), so a text
# parsed again is validated again.
_validated: dict[tuple[GraphQLSchema, str, tuple[Any, ...]], tuple[Any, list[GraphQLError]]] = {}


def validation_errors(
    schema: GraphQLSchema, query: str | None, document: Any, rules: tuple[Any, ...]
) -> list[GraphQLError]:
    """strawberry's own validation (these rules plus its @oneOf and Maybe rules), remembered."""
    if query is None:
        return validate_document(schema, document, rules)
    key = (schema, query, rules)
    hit = _validated.get(key)
    if hit is not None and hit[0] is document:
        return hit[1]
    errors = validate_document(schema, document, rules)
    if len(_validated) >= CACHE_SIZE:
        _validated.pop(next(iter(_validated)))
    _validated[key] = (document, errors)
    return errors


class OperationGuard(MaskErrorsWithCodes):
    def __init__(
        self,
        *,
        max_tokens: int,
        rules: tuple[type[ValidationRule], ...],
        cost: CostMemo,
        hide_suggestions: bool,
    ) -> None:
        super().__init__(hide_suggestions=hide_suggestions)
        self.max_tokens = max_tokens
        self.rules = rules
        self.cost = cost

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield from super().on_operation()  # masking, after everything else has run

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = _parse(context.query, self.max_tokens)
        except GraphQLError:
            context.graphql_document = None  # strawberry parses again and reports it
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = validation_errors(
            context.schema._schema, context.query, context.graphql_document, tuple(context.validation_rules)
        )
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.result is None and context.query is not None:
            cost = self.cost.cost(
                context.schema._schema,
                context.query,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if cost is not None:
                # The operations of a batch share one request context, so MAX_COST caps their
                # sum: ten operations of 5,000 fill the budget once, not ten times.
                memo = request_memo(context.context)
                total = cost + memo.get(SPENT, 0)
                if total > self.cost.max_cost:
                    context.result = ExecutionResult(data=None, errors=[cost_error(total, self.cost.max_cost)])
                else:
                    memo[SPENT] = total
        yield


SPENT = ("cost", "spent")  # key of the cost let through so far, in the request's memo


def request_memo(request_context: Any) -> dict[Any, Any]:
    """The per-request memo of schema.context.Context (a fresh dict for other contexts)."""
    memo = getattr(request_context, "memo", None)
    return memo if isinstance(memo, dict) else {}


def operation_guard(settings: Settings) -> Callable[[], OperationGuard]:
    """The factory for the server's schema. The rule classes and the cost memo are made once,
    so that the caches can hit across requests."""
    rules: tuple[type[ValidationRule], ...] = (depth_rule(settings.max_depth), aliases_rule(settings.max_aliases))
    if not settings.introspection:
        rules += (NoSchemaIntrospectionCustomRule,)
    cost = CostMemo(settings.max_cost)
    return lambda: OperationGuard(
        max_tokens=settings.max_tokens,
        rules=rules,
        cost=cost,
        hide_suggestions=not settings.introspection,
    )
