"""strawberry's ParserCache, except that a document that does not parse is left to strawberry.

ParserCache parses inside the `on_parse` hook, where a syntax error escapes the extensions'
error handling (MaskErrors never sees it). Here a failing parse is dropped, strawberry parses
the text itself and reports the error the ordinary way. Only broken documents parse twice.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import ParserCache


class SafeParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLError:
            context.graphql_document = None
        yield
