"""PostgreSQL really stopped (`pg_ctl stop -m fast`) and started again under a running uvicorn.

The test runs an embedded PostgreSQL of its own (pgserver, on a Unix socket in its data
directory), so the server the other tests share is never touched. While it is down the server
answers 503 at once (no hang); once it is back the server recovers by itself; and the grants
issued around the stop are each either applied with their audit entry or not at all."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core import migrate
from server import build_schema, create_app
from tests.serverkit import bearer, running_server, seed, settings_for

GRANT = 'mutation($u: ID!) { grantRole(userId: $u, role: STATE_GENERAL_SECRETARY, unit: "UP") { id } }'
ME = {"query": "{ me { id } }"}
pytestmark = pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR")  # pgserver's platformdirs, harmless
WRITERS = 4
USERS_PER_WRITER = 400


class Postgres:
    """A pgserver cluster the test may stop and start (pg_ctl, as pgserver itself runs it)."""

    def __init__(self, pgdata: Path) -> None:
        import pgserver

        self.pgdata = pgdata.resolve()
        self.server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir = info.socket_dir
        self.url = self.server.get_uri()

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), *args],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # never a pipe: the postmaster would inherit it
            stderr=subprocess.DEVNULL,
            timeout=60,
            user=self.server.system_user,  # "pgserver" when running as root, else None
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-w", "-m", mode, "stop")

    def start(self) -> None:
        from pgserver.utils import PostmasterInfo

        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")
        self.server._postmaster_info = PostmasterInfo.read_from_pgdata(self.pgdata)  # for pgserver's own cleanup

    def close(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except (subprocess.SubprocessError, OSError):
                pass
        self.server._postmaster_info = None  # stopped above: nothing left for pgserver to stop
        self.server.cleanup()


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    base = Path(tempfile.mkdtemp(prefix="bg-restart-"))
    pg = Postgres(base / "pg")
    try:
        yield pg
    finally:
        pg.close()
        shutil.rmtree(base, ignore_errors=True)


async def _prepare(url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    await seed(url)  # unit UP, u-000001 STATE_PRESIDENT there, u-000002
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "insert into users (id, name) values ($1, $2)",
            [(f"u-{100_000 + i}", f"Grantee {i}") for i in range(WRITERS * USERS_PER_WRITER)],
        )
    finally:
        await conn.close()


async def _until_ready(client: httpx.AsyncClient, seconds: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            if (await client.get("/readyz")).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"the server did not recover within {seconds} s")


async def test_postgresql_stopped_and_started_under_a_running_server(postgres: Postgres) -> None:
    url = postgres.url
    await _prepare(url)
    settings = settings_for(
        url, pool_min_size=2, pool_max_size=4, connect_timeout_s=1.0, rate_limit_per_s=1e6, rate_limit_burst=1_000_000
    )
    app = create_app(settings, schema=build_schema(settings))
    outcomes: list[tuple[str, int, dict[str, Any]]] = []
    stop_writing = asyncio.Event()

    with running_server(app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.post("/graphql", json=ME, headers=bearer())).json() == {
                "data": {"me": {"id": "u-000001"}}
            }

            async def writer(first: int) -> None:
                for i in range(first, first + USERS_PER_WRITER):
                    if stop_writing.is_set():
                        return
                    user = f"u-{100_000 + i}"
                    response = await client.post(
                        "/graphql", json={"query": GRANT, "variables": {"u": user}}, headers=bearer()
                    )
                    outcomes.append((user, response.status_code, response.json()))
                    await asyncio.sleep(0.01 if response.status_code == 200 else 0.05)

            writers = [asyncio.create_task(writer(w * USERS_PER_WRITER)) for w in range(WRITERS)]
            await asyncio.sleep(0.5)  # grants are committing when PostgreSQL goes away
            await asyncio.to_thread(postgres.stop)

            started = time.perf_counter()
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and time.perf_counter() - started < 2
            assert (await client.get("/healthz")).status_code == 200
            started = time.perf_counter()
            down = await client.post("/graphql", json=ME, headers=bearer())
            assert time.perf_counter() - started < 3
            assert down.status_code == 503, down.text
            assert down.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert down.headers["retry-after"] == "1"
            assert "Traceback" not in down.text and str(postgres.pgdata) not in down.text
            await asyncio.sleep(0.5)  # writers keep knocking while it is down

            await asyncio.to_thread(postgres.start)
            await _until_ready(client, 15)  # no restart of the server: its pool reconnects by itself
            back = await client.post("/graphql", json=ME, headers=bearer())
            assert back.status_code == 200 and back.json() == {"data": {"me": {"id": "u-000001"}}}
            await asyncio.sleep(0.3)
            stop_writing.set()
            await asyncio.gather(*writers)

            last = f"u-{100_000 + WRITERS * USERS_PER_WRITER - 1}"
            after = await client.post("/graphql", json={"query": GRANT, "variables": {"u": last}}, headers=bearer())
            assert after.status_code == 200 and "errors" not in after.json(), after.text

    # Every answer was a success or a fast 503; nothing else.
    statuses = {status for _, status, _ in outcomes}
    assert statuses <= {200, 503}, statuses
    succeeded = {user for user, status, body in outcomes if status == 200 and "errors" not in body}
    refused = {user for user, status, _ in outcomes if status == 503}
    for _, status, body in outcomes:
        if status == 503:
            assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"], body
    assert succeeded and refused, (len(succeeded), len(refused))

    conn = await asyncpg.connect(url)
    try:
        granted = {
            r["id"]: r["user_id"]
            for r in await conn.fetch("select id, user_id from assignments where user_id like 'u-1%'")
        }
        audits = [
            json.loads(r["detail"])
            for r in await conn.fetch("select detail from audit_log where action = 'role.grant' and records = 1")
        ]
    finally:
        await conn.close()
    audited = [a["assignment"] for a in audits]
    # all or nothing: each new assignment has exactly one audit entry, each entry its assignment
    assert sorted(audited) == sorted(granted), set(audited) ^ set(granted)
    assert all(granted[a["assignment"]] == a["user"] for a in audits)
    # an answered success is durable; a 503 may or may not have committed, but never half
    assert succeeded <= set(granted.values())
    assert set(granted.values()) <= succeeded | refused | {last}
    assert os.path.isdir(postgres.pgdata)
