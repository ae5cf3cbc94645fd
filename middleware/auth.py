"""401 UNAUTHENTICATED (raised) unless the request carries a valid `Authorization: Bearer <JWT>`
(HS256, `sub` and `exp`); else the token's user id goes to `scope["state"]["user_id"]`.

Only the signature and claims are checked here (no database; a token verified once is
remembered, see core.auth.TokenVerifier): the rate limiter behind it
can then count requests per user before any query runs. Whether the user exists, and what
they may do, is read from the database by the viewer middleware for every request.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from core.auth import TokenVerifier, bearer_token


class AuthMiddleware:
    def __init__(self, app: ASGIApp, secret: str, is_public: Callable[[Scope], bool]) -> None:
        self.app = app
        self.tokens = TokenVerifier(secret)
        self.is_public = is_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.is_public(scope):
            await self.app(scope, receive, send)
            return
        # Unauthenticated (401, with its Bearer challenge) rises to middleware/errors.py.
        user_id = self.tokens.user_id(bearer_token(Headers(scope=scope).get("authorization")))
        scope.setdefault("state", {})["user_id"] = user_id
        await self.app(scope, receive, send)
