"""The Starlette application: `create_app(settings)` (tests, embedding) and `app_from_env()`
(the factory `boothgraph serve` hands to uvicorn, one call per worker process).

Routes: POST /graphql (GET /graphql: GraphiQL when enabled, or a query), GET /healthz,
GET /readyz, and /import, /export/voters.csv from transfer/http.py when it exists.
Middleware (middleware/, outermost first): access log, security headers, CORS (when
CORS_ORIGINS is set), body limit (413), database unavailable (503), token (401), rate limit
(429), viewer (loaded from the database per request; unknown user 401).

The lifespan resolves the database (embedded when DATABASE_URL is unset), applies pending
migrations, opens the asyncpg pool, builds the policy engine with every assignment loaded,
and reloads the policy files when they change on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import asyncpg
import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

import schema as schema_package
from core import migrate
from core.clock import SYSTEM_CLOCK, Clock
from core.connections import ConnectionGate, RequestPool
from core.database import asyncpg_dsn, create_pool, database_urls
from core.errors import DatabaseUnavailable, RateLimited, Unauthenticated
from core.export_slots import ExportSlots
from core.ratelimit import RateLimiter
from core.readiness import ReadinessProbe
from core.roles import privilege_problems
from core.settings import Settings, get_settings
from middleware.access_log import AccessLogMiddleware
from middleware.auth import AuthMiddleware
from middleware.body_limit import BodyLimitMiddleware
from middleware.ratelimit import RateLimitMiddleware
from middleware.responses import error_body
from middleware.security_headers import SecurityHeadersMiddleware
from middleware.unavailable import DatabaseUnavailableMiddleware
from middleware.viewer import ViewerMiddleware
from policies import PolicyEngine
from policies.engine import default_engine
from resolvers import audit
from resolvers.redaction import ReadLog
from resolvers.release import release_due
from resolvers.unit_keys import UnitKeys
from schema.context import Context
from schema.extensions import graphql_extensions
from schema.extensions.guard import parsed_document
from schema.extensions.masking import INTERNAL, code_of, present_error

log = logging.getLogger("boothgraph.server")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
ASSIGNMENTS_SQL = "select a.user_id, a.role, u.path from assignments a join units u on u.id = a.unit_id"
READY_TIMEOUT_S = 1.0
SHUTDOWN_TIMEOUT_S = 10.0
CODE_FOR_STATUS = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "BAD_REQUEST"}
# service.md's 1 MiB limit is for GraphQL requests; POST /import carries whole CSV files.
IMPORT_MAX_BODY_BYTES = 256 * 1024 * 1024

# The officials' page (web/): static files that talk to /graphql with the user's own token.
WEB_DIR = Path(__file__).resolve().parent / "web"
WEB_PREFIX = "/app"


GC_THRESHOLDS = (2_000, 10, 10)


@dataclass
class AppState:
    """What the lifespan opens; `app.state.boothgraph`. Routes of transfer/http.py use it too."""

    settings: Settings
    secret: str
    pool: asyncpg.Pool | None = None
    policy: PolicyEngine | None = None
    unit_keys: UnitKeys = field(default_factory=UnitKeys)
    readiness: ReadinessProbe | None = None
    # "Now" for elections and poll hours (core/clock.py): the machine's, or a test's FixedClock.
    clock: Clock = SYSTEM_CLOCK
    # The request path's limits (core/connections.py, core/export_slots.py, core/ratelimit.py).
    connections: ConnectionGate = field(init=False)
    exports: ExportSlots = field(init=False)
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.connections = ConnectionGate(
            self.require_pool, timeout_s=settings.connect_timeout_s, share=settings.pool_share
        )
        self.exports = ExportSlots(
            concurrency=settings.export_concurrency,
            per_user=settings.exports_per_user,
            wait_s=settings.connect_timeout_s,
        )
        self.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)

    def require_pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise DatabaseUnavailable("The server is not connected to its database yet")
        return self.pool

    def require_policy(self) -> PolicyEngine:
        if self.policy is None:
            raise DatabaseUnavailable("The server is not ready yet")
        return self.policy


# --------------------------------------------------------------------------- GraphQL ---
def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the client prefers it (ties included), else JSON."""
    weights: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[media.lower()] = max(weight, weights.get(media.lower(), 0.0))
    preferred = weights.get(GRAPHQL_RESPONSE, 0.0)
    return GRAPHQL_RESPONSE if preferred > 0 and preferred >= weights.get(JSON, 0.0) else JSON


def error_response(status: int, code: str, message: str) -> Response:
    return Response(error_body(code, message), status_code=status, media_type=JSON)


