#!/usr/bin/env python3
"""Election-day marking load through the HTTP API (issue 16), with turnout freshness and reads
measured during the load.

    .venv/bin/python bench/turnout_load.py --database-url URL --data DIR [--seconds 600] [-c 64]
        [--readers 4] [--workers 2] [--port 8790]

URL is a database holding DIR's data set (`boothgraph import DIR`). The driver starts
`boothgraph serve --workers N` on it (production settings as bench/soak.py: GRAPHIQL=false, a
random JWT_SECRET, the rate limit out of the way; POLL_OPENS_AT/POLL_CLOSES_AT widened to the whole
day so that it runs at any hour), creates an election `BENCH-<time>` covering the state with
today's poll date (by SQL, as the set-up of a test), then:

1. no load: the read mix alone on --readers connections for a few seconds;
2. load: -c connections each sending `markVoted` batches of 10-30 random serials of a random booth
   as that booth's president (booths of DIR's assignments.csv), for --seconds, while --readers
   connections run the read mix and one prober asks `turnout(unit: "UP")` every 100 ms;
3. removes the bench election's marks and the election (the audit entries stay: append-only).

Read mix: Q1-style booth voter page (voters(unit: booth, first: 50)) as the booth president, unit
stats of the state (Q4/Q5-style) as the state president, turnout of a district as the state
president. Freshness: each probe compares turnout's `voted` with the marks acknowledged (HTTP 200
received) before the probe was sent; voted must never be below (a mark commits before its answer),
and the report gives the largest number of acknowledged marks a probe did not show (0 = never
behind) and the probe latency. Prints a markdown report.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import orjson

BENCH = Path(__file__).resolve().parent
MAIN = BENCH.parent
sys.path.insert(0, str(MAIN))
sys.path.insert(0, str(BENCH))

from soak import Server, _read_response  # noqa: E402  (bench/soak.py: the server and the HTTP/1.1 client)

from core.auth import make_token  # noqa: E402

MARK = "mutation($b: String!, $s: [Int!]!) { markVoted(booth: $b, serials: $s) { marked alreadyMarked } }"
Q1 = "query($u: String!) { voters(unit: $u, first: 50) { edges { node { epicNumber name phone } } } }"
STATS = '{ unit(code: "UP") { stats { voters withPhone byGender { key count } byCasteCategory { key count } } } }'
TURNOUT = "query($e: String!, $u: String!) { turnout(election: $e, unit: $u) { voted eligible byHour { key count } } }"


class MarkingServer(Server):
    """bench/soak.py's server, with the poll hours widened to the whole day and no periodic release."""

    def __init__(self, executable: str, url: str, port: int, workers: int, log: Path) -> None:
        self.port, self.secret, self.log = port, secrets.token_urlsafe(32), log
        self.cwd = tempfile.mkdtemp(prefix="bg-turnout-")  # no developer .env applies
        env = dict(os.environ, DATABASE_URL=url, JWT_SECRET=self.secret, GRAPHIQL="false")
        env |= {"RATE_LIMIT_PER_S": "1000000", "RATE_LIMIT_BURST": "1000000", "STATS_RELEASE_INTERVAL_S": "0"}
        env |= {"POLL_OPENS_AT": "00:00:00", "POLL_CLOSES_AT": "23:59:59"}
        cmd = [executable, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        self.proc = subprocess.Popen(
            cmd, cwd=self.cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        self.command = " ".join(cmd)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    serials: int = 0
    marked: int = 0
    acked: int = 0  # marks acknowledged so far (freshness reference)
    behind: list[int] = field(default_factory=list)


def request(port: int, token: str, query: str, variables: dict) -> bytes:
    body = orjson.dumps({"query": query, "variables": variables})
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> dict:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw)
        status, body, close = await asyncio.wait_for(_read_response(self.reader), 60)
        if close:
            self.close()
        if status != 200:
            raise RuntimeError(f"HTTP {status}")
        return orjson.loads(body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def read_data(folder: Path) -> tuple[dict[str, int], list[tuple[str, str]], str, list[str]]:
    """Voters per booth, (president, booth) pairs, the state president, district codes."""
    with (folder / "voters.csv").open(encoding="utf-8") as f:
        per_booth = Counter(r["booth_code"] for r in csv.DictReader(f))
    with (folder / "assignments.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    presidents = sorted((r["user_id"], r["unit_code"]) for r in rows if r["role"] == "BOOTH_PRESIDENT")
    state = next(r["user_id"] for r in rows if r["role"] == "STATE_PRESIDENT")
    with (folder / "units.csv").open(encoding="utf-8") as f:
        districts = [r["code"] for r in csv.DictReader(f) if r["level"] == "DISTRICT"]
    return dict(per_booth), presidents, state, districts


async def create_election(url: str, code: str, today: dt.date) -> int:
    conn = await asyncpg.connect(url)
    try:
        election = await conn.fetchval(
            """insert into elections (code, name, model_code_from, counting_on, created_by)
               values ($1, 'Bench election', $2, $3, 'bench') returning id""",
            code,
            today - dt.timedelta(days=30),
            today + dt.timedelta(days=10),
        )
        await conn.execute(
            "insert into election_phases (election_id, unit_id, poll_date)"
            " select $1, id, $2 from units where level = 'STATE'",
            election,
            today,
        )
        return int(election)
    finally:
        await conn.close()


async def remove_election(url: str, election: int) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        marks = await conn.fetchval("select count(*) from turnout_marks where election_id = $1", election)
        recount = await conn.fetchval(
            "select coalesce(sum(n), 0) from turnout_rollups where election_id = $1 and dim = 'voted' and "
            "unit_id = (select id from units where level = 'STATE')",
            election,
        )
        async with conn.transaction():
            await conn.execute("delete from turnout_marks where election_id = $1", election)
            await conn.execute("delete from turnout_rollups where election_id = $1", election)
            await conn.execute("delete from election_phases where election_id = $1", election)
            await conn.execute("delete from elections where id = $1", election)
        return int(marks), int(recount)
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> str:
    voters, presidents, state_user, districts = read_data(Path(args.data))
    presidents = [(u, b) for u, b in presidents if voters.get(b)]
    server = MarkingServer(args.boothgraph, args.database_url, args.port, args.workers, Path(args.log))
    try:
        server.wait_ready()
        today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
        code = f"BENCH-{int(time.time())}"
        election = await create_election(args.database_url, code, today)
        tokens = {u: make_token(u, server.secret, ttl_s=24 * 3600) for u, _ in presidents}
        tokens[state_user] = make_token(state_user, server.secret, ttl_s=24 * 3600)
        rng = random.Random(args.seed)
        tally = Tally()
        stop = asyncio.Event()

        def read_job() -> tuple[str, bytes]:
            kind = rng.choice(("q1", "stats", "turnout"))
            if kind == "q1":
                user, booth = rng.choice(presidents)
                return "Q1 booth page", request(args.port, tokens[user], Q1, {"u": booth})
            if kind == "stats":
                return "state stats", request(args.port, tokens[state_user], STATS, {})
            return "district turnout", request(
                args.port, tokens[state_user], TURNOUT, {"e": code, "u": rng.choice(districts)}
            )

        async def reader(t: Tally) -> None:
            conn = Connection(args.port)
            while not stop.is_set():
                op, raw = read_job()
                started = time.perf_counter()
                try:
                    body = await conn.send(raw)
                    if body.get("errors"):
                        t.errors[f"{op}: {body['errors'][0].get('extensions', {}).get('code')}"] += 1
                except Exception as exc:  # noqa: BLE001 - counted, the load goes on
                    t.errors[f"{op}: {type(exc).__name__}"] += 1
                    conn.close()
                    continue
                t.latencies[op].append(time.perf_counter() - started)
            conn.close()

        async def marker(t: Tally) -> None:
            conn = Connection(args.port)
            while not stop.is_set():
                user, booth = rng.choice(presidents)
                serials = rng.sample(range(1, voters[booth] + 1), min(voters[booth], rng.randint(10, 30)))
                raw = request(args.port, tokens[user], MARK, {"b": booth, "s": serials})
                started = time.perf_counter()
                try:
                    body = await conn.send(raw)
                    if body.get("errors"):
                        t.errors[f"markVoted: {body['errors'][0].get('extensions', {}).get('code')}"] += 1
                        continue
                except Exception as exc:  # noqa: BLE001
                    t.errors[f"markVoted: {type(exc).__name__}"] += 1
                    conn.close()
                    continue
                t.latencies["markVoted"].append(time.perf_counter() - started)
                t.requests += 1
                t.serials += len(serials)
                t.marked += body["data"]["markVoted"]["marked"]
                t.acked += body["data"]["markVoted"]["marked"]
            conn.close()

        async def prober(t: Tally) -> None:
            conn = Connection(args.port)
            raw = request(args.port, tokens[state_user], TURNOUT, {"e": code, "u": "UP"})
            while not stop.is_set():
                acked = t.acked
                started = time.perf_counter()
                try:
                    body = await conn.send(raw)
                    voted = body["data"]["turnout"]["voted"]
                except Exception as exc:  # noqa: BLE001
                    t.errors[f"turnout probe: {type(exc).__name__}"] += 1
                    conn.close()
                    continue
                t.latencies["turnout probe (state)"].append(time.perf_counter() - started)
                t.behind.append(max(0, acked - voted))
                await asyncio.sleep(0.1)
            conn.close()

        # 1. no load
        idle = Tally()
        tasks = [asyncio.create_task(reader(idle)) for _ in range(args.readers)]
        await asyncio.sleep(args.idle_seconds)
        stop.set()
        await asyncio.gather(*tasks)
        # 2. load
        stop.clear()
        tasks = [asyncio.create_task(marker(tally)) for _ in range(args.connections)]
        tasks += [asyncio.create_task(reader(tally)) for _ in range(args.readers)]
        tasks.append(asyncio.create_task(prober(tally)))
        started = time.perf_counter()
        await asyncio.sleep(args.seconds)
        stop.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        marks, rolled = await remove_election(args.database_url, election)
    finally:
        server.stop()
    return report(args, idle, tally, elapsed, marks, rolled)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def report(args: argparse.Namespace, idle: Tally, load: Tally, elapsed: float, marks: int, rolled: int) -> str:
    lines = [
        f"## Turnout marking load ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`{' '.join(sys.argv)}`",
        "",
        f"- {args.connections} marking connections, {args.readers} reader connections, 1 turnout prober, "
        f"{elapsed:.1f} s, {args.workers} workers",
        f"- markVoted requests: {load.requests} ({load.requests / elapsed:.0f}/s); serials sent: {load.serials} "
        f"(**{load.serials / elapsed:.0f} marks/s**); newly marked: {load.marked} ({load.marked / elapsed:.0f}/s)",
        f"- marks in the database at the end: {marks}; the state's turnout rollup: {rolled} "
        f"({'equal' if marks == rolled else 'DIFFERENT'})",
        f"- turnout probes: {len(load.behind)}; acknowledged marks a probe did not show: "
        f"max {max(load.behind, default=0)}",
        f"- errors: {dict(load.errors) or 'none'} (no load: {dict(idle.errors) or 'none'})",
        "",
        "| operation | no load: n | p50 ms | p99 ms | under load: n | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for op in sorted(set(idle.latencies) | set(load.latencies)):
        a, b = idle.latencies.get(op, []), load.latencies.get(op, [])
        cells = [str(len(a)), f"{pct(a, 50):.1f}", f"{pct(a, 99):.1f}", str(len(b)), f"{pct(b, 50):.1f}"]
        lines.append(f"| {op} | {' | '.join(cells)} | {pct(b, 99):.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--log", default="/tmp/bg-turnout-load.log")
    parser.add_argument("--boothgraph", default=str(MAIN / ".venv" / "bin" / "boothgraph"))
    args = parser.parse_args()
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
