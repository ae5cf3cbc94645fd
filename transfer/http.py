"""HTTP bulk transfer (service.md): POST /import and GET /export/voters.csv.

Both authenticate like /graphql: the server's middleware has put the viewer (read from the
database for this request) in `request.state.viewer`; without that middleware, `authenticate`
does the same work itself (bearer JWT -> user id -> load_viewer). Errors answer with the
GraphQL error shape and the HTTP status of their code.

/import: multipart/form-data, one file part per CSV file, named as in csv-format.md (the part's
filename, or else its field name, e.g. `voters.csv`). data.import is required over every unit
the files touch (transfer.importer.import_folder asks through its `allowed` hook), all or
nothing, validated exactly like `boothgraph import`. assignments.csv over HTTP is held to the
rules of grantRole as well (each row: a unit visible to the uploader, role.grant there, a role
of lower rank than the granting role, never the uploader), so an import can never escalate.

/export/voters.csv?unit=CODE: data.export over the unit (transfer.export), streamed.
"""

from __future__ import annotations

import csv
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

from core.auth import bearer_token, user_id_from_token
from core.availability import as_unavailable, is_database_unavailable
from core.connections import ConnectionGate
from core.errors import BadUserInput, BoothgraphError, DatabaseUnavailable, Forbidden, NotFound, Unauthenticated
from core.export_slots import ExportSlots
from core.settings import Settings
from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, Viewer, load_viewer, unit_place
from models import Level
from policies import PolicyEngine
from resolvers.guard import find_unit, visible_cover
from resolvers.roles import granting_rank, permission_rank
from transfer.export import prepare_export, stream_export
from transfer.export_response import ExportResponse
from transfer.refused_audit import record_refused_import

log = logging.getLogger("boothgraph.transfer")

CSV_FILES = ("units.csv", "voters.csv", "schemes.csv", "beneficiaries.csv", "users.csv", "assignments.csv")
CHUNK = 1 << 20
MAX_PARTS = 12

STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "RATE_LIMITED": 429,
    "SERVICE_UNAVAILABLE": 503,
}


def _json(status: int, body: object) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def error_response(exc: BoothgraphError) -> Response:
    extensions = {k: v for k, v in exc.extensions.items() if isinstance(v, (str, int, float, bool, type(None), list))}
    response = _json(STATUS.get(exc.code, 500), {"errors": [{"message": exc.message, "extensions": extensions}]})
    if exc.code == "UNAUTHENTICATED":
        response.headers["www-authenticate"] = "Bearer"
    if exc.code in ("RATE_LIMITED", "SERVICE_UNAVAILABLE"):
        response.headers["retry-after"] = "1"
    return response


def form_refused(message: str) -> Response:
    """A multipart body starlette / python-multipart would not parse (too many parts, a non-file
    part over its size limit, broken framing): 413 for a size, else 400, never 500."""
    if "maximum size" in message:
        return _json(413, {"errors": [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]})
    return _json(400, {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]})


