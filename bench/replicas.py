"""Q1-Q5 on one primary against two API processes reading a streaming standby, and through
PgBouncer: the overhead of the scaled-out shape on one machine, and the standby's lag meanwhile.

    .venv/bin/python bench/replicas.py [--preset small] [-n 1000] [-c 16] [--runs 2] [--writes-per-s 50]

A primary and a standby are made with tests/pgpair.py (temporary directories, free ports), the
preset is imported into the primary with `boothgraph import`, and then every operation is timed on
each of these setups in turn (all of them running the whole time), run after run:

- single:   `boothgraph serve --workers 2` on the primary (READ_DATABASE_URL unset);
- replicas: two `boothgraph serve --workers 1` processes, READ_DATABASE_URL = the standby, each
            driven at c/2 connections at the same time (the sum of their req/s; the worse p50/p99);
- bouncer:  `boothgraph serve --workers 2` through PgBouncer (transaction mode, 20 server
            connections, STATEMENT_CACHE_SIZE=0), migrations direct.

While each operation is timed, a writer updates `--writes-per-s` voters a second on the primary (plain
SQL), so that the standby has WAL to replay, and the primary's pg_stat_replication is sampled
every 0.2 s: the largest replay_lag and the largest byte distance are reported. Load generator:
../shared/bench/peer/driver.py (wrk). On this 2-core machine there is no headroom to show
scaling: the figures are the overhead of the shape, and only meaningful on an idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgbouncer import pgbouncer  # noqa: E402
from tests.pgpair import PgPair, free_port, make_pair  # noqa: E402

SHARED = ROOT.parent / "shared"
PEER = SHARED / "bench" / "peer"
BOOTHGRAPH = ROOT / ".venv" / "bin" / "boothgraph"
QUERIES = {
    "Q1": PEER / "queries" / "boothgraph" / "q1_booth_page.graphql",
    "Q2": PEER / "queries" / "boothgraph" / "q2_booth_scheme_page.graphql",
    "Q3": PEER / "queries" / "boothgraph" / "q3_district_stats.graphql",
    "Q4": PEER / "queries" / "boothgraph" / "q4_voter_by_epic.graphql",
    "Q5": ROOT / "bench" / "queries" / "q5_state_dashboard.graphql",
}


def sh(*args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


def prepare_data(preset: str, secret: str, work: Path) -> Path:
    data = Path(f"/tmp/bg-{preset}")
    if not (data / ".bench-complete").exists():
        sh(sys.executable, str(SHARED / "tools" / "gen_dataset.py"), "--preset", preset, "--out", str(data))
        (data / ".bench-complete").touch()
    work.mkdir(parents=True, exist_ok=True)
    sh(sys.executable, str(PEER / "scenario.py"), str(data), "--out", str(work), "--secret", secret)
    import csv

    with (data / "units.csv").open(newline="", encoding="utf-8") as f:
        root = next(u["code"] for u in csv.DictReader(f) if not u["parent_code"])
    with (data / "assignments.csv").open(newline="", encoding="utf-8") as f:
        user = next(
            r["user_id"] for r in csv.DictReader(f) if r["role"] == "STATE_PRESIDENT" and r["unit_code"] == root
        )
    (work / "q5.vars.json").write_text(json.dumps({"unit": root}))
    (work / "q5.token").write_text(sh(sys.executable, str(PEER / "mktoken.py"), user, f"--secret={secret}").strip())
    return data


@contextlib.contextmanager
def serve(env: dict[str, str], workers: int, log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BOOTHGRAPH), "serve", "--port", str(port), "--workers", str(workers)],
            cwd="/tmp",
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"boothgraph serve did not start; see {log}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def drive_args(url: str, q: str, work: Path, n: int, c: int, warmup: int) -> list[str]:
    n_ = q.lower()
    return [
        sys.executable,
        str(PEER / "driver.py"),
        "--url",
        url,
        "--token",
        (work / f"{n_}.token").read_text().strip(),
        "--variables",
        f"@{work / f'{n_}.vars.json'}",
        "--query-file",
        str(QUERIES[q]),
        "-n",
        str(n),
        "-c",
        str(c),
        "--warmup",
        str(warmup),
        "--label",
        q,
    ]


async def drive(urls: list[str], q: str, work: Path, n: int, c: int, warmup: int) -> dict[str, float]:
    """The drivers at once, c/len(urls) connections and n/len(urls) requests each."""
    share = len(urls)
    procs = [
        await asyncio.create_subprocess_exec(
            *drive_args(u, q, work, n // share, c // share, warmup // share),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for u in urls
    ]
    results = [json.loads((await p.communicate())[0].decode().strip().splitlines()[-1]) for p in procs]
    return {
        "rps": sum(r["rps"] for r in results),
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


class Writer:
    """`per_s` single-voter updates a second on the primary, and the replication lag meanwhile."""

    def __init__(self, url: str, per_s: float) -> None:
        self.url, self.per_s = url, per_s
        self.max_lag_s = 0.0
        self.max_lag_bytes = 0
        self.writes = 0

    async def run(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.url)
        watch = await asyncpg.connect(self.url)
        top = await conn.fetchval("select max(id) from voters")
        try:
            next_sample = 0.0
            while not stop.is_set():
                if self.per_s > 0:
                    voter = 1 + secrets.randbelow(top)
                    await conn.execute("update voters set house_number = house_number where id = $1", voter)
                    self.writes += 1
                now = time.monotonic()
                if now >= next_sample:
                    row = await watch.fetchrow(
                        "select coalesce(extract(epoch from max(replay_lag)), 0)::float8 as lag,"
                        " coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::int8 as bytes"
                        " from pg_stat_replication"
                    )
                    self.max_lag_s = max(self.max_lag_s, row["lag"])
                    self.max_lag_bytes = max(self.max_lag_bytes, row["bytes"])
                    next_sample = now + 0.2
                await asyncio.sleep(1 / self.per_s if self.per_s > 0 else 0.2)
        finally:
            await conn.close()
            await watch.close()


async def measure(
    name: str, urls: list[str], q: str, primary_url: str, args: argparse.Namespace, work: Path
) -> dict[str, object]:
    writer = Writer(primary_url, args.writes_per_s)
    stop = asyncio.Event()
    task = asyncio.create_task(writer.run(stop))
    result = await drive(urls, q, work, args.n, args.c, args.warmup)
    stop.set()
    await task
    row: dict[str, object] = {"setup": name, "op": q, **result}
    row.update(max_lag_s=writer.max_lag_s, max_lag_bytes=writer.max_lag_bytes, writes=writer.writes)
    row["load"] = os.getloadavg()[0]
    print(json.dumps(row), flush=True)
    return row


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("-c", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--writes-per-s", type=float, default=50)
    parser.add_argument(
        "--out", default=None, help="JSON lines file (default bench/results/replicas-PRESET-DATE.jsonl)"
    )
    args = parser.parse_args()

    secret = secrets.token_urlsafe(32)
    work = Path(f"/tmp/bg-replicas-{args.preset}")
    data = prepare_data(args.preset, secret, work)
    out = Path(
        args.out or ROOT / "bench" / "results" / f"replicas-{args.preset}-{time.strftime('%Y-%m-%d-%H%M')}.jsonl"
    )
    pair: PgPair = make_pair()
    try:
        await pair.wait_streaming()
        await pair.primary.fetchval("create database boothgraph")
        primary = pair.primary.url("boothgraph")
        started = time.perf_counter()
        sh(str(BOOTHGRAPH), "import", str(data), env={**os.environ, "DATABASE_URL": primary, "JWT_SECRET": secret})
        print(f"import {time.perf_counter() - started:.1f} s", file=sys.stderr)
        conn = await asyncpg.connect(primary)
        await conn.execute("vacuum analyze")
        await conn.close()
        await pair.wait_replayed(timeout_s=600)
        base = {"JWT_SECRET": secret, "GRAPHIQL": "false", "RATE_LIMIT_PER_S": "1000000", "RATE_LIMIT_BURST": "1000000"}
        base["STATS_RELEASE_INTERVAL_S"] = "0"
        rows: list[dict[str, object]] = []
        replicas = {**base, "DATABASE_URL": primary, "READ_DATABASE_URL": pair.standby.url("boothgraph")}
        with (
            pgbouncer(pair.primary.port, pool_size=20) as bouncer_port,
            serve({**base, "DATABASE_URL": primary}, 2, work / "single.log") as single,
            serve(replicas, 1, work / "a.log") as a,
            serve(replicas, 1, work / "b.log") as b,
        ):
            bounced = f"postgresql://postgres@127.0.0.1:{bouncer_port}/boothgraph"
            bouncer = {**base, "DATABASE_URL": bounced, "MIGRATION_DATABASE_URL": primary, "STATEMENT_CACHE_SIZE": "0"}
            with serve(bouncer, 2, work / "bouncer.log") as bounced_url:
                setups = {"single": [single], "replicas": [a, b], "bouncer": [bounced_url]}
                # All servers stay up; every operation is timed on each setup in turn, run after
                # run, so that a change in the machine's load falls on all of them alike.
                for run in range(args.runs):
                    for q in QUERIES:
                        for name, urls in setups.items():
                            row = await measure(name, urls, q, primary, args, work) | {"run": run + 1}
                            rows.append(row)
                            with out.open("a") as f:  # as it goes: a cut-off run keeps what it measured
                                f.write(json.dumps(row) + "\n")
    finally:
        pair.close()
    print(f"wrote {len(rows)} lines to {out}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
