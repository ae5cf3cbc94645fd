"""The Model Code of Conduct in the officials' app (issue 16), on a clock the test moves (the
server's FixedClock, core/clock.py): the rules in force with their sources in both languages, the
"benefit wanted" question greyed out with its reason, a refusal in the rule's words, and a caller's
list paused by the silence period saying why and until when."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from core.clock import FixedClock
from core.settings import Settings
from server import create_app
from tests.app_browser import SIZES, open_app
from tests.conftest import DatabaseFactory
from tests.elections_support import clock_at, ist, lok_sabha_input
from tests.serverkit import SECRET, bearer, running_server
from tests.test_app_journeys import CALLER, DISTRICT, STATE_PRESIDENT, browser, expect, wait_for_view  # noqa: F401
from transfer.demo_campaign import seed_demo_campaign

MODEL_CODE_ON, SILENCE = "2029-04-01 10:00", "2029-05-19 09:00"  # LKO polls on 20 May 2029, 07:00-18:00
CREATE = """mutation($input: ElectionInput!) { createElection(input: $input) { code modelCodeInForce } }"""


async def lengthen_roll(conn: asyncpg.Connection, booth: str, n: int) -> None:
    """`n` more (synthetic) voters on a booth's roll, copies of its first with serials from 901:
    the tiny booth's 89 would fit on one page of the get-out-the-vote list."""
    columns = [
        r[0]
        for r in await conn.fetch(
            """select column_name from information_schema.columns
               where table_name = 'voters' and is_generated = 'NEVER' and is_identity = 'NO'
                 and column_name not in ('epic_number', 'serial_number')"""
        )
    ]
    copied = ", ".join(columns)
    await conn.execute(
        f"""insert into voters (epic_number, serial_number, {copied})
            select 'ZZT' || lpad(g::text, 7, '0'), 900 + g, {copied}
            from voters, generate_series(1, $2) g
            where booth_id = (select id from units where code = $1) and serial_number = 1""",
        booth,
        n,
    )


@pytest.fixture(scope="module")
async def clock() -> FixedClock:
    return clock_at(MODEL_CODE_ON)


@pytest.fixture(scope="module")
async def base(db_factory: DatabaseFactory, read_template: str, clock: FixedClock) -> AsyncIterator[str]:
    url = await db_factory.create(template=read_template)
    conn = await asyncpg.connect(url)
    try:
        assert await seed_demo_campaign(conn) is not None
        # open on the test's clock (a campaign is open by the clock's local date, not the database's)
        await conn.execute("update campaigns set opens_on = '2029-03-01', closes_on = '2029-06-30'")
        await lengthen_roll(conn, BOOTH, 40)
    finally:
        await conn.close()
    settings = Settings(
        database_url=url, jwt_secret=SECRET, graphiql=False, rate_limit_per_s=500, rate_limit_burst=1000
    )
    with running_server(create_app(settings, clock=clock)) as served:
        election = lok_sabha_input(DISTRICT)
        async with httpx.AsyncClient(base_url=served) as client:
            answer = await client.post(
                "/graphql", json={"query": CREATE, "variables": {"input": election}}, headers=bearer(STATE_PRESIDENT)
            )
        assert answer.json()["data"]["createElection"]["modelCodeInForce"] is True, answer.text
        yield served
    await db_factory.drop(url)


