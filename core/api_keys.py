"""API keys of service accounts, on the request path: `Authorization: Bearer bgk_<prefix>_<secret>`.

The auth middleware recognises the shape (no database) and gives the key a rate-limit bucket of
its own (`key:<prefix>`); the viewer middleware then reads the key's user and roles with one
statement that also checks the secret's hash, expiry and revocation, and notes the last use (at most once a
minute, so a busy key does not write on every request). The key's prefix is then the request's
`current_key`, which the audit log adds to every entry written for the request. Issuing, rotating
and revoking: resolvers/identity.py.
"""

from __future__ import annotations

import contextvars
import hashlib

import asyncpg

from core.viewer import Viewer, viewer_of, viewer_sql

KEY_PREFIX = "bgk_"
current_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_key", default=None)

# The key's user and roles in one statement, which also checks the secret's hash, expiry and
# revocation and notes the last use.
KEY_VIEWER_SQL = viewer_sql(
    before="""with k as (
    select id, user_id, registered_only from api_keys
    where prefix = $1 and secret_hash = $2 and revoked_at is null and expires_at > now()
), used as (
    update api_keys set last_used_at = now()
    where id = (select id from k) and (last_used_at is null or last_used_at < now() - interval '1 minute')
)""",
    source="k join users usr on usr.id = k.user_id",
    where="true",
    extra=", k.registered_only",
)


def parse_key(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a token shaped like an API key, else None."""
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    prefix, _, secret = token[len(KEY_PREFIX) :].partition("_")
    if len(prefix) != 8 or not all(c in "0123456789abcdef" for c in prefix) or not secret:
        return None
    return prefix, secret


def key_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def load_key_viewer(conn: asyncpg.Connection, prefix: str, secret: str) -> tuple[Viewer, bool] | None:
    """(the viewer a live key acts as, whether it runs registered operations only), or None
    (unknown, wrong secret, expired or revoked)."""
    rows = await conn.fetch(KEY_VIEWER_SQL, prefix, key_digest(secret))
    viewer = viewer_of(rows)
    return None if viewer is None else (viewer, bool(rows[0]["registered_only"]))
