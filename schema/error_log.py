"""What the server log says about a GraphQL error.

strawberry logs every error of every answer at ERROR with its trace ("strawberry.execution").
Most of ours are answers, not faults: a FORBIDDEN, a NOT_FOUND, a MODEL_CODE_IN_FORCE refusal or a
document that does not validate is the service doing its job, and a trace per refusal buries the
faults an operator must see. So only the errors that are masked as INTERNAL_SERVER_ERROR for the
client (the one predicate of schema/extensions/masking.py) keep strawberry's ERROR line and trace;
the others are one DEBUG line each, with their code.
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from schema.extensions.masking import present_error, should_mask_error

log = logging.getLogger("boothgraph.graphql")


class BoothgraphSchema(strawberry.Schema):
    """strawberry's Schema, logging faults only (see the module's docstring)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        faults = [error for error in errors if should_mask_error(error)]
        if log.isEnabledFor(logging.DEBUG):
            for error in errors:
                if not should_mask_error(error):
                    log.debug("answered %s: %s", (present_error(error).extensions or {}).get("code"), error.message)
        if faults:
            super().process_errors(faults, execution_context)
