"""The default matrix, role by role: what each of the 14 roles sees in clear, masked, null, or is
refused, on one query over its own unit, a voter inside and one outside (expected values from
the CSV files and access-policy.md's table: tests/read_truth.py)."""

from __future__ import annotations

import pytest

from tests.read_support import codes, run
from tests.read_truth import ROLES, STATS_SELECTION, Truth

QUERY = f"""query($home: String!, $away: String!, $inside: String!, $outside: String!) {{
  me {{ permissions assignments {{ role }} }}
  home: unit(code: $home) {{ code stats {{ {STATS_SELECTION} }} }}
  away: unit(code: $away) {{ code }}
  inside: voter(epicNumber: $inside) {{
    epicNumber name age phone casteCategory caste economicStatus redactedFields booth {{ code }}
    schemes {{ scheme {{ code }} since }} }}
  outside: voter(epicNumber: $outside) {{ epicNumber phone }}
  list: voters(unit: $home, first: 3) {{
    totalCount edges {{ node {{ epicNumber phone casteCategory redactedFields }} }} }}
  everywhere: voters(first: 1) {{ totalCount }}
}}"""

SENSITIVE_FILTER = """query($home: String!) {
  voters(unit: $home, first: 2, filter: { casteCategory: [OBC, SC], economicStatus: [BPL] }) {
    totalCount edges { node { epicNumber casteCategory } } } }"""


def _user_of(truth: Truth, role: str) -> tuple[str, str]:
    """A user holding only `role` (DISTRICT_INCHARGE: in two districts), and their first unit."""
    for user, held in sorted(truth.assignments.items()):
        if {r for r, _ in held} == {role}:
            return user, held[0][1]
    raise AssertionError(f"no user holds only {role}")


@pytest.mark.parametrize("role", ROLES)
async def test_default_matrix(role: str, read_pool, read_truth: Truth) -> None:
    t = read_truth
    user, home = _user_of(t, role)
    booth = t.booths_under(home)[0]
    inside = next(v for v in t.voters_under(booth) if v["phone"] and v["caste"] and v["economic_status"])
    away = "UP-KSI-VNS" if not t.under(home, "UP-KSI") else "UP-AWD-LKO"
    outside = t.voters_under(away)[0]
    variables = {"home": home, "away": away, "inside": inside["epic_number"], "outside": outside["epic_number"]}
    result = await run(read_pool, user, QUERY, variables)
    assert result.errors is None, result.errors

    reads = t.has(user, "voter.read", home)
    listed = t.voter_list(user, home, {}, "SERIAL")
    assert isinstance(listed, list)
    everywhere = t.voter_list(user, None, {}, "SERIAL")
    assert isinstance(everywhere, list)
    assert (
        result.data
        == {
            "me": {"permissions": t.permissions(user), "assignments": [{"role": role}] * len(t.assignments[user])},
            "home": {"code": home, "stats": t.stats(user, home)} if t.has(user, "unit.read", home) else None,
            "away": {"code": away} if t.has(user, "unit.read", away) else None,
            "inside": (
                t.voter(
                    user,
                    inside["epic_number"],
                    (
                        "epicNumber",
                        "name",
                        "age",
                        "phone",
                        "casteCategory",
                        "caste",
                        "economicStatus",
                        "redactedFields",
                        "booth",
                        "schemes",
                    ),
                )  # fmt: skip
                if reads
                else None
            ),
            "outside": (
                t.voter(user, outside["epic_number"], ("epicNumber", "phone"))
                if t.sees_voter(user, outside["epic_number"])
                else None
            ),
            "list": {
                "totalCount": len(listed),
                "edges": [
                    {
                        "node": t.voter(
                            user, v["epic_number"], ("epicNumber", "phone", "casteCategory", "redactedFields")
                        )
                    }
                    for v in listed[:3]
                ],
            },
            "everywhere": {"totalCount": len(everywhere)},
        }
    )

    # The same facts said plainly, per column of the matrix.
    got = result.data
    perms = set(t.permissions(user))
    if "voter.read" in perms:
        shown = got["inside"]
        assert shown["epicNumber"] == inside["epic_number"]
        assert shown["phone"] == (inside["phone"] if "voter.read_contact" in perms else "******" + inside["phone"][-4:])
        assert (shown["caste"] is not None) == ("voter.read_sensitive" in perms)
        assert got["list"]["totalCount"] > 0
    else:  # SOCIAL_MEDIA_CONVENOR, OFFICE_SECRETARY, CALLER: no voter record at all, and no error
        assert got["inside"] is None and got["list"] == {"totalCount": 0, "edges": []}
    assert (got["home"] is None) == ("unit.read" not in perms)

    refused = await run(read_pool, user, SENSITIVE_FILTER, {"home": home})
    expected = t.voter_list(user, home, {"casteCategory": ["OBC", "SC"], "economicStatus": ["BPL"]}, "SERIAL")
    if expected == "FORBIDDEN":
        assert codes(refused) == ["FORBIDDEN"] and refused.data is None
        assert "voter.read" in perms and "voter.read_sensitive" not in perms
    else:
        assert refused.errors is None
        assert refused.data == {
            "voters": {
                "totalCount": len(expected),
                "edges": [
                    {"node": t.voter(user, v["epic_number"], ("epicNumber", "casteCategory"))} for v in expected[:2]
                ],
            }
        }
