"""The Prometheus metrics of a boothgraph process (prometheus-client), served at /metrics
(routes/operator.py).

- `boothgraph_requests_total{path, operation, status, code}`: requests by path, GraphQL operation
  name, HTTP status and result code (the first error's `extensions.code`, or OK);
- `boothgraph_request_duration_seconds{path, operation}`: a latency histogram;
- `boothgraph_pool_connections{state}`: the asyncpg pool (size, idle, max), sampled every few seconds;
- `boothgraph_imports_running`, `boothgraph_import_bytes_read_total`, `boothgraph_import_file_bytes`,
  `boothgraph_import_phase{phase}`: imports made by this process (POST /import, or a command);
- `boothgraph_standby_lag_seconds{standby}`, `boothgraph_standby_ready{standby}` (with
  READ_DATABASE_URL): each standby's replay lag as the replica monitor measured it at its last check
  (core/replicas.py; +Inf while it does not answer) and whether reads go to it. Every worker runs
  its own monitor: /metrics shows the largest lag and the smallest ready of the live workers.

Operation names are the client's choice: only names of a GraphQL name's shape, at most
MAX_OPERATION_CHARS long, are kept, and after MAX_OPERATIONS distinct ones the rest count as
"other", so a client cannot grow the series without bound.

`serve --workers N` sets PROMETHEUS_MULTIPROC_DIR before the workers start: each writes its
figures to files there and /metrics, answered by any worker, adds them all up (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import os
import re
import threading

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATIONS = 200
MAX_OPERATION_CHARS = 64
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "boothgraph_requests",
    "HTTP requests by path, GraphQL operation, status and result code",
    ("path", "operation", "status", "code"),
)
LATENCY = Histogram(
    "boothgraph_request_duration_seconds", "Time to answer a request", ("path", "operation"), buckets=LATENCY_BUCKETS
)
POOL = Gauge(
    "boothgraph_pool_connections", "asyncpg pool connections (size, idle, max)", ("state",), multiprocess_mode="livesum"
)
IMPORTS_RUNNING = Gauge("boothgraph_imports_running", "Imports in progress", multiprocess_mode="livesum")
IMPORT_BYTES = Counter("boothgraph_import_bytes_read", "Bytes of CSV files read by imports")
IMPORT_FILE_BYTES = Gauge(
    "boothgraph_import_file_bytes", "Size of the file an import is reading", multiprocess_mode="livesum"
)
IMPORT_PHASE = Gauge(
    "boothgraph_import_phase", "1 for the phase an import is in", ("phase",), multiprocess_mode="livesum"
)
STANDBY_LAG = Gauge(
    "boothgraph_standby_lag_seconds",
    "Replay lag of a standby at the replica monitor's last check (+Inf: not answering)",
    ("standby",),
    multiprocess_mode="livemax",
)
STANDBY_READY = Gauge(
    "boothgraph_standby_ready", "1 when reads go to the standby", ("standby",), multiprocess_mode="livemin"
)
EVENTS_HEARD = Gauge(
    "boothgraph_events_listener_heard_probe",
    "1 when the LISTEN connection heard the start-up probe (events/service.py); 0: subscriptions hear nothing",
    multiprocess_mode="livemin",
)

_operations: set[str] = set()
_lock = threading.Lock()
_phase: list[str] = []


def operation_label(name: str | None) -> str:
    """What the `operation` label says for a client's operation name (bounded, see above)."""
    if not name:
        return "-"
    if len(name) > MAX_OPERATION_CHARS or not _NAME.fullmatch(name):
        return "other"
    if name in _operations:
        return name
    with _lock:
        if len(_operations) >= MAX_OPERATIONS:
            return "other"
        _operations.add(name)
    return name


def observe_request(path: str, operation: str, status: int, code: str, seconds: float) -> None:
    REQUESTS.labels(path, operation, str(status), code).inc()
    LATENCY.labels(path, operation).observe(seconds)


def observe_pool(size: int, idle: int, max_size: int) -> None:
    POOL.labels("size").set(size)
    POOL.labels("idle").set(idle)
    POOL.labels("max").set(max_size)


def observe_standby(standby: str, lag_s: float | None, ready: bool) -> None:
    """One standby's check (core/replicas.py): `standby` is its host:port, never credentials."""
    STANDBY_LAG.labels(standby).set(float("inf") if lag_s is None else lag_s)
    STANDBY_READY.labels(standby).set(1 if ready else 0)


def observe_events_probe(heard: bool) -> None:
    EVENTS_HEARD.set(1 if heard else 0)


# Imports (transfer/progress.py). One import runs at a time per database (an advisory lock).
def import_started() -> None:
    IMPORTS_RUNNING.inc()


def import_phase(what: str) -> None:
    phase = what.split(" ", 1)[0]  # "reading", "checking", "writing", ...: no file names in labels
    if _phase:
        IMPORT_PHASE.labels(_phase.pop()).set(0)
    IMPORT_PHASE.labels(phase).set(1)
    _phase.append(phase)


def import_file(name: str, size: int) -> None:
    IMPORT_FILE_BYTES.set(size)


def import_bytes(n: int) -> None:
    IMPORT_BYTES.inc(n)


def import_finished() -> None:
    IMPORTS_RUNNING.dec()
    IMPORT_FILE_BYTES.set(0)
    if _phase:
        IMPORT_PHASE.labels(_phase.pop()).set(0)


def exposition() -> tuple[bytes, str]:
    """The text format of every metric of this process, or of all workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """Drop the live gauges of a worker that ended (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        prometheus_multiprocess.mark_process_dead(pid)
