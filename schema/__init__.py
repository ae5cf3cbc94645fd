"""The GraphQL schema: `schema` (Query = reads + outreach, Mutation, and Subscription: events, docs/events.md) and
`build_schema(extensions=...)` for the server, which adds its limits and error masking.

Extensions are passed as classes or factories (`lambda: QueryDepthLimiter(max_depth=10)`), never
instances: strawberry would share an instance between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.elections import ElectionMutation, ElectionQuery
from schema.error_log import BoothgraphSchema
from schema.execution import FastRecordExecutionContext
from schema.mutation import Mutation as OutreachMutation
from schema.outreach import OutreachQuery
from schema.outreach_types import AuditEntry, CallAssignment, CallLog, Campaign
from schema.query import ReadQuery
from schema.roll_pages import PagesQuery
from schema.subscription import Subscription
from schema.team import TeamQuery
from schema.units import Unit
from schema.voters import Voter

NODE_TYPES: list[type] = [Unit, Voter, Campaign, CallAssignment, CallLog, AuditEntry]


Query = merge_types("Query", (ReadQuery, OutreachQuery, PagesQuery, TeamQuery, ElectionQuery))
Mutation = merge_types("Mutation", (OutreachMutation, ElectionMutation))

ExtensionSpec = type[SchemaExtension] | Callable[[], SchemaExtension]


def build_schema(extensions: Sequence[ExtensionSpec] = ()) -> BoothgraphSchema:
    for ext in extensions:
        if isinstance(ext, SchemaExtension):
            raise TypeError("pass extension classes or factories, never instances (shared across requests)")
    return BoothgraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=list(extensions),
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=FastRecordExecutionContext,
    )


schema = build_schema()

__all__ = ["Mutation", "NODE_TYPES", "Query", "Subscription", "build_schema", "schema"]