@pytest.mark.parametrize("size", SIZES)
async def test_caller_sees_the_rules_the_greyed_question_the_refusal_and_the_pause(
    browser,  # noqa: F811
    base: str,
    clock: FixedClock,
    size: str,
) -> None:
    clock.set(ist(MODEL_CODE_ON))
    async with open_app(browser, base, size, CALLER) as tab:
        page = tab.page
        await expect(page).to_have_url(re.compile(r"#/calls"))
        await wait_for_view(tab)
        # the Model Code is in force over the caller's booths: "benefit wanted" is not asked, and why
        benefit = page.get_by_label("Further benefit they want")
        await expect(benefit).to_be_disabled()
        await expect(page.locator('[data-field="desiredBenefit"] .hint')).to_contain_text(
            "does not ask which further benefit"
        )
        await tab.shot("model-code-calls")
        # the rules in force for the caller's area, with their sources, in both languages
        await tab.go("#/rules")
        await wait_for_view(tab)
        await expect(page.locator("#rules-in-force")).to_contain_text("Lok Sabha 2029")
        await expect(page.locator("#rules-in-force")).to_contain_text("20 May 2029")
        await expect(page.locator(".rule")).to_have_count(3)
        silence = page.locator('.rule[data-rule="SILENCE_PERIOD"]')
        await expect(silence.locator(".source")).to_contain_text("Section 126 of the Representation of the People Act")
        await expect(silence.locator(".other-lang")).to_contain_text("48 घंटों")
        await tab.shot("model-code-rules")
        await page.locator("#lang-switch").click()
        await expect(page.locator("main h1")).to_have_text("आदर्श आचार संहिता")
        await expect(silence.locator("h3")).to_have_text("मतदान समाप्ति से पहले मौन अवधि")
        await expect(page.locator("#rules-in-force")).to_contain_text("लोकसभा 2029")
        await tab.shot("model-code-rules-hi")
        await page.locator("#lang-switch").click()
        # a form loaded before the silence period, saved inside it: refused in the rule's words
        await tab.go("#/calls")
        await wait_for_view(tab)
        await page.locator('[data-field="outcome"] label.choice', has_text="Reached").click()
        clock.set(ist(SILENCE))
        await page.get_by_role("button", name="Save and next").click()
        refusal = page.locator("form#log-call [role=alert]", has_text="Model Code")
        await expect(refusal).to_be_visible()
        await expect(refusal.locator('.rule[data-rule="SILENCE_PERIOD"]')).to_contain_text(
            "campaign calls to that booth"
        )
        await tab.shot("model-code-refused")
        # the list itself now says why it is empty, with the poll date
        await page.reload()
        await wait_for_view(tab)
        pause = page.locator("#call-pause")
        await expect(pause).to_contain_text("calls on your list are paused")
        await expect(pause).to_contain_text("Poll: 20 May 2029")
        await expect(pause.locator("h2")).to_have_text("Silence period before the poll closes")
        await expect(page.locator("main .empty")).to_contain_text("paused")
        await tab.shot("model-code-paused")
        await page.locator("#lang-switch").click()
        await expect(pause).to_contain_text("रोकी गई हैं")
        await tab.shot("model-code-paused-hi")


BOOTH_PRESIDENT, BOOTH = "u-000016", f"{DISTRICT}-M01-B0001"
POLL_DAY = "2029-05-20 09:15"


@pytest.mark.parametrize("size", SIZES)
async def test_booth_president_marks_a_batch_sees_turnout_by_hour_and_undoes_it(
    browser,  # noqa: F811
    base: str,
    clock: FixedClock,
    size: str,
) -> None:
    clock.set(ist(POLL_DAY))
    async with open_app(browser, base, size, BOOTH_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go("#/election")
        await wait_for_view(tab)
        await expect(page.locator("main h1")).to_contain_text("Election day")
        gotv = page.locator("#gotv h2 small")
        before = int(re.sub(r"\D", "", await gotv.text_content() or ""))
        voted_before = await page.locator("#turnout .pill").text_content()
        pad = page.locator(".serial-pad button.serial")
        tapped = [await pad.nth(i).get_attribute("data-serial") for i in range(3)]
        for i in range(3):
            await pad.nth(i).click()
        await expect(page.locator("#mark-chosen")).to_have_text("3 chosen")
        await page.get_by_role("button", name="Mark as voted").click()
        await expect(page.locator("#mark-done")).to_contain_text("Marked 3 as voted")
        await expect(gotv).to_have_text(f"({before - 3})")
        await expect(page.locator("#turnout .pill")).to_contain_text("Voted: 3 of")
        hour = page.locator("#turnout svg.bars g.bar", has_text="09:00")
        await expect(hour).to_contain_text("3")
        for serial in tapped:
            await expect(page.locator(f'.serial-pad button[data-serial="{serial}"]')).to_have_count(0)
        await tab.shot("election-marked")
        await page.locator("#lang-switch").click()
        await expect(page.locator("main h1")).to_contain_text("मतदान दिवस")
        await tab.shot("election-marked-hi")
        await page.locator("#lang-switch").click()
        await wait_for_view(tab)
        await page.locator("#undo-batch").click()
        await expect(page.locator("#mark-done")).to_contain_text("Undone: 3")
        await tab.go("#/election")
        await wait_for_view(tab)
        await expect(gotv).to_have_text(f"({before})")
        assert await page.locator("#turnout .pill").text_content() == voted_before
        # The list goes on a page at a time (100 serials), the last batch's notice left behind.
        await page.get_by_role("button", name="Mark as voted").click()  # nothing chosen: no notice
        first = await pad.evaluate_all("pad => pad.map((b) => Number(b.dataset.serial))")
        assert len(first) == 100 < before  # 89 + 40 on the roll
        following = page.get_by_role("link", name="Next page")
        await expect(following).to_have_count(2)  # under the pad and under the list
        await following.first.click()
        await expect(page.get_by_role("link", name="First page").first).to_be_visible()
        second = await pad.evaluate_all("pad => pad.map((b) => Number(b.dataset.serial))")
        assert second and min(second) > max(first)
        await expect(page.locator("#gotv li")).to_have_count(min(100, before - 100))
        await tab.shot("election-next-page")
        await page.locator("#lang-switch").click()
        await expect(page.get_by_role("link", name="पहला पेज").first).to_be_visible()
        await tab.shot("election-next-page-hi")
