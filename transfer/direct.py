"""A first load of voters.csv straight into the empty voters table: one COPY, no staging.

The careful path (staging.py, then records.write_voters) parses the file twice: COPY into a
staging table, then INSERT ... SELECT into voters, row by row. Into an empty table, with no
scope to check, the only work between the two is replacing each booth code by the booth's id
and its ancestors' ids. Here Python does that on the way, while PostgreSQL parses the previous
chunk, and COPY's multi-row insert writes voters once.

It only takes files that need no explaining: every chunk vouched for by the scanner's cell
patterns (so no quoted field), every booth code a known BOOTH, no cell escaped for
spreadsheets (`'=…`: staging.py unescapes those). Anything else raises
`Declined`, and so does any error, including a duplicate EPIC number found when the keys are
built; the importer then rolls this attempt back and takes the careful path, which names the
file, line and column. So an import is refused exactly as before, only later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import asyncpg

from resolvers.release import SENSITIVE_DIMS
from transfer.bulk import rebuilt_indexes, without_row_triggers
from transfer.progress import Progress
from transfer.spec import FileSpec
from transfer.spreadsheet import ESCAPED_BYTES
from transfer.staging import CHUNK, open_scan

ANCESTORS = ("booth_id", "mandal_id", "district_id", "region_id")


@dataclass
class DirectLoad:
    rows: int
    booth_ids: set[int]
    # Per booth, dim and value, the voters: the rows resolvers.release.start_first_release
    # would otherwise read from voters with a scan of its own.
    sensitive_counts: list[dict[str, Any]]


class Declined(Exception):
    """The file needs the careful path (a reason for the log, not for the user)."""


def target_columns(columns: list[str]) -> list[str]:
    """The voters columns a file with these header columns fills, in the file's order."""
    out: list[str] = []
    for c in columns:
        out.extend(ANCESTORS if c == "booth_code" else ("roll_page",) if c == "page" else (c,))
    return out


class Rewriter:
    """Rewrites whole records (no quotes, no line break inside): the booth code becomes the
    booth's ids, an empty contact_consent becomes UNKNOWN (COPY would store NULL, not the
    column default). Remembers the booths it saw, and how many voters of each booth have each
    combination of the sensitive cells (`sensitive_counts`)."""

    def __init__(self, columns: list[str], eol: bytes, booths: dict[bytes, bytes]) -> None:
        self.eol = eol
        self.booth = columns.index("booth_code")
        self.consent = columns.index("contact_consent") if "contact_consent" in columns else None
        self.booths = booths
        self.seen: set[bytes] = set()
        # (booth code, then each sensitive cell the file has) -> voters. One tuple per record,
        # counted a chunk at a time by Counter's C loop: ~0.5 s of Python per million voters,
        # beside PostgreSQL's COPY, against a 0.4 s scan of voters after it.
        self.dims = [c for c in SENSITIVE_DIMS if c in columns]
        self.profile = itemgetter(self.booth, *(columns.index(c) for c in self.dims)) if self.dims else None
        self.profiles: Counter[tuple[bytes, ...]] = Counter()

    def __call__(self, records: bytes) -> bytes:
        if records.endswith(self.eol):
            records = records[: -len(self.eol)]
        out = []
        profiles: list[tuple[bytes, ...]] = []
        booth, consent, booths, seen, profile = self.booth, self.consent, self.booths, self.seen, self.profile
        for record in records.split(self.eol):
            cells = record.split(b",")
            code = cells[booth]
            ids = booths.get(code)
            if ids is None:
                raise Declined(f"no BOOTH unit {code!r}")
            seen.add(code)
            if profile is not None:
                profiles.append(profile(cells))
            cells[booth] = ids
            if consent is not None and not cells[consent]:
                cells[consent] = b"UNKNOWN"
            out.append(b",".join(cells))
        self.profiles.update(profiles)
        out.append(b"")
        return b"\n".join(out)

    def booth_id(self, code: bytes) -> int:
        return int(self.booths[code].split(b",", 1)[0])

    def sensitive_counts(self) -> list[dict[str, Any]]:
        """(unit_id, dim, key, n) per booth, dim and value: what a GROUP BY of the copied voters
        gives. An empty cell is stored NULL (COPY, no quotes here) and so not counted."""
        counts: Counter[tuple[int, str, str]] = Counter()
        for (code, *values), n in self.profiles.items():
            booth_id = self.booth_id(code)
            for dim, value in zip(self.dims, values, strict=True):
                if value:
                    counts[(booth_id, dim, value.decode())] += n
        return [{"unit_id": b, "dim": dim, "key": key, "n": n} for (b, dim, key), n in counts.items()]


async def booth_ids(conn: asyncpg.Connection, *, lock: bool) -> dict[bytes, bytes]:
    """Booth code -> b"booth_id,mandal_id,district_id,region_id". `lock`: FOR KEY SHARE, what
    the foreign-key checks would have taken when they are skipped."""
    rows = await conn.fetch(
        "select code, id, mandal_id, district_id, region_id from units where level = 'BOOTH'"
        + (" order by id for key share" if lock else "")
    )
    return {r[0].encode(): b"%d,%d,%d,%d" % (r[1], r[2], r[3], r[4]) for r in rows}


async def copy_fresh_voters(
    conn: asyncpg.Connection, folder: Path, spec: FileSpec, progress: Progress, *, fast: bool
) -> DirectLoad:
    """COPY `folder`/voters.csv into the empty voters table: records, booth ids touched, sensitive
    counts. `fast` (a superuser): without the per-row foreign-key checks, as bulk.without_row_triggers."""
    path = folder / spec.name
    booths = await booth_ids(conn, lock=fast)
    with open(path, "rb") as f:
        head = f.read(CHUNK)
        header, scanner = open_scan(spec, head)
        rewrite = Rewriter(header.names, header.eol, booths)
        bar = progress.bytes_bar(spec.name, path.stat().st_size)
        bar.update(len(head))

        def checked(ready: bytes) -> bytes:
            if not scanner.vouched:  # a quoted field or a cell the patterns refuse
                raise Declined("a record the cell patterns do not vouch for")
            if ESCAPED_BYTES.search(ready):  # COPY would store the spreadsheet escape's quote
                raise Declined("a cell escaped for spreadsheets")
            return rewrite(ready)

        async def chunks() -> AsyncIterator[bytes]:
            data = head[header.end :]
            while data:
                ready = scanner.feed(data)
                if ready:
                    yield checked(ready)
                data = f.read(CHUNK)
                bar.update(len(data))
            ready = scanner.finish()
            if ready:
                yield checked(ready)

        try:
            async with (
                rebuilt_indexes(conn, "voters", True, constraints=True),
                without_row_triggers(conn, fast),
            ):
                status = await conn.copy_to_table(
                    "voters", source=chunks(), columns=target_columns(header.names), format="csv"
                )
        finally:
            bar.close()
    copied = int(status.split()[-1])
    if copied != scanner.records:
        raise Declined("PostgreSQL read the stream differently from the scanner")
    return DirectLoad(copied, {rewrite.booth_id(code) for code in rewrite.seen}, rewrite.sensitive_counts())
