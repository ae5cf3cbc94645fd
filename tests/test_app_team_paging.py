"""The app's team list past its first page (roleHolders is paged by 200): a mandal with 205 role
holders shows 200, says so, and brings the rest on request, in English and in Hindi; refusals of
the grant rules read as words in both languages, never as the server's role codes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from core.settings import Settings
from server import create_app
from tests.app_browser import SIZES, open_app
from tests.conftest import DatabaseFactory
from tests.serverkit import SECRET, running_server
from tests.test_app_journeys import DISTRICT, DISTRICT_PRESIDENT, browser, expect, wait_for_view  # noqa: F401

MANDAL, EXTRA = f"{DISTRICT}-M02", 205


@pytest.fixture(scope="module")
async def base(db_factory: DatabaseFactory, read_template: str) -> AsyncIterator[tuple[str, int]]:
    url = await db_factory.create(template=read_template)
    conn = await asyncpg.connect(url)
    try:
        users = [(f"u-9{i:05d}", f"Volunteer {i}") for i in range(EXTRA)]
        await conn.executemany("insert into users (id, name) values ($1, $2)", users)
        await conn.execute(
            """insert into assignments (user_id, role, unit_id)
               select u, 'CALLER', (select id from units where code = $2) from unnest($1::text[]) u""",
            [u for u, _ in users],
            MANDAL,
        )
        before = await conn.fetchval(
            "select count(*) from assignments a join units x on x.id = a.unit_id where x.path like $1",
            f"%{MANDAL}%",
        )
    finally:
        await conn.close()
    settings = Settings(
        database_url=url, jwt_secret=SECRET, graphiql=False, rate_limit_per_s=500, rate_limit_burst=1000
    )
    with running_server(create_app(settings)) as served:
        yield served, int(before)
    await db_factory.drop(url)


@pytest.mark.parametrize("size", SIZES)
async def test_team_list_pages_past_200_and_refuses_in_words(browser, base, size: str) -> None:  # noqa: F811
    served, holders = base
    assert holders > 200
    async with open_app(browser, served, size, DISTRICT_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go(f"#/team?unit={MANDAL}")
        await wait_for_view(tab)
        rows = page.locator("table.team tbody tr")
        await expect(rows).to_have_count(200)
        await expect(page.locator("#team-shown")).to_have_text(f"200 of {holders} shown")
        await page.locator("#team-more").click()
        await expect(rows).to_have_count(holders)
        await expect(page.locator("#team-shown")).to_have_text(f"{holders} of {holders} shown")
        await expect(page.locator("#team-more")).to_be_hidden()
        assert len(set(await page.locator("table.team tbody th small.code").all_text_contents())) == holders
        # refusals: words in both languages, the role code never shown
        form = page.locator("form#grant")
        await form.get_by_label("User id").fill("u-900001")
        await form.get_by_label("Role").select_option("BOOTH_PRESIDENT")
        await form.get_by_label("Unit (code)").fill(MANDAL)
        await form.get_by_role("button", name="Grant").click()
        refusal = form.locator("[role=alert]", has_text="cannot be given")
        await expect(refusal).to_have_text("Refused: Booth President cannot be given at this level, only at a Booth.")
        await page.locator("#lang-switch").click()
        await wait_for_view(tab)
        await form.locator('[name="userId"]').fill("u-900001")
        await form.locator('[name="role"]').select_option("BOOTH_PRESIDENT")
        await form.locator('[name="unit"]').fill(MANDAL)
        await form.get_by_role("button", name="दें", exact=True).click()
        refusal = form.locator("[role=alert]", has_text="अस्वीकृत")
        await expect(refusal).to_contain_text("केवल बूथ पर")
        assert not re.search(r"[A-Z]{2,}_[A-Z]", await refusal.text_content() or "")
        await tab.shot("team-refused-hi")
        await page.locator("#lang-switch").click()
