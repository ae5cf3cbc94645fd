"""Least privilege: the server's database role owns nothing and may not rewrite the audit log.

Two roles (README, "Database roles"):
- the *owner* (`boothgraph_owner` on the embedded database, the user of MIGRATION_DATABASE_URL
  otherwise) owns every table, sequence and function; migrations and `boothgraph import` run as it.
- the *app* role (`boothgraph_app`, the user of DATABASE_URL) is what the server connects as:
  not a superuser, owns nothing; SELECT, INSERT, UPDATE, DELETE on the data tables (writes,
  grants, outreach, and POST /import, which runs in the server), only SELECT and INSERT on
  `audit_log`, SELECT on `alembic_version`, USAGE on the sequences, EXECUTE on the functions.
  So it cannot UPDATE, DELETE or TRUNCATE the audit log, nor ALTER or DROP any table (both need
  ownership), nor disable the audit log's triggers.

The row triggers that keep `unit_rollups` exact run with the rights of whoever writes voters,
so the app role writes `unit_rollups` itself (a derived table, recounted by `refresh_rollups`).
TEMP (staging tables of an HTTP import), NOTIFY, advisory locks and `set_config` need nothing
beyond what PostgreSQL grants to every role. An import under the app role skips the bulk
shortcuts that need ownership or superuser (transfer/bulk.py checks before using them).

`grant_statements` is computed from the catalog each time (`core.migrate.upgrade` applies it
after every upgrade), so a table added by a later migration is granted without anyone having to
remember: data tables get the app's four privileges, and only the tables named in
`APPEND_ONLY` / `READ_ONLY` get less.
"""

from __future__ import annotations

import asyncpg

OWNER_ROLE = "boothgraph_owner"
APP_ROLE = "boothgraph_app"
APPEND_ONLY = ("audit_log",)  # SELECT, INSERT
READ_ONLY = ("alembic_version", "published_policy")  # SELECT (the policy: `boothgraph policy publish`)
MIGRATION_LOCK = 74211  # the advisory lock migrations/env.py holds: grants never race a migration


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def grant_statements(conn: asyncpg.Connection, app_role: str) -> list[str]:
    """The statements that give `app_role` exactly the server's privileges on the tables,
    sequences and functions of schema public (as they are now). Run by their owner."""
    app = quote_ident(app_role)
    tables = [r[0] for r in await conn.fetch("select tablename from pg_tables where schemaname = 'public' order by 1")]
    out = [f"grant usage on schema public to {app}"]
    for table in tables:
        name = f"public.{quote_ident(table)}"
        # From nothing, so that a privilege granted by hand (or by an older version) goes away.
        out.append(f"revoke all on table {name} from {app}")
        if table in APPEND_ONLY:
            out.append(f"grant select, insert on table {name} to {app}")
        elif table in READ_ONLY:
            out.append(f"grant select on table {name} to {app}")
        else:
            out.append(f"grant select, insert, update, delete on table {name} to {app}")
    out.append(f"grant usage, select on all sequences in schema public to {app}")
    out.append(f"grant execute on all functions in schema public to {app}")
    return out


async def grant_app_privileges(conn: asyncpg.Connection, app_role: str) -> None:
    """Apply `grant_statements` in one transaction, serialised with migrations."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        for statement in await grant_statements(conn, app_role):
            await conn.execute(statement)


def create_roles_statements(*, owner_role: str, app_role: str, database: str) -> list[str]:
    """What a superuser (or a CREATEROLE role that owns the database) runs once: the two roles,
    neither a superuser, the owner owning the database and its public schema. Passwords are
    set separately (`alter role … password …`); `boothgraph db create-roles` prints these."""
    owner, app = quote_ident(owner_role), quote_ident(app_role)
    return [
        f"""do $$ begin
  if not exists (select from pg_roles where rolname = '{owner_role.replace("'", "''")}') then
    create role {owner} login nosuperuser nocreaterole nocreatedb;
  end if;
  if not exists (select from pg_roles where rolname = '{app_role.replace("'", "''")}') then
    create role {app} login nosuperuser nocreaterole nocreatedb;
  end if;
end $$""",
        f"alter database {quote_ident(database)} owner to {owner}",
        f"alter schema public owner to {owner}",
        "revoke create on schema public from public",
        f"grant usage on schema public to {app}",
    ]


async def ownership_statements(conn: asyncpg.Connection, owner_role: str) -> list[str]:
    """ALTER … OWNER for what schema public holds that `owner_role` does not own yet (a
    database migrated before the roles existed). Sequences of identity columns follow their
    table."""
    owner = quote_ident(owner_role)
    rows = await conn.fetch(
        """select c.relkind::text as relkind, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
             and pg_get_userbyid(c.relowner) <> $1
             and not exists (select from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')
                             and d.classid = 'pg_class'::regclass and c.relkind = 'S')
           order by c.relkind, c.relname""",
        owner_role,
    )
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence"}
    out = [f"alter {kinds[r['relkind']]} public.{quote_ident(r['relname'])} owner to {owner}" for r in rows]
    functions = await conn.fetch(
        """select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> $1 order by 1""",
        owner_role,
    )
    out += [f"alter function {r[0]} owner to {owner}" for r in functions]
    return out


async def setup_roles(conn: asyncpg.Connection, *, owner_role: str = OWNER_ROLE, app_role: str = APP_ROLE) -> None:
    """As a superuser, on the database `conn` is connected to: both roles, the owner owning
    everything in public, the app role granted. Idempotent (the embedded default runs it at
    every start)."""
    database = await conn.fetchval("select current_database()")
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        for statement in create_roles_statements(owner_role=owner_role, app_role=app_role, database=database):
            await conn.execute(statement)
        for statement in await ownership_statements(conn, owner_role):
            await conn.execute(statement)
    await conn.execute(f"set role {quote_ident(owner_role)}")
    try:
        await grant_app_privileges(conn, app_role)
    finally:
        await conn.execute("reset role")


async def privilege_problems(conn: asyncpg.Connection) -> list[str]:
    """What makes the connected role more than the server needs (logged at start-up)."""
    problems = []
    if await conn.fetchval("select rolsuper from pg_roles where rolname = current_user"):
        problems.append("is a superuser")
    owned = await conn.fetchval(
        """select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind in ('r', 'p') and pg_has_role(current_user, c.relowner, 'USAGE')"""
    )
    if owned:
        problems.append(f"owns (or is a member of the owner of) {owned} tables")
    return problems
