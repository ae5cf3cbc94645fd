"""`boothgraph serve --workers N` (N > 1): N uvicorn processes, each listening on a socket of its
own bound to the same port with SO_REUSEPORT, so that the kernel spreads new connections evenly.

With uvicorn's own `--workers` every process accepts from one shared socket, and whichever wakes
first takes a whole burst of connections: 16 keep-alive clients were split 9/7, 3/13 and 4/12
between two workers in three tries (bench/README.md), and the busier worker's queue then set the
latency of most requests. The supervisor here restarts a worker that dies, passes SIGINT/SIGTERM
on (each worker shuts down gracefully), and stops when a worker cannot start at all.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import uvicorn

log = logging.getLogger("boothgraph.workers")

STARTUP_FAILURE = 3  # uvicorn's exit status when the application cannot start
RESTART_PAUSE_S = 1.0


def reuseport_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    if listen:
        sock.listen(2048)
    return sock


class ListeningServer(uvicorn.Server):
    """uvicorn's Server that calls `on_listening` once its sockets accept connections (after the
    application's start-up), so that "serving http://…" is never printed for a port it did not get."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self.on_listening()


def _worker(config: dict[str, Any], listening: Synchronized) -> None:
    sock = reuseport_socket(config["host"], config["port"], listen=True)

    def counted() -> None:
        with listening.get_lock():
            listening.value += 1

    ListeningServer(uvicorn.Config(**config), counted).run(sockets=[sock])


def port_lock(host: str, port: int) -> socket.socket:
    """SO_REUSEPORT lets any process of the same user join the port; a second `boothgraph serve`
    on it would then quietly take half the connections. A Linux abstract socket named after the
    address, bound by one supervisor at a time, refuses the second one instead."""
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(f"\0boothgraph-serve:{host}:{port}")
    except OSError:
        lock.close()
        raise OSError(f"another boothgraph already serves {host}:{port}") from None
    return lock


def serve_workers(
    config: dict[str, Any],
    workers: int,
    *,
    stop_timeout_s: float,
    on_listening: Callable[[], None] = lambda: None,
    on_exit: Callable[[int], None] = lambda pid: None,
) -> int:
    """Run `workers` processes of uvicorn.Config(**config) until SIGINT/SIGTERM; the exit status.
    A port that is taken fails here, once, with a clear error (OSError), before any worker.
    `on_listening` is called once, when every worker of the first round accepts connections;
    `on_exit(pid)` when a worker has ended (its live metrics are dropped)."""
    lock = port_lock(config["host"], config["port"])
    try:
        reuseport_socket(config["host"], config["port"], listen=False).close()  # taken by another program?
    except OSError:
        lock.close()
        raise
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    status = 0
    listening = context.Value("i", 0)
    announced = False

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(config, listening), daemon=False)
        process.start()
        return process

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.2):
            if not announced and listening.value >= workers:
                announced = True
                on_listening()
            for i, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("a worker could not start; stopping")
                    status = STARTUP_FAILURE
                    stop.set()
                    break
                log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                if process.pid is not None:
                    on_exit(process.pid)
                stop.wait(RESTART_PAUSE_S)
                if not stop.is_set():
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in processes:
            process.join(stop_timeout_s)
            if process.is_alive():
                process.kill()
                process.join()
        lock.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return status
