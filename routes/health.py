"""GET /healthz (the process answers) and GET /readyz (it can reach its database); both public."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from routes.state import app_state


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when the primary answers; with standbys (READ_DATABASE_URL), each one's state too: a
    standby that is down or lagging makes the node no less ready (reads go to the primary)."""
    state = app_state(request)
    ready = state.readiness is not None and await state.readiness.ready()
    body: dict[str, Any] = {"status": "ready" if ready else "unavailable"}
    if state.replicas is not None:
        body["databases"] = {"primary": {"ready": ready}, "standbys": state.replicas.report()}
    return JSONResponse(body, status_code=200 if ready else 503)
