#!/usr/bin/env python3
"""The database work of one boothgraph request, replayed without the server: a ceiling for
issue 18 §2's throughput target that no HTTP or GraphQL layer can pass.

1. Builds the app in this process (`server.create_app`, DATABASE_URL from the environment), sends
   it one request of the operation (ASGI, no network) and records every statement the request runs
   on a pooled connection: the viewer's read (middleware/viewer.py: roles come from the database
   on every request, service.md "Auth"), the operation's own statements, the read audit if any.
2. Replays those statements, with the same arguments, as one "request" each time, at C concurrent
   requests over a pool made by `core.database.create_pool` (the server's pool: same reset, same
   session settings), taking a connection per statement as the server's gate does.

What is left out is everything above the database driver: HTTP parsing, middleware, GraphQL
execution, the response's JSON. The replay's req/s is therefore what a server built on these
statements could serve at best with one process, next to the peer's and limit.py's figures
(bench/README.md, "Issue 18 §2: the ceiling").

    DATABASE_URL=postgresql://postgres@127.0.0.1:55432/boothgraph JWT_SECRET=... \\
    .venv/bin/python bench/sql_floor.py --query-file q1_booth_page.graphql --variables @q1.vars.json \\
        --user u-000006 [-n 2000] [-c 16] [--warmup 200] [--label Q1]

Prints the statements recorded (to stderr) and one JSON line like driver.py's (label "sql:<label>",
engine "asyncpg", n, c, rps, p50_ms, p99_ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.auth import make_token  # noqa: E402
from core.database import create_pool  # noqa: E402
from core.settings import Settings  # noqa: E402

METHODS = ("fetch", "fetchrow", "fetchval", "execute")
Statement = tuple[str, str, tuple[Any, ...]]


@contextmanager
def recording() -> Iterator[list[Statement]]:
    """Every statement run through asyncpg.Connection's query methods while the block runs."""
    seen: list[Statement] = []
    originals = {name: getattr(asyncpg.connection.Connection, name) for name in METHODS}

    def recorder(name: str) -> Any:
        original = originals[name]

        def record(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            seen.append((name, query, args))
            return original(self, query, *args, **kwargs)

        return record

    for name in METHODS:
        setattr(asyncpg.connection.Connection, name, recorder(name))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(asyncpg.connection.Connection, name, original)


async def statements_of_one_request(settings: Settings, body: bytes, token: str) -> tuple[int, bytes, list[Statement]]:
    from server import create_app  # call time: builds the app from the environment's settings

    app = create_app(settings)
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    async with app.router.lifespan_context(app):

        async def one() -> tuple[int, bytes]:
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": "/graphql",
                "raw_path": b"/graphql",
                "query_string": b"",
                "root_path": "",
                "headers": headers,
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000),
                "state": {},
            }
            sent: list[dict[str, Any]] = []
            delivered = False

            async def receive() -> dict[str, Any]:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await asyncio.Event().wait()  # the client never disconnects mid-request
                raise AssertionError("unreachable")

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            await app(scope, receive, send)
            return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

        await one()  # warms the caches (parse, validation, cost, prepared statements)
        with recording() as seen:
            status, answer = await one()
    return status, answer, list(seen)


async def replay(pool: asyncpg.Pool, statements: list[Statement], n: int, c: int) -> dict[str, Any]:
    latencies: list[float] = []
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            for method, query, args in statements:
                conn = await pool.acquire()
                try:
                    await getattr(conn, method)(query, *args)
                finally:
                    await pool.release(conn)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(c)))
    seconds = time.perf_counter() - start
    latencies.sort()

    def pick(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 3)

    return {"n": len(latencies), "c": c, "seconds": round(seconds, 3), "rps": round(len(latencies) / seconds, 3),
            "p50_ms": pick(0.5), "p99_ms": pick(0.99), "errors": 0, "engine": "asyncpg"}  # fmt: skip


def variables_from(text: str) -> dict[str, Any]:
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise SystemExit("--variables must be a JSON object")
    return value


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--query-file", required=True, type=Path)
    parser.add_argument("--variables", default="{}", help="JSON, or @file")
    parser.add_argument("--user", required=True, help="the users.csv id the request is made as")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("-c", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--label", default=None)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL must name the boothgraph database to measure")
    settings = Settings()
    secret = settings.secret_for_serving()
    body = json.dumps({"query": args.query_file.read_text(), "variables": variables_from(args.variables)}).encode()
    token = make_token(args.user, secret)
    status, answer, statements = await statements_of_one_request(settings, body, token)
    label = args.label or args.query_file.stem
    if status != 200 or b'"errors"' in answer:
        raise SystemExit(f"{label}: the request failed ({status}): {answer[:300]!r}")
    print(f"sql:{label}: {len(statements)} statement(s) for one request; answer {answer[:120]!r}", file=sys.stderr)
    for method, query, params in statements:
        print(f"  {method}({' '.join(query.split())[:150]} ...) args={params!r:.80}", file=sys.stderr)
    pool = await create_pool(settings, min_size=args.c, max_size=args.c)
    try:
        if args.warmup:
            await replay(pool, statements, args.warmup, args.c)
        result = await replay(pool, statements, args.n, args.c)
    finally:
        await pool.close()
    result = {"label": f"sql:{label}", "statements": len(statements), **result}
    print(f"sql:{label}: {result['rps']:.0f} req/s  p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms",
          file=sys.stderr)  # fmt: skip
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
