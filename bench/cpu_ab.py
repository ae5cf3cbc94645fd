#!/usr/bin/env python3
"""CPU time per request of running boothgraph servers, A/B, interleaved: a measure that holds up
on a shared machine, where wall-clock latency does not.

    bench/cpu_ab.py --server base=http://127.0.0.1:8101/graphql,PID,postgresql://postgres@127.0.0.1:5432/db_a \\
                    --server new=http://127.0.0.1:8102/graphql,PID,postgresql://postgres@127.0.0.1:5432/db_b \\
                    --work /tmp/peer/work --query Q4=../shared/bench/peer/queries/boothgraph/q4_voter_by_epic.graphql \\
                    --query Q5=bench/queries/q5_state_dashboard.graphql --rounds 5 -n 2000 -c 16 \\
                    [--persisted-query Q4=FILE ...]

A server given as name=URL,PID,DSN,WORK uses its own work folder (servers over different data
sets: the medium and the large preset). Each server is `boothgraph serve` already running
(PID: its main process; its worker processes are found under it) over its own database (DSN).
For every round, query and server in turn (the order of the servers alternates between rounds):
WARMUP unmeasured requests, then N with driver.py (wrk), and around those N the CPU time
(utime + stime, /proc/PID/stat) of
- the server's processes (the main process and its workers), and
- the PostgreSQL backends connected to that server's database (pg_stat_activity; the pool's
  connections live across the run, and a backend that came or went during it is left out and
  reported).
Prints one JSON line per measurement: server, query, round, req/s, p50/p99 (ms), server and
database CPU in ms per request; then medians per server and query. The work folder holds
scenario.py's qN.token / qN.vars.json (and q5.*, as bench/run.sh writes them).
--persisted-query LABEL=FILE measures the same operation sent as a persisted one (bench/
persisted_driver.py: the hash alone; register FILE first), reported as LABEL + "p" (Q4p).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRIVER = HERE.parent.parent / "shared" / "bench" / "peer" / "driver.py"
PERSISTED_DRIVER = HERE / "persisted_driver.py"  # the same load, the operation sent as its hash alone
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of one process, in clock ticks; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), after pid and comm


def children(pid: int) -> list[int]:
    """`pid` and every process below it."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


def backends(dsn: str) -> list[int]:
    """Client backends connected to the DSN's database (not this psql)."""
    sql = (
        "select pid from pg_stat_activity where datname = current_database() "
        "and backend_type = 'client backend' and pid <> pg_backend_pid()"
    )
    out = subprocess.run(["psql", "-X", "-Atc", sql, dsn], capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.split()]


def snapshot(pids: list[int]) -> dict[int, int]:
    return {p: t for p in pids if (t := cpu_ticks(p)) is not None}


def drive(url: str, work: Path, query_file: str, q: str, n: int, c: int, warmup: int, persisted: bool = False) -> dict:
    cmd = [
        sys.executable, str(PERSISTED_DRIVER if persisted else DRIVER), "--url", url,
        "--token", (work / f"{q}.token").read_text().strip(),
        "--variables", f"@{work / f'{q}.vars.json'}", "--query-file", query_file,
        "-n", str(n), "-c", str(c), "--warmup", str(warmup), "--engine", "wrk",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"driver failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(server: dict, query: tuple[str, str], work: Path, args: argparse.Namespace) -> dict:
    label, query_file = query
    # "Q4p": Q4's token and variables, its registered document sent as a hash (--persisted-query).
    persisted = label.endswith("p")
    q = label.lower().removesuffix("p")
    drive(server["url"], work, query_file, q, args.warmup, args.c, 0, persisted)  # warm-up, unmeasured
    procs = children(server["pid"])
    dbs = backends(server["dsn"])
    before_p, before_d = snapshot(procs), snapshot(dbs)
    result = drive(server["url"], work, query_file, q, args.n, args.c, 0, persisted)
    after_p, after_d = snapshot(procs), snapshot(dbs)
    dbs_after = set(backends(server["dsn"]))
    requests = args.n + 1  # driver.py sends one checked request before the measured ones

    def per_request(before: dict[int, int], after: dict[int, int]) -> float:
        ticks = sum(after[p] - before[p] for p in before if p in after)
        return ticks / TICKS * 1000 / requests

    return {
        "server": server["name"],
        "query": label,
        "rps": result["rps"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "errors": result["errors"],
        "server_cpu_ms": round(per_request(before_p, after_p), 4),
        "db_cpu_ms": round(per_request(before_d, after_d), 4),
        "backends_changed": len(set(dbs) ^ dbs_after),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--server", action="append", required=True, help="name=URL,PID,DSN[,WORK] (two or more; WORK: its own --work)"
    )
    p.add_argument("--query", action="append", default=[], help="LABEL=query file (LABEL: Q1..Q5)")
    p.add_argument(
        "--persisted-query",
        action="append",
        default=[],
        help="LABEL=query file, sent as a persisted operation (its hash alone; register the file first "
        "with `boothgraph operations register`); reported as LABEL + 'p' (Q4p)",
    )
    p.add_argument("--work", type=Path, help="folder with qN.token and qN.vars.json (unless every server has its own)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("-c", type=int, default=16)
    p.add_argument("--warmup", type=int, default=200)
    args = p.parse_args()
    servers = []
    for spec in args.server:
        name, rest = spec.split("=", 1)
        url, pid, dsn, *work = rest.split(",", 3)
        servers.append({"name": name, "url": url, "pid": int(pid), "dsn": dsn, "work": Path(work[0]) if work else None})
    queries = [tuple(q.split("=", 1)) for q in args.query]
    queries += [(label + "p", file) for label, file in (q.split("=", 1) for q in args.persisted_query)]
    results = []
    for rnd in range(1, args.rounds + 1):
        order = servers if rnd % 2 else servers[::-1]
        for query in queries:
            for server in order:
                r = measure(server, query, server["work"] or args.work, args) | {"round": rnd}
                print(json.dumps(r), flush=True)
                results.append(r)
    print("# medians: query server req/s p50 server-CPU-ms/req db-CPU-ms/req", flush=True)
    for label, _ in queries:
        for server in servers:
            rs = [r for r in results if r["query"] == label and r["server"] == server["name"]]
            med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "server_cpu_ms", "db_cpu_ms")}
            print(
                f"{label} {server['name']}: {med['rps']:.0f} req/s, p50 {med['p50_ms']:.1f} ms, "
                f"server {med['server_cpu_ms']:.3f} ms, db {med['db_cpu_ms']:.3f} ms CPU per request "
                f"(server CPU {', '.join(str(r['server_cpu_ms']) for r in rs)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
