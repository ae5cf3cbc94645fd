"""The demo generator: deterministic, synthetic, every role, and it imports cleanly."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import asyncpg
import pytest

from transfer.demo import demo_users, write_demo_dataset
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
