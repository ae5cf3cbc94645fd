#!/usr/bin/env python3
"""CPU per markVoted batch, server and PostgreSQL apart (issue 16): what predicts marking capacity
on a quiet machine better than throughput on a loaded one.

    .venv/bin/python bench/turnout_cpu.py --database-url URL --data DIR [--requests 600] [--batch 20]
        [--port 8792] [--py-spy FILE]

URL holds DIR's data set (`boothgraph import DIR`). Starts `boothgraph serve --workers 1` on it
(bench/turnout_load.py's MarkingServer: poll hours widened to the whole day), creates a `BENCH-…`
election over the state polling today, then sends --requests markVoted batches of --batch random
serials of random booths, one after another on one keep-alive connection (no queueing: each
request's CPU is its own). Measures the worker's CPU time (psutil) and that of every PostgreSQL
backend of URL's database (/proc, via pg_stat_activity's pids, plus backends that appeared during
the run), before and after; divides by requests. Also runs the batch's SQL alone (the same
`resolvers.turnout.mark_voted` call over one asyncpg connection) to split PostgreSQL's share into
the marking statement and the rest of a request. With --py-spy, samples the worker for the run
(`py-spy record --format raw`) and prints the heaviest frames. Removes the bench election after.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import psutil

BENCH = Path(__file__).resolve().parent
MAIN = BENCH.parent
sys.path.insert(0, str(MAIN))
sys.path.insert(0, str(BENCH))

from turnout_load import (  # noqa: E402
    MARK,
    Connection,
    MarkingServer,
    create_election,
    read_data,
    remove_election,
    request,
)

from core.auth import make_token  # noqa: E402
from core.clock import SYSTEM_CLOCK  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.viewer import load_viewer  # noqa: E402
from policies import PolicyEngine  # noqa: E402
from resolvers import turnout  # noqa: E402


def cpu_s(pids: set[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


async def backends(url: str) -> set[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
        )
        return {r["pid"] for r in rows}
    finally:
        await conn.close()


def batches(rng: random.Random, presidents: list[tuple[str, str]], voters: dict[str, int], size: int, n: int):
    for _ in range(n):
        user, booth = rng.choice(presidents)
        yield user, booth, rng.sample(range(1, voters[booth] + 1), min(voters[booth], size))


async def http_run(args: argparse.Namespace, server: MarkingServer, jobs: list, tokens: dict) -> dict[str, float]:
    conn = Connection(args.port)
    for user, booth, serials in jobs[:50]:  # warm-up: plans, caches, the pool
        await conn.send(request(args.port, tokens[user], MARK, {"b": booth, "s": serials}))
    worker = {p.pid for p in server.workers()} or {server.proc.pid}  # one worker: serve runs it in-process
    before_pg = await backends(args.database_url)
    w0, p0, t0 = cpu_s(worker), cpu_s(before_pg), time.perf_counter()
    spy = None
    if args.py_spy:
        spy = subprocess.Popen(
            [str(MAIN / ".venv" / "bin" / "py-spy"), "record", "--format", "raw", "-o", args.py_spy, "-r", "200",
             "-p", str(next(iter(worker)))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
    marked = 0
    for user, booth, serials in jobs[50:]:
        body = await conn.send(request(args.port, tokens[user], MARK, {"b": booth, "s": serials}))
        assert not body.get("errors"), body
        marked += body["data"]["markVoted"]["marked"]
    elapsed = time.perf_counter() - t0
    after_pg = await backends(args.database_url)
    w1 = cpu_s(worker)
    p1 = cpu_s(before_pg) + cpu_s(after_pg - before_pg)  # a backend that appeared: all its CPU
    if spy is not None:
        spy.send_signal(2)
        spy.wait(timeout=30)
    conn.close()
    n = len(jobs) - 50
    return {"n": n, "wall_ms": elapsed / n * 1e3, "server_ms": (w1 - w0) / n * 1e3, "pg_ms": (p1 - p0) / n * 1e3,
            "marked": marked}  # fmt: skip


async def sql_run(args: argparse.Namespace, jobs: list) -> dict[str, float]:
    """The same batches through resolvers.turnout.mark_voted on one connection: the statement alone."""
    settings = Settings(jwt_secret="x" * 32, database_url=args.database_url)
    settings = settings.model_copy(update={"poll_opens_at": dt.time(0, 0), "poll_closes_at": dt.time(23, 59, 59)})
    policy = PolicyEngine()
    conn = await asyncpg.connect(args.database_url)
    try:
        viewers = {}
        for user, _, _ in jobs:
            if user not in viewers:
                viewer = await load_viewer(conn, user)
                assert viewer is not None, user
                viewers[user] = viewer
        pid = await conn.fetchval("select pg_backend_pid()")
        for user, booth, serials in jobs[:50]:
            await turnout.mark_voted(conn, viewers[user], policy, SYSTEM_CLOCK, settings, booth=booth, serials=serials)
        p0, c0, t0 = cpu_s({pid}), time.process_time(), time.perf_counter()
        for user, booth, serials in jobs[50:]:
            await turnout.mark_voted(conn, viewers[user], policy, SYSTEM_CLOCK, settings, booth=booth, serials=serials)
        n = len(jobs) - 50
        return {"n": n, "wall_ms": (time.perf_counter() - t0) / n * 1e3, "pg_ms": (cpu_s({pid}) - p0) / n * 1e3,
                "client_ms": (time.process_time() - c0) / n * 1e3}  # fmt: skip
    finally:
        await conn.close()


def heaviest(raw: Path, top: int = 25) -> list[tuple[str, float, float]]:
    """(frame, inclusive %, self %) from py-spy's raw (collapsed) output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        total += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    return [(f, 100 * c / total, 100 * own[f] / total) for f, c in inclusive.most_common(top)] if total else []


