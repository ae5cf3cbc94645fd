"""HTTP endpoints for operators and code generators (server.py registers `routes`; errors are
`core.errors` classes, rendered by middleware/errors.py):

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

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core import metrics
from core.auth import bearer_token
from core.errors import NotFound, Unauthenticated
from routes.state import app_state
from schema.sdl import schema_sdl

METRICS_PATH = "/metrics"
PUBLIC_PATHS = frozenset({METRICS_PATH})  # it checks its own token
POOL_SAMPLE_S = 2.0


async def metrics_endpoint(request: Request) -> Response:
    expected = app_state(request).settings.metrics_token
    if not expected:
        raise NotFound("Not Found")
    given = bearer_token(request.headers.get("authorization"))
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthenticated("The metrics token is not valid")
    body, media_type = metrics.exposition()
    return Response(body, media_type=media_type)


async def schema_endpoint(request: Request) -> Response:
    if not app_state(request).settings.introspection:
        raise NotFound("Not Found")
    return Response(schema_sdl(), media_type="text/plain; charset=utf-8")


routes: list[BaseRoute] = [
    Route(METRICS_PATH, metrics_endpoint, methods=["GET"]),
    Route("/schema", schema_endpoint, methods=["GET"]),
    Route("/schema.graphql", schema_endpoint, methods=["GET"]),
]


async def sample_pool_forever(pool: asyncpg.Pool, every_s: float = POOL_SAMPLE_S) -> None:
    while True:
        metrics.observe_pool(pool.get_size(), pool.get_idle_size(), pool.get_max_size())
        await asyncio.sleep(every_s)
