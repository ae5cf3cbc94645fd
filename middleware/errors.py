"""Renders every `core.errors` error raised inside it (by the middleware behind it, or a route)
as its HTTP answer (middleware/responses.py), and a route failing because PostgreSQL is not
there or not answering in time as 503 SERVICE_UNAVAILABLE instead of a 500 (or a hang: the pool
has connect, acquire and statement timeouts). The pool reconnects by itself once the database is
back. Anything else goes on to starlette's 500."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from core.availability import as_unavailable, is_database_unavailable
from core.errors import BoothgraphError
from middleware.responses import ResponseTracker, error_response


class ErrorResponseMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracker = ResponseTracker(send) if scope["type"] == "http" else None
        try:
            await self.app(scope, receive, tracker or send)
        except Exception as exc:
            if tracker is None or tracker.started:
                raise
            if isinstance(exc, BoothgraphError):
                error: BoothgraphError = exc
            elif is_database_unavailable(exc):
                error = as_unavailable(exc)
            else:
                raise
            await error_response(error)(scope, receive, send)
