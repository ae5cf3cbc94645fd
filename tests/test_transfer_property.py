"""Property: a valid folder with one random mutation (bad enum, bad int, extra column, broken
quote, duplicate key, random byte) is either imported whole or refused with file, line and
column, and then the database is exactly as before. Never another kind of error."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BoothgraphError, CsvImportError
from transfer.importer import import_folder
from transfer.spec import BY_NAME

TABLES = {
    "units.csv": "units",
    "voters.csv": "voters",
    "schemes.csv": "schemes",
    "beneficiaries.csv": "beneficiaries",
    "users.csv": "users",
    "assignments.csv": "assignments",
}
KINDS = ["enum", "int", "extra column", "broken quote", "duplicate key", "random byte"]


def set_field(line: bytes, index: int, value: str) -> bytes:
    record = next(csv.reader([line.decode()]))
    record[index % len(record)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(record)
    return out.getvalue().encode()


@st.composite
def mutation(draw: st.DrawFn, files: dict[str, bytes]) -> tuple[str, str, bytes]:
    kind = draw(st.sampled_from(KINDS))
    name = "voters.csv" if kind in ("enum", "int") else draw(st.sampled_from(sorted(files)))
    lines = files[name].splitlines(keepends=True)
    header = lines[0].decode().strip().split(",")
    n = draw(st.integers(1, len(lines) - 1))
    if kind == "enum":
        column = draw(st.sampled_from(["gender", "caste_category", "economic_status", "contact_consent"]))
        value = draw(st.sampled_from(["X", "male", "OBC ", "GRANTED2", "", "Male"]))
        lines[n] = set_field(lines[n], header.index(column), value)
    elif kind == "int":
        column = draw(st.sampled_from(["age", "serial_number"]))
        value = draw(st.sampled_from(["abc", "-1", "0", "17", "121", "1e3", " 42", "042", "99999999999", ""]))
        lines[n] = set_field(lines[n], header.index(column), value)
    elif kind == "extra column":
        n = draw(st.integers(0, len(lines) - 1))
        lines[n] = lines[n].rstrip(b"\n") + b",x\n"
    elif kind == "broken quote":
        at = draw(st.integers(0, len(lines[n]) - 1))
        lines[n] = lines[n][:at] + b'"' + lines[n][at:]
    elif kind == "duplicate key":
        lines.insert(draw(st.integers(n + 1, len(lines))), lines[n])
    else:
        data = b"".join(lines)
        at = draw(st.integers(0, len(data) - 1))
        byte = draw(st.integers(0, 255))
        return kind, name, data[:at] + bytes([byte]) + data[at + 1 :]
    return kind, name, b"".join(lines)


def records(data: bytes) -> int:
    return len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))) - 1


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_mutated_folders(conn: asyncpg.Connection, mini_dataset: Path, db_state, data: st.DataObject) -> None:
    files = {p.name: p.read_bytes() for p in mini_dataset.iterdir()}
    kind, name, mutated = data.draw(mutation(files), label="mutation")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for file, content in files.items():
            (folder / file).write_bytes(mutated if file == name else content)
        transaction = conn.transaction()
        await transaction.start()
        try:
            before = await db_state(conn)
            try:
                report = await import_folder(conn, folder)
            except BoothgraphError as exc:
                assert isinstance(exc, CsvImportError), exc.message
                assert exc.file in files, exc.message
                content = (folder / exc.file).read_bytes()
                assert 1 <= exc.line <= content.count(b"\n") + 1, exc.message
                assert exc.message.startswith(f"{exc.file}:{exc.line}: "), exc.message
                if exc.column is not None:
                    assert exc.column in BY_NAME[exc.file].by_name or exc.column in content.split(b"\n")[0].decode(
                        errors="replace"
                    ), exc.message
                    assert f"column {exc.column}: " in exc.message
                if kind == "duplicate key" and exc.file == name:
                    assert "same" in exc.reason or "no " in exc.reason, exc.message
                assert await db_state(conn) == before
            else:
                assert kind != "duplicate key" or name == "assignments.csv" and False, "a duplicate key went in"
                for file, table in TABLES.items():
                    content = mutated if file == name else files[file]
                    expected = records(content)
                    assert report.files[file].rows == expected
                    assert await conn.fetchval(f"select count(*) from {table}") == expected, (kind, file)
                audited = dict(await conn.fetch("select action, count(*) from audit_log group by 1"))
                granted = await conn.fetchval("select count(*) from assignments")  # all new in this import
                assert audited == {"data.import": 1} | ({"role.grant": granted} if granted else {})
        finally:
            await transaction.rollback()
