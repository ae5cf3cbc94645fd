"""401 UNAUTHENTICATED (raised) unless the request carries a valid `Authorization: Bearer <JWT>`
(HS256, `sub` and `exp`); else the token's user id goes to `scope["state"]["user_id"]`.

Only the signature and claims are checked here (no database; a token verified once is
remembered, see core.auth.TokenVerifier): the rate limiter behind it
can then count requests per user before any query runs. Whether the user exists, and what
they may do, is read from the database by the viewer middleware for every request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from core.api_keys import KEY_PREFIX, parse_key
from core.auth import TokenVerifier, bearer_token
from core.errors import Unauthenticated
from middleware.raw_headers import request_header


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
        token = bearer_token(request_header(scope, b"authorization"))
        state = scope.setdefault("state", {})
        if token.startswith(KEY_PREFIX):  # a service account's API key: checked by the viewer middleware
            key = parse_key(token)
            if key is None:
                raise Unauthenticated("The API key is not valid")
            # The key's own rate-limit bucket, keyed by its secret too: the prefix is visible, and
            # guesses with a known prefix must not empty the real key's bucket.
            bucket = hashlib.blake2b(token.encode(), digest_size=8).hexdigest()
            state["user_id"], state["api_key"] = f"key:{key[0]}:{bucket}", key
            await self.app(scope, receive, send)
            return
        user_id, session_id = self.tokens.identity(token)
        state["user_id"] = user_id
        if session_id is not None:  # a signed-in session's token: the viewer middleware checks it is live
            state["session_id"] = session_id
        await self.app(scope, receive, send)
