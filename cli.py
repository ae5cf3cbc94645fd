"""The `boothgraph` command: serve, demo, import, token (service.md), stats release, schema,
db create-roles, db stop.

Configuration comes from the environment (and `.env`): DATABASE_URL (unset: an embedded
PostgreSQL under ./.boothgraph/), JWT_SECRET (unset: generated and kept under ./.boothgraph/
for the embedded database; required with a DATABASE_URL), and the rest of core.settings.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from core import migrate
from core.auth import make_token
from core.database import DatabaseUrls, asyncpg_dsn, database_url, database_urls
from core.errors import BoothgraphError
from core.roles import APP_ROLE, OWNER_ROLE
from core.settings import Settings, SettingsError

# uvicorn, workers and transfer.* are imported in the commands that use them: without them
# every command (`boothgraph token` above all) starts about 0.15 s sooner.
if TYPE_CHECKING:
    from transfer.report import ImportReport

PRESETS = ("tiny", "small", "medium")
DEMO_TOKEN_TTL_S = 12 * 3600
GRACEFUL_SHUTDOWN_S = 15
IMPORT_USER = "system"  # who the audit log names for a command-line import (an administrator)


class CommandError(Exception):
    """A failure to report in one line on stderr (no traceback), with an exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------- database ---
def prepare_database(settings: Settings) -> DatabaseUrls:
    """The database URLs (starting the embedded PostgreSQL and setting up its roles if needed),
    migrated to head by the owner, the server's role granted."""
    if settings.embedded:
        _say(
            f"Using the embedded PostgreSQL under {settings.data_dir}/ (set DATABASE_URL to use another); it stops "
            "when the last boothgraph command using it ends (`boothgraph db stop` stops it at once)"
        )
    try:
        urls = database_urls(settings)
        migrate.upgrade(urls.owner, urls.app_role)
    except Exception as exc:
        raise CommandError(f"cannot prepare the database: {type(exc).__name__}: {exc}") from exc
    return urls


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    except Exception as exc:
        raise CommandError(f"cannot reach the database: {type(exc).__name__}: {exc}") from exc


# -------------------------------------------------------------------- serve ---
def serve(settings: Settings, urls: DatabaseUrls, secret: str, host: str, port: int, workers: int) -> None:
    """Run uvicorn on `server:app_from_env`; every worker reads the resolved URLs and secret.
    Several workers: one socket each on the same port (workers.py), not uvicorn's shared one.
    "serving http://…" is printed once the port accepts connections, never before."""
    import uvicorn

    from core.logs import log_config
    from workers import ListeningServer

    os.environ["DATABASE_URL"] = urls.server
    os.environ["MIGRATION_DATABASE_URL"] = urls.owner
    os.environ["JWT_SECRET"] = secret
    config: dict[str, Any] = {
        "app": "server:app_from_env",
        "factory": True,
        "host": host,
        "port": port,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
        "log_config": log_config("json" if settings.json_logs else "text"),
        "access_log": False,  # middleware.access_log writes one line per request
        "server_header": False,
    }

    def listening() -> None:
        stops = " (the embedded PostgreSQL stops with it)" if settings.embedded else ""
        _say(f"boothgraph: serving http://{host}:{port}/graphql with {workers} worker(s); Ctrl-C stops it{stops}")

    if workers <= 1:
        server = ListeningServer(uvicorn.Config(**config), listening)
        try:
            server.run()
        except SystemExit as exc:  # uvicorn exits when the port is taken or the app cannot start
            raise CommandError(f"cannot serve on {host}:{port} (see above)", status=int(exc.code or 1)) from None
        except KeyboardInterrupt:
            pass
        if not server.started:
            raise CommandError(f"cannot serve on {host}:{port} (see above)", status=3)
        return
    import shutil
    import tempfile

    from core import metrics
    from workers import serve_workers

    # Every worker writes its metrics here and /metrics adds them up (core/metrics.py).
    metrics_dir = tempfile.mkdtemp(prefix="boothgraph-metrics-")
    os.environ[metrics.MULTIPROC_ENV] = metrics_dir
    try:
        status = serve_workers(
            config,
            workers,
            stop_timeout_s=GRACEFUL_SHUTDOWN_S + 5,
            on_listening=listening,
            on_exit=metrics.worker_exited,
        )
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", status=2) from exc
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    if status:
        raise CommandError("a worker could not start (see above)", status=status)


