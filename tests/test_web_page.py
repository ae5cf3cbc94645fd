"""The officials' page (web/) in a real headless Chromium against a real uvicorn server."""

from __future__ import annotations

import asyncio
import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from core.settings import Settings
from server import create_app
from tests.serverkit import SECRET, running_server, token

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs it)")


def dump_dom(url: str, profile: Path) -> str:
    """Load `url` headless, let its scripts run, and return the DOM they left."""
    completed = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=True,
    )  # fmt: skip
    return completed.stdout


def first_holder(folder: Path, role: str) -> tuple[str, str]:
    with (folder / "assignments.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["role"] == role)
    return row["user_id"], row["unit_code"]


async def test_a_district_president_sees_their_district_with_phones_masked(
    read_db_url: str, tiny_dataset: Path, tmp_path: Path
) -> None:
    user, district = first_holder(tiny_dataset, "DISTRICT_PRESIDENT")
    app = create_app(Settings(database_url=read_db_url, jwt_secret=SECRET, graphiql=False))
    with running_server(app) as base:
        dom = await asyncio.to_thread(dump_dom, f"{base}/app/#token={token(user)}", tmp_path / "profile")
    assert "DISTRICT_PRESIDENT" in dom
    assert f"{district}:" in dom  # the status line names the unit and its voter count
    assert "voter.read" in dom and "voter.read_contact" not in dom
    assert "******" in dom  # a president sees phones masked
    assert "UNAUTHENTICATED" not in dom


async def test_a_bad_token_shows_the_error_not_data(read_db_url: str, tmp_path: Path) -> None:
    app = create_app(Settings(database_url=read_db_url, jwt_secret=SECRET, graphiql=False))
    with running_server(app) as base:
        dom = await asyncio.to_thread(dump_dom, f"{base}/app/#token=not-a-token", tmp_path / "profile")
    assert "UNAUTHENTICATED" in dom
    assert "******" not in dom
