"""How long the officials' app takes to show the state dashboard, in Debian's Chromium.

    DATABASE_URL=postgresql://…/db JWT_SECRET=… .venv/bin/python bench/app_dashboard.py [--runs 7] [--user u-000001]

Starts `boothgraph serve` (one worker) on a free port over DATABASE_URL (a database loaded with
`boothgraph import`), then, per run, a fresh browser context (empty cache, no session) opens
`/app/#token=…` and waits until the dashboard's key figures, charts and the table of the units
below are in the page. Reported per run: milliseconds from navigation start to that moment
(`performance.now()`), and the server time of the dashboard's one GraphQL request. Then the
same view reached by a hash route from another view (the app already loaded).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.auth import make_token  # noqa: E402

# Where a first load's time goes (Resource Timing of the page, read when the dashboard is drawn).
PHASES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const all = performance.getEntriesByType('resource');
  const api = all.filter((e) => e.name.endsWith('/graphql'));
  const files = all.filter((e) => !e.name.endsWith('/graphql'));
  const bytes = (list) => list.reduce((n, e) => n + e.encodedBodySize, 0);
  return { html: nav.responseEnd, htmlBytes: nav.encodedBodySize, files: files.length, filesBytes: bytes(files),
    filesEnd: Math.max(...files.map((e) => e.responseEnd)), requests: api.length,
    apiStart: api.length ? api[0].startTime : 0, apiEnd: api.length ? api[api.length - 1].responseEnd : 0,
    apiBytes: bytes(api) };
}"""

READY = (
    "() => document.querySelectorAll('.figure dd').length >= 5 && document.querySelector('table.units tbody tr')"
    " && document.querySelectorAll('svg.bars').length >= 6"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(
    base: str, token: str, runs: int
) -> tuple[list[float], list[float], list[float], list[dict[str, float]]]:
    cold: list[float] = []
    server: list[float] = []
    route: list[float] = []
    phases: list[dict[str, float]] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for _ in range(runs):
            context = await browser.new_context(viewport={"width": 1366, "height": 768})
            page = await context.new_page()
            timings: list[float] = []

            async def on_response(response, timings=timings) -> None:  # noqa: ANN001
                if response.url.endswith("/graphql"):
                    header = (await response.all_headers()).get("server-timing", "")
                    if "dur=" in header:
                        timings.append(float(header.split("dur=")[1].split(",")[0]))

            page.on("response", on_response)
            await page.goto(f"{base}/app/#token={token}")
            await page.wait_for_function(READY, polling="raf", timeout=60_000)
            cold.append(await page.evaluate("performance.now()"))
            phases.append({**await page.evaluate(PHASES), "drawn": cold[-1]})
            if timings:
                server.append(timings[-1])
            await page.evaluate("location.hash = '#/campaigns'")
            await page.wait_for_selector("main h1")
            await page.wait_for_function("() => !document.querySelector('main[aria-busy]')")
            start = await page.evaluate("performance.now()")
            await page.evaluate("location.hash = '#/unit/UP'")
            await page.wait_for_function(f"() => location.hash === '#/unit/UP' && ({READY})()", polling="raf")
            route.append(await page.evaluate("performance.now()") - start)
            await context.close()
        await browser.close()
    return cold, server, route, phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--user", default="u-000001")
    args = parser.parse_args()
    secret = os.environ["JWT_SECRET"]
    port = free_port()
    env = {
        **os.environ,
        "GRAPHIQL": "false",
        "RATE_LIMIT_PER_S": "1000",
        "RATE_LIMIT_BURST": "1000",
        "STATS_RELEASE_INTERVAL_S": "0",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "boothgraph"), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        token = make_token(args.user, secret, ttl_s=3600)
        cold, srv, route, phases = asyncio.run(measure(f"http://127.0.0.1:{port}", token, args.runs))
    finally:
        server.terminate()
        server.wait(timeout=20)

    def line(name: str, values: list[float]) -> str:
        median, low, high = statistics.median(values), min(values), max(values)
        return f"{name}: median {median:.0f} ms, min {low:.0f}, max {high:.0f} ({len(values)} runs)"

    print(line("first load to the state dashboard drawn", cold))
    if srv:
        print(line("server time of its GraphQL request (Server-Timing)", srv))
    print(line("hash route back to the state dashboard", route))

    def mid(key: str) -> float:
        return statistics.median(p[key] for p in phases)

    print(
        "first load by phase (medians, ms from navigation start): "
        f"HTML received {mid('html'):.0f} ({mid('htmlBytes'):.0f} B); "
        f"{mid('files'):.0f} files (CSS, modules) received by {mid('filesEnd'):.0f} ({mid('filesBytes'):,.0f} B); "
        f"{mid('requests'):.0f} GraphQL request(s) {mid('apiStart'):.0f} -> {mid('apiEnd'):.0f} "
        f"({mid('apiBytes'):,.0f} B of JSON); "
        f"drawn at {mid('drawn'):.0f} (drawing {mid('drawn') - mid('apiEnd'):.0f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
