"""Loads the viewer (user and current assignments) from the database for every authenticated
request, into `scope["state"]["viewer"]`: roles are never taken from the token, so a revoked
role stops working at once in every server process. An unknown user gets 401. The connection
is taken through the gate (core/connections.py): a bounded wait within the user's share, so a
saturated or unreachable database fails fast."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from core.api_keys import current_key, load_key_viewer
from core.connections import ConnectionGate
from core.errors import Unauthenticated
from core.viewer import Viewer, load_token_viewer


class ViewerMiddleware:
    def __init__(self, app: ASGIApp, connections: ConnectionGate) -> None:
        self.app = app
        self.connections = connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user_id = scope.get("state", {}).get("user_id") if scope["type"] == "http" else None
        if user_id is None:
            await self.app(scope, receive, send)
            return
        # A database that is down or too slow raises here: ErrorResponseMiddleware
        # (outside this one) turns that into 503.
        session_id = scope["state"].get("session_id")
        api_key = scope["state"].get("api_key")
        viewer: Viewer | None
        async with self.connections.acquire(user_id) as conn:
            # One statement: with a key, its checks; with a session's token, the session's state.
            if api_key is not None:
                found = await load_key_viewer(conn, *api_key)
                if found is None:
                    raise Unauthenticated("The API key is not valid")
                viewer, scope["state"]["registered_only"] = found  # registered_only: core/persisted.py
                scope["state"]["user_id"] = viewer.user_id
            else:
                viewer = await load_token_viewer(conn, user_id, session_id)
        if viewer is None:
            raise Unauthenticated("The token's user does not exist")
        scope["state"]["viewer"] = viewer
        if api_key is None:
            await self.app(scope, receive, send)
            return
        token = current_key.set(api_key[0])  # audit entries of this request name the key
        try:
            await self.app(scope, receive, send)
        finally:
            current_key.reset(token)
