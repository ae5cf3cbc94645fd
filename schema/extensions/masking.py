"""What a client may see of an error: our own messages and codes, GraphQL's parse and
validation messages, and "Internal server error" for everything else.

`present_error` decides for one error; `MaskErrorsWithCodes` applies it to every result
(strawberry's MaskErrors with a predicate, plus codes), and the HTTP view applies it once more
to whatever reaches the response, so an error that escaped an extension is masked too.

| error | shown as |
|---|---|
| a `core.errors.BoothgraphError` (raised anywhere) | its message, its code and extensions |
| a GraphQLError that carries `extensions.code` (our limiters, StrawberryGraphQLError) | as is |
| PostgreSQL not reachable / not answering in time | SERVICE_UNAVAILABLE (HTTP 503) |
| a text argument PostgreSQL cannot store (U+0000) | BAD_USER_INPUT |
| a syntax error | GRAPHQL_PARSE_FAILED (QUERY_TOO_COMPLEX for the token limit) |
| a variable that cannot be coerced | BAD_USER_INPUT |
| any other error before execution (validation) | GRAPHQL_VALIDATION_FAILED |
| anything else | "Internal server error", INTERNAL_SERVER_ERROR: no trace, SQL or path |

With `hide_suggestions` (introspection off), graphql-core's "Did you mean …?" hints are cut
from messages: they would reveal the schema that introspection hides.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from core.availability import as_unavailable, is_database_unavailable
from core.errors import BadUserInput, BoothgraphError, InternalError, QueryTooComplex

INTERNAL_MESSAGE = "Internal server error"
INTERNAL = InternalError.code
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = BadUserInput.code
TOO_COMPLEX = QueryTooComplex.code

# PostgreSQL's text holds no U+0000: "invalid byte sequence for encoding UTF8: 0x00" (22021), or
# "unsupported Unicode escape sequence" in json (22P05). The argument is at fault, not the server.
_UNSTORABLE_TEXT = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
)
UNSTORABLE_TEXT_MESSAGE = "Text arguments must not contain the character U+0000"

_SUGGESTION = re.compile(r" Did you mean [^?]*\?")
_TOKEN_LIMIT = re.compile(r"Document contains more than \d+ tokens")


def _root_cause(error: GraphQLError) -> BaseException | None:
    """The exception that is not a GraphQLError at the end of the chain, if any."""
    original = error.original_error
    while isinstance(original, GraphQLError):
        original = original.original_error
    return original


def _copy(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def as_graphql_error(error: BoothgraphError, nodes: Any = None) -> GraphQLError:
    """One of our errors reported through graphql-core's own channels (a validation rule, the
    guard's early result): its message and extensions, code included."""
    return GraphQLError(error.message, nodes, extensions=dict(error.extensions))


def code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


def present_error(error: GraphQLError, *, hide_suggestions: bool = False) -> GraphQLError:
    """The error as the client may see it (always with `extensions.code`, never a cause)."""
    cause = _root_cause(error)
    if isinstance(cause, BoothgraphError):
        return _copy(error, cause.message, dict(cause.extensions))
    if cause is not None and is_database_unavailable(cause):
        unavailable = as_unavailable(cause)
        return _copy(error, unavailable.message, dict(unavailable.extensions))
    if isinstance(cause, _UNSTORABLE_TEXT):
        return _copy(error, UNSTORABLE_TEXT_MESSAGE, {"code": BAD_USER_INPUT})
    if code_of(error) and (cause is None or isinstance(error.original_error, GraphQLError)):
        if error.original_error is None:
            return error
        return _copy(error, error.message, dict(error.extensions or {}))

    message = error.message
    if hide_suggestions:
        message = _SUGGESTION.sub("", message)
    if error.path is None and (cause is None or isinstance(cause, (ValueError, TypeError))):
        # Before execution: parsing, validation, variable coercion. graphql-core's messages
        # speak about the document only, never about our internals.
        if isinstance(error, GraphQLSyntaxError):
            code = TOO_COMPLEX if _TOKEN_LIMIT.search(message) else PARSE_FAILED
        elif message.startswith("Variable '$"):
            code = BAD_USER_INPUT
        elif cause is None:
            code = VALIDATION_FAILED
        else:
            return _copy(error, INTERNAL_MESSAGE, {"code": INTERNAL})
        return _copy(error, message, {"code": code})
    return _copy(error, INTERNAL_MESSAGE, {"code": INTERNAL})


def should_mask_error(error: GraphQLError) -> bool:
    """MaskErrors' predicate: True for what the client must not see as it is."""
    return present_error(error).message == INTERNAL_MESSAGE


class MaskErrorsWithCodes(MaskErrors):
    """strawberry's MaskErrors, whose replacement keeps (and adds) `extensions.code`."""

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        super().__init__(should_mask_error=should_mask_error, error_message=INTERNAL_MESSAGE)
        self.hide_suggestions = hide_suggestions

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [present_error(e, hide_suggestions=self.hide_suggestions) for e in errors]
