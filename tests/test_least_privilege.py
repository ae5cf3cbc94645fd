"""Least privilege (core/roles.py): the server's role is no superuser, owns nothing, cannot touch
the audit log or any table's definition even with hand-written SQL, and the server works end to
end as that role (a read, a mutation, an import, an export); migrations run as the owner and
grant every table, a later one included."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from core import migrate
from core.database import with_user
from core.roles import privilege_problems, setup_roles
from server import build_schema
from tests.conftest import DatabaseFactory
from tests.dataset import load_folder
from tests.serverkit import bearer, client_for, settings_for
from tests.writes_support import DISTRICT_CONVENOR_LKO, LKO


@dataclass
class Roles:
    owner: str
    app: str
    owner_url: str
    app_url: str


@pytest.fixture
async def roles(db_factory: DatabaseFactory) -> AsyncIterator[Roles]:
    """A migrated database (cloned as the superuser's, as an old deployment would be) handed
    over to two roles of its own: names unique to this test, roles being cluster-wide."""
    url = await db_factory.create()
    tag = uuid.uuid4().hex[:8]
    owner, app = f"bg_owner_{tag}", f"bg_app_{tag}"
    conn = await asyncpg.connect(url)
    try:
        await setup_roles(conn, owner_role=owner, app_role=app)
    finally:
        await conn.close()
    try:
        yield Roles(owner, app, with_user(url, owner), with_user(url, app))
    finally:
        await db_factory.drop(url)
        admin = await asyncpg.connect(db_factory.server_url)
        try:
            await admin.execute(f"drop role if exists {app}; drop role if exists {owner}")
        finally:
            await admin.close()


HAND_WRITTEN = [
    "update audit_log set records = 0",
    "delete from audit_log",
    "truncate audit_log",
    "alter table audit_log disable trigger audit_log_no_update",
    "alter table audit_log owner to current_user",
    "drop table audit_log",
    "alter table voters add column leaked text",
    "drop table voters",
    "truncate voters",
    "drop function refresh_rollups(integer[], integer[])",
    "create table public.mine (x int)",
    "create index voters_name_again on voters (name)",
    "set session_replication_role = replica",
]


async def test_the_app_role_cannot_touch_the_audit_log_or_any_definition(roles: Roles, tiny_dataset: Path) -> None:
    owner = await asyncpg.connect(roles.owner_url)
    try:
        await load_folder(owner, tiny_dataset)  # the command-line import, as the owner
        assert await owner.fetchval("select count(*) from audit_log") >= 1
        before = [tuple(r) for r in await owner.fetch("select * from audit_log order by id")]
    finally:
        await owner.close()
    app = await asyncpg.connect(roles.app_url)
    try:
        assert await privilege_problems(app) == []
        assert (
            await app.fetchval(
                "select rolsuper or rolcreaterole or rolcreatedb from pg_roles where rolname = $1", roles.app
            )
            is False
        )
        refused = []
        for sql in HAND_WRITTEN:
            try:
                await app.execute(sql)
            except asyncpg.InsufficientPrivilegeError:
                refused.append(sql)
        assert refused == HAND_WRITTEN
        # what it may do: read, and append to the audit log
        assert await app.fetchval("select count(*) from voters") > 0
        await app.execute("insert into audit_log (user_id, action, records) values ('u-000001', 'data.export', 1)")
        after = [tuple(r) for r in await app.fetch("select * from audit_log order by id")]
        assert after[: len(before)] == before and len(after) == len(before) + 1
    finally:
        await app.close()


def _voters_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_the_server_works_end_to_end_as_the_app_role(roles: Roles, tiny_dataset: Path) -> None:
    owner = await asyncpg.connect(roles.owner_url)
    try:
        await load_folder(owner, tiny_dataset)
        epic = await owner.fetchval(
            """select v.epic_number from voters v join units d on d.id = v.district_id
               where d.code = $1 order by v.epic_number limit 1""",
            LKO,
        )
        overrides = {"migration_database_url": roles.owner_url}
        schema = build_schema(settings_for(roles.app_url, **overrides))
        async with client_for(roles.app_url, seeded=False, schema=schema, **overrides) as client:
            assert (
                await owner.fetchval(
                    "select usename from pg_stat_activity where application_name = 'boothgraph' limit 1"
                )
                == roles.app
            )
            headers = bearer(DISTRICT_CONVENOR_LKO)
            read = await client.post(
                "/graphql",
                json={
                    "query": '{ voters(unit: "UP-AWD-LKO", first: 2) { totalCount edges { node { phone caste } } } }'
                },
                headers=headers,
            )
            assert read.status_code == 200 and "errors" not in read.json(), read.text
            assert len(read.json()["data"]["voters"]["edges"]) == 2
            write = await client.post(
                "/graphql",
                json={
                    "query": 'mutation($e: String!) { updateVoterSurvey(input: {epicNumber: $e, caste: "GEN-09"}) '
                    "{ epicNumber caste } }",
                    "variables": {"e": epic},
                },
                headers=headers,
            )
            assert write.json() == {"data": {"updateVoterSurvey": {"epicNumber": epic, "caste": "GEN-09"}}}, write.text
            export = await client.get("/export/voters.csv", params={"unit": LKO}, headers=headers)
            assert export.status_code == 200
            rows = list(csv.DictReader(io.StringIO(export.text)))[:3]
            for row in rows:
                row["name"] = row["name"] + " Jr"
            imported = await client.post(
                "/import", files={"voters.csv": ("voters.csv", _voters_csv(rows), "text/csv")}, headers=headers
            )
            assert imported.status_code == 200, imported.text
        names = await owner.fetch(
            "select name from voters where epic_number = any($1::text[]) order by epic_number",
            [r["epic_number"] for r in rows],
        )
        assert {r["name"] for r in names} == {r["name"] for r in rows}
        actions = [
            r["action"]
            for r in await owner.fetch(
                "select action from audit_log where user_id = $1 order by id", DISTRICT_CONVENOR_LKO
            )
        ]
        assert [a for a in actions if a != "voter.read_contact" and a != "voter.read_sensitive"] == [
            "voter.write",
            "data.export",
            "data.import",
        ]
    finally:
        await owner.close()


async def test_a_table_added_by_a_later_migration_is_granted_by_the_upgrade(roles: Roles) -> None:
    owner = await asyncpg.connect(roles.owner_url)
    app = await asyncpg.connect(roles.app_url)
    try:
        await owner.execute("create table later_table (id int generated always as identity, x text)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("insert into later_table (x) values ('a')")
        migrate.upgrade(roles.owner_url, roles.app)  # what serve / import run at start
        await app.execute("insert into later_table (x) values ('a')")
        assert await app.fetchval("select count(*) from later_table") == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("drop table later_table")
        # the audit log stays append-only after the grants are applied again
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("delete from audit_log")
    finally:
        await app.close()
        await owner.close()
