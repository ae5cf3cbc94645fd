"""GET /export/walklist.pdf and GET /export/slips.pdf?unit=BOOTH[&page=N] (docs/pages.md): the
HTTP part only; the checks, rows and audit are transfer/printouts.py, the PDF transfer/printout_pdf.py.

Authenticated and answered like /export/voters.csv (routes/transfer.py): a `core.errors` class
raised here is rendered by middleware/errors.py. A printout takes one of the user's export slots
and a connection through the worker's gate; the connection is given back before the PDF is
drawn, in a worker thread, so the event loop keeps serving (about a second of CPU for a booth of
1,500 voters).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import BadUserInput
from routes.state import app_state, request_viewer
from routes.transfer import client_error
from transfer import printout_pdf
from transfer.printouts import prepare_printout

RENDER = {"walklist": printout_pdf.walk_list, "slips": printout_pdf.slips}


def _page(request: Request) -> int | None:
    raw = request.query_params.get("page")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise BadUserInput("Query parameter page must be a roll page number (1, 2, …)", argument="page")
    return int(raw)


async def _printout(request: Request, kind: str) -> Response:
    viewer = request_viewer(request)
    state = app_state(request)
    try:
        unit = request.query_params.get("unit")
        if not unit:
            raise BadUserInput("Query parameter unit=CODE is required", argument="unit")
        if "\x00" in unit:
            raise BadUserInput("Query parameter unit must not contain the character U+0000", argument="unit")
        page = _page(request)
        policy = await state.policy_for(viewer)
        state.require_pool()
        async with state.exports.slot(viewer.user_id):
            async with state.connections.acquire(viewer.user_id) as conn:
                printout = await prepare_printout(conn, viewer, policy, kind=kind, unit=unit, page=page)
            body = await run_in_threadpool(RENDER[kind], printout.booth, printout.page, printout.entries)
    except Exception as exc:
        error = client_error(exc, "printout")
        if error is exc:
            raise
        raise error from exc
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{printout.file_name}"',
            "cache-control": "no-store",
            "x-records": str(len(printout.entries)),
        },
    )


async def walklist_endpoint(request: Request) -> Response:
    return await _printout(request, "walklist")


async def slips_endpoint(request: Request) -> Response:
    return await _printout(request, "slips")


routes = [
    Route("/export/walklist.pdf", walklist_endpoint, methods=["GET"]),
    Route("/export/slips.pdf", slips_endpoint, methods=["GET"]),
]
