"""HTTP bulk transfer (service.md): POST /import and GET /export/voters.csv.

Both authenticate like /graphql (the viewer the middleware read from the database for this
request) and answer errors like it: a `core.errors` class raised here is rendered by
middleware/errors.py with its status. The data work is transfer/'s: import_folder with the
uploader's rules (transfer/import_rules.py), prepare_export and stream_export (transfer/export.py).

/import: multipart/form-data, one file part per CSV file, named as in csv-format.md (the part's
filename, or else its field name, e.g. `voters.csv`). data.import is required over every unit
the files touch, all or nothing, validated exactly like `boothgraph import`; assignments.csv is
held to the rules of grantRole as well, so an import can never escalate. A refusal after
authentication is audited (`data.import_refused`).

/export/voters.csv?unit=CODE: data.export over the unit, streamed.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.availability import as_unavailable, is_database_unavailable
from core.errors import BadRequest, BadUserInput, BoothgraphError, InternalError, PayloadTooLarge
from core.viewer import Viewer
from resolvers.visibility import visible_cover
from routes.state import AppState, app_state, request_viewer
from transfer.export import prepare_export, stream_export
from transfer.export_response import ExportResponse
from transfer.import_rules import ImportGuard, check_assignment_rows, check_reference_rows
from transfer.importer import import_folder
from transfer.refused_audit import record_refused_import

log = logging.getLogger("boothgraph.transfer")

CSV_FILES = ("units.csv", "voters.csv", "schemes.csv", "beneficiaries.csv", "users.csv", "assignments.csv")
CHUNK = 1 << 20
MAX_PARTS = 12


def client_error(exc: Exception, what: str) -> BoothgraphError:
    """What the client is told of a failure: our own errors as they are, a database that is not
    there as 503, anything else (logged) as 500 without a trace."""
    if isinstance(exc, BoothgraphError):
        return exc
    if is_database_unavailable(exc):
        return as_unavailable(exc)
    log.exception("%s failed", what)
    return InternalError()


def form_refused(message: str) -> BoothgraphError:
    """A multipart body starlette / python-multipart would not parse (too many parts, a non-file
    part over its size limit, broken framing): 413 for a size, else 400, never 500."""
    return PayloadTooLarge(message) if "maximum size" in message else BadRequest(message)


# ---------------------------------------------------------------------------- export ---
async def export_endpoint(request: Request) -> Response:
    viewer = request_viewer(request)
    state = app_state(request)
    # The export slot and the connection are taken here, before the 200 goes out, and handed to
    # the response, which gives them back when the stream ends or is cut (export_response.py).
    closing = AsyncExitStack()
    try:
        unit = request.query_params.get("unit")
        if not unit:
            raise BadUserInput("Query parameter unit=CODE is required", argument="unit")
        if "\x00" in unit:  # PostgreSQL's text holds no NUL: not a unit code, and no 500
            raise BadUserInput("Query parameter unit must not contain the character U+0000", argument="unit")
        policy = await state.policy_for(viewer)
        state.require_pool()
        await closing.enter_async_context(state.exports.slot(viewer.user_id))
        conn = await closing.enter_async_context(state.connections.acquire(viewer.user_id))
        plan = await prepare_export(conn, viewer, policy, unit)
    except Exception as exc:
        await closing.aclose()
        error = client_error(exc, "export")
        if error is exc:
            raise
        raise error from exc
    return ExportResponse(
        stream_export(conn, plan),
        send_timeout_s=state.settings.export_send_timeout_s,
        closing=closing,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="voters-{plan.unit.code}.csv"',
            "cache-control": "no-store",
            "x-records": str(plan.records),
        },
    )


# ---------------------------------------------------------------------------- import ---
def _file_name(field: str, upload: UploadFile) -> str:
    for candidate in (upload.filename or "", field):
        name = Path(candidate.replace("\\", "/")).name
        if name and not name.endswith(".csv"):
            name += ".csv"
        if name in CSV_FILES:
            return name
    raise BadUserInput(
        f"Unknown file part {upload.filename or field!r}: expected one of {', '.join(CSV_FILES)}", argument=field
    )


def _result_body(result: Any) -> Any:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    if isinstance(result, dict):
        return result
    return {"result": str(result)} if result is not None else {}


async def import_endpoint(request: Request) -> Response:
    viewer = request_viewer(request)
    state = app_state(request)
    files: list[str] = []  # the parts' file names, for the audit of a refusal
    try:
        result = await _import(request, state, viewer, files)
    except (MultiPartException, HTTPException) as exc:
        # request.form outside a Starlette app raises the first, inside one it wraps it in the second.
        raise form_refused(exc.message if isinstance(exc, MultiPartException) else exc.detail) from None
    except Exception as exc:
        error = client_error(exc, "import")
        if 400 <= error.status < 500:
            try:
                await audit_refusal(state, viewer, error, files)
            except Exception as audit_exc:  # no trace, no answer: the refusal itself tells something
                raise client_error(audit_exc, "auditing a refused import") from audit_exc
        if error is exc:
            raise
        raise error from exc
    return Response(orjson.dumps({"data": _result_body(result)}), media_type="application/json")


async def _import(request: Request, state: AppState, viewer: Viewer, files: list[str]) -> Any:
    pool, policy, settings = state.require_pool(), await state.policy_for(viewer), state.settings
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadUserInput("POST /import takes multipart/form-data, one part per CSV file")
    async with request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS) as form:
        parts: dict[str, UploadFile] = {}
        for field, value in form.multi_items():
            if not isinstance(value, UploadFile):
                raise BadUserInput(f"Part {field!r} is not a file", argument=field)
            name = _file_name(field, value)
            if name in parts:
                raise BadUserInput(f"{name} was sent twice", argument=field)
            parts[name] = value
            files.append(name)
        if not parts:
            raise BadUserInput("No CSV file was sent")
        with tempfile.TemporaryDirectory(prefix="boothgraph-import-") as tmp:
            folder = Path(tmp)
            for name, upload in parts.items():
                with (folder / name).open("wb") as out:
                    while chunk := await upload.read(CHUNK):
                        out.write(chunk)

            async def before_write(conn: asyncpg.Connection) -> None:
                # The grant and reference rules compare with stored rows: after the files' own
                # rules (docs/import-scope.md).
                await check_reference_rows(conn, viewer, policy, folder, set(parts))
                if "assignments.csv" in parts:
                    await check_assignment_rows(conn, viewer, policy, folder)

            async with pool.acquire(timeout=settings.connect_timeout_s) as conn:  # bounded wait: 503
                return await import_folder(
                    conn,
                    folder,
                    user_id=viewer.user_id,
                    progress=False,
                    allowed=ImportGuard(viewer, policy),
                    before_write=before_write,
                    audit_units=[(u.id, u.code) for u in policy.cover(viewer, "data.import").units],
                )


async def audit_refusal(state: AppState, viewer: Viewer, error: BoothgraphError, files: list[str]) -> None:
    """`data.import_refused` under each unit of the importer's data.import cover (else of the
    units they are assigned to), in a transaction of its own (transfer.refused_audit)."""
    policy = await state.policy_for(viewer)
    cover = policy.cover(viewer, "data.import")
    if cover.empty:
        cover = visible_cover(viewer)
    async with state.require_pool().acquire(timeout=state.settings.connect_timeout_s) as conn:  # bounded wait: 503
        await record_refused_import(
            conn, user_id=viewer.user_id, units=[(u.id, u.code) for u in cover.units], error=error, files=files
        )


routes = [
    Route("/import", import_endpoint, methods=["POST"]),
    Route("/export/voters.csv", export_endpoint, methods=["GET"]),
]
