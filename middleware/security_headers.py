"""Headers that make browsers treat the API's answers as data: no sniffing, no framing, no
referrer, no caching (answers hold personal data), and a Content-Security-Policy.

JSON answers get a CSP that allows nothing. The GraphiQL page is HTML with inline scripts and
scripts/styles from unpkg.com (its CDN; a machine without internet access shows an empty
page, which is fine), so HTML answers get a CSP that allows exactly that and connects only
back to this origin.

Everything under /app/ (the officials' app, web/) gets a strict CSP: scripts, styles and images
only from this origin, no inline script or style attribute, requests only to this origin; its
files may be cached if revalidated (`no-cache`), since they hold no personal data.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
GRAPHIQL_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://unpkg.com; "
    "img-src 'self' data: https://unpkg.com; "
    "font-src 'self' data: https://unpkg.com; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
APP_PREFIX = "/app/"
APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'"
)
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in FIXED.items():
                    if name not in headers:
                        headers[name] = value
                html = headers.get("content-type", "").startswith("text/html")
                if scope["path"].startswith(APP_PREFIX):
                    headers["Content-Security-Policy"] = APP_CSP
                    # The app's own files hold no personal data: kept, but revalidated (ETag) on every use.
                    headers["Cache-Control"] = "no-cache"
                else:
                    headers["Content-Security-Policy"] = GRAPHIQL_CSP if html else API_CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)
