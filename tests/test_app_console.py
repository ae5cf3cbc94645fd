"""The officials' app's own query console (issue 18 §4), offline: every request that does not go
to the page's origin is aborted (Playwright route), and the console still edits, runs with the
viewer's token, shows error codes, browses the schema from introspection and keeps its history."""

from __future__ import annotations

import json
import re

import pytest

from tests.app_browser import SIZES, open_app
from tests.test_app_journeys import (  # noqa: F401  (module fixtures: a server and a browser of our own)
    DISTRICT_PRESIDENT,
    OTHER_DISTRICT,
    app_db,
    base,
    browser,
    expect,
    wait_for_view,
)


@pytest.mark.parametrize("size", SIZES)
async def test_console_runs_queries_and_browses_the_schema_offline(browser, base: str, size: str) -> None:  # noqa: F811
    async with open_app(browser, base, size, DISTRICT_PRESIDENT, offline=True) as tab:
        page = tab.page
        await wait_for_view(tab)
        await expect(page.locator("#tabs a", has_text="Query console")).to_be_visible()
        await tab.go("#/console")
        await wait_for_view(tab)
        await expect(page.locator("main h1")).to_have_text("Query console")
        # the schema browser, from introspection: Query first, its fields link their types
        detail = page.locator("#schema-type")
        await expect(detail.locator("h3")).to_contain_text("Query")
        await detail.locator('button[data-type="Voter"]').first.click()
        await expect(detail.locator("h3")).to_contain_text("Voter")
        await expect(detail).to_contain_text("epicNumber")
        await page.locator("#schema-filter").fill("CallOutc")
        await expect(page.locator(".schema-types li")).to_have_count(1)
        await page.locator('.schema-types button[data-type="CallOutcome"]').click()
        await expect(detail).to_contain_text("WRONG_NUMBER")
        # a query with variables, run with the viewer's token: the server's scope answers
        query = page.locator("#console-query")
        await query.fill("query U($code: String!) {\n  unit(code: $code) { code name }\n  me { id }\n}")
        await expect(page.locator(".code-editor .gutter").first).to_have_text("1\n2\n3\n4")
        await page.locator("#console-variables").fill(json.dumps({"code": OTHER_DISTRICT}))
        await page.locator("#console-run").click()
        await expect(page.locator("#console-result")).to_contain_text(DISTRICT_PRESIDENT)
        answer = json.loads(await page.locator("#console-result").text_content() or "")
        assert answer["data"] == {"unit": None, "me": {"id": DISTRICT_PRESIDENT}}  # outside the scope: null
        await tab.shot("console-result")
        # an error with its code; bad JSON in the variables is caught before sending
        await query.fill("{ voters { edges { node { nosuchfield } } } }")
        await page.locator("#console-variables").fill("{}")
        await query.press("Control+Enter")
        await expect(page.locator("#console-errors code").first).to_have_text("GRAPHQL_VALIDATION_FAILED")
        await page.locator("#console-variables").fill("{nope")
        await page.locator("#console-run").click()
        await expect(page.locator("#console-errors [role=alert]")).to_contain_text("not valid JSON")
        # the tab's history survives a reload and puts a query back in the editor
        await page.reload()
        await wait_for_view(tab)
        entries = page.locator("#console-history li button")
        await expect(entries).to_have_count(2)
        await entries.nth(1).click()
        await expect(query).to_have_value(re.compile(r"unit\(code: \$code\)"))
        await tab.shot("console-schema")
    assert tab.blocked == []  # nothing even tried to leave the origin
