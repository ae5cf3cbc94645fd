"""Least privilege (core/roles.py): the server's role is no superuser, owns nothing, cannot touch
the audit log or any table's definition even with hand-written SQL, and the server works end to
end as that role (a read, a mutation, an import, an export); migrations run as the owner and
grant every table, a later one included."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from core import migrate
from core.database import with_user
from core.roles import privilege_problems, setup_roles
from server import build_schema
from tests.conftest import DatabaseFactory
from tests.dataset import load_folder
from tests.serverkit import bearer, client_for, free_port, settings_for
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
                    "select usename from pg_stat_activity where application_name = 'boothgraph'"
                    " and datname = current_database() limit 1"
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


@pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR")
def test_the_embedded_default_serves_as_the_app_role(tmp_path: Path) -> None:
    """No DATABASE_URL: `demo` sets both roles up on the embedded PostgreSQL and imports as the
    owner; `serve` then connects as boothgraph_app, which owns nothing."""
    from pgserver._commands import POSTGRES_BIN_PATH

    from tests.test_cli import _wait_healthy, command, run

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATION_DATABASE_URL", "JWT_SECRET")}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parent.parent), DATA_DIR=str(tmp_path / "data"))
    pgdata = tmp_path / "data" / "pg"
    try:
        demo = run(["demo", "--preset", "tiny", "--no-serve"], env, tmp_path, timeout=300)
        assert demo.returncode == 0, demo.stderr
        token = next(
            line.split("=", 1)[1]
            for line in demo.stdout.splitlines()
            if line.startswith("export TOKEN_DISTRICT_CONVENOR=")
        )
        port = free_port()
        server = subprocess.Popen(
            [*command(), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, server)
            r = httpx.post(
                f"{base}/graphql",
                json={"query": "{ voters(first: 1) { edges { node { epicNumber } } } }"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert r.status_code == 200 and len(r.json()["data"]["voters"]["edges"]) == 1, r.text
            socket_dir = (pgdata / "postmaster.pid").read_text().splitlines()[4]
            seen = asyncio.run(_embedded_facts(f"postgresql://postgres@/postgres?host={socket_dir}"))
            assert seen == {
                "server_roles": ["boothgraph_app"],
                "superusers": [],
                "table_owners": ["boothgraph_owner"],
                "app_on_audit_log": ["INSERT", "SELECT"],
            }
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        if (pgdata / "postmaster.pid").exists():  # the embedded cluster outlives the commands by design
            subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"],
                check=False,
                capture_output=True,
                user="pgserver" if os.geteuid() == 0 else None,  # as pgserver runs it
            )


async def _embedded_facts(superuser_url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(superuser_url)
    try:
        return {
            "server_roles": [
                r[0]
                for r in await conn.fetch(
                    "select distinct usename from pg_stat_activity where application_name = 'boothgraph'"
                )
            ],
            "superusers": [
                r[0]
                for r in await conn.fetch(
                    "select rolname from pg_roles where rolname like 'boothgraph%' and rolsuper order by 1"
                )
            ],
            "table_owners": [
                r[0] for r in await conn.fetch("select distinct tableowner from pg_tables where schemaname = 'public'")
            ],
            "app_on_audit_log": [
                r[0]
                for r in await conn.fetch(
                    """select privilege_type from information_schema.table_privileges
                       where table_name = 'audit_log' and grantee = 'boothgraph_app' order by 1"""
                )
            ],
        }
    finally:
        await conn.close()


async def test_db_create_roles_prints_then_applies(db_factory: DatabaseFactory, tmp_path: Path) -> None:
    """With a DATABASE_URL of one's own: `boothgraph db create-roles` prints the SQL, `--apply`
    runs it; afterwards the app role has exactly the server's privileges."""
    from tests.test_cli import env_for, run

    url = await db_factory.create()
    tag = uuid.uuid4().hex[:8]
    owner, app = f"bg_owner_{tag}", f"bg_app_{tag}"
    args = ["db", "create-roles", "--owner-role", owner, "--app-role", app]
    try:
        printed = run(args, env_for(url), tmp_path)
        assert printed.returncode == 0, printed.stderr
        lines = printed.stdout.splitlines()
        assert f'alter table public."voters" owner to "{owner}";' in lines
        assert f'grant select, insert on table public."audit_log" to "{app}";' in lines
        assert f'grant select, insert, update, delete on table public."voters" to "{app}";' in lines
        admin = await asyncpg.connect(url)
        try:  # printing changed nothing
            assert (
                await admin.fetchval("select count(*) from pg_roles where rolname = any($1::text[])", [owner, app]) == 0
            )
            applied = run([*args, "--apply"], env_for(url), tmp_path)
            assert applied.returncode == 0, applied.stderr
            owners = await admin.fetch("select distinct tableowner from pg_tables where schemaname = 'public'")
            assert [r[0] for r in owners] == [owner]
            privileges = await admin.fetch(
                """select table_name, string_agg(privilege_type, ',' order by privilege_type)
                   from information_schema.table_privileges where grantee = $1 group by 1 order by 1""",
                app,
            )
            assert dict(privileges) == {
                "alembic_version": "SELECT",
                "api_keys": "DELETE,INSERT,SELECT,UPDATE",
                "published_policy": "SELECT",
                "assignments": "DELETE,INSERT,SELECT,UPDATE",
                "audit_log": "INSERT,SELECT",
                "election_phases": "DELETE,INSERT,SELECT,UPDATE",
                "elections": "DELETE,INSERT,SELECT,UPDATE",
                "beneficiaries": "DELETE,INSERT,SELECT,UPDATE",
                "call_assignments": "DELETE,INSERT,SELECT,UPDATE",
                "call_logs": "DELETE,INSERT,SELECT,UPDATE",
                "campaigns": "DELETE,INSERT,SELECT,UPDATE",
                "invitations": "DELETE,INSERT,SELECT,UPDATE",
                "persisted_operations": "DELETE,INSERT,SELECT,UPDATE",
                "release_changes": "DELETE,INSERT,SELECT,UPDATE",
                "released_cells": "DELETE,INSERT,SELECT,UPDATE",
                "schemes": "DELETE,INSERT,SELECT,UPDATE",
                "sessions": "DELETE,INSERT,SELECT,UPDATE",
                "stats_release": "DELETE,INSERT,SELECT,UPDATE",
                "turnout_marks": "DELETE,INSERT,SELECT,UPDATE",
                "turnout_rollups": "DELETE,INSERT,SELECT,UPDATE",
                "unit_rollups": "DELETE,INSERT,SELECT,UPDATE",
                "units": "DELETE,INSERT,SELECT,UPDATE",
                "users": "DELETE,INSERT,SELECT,UPDATE",
                "voters": "DELETE,INSERT,SELECT,UPDATE",
            }
        finally:
            await admin.close()
    finally:
        await db_factory.drop(url)
        admin = await asyncpg.connect(db_factory.server_url)
        try:
            await admin.execute(f"drop role if exists {app}; drop role if exists {owner}")
        finally:
            await admin.close()
