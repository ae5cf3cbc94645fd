"""Sign-in without the CLI (issue 18 §1): invitations, and the sessions they open.

An invitation is a one-time code `bgi_<id>_<secret>` for one user, valid INVITATION_TTL_S by
default. Only the SHA-256 of the secret is stored. Who may issue one: whoever could grant or revoke
every role the user holds (resolvers/roles.py's rules: role.grant over each of the user's units,
each role of lower rank than the granting one, the user not outranking the issuer on that unit's
line, never oneself), or the command line (`boothgraph invite`, an administrator). Otherwise an
invitation would hand its issuer a session with roles they could never have granted.

Exchanging it (`POST /auth/invitation`) opens a session: an access token (the JWT of service.md,
with the session's id as `sid`, valid ACCESS_TTL_S) and a refresh token `bgr_<secret>` (stored
hashed, valid REFRESH_TTL_S). Each refresh rotates it; presenting a refresh token already rotated
away ends the session (it was copied). Signing out or revoking sets `sessions.revoked_at`, and
the viewer middleware reads that row with every request of a session token, so every server
process refuses the session at once.

Guessing: a wrong secret for an existing invitation counts against it, and MAX_ATTEMPTS wrong ones
burn it; the HTTP routes also limit attempts per client address (routes/auth.py). Every answer
to a bad code is the same UNAUTHENTICATED. Every step is audited: auth.invite, auth.sign_in,
auth.sign_in_refused, auth.refresh, auth.refresh_reused, auth.sign_out, auth.revoke.

API keys for partner tools: a service account is a user (users.csv) holding roles granted like
anyone's (grantRole's rules). Its keys `bgk_<prefix>_<secret>` are shown once, stored hashed with
the prefix visible, expire (KEY_TTL_DAYS by default), can be rotated (a new key, the old one
stopped) and revoked, note their last use, take a rate-limit bucket of their own, and every audit
entry of a request made with one names it (`apiKey` in detail). Creating, rotating and revoking
need the same power over the account as an invitation: auth.key_create, auth.key_rotate,
auth.key_revoke.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from core.api_keys import KEY_PREFIX, key_digest
from core.auth import make_token
from core.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from core.viewer import Viewer, load_viewer
from policies import PolicyEngine
from resolvers import audit
from resolvers.input_checks import check_text
from resolvers.roles import check_grant_power, check_not_outranked
from resolvers.visibility import visible_cover

INVITATION_TTL_S = 7 * 24 * 3600
ACCESS_TTL_S = 15 * 60
REFRESH_TTL_S = 30 * 24 * 3600
MAX_ATTEMPTS = 5
SYSTEM = "system"  # the command line's name in the audit log (service.md)
BAD_CODE = "The invitation code is not valid"
BAD_REFRESH = "The refresh token is not valid"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    code: str  # shown once: only its hash is kept
    user_id: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SessionTokens:
    access_token: str
    refresh_token: str  # shown once: only its hash is kept
    expires_in: int
    session_id: str
    user_id: str


async def _audit_about(
    conn: asyncpg.Connection, *, about: str | None, actor: str, action: str, records: int = 0, detail: dict[str, object]
) -> None:
    """An auth.* entry about a user, at their first assignment's unit (none for an unknown user)."""
    row = None
    if about:
        row = await conn.fetchrow(
            "select u.id, u.code from assignments a join units u on u.id = a.unit_id where a.user_id = $1 "
            "order by a.id limit 1",
            about,
        )
    await audit.record(
        conn,
        user_id=actor,
        action=action,
        unit_id=row["id"] if row else None,
        unit_code=row["code"] if row else None,
        records=records,
        detail=audit.detail_json(**detail),
    )


async def _check_power_over(conn: asyncpg.Connection, policy: PolicyEngine, issuer: Viewer, user_id: str) -> Viewer:
    """NOT_FOUND unless the user exists and one of their units is visible to the issuer;
    FORBIDDEN unless the issuer could grant or revoke every role the user holds."""
    holder = await load_viewer(conn, user_id)
    visible = visible_cover(issuer)
    if holder is None or not any(visible.covers(a.unit) for a in holder.assignments):
        raise NotFound("No such user")
    if user_id == issuer.user_id:
        raise Forbidden("You may not invite yourself or end your own sessions this way")
    for assignment in holder.assignments:
        if not visible.covers(assignment.unit):
            raise Forbidden("This user holds roles outside your area")
        check_grant_power(policy, issuer, assignment.unit, assignment.role)
        await check_not_outranked(conn, policy, issuer, user_id, assignment.unit, assignment.role)
    return holder


