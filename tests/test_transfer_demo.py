"""The demo generator: deterministic, synthetic, every role, and it imports cleanly."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import asyncpg
import pytest

from transfer.demo import demo_users, write_demo_dataset
from transfer.demo_campaign import seed_demo_campaign
from transfer.importer import import_folder
from transfer.spec import ROLE_LEVELS


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def demo_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "tiny"
    write_demo_dataset(out, "tiny", seed=1)
    return out


def test_deterministic_per_seed(demo_tiny: Path, tmp_path: Path) -> None:
    write_demo_dataset(tmp_path / "again", "tiny", seed=1)
    write_demo_dataset(tmp_path / "other", "tiny", seed=2)
    assert digest(tmp_path / "again") == digest(demo_tiny)
    assert digest(tmp_path / "other") != digest(demo_tiny)


def test_content(demo_tiny: Path) -> None:
    voters = read(demo_tiny, "voters.csv")
    assert 1_700 <= len(voters) <= 2_300
    assert all(v["phone"] == "" or (len(v["phone"]) == 10 and v["phone"].startswith("5")) for v in voters)
    assert all(u["phone"].startswith("5") for u in read(demo_tiny, "users.csv"))
    castes = {v["caste"] for v in voters if v["caste"]}
    assert castes and all(c.split("-")[0] in ("GEN", "OBC", "SC", "ST") and len(c.split("-")[1]) == 2 for c in castes)
    assert any(any("\u0900" <= ch <= "\u097f" for ch in u["name_hi"]) for u in read(demo_tiny, "units.csv"))
    houses = {(v["booth_code"], v["house_number"]) for v in voters if v["house_number"]}
    assert len(houses) < len(voters) * 0.6  # households share a house
    levels = {u["level"] for u in read(demo_tiny, "units.csv")}
    assert levels == {"STATE", "REGION", "DISTRICT", "MANDAL", "BOOTH"}


def test_every_role_and_the_special_users(demo_tiny: Path) -> None:
    units = {u["code"]: u["level"] for u in read(demo_tiny, "units.csv")}
    assignments = read(demo_tiny, "assignments.csv")
    held = {(a["role"], "PAGE" if a.get("page") else units[a["unit_code"]]) for a in assignments}
    assert {role for role, _ in held} == set(ROLE_LEVELS)
    assert all(level in ROLE_LEVELS[role] for role, level in held)
    assert {("IT_CONVENOR", "STATE"), ("IT_CONVENOR", "DISTRICT")} <= held
    assert {("CALLER", "DISTRICT"), ("CALLER", "MANDAL"), ("CALLER", "BOOTH")} <= held
    per_user: dict[str, int] = {}
    for a in assignments:
        per_user[a["user_id"]] = per_user.get(a["user_id"], 0) + 1
    assert max(per_user.values()) >= 2
    users = [u["id"] for u in read(demo_tiny, "users.csv")]
    assert users[0] == "u-000001" and set(users) - set(per_user)
    samples = demo_users(demo_tiny)
    assert [role for role, _, _ in samples] == list(ROLE_LEVELS)
    for role, user, code in samples:
        assert any({"role": role, "user_id": user, "unit_code": code}.items() <= a.items() for a in assignments)


async def test_imports_cleanly(conn: asyncpg.Connection, demo_tiny: Path) -> None:
    report = await import_folder(conn, demo_tiny)
    for name, counts in report.files.items():
        assert counts.rows == counts.inserted == len(read(demo_tiny, name)), name
    roles = {r[0] for r in await conn.fetch("select distinct role from assignments")}
    assert roles == set(ROLE_LEVELS)


async def test_the_demo_campaign_gives_every_caller_of_its_district_work(
    conn: asyncpg.Connection, demo_tiny: Path
) -> None:
    await import_folder(conn, demo_tiny)
    district, assigned = await seed_demo_campaign(conn) or ("", 0)
    campaign = await conn.fetchrow("select id, opens_on, closes_on, unit_id from campaigns")
    assert campaign["opens_on"] <= dt.date.today() <= campaign["closes_on"]  # open now
    assert await conn.fetchval("select code from units where id = $1", campaign["unit_id"]) == district
    rows = await conn.fetch(
        """select a.user_id, count(ca.id) as n,
                  count(ca.id) filter (where v.phone is null or v.contact_consent = 'DENIED') as bad
           from assignments a join units u on u.id = a.unit_id
           left join call_assignments ca on ca.caller_id = a.user_id
           left join voters v on v.id = ca.voter_id
           where a.role = 'CALLER' and u.district_id = $1 group by a.user_id""",
        campaign["unit_id"],
    )
    assert rows and all(r["n"] > 0 and r["bad"] == 0 for r in rows)
    assert sum(r["n"] for r in rows) == assigned == await conn.fetchval("select count(*) from call_assignments")
    actions = [r[0] for r in await conn.fetch("select action from audit_log where user_id = 'system' order by id")]
    assert actions.count("outreach.campaign") == 1 and actions.count("outreach.assign") == len(rows)
    assert await seed_demo_campaign(conn) is None  # once only
    # the caller `boothgraph demo` prints opens a list with work in it
    caller = next(user for role, user, _ in demo_users(demo_tiny) if role == "CALLER")
    assert await conn.fetchval("select count(*) from call_assignments where caller_id = $1", caller) > 0
