"""The strawberry schema extensions of boothgraph, one module each; `graphql_extensions`
lists them in the order they must run for the given settings.

Every entry is a class or a factory, never an instance: strawberry builds one instance per
request from it (a shared instance leaks state between concurrent requests).
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, ValidationCache

from core.settings import Settings
from schema.extensions.aliases import alias_limit
from schema.extensions.cost import cost_limit
from schema.extensions.depth import depth_limit
from schema.extensions.masking import mask_errors, present_error
from schema.extensions.parser_cache import SafeParserCache

CACHE_SIZE = 1024


def graphql_extensions(settings: Settings) -> list[Any]:
    extensions: list[Any] = [
        # First, so its on_operation exit (masking) sees every other extension's errors.
        mask_errors(hide_suggestions=not settings.introspection),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: SafeParserCache(maxsize=CACHE_SIZE),
        depth_limit(settings.max_depth),
        alias_limit(settings.max_aliases),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    extensions += [
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        cost_limit(settings.max_cost),
    ]
    return extensions


__all__ = ["graphql_extensions", "present_error"]
