"""Writes answer only what the writer may read (issue 12, part 3): a mutation's voter goes
through the reads' visibility and redaction, whatever the policy gives (POLICY_DIR edited)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from policies import PolicyEngine
from policies.engine import POLICY_DIR
from schema import schema
from schema.context import Context
from tests.writes_support import BOOTH_PRESIDENT_LKO_M01_B1, LKO_M01_B1, World

MUTATIONS = {
    "updateVoterSurvey": """mutation($e: String!) { updateVoterSurvey(input: {epicNumber: $e, caste: "X-9"})
        { epicNumber name age houseNumber phone caste redactedFields booth { code } } }""",
    "enrollBeneficiary": """mutation($e: String!) { enrollBeneficiary(epicNumber: $e, scheme: "NSAP")
        { epicNumber name age houseNumber phone caste redactedFields booth { code } } }""",
    "eraseVoterPersonalData": """mutation($e: String!) { eraseVoterPersonalData(epicNumber: $e)
        { epicNumber name age houseNumber phone caste redactedFields booth { code } } }""",
}


def _policy_without(tmp_path: Path, *lines: str) -> PolicyEngine:
    folder = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    csv = folder / "policy.csv"
    text = csv.read_text()
    for line in lines:
        assert line + "\n" in text
        text = text.replace(line + "\n", "")
    csv.write_text(text)
    return PolicyEngine(folder)


async def _run(w: World, policy: PolicyEngine, user: str, query: str, **variables: Any):
    ctx = Context(pool=w.pool, settings=w.settings, policy=policy, viewer=await w.viewer(user))
    return await schema.execute(query, variable_values=variables, context_value=ctx)


async def test_voter_write_without_voter_read_answers_nothing_of_the_voter(world: World, tmp_path: Path) -> None:
    policy = _policy_without(tmp_path, "p, BOOTH_PRESIDENT, voter.read")
    epic = await world.epic_in(LKO_M01_B1, where="v.phone is not null")
    before = await world.voter(epic)
    for name, query in MUTATIONS.items():
        result = await _run(world, policy, BOOTH_PRESIDENT_LKO_M01_B1, query, e=epic)
        assert result.data is None, (name, result.data)
        assert [(e.extensions or {}).get("code") for e in result.errors or []] == ["NOT_FOUND"], name
    # Refused before anything was written: nothing changed, nothing audited.
    assert await world.voter(epic) == before
    assert await world.audit_count() == 0


async def test_voter_write_with_voter_read_only_answers_the_redacted_voter(world: World, tmp_path: Path) -> None:
    policy = _policy_without(
        tmp_path, "p, BOOTH_PRESIDENT, voter.read_contact", "p, BOOTH_PRESIDENT, voter.read_sensitive"
    )
    epic = await world.epic_in(LKO_M01_B1, where="v.phone is not null")
    row = await world.voter(epic)
    result = await _run(world, policy, BOOTH_PRESIDENT_LKO_M01_B1, MUTATIONS["updateVoterSurvey"], e=epic)
    assert result.errors is None, result.errors
    assert result.data == {
        "updateVoterSurvey": {
            "epicNumber": epic,
            "name": row["name"],
            "age": row["age"],
            "houseNumber": row["house_number"],
            "phone": "******" + row["phone"][-4:],
            "caste": None,
            "redactedFields": ["phone", "casteCategory", "caste", "economicStatus"],
            "booth": {"code": LKO_M01_B1},
        }
    }
    assert (await world.voter(epic))["caste"] == "X-9"
