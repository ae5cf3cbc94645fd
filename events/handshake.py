"""Authentication of a websocket's `connection_init`, with the HTTP request path's token rules:
the payload's `Authorization: Bearer <token>` (either case of the key) or `token`; a JWT
(signature and exp, core/auth.py), with `sid` also a live session (core/viewer.load_token_viewer); or an API
key (core/api_keys.py). The viewer is read from the database as for every HTTP request. What is
wrong is Refused(4401) with the same words the HTTP 401 would carry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from core.api_keys import KEY_PREFIX, load_key_viewer, parse_key
from core.auth import bearer_token, verified_claims
from core.connections import ConnectionGate
from core.errors import Unauthenticated
from core.viewer import Viewer, load_token_viewer
from events.sockets import UNAUTHORIZED, Refused, Socket

KEY_EXPIRY_SQL = "select extract(epoch from expires_at)::float8 from api_keys where prefix = $1"


def token_of(payload: Mapping[str, Any]) -> str:
    authorization = payload.get("Authorization", payload.get("authorization"))
    if isinstance(authorization, str):
        return bearer_token(authorization)
    token = payload.get("token")
    if isinstance(token, str) and token.strip():
        return token.strip()
    raise Unauthenticated("connection_init needs `Authorization: Bearer <token>` or `token` in its payload")


async def authenticate(
    payload: Mapping[str, Any],
    *,
    secret: str,
    connections: ConnectionGate,
    close: Callable[[int, str], Awaitable[None]],
) -> Socket:
    viewer: Viewer | None
    try:
        token = token_of(payload)
        if token.startswith(KEY_PREFIX):
            key = parse_key(token)
            if key is None:
                raise Unauthenticated("The API key is not valid")
            async with connections.acquire(None) as conn:
                found = await load_key_viewer(conn, *key)
                if found is None:
                    raise Unauthenticated("The API key is not valid")
                expires_at = await conn.fetchval(KEY_EXPIRY_SQL, key[0])
                viewer = found[0]
            key_prefix, session_id = key[0], None
        else:
            user_id, exp, session_id = verified_claims(token, secret)
            async with connections.acquire(user_id) as conn:
                viewer = await load_token_viewer(conn, user_id, session_id)
            key_prefix, expires_at = None, float(exp)
    except Unauthenticated as exc:
        raise Refused(UNAUTHORIZED, exc.message) from None
    if viewer is None:
        raise Refused(UNAUTHORIZED, "The token's user does not exist")
    return Socket(
        user_id=viewer.user_id,
        viewer=viewer,
        close=close,
        session_id=session_id,
        key_prefix=key_prefix,
        expires_at=expires_at,
    )
