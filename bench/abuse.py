#!/usr/bin/env python3
"""The "abuse" scenario (issue 12, part 4): one user attacks at full speed, another user keeps
working, and we measure what the second user sees. Loopback only; bounded in time and count.

    .venv/bin/python bench/abuse.py --database-url URL [--seconds 5] [--attackers 16]

Starts `boothgraph serve` (one worker, production settings: GRAPHIQL=false, a random JWT_SECRET,
the default rate limit, pool and limits) on a free port against URL, which must hold a data set
of gen_dataset.py (`tiny` or `small`: u-000003 is the IT_CONVENOR over UP, who may export the
state, u-000006 the DISTRICT_PRESIDENT of UP-AWD-LKO). For --seconds:

- the attacker (u-000003), from --attackers concurrent loops, sends in turn: the query of the
  issue (`units(first: $n) { … voters(first: $n) … }` with `{"n": 500.0}`), batches of 10
  operations × 20 aliases, 20 aliases of `voters(first: 500)` (about 13,000 cost each), and
  and, held open for the whole run, ten GET /export/voters.csv?unit=UP on sockets it never reads;
- the victim (u-000006) sends one ordinary request at a time: a page of 20 voters of a booth.

Prints, for each side, the count of each HTTP status, and the victim's p50, p99 and max latency.
`run_abuse()` is what tests/test_hardening_abuse.py runs against an in-process server too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

MAIN = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(MAIN))

ATTACKER = "u-000003"  # IT_CONVENOR over UP: reads every voter, exports the state
VICTIM = "u-000006"  # DISTRICT_PRESIDENT of UP-AWD-LKO
VICTIM_QUERY = '{ voters(unit: "UP-AWD-LKO-M01-B0001", first: 20) { edges { node { epicNumber name age } } } }'
FLOAT_PAGES = (
    "query($n: Int) { units(first: $n) { edges { node { code "
    "voters(first: $n) { edges { node { epicNumber name age gender houseNumber } } } } } } }"
)
ALIASES = "{ " + " ".join(f"a{i}: voters(first: 500) {{ edges {{ node {{ name age }} }} }}" for i in range(20)) + " }"
BATCH_OP = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(20)) + " }"
MAX_OPEN_EXPORTS = 10


@dataclass
class Side:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)  # transport errors, by exception name

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


@dataclass
class Report:
    attacker: Side
    victim: Side
    seconds: float
    exports_opened: int


async def _unread_export(base: str, token: str, hold_s: float) -> None:
    """GET /export/voters.csv?unit=UP on a socket with a small receive buffer that is never read."""
    parts = urlsplit(base)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
        request = (
            f"GET /export/voters.csv?unit=UP HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        await asyncio.get_running_loop().sock_sendall(sock, request.encode())
        await asyncio.sleep(hold_s)
    finally:
        sock.close()


async def _attack(client: httpx.AsyncClient, token: str, until: float, side: Side) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    bodies: list[object] = [
        {"query": FLOAT_PAGES, "variables": {"n": 500.0}},
        [{"query": BATCH_OP}] * 10,
        {"query": ALIASES},
    ]
    step = 0
    while time.monotonic() < until:
        step += 1
        try:
            response = await client.post("/graphql", json=bodies[step % len(bodies)], headers=headers)
            side.statuses[response.status_code] += 1
        except httpx.HTTPError as exc:
            side.errors[type(exc).__name__] += 1


async def _victim(client: httpx.AsyncClient, token: str, until: float, side: Side) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = await client.post("/graphql", json={"query": VICTIM_QUERY}, headers=headers)
            side.statuses[response.status_code] += 1
        except httpx.HTTPError as exc:
            side.errors[type(exc).__name__] += 1
        side.latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)  # an official clicking, not a loop: ~50 requests a second at most


async def run_abuse(base: str, attacker_token: str, victim_token: str, *, seconds: float, attackers: int) -> Report:
    attacker, victim = Side(), Side()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=attackers + 2, max_keepalive_connections=attackers + 2)
    async with (
        httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as attack_client,
        httpx.AsyncClient(base_url=base, timeout=30) as victim_client,
    ):
        await asyncio.gather(
            *(_unread_export(base, attacker_token, seconds) for _ in range(MAX_OPEN_EXPORTS)),
            *(_attack(attack_client, attacker_token, until, attacker) for _ in range(attackers)),
            _victim(victim_client, victim_token, until, victim),
        )
    return Report(attacker=attacker, victim=victim, seconds=seconds, exports_opened=MAX_OPEN_EXPORTS)


def markdown(report: Report) -> str:
    victim = report.victim
    lines = [
        "| side | requests | statuses | transport errors | p50 | p99 | max |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for name, side in (("attacker", report.attacker), ("victim", victim)):
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(side.statuses.items()))
        errors = ", ".join(f"{k}: {n}" for k, n in side.errors.items()) or "0"
        timing = (
            f"{side.percentile(0.5) * 1000:.0f} ms | {side.percentile(0.99) * 1000:.0f} ms | "
            f"{max(side.latencies, default=0) * 1000:.0f} ms"
            if side.latencies
            else "- | - | -"
        )
        lines.append(f"| {name} | {sum(side.statuses.values())} | {statuses} | {errors} | {timing} |")
    lines.append(f"\n{report.seconds:.0f} s; unread exports opened: {report.exports_opened}")
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--attackers", type=int, default=16)
    args = parser.parse_args()
    if not 0 < args.seconds <= 60 or not 0 < args.attackers <= 64:
        parser.error("keep it short: --seconds 0..60, --attackers 1..64")

    from core.auth import make_token

    secret = secrets.token_urlsafe(32)
    port = _free_port()
    env = os.environ | {"DATABASE_URL": args.database_url, "JWT_SECRET": secret, "GRAPHIQL": "false"}
    server = subprocess.Popen(
        [str(MAIN / ".venv/bin/boothgraph"), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=MAIN
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        report = asyncio.run(
            run_abuse(
                base,
                make_token(ATTACKER, secret, ttl_s=600),
                make_token(VICTIM, secret, ttl_s=600),
                seconds=args.seconds,
                attackers=args.attackers,
            )
        )
        print(markdown(report))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
