"""GET /export/walklist.pdf and GET /export/slips.pdf?unit=BOOTH[&page=N] (docs/pages.md): the
HTTP part only; the checks, rows and audit are transfer/printouts.py, the PDF printout_pdf.py.

Like the CSV export, a printout takes one of the user's export slots and a connection through the
worker's gate; the connection is given back before the PDF is drawn, in a worker thread so the
event loop keeps serving (about a second of CPU for a booth of 1,500 voters).
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.availability import as_unavailable, is_database_unavailable
from core.errors import BadUserInput, BoothgraphError
from transfer import printout_pdf
from transfer.http import authenticate, error_response, export_limits, internal_error, services
from transfer.printouts import Printout, prepare_printout

log = logging.getLogger(__name__)

RENDER = {"walklist": printout_pdf.walk_list, "slips": printout_pdf.slips}


def _page(request: Request) -> int | None:
    raw = request.query_params.get("page")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise BadUserInput("Query parameter page must be a roll page number (1, 2, …)", argument="page")
    return int(raw)


async def _printout(request: Request, kind: str) -> Response:
    try:
        viewer = await authenticate(request)
        unit = request.query_params.get("unit")
        if not unit:
            raise BadUserInput("Query parameter unit=CODE is required", argument="unit")
        if "\x00" in unit:
            raise BadUserInput("Query parameter unit must not contain the character U+0000", argument="unit")
        page = _page(request)
        pool, policy, settings, _ = services(request)
        gate, slots = export_limits(request, pool, settings)
        async with slots.slot(viewer.user_id):
            async with gate.acquire(viewer.user_id) as conn:
                printout: Printout = await prepare_printout(conn, viewer, policy, kind=kind, unit=unit, page=page)
            body = await run_in_threadpool(RENDER[kind], printout.booth, printout.page, printout.entries)
    except BoothgraphError as exc:
        return error_response(exc)
    except Exception as exc:
        if is_database_unavailable(exc):
            return error_response(as_unavailable(exc))
        log.exception("printout failed")
        return internal_error()
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{printout.file_name}"',
            "cache-control": "no-store",
            "x-records": str(len(printout.entries)),
        },
    )


async def walklist_pdf(request: Request) -> Response:
    return await _printout(request, "walklist")


async def slips_pdf(request: Request) -> Response:
    return await _printout(request, "slips")


routes = [
    Route("/export/walklist.pdf", walklist_pdf, methods=["GET"]),
    Route("/export/slips.pdf", slips_pdf, methods=["GET"]),
]
