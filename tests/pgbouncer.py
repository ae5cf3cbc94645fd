"""A real PgBouncer (Debian's `pgbouncer`, 1.18 here) in transaction mode in front of a
PostgreSQL, for the pooling test and bench. As root it runs as the `postgres` OS user (it refuses
root), in a temporary directory of its own; stopped and removed at the end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.pgpair import OS_USER, free_port

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def unavailable_reason() -> str | None:
    return None if Path(BINARY).exists() else "pgbouncer is not installed (Debian: apt-get install pgbouncer)"


@contextmanager
def pgbouncer(server_port: int, *, pool_size: int = 4, server_host: str = "127.0.0.1") -> Iterator[int]:
    """PgBouncer on a free port, pool_mode=transaction, every database passed through to
    `server_host:server_port` as the same user (trust auth); yields its port."""
    base = Path(tempfile.mkdtemp(prefix="bg-pgbouncer-"))
    port = free_port()
    (base / "users.txt").write_text('"postgres" ""\n')
    (base / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {base}/users.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
; asyncpg sends these at connect; PgBouncer 1.18 refuses parameters it does not know. The server
; must then carry them itself (ALTER ROLE/DATABASE ... SET), see docs/scaling.md.
ignore_startup_parameters = statement_timeout,idle_in_transaction_session_timeout,extra_float_digits
logfile = {base}/pgbouncer.log
pidfile = {base}/pgbouncer.pid
"""
    )
    command = [BINARY, str(base / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(base, OS_USER)
        for name in ("users.txt", "pgbouncer.ini"):
            shutil.chown(base / name, OS_USER)
        command = ["runuser", "-u", OS_USER, "--", *command]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = base / "pgbouncer.log"
                    raise RuntimeError(f"pgbouncer did not start: {log.read_text() if log.exists() else ''}") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(base, ignore_errors=True)
