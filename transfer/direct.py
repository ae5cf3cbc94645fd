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

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from transfer.bulk import rebuilt_indexes, without_row_triggers
from transfer.progress import Progress
from transfer.spec import FileSpec
from transfer.spreadsheet import ESCAPED_BYTES
from transfer.staging import CHUNK, open_scan

ANCESTORS = ("booth_id", "mandal_id", "district_id", "region_id")


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
    column default). Remembers the booths it saw."""

    def __init__(self, columns: list[str], eol: bytes, booths: dict[bytes, bytes]) -> None:
        self.eol = eol
        self.booth = columns.index("booth_code")
        self.consent = columns.index("contact_consent") if "contact_consent" in columns else None
        self.booths = booths
        self.seen: set[bytes] = set()

    def __call__(self, records: bytes) -> bytes:
        if records.endswith(self.eol):
            records = records[: -len(self.eol)]
        out = []
        booth, consent, booths, seen = self.booth, self.consent, self.booths, self.seen
        for record in records.split(self.eol):
            cells = record.split(b",")
            code = cells[booth]
            ids = booths.get(code)
            if ids is None:
                raise Declined(f"no BOOTH unit {code!r}")
            seen.add(code)
            cells[booth] = ids
            if consent is not None and not cells[consent]:
                cells[consent] = b"UNKNOWN"
            out.append(b",".join(cells))
        out.append(b"")
        return b"\n".join(out)


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
) -> tuple[int, set[int]]:
    """COPY `folder`/voters.csv into the empty voters table; (records, booth ids touched).
    `fast` (a superuser): without the per-row foreign-key checks, as bulk.without_row_triggers."""
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
    ids = {int(booths[code].split(b",", 1)[0]) for code in rewrite.seen}
    return copied, ids
