"""PostgreSQL going away: fail fast with 503 SERVICE_UNAVAILABLE, recover by itself.

The app reaches the database through a TCP proxy the test can cut and restore, so the
database "goes down" for the app only (other tests share the server)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from core.settings import Settings
from server import create_app
from tests.serverkit import SECRET, bearer, client_for, free_port, seed, tiny_schema

ME = {"query": "{ me { id } }"}


class Proxy:
    """TCP in front of PostgreSQL's TCP port, or of its Unix socket (the embedded server)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            host, port = self.target
            if host.startswith("/"):
                up_reader, up_writer = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
            else:
                up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    def url(self, database_url: str) -> str:
        parts = urlsplit(database_url)
        netloc = f"{parts.username}@127.0.0.1:{self.port}" if parts.username else f"127.0.0.1:{self.port}"
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@pytest.fixture
async def proxy(database_url: str):  # type: ignore[no-untyped-def]
    parts = urlsplit(database_url)
    socket_dir = dict(parse_qsl(parts.query)).get("host")  # embedded: ?host=/path/to/socket/dir
    proxy = Proxy(socket_dir or parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    yield proxy
    with contextlib.suppress(Exception):
        await proxy.stop()


async def test_database_down_is_503_and_recovers(database_url: str, proxy: Proxy) -> None:
    await seed(database_url)
    async with client_for(proxy.url(database_url), seeded=False) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.post("/graphql", json=ME, headers=bearer())).status_code == 200

        await proxy.stop()
        started = time.perf_counter()
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert time.perf_counter() - started < 2
        assert (await client.get("/healthz")).status_code == 200

        started = time.perf_counter()
        down = await client.post("/graphql", json=ME, headers=bearer())
        assert time.perf_counter() - started < 3
        assert down.status_code == 503, down.text
        assert down.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "Traceback" not in down.text and "127.0.0.1" not in down.text

        await proxy.start()  # PostgreSQL is back: the pool reconnects by itself
        assert (await client.get("/readyz")).status_code == 200
        back = await client.post("/graphql", json=ME, headers=bearer())
        assert back.status_code == 200 and back.json()["data"]["me"]["id"] == "u-000001"


async def test_database_lost_during_execution_is_503(database_url: str, proxy: Proxy) -> None:
    await seed(database_url)
    async with client_for(proxy.url(database_url), seeded=False, pool_min_size=1, pool_max_size=1) as client:
        assert (await client.post("/graphql", json={"query": "{ database }"}, headers=bearer())).status_code == 200
        # The viewer is loaded, then the connection dies while the resolver waits on PostgreSQL.
        request = asyncio.create_task(
            client.post("/graphql", json={"query": "{ slowSql(seconds: 2) }"}, headers=bearer())
        )
        await asyncio.sleep(0.5)
        await proxy.stop()
        response = await request
        assert response.status_code == 503, response.text
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_statement_timeout_fails_fast(database_url: str) -> None:
    async with client_for(database_url, statement_timeout_ms=300) as client:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": "{ slowSql(seconds: 5) }"}, headers=bearer())
        assert time.perf_counter() - started < 3
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "pg_sleep" not in response.text and "canceling" not in response.text


async def test_startup_on_an_unreachable_database_fails_fast() -> None:
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/nothing", jwt_secret=SECRET, connect_timeout_s=1
    )
    app = create_app(settings, schema=tiny_schema(settings))
    started = time.perf_counter()
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises, it must not hang
        async with app.router.lifespan_context(app):
            pass
    assert time.perf_counter() - started < 10
