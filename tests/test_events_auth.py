"""Subscriptions' connections (docs/events.md) against a real uvicorn: connection_init
authenticates with the HTTP token rules (4401 otherwise), connection limits close with 4429, an
expiring token, an ended session and a revoked role close the socket (4401 / 4403), and the HTTP
side (GraphiQL on GET /graphql, POST) is as before."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.auth import make_token
from tests.dataset import load_folder
from tests.eventskit import Node, client, node, until
from tests.serverkit import SECRET, bearer, token
from tests.writes_support import CALLER_LKO_M01, DISTRICT_PRESIDENT_LKO

CALLS = "subscription { callLogged { call { id } } }"


@pytest.fixture
async def served(database_url: str, conn: asyncpg.Connection, tiny_dataset: Path):
    await load_folder(conn, tiny_dataset)
    async with node(database_url, ws_max_connections_per_user=2, ws_max_connections=3) as n:
        yield n


async def refused(n: Node, payload: dict) -> tuple[int, str]:
    async with client(n) as c:
        await c.send({"type": "connection_init", "payload": payload})
        return await c.closed()


async def test_connection_init_authenticates_like_http(served: Node) -> None:
    assert (await refused(served, {}))[0] == 4401
    assert (await refused(served, {"Authorization": "Bearer nonsense"})) == (4401, "The access token is not valid")
    assert (await refused(served, {"token": make_token(DISTRICT_PRESIDENT_LKO, "another-secret-0123456789")}))[
        0
    ] == 4401
    expired = make_token(DISTRICT_PRESIDENT_LKO, SECRET, ttl_s=-10)
    assert await refused(served, {"Authorization": f"Bearer {expired}"}) == (4401, "The access token has expired")
    assert await refused(served, {"token": token("u-999999")}) == (4401, "The token's user does not exist")
    assert (await refused(served, {"token": "bgk_0123abcd_wrong"}))[0] == 4401
    # A subscribe before connection_init: strawberry's own 4401.
    async with client(served) as c:
        await c.subscribe(CALLS)
        assert (await c.closed())[0] == 4401
    # Both spellings work; `token` too.
    for payload in ({"Authorization": f"Bearer {token(CALLER_LKO_M01)}"}, {"token": token(CALLER_LKO_M01)}):
        async with client(served, CALLER_LKO_M01, payload=payload):
            pass


async def test_connections_are_limited_per_user_and_per_process(served: Node) -> None:
    async with client(served, CALLER_LKO_M01), client(served, CALLER_LKO_M01):
        assert await refused(served, {"token": token(CALLER_LKO_M01)}) == (
            4429,
            "At most 2 subscription connections per user",
        )
        async with client(served, DISTRICT_PRESIDENT_LKO):
            assert (await refused(served, {"token": token(DISTRICT_PRESIDENT_LKO)}))[0] == 4429  # 3 in the process
    await until(lambda: served.sockets() == 0, "the sockets to be let go")
    async with client(served, CALLER_LKO_M01):  # freed when they closed
        pass


async def test_an_expiring_token_closes_its_socket(served: Node) -> None:
    short = make_token(CALLER_LKO_M01, SECRET, ttl_s=2)
    async with client(served, CALLER_LKO_M01, payload={"token": short}) as c:
        await c.subscribe(CALLS)
        assert await c.closed() == (4401, "The access token has expired")


async def test_a_revoked_role_closes_and_an_added_one_does_not(served: Node, conn: asyncpg.Connection) -> None:
    async with client(served, CALLER_LKO_M01) as c:
        await c.subscribe(CALLS)
        await until(lambda: served.subscribers() == 1, "the subscription")
        await conn.execute(
            "insert into assignments (user_id, role, unit_id) select $1, 'CALLER', id from units where code = $2",
            CALLER_LKO_M01,
            "UP-AWD-AYD",
        )
        # Still open: a ping is answered after the change was handled.
        await c.send({"type": "ping"})
        assert (await c.recv())["type"] == "pong"
        await conn.execute(
            "delete from assignments where user_id = $1 and unit_id = (select id from units where code = $2)",
            CALLER_LKO_M01,
            "UP-AWD-LKO-M01",
        )
        assert await c.closed() == (4403, "A role of this connection was revoked")


async def test_an_ended_session_closes_its_socket(served: Node, conn: asyncpg.Connection) -> None:
    session_id = uuid.uuid4()
    await conn.execute(
        "insert into sessions (id, user_id, refresh_hash, expires_at) values ($1, $2, $3, $4)",
        session_id,
        DISTRICT_PRESIDENT_LKO,
        hashlib.sha256(session_id.bytes).digest(),
        dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    session_token = make_token(DISTRICT_PRESIDENT_LKO, SECRET, session_id=str(session_id))
    async with client(served, DISTRICT_PRESIDENT_LKO, payload={"token": session_token}) as c:
        await conn.execute("update sessions set revoked_at = now() where id = $1", session_id)
        assert await c.closed() == (4401, "The session has ended; sign in again")
    # And a session already ended is refused at connection_init.
    assert await refused(served, {"token": session_token}) == (4401, "The session has ended; sign in again")


async def test_http_is_unaffected(served: Node) -> None:
    async with httpx.AsyncClient(base_url=served.url) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        answer = await http.post("/graphql", json={"query": "{ me { id } }"}, headers=bearer(CALLER_LKO_M01))
        assert answer.json() == {"data": {"me": {"id": CALLER_LKO_M01}}}
        # A subscription over POST is refused before it runs (BAD_REQUEST).
        sub = await http.post("/graphql", json={"query": CALLS}, headers=bearer(CALLER_LKO_M01))
        assert sub.status_code == 200 and "data" not in sub.json()
        assert [e["extensions"]["code"] for e in sub.json()["errors"]] == ["BAD_REQUEST"]


async def test_an_api_key_connects_and_its_revocation_closes(served: Node, conn: asyncpg.Connection) -> None:
    prefix, secret = "0123abcd", "s3cret-of-the-key"
    await conn.execute(
        """insert into api_keys (prefix, secret_hash, user_id, name, created_by, expires_at)
           values ($1, $2, $3, 'partner tool', 'u-000001', now() + interval '1 day')""",
        prefix,
        hashlib.sha256(secret.encode()).digest(),
        DISTRICT_PRESIDENT_LKO,
    )
    key = f"bgk_{prefix}_{secret}"
    assert (await refused(served, {"token": f"bgk_{prefix}_wrong"}))[0] == 4401
    async with client(served, DISTRICT_PRESIDENT_LKO, payload={"Authorization": f"Bearer {key}"}) as c:
        await c.subscribe(CALLS)
        await until(lambda: served.subscribers() == 1, "the subscription")
        await conn.execute("update api_keys set revoked_at = now() where prefix = $1", prefix)
        assert await c.closed() == (4401, "The API key is not valid")
