"""A new user's first commands (issue 18 §5): help everywhere, the README's option table, the
embedded PostgreSQL stopped when a command ends (or by `db stop`), no RuntimeDirWarning,
"serving" printed only once listening, import progress lines off a terminal, and a masked export
that does not import back silently."""

from __future__ import annotations

import argparse
import csv
import io
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

import cli
from core import embedded
from core.errors import CsvImportError
from tests.dataset import load_folder
from tests.serverkit import bearer, client_for, free_port
from tests.test_cli import ROOT, command, env_for, run
from tests.writes_support import IT_CONVENOR_LKO, LKO
from transfer.checks import MASKED_PHONE
from transfer.importer import import_folder
from transfer.progress import Progress


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"command {name!r} has no help"
                found.append((name, sub))
                found += [(f"{name} {n}", p) for n, p in _subparsers(sub)]
    return found


def test_every_command_and_option_has_help_and_a_readme_row() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands") : readme.index("## Configuration")]
    commands = _subparsers(cli._parser())
    assert {name for name, _ in commands} >= {"serve", "demo", "import", "token", "schema", "db stop", "stats release"}
    for name, parser in commands:
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help"
            for option in action.option_strings:
                assert f"`{option}" in table or f"[{option}" in table, f"README does not list {name} {option}"
        if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            assert f"`boothgraph {name}" in table, f"README does not list boothgraph {name}"


def test_schema_command_prints_the_snapshot(tmp_path: Path) -> None:
    done = run(["schema"], env_for(None, secret=None), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (ROOT / "tests" / "snapshots" / "schema.graphql").read_text(encoding="utf-8")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A DATA_DIR outside pytest's own temporary tree: pytest sessions of other engineers set
    /tmp/pytest-of-<user> back to mode 0700, and pgserver runs postgres as another system user,
    who must be able to reach the cluster's folder."""
    folder = Path(tempfile.mkdtemp(prefix="bg-embedded-"))
    try:
        yield folder / "d"
    finally:
        embedded.stop(folder / "d")
        shutil.rmtree(folder, ignore_errors=True)


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = env_for(None, secret=None, DATA_DIR=str(data_dir))
    env.pop("XDG_RUNTIME_DIR", None)  # as in containers, CI and sudo sessions
    return env


def test_embedded_import_stops_its_database_and_prints_progress(
    tiny_dataset: Path, data_dir: Path, tmp_path: Path
) -> None:
    data = data_dir
    env = _embedded_env(data)
    done = run(["import", str(tiny_dataset)], env, tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "RuntimeDirWarning" not in done.stderr and "XDG_RUNTIME_DIR" not in done.stderr, done.stderr
    assert "it stops when the last boothgraph command using it ends" in done.stderr
    # Not a terminal: one plain line per phase, none of tqdm's carriage returns.
    assert "import: reading units.csv (" in done.stderr and "import: writing voters (" in done.stderr, done.stderr
    assert "\r" not in done.stderr
    assert (data / "pg" / "PG_VERSION").exists()
    assert embedded.running_pid(data) is None, "the embedded PostgreSQL outlived `boothgraph import`"

    again = run(["db", "stop"], env, tmp_path)
    assert again.returncode == 0 and "is not running" in again.stderr, again.stderr


def test_db_stop_stops_a_cluster_another_process_holds(data_dir: Path, tmp_path: Path) -> None:
    data = data_dir
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from core import embedded; "
            "embedded.start(Path(sys.argv[1])); print('up', flush=True); time.sleep(120)",
            str(data),
        ],
        env=_embedded_env(data),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "up"
        pid = embedded.running_pid(data)
        assert pid is not None
        stopped = run(["db", "stop"], _embedded_env(data), tmp_path)
        assert stopped.returncode == 0 and "stopped the embedded PostgreSQL" in stopped.stderr, stopped.stderr
        assert embedded.running_pid(data) is None
    finally:
        holder.kill()
        holder.wait()


def test_db_stop_on_a_configured_database_refuses(database_url: str, tmp_path: Path) -> None:
    done = run(["db", "stop"], env_for(database_url), tmp_path)
    assert done.returncode == 2 and "DATABASE_URL is set" in done.stderr


def test_serve_prints_its_url_once_listening_and_never_on_a_taken_port(database_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = run(["serve", "--port", str(port)], env_for(database_url), tmp_path, timeout=120)
    assert busy.returncode != 0
    assert "serving http" not in busy.stderr, busy.stderr
    assert f"cannot serve on 127.0.0.1:{port}" in busy.stderr

    port = free_port()
    process = subprocess.Popen(
        [*command(), "serve", "--port", str(port)],
        env=env_for(database_url, LOG_FORMAT="json"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline and "serving http" not in line:
            line = process.stderr.readline()
            assert line or process.poll() is None, "serve ended"
        assert f"serving http://127.0.0.1:{port}/graphql" in line
        # Printed once listening: the port answers at once.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_progress_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(True, out=out, every_s=0.0)
    progress.step("reading voters.csv")
    bar = progress.bytes_bar("voters.csv", 4 * 1024 * 1024)
    bar.update(1024 * 1024)
    bar.update(1024 * 1024)
    bar.close()
    progress.step("writing voters")
    progress.close()
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"import: reading voters\.csv \(\d+\.\d s\)", lines[0]), lines
    assert lines[1:3] == [
        "import: reading voters.csv 25% (1.0 of 4.0 MiB)",
        "import: reading voters.csv 50% (2.0 of 4.0 MiB)",
    ]
    assert lines[3].startswith("import: writing voters (")
    assert set(progress.phases) == {"reading voters.csv", "writing voters"}

    silent = io.StringIO()
    quiet = Progress(False, out=silent, every_s=0.0)
    quiet.step("reading voters.csv")
    quiet.bytes_bar("voters.csv", 10).update(10)
    quiet.close()
    assert silent.getvalue() == ""


# ------------------------------------------------------- the masked export round trip ---
def _without(text: str, columns: set[str]) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    kept = [c for c in rows[0] if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=kept, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def _voters(conn: asyncpg.Connection) -> list[tuple[object, ...]]:
    rows = await conn.fetch("select * from voters order by id")
    return [tuple(r.values()) for r in rows]


async def test_a_masked_export_is_refused_clearly_and_imports_without_its_hidden_columns(
    database_url: str, tiny_dataset: Path, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        async with client_for(database_url, seeded=False) as client:
            # IT_CONVENOR: data.export without voter.read_contact / read_sensitive.
            r = await client.get("/export/voters.csv", params={"unit": LKO}, headers=bearer(IT_CONVENOR_LKO))
            assert r.status_code == 200
        exported = r.text
        assert "******" in exported
        before = await _voters(conn)

        folder = tmp_path / "masked"
        folder.mkdir()
        (folder / "voters.csv").write_text(exported, encoding="utf-8")
        with pytest.raises(CsvImportError) as refused:
            await import_folder(conn, folder)
        assert refused.value.file == "voters.csv" and refused.value.column == "phone"
        assert refused.value.reason.startswith(MASKED_PHONE), refused.value.reason
        assert await _voters(conn) == before  # nothing written

        # The documented way back: the hidden columns left out keep what is stored.
        hidden = {"phone", "caste_category", "caste", "economic_status"}
        (folder / "voters.csv").write_text(_without(exported, hidden), encoding="utf-8")
        report = await import_folder(conn, folder)
        assert report.records > 0
        assert await _voters(conn) == before
    finally:
        await conn.close()
