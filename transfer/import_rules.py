"""What an import over HTTP may touch, beyond the files' own rules (docs/import-scope.md): the
`allowed` hook of import_folder (data.import over every unit the files touch) and the grant and
reference rules an uploader is held to (assignments.csv like grantRole, schemes.csv only over
the whole state, users.csv only for users of the uploader's data.import scope). The endpoint
itself is routes/transfer.py."""

from __future__ import annotations

import csv
from pathlib import Path

import asyncpg

from core.errors import Forbidden, NotFound
from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, Viewer, unit_place
from models import Level
from policies import PolicyEngine
from resolvers.places import find_unit
from resolvers.roles import granting_rank, permission_rank
from resolvers.visibility import visible_cover


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