def _secret(settings: Settings) -> str:
    try:
        return settings.secret_for_serving()
    except SettingsError as exc:
        raise CommandError(str(exc), status=2) from exc


def cmd_serve(args: argparse.Namespace) -> int:
    settings = Settings()
    secret = _secret(settings)
    urls = prepare_database(settings)
    serve(settings, urls, secret, args.host, args.port, args.workers)
    return 0


# --------------------------------------------------------------------- demo ---
EXAMPLES: dict[str, str] = {
    "CALLER": "{ myCallList(first: 5) { totalCount edges { node { voter { name phone } campaign { name } } } } }",
    "BOOTH_PRESIDENT": '{ voters(unit: "%s", first: 5) '
    "{ totalCount edges { node { name age phone redactedFields } } } }",
    "MANDAL_PRESIDENT": '{ unit(code: "%s") { name children(first: 5) '
    "{ edges { node { code name stats { voters } } } } } }",
}
DEFAULT_EXAMPLE = '{ unit(code: "%s") { name level stats { voters contactable byGender { key count } suppressed } } }'

SAMPLE_USERS_SQL = """
select distinct on (a.role) a.role, a.user_id, u.code
from assignments a join units u on u.id = a.unit_id
order by a.role, u.depth, a.id
"""


def example_query(role: str, unit_code: str) -> str:
    template = EXAMPLES.get(role, DEFAULT_EXAMPLE)
    return template % unit_code if "%s" in template else template


async def _load_demo(url: str, folder: Path, preset: str, seed: int) -> list[tuple[str, str, str]]:
    """Loads the demo data set into an empty database; returns (role, user id, unit code)
    for one user of each role: from the demo folder, else (data loaded some other way) from
    the database."""
    from transfer.demo import demo_users, write_demo_dataset
    from transfer.demo_campaign import seed_demo_campaign

    conn = await _connect(url)
    try:
        if await conn.fetchval("select exists (select 1 from units)"):
            _say("The database already holds units: skipping the demo data load")
        else:
            _say(f"Writing the {preset!r} demo data set to {folder}/ …")
            write_demo_dataset(folder, preset, seed)
            _say("Importing it …")
            report = await _import(conn, folder)
            _say(f"Imported {report.records} records in {report.seconds:.1f} s")
        seeded = await seed_demo_campaign(conn)
        if seeded is not None:
            _say(f"Opened a demo campaign in {seeded[0]} with {seeded[1]} calls assigned to its callers")
        if (folder / "assignments.csv").is_file():
            return demo_users(folder)
        return [(r["role"], r["user_id"], r["code"]) for r in await conn.fetch(SAMPLE_USERS_SQL)]
    finally:
        await conn.close()


def print_tokens(users: Sequence[tuple[str, str, str]], secret: str, host: str, port: int) -> None:
    url = f"http://{host}:{port}/graphql"
    app = f"http://{host}:{port}/app/"
    print(f"\nThe officials' app: {app} (open a role's link below; the token stays in this tab)")
    print(f"GraphiQL: {url} (add the header  Authorization: Bearer <token>)\n")
    for role, user_id, unit_code in users:
        token = make_token(user_id, secret, ttl_s=DEMO_TOKEN_TTL_S)
        body = json.dumps({"query": example_query(role, unit_code)})
        print(f"# {role}: {user_id} at {unit_code}")
        print(f"app: {app}#token={token}")
        print(f"export TOKEN_{role}={token}")
        auth = f'-H "Authorization: Bearer $TOKEN_{role}"'
        print(f"curl -s {url} {auth} -H 'Content-Type: application/json' -d '{body}'\n")
    sys.stdout.flush()


def cmd_demo(args: argparse.Namespace) -> int:
    settings = Settings()
    secret = _secret(settings)
    urls = prepare_database(settings)
    folder = settings.data_dir / f"demo-{args.preset}"
    users = asyncio.run(_load_demo(urls.owner, folder, args.preset, args.seed))
    print_tokens(users, secret, args.host, args.port)
    if not args.no_serve:
        serve(settings, urls, secret, args.host, args.port, args.workers)
    return 0


