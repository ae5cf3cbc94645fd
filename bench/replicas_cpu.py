#!/usr/bin/env python3
"""The overhead of reading from a standby (issue 17), as CPU per request: Q1-Q5 on one primary
(`serve --workers 2`, READ_DATABASE_URL unset) against two `serve --workers 1` processes that read
a streaming standby, interleaved, with the standby's replay lag sampled throughout.

    .venv/bin/python bench/replicas_cpu.py [--preset medium | --data DIR] [--rounds 3] [-n 2000] [-c 16]
        [--writes-per-s 20] [--ops Q1,Q4]

A primary and a standby are made with tests/pgpair.py, the preset (/tmp/bg-PRESET) is imported
into the primary with `boothgraph import` and replayed by the standby; the three API processes
run the whole time. For every round, operation and setup in turn (the order of the setups
alternates between rounds), WARMUP unmeasured requests, then N measured ones with driver.py
(wrk; the replicas setup's two processes driven at once, N/2 requests and C/2 connections
each), and around the N the CPU time (utime + stime, /proc) of
- the setup's API processes (main processes and workers), and
- every process of both PostgreSQL servers (backends, WAL sender and receiver, the standby's
  startup process replaying WAL, checkpointer...): what the request costs the databases, the
  replication included. Both setups run against the same two servers, so the idle setup's
  background (the replica monitors' probes, 2 statements a second per worker) is counted in
  whichever setup is measured.
A writer updates WRITES_PER_S voters a second on the primary throughout (so that the standby has
WAL to replay); the primary's pg_stat_replication (replay_lag, bytes behind) and the API
processes' own lag view (their /readyz) are sampled every 0.2 s during each measurement.

CPU per request is the measure that holds on a shared machine (bench/cpu_ab.py); req/s and p50
are printed with the load average, for an idle machine. Prints one JSON line per measurement,
then medians per operation and setup and the ratio replicas / single.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import secrets
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cpu_ab import TICKS, children, snapshot  # noqa: E402
from replicas import BOOTHGRAPH, PEER, QUERIES, drive, serve, sh  # noqa: E402

from tests.pgpair import PgPair, make_pair  # noqa: E402


def prepare_work(data: Path, secret: str, work: Path) -> None:
    """scenario.py's tokens and variables for Q1-Q4, and Q5's (the state president at the root),
    as bench/replicas.py makes them; the data folder is only read (never generated here)."""
    if not (data / "voters.csv").exists():
        raise SystemExit(f"{data}/voters.csv not found: generate it with ../shared/tools/gen_dataset.py")
    work.mkdir(parents=True, exist_ok=True)
    sh(sys.executable, str(PEER / "scenario.py"), str(data), "--out", str(work), "--secret", secret)
    with (data / "units.csv").open(newline="", encoding="utf-8") as f:
        root = next(u["code"] for u in csv.DictReader(f) if not u["parent_code"])
    with (data / "assignments.csv").open(newline="", encoding="utf-8") as f:
        rows = csv.DictReader(f)
        user = next(r["user_id"] for r in rows if r["role"] == "STATE_PRESIDENT" and r["unit_code"] == root)
    (work / "q5.vars.json").write_text(json.dumps({"unit": root}))
    (work / "q5.token").write_text(sh(sys.executable, str(PEER / "mktoken.py"), user, f"--secret={secret}").strip())


def postmaster_pid(datadir: Path) -> int:
    return int((datadir / "postmaster.pid").read_text().split()[0])


class Watcher:
    """Writes on the primary, and the standby's lag, while one measurement runs."""

    def __init__(self, primary_url: str, readyz: list[str], per_s: float) -> None:
        self.primary_url, self.readyz, self.per_s = primary_url, readyz, per_s
        self.max_replay_lag_s = 0.0
        self.max_bytes = 0
        self.max_router_lag_s = 0.0
        self.router_down = 0
        self.writes = 0

    async def run(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.primary_url)
        watch = await asyncpg.connect(self.primary_url)
        top = await conn.fetchval("select max(id) from voters")
        next_write = next_sample = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                while not stop.is_set():
                    now = time.monotonic()
                    if self.per_s > 0 and now >= next_write:
                        voter = 1 + secrets.randbelow(top)
                        await conn.execute("update voters set house_number = house_number where id = $1", voter)
                        self.writes += 1
                        next_write += 1 / self.per_s
                    if now >= next_sample:
                        await self._sample(watch, http)
                        next_sample = now + 0.2
                    await asyncio.sleep(max(0.0, min(next_write, next_sample) - time.monotonic()))
        finally:
            await conn.close()
            await watch.close()

    async def _sample(self, watch: asyncpg.Connection, http: httpx.AsyncClient) -> None:
        row = await watch.fetchrow(
            "select coalesce(extract(epoch from max(replay_lag)), 0)::float8 as lag,"
            " coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::int8 as bytes"
            " from pg_stat_replication"
        )
        self.max_replay_lag_s = max(self.max_replay_lag_s, row["lag"])
        self.max_bytes = max(self.max_bytes, row["bytes"])
        for url in self.readyz:
            try:
                standbys = (await http.get(url)).json()["databases"]["standbys"]
            except (httpx.HTTPError, KeyError, ValueError):
                continue
            for s in standbys:
                if s["lagSeconds"] is not None:
                    self.max_router_lag_s = max(self.max_router_lag_s, s["lagSeconds"])
                self.router_down += 0 if s["ready"] else 1


