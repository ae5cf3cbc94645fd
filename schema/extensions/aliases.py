"""QUERY_TOO_COMPLEX when a document uses more than `max_aliases` aliases.

Aliases are what turns one cheap field into a thousand copies of it (`a1: voters … a999:
voters …`). Every alias counts, in every operation of the document, and a fragment's aliases
count each time the fragment is spread.
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, ValidationContext, ValidationRule

from core.errors import QueryTooComplex
from schema.extensions.fragments import FragmentFold
from schema.extensions.masking import as_graphql_error


class Aliases(FragmentFold):
    def field(self, node: FieldNode, parent: Any) -> int:
        return (1 if node.alias else 0) + self.selections(node.selection_set)


def aliases_rule(max_aliases: int) -> type[ValidationRule]:
    class AliasesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            aliases = Aliases(context.document.definitions)
            try:
                count = sum(aliases.selections(op.selection_set) for op in aliases.operations)
            except RecursionError:
                count = max_aliases + 1
            if count > max_aliases:
                message = f"The query uses {count} aliases; at most {max_aliases} are allowed"
                context.report_error(as_graphql_error(QueryTooComplex(message, aliases=count, maxAliases=max_aliases)))

    return AliasesRule
