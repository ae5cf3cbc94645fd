"""The `boothgraph` command in a subprocess, on a fresh database (DATABASE_URL, JWT_SECRET)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest

from tests.serverkit import SECRET, free_port, seed

ROOT = Path(__file__).resolve().parent.parent


def command() -> list[str]:
    script = Path(sys.executable).parent / "boothgraph"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]


def env_for(database_url: str | None, secret: str | None = SECRET, **extra: str) -> dict[str, str]:
    unset = ("DATABASE_URL", "MIGRATION_DATABASE_URL", "JWT_SECRET", "TEST_DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PYTHONPATH"] = str(ROOT)
    if database_url:
        env["DATABASE_URL"] = database_url
    if secret:
        env["JWT_SECRET"] = secret
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


async def test_token_prints_a_signed_token(database_url: str, tmp_path: Path) -> None:
    await seed(database_url)
    done = run(["token", "u-000001", "--ttl", "120"], env_for(database_url), tmp_path)
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "u-000001"
    assert 100 <= claims["exp"] - time.time() <= 121
    assert "warning" not in done.stderr

    unknown = run(["token", "u-404"], env_for(database_url), tmp_path)
    assert unknown.returncode == 0
    assert jwt.decode(unknown.stdout.strip(), SECRET, algorithms=["HS256"])["sub"] == "u-404"
    assert "does not exist" in unknown.stderr

    assert run(["token", "u-000001", "--ttl", "0"], env_for(database_url), tmp_path).returncode != 0


def test_a_real_database_needs_a_secret(database_url: str, tmp_path: Path) -> None:
    for args in (["serve", "--port", str(free_port())], ["token", "u-000001"]):
        done = run(args, env_for(database_url, secret=None), tmp_path, timeout=60)
        assert done.returncode != 0
        assert "JWT_SECRET" in done.stderr
        assert "Traceback" not in done.stderr
    weak = run(["token", "u-000001"], env_for(database_url, secret="changeme"), tmp_path)
    assert weak.returncode != 0 and "JWT_SECRET" in weak.stderr


def _wait_healthy(base: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


@contextlib.contextmanager
def serving_workers(database_url: str, tmp_path: Path, workers: int = 2) -> Iterator[tuple[subprocess.Popen, str]]:
    """`boothgraph serve --workers N` on a free port until healthy; SIGTERM at the end, which must
    stop it cleanly (exit status 0)."""
    port = free_port()
    process = subprocess.Popen(
        [*command(), "serve", "--port", str(port), "--workers", str(workers)],
        env=env_for(database_url),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        yield process, base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0


async def test_serve_with_workers(database_url: str, tmp_path: Path) -> None:
    await seed(database_url)
    with serving_workers(database_url, tmp_path) as (_, base):
        token = run(["token", "u-000001"], env_for(database_url), tmp_path).stdout.strip()
        for _ in range(4):  # both workers answer
            response = httpx.post(
                f"{base}/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
            assert response.json()["data"]["me"]["id"] == "u-000001"
        assert httpx.post(f"{base}/graphql", json={"query": "{ me { id } }"}).status_code == 401


def _workers(pid: int) -> set[int]:
    """The worker processes of a `serve --workers N` supervisor (not multiprocessing's tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid and "spawn_main" in (entry / "cmdline").read_text():
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


async def test_workers_are_restarted_and_a_busy_port_is_refused(database_url: str, tmp_path: Path) -> None:
    await seed(database_url)
    with serving_workers(database_url, tmp_path) as (process, base):
        workers = _workers(process.pid)
        assert len(workers) == 2, workers
        os.kill(min(workers), signal.SIGKILL)
        for _ in range(100):  # a new worker takes its place
            now = _workers(process.pid)
            if len(now) == 2 and min(workers) not in now:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no worker restarted: {now}")
        _wait_healthy(base, process)

        port = base.rsplit(":", 1)[1]
        env = env_for(database_url)
        busy = run(["serve", "--port", port], env, tmp_path, timeout=60)  # uvicorn's own socket
        assert busy.returncode != 0
        other = run(["serve", "--port", port, "--workers", "2"], env, tmp_path, timeout=60)
        assert other.returncode == 2 and "another boothgraph already serves" in other.stderr, other.stderr


def test_import_refuses_a_missing_folder(database_url: str, tmp_path: Path) -> None:
    done = run(["import", str(tmp_path / "nope")], env_for(database_url), tmp_path)
    assert done.returncode != 0
    assert "no such folder" in done.stderr and "Traceback" not in done.stderr


needs_importer = pytest.mark.skipif(
    importlib.util.find_spec("transfer.importer") is None, reason="transfer.importer is not there yet"
)


@needs_importer
def test_import_loads_a_folder_and_reports_bad_input(database_url: str, tiny_dataset: Path, tmp_path: Path) -> None:
    done = run(["import", str(tiny_dataset)], env_for(database_url), tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "voters" in done.stdout

    broken = tmp_path / "broken"
    shutil.copytree(tiny_dataset, broken)
    voters = broken / "voters.csv"
    lines = voters.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[2].split(",")
    fields[2] = "not-a-number"  # serial_number of the record on physical line 3
    lines[2] = ",".join(fields)
    voters.write_text("".join(lines), encoding="utf-8")
    bad = run(["import", str(broken)], env_for(database_url), tmp_path, timeout=300)
    assert bad.returncode != 0
    assert "voters.csv:3" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
    # The refusal leaves its trace (service.md): who (system), the state, file, line, code.
    refused = asyncio.run(_refusals(database_url))
    assert len(refused) == 1, refused
    user_id, unit_code, detail = refused[0]
    assert (user_id, unit_code) == ("system", "UP")
    assert (detail["file"], detail["line"]) == ("voters.csv", 3), detail


async def _refusals(database_url: str) -> list[tuple[str, str, dict[str, object]]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select user_id, unit_code, detail from audit_log where action = 'data.import_refused' order by id"
        )
        return [(r["user_id"], r["unit_code"], json.loads(r["detail"])) for r in rows]
    finally:
        await conn.close()


@pytest.mark.skipif(importlib.util.find_spec("transfer.demo") is None, reason="transfer.demo is not there yet")
@needs_importer
def test_demo_loads_once_and_prints_tokens(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, DATA_DIR=str(tmp_path / "data"))
    first = run(["demo", "--preset", "tiny", "--no-serve"], env, tmp_path, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "curl" in first.stdout and "TOKEN_" in first.stdout
    links = re.findall(r"^app: (http://\S+/app/#token=\S+)$", first.stdout, re.M)
    roles = {line.split(",")[1].strip() for line in (ROOT / "policies" / "policy.csv").read_text().splitlines()
             if line.startswith("p,")}  # fmt: skip
    assert len(links) == first.stdout.count("# ") == len(roles)  # the app's link, with a token, for every role
    assert "Opened a demo campaign in" in first.stderr
    second = run(["demo", "--preset", "tiny", "--no-serve"], env, tmp_path, timeout=300)
    assert second.returncode == 0
    assert "skipping" in second.stderr


@needs_importer
def test_stats_release(database_url: str, tiny_dataset: Path, tmp_path: Path) -> None:
    assert run(["import", str(tiny_dataset)], env_for(database_url), tmp_path, timeout=300).returncode == 0
    due = run(["stats", "release"], env_for(database_url), tmp_path)
    assert due.returncode == 0, due.stderr
    assert due.stdout.startswith("nothing due"), due.stdout
    everything = run(["stats", "release", "--all"], env_for(database_url, MIN_CELL_SIZE="7"), tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.startswith("released 20 booths: "), everything.stdout
