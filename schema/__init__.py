"""The GraphQL schema: `schema` (Query and, when it exists, schema.mutation.Mutation) and
`build_schema(extensions=...)` for the server, which adds its limits and error masking.

Extensions are passed as classes or factories (`lambda: QueryDepthLimiter(max_depth=10)`), never
instances: strawberry would share an instance between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.execution import FastRecordExecutionContext
from schema.outreach_types import AuditEntry, CallAssignment, CallLog, Campaign
from schema.query import PLACEHOLDERS, ReadQuery, optional
from schema.units import Unit
from schema.voters import Voter

NODE_TYPES: list[type] = [Unit, Voter, Campaign, CallAssignment, CallLog, AuditEntry]


def _query() -> type:
    parts: list[type] = [ReadQuery]
    outreach = optional("schema.outreach", "OutreachQuery")
    provided: set[str] = set()
    if outreach is not None:
        parts.append(outreach)
        provided = {f.python_name for f in outreach.__strawberry_definition__.fields}
    parts += [placeholder for name, placeholder in PLACEHOLDERS.items() if name not in provided]
    return merge_types("Query", tuple(parts))


Query = _query()
Mutation = optional("schema.mutation", "Mutation")

ExtensionSpec = type[SchemaExtension] | Callable[[], SchemaExtension]


def build_schema(extensions: Sequence[ExtensionSpec] = ()) -> strawberry.Schema:
    for ext in extensions:
        if isinstance(ext, SchemaExtension):
            raise TypeError("pass extension classes or factories, never instances (shared across requests)")
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=NODE_TYPES,
        extensions=list(extensions),
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=FastRecordExecutionContext,
    )


schema = build_schema()

__all__ = ["Mutation", "NODE_TYPES", "Query", "build_schema", "schema"]
