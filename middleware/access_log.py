"""One log line per request: method, path, status, bytes out, duration and user; never the
body or the query string (both can hold voters' data). Adds a `Server-Timing` header. With
LOG_FORMAT=json the same facts are fields of the line, beside the request id (core/logs.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from middleware.raw_headers import append_header

log = logging.getLogger("boothgraph.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with inner middleware (user id)
        start = time.perf_counter()
        status = 500
        sent = 0

        async def timed_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = (time.perf_counter() - start) * 1000
                append_header(message, b"server-timing", f"app;dur={elapsed:.1f}")
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            if log.isEnabledFor(logging.INFO):
                self.write(scope, state, status, sent, (time.perf_counter() - start) * 1000)

    @staticmethod
    def write(scope: Scope, state: dict[str, Any], status: int, sent: int, elapsed_ms: float) -> None:
        """The line, as log.info would write it, less logging's walk up the stack for the caller
        (findCaller): the record names this function instead (bench/README.md)."""
        user = state.get("user_id", "-")
        record = log.makeRecord(
            log.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %d %dB %.1fms user=%s id=%s",
            (scope["method"], scope["path"], status, sent, elapsed_ms, user, state.get("request_id", "-")),
            None,
            "AccessLogMiddleware.write",
            # The fields of a JSON log line (core/logs.py); the request id comes with every record.
            {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "bytes": sent,
                "duration_ms": round(elapsed_ms, 1),
                "user": user,
            },
        )
        log.handle(record)
