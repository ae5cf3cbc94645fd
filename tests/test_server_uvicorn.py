"""A few checks against a real uvicorn on a free port: what an in-process transport hides
(real sockets, chunked uploads, lifespan under uvicorn, graceful shutdown)."""

from __future__ import annotations

import asyncio
import threading

import httpx

from server import create_app
from tests.serverkit import bearer, running_server, seed, settings_for, tiny_schema


def _app(database_url: str):  # type: ignore[no-untyped-def]
    settings = settings_for(database_url)
    return create_app(settings, schema=tiny_schema(settings))


async def test_real_server_end_to_end(database_url: str) -> None:
    await seed(database_url)
    app = _app(database_url)

    def run() -> None:
        with running_server(app) as base, httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
            ok = client.post("/graphql", json={"query": "{ me { id } }"}, headers=bearer())
            assert ok.status_code == 200 and ok.json() == {"data": {"me": {"id": "u-000001"}}}
            assert ok.headers["x-frame-options"] == "DENY"
            assert client.post("/graphql", json={"query": "{ me { id } }"}).status_code == 401

            def chunks():  # chunked transfer encoding, no Content-Length
                yield b'{"query": "{ me { id } }", "x": "'
                for _ in range(40):
                    yield b"a" * 32_768
                yield b'"}'

            big = client.post("/graphql", content=chunks(), headers=bearer() | {"Content-Type": "application/json"})
            assert big.status_code == 413

    await asyncio.to_thread(run)


async def test_graceful_shutdown_lets_requests_finish(database_url: str) -> None:
    await seed(database_url)
    app = _app(database_url)

    def run() -> None:
        results: list[httpx.Response] = []
        with running_server(app, timeout_graceful_shutdown=10) as base:

            def slow() -> None:
                with httpx.Client(base_url=base, timeout=10) as client:
                    results.append(client.post("/graphql", json={"query": "{ sleep(seconds: 1) }"}, headers=bearer()))

            thread = threading.Thread(target=slow)
            thread.start()
            threading.Event().wait(0.3)  # the request is in flight when shutdown begins
        thread.join(timeout=10)
        assert results and results[0].status_code == 200
        assert results[0].json() == {"data": {"sleep": True}}

    await asyncio.to_thread(run)
