"""The policy published through the database (core/policy_store.py, migration 0007): two apps
on one database (two nodes' worth of in-memory state) run a published version from their next
request, a broken one is refused without failing requests, and the server's role cannot
publish."""

from __future__ import annotations

import asyncpg
import pytest

from core.policy_store import fetch_published, publish, withdraw
from policies.engine import POLICY_DIR
from tests.pgpair import PgPair
from tests.scalekit import make_database, scale_client
from tests.serverkit import bearer

ME = {"query": "{ me { permissions } }"}


def _shipped() -> tuple[str, str]:
    return (POLICY_DIR / "model.conf").read_text(), (POLICY_DIR / "policy.csv").read_text()


async def _permissions(client) -> list[str]:  # noqa: ANN001
    response = await client.post("/graphql", json=ME, headers=bearer())
    assert response.status_code == 200, response.text
    return response.json()["data"]["me"]["permissions"]


async def test_two_apps_follow_the_published_versions(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    model, rules = _shipped()
    without_audit = "\n".join(r for r in rules.splitlines() if r.replace(" ", "") != "p,STATE_PRESIDENT,audit.read")
    without_outreach = "\n".join(
        r for r in rules.splitlines() if r.replace(" ", "") != "p,STATE_PRESIDENT,outreach.manage"
    )
    owner = await asyncpg.connect(pair.primary.url(database))
    try:
        async with scale_client(pair, database) as one, scale_client(pair, database) as two:
            assert {"audit.read", "outreach.manage"} <= set(await _permissions(one))
            assert await publish(owner, model=model, rules=without_audit, published_by="test") == 1
            for client in (one, two):
                granted = set(await _permissions(client))
                assert "audit.read" not in granted and "outreach.manage" in granted
            assert await publish(owner, model=model, rules=without_outreach, published_by="test") == 2
            for client in (two, one):
                granted = set(await _permissions(client))
                assert "audit.read" in granted and "outreach.manage" not in granted
            assert await withdraw(owner)
            for client in (one, two):
                assert {"audit.read", "outreach.manage"} <= set(await _permissions(client))
            assert await fetch_published(owner) is None
    finally:
        await owner.close()


async def test_a_policy_that_does_not_load_is_refused_and_requests_go_on(shared_pg_pair: PgPair) -> None:
    pair = shared_pg_pair
    database = await make_database(pair)
    model, rules = _shipped()
    owner = await asyncpg.connect(pair.primary.url(database))
    try:
        async with scale_client(pair, database) as client:
            before = await _permissions(client)
            await publish(owner, model="[request_definition]\nthis is not a model", rules=rules, published_by="test")
            assert await _permissions(client) == before  # the last good policy, no failed request
            assert await _permissions(client) == before
            await publish(
                owner, model=model, rules=rules.replace("p, STATE_PRESIDENT, audit.read\n", ""), published_by="t"
            )
            assert "audit.read" not in await _permissions(client)
    finally:
        await owner.close()


async def test_the_servers_role_can_only_read_the_published_policy(database_url: str) -> None:
    from tests.serverkit import as_app_role

    urls = await as_app_role(database_url)
    app = await asyncpg.connect(urls["database_url"])
    try:
        assert await fetch_published(app) is None
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await publish(app, model="m", rules="r", published_by="server")
    finally:
        await app.close()


async def test_every_endpoint_follows_the_published_policy_from_its_first_request(shared_pg_pair: PgPair) -> None:
    """/export (like printouts, /import and /auth/*) takes its policy where /graphql does
    (AppState.policy_for): a publish counts from the endpoint's next request, even when no GraphQL
    request came in between."""
    pair = shared_pg_pair
    database = await make_database(pair)
    model, rules = _shipped()
    owner = await asyncpg.connect(pair.primary.url(database))
    try:
        async with scale_client(pair, database) as client:
            refused = await client.get("/export/voters.csv", params={"unit": "UP"}, headers=bearer())
            assert refused.status_code == 403, refused.text
            await publish(owner, model=model, rules=rules + "\np, STATE_PRESIDENT, data.export\n", published_by="t")
            allowed = await client.get("/export/voters.csv", params={"unit": "UP"}, headers=bearer())
            assert allowed.status_code == 200, allowed.text
            assert allowed.text.startswith("epic_number,")
            await withdraw(owner)
            again = await client.get("/export/voters.csv", params={"unit": "UP"}, headers=bearer())
            assert again.status_code == 403, again.text
    finally:
        await owner.close()
