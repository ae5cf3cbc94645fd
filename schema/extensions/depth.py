"""QUERY_TOO_COMPLEX when an operation nests fields more than `max_depth` levels deep.

Counted as service.md says: `{ a { b } }` has depth 2 (every field is one level, the leaf
included); a fragment counts where it is spread; inline fragments add no level; fields named
`__…` (introspection) are not counted, nor anything below them, so the standard
introspection query works. A validation rule: it runs once per distinct document (the
validation cache keeps its verdict), before anything executes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import FieldNode, ValidationContext, ValidationRule

from core.errors import QueryTooComplex
from schema.extensions.fragments import FragmentFold
from schema.extensions.masking import as_graphql_error


class Depth(FragmentFold):
    def field(self, node: FieldNode, parent: Any) -> int:
        if node.name.value.startswith("__"):
            return 0
        return 1 + self.selections(node.selection_set)

    def combine(self, values: Iterable[int]) -> int:
        return max(values, default=0)


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class DepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            depth = Depth(context.document.definitions)
            for operation in depth.operations:
                try:
                    value = depth.selections(operation.selection_set)
                except RecursionError:
                    value = max_depth + 1
                if value > max_depth:
                    message = f"The query is {value} levels deep; at most {max_depth} are allowed"
                    error = QueryTooComplex(message, depth=value, maxDepth=max_depth)
                    context.report_error(as_graphql_error(error, operation))

    return DepthRule
