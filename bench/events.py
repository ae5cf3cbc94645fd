#!/usr/bin/env python3
"""Subscriptions (issue 18 §3, docs/events.md): memory per subscriber and fan-out latency from
commit to delivery, against `boothgraph serve` (one worker) on a database holding a data set.

    .venv/bin/python bench/events.py --database-url URL [--subscribers 1000] [--events 50]
        [--port 8791] [--no-phone]

URL: a database holding a data set (`boothgraph import DIR`; the tiny or small preset is enough:
the cost of an event does not depend on the number of voters). The driver starts `boothgraph
serve` on it (GRAPHIQL=false, a random JWT_SECRET, connection limits out of the way), then:

1. memory: the server's RSS (/proc) before and after opening --subscribers websockets, each with
   one `callLogged` subscription, spread over the officials holding outreach.manage over the
   first mandal (its, its district's and the state's presidents: every one hears the calls
   below, through the filter);
2. fan-out: --events calls of voters of that mandal logged one by one (one transaction each, as
   the database's owner, as logCall writes them) in a campaign of the state; for each, the time from the commit's return
   to the first and to the last of the subscribers' deliveries, read on the client;
   With `phone` in the selection (the default) the officials with voter.read_contact (the mandal
   president: a third of the sockets) see it in clear, so those deliveries wait for their read
   audit (events/read_audit.py); `--no-phone` leaves it out;
3. the server's CPU time (utime + stime from /proc) spent over the events, per event and per
   delivery.

The client (this script) runs all sockets in one asyncio loop on the same 2 cores as the server
and PostgreSQL: "last delivery" includes the client's own time to read N frames. Prints a
markdown report with `uptime`'s load average before and after; a figure means something only
with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from websockets.asyncio.client import connect

BENCH = Path(__file__).resolve().parent
MAIN = BENCH.parent
sys.path.insert(0, str(MAIN))

from core.auth import make_token  # noqa: E402

PROBLEMS: list[dict] = []  # anything a subscriber received that was not an event: shown on failure
CALLS = "subscription { callLogged { call { id outcome } booth phone } }"
CALLS_NO_PHONE = "subscription { callLogged { call { id outcome } booth } }"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1].strip()


async def mandal_and_managers(conn: asyncpg.Connection) -> tuple[int, list[str]]:
    """The first mandal and the officials holding outreach.manage over it (its president, its
    district's president, the state's): every one of them hears a call of a voter there."""
    mandal = await conn.fetchrow("select id, state_id, district_id from units where depth = 3 order by id limit 1")
    assert mandal is not None
    rows = await conn.fetch(
        """select distinct a.user_id from assignments a
           where (a.role = 'STATE_PRESIDENT' and a.unit_id = $1) or (a.role = 'DISTRICT_PRESIDENT' and a.unit_id = $2)
              or (a.role = 'MANDAL_PRESIDENT' and a.unit_id = $3)
           order by 1""",
        mandal["state_id"],
        mandal["district_id"],
        mandal["id"],
    )
    return mandal["id"], [r["user_id"] for r in rows]


async def open_subscriber(
    url: str, token: str, arrivals: dict[int, list[float]], query: str
) -> tuple[object, asyncio.Task]:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))

    async def read() -> None:
        async for frame in ws:
            now = time.perf_counter()
            message = json.loads(frame)
            if message.get("type") == "next" and not message["payload"].get("errors"):
                data = message["payload"].get("data") or {}
                call = (data.get("callLogged") or {}).get("call")
                if call:
                    arrivals.setdefault(-1, []).append(now)
            elif message.get("type") != "pong":
                PROBLEMS.append(message)
        PROBLEMS.append({"closed": ws.close_code, "reason": ws.close_reason})

    return ws, asyncio.create_task(read())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--no-phone", action="store_true", help="leave `phone` out (no read audit)")
    args = parser.parse_args()

    before_load = load_average()
    secret = secrets.token_hex(32)
    conn = await asyncpg.connect(args.database_url)
    mandal, users = await mandal_and_managers(conn)
    assert users, "no presidents over the first mandal in this data set"
    campaign = await conn.fetchval(
        """insert into campaigns (name, unit_id, schemes, opens_on, closes_on, created_by)
           select 'bench events', id, '{}', current_date, current_date + 1, $1 from units where depth = 0
           returning id""",
        users[0],
    )
    voters = [
        r["id"]
        for r in await conn.fetch(
            "select id from voters where mandal_id = $1 order by id limit $2", mandal, args.events
        )
    ]
    caller = users[-1]
    entries = [
        await conn.fetchval(
            """insert into call_assignments (campaign_id, voter_id, caller_id, assigned_by)
               values ($1, $2, $3, $4) returning id""",
            campaign,
            v,
            caller,
            users[0],
        )
        for v in voters
    ]

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "JWT_SECRET": secret,
        "GRAPHIQL": "false",
        "STATS_RELEASE_INTERVAL_S": "0",
        "WS_MAX_CONNECTIONS": str(args.subscribers + 10),
        "WS_MAX_CONNECTIONS_PER_USER": str(args.subscribers),
        "EVENTS_QUEUE_SIZE": str(args.events + 10),
        "DATA_DIR": tempfile.mkdtemp(prefix="bg-events-bench-"),
    }
    server = subprocess.Popen(
        [str(MAIN / ".venv/bin/boothgraph"), "serve", "--port", str(args.port)],
        cwd=MAIN,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "wb"),  # noqa: SIM115
    )
    sockets: list[tuple[object, asyncio.Task]] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{args.port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.2)
        pid = server.pid
        url = f"ws://127.0.0.1:{args.port}/graphql"
        tokens = {u: make_token(u, secret, ttl_s=3600) for u in users}
        await asyncio.sleep(1)
        rss_before = rss_kib(pid)
        arrivals: dict[int, list[float]] = {}
        for i in range(args.subscribers):
            query = CALLS_NO_PHONE if args.no_phone else CALLS
            sockets.append(await open_subscriber(url, tokens[users[i % len(users)]], arrivals, query))

        async def log_and_wait(entry: int, wait_s: float) -> tuple[float, list[float]]:
            arrivals.clear()
            await conn.execute(
                """insert into call_logs (assignment_id, voter_id, caller_id, outcome)
                   select id, voter_id, caller_id, 'REACHED' from call_assignments where id = $1""",
                entry,
            )
            committed = time.perf_counter()
            wait_until = time.monotonic() + wait_s
            while len(arrivals.get(-1, [])) < args.subscribers and time.monotonic() < wait_until:
                await asyncio.sleep(0.001)
            got = sorted(arrivals.get(-1, []))
            if len(got) < args.subscribers:
                raise RuntimeError(
                    f"only {len(got)} of {args.subscribers} deliveries arrived; other messages: {PROBLEMS[:5]}"
                )
            return committed, got

        # Warm-up: a first call that every subscriber hears, so every subscription is registered
        # (a subscribe is served asynchronously) and the first-time costs are paid.
        for attempt in range(10):
            try:
                await log_and_wait(entries[0], 30)
                break
            except RuntimeError:
                if attempt == 9:
                    raise
        rss_after = rss_kib(pid)

        cpu_before = cpu_s(pid)
        firsts, lasts = [], []
        for entry in entries[1:]:
            committed, got = await log_and_wait(entry, 120)
            firsts.append((got[0] - committed) * 1000)
            lasts.append((got[-1] - committed) * 1000)
        measured = len(entries) - 1
        cpu_used = cpu_s(pid) - cpu_before
        after_load = load_average()

        def q(values: list[float], p: float) -> float:
            return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]

        print(
            f"## Events: {args.subscribers} subscribers ({len(users)} officials), {args.events} calls (1 warm-up), "
            f"{'without' if args.no_phone else 'with'} phone\n"
        )
        print(f"- load average before: {before_load}; after: {after_load}")
        print(
            f"- server RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB with the subscribers: "
            f"{(rss_after - rss_before) / args.subscribers:.1f} KiB per subscriber (socket + subscription)"
        )
        print(
            f"- commit to first delivery: median {statistics.median(firsts):.1f} ms, p95 {q(firsts, 95):.1f} ms, "
            f"max {max(firsts):.1f} ms"
        )
        print(
            f"- commit to last of {args.subscribers} deliveries: median {statistics.median(lasts):.1f} ms, "
            f"p95 {q(lasts, 95):.1f} ms, max {max(lasts):.1f} ms"
        )
        print(
            f"- server CPU over the {measured} measured events: {cpu_used:.2f} s = "
            f"{cpu_used / measured * 1000:.1f} ms per event, "
            f"{cpu_used / (measured * args.subscribers) * 1e6:.0f} µs per delivery"
        )
    finally:
        for ws, task in sockets:
            task.cancel()
            await ws.close()  # type: ignore[attr-defined]
        server.terminate()
        server.wait(timeout=30)
        await conn.execute("delete from call_logs where assignment_id = any($1::bigint[])", entries)
        await conn.execute("delete from call_assignments where campaign_id = $1", campaign)
        await conn.execute("delete from campaigns where id = $1", campaign)
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
