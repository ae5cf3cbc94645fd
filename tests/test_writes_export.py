"""GET /export/voters.csv through the real app (middleware, auth, lifespan): fields by
permission, scope, audit, and a 100k-voter export streamed with flat memory."""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
from pathlib import Path
from typing import Any

import asyncpg

from tests.dataset import load_folder
from tests.serverkit import bearer, client_for
from tests.writes_support import (
    AYD,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_PRESIDENT_LKO,
    IT_CONVENOR_LKO,
    LKO,
    LKO_M01_B1,
    STATE_IT,
)
from transfer.export import VOTERS_CSV_COLUMNS


async def _load(url: str, folder: Path) -> None:
    conn = await asyncpg.connect(url)
    try:
        await load_folder(conn, folder)
    finally:
        await conn.close()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_export_fields_follow_permissions(database_url: str, tiny_dataset: Path) -> None:
    await _load(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False) as client:
        conn = await asyncpg.connect(database_url)
        try:
            expected = await conn.fetchval(
                "select count(*) from voters v join units d on d.id = v.district_id where d.code = $1", LKO
            )
            truth = {
                r["epic_number"]: r
                for r in await conn.fetch(
                    "select v.* from voters v join units d on d.id = v.district_id where d.code = $1", LKO
                )
            }

            # DISTRICT_CONVENOR: read_contact and read_sensitive -> everything in clear.
            r = await client.get("/export/voters.csv", params={"unit": LKO}, headers=bearer(DISTRICT_CONVENOR_LKO))
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            assert r.text.splitlines()[0] == ",".join(VOTERS_CSV_COLUMNS)
            rows = _rows(r.text)
            assert len(rows) == expected
            for row in rows:
                t = truth[row["epic_number"]]
                assert row["phone"] == (t["phone"] or "")
                assert row["caste"] == (t["caste"] or "") and row["caste_category"] == (t["caste_category"] or "")
                assert row["name"] == t["name"] and int(row["serial_number"]) == t["serial_number"]
            # Roll order: booth by booth (each booth's rows together), serial numbers ascending.
            booths = [row["booth_code"] for row in rows]
            runs = [b for i, b in enumerate(booths) if i == 0 or booths[i - 1] != b]
            assert len(runs) == len(set(runs))
            for booth in runs:
                serials = [int(row["serial_number"]) for row in rows if row["booth_code"] == booth]
                assert serials == sorted(serials)

            # IT_CONVENOR: data.export without read_contact / read_sensitive -> masked / empty.
            r = await client.get("/export/voters.csv", params={"unit": LKO}, headers=bearer(IT_CONVENOR_LKO))
            assert r.status_code == 200
            rows = _rows(r.text)
            assert len(rows) == expected
            for row in rows:
                t = truth[row["epic_number"]]
                assert row["phone"] == ("******" + t["phone"][-4:] if t["phone"] else "")
                assert row["caste"] == row["caste_category"] == row["economic_status"] == ""
                assert row["contact_consent"] == t["contact_consent"]

            # Audited with the number of records.
            entries = await conn.fetch("select * from audit_log where action = 'data.export' order by id")
            assert [(e["user_id"], e["unit_code"], e["records"]) for e in entries] == [
                (DISTRICT_CONVENOR_LKO, LKO, expected),
                (IT_CONVENOR_LKO, LKO, expected),
            ]

            # Refusals: no data.export (403), outside the scope (404), bad request (400), no token (401).
            before = await conn.fetchval("select count(*) from audit_log")
            checks = [
                ({"unit": LKO}, bearer(DISTRICT_PRESIDENT_LKO), 403, "FORBIDDEN"),
                ({"unit": AYD}, bearer(DISTRICT_CONVENOR_LKO), 404, "NOT_FOUND"),
                ({"unit": "UP-NOPE"}, bearer(DISTRICT_CONVENOR_LKO), 404, "NOT_FOUND"),
                ({}, bearer(DISTRICT_CONVENOR_LKO), 400, "BAD_USER_INPUT"),
                ({"unit": LKO}, {}, 401, "UNAUTHENTICATED"),
            ]
            for params, headers, status, code in checks:
                r = await client.get("/export/voters.csv", params=params, headers=headers)
                assert r.status_code == status, (params, r.text)
                assert r.json()["errors"][0]["extensions"]["code"] == code
            assert await conn.fetchval("select count(*) from audit_log") == before

            # The state IT convenor exports a booth (below their STATE scope).
            r = await client.get("/export/voters.csv", params={"unit": LKO_M01_B1}, headers=bearer(STATE_IT))
            assert r.status_code == 200 and len(_rows(r.text)) == await conn.fetchval(
                "select count(*) from voters v join units b on b.id = v.booth_id where b.code = $1", LKO_M01_B1
            )
        finally:
            await conn.close()