async def main_async(args: argparse.Namespace) -> None:
    voters, presidents, _, _ = read_data(Path(args.data))
    presidents = [(u, b) for u, b in presidents if voters.get(b)]
    rng = random.Random(args.seed)
    server = MarkingServer(args.boothgraph, args.database_url, args.port, 1, Path(args.log))
    election = None
    try:
        server.wait_ready()
        today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
        election = await create_election(args.database_url, f"BENCH-{int(time.time())}", today)
        tokens = {u: make_token(u, server.secret, ttl_s=24 * 3600) for u, _ in presidents}
        jobs = list(batches(rng, presidents, voters, args.batch, args.requests + 50))
        http = await http_run(args, server, jobs, tokens) if not args.sql_only else None
        await remove_election(args.database_url, election)
        election = await create_election(args.database_url, f"BENCH-{int(time.time())}-sql", today)
        sql = await sql_run(args, jobs)
    finally:
        server.stop()
        if election is not None:
            await remove_election(args.database_url, election)
    print(f"load average {' '.join(f'{x:.2f}' for x in psutil.getloadavg())}; {args.requests} batches of {args.batch}")
    if http is None:
        print(f"mark_voted alone: wall {sql['wall_ms']:.2f} ms, PostgreSQL CPU {sql['pg_ms']:.2f} ms per batch")
        return
    print(f"HTTP markVoted: wall {http['wall_ms']:.2f} ms, worker CPU {http['server_ms']:.2f} ms, "
          f"PostgreSQL CPU {http['pg_ms']:.2f} ms per batch ({http['marked']} marked)")  # fmt: skip
    print(f"mark_voted alone: wall {sql['wall_ms']:.2f} ms, PostgreSQL CPU {sql['pg_ms']:.2f} ms, "
          f"client CPU {sql['client_ms']:.2f} ms per batch")  # fmt: skip
    total = http["server_ms"] + http["pg_ms"]
    print(f"=> {total:.2f} CPU ms per batch of {args.batch}: {2000 / total * args.batch:,.0f} marks/s on 2 idle cores")
    if args.py_spy:
        for frame, inc, own in heaviest(Path(args.py_spy)):
            print(f"{inc:5.1f}% {own:5.1f}%  {frame}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--py-spy", default=None)
    parser.add_argument("--sql-only", action="store_true", help="only the statement, no HTTP server run")
    parser.add_argument("--log", default="/tmp/bg-turnout-cpu.log")
    parser.add_argument("--boothgraph", default=str(MAIN / ".venv" / "bin" / "boothgraph"))
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
