"""Whether a signed-in session still holds (resolvers/identity.py opens and ends them): read from
the database with every request of a session's token, so that signing out or a revocation takes
effect on every server process at once."""

from __future__ import annotations

import uuid

import asyncpg


async def session_is_live(conn: asyncpg.Connection | asyncpg.Pool, *, session_id: str, user_id: str) -> bool:
    """Not revoked, not past its end, and the token's user's."""
    try:
        ident = uuid.UUID(session_id)
    except ValueError:
        return False
    return bool(
        await conn.fetchval(
            "select revoked_at is null and expires_at > now() from sessions where id = $1 and user_id = $2",
            ident,
            user_id,
        )
    )
