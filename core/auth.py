"""Bearer JWT (HS256, claims sub and exp) to a user id, and tokens for the CLI and tests."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict

import jwt

from core.errors import Unauthenticated

ALGORITHM = "HS256"


def make_token(user_id: str, secret: str, *, ttl_s: int = 3600, session_id: str | None = None) -> str:
    """`session_id`: the token belongs to a signed-in session (resolvers/identity.py), which the
    server checks is still live on every request; tokens without one are the CLI's."""
    now = int(time.time())
    claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + ttl_s}
    if session_id is not None:
        claims["sid"] = session_id
        claims["jti"] = secrets.token_hex(8)  # two tokens of one session in the same second still differ
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def user_id_from_token(token: str, secret: str) -> str:
    """The `sub` of a valid token; anything else (alg none, bad signature, expired, no exp or
    sub) raises Unauthenticated with a message that says what but reveals nothing else."""
    return _verified_claims(token, secret)[0]


def verified_claims(token: str, secret: str) -> tuple[str, int, str | None]:
    """(sub, exp, sid) of a valid token (a websocket needs `exp` for its closing timer)."""
    return _verified_claims(token, secret)


def _verified_claims(token: str, secret: str) -> tuple[str, int, str | None]:
    """(sub, exp, sid) of a valid token."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The access token has expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated("The access token is not valid") from None
    sub = claims.get("sub")
    # A NUL cannot be a users.csv id (PostgreSQL's text refuses it): no user, not a 500.
    if not isinstance(sub, str) or not sub or "\x00" in sub:
        raise Unauthenticated("The access token is not valid")
    sid = claims.get("sid")
    if sid is not None and not isinstance(sid, str):
        raise Unauthenticated("The access token is not valid")
    return sub, int(claims["exp"]), sid  # PyJWT has checked that exp is an integer


class TokenVerifier:
    """`user_id_from_token` with a bounded memo of tokens already verified.

    A client sends the same token with every request; checking its HMAC and decoding its JSON
    again each time is most of the cost of authentication. The memo holds only tokens that
    passed, keyed by the whole token text (so by its signature too), with their `sub` and `exp`:
    a hit still refuses an expired token, exactly as PyJWT would (`exp <= now`)."""

    MAX_TOKEN_CHARS = 2048  # longer texts are verified every time, never held

    def __init__(self, secret: str, *, maxsize: int = 4096) -> None:
        self.secret = secret
        self.maxsize = maxsize
        self._verified: OrderedDict[str, tuple[str, int, str | None]] = OrderedDict()

    def user_id(self, token: str) -> str:
        return self.identity(token)[0]

    def identity(self, token: str) -> tuple[str, str | None]:
        """(user id, session id or None) of a valid token."""
        found = self._verified.get(token)
        if found is not None:
            sub, exp, sid = found
            if exp > time.time():
                self._verified.move_to_end(token)
                return sub, sid
            del self._verified[token]
            raise Unauthenticated("The access token has expired")
        sub, exp, sid = _verified_claims(token, self.secret)
        if len(token) > self.MAX_TOKEN_CHARS:
            return sub, sid
        self._verified[token] = (sub, exp, sid)
        if len(self._verified) > self.maxsize:
            self._verified.popitem(last=False)
        return sub, sid


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Authorization: Bearer <token> is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization: Bearer <token> is required")
    return token.strip()
