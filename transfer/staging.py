"""One CSV file into a temporary, all-text staging table, streamed through `RecordScanner`.

The table has an `ord` column (1 = the first data record) next to the file's own columns, so a
set-wise check can name the first bad record and `Staged.line(ord)` its physical line. Empty
cells, quoted or not, arrive as NULL. When every record matched the cell patterns on the way
(`Staged.vouched`), the SQL cell check has nothing left to find and is skipped. Python never
holds more than one chunk of the file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from transfer.csvscan import CsvFormatError, Header, LineMap, RecordScanner, parse_header
from transfer.patterns import record_pattern
from transfer.progress import Progress
from transfer.refusal import refused
from transfer.spec import FileSpec
from transfer.spreadsheet import ESCAPED_BYTES, ESCAPED_SQL, unescape_sql

CHUNK = 1 << 20


@dataclass
class Staged:
    spec: FileSpec
    table: str
    columns: list[str]  # in the file's order
    rows: int
    linemap: LineMap
    vouched: bool  # the scanner matched every record against the cell patterns

    @property
    def file(self) -> str:
        return self.spec.name

    def has(self, column: str) -> bool:
        return column in self.columns

    def line(self, ord_: int) -> int:
        return self.linemap.line(ord_)


def staging_table(spec: FileSpec) -> str:
    return f"bg_import_{spec.stem}"


def check_header(spec: FileSpec, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise refused(spec.name, 1, None, "a column without a name in the header")
        if name in seen:
            raise refused(spec.name, 1, name, "this column is named twice in the header")
        if name not in spec.by_name:
            expected = ", ".join(c.name for c in spec.columns)
            raise refused(spec.name, 1, name, f"unknown column; the columns are {expected}")
        seen.add(name)
    for column in spec.columns:
        if column.in_header and column.name not in seen:
            raise refused(spec.name, 1, column.name, "required column missing from the header")


def open_scan(spec: FileSpec, head: bytes) -> tuple[Header, RecordScanner]:
    """The checked header at the start of `head` (the file's first CHUNK bytes) and a scanner
    for the records after it; a bad header is refused at line 1."""
    try:
        header = parse_header(head, at_eof=len(head) < CHUNK)
    except CsvFormatError as exc:
        raise refused(spec.name, exc.line, None, exc.reason) from None
    check_header(spec, header.names)
    typed = record_pattern([spec.by_name[c] for c in header.names])
    return header, RecordScanner(len(header.names), header.eol, header.lines + 1, typed)


async def stage(conn: asyncpg.Connection, folder: Path, spec: FileSpec, progress: Progress) -> Staged:
    path = folder / spec.name
    table = staging_table(spec)
    with open(path, "rb") as f:
        head = f.read(CHUNK)
        header, scanner = open_scan(spec, head)
        columns = header.names
        # A key column the file may leave out (assignments.csv's page) is there, empty, for the
        # key checks; `Staged.has` still says the file did not give it.
        absent_keys = [c for c in spec.key if c not in columns]
        await conn.execute(
            f"drop table if exists {table}; create temp table {table} "
            f"(ord bigint generated always as identity, {', '.join(f'{c} text' for c in [*columns, *absent_keys])}) "
            "on commit drop"
        )
        bar = progress.bytes_bar(spec.name, path.stat().st_size)
        bar.update(len(head))
        escaped = False  # a chunk may hold a spreadsheet-escaped cell (spreadsheet.py)

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal escaped
            data = head[header.end :]
            while data:
                ready = scanner.feed(data)
                if ready:
                    escaped = escaped or ESCAPED_BYTES.search(ready) is not None
                    yield ready
                data = f.read(CHUNK)
                bar.update(len(data))
            ready = scanner.finish()
            if ready:
                escaped = escaped or ESCAPED_BYTES.search(ready) is not None
                yield ready

        try:
            status = await conn.copy_to_table(table, source=chunks(), columns=columns, format="csv", force_null=columns)
        except CsvFormatError as exc:
            column = columns[exc.field] if exc.field is not None and exc.field < len(columns) else None
            raise refused(spec.name, exc.line, column, exc.reason) from None
        finally:
            bar.close()
    copied = int(status.split()[-1])
    if copied != scanner.records:  # PostgreSQL read the stream differently from the scanner
        raise refused(spec.name, scanner.linemap.line(copied + 1), None, "unreadable record")
    if escaped:
        await conn.execute(unescape_sql(table, columns), ESCAPED_SQL)
    return Staged(spec, table, columns, copied, scanner.linemap, scanner.vouched)
