"""429 RATE_LIMITED with `Retry-After` when a user's token bucket is empty (core.ratelimit:
per user id, per worker process). Requests without a user (public routes) are not counted."""

from __future__ import annotations

import math

from starlette.types import ASGIApp, Receive, Scope, Send

from core.ratelimit import RateLimiter
from middleware.responses import send_error

CODE = "RATE_LIMITED"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user_id = scope.get("state", {}).get("user_id") if scope["type"] == "http" else None
        if user_id is not None:
            wait = self.limiter.acquire(user_id)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                await send_error(
                    send,
                    429,
                    CODE,
                    f"Too many requests; retry in {seconds} s",
                    [(b"retry-after", str(seconds).encode())],
                )
                return
        await self.app(scope, receive, send)
