"""Importing elections and their phases from CSV (docs/elections-csv.md), in the spirit of
../shared/contract/csv-format.md: UTF-8, one header row, unknown columns an error, rows upserted by
their key, the same key twice an error, and a bad row refuses the whole import with the file, the
physical line, the column and the reason (`CsvImportError`). All in one transaction.

- elections.csv: code (key), name, name_hi, model_code_from, counting_on.
- election_phases.csv: election_code + unit_code (key), poll_date. Every election named here gets
  exactly these phases (its earlier ones are replaced); an election not named keeps its own.

The rules of resolvers/elections.py hold: phase units of one election never nest, every poll date
lies in the Model Code period, codes as in the API. Run by `boothgraph elections import DIR` as the
administrator (user `system`); each election written is audited as `election.import` under every
unit it covers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from core.errors import CsvImportError
from core.viewer import UNIT_PLACE_COLUMNS, UnitPlace, unit_place
from resolvers import audit
from resolvers.elections import CODE_RE
from transfer.spreadsheet import unescape_cell

ELECTIONS = "elections.csv"
PHASES = "election_phases.csv"
COLUMNS = {
    ELECTIONS: (("code", "name", "model_code_from", "counting_on"), ("name_hi",)),
    PHASES: (("election_code", "unit_code", "poll_date"), ()),
}
IMPORT_USER = "system"


@dataclass(slots=True)
class ElectionLine:
    line: int
    code: str
    name: str
    name_hi: str | None
    model_code_from: dt.date
    counting_on: dt.date


@dataclass(slots=True)
class PhaseLine:
    line: int
    election_code: str
    unit_code: str
    poll_date: dt.date


@dataclass(slots=True)
class ElectionImport:
    elections: list[ElectionLine] = field(default_factory=list)
    phases: list[PhaseLine] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{ELECTIONS}: {len(self.elections)} elections", f"{PHASES}: {len(self.phases)} phases"]


def _rows(name: str, text: str) -> list[tuple[int, dict[str, str | None]]]:
    """(physical line of the record's start, cells) per record; header checked."""
    required, optional = COLUMNS[name]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError(name, 1, None, "the file is empty (a header row is required)") from None
    except csv.Error as exc:
        raise CsvImportError(name, 1, None, f"malformed CSV: {exc}") from None
    unknown = [c for c in header if c not in required + optional]
    if unknown:
        raise CsvImportError(name, 1, unknown[0], "unknown column")
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvImportError(name, 1, missing[0], "required column missing")
    if len(set(header)) != len(header):
        raise CsvImportError(name, 1, None, "a column is named twice")
    out: list[tuple[int, dict[str, str | None]]] = []
    start = 2
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue
            if len(record) != len(header):
                raise CsvImportError(name, line, None, f"{len(record)} cells where the header has {len(header)}")
            out.append(
                (line, {h: (unescape_cell(v) if v != "" else None) for h, v in zip(header, record, strict=True)})
            )
    except csv.Error as exc:
        raise CsvImportError(name, start, None, f"malformed CSV: {exc}") from None
    return out


def _date(name: str, line: int, column: str, value: str | None) -> dt.date:
    if value is None:
        raise CsvImportError(name, line, column, "required")
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CsvImportError(name, line, column, "must be a date YYYY-MM-DD") from None


def _text(name: str, line: int, column: str, value: str | None, *, limit: int = 200) -> str:
    if value is None or not value.strip():
        raise CsvImportError(name, line, column, "required")
    if len(value) > limit:
        raise CsvImportError(name, line, column, f"at most {limit} characters")
    return value


def parse(folder: Path) -> ElectionImport:
    """Reads and checks both files as far as they stand alone."""
    result = ElectionImport()
    path = folder / ELECTIONS
    if path.exists():
        seen: dict[str, int] = {}
        for line, row in _rows(ELECTIONS, path.read_text(encoding="utf-8-sig")):
            code = _text(ELECTIONS, line, "code", row["code"], limit=40)
            if not CODE_RE.match(code):
                raise CsvImportError(
                    ELECTIONS, line, "code", "letters, digits, '-' or '_', starting with one of the first two"
                )
            if code in seen:
                raise CsvImportError(ELECTIONS, line, "code", f"given twice (first on line {seen[code]})")
            seen[code] = line
            first = _date(ELECTIONS, line, "model_code_from", row["model_code_from"])
            last = _date(ELECTIONS, line, "counting_on", row["counting_on"])
            if last < first:
                raise CsvImportError(ELECTIONS, line, "counting_on", "must not be before model_code_from")
            result.elections.append(
                ElectionLine(line, code, _text(ELECTIONS, line, "name", row["name"]), row.get("name_hi"), first, last)
            )
    path = folder / PHASES
    if path.exists():
        keys: dict[tuple[str, str], int] = {}
        for line, row in _rows(PHASES, path.read_text(encoding="utf-8-sig")):
            election = _text(PHASES, line, "election_code", row["election_code"], limit=40)
            unit = _text(PHASES, line, "unit_code", row["unit_code"])
            if (election, unit) in keys:
                raise CsvImportError(PHASES, line, "unit_code", f"given twice (first on line {keys[(election, unit)]})")
            keys[(election, unit)] = line
            result.phases.append(PhaseLine(line, election, unit, _date(PHASES, line, "poll_date", row["poll_date"])))
    return result


async def import_elections(conn: asyncpg.Connection, folder: Path, *, user_id: str = IMPORT_USER) -> ElectionImport:
    """Checks against the database and writes everything in one transaction, or nothing."""
    data = parse(folder)
    async with conn.transaction():
        stored = {
            r["code"]: (r["model_code_from"], r["counting_on"])
            for r in await conn.fetch("select code, model_code_from, counting_on from elections")
        }
        periods = stored | {e.code: (e.model_code_from, e.counting_on) for e in data.elections}
        codes = sorted({p.unit_code for p in data.phases})
        places = {
            r["code"]: unit_place(r)
            for r in await conn.fetch(f"select {UNIT_PLACE_COLUMNS} from units u where u.code = any($1::text[])", codes)
        }
        by_election: dict[str, list[tuple[PhaseLine, UnitPlace]]] = {}
        for p in data.phases:
            if p.election_code not in periods:
                raise CsvImportError(PHASES, p.line, "election_code", "no such election (in elections.csv or stored)")
            place = places.get(p.unit_code)
            if place is None:
                raise CsvImportError(PHASES, p.line, "unit_code", "no such unit")
            first, last = periods[p.election_code]
            if not first <= p.poll_date <= last:
                raise CsvImportError(PHASES, p.line, "poll_date", "must lie between model_code_from and counting_on")
            for other, other_place in by_election.get(p.election_code, []):
                if place.is_under(other_place) or other_place.is_under(place):
                    raise CsvImportError(
                        PHASES, p.line, "unit_code", f"overlaps {other.unit_code} (line {other.line}): units never nest"
                    )
            by_election.setdefault(p.election_code, []).append((p, place))
        for e in data.elections:
            await conn.execute(
                """insert into elections (code, name, name_hi, model_code_from, counting_on, created_by)
                   values ($1, $2, $3, $4, $5, $6)
                   on conflict (code) do update set name = excluded.name, name_hi = excluded.name_hi,
                       model_code_from = excluded.model_code_from, counting_on = excluded.counting_on,
                       updated_at = now()""",
                e.code, e.name, e.name_hi, e.model_code_from, e.counting_on, user_id,
            )  # fmt: skip
        # A stored election whose new period leaves its stored phases' poll dates outside it.
        bad = await conn.fetchrow(
            """select e.code, u.code as unit_code from elections e join election_phases p on p.election_id = e.id
               join units u on u.id = p.unit_id
               where e.code = any($1::text[]) and not e.code = any($2::text[])
                 and not p.poll_date between e.model_code_from and e.counting_on limit 1""",
            [e.code for e in data.elections],
            list(by_election),
        )
        if bad is not None:
            line = next(e.line for e in data.elections if e.code == bad["code"])
            raise CsvImportError(
                ELECTIONS, line, "model_code_from", f"the stored poll date of {bad['unit_code']} falls outside"
            )
        for code, phases in by_election.items():
            election_id = await conn.fetchval("select id from elections where code = $1", code)
            await conn.execute("delete from election_phases where election_id = $1", election_id)
            await conn.executemany(
                "insert into election_phases (election_id, unit_id, poll_date) values ($1, $2, $3)",
                [(election_id, place.id, p.poll_date) for p, place in phases],
            )
        written = sorted({e.code for e in data.elections} | set(by_election))
        for code in written:
            for r in await conn.fetch(
                """select u.id, u.code from elections e join election_phases p on p.election_id = e.id
                   join units u on u.id = p.unit_id where e.code = $1 order by u.code""",
                code,
            ):
                await audit.record(
                    conn, user_id=user_id, action="election.import", unit_id=r["id"], unit_code=r["code"],
                    records=1, detail=audit.detail_json(election=code),
                )  # fmt: skip
    return data
