"""API keys for partner tools (issue 18 §1): a service account holds a role granted under grantRole's
rules; its keys are shown once, stored hashed with a visible prefix, expire, rotate, revoke, note
their last use, take a rate-limit bucket of their own, and the audit names the key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import asyncpg
import httpx

from core.viewer import load_viewer
from policies import PolicyEngine
from resolvers.roles import grant_role
from tests.dataset import load_folder
from tests.serverkit import bearer, client_for
from tests.writes_support import CALLER_LKO, DISTRICT_PRESIDENT_AYD, DISTRICT_PRESIDENT_LKO, LKO_M01

SERVICE = "svc-crm"


async def _service_account(database_url: str, folder: Path) -> None:
    """The tiny data set, and a service account made a MANDAL_PRESIDENT in LKO by the district
    president, through grantRole's own checks."""
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, folder)
        await conn.execute("insert into users (id, name) values ($1, 'CRM sync')", SERVICE)
        granter = await load_viewer(conn, DISTRICT_PRESIDENT_LKO)
        assert granter is not None
        await grant_role(conn, granter, PolicyEngine(), user_id=SERVICE, role="MANDAL_PRESIDENT", unit=LKO_M01)
    finally:
        await conn.close()


def _key_header(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _me(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": "{ me { id } }"}, headers=_key_header(key))


async def test_keys_act_as_the_service_account_and_are_named_in_the_audit(
    database_url: str, tiny_dataset: Path
) -> None:
    await _service_account(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False, rate_limit_burst=3, rate_limit_per_s=0.01) as client:
        created = await client.post(
            "/auth/api-keys", json={"userId": SERVICE, "name": "crm nightly"}, headers=bearer(DISTRICT_PRESIDENT_LKO)
        )
        assert created.status_code == 201, created.text
        issued = created.json()
        key, prefix = issued["key"], issued["prefix"]
        assert key.startswith(f"bgk_{prefix}_") and len(prefix) == 8
        assert (issued["userId"], issued["name"]) == (SERVICE, "crm nightly")

        for _ in range(2):
            assert (await _me(client, key)).json() == {"data": {"me": {"id": SERVICE}}}
        read = await client.post(
            "/graphql",
            json={"query": '{ readContacts(unit: "UP-AWD-LKO-M01-B0001", voters: 2) }'},
            headers=_key_header(key),
        )
        assert read.json() == {"data": {"readContacts": 2}}
        # The key's own bucket (burst 3 here): its fourth request waits; the account's own
        # token, and other users, are not held back by it.
        limited = await _me(client, key)
        assert limited.status_code == 429 and limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert (
            await client.post("/graphql", json={"query": "{ me { id } }"}, headers=bearer(SERVICE))
        ).status_code == 200

        for bad in (key[:-1] + ("A" if key[-1] != "A" else "B"), "bgk_zzzzzzzz_x", "bgk_short"):
            refused = await _me(client, bad)
            assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("select * from api_keys where prefix = $1", prefix)
        assert row["secret_hash"] == hashlib.sha256(key.split("_", 2)[2].encode()).digest()
        assert key.split("_", 2)[2] not in str(dict(row))
        assert row["last_used_at"] is not None and row["created_by"] == DISTRICT_PRESIDENT_LKO
        reads = await conn.fetch(
            "select user_id, unit_code, records, detail from audit_log where action = 'voter.read_contact'"
        )
        assert [(r["user_id"], r["unit_code"], r["records"], json.loads(r["detail"])) for r in reads] == [
            (SERVICE, "UP-AWD-LKO-M01-B0001", 2, {"apiKey": prefix})
        ]
        created_entry = await conn.fetchrow("select user_id, detail from audit_log where action = 'auth.key_create'")
        assert created_entry["user_id"] == DISTRICT_PRESIDENT_LKO
        assert json.loads(created_entry["detail"])["key"] == prefix
    finally:
        await conn.close()


async def test_rotate_revoke_expire_and_who_may(database_url: str, tiny_dataset: Path) -> None:
    await _service_account(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False) as client:

        async def create(issuer: str, user_id: str = SERVICE, **extra: object) -> httpx.Response:
            return await client.post(
                "/auth/api-keys", json={"userId": user_id, "name": "tool", **extra}, headers=bearer(issuer)
            )

        # Under the no-escalation rules: not by someone who could not grant the account's role.
        for issuer, user_id, status in (
            (CALLER_LKO, SERVICE, 403),
            (DISTRICT_PRESIDENT_AYD, SERVICE, 404),
            (DISTRICT_PRESIDENT_LKO, DISTRICT_PRESIDENT_AYD, 404),
        ):
            assert (await create(issuer, user_id)).status_code == status, (issuer, user_id)
        assert (await create(DISTRICT_PRESIDENT_LKO, ttlDays=0)).status_code == 400

        first = (await create(DISTRICT_PRESIDENT_LKO)).json()
        rotated = await client.post(
            "/auth/api-keys/rotate", json={"prefix": first["prefix"]}, headers=bearer(DISTRICT_PRESIDENT_LKO)
        )
        assert rotated.status_code == 201
        second = rotated.json()
        assert second["prefix"] != first["prefix"] and second["name"] == "tool"
        assert (await _me(client, first["key"])).status_code == 401
        assert (await _me(client, second["key"])).status_code == 200
        # Nobody else rotates or revokes it; a spent prefix is gone.
        other = await client.post(
            "/auth/api-keys/revoke", json={"prefix": second["prefix"]}, headers=bearer(CALLER_LKO)
        )
        assert other.status_code == 403
        spent = await client.post(
            "/auth/api-keys/rotate", json={"prefix": first["prefix"]}, headers=bearer(DISTRICT_PRESIDENT_LKO)
        )
        assert spent.status_code == 404
        revoked = await client.post(
            "/auth/api-keys/revoke", json={"prefix": second["prefix"]}, headers=bearer(DISTRICT_PRESIDENT_LKO)
        )
        assert revoked.json() == {"revoked": True}
        assert (await _me(client, second["key"])).status_code == 401

        third = (await create(DISTRICT_PRESIDENT_LKO)).json()
        assert (await _me(client, third["key"])).status_code == 200
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                "update api_keys set expires_at = now() - interval '1 second' where prefix = $1", third["prefix"]
            )
            actions = [
                r[0] for r in await conn.fetch("select action from audit_log where action like 'auth.key%' order by id")
            ]
        finally:
            await conn.close()
        assert (await _me(client, third["key"])).status_code == 401
        assert actions == ["auth.key_create", "auth.key_rotate", "auth.key_revoke", "auth.key_create"]