async def measure(
    setup: dict, q: str, work: Path, args: argparse.Namespace, db_pids: list[int], primary_url: str
) -> dict[str, object]:
    urls = setup["urls"]
    await drive(urls, q, work, args.warmup * len(urls), args.c, 0)  # warm-up, unmeasured
    api = [p for pid in setup["pids"] for p in children(pid)]
    dbs = [p for pid in db_pids for p in children(pid)]
    watcher = Watcher(primary_url, setup["readyz"], args.writes_per_s)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    before_api, before_db = snapshot(api), snapshot(dbs)
    result = await drive(urls, q, work, args.n, args.c, 0)
    after_api, after_db = snapshot(api), snapshot(dbs)
    stop.set()
    await task
    requests = args.n + len(urls)  # driver.py sends one checked request before the measured ones

    def per_request(before: dict[int, int], after: dict[int, int]) -> float:
        return sum(after[p] - before[p] for p in before if p in after) / TICKS * 1000 / requests

    return {
        "setup": setup["name"],
        "op": q,
        **result,
        "api_cpu_ms": round(per_request(before_api, after_api), 4),
        "db_cpu_ms": round(per_request(before_db, after_db), 4),
        "max_replay_lag_s": round(watcher.max_replay_lag_s, 4),
        "max_bytes_behind": watcher.max_bytes,
        "max_router_lag_s": watcher.max_router_lag_s,
        "router_down_samples": watcher.router_down,
        "writes": watcher.writes,
        "load": os.getloadavg()[0],
    }


