"""The Starlette application: `create_app(settings)` (tests, embedding) and `app_from_env()`
(the factory `boothgraph serve` hands to uvicorn, one call per worker process).

Routes: POST /graphql (GET /graphql: GraphiQL when enabled, or a query; a websocket on /graphql:
subscriptions over graphql-transport-ws, docs/events.md), GET /healthz,
GET /readyz (routes/health.py), POST /import and GET /export/voters.csv (routes/transfer.py),
GET /export/walklist.pdf and /export/slips.pdf (routes/printouts.py),
and the officials' page under /app/. Which of them are public is decided here (`PublicPaths`).
Middleware (middleware/, outermost first): access log, security headers, CORS (when
CORS_ORIGINS is set), errors (renders every core.errors class raised inside it, and 503 for a
database that is not there), body limit (413), token (401), rate limit (429), viewer (loaded
from the database per request; unknown user 401).

The lifespan resolves the database (embedded when DATABASE_URL is unset), applies pending
migrations, opens the asyncpg pool, builds the policy engine with every assignment loaded,
and reloads the policy files when they change on disk; it starts the events (events/service.py: one
LISTEN connection per process) for subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
from collections.abc import AsyncGenerator, AsyncIterator
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
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.types import ExecutionResult

import schema as schema_package
from core import migrate, persisted, tracing
from core.clock import SYSTEM_CLOCK, Clock
from core.connections import RequestPool
from core.database import asyncpg_dsn, create_pool, database_urls
from core.errors import (
    BadRequest,
    DatabaseUnavailable,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    Unauthenticated,
    http_error,
)
from core.persisted import PersistedOperations
from core.readiness import ReadinessProbe
from core.replicas import TOKEN_HEADER, ConsistencyTokens, ReadRequestPool, ReadRouter
from core.roles import privilege_problems
from core.settings import Settings, get_settings
from core.viewer import Viewer
from events.handshake import authenticate
from events.service import Events
from events.sockets import Refused, Socket
from middleware.access_log import AccessLogMiddleware
from middleware.auth import AuthMiddleware
from middleware.body_limit import BodyLimitMiddleware
from middleware.consistency import ConsistencyMiddleware
from middleware.errors import ErrorResponseMiddleware
from middleware.metrics import MetricsMiddleware
from middleware.ratelimit import RateLimitMiddleware
from middleware.request_id import RequestIdMiddleware
from middleware.responses import error_response
from middleware.security_headers import SecurityHeadersMiddleware
from middleware.viewer import ViewerMiddleware
from policies import PolicyEngine
from policies.engine import default_engine
from resolvers import audit
from resolvers.redaction import ReadLog
from resolvers.release import release_due
from routes import auth as auth_routes
from routes import operator as operator_routes
from routes import printouts as printout_routes
from routes import transfer as transfer_routes
from routes.health import healthz, readyz
from routes.state import AppState, request_viewer
from routes.web_files import WebFiles
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
# service.md's 1 MiB limit is for GraphQL requests; POST /import carries whole CSV files.
IMPORT_MAX_BODY_BYTES = 256 * 1024 * 1024

# The officials' page (web/): static files that talk to /graphql with the user's own token.
WEB_DIR = Path(__file__).resolve().parent / "web"
WEB_PREFIX = "/app"


GC_THRESHOLDS = (2_000, 10, 10)
# A websocket closed because the database could not be asked (the client may try again).
WS_TRY_AGAIN = 1013


# ----------------------------------------------------------- subscriptions ---
class EventsProtocolHandler(BaseGraphQLTransportWSHandler):
    """strawberry's graphql-transport-ws handler with our connection_init: the payload's token
    checked as on HTTP, the viewer read, the connection limits (events/handshake.py, events/
    sockets.py); refusals close with 4401 / 4429. Errors are presented as on HTTP (masking)."""

    socket: Socket | None = None

    async def handle_connection_init(self, message: Any) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        view = cast(BoothgraphGraphQL, self.view)
        try:
            self.socket = await view.open_socket(cast(Context, self.context), payload, self.websocket.close)
        except Refused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)
            return
        except DatabaseUnavailable:
            await self.websocket.close(code=WS_TRY_AGAIN, reason="The database is not available; try again")
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def shutdown(self) -> None:
        await super().shutdown()
        if self.socket is not None:
            cast(BoothgraphGraphQL, self.view).state.require_events().sockets.remove(self.socket)

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        hide = cast(BoothgraphGraphQL, self.view).hide_suggestions

        context = cast(Context, self.context)

        async def presented() -> AsyncGenerator[Any, None]:
            async for result in result_source:
                if isinstance(result, ExecutionResult) and result.errors:
                    result.errors = [present_error(e, hide_suggestions=hide) for e in result.errors]
                # What the payload showed in clear is audited before it is sent (no audit, no data;
                # events/read_audit.py writes the deliveries of many sockets in one statement).
                read_log, context.read_log = context.read_log, ReadLog()
                if read_log.voters:
                    socket = cast(Socket, context.socket)
                    try:
                        await context.events.read_audit.record(socket.user_id, read_log, key_prefix=socket.key_prefix)
                    except DatabaseUnavailable:
                        # Not sent: the socket closes so that the client connects again (strawberry's
                        # own way out of an operation that closed its socket).
                        await self.websocket.close(code=WS_TRY_AGAIN, reason="The database is busy; try again")
                        self.operations.pop(operation.id, None)
                        raise _OperationStreamClosed from None
                yield result

        await super()._send_result_stream(operation, presented())


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


class BoothgraphGraphQL(GraphQL):
    """strawberry's ASGI view with our auth context, error presentation, status codes
    (GraphQL-over-HTTP), orjson, bounded batches, and the read audit written before the answer
    leaves."""

    graphql_transport_ws_handler_class = EventsProtocolHandler

    def __init__(self, schema: BaseSchema, state: AppState) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if state.settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            # Subscriptions: graphql-transport-ws only (docs/events.md); browsers' cross-origin
            # handshakes only from CORS_ORIGINS.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=state.settings.ws_init_timeout_s),
            max_subscriptions_per_connection=state.settings.ws_max_subscriptions_per_connection,
            allowed_origins=state.settings.cors_origins,
        )
        self.state = state
        self.hide_suggestions = not state.settings.introspection
        self.persisted = PersistedOperations()
        settings = state.settings
        self.apq_limits = persisted.ApqLimits(
            per_user=settings.apq_max_per_user,
            total=settings.apq_max_total,
            document_bytes=settings.apq_max_document_bytes,
        )

    # ------------------------------------------------------------------ routing ---
    def is_ide_request(self, scope: Scope) -> bool:
        """GET /graphql from a browser without a query: the GraphiQL page (public)."""
        if scope.get("method") != "GET":
            return False
        return self.should_render_graphql_ide(self.request_adapter_class(Request(scope)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Our errors (RateLimited, Unauthenticated) rise to middleware/errors.py; strawberry's
        HTTP refusals become ours here."""
        if scope["type"] == "websocket":  # subscriptions: authenticated at connection_init
            await self.run(WebSocket(scope, receive=receive, send=send))
            return
        request = Request(scope, receive)
        request.state.graphql_statuses = []
        try:
            if self.is_ide_request(scope):
                if not self.graphql_ide:
                    raise NotFound("Not Found")
                response = await self.render_graphql_ide(request)
            else:
                response = await self.run(request)
                await self.write_read_log(request)
                self.set_status(request, response)
        except HTTPException as exc:
            if exc.status_code == MethodNotAllowed.status:
                allow = "POST" if scope.get("method") == "GET" else "GET, POST"
                raise MethodNotAllowed(exc.reason, allow=allow) from None
            raise http_error(exc.status_code, exc.reason) from None
        await response(scope, receive, send)

    # ------------------------------------------------------------------ context ---
    async def open_socket(self, context: Context, payload: dict[str, Any], close: Any) -> Socket:
        """A websocket's connection_init: authenticated, admitted within the limits, and its
        context given the viewer, the socket and a pool gated by the user's share."""
        events = self.state.require_events()
        socket = await authenticate(payload, secret=self.state.secret, connections=self.state.connections, close=close)
        events.sockets.admit(socket)
        await self.state.policy_for(socket.viewer)
        context.viewer, context.socket, context.events = socket.viewer, socket, events
        context.pool = cast(asyncpg.Pool, RequestPool(self.state.connections, socket.user_id, max_statements=None))
        return socket

    async def get_context(self, request: Request, response: Any) -> Context:  # type: ignore[override]
        if request.scope["type"] == "websocket":
            # The viewer comes with connection_init (open_socket); nothing runs before it.
            return Context(
                pool=cast(asyncpg.Pool, None),
                settings=self.state.settings,
                policy=self.state.require_policy(),
                viewer=Viewer(user_id="", name=""),
                request=request,
                unit_keys=self.state.unit_keys,
                clock=self.state.clock,
            )
        viewer = request_viewer(request)
        self.state.require_pool()
        # Every statement of the request goes through the gate: bounded waits, the user's share
        # of the pool, MAX_STATEMENTS (core/connections.py). RequestPool has the asyncpg.Pool
        # methods the resolvers use, so they keep their types.
        pool = RequestPool(self.state.connections, viewer.user_id, max_statements=self.state.settings.max_statements)
        policy = await self.state.policy_for(viewer)
        context = Context(
            pool=cast(asyncpg.Pool, pool),
            settings=self.state.settings,
            policy=policy,
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
                raise RateLimited.after(wait)
        replicas = self.state.replicas
        if replicas is None:
            return await super().execute_operation(request, request_adapter, request_data, context, *args, **kwargs)
        if not self.reads_only(request_data):
            request.state.wrote = True  # a token on the response (middleware/consistency.py)
            return await super().execute_operation(request, request_adapter, request_data, context, *args, **kwargs)
        standby = await replicas.standby_for(getattr(request.state, "consistency_lsn", None))
        if standby is None:
            return await super().execute_operation(request, request_adapter, request_data, context, *args, **kwargs)
        user_id, budget = context.viewer.user_id, self.state.settings.max_statements
        reads = ReadRequestPool(standby, self.state.connections, user_id, max_statements=budget)
        context.pool = cast(asyncpg.Pool, reads)
        result = await super().execute_operation(request, request_adapter, request_data, context, *args, **kwargs)
        if reads.failed:
            # The standby went away mid-operation: the same read-only operations, again on the primary.
            context.pool = cast(asyncpg.Pool, RequestPool(self.state.connections, user_id, max_statements=budget))
            context.read_log, context.memo = ReadLog(), {}
            result = await super().execute_operation(request, request_adapter, request_data, context, *args, **kwargs)
        return result

    def reads_only(self, request_data: Any) -> bool:
        """Every operation of the request is a query (a standby may answer it)."""
        items = request_data if isinstance(request_data, list) else [request_data]
        for item in items:
            query = item.get("query") if isinstance(item, dict) else getattr(item, "query", None)
            operations = self.operations_of(query)
            if not operations or any(o.operation != OperationType.QUERY for o in operations):
                return False
        return True

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
        await self.resolve_persisted(request, parsed if isinstance(parsed, list) else [parsed])
        return parsed

    async def resolve_persisted(self, request: Any, items: list[GraphQLRequestData]) -> None:
        """Persisted operations (core/persisted.py): a registered hash's text filled in; ad-hoc
        text refused under REGISTERED_OPERATIONS_ONLY or for a key created registered-only. Its
        errors rise to middleware/errors.py like every core.errors class."""
        state = request._request.scope.get("state", {})  # the Starlette request behind strawberry's adapter
        settings = self.state.settings
        registered_only = settings.registered_operations_only or bool(state.get("registered_only"))
        if not registered_only and not any(persisted.requested_hash(item.extensions) for item in items):
            return
        viewer = state.get("viewer")
        if viewer is None:
            raise Unauthenticated("Authorization: Bearer <token> is required")
        if persisted.resolve_known(items, self.persisted, registered_only=registered_only):
            return  # every hash known to this process: no connection taken
        async with self.state.connections.acquire(viewer.user_id) as conn:
            await persisted.resolve(
                items,
                store=self.persisted,
                conn=conn,
                user_id=viewer.user_id,
                registered_only=registered_only,
                parses=lambda text: parsed_document(text, settings.max_tokens) is not None,
                limits=self.apq_limits,
            )

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
        named_operation = request_data.operation_name or (
            operations[0].name.value if operations[0:1] and operations[0].name else None
        )
        request.state.graphql_operations = [*getattr(request.state, "graphql_operations", ()), named_operation]
        if len(operations) > 1 and request_data.operation_name is None:
            error = GraphQLError(
                "Must provide operationName if the document contains several operations",
                extensions={"code": BadRequest.code},
            )
            return ExecutionResult(data=None, errors=[error])
        chosen = [o for o in operations if request_data.operation_name in (None, o.name and o.name.value)]
        if chosen and chosen[0].operation == OperationType.SUBSCRIPTION:
            error = GraphQLError(
                "Subscriptions are served over a websocket (graphql-transport-ws) on /graphql; see docs/events.md",
                extensions={"code": BadRequest.code},
            )
            return ExecutionResult(data=None, errors=[error])
        if request_adapter.method == "GET" and chosen and chosen[0].operation != OperationType.QUERY:
            raise HTTPException(405, f"{chosen[0].operation.value}s are not allowed when using GET")
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
        if errors:  # the result code /metrics counts (middleware/metrics.py)
            request.state.graphql_codes = [*getattr(request.state, "graphql_codes", ()), code_of(errors[0])]
        return body

    @staticmethod
    def status_for(errors: list[GraphQLError], before_execution: bool) -> int:
        codes = {code_of(e) for e in errors}
        if DatabaseUnavailable.code in codes:
            return DatabaseUnavailable.status
        if not before_execution:
            return 200
        return InternalError.status if INTERNAL in codes else BadRequest.status

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


# -------------------------------------------------------------------- schema ---
def build_schema(settings: Settings) -> BaseSchema:
    """The project's schema (schema.build_schema) with graphql_extensions(settings)."""
    return schema_package.build_schema(extensions=graphql_extensions(settings))


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
    await state.sync_published_policy()
    state.readiness = ReadinessProbe(
        asyncpg_dsn(urls.server), timeout_s=READY_TIMEOUT_S, statement_cache_size=settings.statement_cache_size
    )
    if state.replicas is not None:
        state.replicas.primary_dsn = asyncpg_dsn(urls.server)
        await state.replicas.start()
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
    pool_sampler = asyncio.create_task(operator_routes.sample_pool_forever(pool), name="pool-metrics")
    # Subscriptions (events/): one LISTEN connection per process, on the primary (LISTEN_DATABASE_URL
    # when DATABASE_URL goes through a transaction-mode pool, where LISTEN hears nothing).
    events = Events(settings, pool=state.require_pool, policy=state.require_policy, clock=state.clock)
    listen_url = urls.server if settings.embedded else settings.listen_database_url or urls.server
    await events.start(asyncpg_dsn(listen_url))
    state.events = events
    log.info("boothgraph ready")
    try:
        yield
    finally:
        await events.close()
        state.events = None
        reloader.cancel()
        pool_sampler.cancel()
        if releaser is not None:
            releaser.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await releaser
        state.pool = None
        if state.replicas is not None:
            await state.replicas.close()
        if state.readiness is not None:
            await state.readiness.close()
        try:
            await asyncio.wait_for(pool.close(), SHUTDOWN_TIMEOUT_S)
        except TimeoutError:
            pool.terminate()


# ----------------------------------------------------------------------- app ---
async def starlette_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 / 405 (unknown path, wrong method, a missing static file) in the
    JSON error shape of service.md instead of plain text."""
    assert isinstance(exc, StarletteHTTPException)
    response = error_response(http_error(exc.status_code, exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


class PublicPaths:
    """The requests served without a token: health, the officials' static page (its /graphql
    calls carry the user's token), and GraphiQL's page (GET /graphql from a browser without a
    query). Everything else goes through auth, rate limit and viewer."""

    def __init__(self, view: BoothgraphGraphQL, *, exact: frozenset[str], prefix: str) -> None:
        self.view = view
        self.exact = exact
        self.prefix = prefix

    def __call__(self, scope: Scope) -> bool:
        path = scope["path"]
        return (
            path in self.exact
            or path.startswith(self.prefix)
            or (path == "/graphql" and self.view.is_ide_request(scope))
        )


def create_app(
    settings: Settings | None = None, *, schema: BaseSchema | None = None, clock: Clock = SYSTEM_CLOCK
) -> Starlette:
    """The application. `schema` defaults to the project's schema with graphql_extensions()."""
    settings = settings or get_settings()
    state = AppState(settings=settings, secret=settings.secret_for_serving(), clock=clock)
    view = BoothgraphGraphQL(schema if schema is not None else build_schema(settings), state)
    # /metrics checks its own token (routes/operator.py); the sign-in routes that open a session
    # take no token (routes/auth.py).
    public = PublicPaths(
        view,
        exact=frozenset({"/", "/healthz", "/readyz", *operator_routes.PUBLIC_PATHS, *auth_routes.PUBLIC_PATHS}),
        prefix=WEB_PREFIX,
    )

    middleware = [
        Middleware(RequestIdMiddleware),
        # Counted only while /metrics can be read (METRICS_TOKEN): a counter and a histogram per
        # request cost ~1% of a worker's time in multiprocess mode (bench/README.md).
        *([Middleware(MetricsMiddleware)] if settings.metrics_token else []),
        Middleware(AccessLogMiddleware),
        Middleware(SecurityHeadersMiddleware),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept", TOKEN_HEADER],
                expose_headers=[TOKEN_HEADER, "Retry-After"],
                max_age=600,
            )
        )
    middleware += [
        Middleware(ErrorResponseMiddleware),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, per_path={"/import": IMPORT_MAX_BODY_BYTES}),
        Middleware(AuthMiddleware, secret=state.secret, is_public=public),
        Middleware(RateLimitMiddleware, limiter=state.limiter),
        Middleware(ViewerMiddleware, connections=state.connections),
    ]
    if settings.read_database_url:
        state.replicas = ReadRouter(settings, primary=state.connections, primary_dsn="")
        tokens = ConsistencyTokens(state.secret)
        middleware.append(Middleware(ConsistencyMiddleware, router=state.replicas, tokens=tokens))
    routes: list[BaseRoute] = [
        Route("/graphql", view),
        WebSocketRoute("/graphql", view),  # subscriptions (graphql-transport-ws, docs/events.md)
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *transfer_routes.routes,
        *operator_routes.routes,
        *auth_routes.routes,
        *printout_routes.routes,
        Route("/", lambda request: RedirectResponse(WEB_PREFIX + "/"), methods=["GET"]),
        Mount(WEB_PREFIX, WebFiles(WEB_DIR), name="web"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with _lifespan(state):
                yield
        finally:
            if app.state.tracer_provider is not None:  # sends the spans still batched
                await asyncio.to_thread(app.state.tracer_provider.shutdown)

    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={StarletteHTTPException: starlette_http_error},
    )
    app.state.boothgraph = state
    app.state.tracer_provider = tracing.instrument(app, settings)  # None unless OTEL_EXPORTER_OTLP_ENDPOINT
    return app


def app_from_env() -> Starlette:
    """The uvicorn factory (`uvicorn --factory server:app_from_env`): settings from the environment."""
    return create_app(Settings())
