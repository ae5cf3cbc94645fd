"""Bearer JWT (HS256, claims sub and exp) to a user id, and tokens for the CLI and tests."""

from __future__ import annotations

import time

import jwt

from core.errors import Unauthenticated

ALGORITHM = "HS256"


def make_token(user_id: str, secret: str, *, ttl_s: int = 3600) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl_s}, secret, algorithm=ALGORITHM)


def user_id_from_token(token: str, secret: str) -> str:
    """The `sub` of a valid token; anything else (alg none, bad signature, expired, no exp or
    sub) raises Unauthenticated with a message that says what but reveals nothing else."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The access token has expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated("The access token is not valid") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("The access token is not valid")
    return sub


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Authorization: Bearer <token> is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization: Bearer <token> is required")
    return token.strip()