def summary(rows: list[dict[str, object]]) -> None:
    print("| op | single req/s | replicas req/s | single CPU ms/req (API + db) | replicas CPU ms/req (API + db) "
          "| CPU replicas / single | max replay lag s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for q in QUERIES:
        med: dict[str, dict[str, float]] = {}
        for name in ("single", "replicas"):
            rs = [r for r in rows if r["op"] == q and r["setup"] == name]
            if not rs:
                break
            med[name] = {
                k: statistics.median(float(r[k]) for r in rs)  # type: ignore[arg-type]
                for k in ("rps", "api_cpu_ms", "db_cpu_ms")
            }
            med[name]["lag"] = max(float(r["max_replay_lag_s"]) for r in rs)  # type: ignore[arg-type]
        if len(med) < 2:
            continue
        s, r = med["single"], med["replicas"]
        total_s, total_r = s["api_cpu_ms"] + s["db_cpu_ms"], r["api_cpu_ms"] + r["db_cpu_ms"]
        print(
            f"| {q} | {s['rps']:.0f} | {r['rps']:.0f} | {total_s:.2f} ({s['api_cpu_ms']:.2f} + {s['db_cpu_ms']:.2f}) "
            f"| {total_r:.2f} ({r['api_cpu_ms']:.2f} + {r['db_cpu_ms']:.2f}) | {total_r / total_s:.3f} "
            f"| {max(s['lag'], r['lag']):.3f} |"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="medium", help="reads /tmp/bg-PRESET (or --data)")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("-c", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--writes-per-s", type=float, default=20)
    parser.add_argument("--ops", default=",".join(QUERIES), help="comma-separated subset of Q1..Q5")
    parser.add_argument("--out", default=None, help="JSON lines (default bench/results/replicas-cpu-PRESET-DATE.jsonl)")
    args = parser.parse_args()
    ops = args.ops.split(",")

    secret = secrets.token_urlsafe(32)
    work = Path(f"/tmp/bg-replicas-{args.preset}-{os.getpid()}")
    data = args.data or Path(f"/tmp/bg-{args.preset}")
    prepare_work(data, secret, work)
    out = Path(
        args.out or ROOT / "bench" / "results" / f"replicas-cpu-{args.preset}-{time.strftime('%Y-%m-%d-%H%M')}.jsonl"
    )
    pair: PgPair = make_pair()
    rows: list[dict[str, object]] = []
    try:
        await pair.wait_streaming()
        await pair.primary.fetchval("create database boothgraph")
        primary = pair.primary.url("boothgraph")
        started = time.perf_counter()
        sh(str(BOOTHGRAPH), "import", str(data), env={**os.environ, "DATABASE_URL": primary, "JWT_SECRET": secret})
        conn = await asyncpg.connect(primary)
        await conn.execute("vacuum analyze")
        await conn.close()
        await pair.wait_replayed(timeout_s=900)
        print(f"import + vacuum + replay {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        base = {"JWT_SECRET": secret, "GRAPHIQL": "false", "RATE_LIMIT_PER_S": "1000000", "RATE_LIMIT_BURST": "1000000"}
        base["STATS_RELEASE_INTERVAL_S"] = "0"
        replicas = {**base, "DATABASE_URL": primary, "READ_DATABASE_URL": pair.standby.url("boothgraph")}
        with ExitStack() as stack:
            single = stack.enter_context(serve({**base, "DATABASE_URL": primary}, 2, work / "single.log"))
            a = stack.enter_context(serve(replicas, 1, work / "a.log"))
            b = stack.enter_context(serve(replicas, 1, work / "b.log"))
            setups = [
                {"name": "single", "urls": [single], "readyz": []},
                {"name": "replicas", "urls": [a, b], "readyz": [u.replace("/graphql", "/readyz") for u in (a, b)]},
            ]
            for setup in setups:  # the API processes: the servers listening on these ports
                setup["pids"] = [_server_pid(u) for u in setup["urls"]]
            db_pids = [postmaster_pid(pair.primary.datadir), postmaster_pid(pair.standby.datadir)]
            for rnd in range(1, args.rounds + 1):
                order = setups if rnd % 2 else setups[::-1]
                for q in ops:
                    for setup in order:
                        row = await measure(setup, q, work, args, db_pids, primary) | {"round": rnd}
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                        with out.open("a") as f:  # as it goes: a cut-off run keeps what it measured
                            f.write(json.dumps(row) + "\n")
    finally:
        pair.close()
    summary(rows)
    print(f"wrote {len(rows)} lines to {out}", file=sys.stderr)


def _server_pid(url: str) -> int:
    """The main process of `boothgraph serve` listening on the URL's port (its session leader)."""
    port = url.split(":")[2].split("/")[0]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            any(part.endswith(b"boothgraph") for part in cmdline[:2])
            and b"serve" in cmdline
            and port.encode() in cmdline
        ):
            return int(entry.name)
    raise RuntimeError(f"no boothgraph serve process on port {port}")


if __name__ == "__main__":
    asyncio.run(main())