def internal_error() -> Response:
    return _json(
        500, {"errors": [{"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    )


# ---------------------------------------------------------------------------- wiring ---
def services(request: Request) -> tuple[asyncpg.Pool, PolicyEngine, Settings, str | None]:
    """(pool, policy, settings, jwt secret) of the app: server.AppState when present."""
    app_state = request.app.state
    state = getattr(app_state, "boothgraph", None)
    if state is not None:
        return state.require_pool(), state.require_policy(), state.settings, getattr(state, "secret", None)
    pool, policy, settings = (getattr(app_state, n, None) for n in ("pool", "policy", "settings"))
    if pool is None or policy is None or settings is None:
        raise DatabaseUnavailable("The server is not ready yet")
    return pool, policy, settings, getattr(app_state, "secret", None)


async def authenticate(request: Request) -> Viewer:
    """The viewer of this request, like /graphql: from the middleware, else from the bearer
    token and the database (roles are never read from the token)."""
    viewer = getattr(request.state, "viewer", None)
    if isinstance(viewer, Viewer):
        return viewer
    pool, _, settings, secret = services(request)
    user_id = user_id_from_token(
        bearer_token(request.headers.get("authorization")), secret or settings.secret_for_serving()
    )
    viewer = await load_viewer(pool, user_id)
    if viewer is None:
        raise Unauthenticated("The token's user does not exist")
    return viewer


# ---------------------------------------------------------------------------- export ---
def export_limits(request: Request, pool: asyncpg.Pool, settings: Settings) -> tuple[ConnectionGate, ExportSlots]:
    """The worker's connection gate and export slots: server.AppState's, else made once here."""
    state = getattr(request.app.state, "boothgraph", None) or request.app.state
    gate, slots = getattr(state, "connections", None), getattr(state, "exports", None)
    if gate is None or slots is None:
        gate = ConnectionGate(lambda: pool, timeout_s=settings.connect_timeout_s, share=settings.pool_share)
        slots = ExportSlots(
            concurrency=settings.export_concurrency,
            per_user=settings.exports_per_user,
            wait_s=settings.connect_timeout_s,
        )
        state.connections, state.exports = gate, slots
    return gate, slots


async def export_endpoint(request: Request) -> Response:
    # The export slot and the connection are taken here, before the 200 goes out, and handed to
    # the response, which gives them back when the stream ends or is cut (export_response.py).
    closing = AsyncExitStack()
    try:
        viewer = await authenticate(request)
        unit = request.query_params.get("unit")
        if not unit:
            raise BadUserInput("Query parameter unit=CODE is required", argument="unit")
        if "\x00" in unit:  # PostgreSQL's text holds no NUL: not a unit code, and no 500
            raise BadUserInput("Query parameter unit must not contain the character U+0000", argument="unit")
        pool, policy, settings, _ = services(request)
        gate, slots = export_limits(request, pool, settings)
        await closing.enter_async_context(slots.slot(viewer.user_id))
        conn = await closing.enter_async_context(gate.acquire(viewer.user_id))
        plan = await prepare_export(conn, viewer, policy, unit)
    except BoothgraphError as exc:
        await closing.aclose()
        return error_response(exc)
    except Exception as exc:
        await closing.aclose()
        if is_database_unavailable(exc):
            return error_response(as_unavailable(exc))
        log.exception("export failed")
        return internal_error()
    return ExportResponse(
        stream_export(conn, plan),
        send_timeout_s=settings.export_send_timeout_s,
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


class ImportGuard:
    """The `allowed` hook handed to import_folder (transfer/scope.py): called with the place of
    every unit the files touch (as it stands inside the import's transaction). Inside the
    data.import cover: allowed. Visible to the uploader but outside that cover: FORBIDDEN (an
    in-scope object whose action the role lacks). Not visible: False, which the importer reports
    as NOT_FOUND in the same words as an absent unit, with file, line and column."""

    def __init__(self, viewer: Viewer, policy: PolicyEngine) -> None:
        self.cover = policy.cover(viewer, "data.import")
        self.visible = visible_cover(viewer)

    def __call__(self, place: UnitPlace) -> bool:
        if self.cover.covers(place):
            return True
        if self.visible.covers(place):
            raise Forbidden(f"You may not import data into unit {place.code}", unit=place.code)
        return False


def _parents(folder: Path) -> dict[str, str]:
    """code -> parent_code of the units.csv of this import (empty without one)."""
    path = folder / "units.csv"
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        return {r.get("code") or "": r.get("parent_code") or "" for r in csv.DictReader(f)}


async def check_assignment_rows(conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, folder: Path) -> None:
    """assignments.csv over HTTP: each row must pass grantRole's checks for the uploader (a unit
    new in this import is judged at its nearest existing ancestor). Level and syntax are the
    importer's to check."""
    parents = _parents(folder)
    visible = visible_cover(viewer)
    with (folder / "assignments.csv").open(newline="", encoding="utf-8-sig", errors="replace") as f:
        rows = list(csv.DictReader(f))
    for line, row in enumerate(rows, start=2):
        code, role, user = row.get("unit_code") or "", row.get("role") or "", row.get("user_id") or ""
        place, seen = await find_unit(conn, code), {code}
        while place is None and parents.get(code) and parents[code] not in seen:
            code = parents[code]
            seen.add(code)
            place = await find_unit(conn, code)
        if place is None or not visible.covers(place):
            raise NotFound(f"assignments.csv:{line}: column unit_code: no such unit", file="assignments.csv", line=line)
        page = row.get("page") or ""
        if page.isdigit() and int(page) > 0 and place.level is Level.BOOTH:  # a roll page (docs/pages.md)
            place = place.at_page(int(page))
        rank = granting_rank(policy, viewer, place, role)
        if rank is None or policy.rank(role) >= rank or user == viewer.user_id:
            raise Forbidden(
                f"assignments.csv:{line}: you may not grant {role} there to {user}", file="assignments.csv", line=line
            )


async def check_reference_rows(
    conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, folder: Path, names: set[str]
) -> None:
    """schemes.csv and users.csv are not under any unit. Over HTTP: schemes only with data.import
    over the whole state; a user row may create a new user, or change one all of whose
    assignments lie inside the uploader's data.import cover, never anyone else."""
    cover = policy.cover(viewer, "data.import")
    if "schemes.csv" in names and not cover.everything:
        raise Forbidden("schemes.csv: schemes are state-wide; importing them needs data.import over the state")
    if "users.csv" not in names:
        return
    with (folder / "users.csv").open(newline="", encoding="utf-8-sig", errors="replace") as f:
        ids = [(line, row.get("id") or "") for line, row in enumerate(csv.DictReader(f), start=2)]
    held: dict[str, list[UnitPlace]] = {}
    ranks: dict[str, list[tuple[UnitPlace, int]]] = {}
    for row in await conn.fetch(
        f"""select x.id as uid, a.role, {UNIT_PLACE_COLUMNS} from users x
            left join assignments a on a.user_id = x.id left join units u on u.id = a.unit_id
            where x.id = any($1::text[])""",
        [user for _, user in ids],
    ):
        places = held.setdefault(row["uid"], [])
        if row["id"] is not None:
            places.append(unit_place(row))
            ranks.setdefault(row["uid"], []).append((unit_place(row), policy.rank(row["role"])))

    def outranked(user: str) -> bool:
        """Every assignment of the user is of lower rank than the importer's data.import role there."""
        return all(
            (mine := permission_rank(policy, viewer, place, "data.import")) is not None and rank < mine
            for place, rank in ranks.get(user, [])
        )

    for line, user in ids:  # `held` has every existing user, with or without assignments
        if user in held and not (held.get(user) and all(cover.covers(p) for p in held[user]) and outranked(user)):
            raise Forbidden(
                f"users.csv:{line}: column id: {user!r} is not a user of your data.import scope",
                file="users.csv",
                line=line,
            )


def _result_body(result: Any) -> Any:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    if isinstance(result, dict):
        return result
    return {"result": str(result)} if result is not None else {}


async def import_endpoint(request: Request) -> Response:
    viewer: Viewer | None = None
    files: list[str] = []  # the parts' file names, for the audit of a refusal
    try:
        viewer = await authenticate(request)
        pool, policy, settings, _ = services(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise BadUserInput("POST /import takes multipart/form-data, one part per CSV file")
        from transfer.importer import import_folder  # the transfer helper's module

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
                importer = viewer

                async def before_write(conn: asyncpg.Connection) -> None:
                    # The grant and reference rules compare with stored rows: after the files'
                    # own rules (docs/import-scope.md).
                    await check_reference_rows(conn, importer, policy, folder, set(parts))
                    if "assignments.csv" in parts:
                        await check_assignment_rows(conn, importer, policy, folder)

                async with pool.acquire(timeout=settings.connect_timeout_s) as conn:  # bounded wait: 503
                    result = await import_folder(
                        conn,
                        folder,
                        user_id=viewer.user_id,
                        progress=False,
                        allowed=ImportGuard(viewer, policy),
                        before_write=before_write,
                        audit_units=[(u.id, u.code) for u in policy.cover(viewer, "data.import").units],
                    )
    except BoothgraphError as exc:
        if viewer is not None and 400 <= STATUS.get(exc.code, 500) < 500:
            try:
                await audit_refusal(request, viewer, exc, files)
            except Exception as audit_exc:  # no trace, no answer: the refusal itself tells something
                if is_database_unavailable(audit_exc):
                    return error_response(as_unavailable(audit_exc))
                log.exception("auditing a refused import failed")
                return internal_error()
        return error_response(exc)
    except MultiPartException as exc:  # request.form outside a Starlette app
        return form_refused(exc.message)
    except HTTPException as exc:  # request.form inside one wraps MultiPartException in this
        return form_refused(exc.detail)
    except Exception as exc:
        if is_database_unavailable(exc):
            return error_response(as_unavailable(exc))
        log.exception("import failed")
        return internal_error()
    return _json(200, {"data": _result_body(result)})


async def audit_refusal(request: Request, viewer: Viewer, error: BoothgraphError, files: list[str]) -> None:
    """`data.import_refused` under each unit of the importer's data.import cover (else of the
    units they are assigned to), in a transaction of its own (transfer.refused_audit)."""
    pool, policy, settings, _ = services(request)
    cover = policy.cover(viewer, "data.import")
    if cover.empty:
        cover = visible_cover(viewer)
    async with pool.acquire(timeout=settings.connect_timeout_s) as conn:  # bounded wait: 503
        await record_refused_import(
            conn, user_id=viewer.user_id, units=[(u.id, u.code) for u in cover.units], error=error, files=files
        )


routes = [
    Route("/import", import_endpoint, methods=["POST"]),
    Route("/export/voters.csv", export_endpoint, methods=["GET"]),
]
