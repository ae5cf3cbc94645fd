"""Counts every HTTP request and times it for /metrics (core/metrics.py): by path (the known
routes; anything else is "other", so scanners cannot grow the series), GraphQL operation name,
status and result code. The GraphQL view notes the operation names and error codes of a request
in `scope["state"]` (`graphql_operations`, `graphql_codes`)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import metrics

KNOWN_PATHS = frozenset(
    {"/graphql", "/import", "/export/voters.csv", "/healthz", "/readyz", "/metrics", "/schema", "/schema.graphql", "/"}
)


def path_label(path: str) -> str:
    if path in KNOWN_PATHS:
        return path
    if path.startswith("/app/") or path == "/app":
        return "/app"
    if path.startswith("/auth/"):
        return path if len(path) <= 40 else "other"
    return "other"


# The codes of the errors middleware answers with itself (service.md's error shape).
CODE_FOR_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def result_code(status: int, codes: list[str]) -> str:
    """The first GraphQL error's code, else what the status means, else OK."""
    if codes:
        return codes[0]
    if status < 400:
        return "OK"
    return CODE_FOR_STATUS.get(status, "INTERNAL_SERVER_ERROR" if status >= 500 else "BAD_REQUEST")


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        start = time.perf_counter()
        status = 500

        async def noted_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted_send)
        finally:
            operations = state.get("graphql_operations") or ()
            operation = (
                "batch" if len(operations) > 1 else metrics.operation_label(operations[0] if operations else None)
            )
            metrics.observe_request(
                path_label(scope["path"]),
                operation,
                status,
                result_code(status, state.get("graphql_codes") or []),
                time.perf_counter() - start,
            )
