"""The embedded PostgreSQL (pgserver) under DATA_DIR/pg: started on demand, stopped when the last
boothgraph process using it ends, and stoppable by hand (`boothgraph db stop`).

pgserver counts the processes holding a cluster in `pg/.handle_pids.json`; with cleanup mode
"stop" the last one to exit stops the cluster. So `boothgraph import` alone leaves nothing
running, while an import next to a running `serve` leaves the server's cluster alone. A process
killed outright cannot take its id off that list, so ids of processes that no longer run are
dropped before every start.
"""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

HANDLES_FILE = ".handle_pids.json"
STOP_TIMEOUT_S = 30

_servers: dict[Path, Any] = {}


def pgdata_of(data_dir: Path) -> Path:
    return (data_dir / "pg").resolve()


def _pgserver() -> Any:
    """The pgserver module. Importing it asks platformdirs for a per-user runtime directory (for
    its lock file), and platformdirs warns (RuntimeDirWarning) when XDG_RUNTIME_DIR is unset, as in
    containers, CI and sudo sessions: every command printed it. The fallback it then takes
    (/tmp/runtime-<uid>, private to the user) is what pgserver needs, so that warning, and only
    that one, is silenced for this import."""
    from platformdirs import RuntimeDirWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeDirWarning)
        import pgserver

    return pgserver


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_dead_handles(pgdata: Path) -> None:
    path = pgdata / HANDLES_FILE
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _process_runs(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))


def start(data_dir: Path) -> str:
    """Start (or join) the embedded cluster of `data_dir`; its superuser URL. The cluster stops
    when the last process that joined it exits."""
    pgdata = pgdata_of(data_dir)
    server = _servers.get(pgdata)
    if server is None:
        pgserver = _pgserver()
        pgdata.mkdir(parents=True, exist_ok=True)
        with pgserver.PostgresServer._lock:  # the lock pgserver takes around its own handle list
            _drop_dead_handles(pgdata)
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
    return str(server.get_uri())


def running_pid(data_dir: Path) -> int | None:
    """The postmaster's pid when the cluster of `data_dir` runs, else None."""
    pid_file = pgdata_of(data_dir) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _process_runs(pid) else None


def stop(data_dir: Path) -> bool:
    """Stop the cluster of `data_dir` now (fast shutdown: open sessions are ended); False when it
    was not running. Processes still using it lose their connections."""
    pgdata = pgdata_of(data_dir)
    if running_pid(data_dir) is None:
        return False
    pgserver = _pgserver()
    pg_ctl = pgserver._commands.pg_ctl  # made at import, one function per binary

    system_user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs postgres as this user under root
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=system_user, timeout=STOP_TIMEOUT_S)
    except subprocess.CalledProcessError:
        if running_pid(data_dir) is not None:
            raise
    with pgserver.PostgresServer._lock:
        (pgdata / HANDLES_FILE).unlink(missing_ok=True)
    return True
