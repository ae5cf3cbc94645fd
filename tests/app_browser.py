"""The officials' app (web/) in Debian's Chromium through Playwright: one server over a copy of
the tiny data set (with the demo's open campaign) and one browser per test module, a fresh
browser context (own sessionStorage) per journey, at phone and desktop size.

Every page records the requests it makes (all must go to the page's own origin) and its console
errors (a CSP violation is one); screenshots go to tests/output/app/ (git-ignored), or to
APP_SCREENSHOTS when set.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, Route

from tests.serverkit import token

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None)
SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1366, "height": 768}}
SHOTS = Path(os.environ.get("APP_SCREENSHOTS") or Path(__file__).resolve().parent / "output" / "app")


@dataclass
class Tab:
    """One browser context and its page, with what it asked the network for."""

    base: str
    size: str
    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    async def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{self.size}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def go(self, route: str) -> None:
        """Navigate inside the app, as a link would (a hash change, no reload); what the view
        showed before is kept in `texts` (its text and its links' targets)."""
        await self.remember()
        await self.page.evaluate("(route) => { location.hash = route; }", route)

    async def remember(self) -> None:
        self.texts.append(
            await self.page.evaluate(
                "() => document.body.innerText + [...document.querySelectorAll('a[href]')].map(a => a.href).join(' ')"
            )
        )

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.base + "/") or u.startswith(("data:", "blob:")))]


@contextlib.asynccontextmanager
async def open_app(browser: Browser, base: str, size: str, user: str | None = None, *, ttl_s: int = 3600,
                   check_console: bool = True, offline: bool = False) -> AsyncIterator[Tab]:  # fmt: skip
    """A new context at `size`, on /app/ with `user`'s token in the link (or none). `offline`: every
    request not to the page's own origin is aborted (as without internet) and noted in `blocked`."""
    context = await browser.new_context(viewport=SIZES[size], locale="en-IN", service_workers="block")
    page = await context.new_page()
    tab = Tab(base, size, context, page)
    if offline:

        async def only_own_origin(route: Route) -> None:
            if route.request.url.startswith(base + "/"):
                await route.continue_()
            else:
                tab.blocked.append(route.request.url)
                await route.abort("internetdisconnected")

        await context.route("**/*", only_own_origin)
    context.on("request", lambda request: tab.requests.append(request.url))
    page.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.console_errors.append(f"pageerror: {e}"))
    fragment = f"#token={token(user, ttl_s=ttl_s)}" if user else ""
    await page.goto(f"{base}/app/{fragment}")
    try:
        yield tab
        assert tab.foreign_requests() == [], tab.foreign_requests()
        if check_console:
            assert tab.console_errors == [], tab.console_errors
    finally:
        await context.close()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')].filter((el) => {
  if (el.type === 'hidden' || el.closest('[hidden]')) return false;
  const named = el.getAttribute('aria-label') || el.closest('label')
    || (el.id && document.querySelector(`label[for="${el.id}"]`)) || (el.tagName === 'BUTTON' && el.textContent.trim());
  return !named;
}).map((el) => el.outerHTML.slice(0, 80))"""


async def unlabelled_controls(page: Page) -> list[str]:
    """Form controls and buttons a screen reader could not name."""
    return list(await page.evaluate(UNLABELLED))


def graphql_requests(tab: Tab) -> int:
    return sum(1 for u in tab.requests if re.search(r"/graphql$", u))
