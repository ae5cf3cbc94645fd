"""Helpers of the subscription tests (tests/test_events_*.py): a real uvicorn serving the real app
over a test database, a graphql-transport-ws client on the `websockets` package, and the rows
that make events (campaigns, call lists, calls, elections, turnout marks) written as the
database's owner, so the triggers of migration 0011 announce them as they would any writer's."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.clock import SYSTEM_CLOCK, Clock
from resolvers.cursors import to_global_id
from server import create_app
from tests.serverkit import as_app_role, running_server, settings_for, token
from tests.serverkit import serve_process as serve_node

PROTOCOL = "graphql-transport-ws"
WAIT_S = 15.0  # the longest any test waits for a message it expects (never a measured time)


@dataclass
class Node:
    url: str
    app: Starlette

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def subscribers(self) -> int:
        return int(self.app.state.boothgraph.events.hub.subscriber_count())

    def sockets(self) -> int:
        return len(self.app.state.boothgraph.events.sockets)


@contextlib.asynccontextmanager
async def node(database_url: str, *, roles: dict[str, str] | None = None, clock: Clock | None = None, **overrides: Any):
    """A real uvicorn (in a thread) serving create_app over `database_url` as the app role."""
    roles = roles if roles is not None else await as_app_role(database_url)
    settings = settings_for(**{"database_url": database_url, **roles, **overrides})
    app = create_app(settings, clock=clock or SYSTEM_CLOCK)
    with running_server(app) as url:
        yield Node(url, app)


def serve_process(roles: dict[str, str], tmp: Path, **env: str) -> contextlib.AbstractContextManager[str]:
    """`boothgraph serve` in a process of its own (a second node) as the app role; yields its base URL."""
    return serve_node(
        tmp, DATABASE_URL=roles["database_url"], MIGRATION_DATABASE_URL=roles["migration_database_url"], **env
    )


async def until(check: Callable[[], bool], what: str) -> None:
    """Waits (bounded) for a condition of the server's state, e.g. a subscription registered."""
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


async def until_true(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """`until` for a condition read from the database."""
    deadline = time.monotonic() + WAIT_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


class Client:
    """One graphql-transport-ws connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), WAIT_S))

    async def init(self, payload: dict[str, Any]) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload})
        return await self.recv()

    async def subscribe(self, query: str, **variables: Any) -> str:
        op_id = str(next(self.ids))
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
        return op_id

    async def next(self) -> dict[str, Any]:
        """The next `next` or `error` message (`complete` and `pong` skipped)."""
        while True:
            message = await self.recv()
            if message["type"] in ("next", "error"):
                return message

    async def closed(self) -> tuple[int, str]:
        """Reads until the server closes; (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), WAIT_S)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None, "closed without a close frame"
            return exc.rcvd.code, exc.rcvd.reason


@contextlib.asynccontextmanager
async def client(
    n: Node | str, user: str | None = None, *, payload: dict[str, Any] | None = None
) -> AsyncIterator[Client]:
    """A connection; with `user`, initialised with their token and acknowledged."""
    url = n if isinstance(n, str) else n.ws_url
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=WAIT_S) as ws:  # type: ignore[list-item]
        c = Client(ws)
        if user is not None:
            ack = await c.init(payload or {"Authorization": f"Bearer {token(user)}"})
            assert ack["type"] == "connection_ack", ack
        yield c


# ------------------------------------------------------------------------ rows ---
async def campaign(conn: asyncpg.Connection, unit: str, created_by: str) -> int:
    return int(
        await conn.fetchval(
            """insert into campaigns (name, unit_id, schemes, opens_on, closes_on, created_by)
               select 'events', id, '{}', current_date - 1, current_date + 30, $2 from units where code = $1
               returning id""",
            unit,
            created_by,
        )
    )


async def voters_in(conn: asyncpg.Connection, booth: str, n: int, *, skip: int = 0) -> list[int]:
    rows = await conn.fetch(
        """select v.id from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.contact_consent <> 'DENIED' and v.phone is not null
           order by v.serial_number offset $3 limit $2""",
        booth,
        n,
        skip,
    )
    return [r["id"] for r in rows]


async def assign(conn: asyncpg.Connection, campaign_id: int, voter_id: int, caller: str, by: str) -> int:
    return int(
        await conn.fetchval(
            """insert into call_assignments (campaign_id, voter_id, caller_id, assigned_by)
               values ($1, $2, $3, $4) returning id""",
            campaign_id,
            voter_id,
            caller,
            by,
        )
    )


async def log_call(conn: asyncpg.Connection, assignment_id: int, outcome: str = "REACHED") -> int:
    """A call logged by the assignment's caller (as logCall writes it)."""
    return int(
        await conn.fetchval(
            """insert into call_logs (assignment_id, voter_id, caller_id, outcome, notes)
               select id, voter_id, caller_id, $2, 'events test' from call_assignments where id = $1
               returning id""",
            assignment_id,
            outcome,
        )
    )


async def log_call_over_http(base_url: str, assignment_id: int, caller: str) -> str:
    """logCall through a server's /graphql as the caller; the new call's global id."""
    call = {"assignmentId": to_global_id("CallAssignment", assignment_id), "outcome": "REACHED"}
    async with httpx.AsyncClient(base_url=base_url) as http:
        answer = await http.post(
            "/graphql",
            json={"query": "mutation($i: CallLogInput!) { logCall(input: $i) { id } }", "variables": {"i": call}},
            headers={"Authorization": f"Bearer {token(caller)}"},
        )
    return str(answer.json()["data"]["logCall"]["id"])


async def election(conn: asyncpg.Connection, code: str, units: list[str], poll_date: str = "2029-05-20") -> int:
    election_id = int(
        await conn.fetchval(
            """insert into elections (code, name, model_code_from, counting_on, created_by)
               values ($1, $1, '2029-03-16', '2029-06-04', 'u-000001') returning id""",
            code,
        )
    )
    await conn.execute(
        """insert into election_phases (election_id, unit_id, poll_date)
           select $1, id, $3::date from units where code = any($2::text[])""",
        election_id,
        units,
        dt.date.fromisoformat(poll_date),
    )
    return election_id


async def mark(conn: asyncpg.Connection, election_id: int, voter_ids: list[int]) -> None:
    """Turnout marks in one statement (the rollups' and the events' statement triggers run)."""
    await conn.execute(
        """insert into turnout_marks (election_id, voter_id, booth_id, marked_at, local_hour, caste_category, marked_by)
           select $1, v.id, v.booth_id, now(), 9, v.caste_category, 'u-000016' from voters v
           where v.id = any($2::bigint[])""",
        election_id,
        voter_ids,
    )
