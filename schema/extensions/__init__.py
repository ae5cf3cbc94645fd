"""The checks every operation goes through, run by one extension, guard.py (which also holds the
token limit, the parse and validation caches and the introspection switch); one module per
other part: depth.py, aliases.py and cost.py (over fragments.py's fold), masking.py (errors).

`graphql_extensions` lists factories, never instances: strawberry builds one instance per
request from each (a shared instance leaks state between concurrent requests).
"""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from schema.extensions.guard import operation_guard
from schema.extensions.masking import present_error


def graphql_extensions(settings: Settings) -> list[Any]:
    return [operation_guard(settings)]


__all__ = ["graphql_extensions", "present_error"]
