"""413 for a request body over `max_bytes`: by its Content-Length before anything is read,
and by counting the bytes as they stream in (a chunked body declares no length). `per_path`
gives a route its own limit (POST /import takes whole CSV files)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import BadRequest, PayloadTooLarge
from middleware.responses import ResponseTracker


class BodyTooLarge(BaseException):
    """Raised from `receive`. A BaseException, so that an endpoint's `except Exception` cannot
    turn it into a 500 before it gets back here."""


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        too_large = f"The request body is larger than {limit} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise BadRequest("Content-Length is not a number") from None
                if declared > limit:
                    raise PayloadTooLarge(too_large)

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        tracker = ResponseTracker(send)
        try:
            await self.app(scope, counting_receive, tracker)
        except BodyTooLarge:
            if not tracker.started:
                raise PayloadTooLarge(too_large) from None
