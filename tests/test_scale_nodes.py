"""Two API processes (`boothgraph serve`, real uvicorn) on one primary and its standby: what one
node does is honoured by the other on its very next request (a grant, a revocation), and a
cursor signed by one node pages on the other."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from policies.engine import POLICY_DIR
from tests.pgpair import PgPair
from tests.scalekit import GRANT, REVOKE, UNITS, make_database, scale_client
from tests.serverkit import BOOTHGRAPH, ROOT, SECRET, bearer, serve_process


def node(primary_url: str, standby_url: str, tmp: Path) -> contextlib.AbstractContextManager[str]:
    """`boothgraph serve` in a process of its own, reading from the standby; yields its base URL."""
    return serve_process(tmp, DATABASE_URL=primary_url, READ_DATABASE_URL=standby_url, REPLICA_CHECK_S="0.2")


@contextlib.asynccontextmanager
async def two_nodes(
    pair: PgPair, database: str, tmp: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    with (
        node(pair.primary.url(database), pair.standby.url(database), tmp / "a") as a,
        node(pair.primary.url(database), pair.standby.url(database), tmp / "b") as b,
    ):
        async with httpx.AsyncClient(base_url=a, timeout=20) as one, httpx.AsyncClient(base_url=b, timeout=20) as two:
            yield one, two


async def post(client: httpx.AsyncClient, query: str, user: str = "u-000001", **variables: object) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=bearer(user))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_grant_through_one_node_is_honoured_by_the_other_at_once(
    shared_pg_pair: PgPair, tmp_path: Path
) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    nothing = {"data": {"units": {"edges": []}}}
    up = {"data": {"units": {"edges": [{"node": {"code": "UP"}}]}}}
    async with two_nodes(pair, database, tmp_path) as (one, two):
        assert await post(two, UNITS, user="u-000002") == nothing  # node two has seen u-000002 without roles
        assignment = (await post(one, GRANT, u="u-000002"))["data"]["grantRole"]["id"]
        assert await post(two, UNITS, user="u-000002") == up
        await pair.standby.fetchval("select pg_wal_replay_pause()")
        try:
            assert await post(two, REVOKE, a=assignment) == {"data": {"revokeRole": True}}
            assert await post(one, UNITS, user="u-000002") == nothing
        finally:
            await pair.standby.fetchval("select pg_wal_replay_resume()")


async def test_a_cursor_from_one_node_pages_on_the_other(shared_pg_pair: PgPair, tmp_path: Path) -> None:
    pair = shared_pg_pair
    database = await make_database(pair, grantees=5)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    page = (
        "query($after: String) { auditLog(first: 2, after: $after) "
        "{ edges { node { id } } pageInfo { endCursor hasNextPage } } }"
    )
    async with two_nodes(pair, database, tmp_path) as (one, two):
        for i in range(5):
            assert "errors" not in await post(one, GRANT, u=f"u-{100_000 + i}")
        await pair.wait_replayed()
        await asyncio.sleep(0.5)
        first = (await post(one, page))["data"]["auditLog"]
        assert first["pageInfo"]["hasNextPage"] is True
        on_two = await post(two, page, after=first["pageInfo"]["endCursor"])
        on_one = await post(one, page, after=first["pageInfo"]["endCursor"])
        assert "errors" not in on_two and on_two == on_one
        ids = [e["node"]["id"] for e in first["edges"] + on_two["data"]["auditLog"]["edges"]]
        assert len(set(ids)) == 4


async def test_a_policy_edit_counts_from_the_next_request(shared_pg_pair: PgPair, tmp_path: Path) -> None:
    """The watcher's period (POLICY_RELOAD_S) is an hour here: the request itself notices the edit
    (POLICY_FILE_CHECK_S=0: the files are looked at on every request)."""
    pair = shared_pg_pair
    database = await make_database(pair)
    policy_dir = _copied_policy(tmp_path)
    async with scale_client(
        pair, database, policy_dir=policy_dir, policy_reload_s=3600, policy_file_check_s=0
    ) as client:
        assert "audit.read" in await _permissions(client)
        _drop_state_presidents_audit_read(policy_dir)
        assert "audit.read" not in await _permissions(client)


async def test_a_policy_edit_counts_within_the_file_check_bound(shared_pg_pair: PgPair, tmp_path: Path) -> None:
    """The default: a request looks at the files when they were last looked at POLICY_FILE_CHECK_S
    ago or more, so an edit counts from the first request that much after it."""
    pair = shared_pg_pair
    database = await make_database(pair)
    policy_dir = _copied_policy(tmp_path)
    async with scale_client(
        pair, database, policy_dir=policy_dir, policy_reload_s=3600, policy_file_check_s=0.2
    ) as client:
        assert "audit.read" in await _permissions(client)
        _drop_state_presidents_audit_read(policy_dir)
        await asyncio.sleep(0.25)
        assert "audit.read" not in await _permissions(client)


def _copied_policy(tmp_path: Path) -> Path:
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    for name in ("model.conf", "policy.csv"):
        (policy_dir / name).write_bytes((POLICY_DIR / name).read_bytes())
    return policy_dir


def _drop_state_presidents_audit_read(policy_dir: Path) -> None:
    rules = (policy_dir / "policy.csv").read_text().splitlines()
    edited = [r for r in rules if r.replace(" ", "") != "p,STATE_PRESIDENT,audit.read"]
    assert len(edited) == len(rules) - 1
    (policy_dir / "policy.csv").write_text("\n".join(edited) + "\n")


async def _permissions(client: httpx.AsyncClient) -> list[str]:
    response = await client.post("/graphql", json={"query": "{ me { permissions } }"}, headers=bearer())
    permissions: list[str] = response.json()["data"]["me"]["permissions"]
    return permissions


def _edited_policy(tmp_path: Path) -> Path:
    """The shipped policy without STATE_PRESIDENT's audit.read."""
    directory = tmp_path / "edited"
    directory.mkdir()
    (directory / "model.conf").write_bytes((POLICY_DIR / "model.conf").read_bytes())
    rules = (POLICY_DIR / "policy.csv").read_text().splitlines()
    kept = [r for r in rules if r.replace(" ", "") != "p,STATE_PRESIDENT,audit.read"]
    assert len(kept) == len(rules) - 1
    (directory / "policy.csv").write_text("\n".join(kept) + "\n")
    return directory


def _policy_command(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": SECRET}
    return subprocess.run(
        [str(BOOTHGRAPH), "policy", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout


async def test_a_published_policy_counts_on_every_node_from_its_next_request(
    shared_pg_pair: PgPair, tmp_path: Path
) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    me = "{ me { permissions } }"
    async with two_nodes(pair, database, tmp_path) as (one, two):
        for node_ in (one, two):
            assert "audit.read" in (await post(node_, me))["data"]["me"]["permissions"]
        out = await asyncio.to_thread(
            _policy_command, pair.primary.url(database), "publish", "--dir", str(_edited_policy(tmp_path))
        )
        assert "published policy version 1" in out
        for node_ in (two, one):  # no wait: the version comes with the viewer on every request
            assert "audit.read" not in (await post(node_, me))["data"]["me"]["permissions"]
            assert (await post(node_, "{ auditLog(first: 1) { edges { node { action } } } }")) == {
                "data": {"auditLog": {"edges": []}}
            }
        out = await asyncio.to_thread(_policy_command, pair.primary.url(database), "withdraw")
        assert "withdrawn" in out
        for node_ in (one, two):
            assert "audit.read" in (await post(node_, me))["data"]["me"]["permissions"]
