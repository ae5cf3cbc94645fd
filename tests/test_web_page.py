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


async def test_print_buttons_for_a_booth_and_for_a_page_incharge(
    read_db_url: str, tiny_dataset: Path, tmp_path: Path
) -> None:
    """The booth president gets the walk list and slips of their booth; a page in-charge, who sees
    no unit, those of their page (docs/pages.md)."""
    import asyncpg

    user, booth = first_holder(tiny_dataset, "BOOTH_PRESIDENT")
    conn = await asyncpg.connect(read_db_url)
    try:
        await conn.execute("insert into users (id, name) values ('u-web-page', 'Page In-charge')")
        await conn.execute(
            "insert into assignments (user_id, role, unit_id, page) select 'u-web-page', 'PAGE_INCHARGE', id, 2 "
            "from units where code = $1",
            booth,
        )
    finally:
        await conn.close()
    app = create_app(Settings(database_url=read_db_url, jwt_secret=SECRET, graphiql=False))
    with running_server(app) as base:
        dom = await asyncio.to_thread(dump_dom, f"{base}/app/#token={token(user)}", tmp_path / "p1")
        page_dom = await asyncio.to_thread(dump_dom, f"{base}/app/#token={token('u-web-page')}", tmp_path / "p2")
    assert f'data-printout="walklist:{booth}"' in dom and f'data-printout="slips:{booth}"' in dom
    assert f'data-printout="walklist:{booth}:2"' in page_dom and "page 2 of BOOTH" in page_dom
    assert "walklist:" + booth + '"' not in page_dom  # not the whole booth
