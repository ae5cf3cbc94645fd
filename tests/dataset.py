"""Load a gen_dataset.py folder into a migrated database, for tests.

Uses transfer.importer.import_folder when it exists (BOOTHGRAPH_TEST_OWN_LOADER=1 forces the
small loader below): it COPYs the CSV rows with the ancestor columns and paths computed here,
then `select refresh_rollups(null)`.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path
from typing import Any

import asyncpg

LEVELS = ("STATE", "REGION", "DISTRICT", "MANDAL", "BOOTH")


def read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    path = folder / name
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _none(value: str) -> str | None:
    return value if value != "" else None


async def load_folder(conn: asyncpg.Connection, folder: Path) -> None:
    if os.environ.get("BOOTHGRAPH_TEST_OWN_LOADER") != "1":
        try:
            from transfer.importer import import_folder  # type: ignore[import-not-found]
        except ImportError:
            pass
        else:
            await import_folder(conn, folder)
            return
    await own_loader(conn, folder)


async def own_loader(conn: asyncpg.Connection, folder: Path) -> None:
    units = read_csv(folder, "units.csv")
    by_code = {u["code"]: u for u in units}
    ids = {u["code"]: i + 1 for i, u in enumerate(units)}

    def chain(code: str) -> list[str]:
        out = [code]
        while by_code[out[-1]]["parent_code"]:
            out.append(by_code[out[-1]]["parent_code"])
        return out[::-1]

    unit_rows: list[tuple[Any, ...]] = []
    ancestors: dict[str, dict[str, int | None]] = {}
    for u in units:
        codes = chain(u["code"])
        anc: dict[str, int | None] = {lvl: None for lvl in LEVELS}
        for c in codes:
            anc[by_code[c]["level"]] = ids[c]
        ancestors[u["code"]] = anc
        unit_rows.append(
            (
                ids[u["code"]],
                u["code"],
                ids[u["parent_code"]] if u["parent_code"] else None,
                u["level"],
                LEVELS.index(u["level"]),
                u["name"],
                _none(u["name_hi"]),
                "/".join(codes),
                anc["STATE"],
                anc["REGION"],
                anc["DISTRICT"],
                anc["MANDAL"],
                anc["BOOTH"],
            )
        )
    voters = read_csv(folder, "voters.csv")
    voter_ids = {v["epic_number"]: i + 1 for i, v in enumerate(voters)}
    voter_rows = []
    for v in voters:
        anc = ancestors[v["booth_code"]]
        voter_rows.append(
            (
                voter_ids[v["epic_number"]],
                v["epic_number"],
                anc["BOOTH"],
                anc["MANDAL"],
                anc["DISTRICT"],
                anc["REGION"],
                int(v["serial_number"]),
                v["name"],
                _none(v["name_hi"]),
                _none(v["relative_name"]),
                int(v["age"]),
                v["gender"],
                _none(v["house_number"]),
                _none(v["phone"]),
                _none(v["caste_category"]),
                _none(v["caste"]),
                _none(v["economic_status"]),
                v["contact_consent"] or "UNKNOWN",
                False,
            )
        )
    async with conn.transaction():
        await conn.execute("select set_config('boothgraph.bulk', 'on', true)")
        await conn.copy_records_to_table(
            "units",
            records=unit_rows,
            columns=[
                "id", "code", "parent_id", "level", "depth", "name", "name_hi", "path",
                "state_id", "region_id", "district_id", "mandal_id", "booth_id",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "schemes",
            records=[(s["code"], s["name"], _none(s["name_hi"])) for s in read_csv(folder, "schemes.csv")],
            columns=["code", "name", "name_hi"],
        )
        await conn.copy_records_to_table(
            "voters",
            records=voter_rows,
            columns=[
                "id", "epic_number", "booth_id", "mandal_id", "district_id", "region_id", "serial_number",
                "name", "name_hi", "relative_name", "age", "gender", "house_number", "phone",
                "caste_category", "caste", "economic_status", "contact_consent", "erased",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "beneficiaries",
            records=[
                (
                    voter_ids[b["epic_number"]],
                    b["scheme_code"],
                    dt.date.fromisoformat(b["since"]) if b["since"] else None,
                )
                for b in read_csv(folder, "beneficiaries.csv")
            ],
            columns=["voter_id", "scheme_code", "since"],
        )
        await conn.copy_records_to_table(
            "users",
            records=[(u["id"], u["name"], _none(u["phone"])) for u in read_csv(folder, "users.csv")],
            columns=["id", "name", "phone"],
        )
        await conn.copy_records_to_table(
            "assignments",
            records=[(a["user_id"], a["role"], ids[a["unit_code"]]) for a in read_csv(folder, "assignments.csv")],
            columns=["user_id", "role", "unit_id"],
        )
        for table in ("units", "voters"):
            await conn.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'), (select max(id) from {table}))")
        await conn.execute("select refresh_rollups(null)")
