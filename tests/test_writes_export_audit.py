"""An export's audit entry records what was actually returned in clear (issue 12, part 3),
computed from the covers the redaction applies row by row, not from the exported unit alone."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import asyncpg

from tests.dataset import load_folder
from tests.serverkit import bearer, client_for
from tests.writes_support import DISTRICT_CONVENOR_LKO, IT_CONVENOR_LKO, LKO, LKO_M01_B1

SENSITIVE = ("caste_category", "caste", "economic_status")


def _in_clear(text: str) -> tuple[int, int, int]:
    """(rows, phones in clear, rows with a sensitive field) of an exported voters.csv."""
    rows = list(csv.DictReader(io.StringIO(text)))
    phones = sum(1 for r in rows if r["phone"] and not r["phone"].startswith("*"))
    return len(rows), phones, sum(1 for r in rows if any(r[c] for c in SENSITIVE))


async def test_export_audit_counts_what_went_out_in_clear(database_url: str, tiny_dataset: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        # Two assignments: data.export over the district, read_contact/sensitive over one booth.
        await conn.execute(
            "insert into assignments (user_id, role, unit_id)"
            " select $1, 'BOOTH_PRESIDENT', id from units where code = $2",
            IT_CONVENOR_LKO,
            LKO_M01_B1,
        )
        async with client_for(database_url, seeded=False) as client:
            seen = {}
            for user in (IT_CONVENOR_LKO, DISTRICT_CONVENOR_LKO):
                r = await client.get("/export/voters.csv", params={"unit": LKO}, headers=bearer(user))
                assert r.status_code == 200
                seen[user] = _in_clear(r.text)
        entries = await conn.fetch(
            "select user_id, unit_code, records, detail from audit_log where action = 'data.export'"
        )
        booth_phones = await conn.fetchval(
            "select count(*) from voters v join units b on b.id = v.booth_id where b.code = $1 and v.phone is not null",
            LKO_M01_B1,
        )
    finally:
        await conn.close()
    got = {e["user_id"]: (e["unit_code"], e["records"], json.loads(e["detail"])) for e in entries}
    for user, (rows, phones, sensitive) in seen.items():
        assert got[user] == (
            LKO,
            rows,
            {
                "file": "voters.csv",
                "phone_in_clear": phones > 0,
                "phones_in_clear": phones,
                "sensitive_in_clear": sensitive > 0,
                "sensitive_records_in_clear": sensitive,
            },
        )
    assert seen[IT_CONVENOR_LKO][1] == booth_phones > 0  # the booth's phones, and only those
