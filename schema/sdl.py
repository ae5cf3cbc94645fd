"""The schema in SDL, as `boothgraph schema` prints it and `GET /schema` serves it (for code
generators): the same text as tests/snapshots/schema.graphql."""

from __future__ import annotations

from functools import cache


@cache
def schema_sdl() -> str:
    from schema import schema

    return schema.as_str() + "\n"
