#!/usr/bin/env python3
"""CPU per request of the HTTP layer alone: the server's middleware (request id, access log with
the JSON formatter writing to /dev/null, security headers, errors, body limit, auth, rate limit)
and the policy files' check, around an app that answers a small JSON body at once. No network,
no database, no GraphQL: what a request costs before and after the work, the part that issues
17 and 18 added (bench/README.md, "Per-request costs"). Run it in each checkout's own venv:

    .venv/bin/python bench/middleware_cost.py [--requests 20000] [--repeat 7]

Prints the best of REPEAT runs (the least disturbed on a shared machine) in microseconds of
process CPU per request, for the whole stack and with each piece alone. The code measured is
that of the venv's checkout (its editable install), so this one file measures any commit.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import time
from typing import Any

from core.auth import make_token
from core.ratelimit import RateLimiter
from policies.engine import PolicyEngine

# Each piece by module and class; a commit without one (725d7ed has no request id middleware and
# no core/logs.py) is measured without it.
PIECES = {
    "request_id": ("middleware.request_id", "RequestIdMiddleware"),
    "access_log": ("middleware.access_log", "AccessLogMiddleware"),
    "security_headers": ("middleware.security_headers", "SecurityHeadersMiddleware"),
    "errors": ("middleware.errors", "ErrorResponseMiddleware"),
    "body_limit": ("middleware.body_limit", "BodyLimitMiddleware"),
    "auth": ("middleware.auth", "AuthMiddleware"),
    "ratelimit": ("middleware.ratelimit", "RateLimitMiddleware"),
}


def piece(name: str) -> Any:
    module, cls = PIECES[name]
    try:
        return getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError):
        return None


SECRET = "bench-secret-0123456789abcdefghijklmnop"
BODY = b'{"data":{"voter":null}}'


async def answer(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def json_access_log() -> str:
    """As `boothgraph serve` sets it up with LOG_FORMAT=json (core/logs.py), into /dev/null; a
    checkout without core/logs.py: uvicorn's text line, as it wrote then."""
    handler = logging.StreamHandler(open("/dev/null", "w"))  # noqa: SIM115 - lives as long as the process
    try:
        from core.logs import JsonFormatter, RequestIdFilter

        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        kind = "JSON"
    except ImportError:
        from uvicorn.logging import DefaultFormatter

        handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s", use_colors=False))
        kind = "text"
    access = logging.getLogger("boothgraph.access")
    access.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    access.propagate = False
    return kind


def stack(pieces: set[str]) -> Any:
    """The pieces present in this checkout, in the server's order (request id outermost)."""
    app: Any = answer
    options: dict[str, dict[str, Any]] = {
        "ratelimit": {"limiter": RateLimiter(1_000_000, 1_000_000)},
        "auth": {"secret": SECRET, "is_public": lambda scope: False},
        "body_limit": {"max_bytes": 1 << 20},
    }
    for name in ("ratelimit", "auth", "body_limit", "errors", "security_headers", "access_log", "request_id"):
        middleware = piece(name) if name in pieces else None
        if middleware is not None:
            app = middleware(app, **options.get(name, {}))
    return app


def policy_check(engine: PolicyEngine) -> Any:
    """What get_context does about the policy files on every request."""
    if hasattr(engine, "reload_if_stale"):
        return lambda: engine.reload_if_stale(0.5)
    view = importlib.import_module("server").BoothgraphGraphQL
    if "reload_if_changed" in inspect.getsource(view.get_context):
        return engine.reload_if_changed  # every request, as main did
    return None  # 725d7ed: only the watcher looked


async def run(app: Any, n: int, check: Any) -> float:
    token = make_token("u-000006", SECRET)
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"wrk"),
        (b"content-type", b"application/json"),
        (b"content-length", b"120"),
        (b"authorization", f"Bearer {token}".encode()),
    ]

    async def receive() -> dict:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict) -> None:
        pass

    start = time.process_time()
    for _ in range(n):
        scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": list(headers), "query_string": b""}
        if check is not None:
            check()
        await app(scope, receive, send)
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=7)
    a = p.parse_args()
    print(
        f"access log lines: {json_access_log()}; pieces missing here: "
        f"{', '.join(n for n in PIECES if piece(n) is None) or 'none'}"
    )
    engine = PolicyEngine()
    everything = {"request_id", "access_log", "security_headers", "errors", "body_limit", "auth", "ratelimit"}
    cases: list[tuple[str, set[str], bool]] = [
        ("whole stack + policy check", everything, True),
        ("whole stack", everything, False),
        ("no middleware (the app alone)", set(), False),
        ("policy check alone", set(), True),
        *((f"{piece} alone", {piece}, False) for piece in sorted(everything)),
    ]
    for name, pieces, with_check in cases:
        app = stack(pieces)
        check = policy_check(engine) if with_check else None
        best = min(asyncio.run(run(app, a.requests, check)) for _ in range(a.repeat))
        print(f"{best:7.2f} us  {name}", flush=True)


if __name__ == "__main__":
    main()
