"""Sign-in without the CLI (issue 18 §1): invitations exchanged for access and refresh tokens,
refresh rotation, sign-out and revocation on every node, guessing limits, the issuing rules, the
audit trail, and nothing secret stored in clear. Real app, real database (two apps over one
database stand for two nodes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg
import httpx

from tests.dataset import load_folder
from tests.serverkit import bearer, client_for
from tests.test_cli import env_for, run
from tests.writes_support import (
    CALLER_AYD,
    CALLER_LKO,
    DISTRICT_PRESIDENT_AYD,
    DISTRICT_PRESIDENT_LKO,
    STATE_PRESIDENT,
)

ME = {"query": "{ me { id } }"}


async def _load(database_url: str, folder: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, folder)
    finally:
        await conn.close()


async def _invite(client: httpx.AsyncClient, issuer: str, user_id: str, **extra: object) -> httpx.Response:
    return await client.post("/auth/invitations", json={"userId": user_id, **extra}, headers=bearer(issuer))


def _code(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


async def _me(client: httpx.AsyncClient, access: str) -> httpx.Response:
    return await client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {access}"})


async def _audit(database_url: str) -> list[tuple[str, str, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select user_id, action, coalesce(detail, '') from audit_log where action like 'auth.%'"
        )
        return [(r[0], r[1], r[2]) for r in rows]
    finally:
        await conn.close()


async def test_sign_in_refresh_and_sign_out_on_every_node(database_url: str, tiny_dataset: Path) -> None:
    await _load(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False) as node_a, client_for(database_url, seeded=False) as node_b:
        issued = await _invite(node_a, DISTRICT_PRESIDENT_LKO, CALLER_LKO)
        code = _code(issued)
        assert issued.json()["userId"] == CALLER_LKO and code.startswith("bgi_")

        signed_in = await node_a.post("/auth/invitation", json={"code": code})
        assert signed_in.status_code == 200, signed_in.text
        tokens = signed_in.json()
        assert (tokens["tokenType"], tokens["expiresIn"], tokens["userId"]) == ("Bearer", 900, CALLER_LKO)
        assert signed_in.headers["cache-control"] == "no-store"
        for node in (node_a, node_b):
            assert (await _me(node, tokens["accessToken"])).json() == {"data": {"me": {"id": CALLER_LKO}}}

        # One time only, with the same answer as any bad code.
        again = await node_b.post("/auth/invitation", json={"code": code})
        assert again.status_code == 401
        assert again.json() == {
            "errors": [{"message": "The invitation code is not valid", "extensions": {"code": "UNAUTHENTICATED"}}]
        }

        # Refresh rotates: a new refresh token, the old one spent.
        rotated = await node_b.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
        assert rotated.status_code == 200, rotated.text
        fresh = rotated.json()
        assert fresh["refreshToken"] != tokens["refreshToken"] and fresh["accessToken"] != tokens["accessToken"]
        assert (await _me(node_a, fresh["accessToken"])).status_code == 200
        # The spent one again: someone holds a copy, so the session ends for both holders.
        replayed = await node_a.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
        assert replayed.status_code == 401
        for node in (node_a, node_b):
            ended = await _me(node, fresh["accessToken"])
            assert ended.status_code == 401 and ended.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await node_a.post("/auth/refresh", json={"refreshToken": fresh["refreshToken"]})).status_code == 401

        # A new session, then sign-out on one node ends it on the other at its next request.
        second = (
            await node_a.post(
                "/auth/invitation", json={"code": _code(await _invite(node_a, DISTRICT_PRESIDENT_LKO, CALLER_LKO))}
            )
        ).json()
        assert (await _me(node_b, second["accessToken"])).status_code == 200
        out = await node_a.post("/auth/signout", headers={"Authorization": f"Bearer {second['accessToken']}"})
        assert out.json() == {"signedOut": True}
        assert (await _me(node_b, second["accessToken"])).status_code == 401
        assert (await node_b.post("/auth/refresh", json={"refreshToken": second["refreshToken"]})).status_code == 401
        # A command-line token belongs to no session.
        cli_out = await node_a.post("/auth/signout", headers=bearer(CALLER_LKO))
        assert cli_out.status_code == 400 and cli_out.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    # Stored hashed: neither the code's secret nor a refresh token is in the database.
    conn = await asyncpg.connect(database_url)
    try:
        secret = code.split("_", 2)[2]
        stored = await conn.fetchval("select secret_hash from invitations where id = $1", int(code.split("_")[1]))
        assert stored == hashlib.sha256(secret.encode()).digest()
        dump = await conn.fetchval(
            "select string_agg(t::text, ' ') from (select * from invitations union all select null, null, null, "
            "null, null, null, null, null) t"
        )
        sessions = await conn.fetchval("select string_agg(s::text, ' ') from sessions s")
        for text in (secret, tokens["refreshToken"], fresh["refreshToken"], second["refreshToken"]):
            assert text not in (dump or "") and text not in (sessions or "")
        assert (
            await conn.fetchval("select count(*) from sessions where user_id = $1 and revoked_at is null", CALLER_LKO)
            == 0
        )
    finally:
        await conn.close()

    actions = [(user, action) for user, action, _ in await _audit(database_url)]
    assert actions == [
        (DISTRICT_PRESIDENT_LKO, "auth.invite"),
        (CALLER_LKO, "auth.sign_in"),
        (CALLER_LKO, "auth.sign_in_refused"),
        (CALLER_LKO, "auth.refresh"),
        (CALLER_LKO, "auth.refresh_reused"),
        (DISTRICT_PRESIDENT_LKO, "auth.invite"),
        (CALLER_LKO, "auth.sign_in"),
        (CALLER_LKO, "auth.sign_out"),
    ]


async def test_who_may_invite(database_url: str, tiny_dataset: Path) -> None:
    await _load(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False) as client:

        async def code_of(issuer: str, user_id: str) -> tuple[int, str]:
            r = await _invite(client, issuer, user_id)
            return r.status_code, r.json()["errors"][0]["extensions"]["code"] if r.status_code != 201 else "OK"

        assert await code_of(DISTRICT_PRESIDENT_LKO, CALLER_LKO) == (201, "OK")
        # Not visible: another district, a state office above; unknown users alike.
        assert await code_of(DISTRICT_PRESIDENT_LKO, CALLER_AYD) == (404, "NOT_FOUND")
        assert await code_of(DISTRICT_PRESIDENT_LKO, "u-nobody") == (404, "NOT_FOUND")
        assert await code_of(DISTRICT_PRESIDENT_LKO, STATE_PRESIDENT) == (404, "NOT_FOUND")
        # Visible but not below the issuer: no invitation into a role one could not grant.
        assert await code_of(CALLER_LKO, DISTRICT_PRESIDENT_LKO) == (403, "FORBIDDEN")
        assert await code_of(DISTRICT_PRESIDENT_LKO, DISTRICT_PRESIDENT_LKO) == (403, "FORBIDDEN")
        assert await code_of(STATE_PRESIDENT, DISTRICT_PRESIDENT_AYD) == (201, "OK")
        bad_ttl = await _invite(client, DISTRICT_PRESIDENT_LKO, CALLER_LKO, ttlSeconds=5)
        assert bad_ttl.status_code == 400 and bad_ttl.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert (await client.post("/auth/invitations", json={"userId": CALLER_LKO})).status_code == 401


async def test_guesses_burn_the_code_and_are_limited_per_address(database_url: str, tiny_dataset: Path) -> None:
    await _load(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False) as client:
        code = _code(await _invite(client, DISTRICT_PRESIDENT_LKO, CALLER_LKO))
        prefix = code.rsplit("_", 1)[0]
        for attempt in range(5):
            wrong = await client.post("/auth/invitation", json={"code": f"{prefix}_guess{attempt}"})
            assert wrong.status_code == 401
        burned = await client.post("/auth/invitation", json={"code": code})
        assert burned.status_code == 401  # five wrong secrets burned it, the right one comes too late
        for junk in ({"code": "nonsense"}, {"code": 7}, {}, {"code": "bgi_99999_x"}):
            assert (await client.post("/auth/invitation", json=junk)).status_code == 401
        limited = await client.post("/auth/invitation", json={"code": code})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("update invitations set expires_at = now() - interval '1 second'")
    finally:
        await conn.close()
    async with client_for(database_url, seeded=False) as client:
        fresh = _code(await _invite(client, DISTRICT_PRESIDENT_LKO, CALLER_LKO))
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("update invitations set expires_at = now() - interval '1 second'")
        finally:
            await conn.close()
        expired = await client.post("/auth/invitation", json={"code": fresh})
        assert expired.status_code == 401
    reasons = [d for _, action, d in await _audit(database_url) if action == "auth.sign_in_refused"]
    assert sum('"reason":"wrong secret"' in d for d in reasons) == 5
    assert sum('"reason":"too many attempts"' in d for d in reasons) == 1
    assert sum('"reason":"expired"' in d for d in reasons) == 1


async def test_revocation_ends_sessions_everywhere(database_url: str, tiny_dataset: Path, tmp_path: Path) -> None:
    await _load(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False) as node_a, client_for(database_url, seeded=False) as node_b:
        first = (
            await node_a.post(
                "/auth/invitation", json={"code": _code(await _invite(node_a, DISTRICT_PRESIDENT_LKO, CALLER_LKO))}
            )
        ).json()
        second = (
            await node_b.post(
                "/auth/invitation", json={"code": _code(await _invite(node_b, DISTRICT_PRESIDENT_LKO, CALLER_LKO))}
            )
        ).json()
        assert (
            await node_a.post("/auth/sessions/revoke", json={"userId": CALLER_LKO}, headers=bearer(CALLER_LKO))
        ).status_code == 403
        revoked = await node_a.post(
            "/auth/sessions/revoke", json={"userId": CALLER_LKO}, headers=bearer(DISTRICT_PRESIDENT_LKO)
        )
        assert revoked.json() == {"revoked": 2}
        for node in (node_a, node_b):
            for tokens in (first, second):
                assert (await _me(node, tokens["accessToken"])).status_code == 401

        # The command line: an invitation, and a revocation by `system`.
        env = env_for(database_url)
        printed = run(["invite", CALLER_LKO, "--ttl", "600"], env, tmp_path)
        assert printed.returncode == 0, printed.stderr
        code = printed.stdout.strip()
        assert code.startswith("bgi_") and "valid until" in printed.stderr
        third = (await node_b.post("/auth/invitation", json={"code": code})).json()
        assert (await _me(node_a, third["accessToken"])).status_code == 200
        ended = run(["sessions", "revoke", CALLER_LKO], env, tmp_path)
        assert ended.returncode == 0 and ended.stdout.strip() == f"ended 1 session(s) of {CALLER_LKO}"
        assert (await _me(node_a, third["accessToken"])).status_code == 401
        nobody = run(["invite", "u-nobody"], env, tmp_path)
        assert nobody.returncode == 1 and "No such user" in nobody.stderr
