"""Read-your-writes across standbys (installed only with READ_DATABASE_URL; core/replicas.py).

A request's `Consistency-Token` header, when it is one this user was given, becomes
`scope["state"]["consistency_lsn"]`: its reads wait for a standby that replayed that LSN or
go to the primary. A request that wrote (a GraphQL mutation: the view sets
`scope["state"]["wrote"]`; a successful POST /import) gets a fresh token on its response: the
primary's WAL position after its commit. Clients echo the newest token they hold.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.replicas import TOKEN_HEADER, ConsistencyTokens, ReadRouter

log = logging.getLogger("boothgraph.replicas")
WRITE_PATHS = frozenset({"/import"})


class ConsistencyMiddleware:
    def __init__(self, app: ASGIApp, *, router: ReadRouter, tokens: ConsistencyTokens) -> None:
        self.app = app
        self.router = router
        self.tokens = tokens
        self.header = TOKEN_HEADER.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        user_id = state.get("user_id") if scope["type"] == "http" else None
        if user_id is None:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == self.header:
                lsn = self.tokens.verify(user_id, value.decode("latin-1"))
                if lsn is not None:
                    state["consistency_lsn"] = lsn
                break
        if scope["path"] in WRITE_PATHS and scope["method"] == "POST":
            state["wrote"] = True

        async def send_with_token(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get("wrote") and message["status"] < 400:
                try:
                    lsn = await self.router.write_lsn()
                except Exception:  # noqa: BLE001 - the write committed; without a token the reads may lag
                    log.warning("no consistency token: the primary did not say its WAL position")
                else:
                    token = self.tokens.issue(user_id, lsn).encode()
                    message = {**message, "headers": [*message.get("headers", []), (self.header, token)]}
            await send(message)

        await self.app(scope, receive, send_with_token)