async def issue_invitation(
    conn: asyncpg.Connection,
    *,
    policy: PolicyEngine | None,
    issuer: Viewer | None,
    user_id: str,
    ttl_s: int = INVITATION_TTL_S,
) -> IssuedInvitation:
    """A new invitation for `user_id` (issuer None: the command line, no checks but that the
    user exists and holds a role), audited as auth.invite in the same transaction."""
    check_text(user_id, "userId", limit=200, required=True)
    if not 60 <= ttl_s <= 30 * 24 * 3600:
        raise BadUserInput("An invitation lives between a minute and 30 days", argument="ttl")
    async with conn.transaction():
        if issuer is not None:
            assert policy is not None
            await _check_power_over(conn, policy, issuer, user_id)
        elif not await conn.fetchval("select exists (select from users where id = $1)", user_id):
            raise NotFound("No such user")
        if not await conn.fetchval("select exists (select from assignments where user_id = $1)", user_id):
            raise BadUserInput("This user holds no role to sign in with", argument="userId")
        secret = secrets.token_urlsafe(24)
        row = await conn.fetchrow(
            """insert into invitations (user_id, secret_hash, issued_by, expires_at)
               values ($1, $2, $3, now() + make_interval(secs => $4)) returning id, expires_at""",
            user_id,
            digest(secret),
            issuer.user_id if issuer else SYSTEM,
            float(ttl_s),
        )
        await _audit_about(
            conn,
            about=user_id,
            actor=issuer.user_id if issuer else SYSTEM,
            action="auth.invite",
            detail=dict(user=user_id, invitation=row["id"], expires_at=row["expires_at"].isoformat()),
        )
    return IssuedInvitation(f"bgi_{row['id']}_{secret}", user_id, row["expires_at"])


def _parse_code(code: object) -> tuple[int, str] | None:
    if not isinstance(code, str) or len(code) > 200:
        return None
    prefix, _, rest = code.partition("_")
    ident, _, secret = rest.partition("_")
    if prefix != "bgi" or not ident.isdigit() or len(ident) > 18 or not secret:
        return None
    return int(ident), secret


async def _refused(
    conn: asyncpg.Connection, *, user_id: str | None, reason: str, address: str, **detail: object
) -> None:
    """An attempt that failed, in a transaction of its own (nothing else was written)."""
    await _audit_about(
        conn,
        about=user_id,
        actor=user_id or "anonymous",
        action="auth.sign_in_refused",
        detail=dict(reason=reason, address=address, **detail),
    )


async def _open_session(
    conn: asyncpg.Connection, *, user_id: str, invitation_id: int | None, jwt_secret: str
) -> SessionTokens:
    session_id = uuid.uuid4()
    refresh = "bgr_" + secrets.token_urlsafe(32)
    await conn.execute(
        """insert into sessions (id, user_id, invitation_id, refresh_hash, expires_at)
           values ($1, $2, $3, $4, now() + make_interval(secs => $5))""",
        session_id,
        user_id,
        invitation_id,
        digest(refresh),
        float(REFRESH_TTL_S),
    )
    access = make_token(user_id, jwt_secret, ttl_s=ACCESS_TTL_S, session_id=str(session_id))
    return SessionTokens(access, refresh, ACCESS_TTL_S, str(session_id), user_id)


async def exchange_invitation(
    conn: asyncpg.Connection, *, code: object, address: str, jwt_secret: str
) -> SessionTokens:
    """The session an invitation opens (once), or UNAUTHENTICATED with one message for every
    kind of bad code; a wrong secret counts against that invitation."""
    parsed = _parse_code(code)
    if parsed is None:
        async with conn.transaction():
            await _refused(conn, user_id=None, reason="malformed", address=address)
        raise Unauthenticated(BAD_CODE)
    ident, secret = parsed
    refusal: tuple[str | None, str] | None = None
    async with conn.transaction():
        row = await conn.fetchrow(
            """select id, user_id, secret_hash, expires_at <= now() as expired, used_at, attempts
               from invitations where id = $1 for update""",
            ident,
        )
        if row is None:
            refusal = (None, "unknown")
        elif not hmac.compare_digest(row["secret_hash"], digest(secret)):
            await conn.execute("update invitations set attempts = attempts + 1 where id = $1", ident)
            refusal = (row["user_id"], "wrong secret")
        elif row["used_at"] is not None:
            refusal = (row["user_id"], "used")
        elif row["expired"]:
            refusal = (row["user_id"], "expired")
        elif row["attempts"] >= MAX_ATTEMPTS:
            refusal = (row["user_id"], "too many attempts")
        if refusal is not None:
            await _refused(conn, user_id=refusal[0], reason=refusal[1], address=address, invitation=ident)
        else:
            assert row is not None
            await conn.execute("update invitations set used_at = now() where id = $1", ident)
            tokens = await _open_session(conn, user_id=row["user_id"], invitation_id=ident, jwt_secret=jwt_secret)
            await _audit_about(
                conn,
                about=row["user_id"],
                actor=row["user_id"],
                action="auth.sign_in",
                detail=dict(invitation=ident, session=tokens.session_id, address=address),
            )
    if refusal is not None:
        raise Unauthenticated(BAD_CODE)
    return tokens


