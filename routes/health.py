"""GET /healthz (the process answers) and GET /readyz (it can reach its database); both public."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from routes.state import app_state


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = app_state(request)
    if state.readiness is None or not await state.readiness.ready():
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})
