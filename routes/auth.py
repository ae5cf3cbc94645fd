"""Sign-in endpoints (server.py registers `routes`; resolvers/identity.py does the work; errors
are `core.errors` classes, rendered by middleware/errors.py):

- `POST /auth/invitation` (no token), `{"code": "bgi_…"}`: 200 `{accessToken, refreshToken,
  tokenType, expiresIn, userId}`; 401 for any bad code.
- `POST /auth/refresh` (no token), `{"refreshToken": "bgr_…"}`: 200 as above, with a new refresh
  token (the old one is spent); 401.
- `POST /auth/signout` (a session's token): 200 `{"signedOut": true}`; the session ends on every node.
- `POST /auth/invitations` (token), `{"userId": …, "ttlSeconds"?: …}`: 201 `{code, userId,
  expiresAt}`, the code shown once.
- `POST /auth/sessions/revoke` (token), `{"userId": …}`: 200 `{"revoked": n}`.
- `POST /auth/api-keys` (token), `{"userId": …, "name": …, "ttlDays"?: 90, "registeredOnly"?: false}`:
  201 `{key, prefix, userId, name, expiresAt}`, the key shown once; `POST /auth/api-keys/rotate` `{"prefix": …}`: 201,
  the same with a new key (the old one stops); `POST /auth/api-keys/revoke` `{"prefix": …}`: 200
  `{"revoked": true}`. A key is used as `Authorization: Bearer bgk_…`.

The two endpoints without a token take AUTH_ATTEMPTS_BURST attempts per client address, then one
every 1/AUTH_ATTEMPTS_PER_S seconds (429 with Retry-After), per worker process; each invitation
also burns after MAX_ATTEMPTS wrong secrets whatever the address (resolvers/identity.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.errors import BadUserInput, RateLimited
from core.ratelimit import RateLimiter
from resolvers import identity
from routes.state import app_state, request_viewer

PUBLIC_PATHS = frozenset({"/auth/invitation", "/auth/refresh"})  # they open a session: no token yet
AUTH_ATTEMPTS_PER_S = 0.2
AUTH_ATTEMPTS_BURST = 10


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers={"cache-control": "no-store"}
    )


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise BadUserInput("The body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadUserInput("The body must be a JSON object")
    return body


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _limit(request: Request) -> None:
    limiter: RateLimiter | None = getattr(request.app.state, "auth_attempts", None)
    if limiter is None:
        limiter = request.app.state.auth_attempts = RateLimiter(AUTH_ATTEMPTS_PER_S, AUTH_ATTEMPTS_BURST)
    wait = limiter.acquire(_address(request))
    if wait > 0:
        raise RateLimited.after(wait)


def _tokens(tokens: identity.SessionTokens) -> Response:
    return _json(
        200,
        {
            "accessToken": tokens.access_token,
            "refreshToken": tokens.refresh_token,
            "tokenType": "Bearer",
            "expiresIn": tokens.expires_in,
            "userId": tokens.user_id,
        },
    )


async def exchange(request: Request) -> Response:
    state = app_state(request)
    _limit(request)
    body = await _body(request)
    async with state.connections.acquire(f"address:{_address(request)}") as conn:
        tokens = await identity.exchange_invitation(
            conn, code=body.get("code"), address=_address(request), jwt_secret=state.secret
        )
    return _tokens(tokens)


async def refresh(request: Request) -> Response:
    state = app_state(request)
    _limit(request)
    body = await _body(request)
    async with state.connections.acquire(f"address:{_address(request)}") as conn:
        tokens = await identity.refresh_session(
            conn, refresh_token=body.get("refreshToken"), address=_address(request), jwt_secret=state.secret
        )
    return _tokens(tokens)


async def sign_out(request: Request) -> Response:
    state, viewer = app_state(request), request_viewer(request)
    session_id = getattr(request.state, "session_id", None)
    if session_id is None:
        raise BadUserInput("This token belongs to no session (a command-line token expires by itself)")
    async with state.connections.acquire(viewer.user_id) as conn:
        await identity.end_session(conn, user_id=viewer.user_id, session_id=session_id)
    return _json(200, {"signedOut": True})


async def invite(request: Request) -> Response:
    state, viewer = app_state(request), request_viewer(request)
    body = await _body(request)
    user_id, ttl = body.get("userId"), body.get("ttlSeconds", identity.INVITATION_TTL_S)
    if not isinstance(user_id, str) or not isinstance(ttl, int) or isinstance(ttl, bool):
        raise BadUserInput("userId must be a string and ttlSeconds a whole number")
    async with state.connections.acquire(viewer.user_id) as conn:
        issued = await identity.issue_invitation(
            conn, policy=await state.policy_for(viewer), issuer=viewer, user_id=user_id, ttl_s=ttl
        )
    return _json(201, {"code": issued.code, "userId": issued.user_id, "expiresAt": issued.expires_at.isoformat()})


async def revoke(request: Request) -> Response:
    state, viewer = app_state(request), request_viewer(request)
    body = await _body(request)
    user_id = body.get("userId")
    if not isinstance(user_id, str):
        raise BadUserInput("userId must be a string")
    async with state.connections.acquire(viewer.user_id) as conn:
        count = await identity.revoke_sessions(
            conn, policy=await state.policy_for(viewer), revoker=viewer, user_id=user_id
        )
    return _json(200, {"revoked": count})


def _key(issued: identity.IssuedKey) -> Response:
    return _json(
        201,
        {
            "key": issued.key,
            "prefix": issued.prefix,
            "userId": issued.user_id,
            "name": issued.name,
            "expiresAt": issued.expires_at.isoformat(),
        },
    )


async def create_key(request: Request) -> Response:
    state, viewer = app_state(request), request_viewer(request)
    body = await _body(request)
    user_id, name, ttl = body.get("userId"), body.get("name"), body.get("ttlDays", identity.KEY_TTL_DAYS)
    only = body.get("registeredOnly", False)
    if not isinstance(user_id, str) or not isinstance(name, str) or not isinstance(ttl, int) or isinstance(ttl, bool):
        raise BadUserInput("userId and name must be strings and ttlDays a whole number")
    if not isinstance(only, bool):
        raise BadUserInput("registeredOnly must be true or false")
    async with state.connections.acquire(viewer.user_id) as conn:
        issued = await identity.create_api_key(
            conn,
            policy=await state.policy_for(viewer),
            issuer=viewer,
            user_id=user_id,
            name=name,
            ttl_days=ttl,
            registered_only=only,
        )
    return _key(issued)


async def rotate_key(request: Request) -> Response:
    state, viewer = app_state(request), request_viewer(request)
    body = await _body(request)
    async with state.connections.acquire(viewer.user_id) as conn:
        issued = await identity.rotate_api_key(
            conn, policy=await state.policy_for(viewer), actor=viewer, prefix=body.get("prefix")
        )
    return _key(issued)


async def revoke_key(request: Request) -> Response:
    state, viewer = app_state(request), request_viewer(request)
    body = await _body(request)
    async with state.connections.acquire(viewer.user_id) as conn:
        await identity.revoke_api_key(
            conn, policy=await state.policy_for(viewer), actor=viewer, prefix=body.get("prefix")
        )
    return _json(200, {"revoked": True})


routes: list[BaseRoute] = [
    Route("/auth/invitation", exchange, methods=["POST"]),
    Route("/auth/refresh", refresh, methods=["POST"]),
    Route("/auth/signout", sign_out, methods=["POST"]),
    Route("/auth/invitations", invite, methods=["POST"]),
    Route("/auth/sessions/revoke", revoke, methods=["POST"]),
    Route("/auth/api-keys", create_key, methods=["POST"]),
    Route("/auth/api-keys/rotate", rotate_key, methods=["POST"]),
    Route("/auth/api-keys/revoke", revoke_key, methods=["POST"]),
]
