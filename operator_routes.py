"""HTTP endpoints for operators and code generators, beside the app (server.py registers `routes`):

- `GET /metrics`: Prometheus text format (core/metrics.py). Off unless METRICS_TOKEN is set; then
  only `Authorization: Bearer <METRICS_TOKEN>` reads it (a scraper's secret, not a user's token:
  the figures name operations and load, which voter-data users have no need to see). Wrong or
  missing: 401; off: 404.
- `GET /schema` (and `/schema.graphql`): the SDL, for any signed-in user (a user token, checked
  like every other path), unless INTROSPECTION is false (then 404, as introspection is refused).

`sample_pool_forever` keeps the pool gauges current (started by the app's lifespan).
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from core import metrics
from core.auth import bearer_token
from core.errors import Unauthenticated
from core.settings import Settings
from middleware.responses import error_body
from schema.sdl import schema_sdl

METRICS_PATH = "/metrics"
POOL_SAMPLE_S = 2.0
JSON = "application/json"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.boothgraph.settings
    return settings


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(code, message), status_code=status, media_type=JSON, headers=headers)


async def metrics_endpoint(request: Request) -> Response:
    expected = _settings(request).metrics_token
    if not expected:
        return _error(404, "NOT_FOUND", "Not Found")
    try:
        given = bearer_token(request.headers.get("authorization"))
    except Unauthenticated as exc:
        return _error(401, exc.code, exc.message, {"www-authenticate": "Bearer"})
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _error(401, "UNAUTHENTICATED", "The metrics token is not valid", {"www-authenticate": "Bearer"})
    body, media_type = metrics.exposition()
    return Response(body, media_type=media_type)


async def schema_endpoint(request: Request) -> Response:
    if not _settings(request).introspection:
        return _error(404, "NOT_FOUND", "Not Found")
    return Response(schema_sdl(), media_type="text/plain; charset=utf-8")


routes: list[BaseRoute] = [
    Route(METRICS_PATH, metrics_endpoint, methods=["GET"]),
    Route("/schema", schema_endpoint, methods=["GET"]),
    Route("/schema.graphql", schema_endpoint, methods=["GET"]),
]


def is_public(scope: Scope) -> bool:
    """Paths that skip the user-token check: /metrics checks its own token."""
    return bool(scope["path"] == METRICS_PATH)


def public_or(*others: Callable[[Scope], bool]) -> Callable[[Scope], bool]:
    """This module's public paths, or any of `others`' (the sign-in routes', the GraphQL view's)."""
    return lambda scope: is_public(scope) or any(other(scope) for other in others)


async def sample_pool_forever(pool: asyncpg.Pool, every_s: float = POOL_SAMPLE_S) -> None:
    while True:
        metrics.observe_pool(pool.get_size(), pool.get_idle_size(), pool.get_max_size())
        await asyncio.sleep(every_s)
