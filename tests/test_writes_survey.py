"""updateVoterSurvey, enrollBeneficiary, eraseVoterPersonalData on the resolvers."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest

from core.errors import BadUserInput, Forbidden, NotFound
from resolvers import audit, survey
from tests.writes_support import (
    AYD_M01_B1,
    BOOTH_PRESIDENT_LKO_M01_B1,
    CALLER_LKO_M01_B1,
    DISTRICT_CO_CONVENOR_LKO,
    DISTRICT_CONVENOR_LKO,
    DISTRICT_PRESIDENT_LKO,
    LKO_M01_B1,
    LKO_M01_B2,
    LKO_M02_B1,
    MANDAL_PRESIDENT_LKO_M01,
    SOCIAL_MEDIA_LKO,
    World,
)


async def _update(w: World, user: str, epic: str, **changes: object) -> asyncpg.Record:
    return await survey.update_voter_survey(w.conn, await w.viewer(user), w.policy, epic, changes)


async def test_update_in_scope_writes_and_audits(world: World) -> None:
    epic = await world.epic_in(LKO_M01_B1)
    row = await _update(
        world,
        BOOTH_PRESIDENT_LKO_M01_B1,
        epic,
        phone="5000000001",
        casteCategory="SC",
        caste="SC-03",
        economicStatus="BPL",
        contactConsent="GRANTED",
    )
    assert (row["phone"], row["caste_category"], row["caste"], row["economic_status"], row["contact_consent"]) == (
        "5000000001",
        "SC",
        "SC-03",
        "BPL",
        "GRANTED",
    )
    entry = await world.conn.fetchrow("select * from audit_log where action = 'voter.write'")
    assert entry["user_id"] == BOOTH_PRESIDENT_LKO_M01_B1
    assert entry["unit_code"] == LKO_M01_B1 and entry["records"] == 1
    assert "5000000001" not in (entry["detail"] or "")  # values never go to the log
    assert await world.rollups_match_recount() == []


async def test_update_only_given_fields_and_null_clears(world: World) -> None:
    epic = await world.epic_in(LKO_M01_B1, where="v.caste is not null and v.phone is not null")
    before = await world.voter(epic)
    row = await _update(world, MANDAL_PRESIDENT_LKO_M01, epic, economicStatus="MIDDLE_INCOME")
    assert row["phone"] == before["phone"] and row["caste"] == before["caste"]
    assert row["economic_status"] == "MIDDLE_INCOME"
    row = await _update(world, MANDAL_PRESIDENT_LKO_M01, epic, phone=None)
    assert row["phone"] is None and row["caste"] == before["caste"]


async def test_update_out_of_scope_is_not_found(world: World) -> None:
    other_booth = await world.epic_in(LKO_M01_B2)
    other_district = await world.epic_in(AYD_M01_B1)
    for user, epic in [
        (BOOTH_PRESIDENT_LKO_M01_B1, other_booth),
        (DISTRICT_CONVENOR_LKO, other_district),
        (BOOTH_PRESIDENT_LKO_M01_B1, "ZZZ0000000"),
    ]:
        with pytest.raises(NotFound):
            await _update(world, user, epic, caste="X-1")
    assert await world.audit_count() == 0


async def test_update_in_scope_without_permission_is_forbidden(world: World) -> None:
    epic = await world.epic_in(LKO_M01_B1)
    before = await world.voter(epic)
    with pytest.raises(Forbidden):  # reads the voter, may not write it
        await _update(world, DISTRICT_PRESIDENT_LKO, epic, caste="X-1")
    for user in (SOCIAL_MEDIA_LKO, CALLER_LKO_M01_B1):  # cannot read the voter: absent to them
        with pytest.raises(NotFound):
            await _update(world, user, epic, caste="X-1")
    assert await world.voter(epic) == before
    assert await world.audit_count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"phone": "12345"},
        {"phone": "12345678901"},
        {"phone": "54321abcde"},
        {"casteCategory": "XYZ"},
        {"economicStatus": "RICH"},
        {"contactConsent": "MAYBE"},
        {"caste": "x" * 51},
        {"nonsense": 1},
    ],
)
async def test_update_bad_input(world: World, changes: dict) -> None:
    epic = await world.epic_in(LKO_M01_B1)
    with pytest.raises(BadUserInput):
        await _update(world, BOOTH_PRESIDENT_LKO_M01_B1, epic, **changes)
    assert await world.audit_count() == 0


async def test_bad_input_is_refused_before_scope_is_revealed(world: World) -> None:
    """Wrong input answers BAD_USER_INPUT whether or not the voter is visible."""
    epic = await world.epic_in(AYD_M01_B1)
    with pytest.raises(BadUserInput):
        await _update(world, BOOTH_PRESIDENT_LKO_M01_B1, epic, phone="1")


async def test_failed_mutation_leaves_neither_change_nor_entry(world: World, monkeypatch) -> None:
    epic = await world.epic_in(LKO_M01_B1)
    before = await world.voter(epic)
    schemes_before = await world.conn.fetch("select * from beneficiaries where voter_id = $1", before["id"])

    async def broken_record(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", broken_record)
    with pytest.raises(RuntimeError):
        await _update(world, BOOTH_PRESIDENT_LKO_M01_B1, epic, caste="X-9", phone="5000000009")
    with pytest.raises(RuntimeError):
        await survey.erase_voter_personal_data(
            world.conn, await world.viewer(BOOTH_PRESIDENT_LKO_M01_B1), world.policy, epic
        )
    with pytest.raises(RuntimeError):
        await survey.enroll_beneficiary(
            world.conn, await world.viewer(BOOTH_PRESIDENT_LKO_M01_B1), world.policy, epic, "NSAP"
        )
    assert await world.voter(epic) == before
    assert await world.conn.fetch("select * from beneficiaries where voter_id = $1", before["id"]) == schemes_before
    assert await world.audit_count() == 0
    assert await world.rollups_match_recount() == []


async def test_erase_and_lift(world: World) -> None:
    epic = await world.epic_in(LKO_M01_B1, where="v.phone is not null and v.caste_category is not null")
    viewer = await world.viewer(DISTRICT_CO_CONVENOR_LKO)
    row = await survey.erase_voter_personal_data(world.conn, viewer, world.policy, epic)
    assert row["phone"] is None and row["caste_category"] is None and row["caste"] is None
    assert row["economic_status"] is None and row["contact_consent"] == "DENIED" and row["erased"]
    assert row["name"] and row["serial_number"]  # the roll record stays
    assert await world.audit_count("voter.erase") == 1
    # While erased, no new personal data without consent GRANTED...
    with pytest.raises(BadUserInput):
        await _update(world, DISTRICT_CO_CONVENOR_LKO, epic, phone="5000000002")
    with pytest.raises(BadUserInput):
        await _update(world, DISTRICT_CO_CONVENOR_LKO, epic, contactConsent="UNKNOWN")
    assert (await world.voter(epic))["erased"]
    # ...and GRANTED lifts the erasure.
    row = await _update(world, DISTRICT_CO_CONVENOR_LKO, epic, contactConsent="GRANTED", phone="5000000002")
    assert not row["erased"] and row["phone"] == "5000000002" and row["contact_consent"] == "GRANTED"
    assert await world.rollups_match_recount() == []


async def test_erase_scope_and_permission(world: World) -> None:
    epic = await world.epic_in(LKO_M02_B1)
    with pytest.raises(NotFound):
        await survey.erase_voter_personal_data(
            world.conn, await world.viewer(MANDAL_PRESIDENT_LKO_M01), world.policy, epic
        )
    with pytest.raises(Forbidden):
        await survey.erase_voter_personal_data(
            world.conn, await world.viewer(DISTRICT_PRESIDENT_LKO), world.policy, epic
        )
    assert not (await world.voter(epic))["erased"]
    assert await world.audit_count() == 0


async def test_enroll_beneficiary(world: World) -> None:
    epic = await world.epic_in(LKO_M01_B1)
    voter = await world.voter(epic)
    viewer = await world.viewer(BOOTH_PRESIDENT_LKO_M01_B1)
    await world.conn.execute("delete from beneficiaries where voter_id = $1", voter["id"])
    await survey.enroll_beneficiary(world.conn, viewer, world.policy, epic, "PMUY", "2020-05-01")
    await survey.enroll_beneficiary(world.conn, viewer, world.policy, epic, "PMUY")  # upsert keeps since
    rows = await world.conn.fetch("select scheme_code, since::text from beneficiaries where voter_id = $1", voter["id"])
    assert [tuple(r) for r in rows] == [("PMUY", "2020-05-01")]
    await survey.enroll_beneficiary(world.conn, viewer, world.policy, epic, "PMUY", "2021-01-02")
    assert await world.conn.fetchval("select since::text from beneficiaries where voter_id = $1", voter["id"]) == (
        "2021-01-02"
    )
    assert await world.audit_count("beneficiary.enroll") == 3
    for scheme, since in [("NOPE", None), ("PMUY", "2020-13-01"), ("PMUY", "01-01-2020"), ("PMUY", "2020-02-30")]:
        with pytest.raises(BadUserInput):
            await survey.enroll_beneficiary(world.conn, viewer, world.policy, epic, scheme, since)
    with pytest.raises(NotFound):
        await survey.enroll_beneficiary(world.conn, viewer, world.policy, await world.epic_in(LKO_M01_B2), "PMUY", None)
    with pytest.raises(Forbidden):
        await survey.enroll_beneficiary(
            world.conn, await world.viewer(DISTRICT_PRESIDENT_LKO), world.policy, epic, "PMUY"
        )
    assert await world.audit_count() == 3
    assert await world.rollups_match_recount() == []


async def test_fifty_parallel_updates_nothing_lost(world: World) -> None:
    """50 updates on separate connections at once, 25 on one voter and 25 on others: every
    update is applied exactly once, every one audited once, rollups exact."""
    viewer = await world.viewer(DISTRICT_CONVENOR_LKO)
    epics = [
        r["epic_number"]
        for r in await world.conn.fetch(
            """select v.epic_number from voters v join units b on b.id = v.booth_id
               where b.code like 'UP-AWD-LKO-%' and not v.erased order by v.id limit 25"""
        )
    ]
    hot = epics[0]
    conns = [await asyncpg.connect(world.url) for _ in range(50)]
    try:

        async def one(i: int) -> None:
            conn = conns[i]
            if i < 25:
                await survey.update_voter_survey(
                    conn, viewer, world.policy, hot, {"caste": f"HOT-{i:02d}", "economicStatus": "LOW_INCOME"}
                )
            else:
                await survey.update_voter_survey(
                    conn, viewer, world.policy, epics[i - 25], {"phone": f"50000{i:05d}", "casteCategory": "ST"}
                )

        await asyncio.gather(*(one(i) for i in range(50)))
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    assert (await world.voter(hot))["caste"].startswith("HOT-")
    for i in range(25, 50):
        row = await world.voter(epics[i - 25])
        if epics[i - 25] != hot:
            assert row["phone"] == f"50000{i:05d}" and row["caste_category"] == "ST"
    assert await world.audit_count("voter.write") == 50
    assert await world.rollups_match_recount() == []


async def test_random_writes_keep_rollups_exact(world: World) -> None:
    rng = random.Random(7)
    viewer = await world.viewer(DISTRICT_CONVENOR_LKO)
    epics = [
        r[0]
        for r in await world.conn.fetch(
            "select v.epic_number from voters v join units b on b.id = v.booth_id where b.code like 'UP-AWD-LKO-%'"
        )
    ]
    schemes = [r[0] for r in await world.conn.fetch("select code from schemes")]
    for _ in range(120):
        epic = rng.choice(epics)
        kind = rng.random()
        if kind < 0.5:
            changes = {
                "phone": rng.choice([None, f"5{rng.randrange(10**9):09d}"]),
                "casteCategory": rng.choice([None, "GEN", "OBC", "SC", "ST"]),
                "economicStatus": rng.choice([None, "BPL", "HIGH_INCOME"]),
                "contactConsent": rng.choice(["GRANTED", "UNKNOWN", "DENIED"]),
            }
            try:
                await survey.update_voter_survey(world.conn, viewer, world.policy, epic, changes)
            except BadUserInput:
                pass  # an erased voter without GRANTED
        elif kind < 0.8:
            await survey.enroll_beneficiary(world.conn, viewer, world.policy, epic, rng.choice(schemes), None)
        else:
            await survey.erase_voter_personal_data(world.conn, viewer, world.policy, epic)
    assert await world.rollups_match_recount() == []


async def test_written_voter_is_redacted_for_the_viewer(world: World) -> None:
    """What the mutation hands back goes through the reads' redaction."""
    epic = await world.epic_in(LKO_M01_B1)
    row = await _update(world, BOOTH_PRESIDENT_LKO_M01_B1, epic, phone="5000000077", casteCategory="GEN")
    ctx = await world.ctx(BOOTH_PRESIDENT_LKO_M01_B1)
    record = await survey.written_voter(ctx, row["id"])
    assert record.phone == "5000000077" and record.caste_category == "GEN" and record.redacted_fields == []
    # A viewer with voter.read but not read_contact/read_sensitive sees it masked.
    ctx = await world.ctx(DISTRICT_PRESIDENT_LKO)
    record = await survey.written_voter(ctx, row["id"])
    assert record.phone == "******0077" and record.caste_category is None
    assert set(record.redacted_fields) == {"phone", "casteCategory", "caste", "economicStatus"}