class BoothgraphGraphQL(GraphQL):
    """strawberry's ASGI view with our auth context, error presentation, status codes
    (GraphQL-over-HTTP), orjson, bounded batches, and the read audit written before the answer
    leaves."""

    def __init__(self, schema: BaseSchema, state: AppState) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if state.settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.state = state
        self.hide_suggestions = not state.settings.introspection

    # ------------------------------------------------------------------ routing ---
    def is_ide_request(self, scope: Scope) -> bool:
        """GET /graphql from a browser without a query: the GraphiQL page (public)."""
        if scope.get("method") != "GET":
            return False
        return self.should_render_graphql_ide(self.request_adapter_class(Request(scope)))

    def is_public(self, scope: Scope) -> bool:
        path = scope["path"]
        return (
            path in ("/", "/healthz", "/readyz")
            or path.startswith(WEB_PREFIX)  # static files only; their /graphql calls carry a token
            or (path == "/graphql" and self.is_ide_request(scope))
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        request.state.graphql_statuses = []
        try:
            if self.is_ide_request(scope):
                if not self.graphql_ide:
                    raise HTTPException(404, "Not Found")
                response = await self.render_graphql_ide(request)
            else:
                response = await self.run(request)
                await self.write_read_log(request)
                self.set_status(request, response)
        except HTTPException as exc:
            code = CODE_FOR_STATUS.get(exc.status_code, "BAD_REQUEST")
            response = error_response(exc.status_code, code, exc.reason)
            if exc.status_code == 405:
                response.headers["allow"] = "POST" if scope.get("method") == "GET" else "GET, POST"
        except RateLimited as exc:
            response = error_response(429, exc.code, exc.message)
            response.headers["retry-after"] = str(exc.extensions.get("retryAfter", 1))
        except Unauthenticated as exc:
            response = error_response(401, exc.code, exc.message)
        await response(scope, receive, send)

    # ------------------------------------------------------------------ context ---
    async def get_context(self, request: Request, response: Any) -> Context:  # type: ignore[override]
        viewer = getattr(request.state, "viewer", None)
        if viewer is None:  # the viewer middleware runs before every non-public request
            raise Unauthenticated("Authorization: Bearer <token> is required")
        self.state.require_pool()
        # Every statement of the request goes through the gate: bounded waits, the user's share
        # of the pool, MAX_STATEMENTS (core/connections.py). RequestPool has the asyncpg.Pool
        # methods the resolvers use, so they keep their types.
        pool = RequestPool(self.state.connections, viewer.user_id, max_statements=self.state.settings.max_statements)
        context = Context(
            pool=cast(asyncpg.Pool, pool),
            settings=self.state.settings,
            policy=self.state.require_policy(),
            viewer=viewer,
            request=request,
            unit_keys=self.state.unit_keys,
            clock=self.state.clock,
        )
        request.state.graphql_context = context
        return context

    async def write_read_log(self, request: Request) -> None:
        """One audit entry per request and action for the voter fields read in clear, committed
        before the answer is sent (no audit, no data: a failure here fails the request)."""
        context: Context | None = getattr(request.state, "graphql_context", None)
        if context is not None and context.read_log.entries():
            # Not counted against MAX_STATEMENTS: what was read is audited whatever the budget.
            pool = RequestPool(self.state.connections, context.viewer.user_id, max_statements=None)
            await record_reads(cast(asyncpg.Pool, pool), context.viewer.user_id, context.read_log)

    async def execute_operation(  # type: ignore[override]
        self, request: Request, request_adapter: Any, request_data: Any, context: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """A batch of N operations takes N tokens of the user's rate limit (the middleware took
        the first): without this, 130 batches of 10 operations passed as 130 requests."""
        if isinstance(request_data, list) and len(request_data) > 1:
            wait = self.state.limiter.acquire(context.viewer.user_id, len(request_data) - 1)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise RateLimited(f"Too many requests; retry in {seconds} s", retryAfter=seconds)
        return await super().execute_operation(request, request_adapter, request_data, context, *args, **kwargs)

    # ------------------------------------------------------------- request body ---
    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        value = super().parse_json(data)
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object (or an array of them)")
        return value

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(item.operation_name, (str, type(None))):
                raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null")
            if isinstance(parsed, list) and not isinstance(item.variables, (dict, type(None))):
                raise HTTPException(400, "The GraphQL operation's `variables` must be an object or null")
        return parsed

    def _validate_batch_request(self, request_data: list[Any], protocol: GraphQLRequestProtocol) -> None:
        limit = self.state.settings.max_batch
        if not request_data:
            raise HTTPException(400, "An empty batch holds no operation")
        if len(request_data) > limit:
            raise HTTPException(400, f"A batch may hold at most {limit} operations; this one holds {len(request_data)}")
        if not all(isinstance(item, dict) for item in request_data):
            raise HTTPException(400, "Every operation of a batch must be a JSON object")
        if protocol != "http":
            raise HTTPException(400, "Batches are not supported for streaming transports")

    async def execute_single(  # type: ignore[override]
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """GraphQL-over-HTTP before strawberry runs the operation: strawberry would run the first
        of several operations when no operationName names one (refused here, as graphql-core's
        execution would), and a mutation over GET is 405, not 400."""
        operations = self.operations_of(request_data.query)
        if len(operations) > 1 and request_data.operation_name is None:
            error = GraphQLError(
                "Must provide operationName if the document contains several operations",
                extensions={"code": "BAD_REQUEST"},
            )
            return ExecutionResult(data=None, errors=[error])
        if request_adapter.method == "GET":
            named = [o for o in operations if request_data.operation_name in (None, o.name and o.name.value)]
            if named and named[0].operation != OperationType.QUERY:
                raise HTTPException(405, f"{named[0].operation.value}s are not allowed when using GET")
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)

    def operations_of(self, query: str | None) -> list[OperationDefinitionNode]:
        """The operations of a document (the guard's parse cache: no second parse); [] when it
        does not parse (strawberry then reports the syntax error the ordinary way)."""
        document = parsed_document(query, self.state.settings.max_tokens) if isinstance(query, str) else None
        if document is None:
            return []
        return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]

    # ----------------------------------------------------------------- response ---
    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        errors = [present_error(e, hide_suggestions=self.hide_suggestions) for e in result.errors or ()]
        # A request that failed before execution (parse, validation, limits) has no `data`.
        before_execution = result.data is None and bool(errors) and all(e.path is None for e in errors)
        body: GraphQLHTTPResponse = {} if before_execution else {"data": result.data}
        if errors:
            body["errors"] = [e.formatted for e in errors]
        if result.extensions:
            body["extensions"] = result.extensions
        request.state.graphql_statuses.append(self.status_for(errors, before_execution))
        return body

    @staticmethod
    def status_for(errors: list[GraphQLError], before_execution: bool) -> int:
        codes = {code_of(e) for e in errors}
        if DatabaseUnavailable.code in codes:
            return 503
        if not before_execution:
            return 200
        return 500 if INTERNAL in codes else 400

    def set_status(self, request: Request, response: Response) -> None:
        """application/json: 200 for any GraphQL answer. application/graphql-response+json: 4xx
        when there is no `data` (GraphQL-over-HTTP). Either way 503 when the database is down."""
        statuses: list[int] = request.state.graphql_statuses
        if not statuses:
            return
        media = response_media_type(request.headers.get("accept"))
        if 503 in statuses:
            response.status_code = 503
            response.headers["retry-after"] = "1"
        elif media == GRAPHQL_RESPONSE and len(statuses) == 1:
            response.status_code = statuses[0]
        response.headers["content-type"] = media if media == JSON else f"{media}; charset=utf-8"


async def record_reads(pool: asyncpg.Pool, user_id: str, read_log: ReadLog) -> None:
    """One entry per action and unit the request read in clear, in one statement (a page in
    name order may touch hundreds of booths)."""
    entries = read_log.entries()
    async with pool.acquire() as conn, conn.transaction():
        await audit.record_many(
            conn,
            user_id=user_id,
            actions=[action for action, _, _ in entries],
            unit_codes=[code for _, code, _ in entries],
            records=[records for _, _, records in entries],
        )


# -------------------------------------------------------------------- health ---
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state: AppState = request.app.state.boothgraph
    if state.readiness is None or not await state.readiness.ready():
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


# -------------------------------------------------------------------- schema ---
def build_schema(settings: Settings) -> BaseSchema:
    """The project's schema (schema.build_schema) with graphql_extensions(settings)."""
    return schema_package.build_schema(extensions=graphql_extensions(settings))


def transfer_routes() -> list[BaseRoute]:
    """/import and /export/voters.csv from transfer/http.py: its `routes`, or the functions
    `import_csv` (POST /import) and `export_voters_csv` (GET /export/voters.csv). Both read
    `request.state.viewer` and `request.app.state.boothgraph` (AppState)."""
    try:
        module = importlib.import_module("transfer.http")
    except ModuleNotFoundError as exc:
        if exc.name in ("transfer.http", "transfer"):
            return []
        raise
    if hasattr(module, "routes"):
        return list(module.routes)
    routes: list[BaseRoute] = []
    for name, path, method in (("import_csv", "/import", "POST"), ("export_voters_csv", "/export/voters.csv", "GET")):
        endpoint = getattr(module, name, None)
        if endpoint is not None:
            routes.append(Route(path, endpoint, methods=[method]))
    return routes


# ------------------------------------------------------------------ lifespan ---
async def _reload_policy_forever(engine: PolicyEngine, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        engine.reload_if_changed()


async def _release_stats_forever(pool: asyncpg.Pool, min_cell: int, every_s: float) -> None:
    """The periodic release of the sensitive breakdowns (resolvers/release.py): at start when
    nothing was released yet, then every `every_s` the booths where MIN_CELL_SIZE voters changed.
    An advisory lock lets one worker or node release at a time; the others skip that round."""
    while True:
        try:
            async with pool.acquire() as conn:
                report = await release_due(conn, min_cell=min_cell)
            if report is not None:
                log.info(
                    "stats release: %d booths, %d cells, %d suppressed", report.booths, report.cells, report.suppressed
                )
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed round is tried again next time; serving goes on
            log.exception("stats release failed")
        await asyncio.sleep(every_s)


def policy_engine(settings: Settings) -> PolicyEngine:
    return PolicyEngine(settings.policy_dir) if settings.policy_dir else default_engine()


@contextlib.asynccontextmanager
async def _lifespan(state: AppState) -> AsyncIterator[None]:
    settings = state.settings
    urls = await asyncio.to_thread(database_urls, settings)
    await asyncio.to_thread(migrate.upgrade, urls.owner, urls.app_role)
    pool = await create_pool(settings, urls.server)
    async with pool.acquire() as conn:
        for problem in await privilege_problems(conn):
            log.warning("the server's database role %s: give it a role of its own (README, Database roles)", problem)
    engine = policy_engine(settings)
    engine.load_assignments((r["user_id"], r["role"], r["path"]) for r in await pool.fetch(ASSIGNMENTS_SQL))
    state.pool, state.policy = pool, engine
    state.readiness = ReadinessProbe(asyncpg_dsn(urls.server), timeout_s=READY_TIMEOUT_S)
    reloader = asyncio.create_task(_reload_policy_forever(engine, settings.policy_reload_s), name="policy-reload")
    releaser = None
    if settings.stats_release_interval_s > 0:
        releaser = asyncio.create_task(
            _release_stats_forever(pool, settings.min_cell_size, settings.stats_release_interval_s),
            name="stats-release",
        )
    # What start-up built (schema, policy, 1.8 lakh assignments) lives as long as the worker:
    # move it out of the collector's sight so full collections under load stay short.
    gc.collect()
    gc.freeze()
    # A request leaves thousands of short-lived objects, many in reference cycles, for the
    # collector. Young collections every 2,000 allocations instead of 700 do less promoting; every
    # 20,000 saved 3% CPU but each pause grew to ~8 ms and Q4's p99 from ~15 to 20-26 ms
    # (bench/README.md).
    gc.set_threshold(*GC_THRESHOLDS)
    log.info("boothgraph ready")
    try:
        yield
    finally:
        reloader.cancel()
        if releaser is not None:
            releaser.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await releaser
        state.pool = None
        if state.readiness is not None:
            await state.readiness.close()
        try:
            await asyncio.wait_for(pool.close(), SHUTDOWN_TIMEOUT_S)
        except TimeoutError:
            pool.terminate()


# ----------------------------------------------------------------------- app ---
async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 / 405 (unknown path, wrong method, a missing static file) in the
    JSON error shape of service.md instead of plain text."""
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_FOR_STATUS.get(exc.status_code, "BAD_REQUEST")
    response = error_response(exc.status_code, code, exc.detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def create_app(
    settings: Settings | None = None, *, schema: BaseSchema | None = None, clock: Clock = SYSTEM_CLOCK
) -> Starlette:
    """The application. `schema` defaults to the project's schema with graphql_extensions();
    `clock` is what elections and poll hours take as now (tests inject a FixedClock)."""
    settings = settings or get_settings()
    state = AppState(settings=settings, secret=settings.secret_for_serving(), clock=clock)
    view = BoothgraphGraphQL(schema if schema is not None else build_schema(settings), state)

    middleware = [Middleware(AccessLogMiddleware), Middleware(SecurityHeadersMiddleware)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept"],
                max_age=600,
            )
        )
    middleware += [
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, per_path={"/import": IMPORT_MAX_BODY_BYTES}),
        Middleware(DatabaseUnavailableMiddleware),
        Middleware(AuthMiddleware, secret=state.secret, is_public=view.is_public),
        Middleware(RateLimitMiddleware, limiter=state.limiter),
        Middleware(ViewerMiddleware, connections=state.connections),
    ]
    routes: list[BaseRoute] = [
        Route("/graphql", view),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *transfer_routes(),
        Route("/", lambda request: RedirectResponse(WEB_PREFIX + "/"), methods=["GET"]),
        Mount(WEB_PREFIX, StaticFiles(directory=WEB_DIR, html=True), name="web"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with _lifespan(state):
            yield

    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={StarletteHTTPException: http_error},
    )
    app.state.boothgraph = state
    return app


def app_from_env() -> Starlette:
    """The uvicorn factory (`uvicorn --factory server:app_from_env`): settings from the environment."""
    return create_app(Settings())
