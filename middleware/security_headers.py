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
# The same as raw header pairs (lower-case names), written straight into the start message: one
# pass over the headers the app wrote instead of a MutableHeaders lookup per name (bench/README.md).
_FIXED = [(name.lower().encode(), value.encode()) for name, value in FIXED.items()]
_CSP = b"content-security-policy"
_CACHE_CONTROL = b"cache-control"
_CONTENT_TYPE = b"content-type"
_REPLACED_FOR_APP = frozenset({_CSP, _CACHE_CONTROL})


def secured(headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
    """The response's headers with FIXED added where the app set none, and the CSP for `path`
    (the app's pages: also Cache-Control no-cache) in place of any the app set."""
    present = {name for name, _ in headers}
    html = any(name == _CONTENT_TYPE and value.startswith(b"text/html") for name, value in headers)
    replaced = _REPLACED_FOR_APP if path.startswith(APP_PREFIX) else frozenset({_CSP})
    out = [pair for pair in headers if pair[0] not in replaced]
    out += [pair for pair in _FIXED if pair[0] not in present and pair[0] not in replaced]
    if path.startswith(APP_PREFIX):
        out += [(_CSP, APP_CSP.encode()), (_CACHE_CONTROL, b"no-cache")]
    else:
        out.append((_CSP, (GRAPHIQL_CSP if html else API_CSP).encode()))
    return out


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(list(message.get("headers") or ()), scope["path"])
            await send(message)

        await self.app(scope, receive, send_with_headers)