async def refresh_session(
    conn: asyncpg.Connection, *, refresh_token: object, address: str, jwt_secret: str
) -> SessionTokens:
    """A new access token and a new refresh token for a live session; the old refresh token is
    spent. One already spent ends its session (someone else holds a copy)."""
    if not isinstance(refresh_token, str) or not refresh_token.startswith("bgr_") or len(refresh_token) > 200:
        raise Unauthenticated(BAD_REFRESH)
    hashed = digest(refresh_token)
    async with conn.transaction():
        row = await conn.fetchrow(
            """select id, user_id, revoked_at is not null or expires_at <= now() as ended
               from sessions where refresh_hash = $1 for update""",
            hashed,
        )
        if row is None:
            reused = await conn.fetchrow(
                """update sessions set revoked_at = coalesce(revoked_at, now()),
                                       revoked_by = coalesce(revoked_by, 'reuse')
                   where previous_refresh_hash = $1 returning id, user_id""",
                hashed,
            )
            if reused is not None:
                await _audit_about(
                    conn,
                    about=reused["user_id"],
                    actor=reused["user_id"],
                    action="auth.refresh_reused",
                    detail=dict(session=str(reused["id"]), address=address),
                )
        elif not row["ended"]:
            refresh = "bgr_" + secrets.token_urlsafe(32)
            await conn.execute(
                """update sessions set previous_refresh_hash = refresh_hash, refresh_hash = $2, refreshed_at = now()
                   where id = $1""",
                row["id"],
                digest(refresh),
            )
            await _audit_about(
                conn,
                about=row["user_id"],
                actor=row["user_id"],
                action="auth.refresh",
                detail=dict(session=str(row["id"]), address=address),
            )
            access = make_token(row["user_id"], jwt_secret, ttl_s=ACCESS_TTL_S, session_id=str(row["id"]))
            return SessionTokens(access, refresh, ACCESS_TTL_S, str(row["id"]), row["user_id"])
    raise Unauthenticated(BAD_REFRESH)


async def end_session(conn: asyncpg.Connection, *, user_id: str, session_id: str) -> bool:
    """Sign out: the caller's own session ends (every node refuses its tokens from now on)."""
    async with conn.transaction():
        ended = await conn.fetchval(
            """update sessions set revoked_at = now(), revoked_by = $2
               where id = $1::uuid and user_id = $2 and revoked_at is null returning true""",
            session_id,
            user_id,
        )
        if ended:
            await _audit_about(
                conn, about=user_id, actor=user_id, action="auth.sign_out", detail=dict(session=session_id)
            )
    return bool(ended)


async def revoke_sessions(
    conn: asyncpg.Connection, *, policy: PolicyEngine | None, revoker: Viewer | None, user_id: str
) -> int:
    """End every live session of `user_id` (revoker None: the command line); the same power
    as issuing the user an invitation. Unused invitations of the user are spent too."""
    check_text(user_id, "userId", limit=200, required=True)
    async with conn.transaction():
        if revoker is not None:
            assert policy is not None
            await _check_power_over(conn, policy, revoker, user_id)
        elif not await conn.fetchval("select exists (select from users where id = $1)", user_id):
            raise NotFound("No such user")
        by = revoker.user_id if revoker else SYSTEM
        count = await conn.fetchval(
            """with ended as (update sessions set revoked_at = now(), revoked_by = $2
                              where user_id = $1 and revoked_at is null returning 1)
               select count(*) from ended""",
            user_id,
            by,
        )
        await conn.execute(
            "update invitations set used_at = now() where user_id = $1 and used_at is null and expires_at > now()",
            user_id,
        )
        await _audit_about(
            conn,
            about=user_id,
            actor=by,
            action="auth.revoke",
            records=int(count),
            detail=dict(user=user_id, sessions=int(count)),
        )
    return int(count)


# ------------------------------------------------------------------------------ API keys ---
KEY_TTL_DAYS = 90
MAX_KEY_TTL_DAYS = 366


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: str  # shown once: only its hash is kept
    prefix: str
    user_id: str
    name: str
    expires_at: dt.datetime


