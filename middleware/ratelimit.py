"""429 RATE_LIMITED with `Retry-After` when a user's token bucket is empty (core.ratelimit:
per user id, per worker process). Requests without a user (public routes) are not counted."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import RateLimited
from core.ratelimit import RateLimiter


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user_id = scope.get("state", {}).get("user_id") if scope["type"] == "http" else None
        if user_id is not None:
            wait = self.limiter.acquire(user_id)
            if wait > 0:
                raise RateLimited.after(wait)
        await self.app(scope, receive, send)
