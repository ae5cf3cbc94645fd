"""A real PostgreSQL primary and a streaming standby on loopback, for the scaling tests.

Built with the machine's PostgreSQL binaries (PG_BINDIR, else /usr/lib/postgresql/15/bin):
`initdb` a primary in a temporary directory, start it on a free port, `pg_basebackup -R` a
standby from it (standby.signal and primary_conninfo written by -R) and start that on another
free port. `initdb` refuses to run as root, so as root every binary runs as the `postgres` OS
user (`runuser -u postgres --`) in directories it owns. Both servers trust loopback
connections as the superuser `postgres`; sockets live in the temporary directory, so nothing
of the machine's own cluster is touched.

`pg_pair` (a pytest fixture in tests/conftest.py) skips with the reason when the binaries or the
`postgres` user are missing. Everything is stopped (`pg_ctl -m immediate`) and removed at the end,
whatever the test did to it (a stopped standby, a promoted one, a primary stopped for good).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

BINDIR = Path(os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"
SUPERUSER = "postgres"


def unavailable_reason() -> str | None:
    """Why a pair cannot be made here, or None."""
    for tool in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not (BINDIR / tool).exists():
            return f"PostgreSQL binaries not found in {BINDIR} (set PG_BINDIR): {tool} is missing"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root and there is no `{OS_USER}` OS user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *args] if os.geteuid() == 0 else args


def _run(*args: str, timeout: float = 120) -> None:
    result = subprocess.run(
        _as_owner([*args]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout.decode(errors='replace')}")


@dataclass
class Node:
    """One PostgreSQL server of the pair."""

    name: str
    datadir: Path
    port: int
    socket_dir: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str, timeout: float = 60) -> None:
        _run(str(BINDIR / "pg_ctl"), "-D", str(self.datadir), *args, timeout=timeout)

    def start(self) -> None:
        self.pg_ctl("-w", "-t", "60", "-l", str(self.datadir.parent / f"{self.name}.log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-t", "60", "-m", mode, "stop")

    def promote(self) -> None:
        """`pg_ctl promote`, as Patroni would: the standby becomes a primary."""
        self.pg_ctl("-w", "-t", "60", "promote")

    @property
    def running(self) -> bool:
        return (self.datadir / "postmaster.pid").exists()

    def log(self) -> str:
        path = self.datadir.parent / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def fetchval(self, sql: str, *args: object, database: str = "postgres") -> object:
        conn = await asyncpg.connect(self.url(database), timeout=5)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()


@dataclass
class PgPair:
    """A primary and its streaming standby. `synchronous`: the primary waits for the standby's
    flush before a commit returns (`synchronous_standby_names`), so no acknowledged write is lost
    when the primary dies and the standby is promoted."""

    base: Path
    synchronous: bool = False
    primary: Node = field(init=False)
    standby: Node = field(init=False)

    def __post_init__(self) -> None:
        self.primary = Node("primary", self.base / "primary", free_port(), self.base)
        self.standby = Node("standby", self.base / "standby", free_port(), self.base)

    def _conf(self, node: Node, **settings: str) -> None:
        lines = [f"{key} = '{value}'" for key, value in settings.items()]
        with (node.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/pgpair.py\n" + "\n".join(lines) + "\n")

    def start(self) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(OS_USER)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self.base.chmod(0o755)
        _run(
            str(BINDIR / "initdb"),
            "-D",
            str(self.primary.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        common = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.base),
            "max_connections": "100",
            "shared_buffers": "32MB",
            "fsync": "on",
            "wal_keep_size": "256MB",
            "hot_standby_feedback": "on",
            "wal_receiver_status_interval": "1s",
            "logging_collector": "off",
        }
        self._conf(self.primary, port=str(self.primary.port), cluster_name="primary", **common)
        if self.synchronous:
            # The standby's walreceiver reports its cluster_name as application_name.
            self._conf(self.primary, synchronous_standby_names="standby", synchronous_commit="on")
        self.primary.start()
        _run(
            str(BINDIR / "pg_basebackup"),
            "-D",
            str(self.standby.datadir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            SUPERUSER,
            "-R",
            "-X",
            "stream",
            "--no-sync",
        )
        # A promoted standby may itself be asked to keep a synchronous standby: not here.
        self._conf(self.standby, port=str(self.standby.port), cluster_name="standby", synchronous_standby_names="")
        self.standby.start()

    async def wait_streaming(self, timeout_s: float = 30) -> None:
        """Until the primary sees the standby streaming (and, synchronous, as its sync standby)."""
        deadline = time.monotonic() + timeout_s
        want = "sync" if self.synchronous else None
        while True:
            state = await self.primary.fetchval(
                "select sync_state from pg_stat_replication where application_name = 'standby' and state = 'streaming'"
            )
            if state is not None and (want is None or state == want):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the standby is not streaming (sync_state {state!r}):\n{self.standby.log()[-2000:]}"
                )
            await asyncio.sleep(0.1)

    async def wait_replayed(self, timeout_s: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        target = await self.primary.fetchval("select pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + timeout_s
        while True:
            replayed = await self.standby.fetchval("select pg_last_wal_replay_lsn()")  # asyncpg: an int
            if replayed is not None and replayed >= target:  # type: ignore[operator]
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not replay the primary's WAL in time")
            await asyncio.sleep(0.05)

    def close(self) -> None:
        for node in (self.standby, self.primary):
            if node.running:
                try:
                    node.stop("immediate")
                except (RuntimeError, subprocess.SubprocessError, OSError):
                    pass
        shutil.rmtree(self.base, ignore_errors=True)


def make_pair(*, synchronous: bool = False) -> PgPair:
    pair = PgPair(Path(tempfile.mkdtemp(prefix="bg-pgpair-")), synchronous=synchronous)
    try:
        pair.start()
    except BaseException:
        pair.close()
        raise
    return pair
