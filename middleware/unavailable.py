"""503 SERVICE_UNAVAILABLE when a route fails because PostgreSQL is not there or not
answering in time, instead of a 500 (or a hang: the pool has connect, acquire and statement
timeouts). The pool reconnects by itself once the database is back."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from core.availability import as_unavailable, is_database_unavailable
from middleware.responses import ResponseTracker, send_error


class DatabaseUnavailableMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracker = ResponseTracker(send)
        try:
            await self.app(scope, receive, tracker)
        except Exception as exc:
            if tracker.started or not is_database_unavailable(exc):
                raise
            error = as_unavailable(exc)
            await send_error(send, 503, error.code, error.message, [(b"retry-after", b"1")])