async def _new_key(
    conn: asyncpg.Connection, *, user_id: str, name: str, created_by: str, ttl_days: int, registered_only: bool = False
) -> tuple[int, IssuedKey]:
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        """insert into api_keys (prefix, secret_hash, user_id, name, created_by, expires_at, registered_only)
           values ($1, $2, $3, $4, $5, now() + make_interval(days => $6), $7) returning id, expires_at""",
        prefix,
        key_digest(secret),
        user_id,
        name,
        created_by,
        ttl_days,
        registered_only,
    )
    return row["id"], IssuedKey(f"{KEY_PREFIX}{prefix}_{secret}", prefix, user_id, name, row["expires_at"])


async def _key_audit(conn: asyncpg.Connection, *, actor: str, action: str, user_id: str, **detail: object) -> None:
    await _audit_about(conn, about=user_id, actor=actor, action=action, detail=dict(user=user_id, **detail))


async def create_api_key(
    conn: asyncpg.Connection,
    *,
    policy: PolicyEngine | None,
    issuer: Viewer | None,
    user_id: str,
    name: str,
    ttl_days: int = KEY_TTL_DAYS,
    registered_only: bool = False,
) -> IssuedKey:
    """A key for a service account (any user that holds a role), under the invitation's rule:
    only someone who could grant or revoke every role the account holds (issuer None: the
    command line)."""
    check_text(user_id, "userId", limit=200, required=True)
    check_text(name, "name", limit=100, required=True)
    if not 1 <= ttl_days <= MAX_KEY_TTL_DAYS:
        raise BadUserInput(f"A key lives between 1 and {MAX_KEY_TTL_DAYS} days", argument="ttlDays")
    async with conn.transaction():
        if issuer is not None:
            assert policy is not None
            await _check_power_over(conn, policy, issuer, user_id)
        elif not await conn.fetchval("select exists (select from users where id = $1)", user_id):
            raise NotFound("No such user")
        if not await conn.fetchval("select exists (select from assignments where user_id = $1)", user_id):
            raise BadUserInput("This account holds no role for a key to act with", argument="userId")
        _, issued = await _new_key(
            conn,
            user_id=user_id,
            name=name,
            created_by=issuer.user_id if issuer else SYSTEM,
            ttl_days=ttl_days,
            registered_only=registered_only,
        )
        await _key_audit(
            conn,
            actor=issuer.user_id if issuer else SYSTEM,
            action="auth.key_create",
            user_id=user_id,
            key=issued.prefix,
            name=name,
            expires_at=issued.expires_at.isoformat(),
            registered_only=registered_only,
        )
    return issued


async def _live_key(
    conn: asyncpg.Connection, policy: PolicyEngine | None, actor: Viewer | None, prefix: object
) -> asyncpg.Record:
    if not isinstance(prefix, str) or len(prefix) != 8:
        raise NotFound("No such key")
    row = await conn.fetchrow(
        """select id, user_id, name, expires_at, registered_only, extract(epoch from expires_at - created_at) as ttl_s
           from api_keys where prefix = $1 and revoked_at is null for update""",
        prefix,
    )
    if row is None:
        raise NotFound("No such key")
    if actor is not None:
        assert policy is not None
        await _check_power_over(conn, policy, actor, row["user_id"])
    return row


async def rotate_api_key(
    conn: asyncpg.Connection, *, policy: PolicyEngine | None, actor: Viewer | None, prefix: object
) -> IssuedKey:
    """A new key for the same account, name and lifetime; the old one stops at once."""
    async with conn.transaction():
        old = await _live_key(conn, policy, actor, prefix)
        ttl_days = max(1, min(MAX_KEY_TTL_DAYS, round(float(old["ttl_s"]) / 86400)))
        by = actor.user_id if actor else SYSTEM
        new_id, issued = await _new_key(
            conn,
            user_id=old["user_id"],
            name=old["name"],
            created_by=by,
            ttl_days=ttl_days,
            registered_only=old["registered_only"],
        )
        await conn.execute("update api_keys set revoked_at = now(), replaced_by = $2 where id = $1", old["id"], new_id)
        await _key_audit(
            conn, actor=by, action="auth.key_rotate", user_id=old["user_id"], key=prefix, new_key=issued.prefix
        )
    return issued


async def revoke_api_key(
    conn: asyncpg.Connection, *, policy: PolicyEngine | None, actor: Viewer | None, prefix: object
) -> None:
    async with conn.transaction():
        old = await _live_key(conn, policy, actor, prefix)
        await conn.execute("update api_keys set revoked_at = now() where id = $1", old["id"])
        by = actor.user_id if actor else SYSTEM
        await _key_audit(conn, actor=by, action="auth.key_revoke", user_id=old["user_id"], key=prefix)
