"""The officials' app end to end: Debian's Chromium (Playwright) against a real uvicorn server
over a real database (the tiny data set plus the demo's open campaign). Each journey runs at
360x740 and 1366x768, saves screenshots (tests/app_browser.py) and checks that every request
went to the page's own origin and that the console stayed clean (no CSP violation)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from core.settings import Settings
from server import create_app
from tests.app_browser import CHROMIUM, SIZES, Tab, graphql_requests, open_app, unlabelled_controls
from tests.conftest import DatabaseFactory
from tests.serverkit import SECRET, running_server
from transfer.demo_campaign import seed_demo_campaign

playwright = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (.ci/run installs it)")
expect = playwright.expect
expect.set_options(timeout=20_000)  # a busy shared machine; a real failure still fails

STATE_PRESIDENT, DISTRICT_PRESIDENT, IT_CONVENOR = "u-000001", "u-000006", "u-000010"
DISTRICT, OTHER_DISTRICT = "UP-AWD-LKO", "UP-KSI-VNS"
BOOTH_PRESIDENT, BOOTH = "u-000016", "UP-AWD-LKO-M01-B0001"
CALLER, MANDAL_CALLER = "u-000013", "u-000015"


@pytest.fixture(scope="module")
async def app_db(db_factory: DatabaseFactory, read_template: str) -> AsyncIterator[str]:
    url = await db_factory.create(template=read_template)
    conn = await asyncpg.connect(url)
    try:
        assert await seed_demo_campaign(conn) is not None
    finally:
        await conn.close()
    yield url
    await db_factory.drop(url)


@pytest.fixture(scope="module")
async def base(app_db: str) -> AsyncIterator[str]:
    settings = Settings(
        database_url=app_db, jwt_secret=SECRET, graphiql=False, rate_limit_per_s=500, rate_limit_burst=1000
    )
    with running_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[playwright.Browser]:
    async with playwright.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        await chromium.close()


@pytest.fixture
async def db(app_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(app_db)
    yield conn
    await conn.close()


async def wait_for_view(tab: Tab) -> None:
    await expect(tab.page.locator("main h1").first).to_be_visible()
    await expect(tab.page.locator("main[aria-busy]")).to_have_count(0)


# --------------------------------------------------------------------------- 2. My area ---
@pytest.mark.parametrize("size", SIZES)
async def test_state_president_drills_down_to_a_booth_and_back(browser, base: str, size: str) -> None:
    async with open_app(browser, base, size, STATE_PRESIDENT) as tab:
        page = tab.page
        await expect(page).to_have_url(re.compile(r"#/unit/UP$"))
        await wait_for_view(tab)
        await expect(page.locator("main h1")).to_contain_text("Uttar Pradesh")
        await expect(page.locator(".figure dd").first).to_have_text(re.compile(r"^\d{1,2}(,\d\d)*,\d\d\d$|^\d{1,3}$"))
        assert await page.locator("svg.bars").count() >= 6  # the app's own charts
        await tab.shot("area-state")
        for level in ("REGION", "DISTRICT", "MANDAL", "BOOTH"):
            link = page.locator("table.units tbody th a").first
            code = (await page.locator("table.units tbody small.code").first.text_content() or "").strip()
            await link.click()
            await expect(page).to_have_url(re.compile(f"#/unit/{re.escape(code)}$"))
            await wait_for_view(tab)
            await expect(page.locator("main h1 small")).to_contain_text(code)
            assert level in {"REGION", "DISTRICT", "MANDAL", "BOOTH"}
        booth_url = page.url
        crumbs = page.locator("nav.crumbs a")
        assert await crumbs.count() == 4  # state, region, district, mandal: all visible to the state
        await tab.shot("area-booth")
        await page.go_back()
        await wait_for_view(tab)
        await expect(page.locator("table.units")).to_be_visible()  # the mandal again, its booths below
        await page.go_forward()
        await expect(page).to_have_url(booth_url)
        await wait_for_view(tab)
        # the units below sort by any figure
        await tab.go("#/unit/UP")
        await wait_for_view(tab)
        await page.locator('button[data-sort="voters"]').click()
        await expect(page.locator('th[aria-sort="descending"] button[data-sort="voters"]')).to_be_visible()
        counts = [
            int(t.replace(",", ""))
            for t in await page.locator("table.units tbody tr td:nth-child(2)").all_text_contents()
        ]
        assert counts == sorted(counts, reverse=True) and len(counts) == 2


@pytest.mark.parametrize("size", SIZES)
async def test_each_view_makes_at_most_two_graphql_requests(browser, base: str, size: str) -> None:
    async with open_app(browser, base, size, STATE_PRESIDENT) as tab:
        await wait_for_view(tab)
        for route in (
            f"#/unit/{DISTRICT}",
            f"#/voters/{DISTRICT}",
            "#/campaigns",
            "#/team",
            "#/audit",
            "#/rules",
            "#/console",
        ):
            before = graphql_requests(tab)
            await tab.go(route)
            await wait_for_view(tab)
            await tab.page.wait_for_load_state("networkidle")
            assert graphql_requests(tab) - before <= 2, route
            assert await unlabelled_controls(tab.page) == [], route  # every control has a name


# ------------------------------------------- 2+3. a district president: masked and scoped ---
@pytest.mark.parametrize("size", SIZES)
async def test_district_president_sees_masked_phones_no_caste_and_nothing_outside(
    browser, base: str, size: str
) -> None:
    async with open_app(browser, base, size, DISTRICT_PRESIDENT) as tab:
        page = tab.page
        await expect(page).to_have_url(re.compile(f"#/unit/{DISTRICT}$"))
        await wait_for_view(tab)
        # breadcrumbs above the district are shown but are not links
        await expect(page.locator("nav.crumbs a")).to_have_count(0)
        await expect(page.locator("nav.crumbs .above")).to_have_count(2)
        # suppressed cells say so
        if await page.locator("svg .bar.suppressed").count():
            await expect(page.locator("svg .bar.suppressed text.bar-value").first).to_have_text("fewer than 5")
        await tab.shot("area-district")
        await page.get_by_role("link", name="Voters here").click()
        await wait_for_view(tab)
        await expect(page.locator("table.voters tbody tr")).to_have_count(25)
        phones = [p for p in await page.locator("table.voters td.phone").all_text_contents() if p != "—"]
        assert phones and all(re.fullmatch(r"\*{6}\d{4}", p) for p in phones), phones
        castes = set(await page.locator("table.voters tbody td:nth-child(7)").all_text_contents())
        assert castes == {"hidden for your role"}
        # the sensitive filters are not offered to this role
        await expect(page.locator('select[name="casteCategory"]')).to_have_count(0)
        await tab.shot("voters-district")
        await page.locator("table.voters tbody th a").first.click()
        await wait_for_view(tab)
        await expect(page.locator('dd[data-name="caste"]')).to_have_text("hidden for your role")
        await expect(page.locator("form#survey")).to_have_count(0)  # no voter.write
        await tab.shot("voter-card-district")
        # next page keeps going; back returns
        await tab.go(f"#/voters/{DISTRICT}")
        await wait_for_view(tab)
        await page.get_by_role("link", name="Next page").click()
        await expect(page.locator(".count")).to_contain_text("page 2")
        # a unit outside the scope looks absent, in every view
        await tab.go(f"#/unit/{OTHER_DISTRICT}")
        await expect(page.locator("main")).to_contain_text("not in your area")
        await tab.go(f"#/voters/{OTHER_DISTRICT}")
        await expect(page.locator("main")).to_contain_text("not in your area")
        await tab.go("#/campaigns")
        await wait_for_view(tab)
        await tab.go(f"#/team?unit={OTHER_DISTRICT}")
        await wait_for_view(tab)
        await expect(page.locator("main")).to_contain_text("No one holds a role here")
        await tab.shot("team-outside")
        await tab.remember()
        assert tab.texts and not [t for t in tab.texts if OTHER_DISTRICT in t or "Varanasi" in t or "वाराणसी" in t]


@pytest.mark.parametrize("size", SIZES)
async def test_search_by_name_in_devanagari_and_latin(browser, base: str, size: str) -> None:
    async with open_app(browser, base, size, DISTRICT_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go(f"#/voters/{DISTRICT}")
        await wait_for_view(tab)
        await page.get_by_label("Name or EPIC number").fill("पुष्")
        await page.get_by_role("button", name="Search").click()
        await expect(page).to_have_url(re.compile(r"search=%E0%A4%AA"))
        await expect(page.locator("table.voters tbody tr").first).to_be_visible()
        names = await page.locator("table.voters tbody th a").all_text_contents()
        assert names and all(n.startswith("Push") for n in names), names
        await tab.shot("voters-search-devanagari")
        await page.get_by_label("Name or EPIC number").fill("push")
        await page.get_by_role("button", name="Search").click()
        await expect(page.locator(".count")).to_contain_text(f"{len(names)} voters")


# ----------------------------------------------------------------------------- 4. survey ---
@pytest.mark.parametrize("size", SIZES)
async def test_booth_president_updates_a_survey(browser, base: str, size: str, db: asyncpg.Connection) -> None:
    epic = await db.fetchval(
        """select v.epic_number from voters v join units b on b.id = v.booth_id
           where b.code = $1 and v.contact_consent <> 'DENIED' order by v.serial_number offset $2 limit 1""",
        BOOTH,
        3 if size == "phone" else 4,
    )
    async with open_app(browser, base, size, BOOTH_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go(f"#/voter/{epic}")
        await wait_for_view(tab)
        form = page.locator("form#survey")
        await form.get_by_label("Phone").fill("12345")
        await form.get_by_role("button", name="Save survey").click()
        error = form.locator('[data-field="phone"] .field-error')
        await expect(error).to_contain_text("10 digits")
        await tab.shot("survey-error")
        await form.get_by_label("Phone").fill("9876501234")
        await form.get_by_label("Caste category").select_option("OBC")
        await form.get_by_label("Economic status").select_option("BPL")
        await form.get_by_label("Contact consent").select_option("GRANTED")
        await form.get_by_role("button", name="Save survey").click()
        await expect(page.locator(".notice.ok")).to_have_text("Survey saved.")
        await expect(page.locator('dd[data-name="phone"]')).to_have_text("9876501234")
        await tab.shot("survey-saved")
        row = await db.fetchrow(
            "select phone, caste_category, economic_status from voters where epic_number = $1", epic
        )
        assert (row["phone"], row["caste_category"], row["economic_status"]) == ("9876501234", "OBC", "BPL")
        # erasure asks for a confirmation first
        await page.locator("form#erase").get_by_role("button", name="Erase").click()
        assert await db.fetchval("select phone from voters where epic_number = $1", epic) == "9876501234"


# ------------------------------------------------------------------------------ 5. calls ---
@pytest.mark.parametrize("size", SIZES)
async def test_caller_logs_three_calls_and_the_list_advances(
    browser, base: str, size: str, db: asyncpg.Connection
) -> None:
    async with open_app(browser, base, size, CALLER) as tab:
        page = tab.page
        await expect(page).to_have_url(re.compile(r"#/calls"))
        await wait_for_view(tab)
        await tab.shot("calls-start")
        today = int(re.search(r"\d+", await page.locator("#call-counts .pill").first.text_content() or "").group())
        seen: list[str] = []
        for i, outcome in enumerate(("Reached", "No answer", "Call back")):
            name = await page.locator(".call-now #voter-name").text_content() or ""
            assert name not in seen
            seen.append(name)
            tel = page.locator(".call-now a.tel")
            assert (await tel.get_attribute("href") or "").startswith("tel:5")
            choice = page.locator('[data-field="outcome"] label.choice', has_text=outcome)
            box = await choice.bounding_box()
            assert box and box["height"] >= 44  # a thumb-sized target
            await choice.click()
            if i == 0:
                await page.locator('[data-field="benefitReceived"]').get_by_text("Yes").click()
                await page.locator('[data-field="satisfaction"]').get_by_text("4").click()
                await page.get_by_label("Problems they report").fill("Gas refill is late")
                await page.get_by_label("Further benefit they want").fill("Pension")
                await page.get_by_label("Notes").fill("Call in the evening")
            await page.get_by_role("button", name="Save and next").click()
            await expect(page.locator(".notice.ok")).to_be_visible()
            await expect(page.locator("#call-counts .pill").first).to_have_text(f"Today: {today + i + 1} calls")
        await tab.shot("calls-after-three")
        logged = await db.fetch(
            "select outcome, problems, satisfaction from call_logs where caller_id = $1 order by id desc limit 3",
            CALLER,
        )
        assert [r["outcome"] for r in logged] == ["CALL_BACK", "NO_ANSWER", "REACHED"]
        assert (logged[2]["problems"], logged[2]["satisfaction"]) == ("Gas refill is late", 4)


# -------------------------------------------------------------------------- 6. campaigns ---
@pytest.mark.parametrize("size", SIZES)
async def test_district_president_creates_a_campaign_and_assigns_it(
    browser, base: str, size: str, db: asyncpg.Connection
) -> None:
    name = f"Ujjwala follow-up {size}"
    async with open_app(browser, base, size, DISTRICT_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go("#/campaigns")
        await wait_for_view(tab)
        form = page.locator("form#create-campaign")
        await form.get_by_label("Name").fill(name)
        await form.get_by_role("button", name="Create campaign").click()
        await expect(form.locator('[data-field="schemes"] .field-error')).not_to_be_empty()  # no scheme chosen
        await form.locator('input[name="schemes"]').first.check()
        await form.locator('input[name="schemes"]').nth(1).check()
        await form.get_by_role("button", name="Create campaign").click()
        await expect(page.locator(".notice.ok")).to_contain_text(name)
        card = page.locator("article.campaign", has_text=name)
        await card.get_by_label("Caller's user id").fill(MANDAL_CALLER)
        await card.get_by_role("button", name="Assign").click()
        await expect(page.locator(".notice.ok")).to_contain_text(f"assigned to {MANDAL_CALLER}")
        card = page.locator("article.campaign", has_text=name)
        await expect(card.locator("table.callers tbody tr", has_text=MANDAL_CALLER)).to_be_visible()  # per caller
        await tab.shot("campaign-assigned")
        n = await db.fetchval(
            """select count(*) from call_assignments ca join campaigns c on c.id = ca.campaign_id
               where c.name = $1 and ca.caller_id = $2""",
            name,
            MANDAL_CALLER,
        )
        assert n > 0
        text = await page.locator(".notice.ok").text_content() or ""
        assert f"{n} calls" in text
        # a refusal in words: a caller outside the district
        card = page.locator("article.campaign", has_text=name)
        await card.get_by_label("Caller's user id").fill("u-000045")
        await card.get_by_role("button", name="Assign").click()
        await expect(card.locator("[role=alert]", has_text="Not found, or not in your area.")).to_be_visible()
        await tab.shot("campaign-refused")


# ------------------------------------------------------------------------------ 8. data ---
@pytest.mark.parametrize("size", SIZES)
async def test_it_convenor_uploads_a_bad_file_and_sees_the_line(
    browser, base: str, size: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    header = (
        "epic_number,booth_code,serial_number,name,name_hi,relative_name,age,gender,house_number,phone,"
        "caste_category,caste,economic_status,contact_consent"
    )
    bad = tmp_path / "voters.csv"
    bad.write_text(
        f"{header}\nZZZ0000001,{BOOTH},9001,Test One,,Someone,30,MALE,1,,,,,UNKNOWN\n"
        f"ZZZ0000002,{BOOTH},9002,Test Two,,Someone,old,FEMALE,1,,,,,UNKNOWN\n",
        encoding="utf-8",
    )
    async with open_app(browser, base, size, IT_CONVENOR, check_console=False) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go("#/data")
        await wait_for_view(tab)
        await page.get_by_label("CSV files").set_input_files(str(bad))
        await page.get_by_role("button", name="Upload").click()
        result = page.locator("#import-result")
        await expect(result).to_contain_text("Nothing was imported")
        await expect(result.locator(".where")).to_contain_text("File voters.csv, line 3")
        await tab.shot("import-refused")
        assert await db.fetchval("select count(*) from voters where epic_number like 'ZZZ%'") == 0
        # the export downloads this district's voters.csv
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Download").click()
        download = await download_info.value
        saved = tmp_path / "export.csv"
        await download.save_as(saved)
        assert saved.read_text(encoding="utf-8").startswith("epic_number,")
        # the only console errors are the refused upload's HTTP status
        assert all("status of 4" in e for e in tab.console_errors), tab.console_errors


# ----------------------------------------------------------------------------- 9. audit ---
@pytest.mark.parametrize("size", SIZES)
async def test_auditor_finds_the_refused_import_and_the_campaign(browser, base: str, size: str) -> None:
    async with open_app(browser, base, size, STATE_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go("#/audit")
        await wait_for_view(tab)
        await page.get_by_label("Action").select_option("data.import_refused")
        await page.get_by_label("Unit (code)").fill(DISTRICT)
        await page.get_by_role("button", name="Search").click()
        await expect(page).to_have_url(re.compile(r"action=data.import_refused"))
        rows = page.locator("table.audit tbody tr")
        await expect(rows.first).to_contain_text(IT_CONVENOR)
        await expect(rows.first).to_contain_text("import refused")
        await expect(rows.first).to_contain_text("voters.csv")
        await tab.shot("audit-import-refused")
        await page.get_by_label("Action").select_option("outreach.campaign")
        await page.get_by_role("button", name="Search").click()
        await expect(page.locator("table.audit tbody tr", has_text=DISTRICT_PRESIDENT).first).to_be_visible()
        await page.go_back()
        await expect(page.get_by_label("Action")).to_have_value("data.import_refused")


# ------------------------------------------------------------------ 1. session, language ---
@pytest.mark.parametrize("size", SIZES)
async def test_language_switch_is_remembered_and_follows_everywhere(browser, base: str, size: str) -> None:
    async with open_app(browser, base, size, DISTRICT_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await page.get_by_role("button", name=re.compile("Switch to Hindi|हिन्दी")).click()
        await expect(page.locator("html")).to_have_attribute("lang", "hi")
        await expect(page.locator("main h1")).to_contain_text("लखनऊ")
        await expect(page.locator(".tabs")).to_contain_text("मेरा क्षेत्र")
        if await page.locator("svg .bar.suppressed").count():
            await expect(page.locator("svg .bar.suppressed text.bar-value").first).to_have_text("5 से कम")
        await tab.shot("area-district-hindi")
        await page.reload()
        await wait_for_view(tab)
        await expect(page.locator("html")).to_have_attribute("lang", "hi")
        await expect(page.locator("main h1")).to_contain_text("लखनऊ")  # and still signed in
        await tab.go(f"#/voters/{DISTRICT}")
        await wait_for_view(tab)
        await expect(page.locator("table.voters thead")).to_contain_text("फ़ोन")
        await tab.shot("voters-hindi")
        await page.get_by_role("button", name=re.compile("English")).click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("size", SIZES)
async def test_reload_keeps_the_session_and_sign_out_ends_it(browser, base: str, size: str) -> None:
    async with open_app(browser, base, size, DISTRICT_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        assert "token=" not in page.url  # taken out of the address bar
        await tab.go(f"#/voters/{DISTRICT}")
        await wait_for_view(tab)
        await page.reload()
        await wait_for_view(tab)
        await expect(page).to_have_url(re.compile(f"#/voters/{DISTRICT}$"))
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.locator("form#signin")).to_contain_text("You have signed out.")
        await page.reload()
        await expect(page.locator("form#signin")).to_be_visible()
        await tab.shot("signed-out")


TTL_S = 12  # long enough for a first load on a busy machine


@pytest.mark.parametrize("size", SIZES)
async def test_an_expired_token_leads_back_to_sign_in(browser, base: str, size: str) -> None:
    expires = time.monotonic() + TTL_S
    async with open_app(browser, base, size, DISTRICT_PRESIDENT, ttl_s=TTL_S, check_console=False) as tab:
        page = tab.page
        await expect(page.locator("main h1")).to_contain_text("Lucknow")
        await asyncio.sleep(max(0.0, expires - time.monotonic()) + 1.1)  # exp has whole seconds
        await page.locator("table.units tbody th a").first.click()
        await expect(page.locator("form#signin p.error")).to_contain_text("session has ended")
        await expect(page.locator("main")).not_to_contain_text("Lucknow")
        await tab.shot("expired")
        # a pasted token opens the app again
        from tests.serverkit import token

        await page.get_by_label("Access token").fill(token(DISTRICT_PRESIDENT))
        await page.get_by_role("button", name="Open").click()
        await wait_for_view(tab)  # back where the session ended: the mandal that was clicked
        await expect(page.locator("main h1 small")).to_contain_text(f"{DISTRICT}-M")


# ------------------------------------------------------------------------------ 7. team ---
@pytest.mark.parametrize("size", SIZES)
async def test_district_president_grants_and_revokes_with_refusals_in_words(
    browser, base: str, size: str, db: asyncpg.Connection
) -> None:
    grantee, mandal = ("u-000075" if size == "phone" else "u-000074"), f"{DISTRICT}-M02"
    async with open_app(browser, base, size, DISTRICT_PRESIDENT) as tab:
        page = tab.page
        await wait_for_view(tab)
        await tab.go("#/team")
        await wait_for_view(tab)
        await expect(page.locator("table.team tbody tr", has_text="u-000007")).to_contain_text("District In-charge")
        form = page.locator("form#grant")

        async def grant(role: str, unit: str) -> None:
            await form.get_by_label("User id").fill(grantee)
            await form.get_by_label("Role").select_option(role)
            await form.get_by_label("Unit (code)").fill(unit)
            await form.get_by_role("button", name="Grant").click()

        await grant("DISTRICT_PRESIDENT", DISTRICT)  # the granter's own rank
        await expect(form.locator("[role=alert]", has_text="only roles below your own")).to_be_visible()
        await grant("BOOTH_PRESIDENT", mandal)  # a role at a level it does not allow
        refusal = form.locator("[role=alert]", has_text="cannot be given at this level")
        await expect(refusal).to_have_text("Refused: Booth President cannot be given at this level, only at a Booth.")
        await tab.shot("team-refused")
        await grant("CALLER", mandal)
        await expect(page.locator(".notice.ok")).to_contain_text(f"Caller granted to {grantee} at {mandal}")
        row = page.locator("table.team tbody tr", has_text=grantee)
        await expect(row).to_contain_text("Caller")
        await tab.shot("team-granted")
        assert await db.fetchval("select count(*) from assignments where user_id = $1", grantee) == 1
        await row.get_by_role("button", name="Revoke").click()
        await expect(page.locator(".notice.ok")).to_have_text("Role revoked.")
        await expect(page.locator("table.team tbody tr", has_text=grantee)).to_have_count(0)
        assert await db.fetchval("select count(*) from assignments where user_id = $1", grantee) == 0