BIG_BOOTH = "UP-AWD-LKO-M01-B0999"
BIG = 100_000


async def _add_big_booth(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("select set_config('boothgraph.bulk', 'on', true)")
            mandal = await conn.fetchrow("select * from units where code = 'UP-AWD-LKO-M01'")
            booth_id = await conn.fetchval(
                """insert into units (code, parent_id, level, depth, name, path, state_id, region_id, district_id,
                                      mandal_id)
                   values ($1, $2, 'BOOTH', 4, 'Big booth', $3, $4, $5, $6, $2) returning id""",
                BIG_BOOTH,
                mandal["id"],
                mandal["path"] + "/" + BIG_BOOTH,
                mandal["state_id"],
                mandal["region_id"],
                mandal["district_id"],
            )
            await conn.execute("update units set booth_id = id where id = $1", booth_id)
            await conn.execute(
                """insert into voters (epic_number, booth_id, mandal_id, district_id, region_id, serial_number, name,
                                       name_hi, relative_name, age, gender, house_number, phone, caste_category,
                                       caste, economic_status, contact_consent)
                   select 'BIG' || lpad(g::text, 7, '0'), $1, $2, $3, $4, g, 'Voter ' || g, 'मतदाता ' || g,
                          'Relative ' || g, 18 + g % 80, case when g % 2 = 0 then 'MALE' else 'FEMALE' end,
                          (g / 4)::text, case when g % 3 = 0 then null else '5' || lpad(g::text, 9, '0') end,
                          'OBC', 'OBC-07', 'BPL', 'UNKNOWN'
                   from generate_series(1, $5) g""",
                booth_id,
                mandal["id"],
                mandal["district_id"],
                mandal["region_id"],
                BIG,
            )
            await conn.execute("select refresh_rollups(array[$1::int])", booth_id)  # as every bulk writer does
    finally:
        await conn.close()


async def _drive(app: Any, path: str, query: str, headers: dict[str, str]) -> tuple[int, int, int, bytes]:
    """Run one GET through the ASGI app, keeping only a count of the body bytes (httpx's
    ASGITransport would hold the whole body in memory). Returns status, bytes, chunks, first chunk."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    done = asyncio.Event()
    sent_request = False

    async def receive() -> dict:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    status, size, chunks, first = 0, 0, 0, b""

    async def send(message: dict) -> None:
        nonlocal status, size, chunks, first
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                if not first:
                    first = bytes(body[:200])
                size += len(body)
                chunks += 1
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    return status, size, chunks, first


async def test_export_of_100k_voters_streams_with_flat_memory(database_url: str, tiny_dataset: Path) -> None:
    await _load(database_url, tiny_dataset)
    await _add_big_booth(database_url)
    async with client_for(database_url, seeded=False, pool_max_size=4) as client:
        app = client.app  # type: ignore[attr-defined]
        headers = bearer(DISTRICT_CONVENOR_LKO)
        await _drive(app, "/export/voters.csv", f"unit={LKO_M01_B1}", headers)  # warm up imports and caches
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            status, size, chunks, first = await _drive(app, "/export/voters.csv", f"unit={BIG_BOOTH}", headers)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert status == 200
        assert first.startswith(b"epic_number,booth_code,")
        assert size > 10_000_000 and chunks > 40  # ~100 bytes a row, in batches
        assert peak < size / 4 and peak < 8_000_000, f"peak {peak} bytes for {size} bytes of output"
        print(f"export: {size} bytes in {chunks} chunks, tracemalloc peak {peak} bytes")
        conn = await asyncpg.connect(database_url)
        try:
            records = await conn.fetchval(
                "select records from audit_log where action = 'data.export' and unit_code = $1", BIG_BOOTH
            )
        finally:
            await conn.close()
        assert records == BIG