# ------------------------------------------------------------------- import ---
async def _import(conn: asyncpg.Connection, folder: Path) -> ImportReport:
    from transfer.importer import import_folder

    try:
        return await import_folder(conn, folder, user_id=IMPORT_USER, progress=True)
    except BoothgraphError as exc:  # CsvImportError names file:line: column: reason
        from transfer.refused_audit import record_refused_import, state_unit

        files = sorted(p.name for p in folder.glob("*.csv"))
        await record_refused_import(conn, user_id=IMPORT_USER, units=await state_unit(conn), error=exc, files=files)
        raise CommandError(exc.message) from exc


async def _import_folder(url: str, folder: Path) -> ImportReport:
    conn = await _connect(url)
    try:
        return await _import(conn, folder)
    finally:
        await conn.close()


def cmd_import(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder", status=2)
    urls = prepare_database(Settings())
    report = asyncio.run(_import_folder(urls.owner, folder))  # as the tables' owner
    print("\n".join(report.lines()))
    print(f"{report.records} records in {report.seconds:.1f} s")
    return 0


# ---------------------------------------------------------------- elections ---
async def _import_elections(url: str, folder: Path) -> list[str]:
    from transfer.elections_csv import import_elections

    conn = await _connect(url)
    try:
        return (await import_elections(conn, folder)).lines()
    except BoothgraphError as exc:  # CsvImportError names file:line: column: reason
        raise CommandError(exc.message) from exc
    finally:
        await conn.close()


def cmd_elections_import(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder", status=2)
    urls = prepare_database(Settings())
    print("\n".join(asyncio.run(_import_elections(urls.owner, folder))))
    return 0


# -------------------------------------------------------------------- stats ---
async def _release(url: str, min_cell: int, every_booth: bool) -> str:
    from resolvers.release import release, release_due

    conn = await _connect(url)
    try:
        if every_booth:
            report = await release(conn, min_cell=min_cell)
        else:
            due = await release_due(conn, min_cell=min_cell)
            if due is None:
                return "nothing due (no booth has MIN_CELL_SIZE changed voters, or a release is running)"
            report = due
    finally:
        await conn.close()
    degenerate = f", {len(report.degenerate)} unprotectable (whole row hidden)" if report.degenerate else ""
    return (
        f"released {report.booths} booths: {report.cells} cells, {report.suppressed} suppressed{degenerate} "
        f"in {report.seconds:.1f} s"
    )


def cmd_stats_release(args: argparse.Namespace) -> int:
    settings = Settings()
    urls = prepare_database(settings)
    print(asyncio.run(_release(urls.owner, settings.min_cell_size, args.all)), flush=True)
    return 0


# ------------------------------------------------------------------- policy ---
async def _publish_policy(url: str, directory: Path | None) -> int:
    from core.policy_store import publish
    from policies import PolicyEngine

    try:
        engine = PolicyEngine(directory)  # refuses a model or rules Casbin cannot load
    except Exception as exc:
        raise CommandError(f"the policy in {directory or 'policies/'} does not load: {exc}") from exc
    model, rules = engine.files_text()
    conn = await _connect(url)
    try:
        return await publish(conn, model=model, rules=rules, published_by=getpass.getuser())
    finally:
        await conn.close()


def cmd_policy_publish(args: argparse.Namespace) -> int:
    settings = Settings()
    urls = prepare_database(settings)
    version = asyncio.run(_publish_policy(urls.owner, args.dir or settings.policy_dir))
    print(f"published policy version {version}: every server runs it from its next request", flush=True)
    return 0


async def _withdraw_policy(url: str) -> bool:
    from core.policy_store import withdraw

    conn = await _connect(url)
    try:
        return await withdraw(conn)
    finally:
        await conn.close()


def cmd_policy_withdraw(args: argparse.Namespace) -> int:
    settings = Settings()
    urls = prepare_database(settings)
    withdrawn = asyncio.run(_withdraw_policy(urls.owner))
    print("withdrawn: every server runs its POLICY_DIR again" if withdrawn else "no policy was published", flush=True)
    return 0


# -------------------------------------------------------------------- token ---
async def _user_exists(url: str, user_id: str) -> bool:
    conn = await _connect(url)
    try:
        return bool(await conn.fetchval("select exists (select 1 from users where id = $1)", user_id))
    finally:
        await conn.close()


def cmd_token(args: argparse.Namespace) -> int:
    if args.ttl <= 0:
        raise CommandError("--ttl must be a positive number of seconds", status=2)
    settings = Settings()
    secret = _secret(settings)
    print(make_token(args.user_id, secret, ttl_s=args.ttl), flush=True)
    # The token is printed either way (service.md); a user the database does not know gets
    # a warning, since the server will answer 401 for it.
    if settings.embedded and not (settings.data_dir / "pg").exists():
        _say("warning: no database yet, so the user could not be checked")
        return 0
    try:
        exists = asyncio.run(_user_exists(database_url(settings), args.user_id))
    except CommandError as exc:
        _say(f"warning: the user could not be checked ({exc})")
        return 0
    if not exists:
        _say(f"warning: user {args.user_id!r} does not exist; the server will refuse this token (401)")
    return 0


# --------------------------------------------------------------- operations ---
def _checked_operations(folder: Path) -> list[tuple[str, str, str]]:
    """(file name, sha256, text) of every .graphql file of `folder`, each parsed and validated
    against the schema; the first that fails stops everything (nothing is registered)."""
    from graphql import GraphQLError, parse, validate

    from core.persisted import sha256_of
    from schema import schema

    found = []
    for path in sorted(folder.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        try:
            errors = validate(schema._schema, parse(text))
        except GraphQLError as exc:
            errors = [exc]
        if errors:
            raise CommandError(f"{path.name}: {errors[0].message}")
        found.append((path.name, sha256_of(text), text))
    if not found:
        raise CommandError(f"{folder}: no .graphql file", status=2)
    return found


async def _register(url: str, operations: list[tuple[str, str, str]]) -> None:
    from core.persisted import PersistedOperations

    conn = await _connect(url)
    try:
        store = PersistedOperations()
        async with conn.transaction():
            for name, digest, text in operations:
                await store.register(conn, digest, text, source=f"cli:{name}")
    finally:
        await conn.close()


def cmd_operations_register(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder", status=2)
    operations = _checked_operations(folder)
    urls = prepare_database(Settings())
    asyncio.run(_register(urls.owner, operations))
    for name, digest, _ in operations:
        print(f"{digest}  {name}")
    sys.stdout.flush()
    return 0


# ------------------------------------------------------------------- invite ---
async def _invite(url: str, user_id: str, ttl_s: int) -> str:
    from resolvers.identity import issue_invitation

    conn = await _connect(url)
    try:
        issued = await issue_invitation(conn, policy=None, issuer=None, user_id=user_id, ttl_s=ttl_s)
    except BoothgraphError as exc:
        raise CommandError(exc.message) from exc
    finally:
        await conn.close()
    until = issued.expires_at.isoformat(timespec="minutes")
    return f"{issued.code}\n(valid until {until}; exchange it once at POST /auth/invitation)"


def cmd_invite(args: argparse.Namespace) -> int:
    urls = prepare_database(Settings())
    code, _, note = asyncio.run(_invite(urls.owner, args.user_id, args.ttl)).partition("\n")
    print(code, flush=True)
    _say(note)
    return 0


async def _revoke_sessions(url: str, user_id: str) -> int:
    from resolvers.identity import revoke_sessions

    conn = await _connect(url)
    try:
        return await revoke_sessions(conn, policy=None, revoker=None, user_id=user_id)
    except BoothgraphError as exc:
        raise CommandError(exc.message) from exc
    finally:
        await conn.close()


def cmd_sessions_revoke(args: argparse.Namespace) -> int:
    urls = prepare_database(Settings())
    count = asyncio.run(_revoke_sessions(urls.owner, args.user_id))
    print(f"ended {count} session(s) of {args.user_id}", flush=True)
    return 0


# ----------------------------------------------------------------------- db ---
async def _role_statements(url: str, owner_role: str, app_role: str) -> list[str]:
    from core.roles import create_roles_statements, grant_statements, ownership_statements, quote_ident

    conn = await _connect(url)
    try:
        database = await conn.fetchval("select current_database()")
        return [
            *create_roles_statements(owner_role=owner_role, app_role=app_role, database=database),
            *await ownership_statements(conn, owner_role),
            f"set role {quote_ident(owner_role)}",
            *await grant_statements(conn, app_role),
            "reset role",
        ]
    finally:
        await conn.close()


async def _apply_roles(url: str, owner_role: str, app_role: str) -> None:
    from core.roles import setup_roles

    conn = await _connect(url)
    try:
        await setup_roles(conn, owner_role=owner_role, app_role=app_role)
    finally:
        await conn.close()


def cmd_db_create_roles(args: argparse.Namespace) -> int:
    """The owner and app roles of core/roles.py on MIGRATION_DATABASE_URL (else DATABASE_URL),
    connected as an administrator: printed as SQL, or applied with --apply."""
    settings = Settings()
    if settings.embedded:
        from core.database import embedded_url

        url = embedded_url(settings.data_dir)  # its superuser; `serve` sets the roles up by itself
    else:
        url = settings.migration_database_url or settings.database_url or ""
    if args.apply:
        try:
            asyncio.run(_apply_roles(url, args.owner_role, args.app_role))
        except asyncpg.PostgresError as exc:
            raise CommandError(f"cannot set the roles up (connect as a superuser): {exc}") from exc
        _say(f"roles {args.owner_role} (owner) and {args.app_role} (server) are set up")
    else:
        for statement in asyncio.run(_role_statements(url, args.owner_role, args.app_role)):
            print(statement.rstrip() + ";")
    _say(
        f"next: alter role … password …; then DATABASE_URL=postgresql://{args.app_role}:…@host/db (the server) and "
        f"MIGRATION_DATABASE_URL=postgresql://{args.owner_role}:…@host/db (migrations, import)"
    )
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    """Stop the embedded PostgreSQL of DATA_DIR, whoever started it."""
    from core import embedded

    settings = Settings()
    if not settings.embedded:
        raise CommandError("DATABASE_URL is set: that database is not boothgraph's to stop", status=2)
    if embedded.stop(settings.data_dir):
        _say(f"stopped the embedded PostgreSQL under {settings.data_dir}/")
    else:
        _say(f"the embedded PostgreSQL under {settings.data_dir}/ is not running")
    return 0


# ------------------------------------------------------------------- schema ---
def cmd_schema(args: argparse.Namespace) -> int:
    """The GraphQL schema in SDL, as the server serves it (no database needed)."""
    from schema.sdl import schema_sdl

    sys.stdout.write(schema_sdl())
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------- main ---
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boothgraph",
        description="GraphQL API over booth-level voter data. Configuration comes from the environment and .env "
        "(README: Configuration); without DATABASE_URL an embedded PostgreSQL under DATA_DIR is used.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        p.add_argument(
            "--workers",
            type=int,
            default=1,
            help="worker processes, one per core (default 1; rate limits are per worker)",
        )

    serve_p = commands.add_parser("serve", help="apply migrations, then run the GraphQL server")
    server_options(serve_p)
    serve_p.set_defaults(handler=cmd_serve)

    demo_p = commands.add_parser("demo", help="load a demo data set into an empty database, print tokens, serve")
    demo_p.add_argument("--preset", choices=PRESETS, default="small", help="size of the demo data set (default small)")
    demo_p.add_argument("--seed", type=int, default=7, help="random seed of the generated data (default 7)")
    demo_p.add_argument("--no-serve", action="store_true", help="load and print the tokens, then exit")
    server_options(demo_p)
    demo_p.set_defaults(handler=cmd_demo)

    import_p = commands.add_parser("import", help="apply migrations, then import a folder of CSV files")
    import_p.add_argument("dir", metavar="DIR", help="folder of CSV files named as in csv-format.md")
    import_p.set_defaults(handler=cmd_import)

    elections_p = commands.add_parser("elections", help="elections: `elections import DIR` loads elections and phases")
    elections_commands = elections_p.add_subparsers(
        dest="elections_command", required=True, metavar="ELECTIONS_COMMAND"
    )
    elections_import_p = elections_commands.add_parser(
        "import", help="apply migrations, then import elections.csv and election_phases.csv (docs/elections.md)"
    )
    elections_import_p.add_argument(
        "dir", metavar="DIR", help="folder holding elections.csv and election_phases.csv (docs/elections.md)"
    )
    elections_import_p.set_defaults(handler=cmd_elections_import)

    stats_p = commands.add_parser("stats", help="statistics: `stats release` publishes the sensitive breakdowns")
    stats_commands = stats_p.add_subparsers(dest="stats_command", required=True, metavar="STATS_COMMAND")
    release_p = stats_commands.add_parser(
        "release", help="release the booths due (MIN_CELL_SIZE changed voters) and decide the suppression pattern"
    )
    release_p.add_argument("--all", action="store_true", help="release every booth from the live counts")
    release_p.set_defaults(handler=cmd_stats_release)

    policy_p = commands.add_parser("policy", help="the access policy published through the database")
    policy_commands = policy_p.add_subparsers(dest="policy_command", required=True, metavar="POLICY_COMMAND")
    publish_p = policy_commands.add_parser(
        "publish", help="publish a policy directory (model.conf, policy.csv) to every server through the database"
    )
    publish_p.add_argument(
        "--dir", type=Path, default=None, help="policy directory (default POLICY_DIR, else policies/)"
    )
    publish_p.set_defaults(handler=cmd_policy_publish)
    withdraw_p = policy_commands.add_parser("withdraw", help="withdraw the published policy: servers use their files")
    withdraw_p.set_defaults(handler=cmd_policy_withdraw)

    token_p = commands.add_parser("token", help="print a signed access token for a user")
    token_p.add_argument("user_id", metavar="USER_ID", help="a users.csv id (the token's `sub`)")
    token_p.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid (default 3600)")
    token_p.set_defaults(handler=cmd_token)

    invite_p = commands.add_parser(
        "invite", help="print a one-time invitation code for a user, to exchange at POST /auth/invitation"
    )
    invite_p.add_argument("user_id", metavar="USER_ID", help="a users.csv id holding at least one role")
    invite_p.add_argument(
        "--ttl", type=int, default=7 * 24 * 3600, help="seconds the code is valid (default 604800, a week)"
    )
    invite_p.set_defaults(handler=cmd_invite)

    sessions_p = commands.add_parser("sessions", help="signed-in sessions: `sessions revoke USER_ID`")
    sessions_commands = sessions_p.add_subparsers(dest="sessions_command", required=True, metavar="SESSIONS_COMMAND")
    revoke_p = sessions_commands.add_parser(
        "revoke", help="end every session of a user on every server at once, and spend their unused invitations"
    )
    revoke_p.add_argument("user_id", metavar="USER_ID", help="a users.csv id")
    revoke_p.set_defaults(handler=cmd_sessions_revoke)

    operations_p = commands.add_parser("operations", help="persisted operations: `operations register DIR`")
    operations_commands = operations_p.add_subparsers(
        dest="operations_command", required=True, metavar="OPERATIONS_COMMAND"
    )
    register_p = operations_commands.add_parser(
        "register", help="register every .graphql file of a folder as a persisted operation; prints hash and file"
    )
    register_p.add_argument("dir", metavar="DIR", help="folder of .graphql files, one operation document each")
    register_p.set_defaults(handler=cmd_operations_register)

    schema_p = commands.add_parser("schema", help="print the GraphQL schema (SDL) for code generators")
    schema_p.set_defaults(handler=cmd_schema)

    db_p = commands.add_parser("db", help="database administration: create-roles, stop")
    db_commands = db_p.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    roles_p = db_commands.add_parser(
        "create-roles", help="the tables' owner and the server's least-privileged role: print the SQL, or --apply it"
    )
    roles_p.add_argument("--owner-role", default=OWNER_ROLE, help=f"role that owns the tables (default {OWNER_ROLE})")
    roles_p.add_argument("--app-role", default=APP_ROLE, help=f"role the server connects as (default {APP_ROLE})")
    roles_p.add_argument("--apply", action="store_true", help="run it (as a superuser) instead of printing it")
    roles_p.set_defaults(handler=cmd_db_create_roles)
    stop_p = db_commands.add_parser(
        "stop", help="stop the embedded PostgreSQL under DATA_DIR now (commands stop it when the last one ends)"
    )
    stop_p.set_defaults(handler=cmd_db_stop)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Each command's help line also heads its own `--help`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                sub.description = sub.description or helps.get(name)
                _describe(sub)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except CommandError as exc:
        _say(f"boothgraph {args.command}: {exc}")
        return exc.status
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
