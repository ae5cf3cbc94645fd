"""POST /import through the real app: data.import over every unit touched, all or nothing,
the importer's validation, and no escalation through assignments.csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import asyncpg
import httpx

from tests.dataset import load_folder
from tests.serverkit import bearer, client_for
from tests.writes_support import (
    DISTRICT_CO_CONVENOR_LKO,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_PRESIDENT_LKO,
    IT_CONVENOR_LKO,
    LKO,
    STATE_IT,
)

HEADER = [
    "epic_number", "booth_code", "serial_number", "name", "name_hi", "relative_name", "age", "gender",
    "house_number", "phone", "caste_category", "caste", "economic_status", "contact_consent",
]  # fmt: skip


def _csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _voters(folder: Path, prefix: str) -> list[dict[str, str]]:
    with (folder / "voters.csv").open(newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["booth_code"].startswith(prefix)]


async def _post(client: httpx.AsyncClient, user: str | None, files: dict[str, bytes]) -> httpx.Response:
    headers = bearer(user) if user else {}
    parts = {name: (name, body, "text/csv") for name, body in files.items()}
    return await client.post("/import", files=parts, headers=headers)


async def test_http_import(database_url: str, tiny_dataset: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        lko = _voters(tiny_dataset, LKO + "-")[:50]
        for voter in lko:
            voter["name"] = voter["name"] + " Jr"
        ayd = _voters(tiny_dataset, "UP-AWD-AYD-")[:1]
        async with client_for(database_url, seeded=False) as client:
            state_before = await conn.fetch("select * from voters order by id")
            audit_before = await conn.fetchval("select count(*) from audit_log")

            # One row outside the uploader's scope: NOT_FOUND, nothing written.
            r = await _post(client, DISTRICT_CONVENOR_LKO, {"voters.csv": _csv(HEADER, lko + ayd)})
            assert r.status_code == 404, r.text
            assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            # In scope without data.import: FORBIDDEN.
            r = await _post(client, DISTRICT_PRESIDENT_LKO, {"voters.csv": _csv(HEADER, lko)})
            assert r.status_code == 403, r.text
            # A bad cell: BAD_USER_INPUT naming file and line.
            bad = [dict(row) for row in lko[:3]]
            bad[2]["phone"] = "12345"
            r = await _post(client, DISTRICT_CONVENOR_LKO, {"voters.csv": _csv(HEADER, bad)})
            assert r.status_code == 400 and "voters.csv:4" in r.json()["errors"][0]["message"], r.text
            # An unknown file name, no file, no token.
            r = await _post(client, DISTRICT_CONVENOR_LKO, {"people.csv": b"a,b\r\n"})
            assert r.status_code == 400
            r = await client.post("/import", data={"x": "y"}, headers=bearer(DISTRICT_CONVENOR_LKO))
            assert r.status_code == 400
            r = await _post(client, None, {"voters.csv": _csv(HEADER, lko)})
            assert r.status_code == 401
            assert await conn.fetch("select * from voters order by id") == state_before
            # Every refusal after authentication leaves a trace, under the importer's scope.
            refusals = await conn.fetch(
                "select user_id, unit_code, records, detail from audit_log where action = 'data.import_refused' "
                "order by id"
            )
            none = '"column":null,"file":null'
            assert [tuple(r) for r in refusals] == [
                (DISTRICT_CONVENOR_LKO, LKO, 0, '{"code":"NOT_FOUND","column":"booth_code","file":"voters.csv",'
                 f'"files":["voters.csv"],"line":{len(lko) + 2}}}'),
                (DISTRICT_PRESIDENT_LKO, LKO, 0, f'{{"code":"FORBIDDEN",{none},"files":["voters.csv"],"line":null}}'),
                (DISTRICT_CONVENOR_LKO, LKO, 0, '{"code":"BAD_USER_INPUT","column":"phone","file":"voters.csv",'
                 '"files":["voters.csv"],"line":4}'),
                (DISTRICT_CONVENOR_LKO, LKO, 0, f'{{"code":"BAD_USER_INPUT",{none},"files":[],"line":null}}'),
                (DISTRICT_CONVENOR_LKO, LKO, 0, f'{{"code":"BAD_USER_INPUT",{none},"files":[],"line":null}}'),
            ]  # fmt: skip
            assert await conn.fetchval("select count(*) from audit_log") == audit_before + len(refusals)

            # Inside the scope: imported and audited.
            r = await _post(client, DISTRICT_CONVENOR_LKO, {"voters.csv": _csv(HEADER, lko)})
            assert r.status_code == 200, r.text
            assert r.json()["data"]
            names = {
                row["epic_number"]: row["name"]
                for row in await conn.fetch("select epic_number, name from voters where name like '% Jr'")
            }
            assert names == {v["epic_number"]: v["name"] for v in lko}
            entry = await conn.fetchrow("select * from audit_log where action = 'data.import' order by id desc limit 1")
            assert entry["user_id"] == DISTRICT_CONVENOR_LKO
            # The state IT convenor (data.import at STATE) may import anywhere.
            r = await _post(client, STATE_IT, {"voters.csv": _csv(HEADER, ayd)})
            assert r.status_code == 200, r.text
    finally:
        await conn.close()


async def test_http_import_cannot_escalate(database_url: str, tiny_dataset: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        header = ["user_id", "role", "unit_code"]
        before = await conn.fetch("select * from assignments order by id")
        async with client_for(database_url, seeded=False) as client:
            attempts = [
                (DISTRICT_CONVENOR_LKO, DISTRICT_CONVENOR_LKO, "DISTRICT_PRESIDENT", LKO),  # oneself, no role.grant
                (DISTRICT_CONVENOR_LKO, "u-000074", "CALLER", LKO),
                (IT_CONVENOR_LKO, "u-000074", "CALLER", LKO + "-M01"),
                (STATE_IT, STATE_IT, "STATE_PRESIDENT", "UP"),
            ]
            for user, grantee, role, unit in attempts:
                rows = [{"user_id": grantee, "role": role, "unit_code": unit}]
                r = await _post(client, user, {"assignments.csv": _csv(header, rows)})
                assert r.status_code == 403, (user, rows, r.text)
            # A new unit of the same import does not dodge the check.
            units = _csv(
                ["code", "parent_code", "level", "name", "name_hi"],
                [{"code": LKO + "-M09", "parent_code": LKO, "level": "MANDAL", "name": "New", "name_hi": ""}],
            )
            rows = [{"user_id": DISTRICT_CONVENOR_LKO, "role": "MANDAL_PRESIDENT", "unit_code": LKO + "-M09"}]
            r = await _post(client, DISTRICT_CONVENOR_LKO, {"units.csv": units, "assignments.csv": _csv(header, rows)})
            assert r.status_code == 403, r.text
        assert await conn.fetch("select * from assignments order by id") == before
        assert await conn.fetchval("select count(*) from units where code = $1", LKO + "-M09") == 0
    finally:
        await conn.close()


async def test_http_import_of_users_and_schemes_stays_in_scope(database_url: str, tiny_dataset: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        before = await conn.fetch("select * from users order by id")
        schemes_before = await conn.fetch("select * from schemes order by code")
        user_header = ["id", "name", "phone"]
        async with client_for(database_url, seeded=False) as client:
            # The state president (u-000001) is nobody a district convenor may rename.
            r = await _post(
                client,
                DISTRICT_CONVENOR_LKO,
                {"users.csv": _csv(user_header, [{"id": "u-000001", "name": "X", "phone": ""}])},
            )
            assert r.status_code == 403 and "users.csv:2" in r.text, r.text
            # Schemes are state-wide: a district convenor may not redefine one.
            r = await _post(client, DISTRICT_CONVENOR_LKO, {"schemes.csv": b"code,name,name_hi\r\nPMUY,Renamed,\r\n"})
            assert r.status_code == 403, r.text
            assert await conn.fetch("select * from users order by id") == before
            assert await conn.fetch("select * from schemes order by code") == schemes_before
            # Nor may a district co-convenor (rank 45) rename the district convenor (rank 50) of
            # their own district, nor the state IT convenor (45) the state president (100).
            r = await _post(
                client,
                DISTRICT_CO_CONVENOR_LKO,
                {"users.csv": _csv(user_header, [{"id": DISTRICT_CONVENOR_LKO, "name": "X", "phone": ""}])},
            )
            assert r.status_code == 403 and "users.csv:2" in r.text, r.text
            r = await _post(
                client, STATE_IT, {"users.csv": _csv(user_header, [{"id": "u-000001", "name": "X", "phone": ""}])}
            )
            assert r.status_code == 403 and "users.csv:2" in r.text, r.text
            assert await conn.fetch("select * from users order by id") == before
            # A new user is fine; so is renaming someone of lower rank inside one's scope.
            r = await _post(
                client,
                DISTRICT_CONVENOR_LKO,
                {"users.csv": _csv(user_header, [{"id": "u-new-1", "name": "New", "phone": ""}])},
            )
            assert r.status_code == 200, r.text
            r = await _post(
                client, STATE_IT, {"users.csv": _csv(user_header, [{"id": "u-000014", "name": "Renamed", "phone": ""}])}
            )
            assert r.status_code == 200, r.text
            assert await conn.fetchval("select name from users where id = 'u-000014'") == "Renamed"
            # An import that touches no unit is audited under the importer's scope, never none.
            audited = await conn.fetch(
                "select user_id, unit_code from audit_log where action = 'data.import' order by id desc limit 2"
            )
            assert [tuple(r) for r in audited] == [(STATE_IT, "UP"), (DISTRICT_CONVENOR_LKO, "UP-AWD-LKO")]
    finally:
        await conn.close()


async def test_http_import_answers_alike_for_records_elsewhere_and_nowhere(
    database_url: str, tiny_dataset: Path
) -> None:
    """A probe: an EPIC or booth code of another district and one that exists nowhere get the
    same status and body (the value sent is echoed the same way in both)."""
    conn = await asyncpg.connect(database_url)
    try:
        await load_folder(conn, tiny_dataset)
        elsewhere = _voters(tiny_dataset, "UP-AWD-AYD-")[0]
        mine = _voters(tiny_dataset, LKO + "-")[:3]
        ben_header = ["epic_number", "scheme_code", "since"]
        scheme = await conn.fetchval("select min(code) from schemes")
        async with client_for(database_url, seeded=False) as client:

            async def answer(files: dict[str, bytes]) -> tuple[int, str]:
                r = await _post(client, DISTRICT_CONVENOR_LKO, files)
                return r.status_code, r.text

            def beneficiaries(epic: str) -> dict[str, bytes]:
                rows = [{"epic_number": v["epic_number"], "scheme_code": scheme, "since": ""} for v in mine]
                rows.insert(1, {"epic_number": epic, "scheme_code": scheme, "since": ""})
                return {"beneficiaries.csv": _csv(ben_header, rows)}

            def voters(booth: str) -> dict[str, bytes]:
                return {"voters.csv": _csv(HEADER, [*mine[:1], {**mine[1], "booth_code": booth}, *mine[2:]])}

            def same(a: tuple[int, str], b: tuple[int, str], sent_a: str, sent_b: str) -> None:
                assert a[0] == b[0] == 404
                assert a[1].replace(sent_a, "X") == b[1].replace(sent_b, "X")

            same(await answer(beneficiaries(elsewhere["epic_number"])), await answer(beneficiaries("ZZZ9999999")),
                 elsewhere["epic_number"], "ZZZ9999999")  # fmt: skip
            same(await answer(voters(elsewhere["booth_code"])), await answer(voters("UP-NOWHERE-B0001")),
                 elsewhere["booth_code"], "UP-NOWHERE-B0001")  # fmt: skip
            # Behind a later refusal (an unknown scheme; an EPIC that exists nowhere) the two are
            # still alike: the own-file rule comes first, and the first line of either refusal wins.
            for tail in (f"{mine[0]['epic_number']},NOPE,\r\n", f"ZZZ0000001,{scheme},\r\n"):
                probes = [
                    await answer({"beneficiaries.csv": beneficiaries(epic)["beneficiaries.csv"] + tail.encode()})
                    for epic in (elsewhere["epic_number"], "ZZZ9999999")
                ]
                assert probes[0][0] == probes[1][0]
                assert probes[0][1].replace(elsewhere["epic_number"], "X") == probes[1][1].replace("ZZZ9999999", "X")
            assert probes[0][0] == 404 and "beneficiaries.csv:3: column epic_number" in probes[0][1]
    finally:
        await conn.close()
