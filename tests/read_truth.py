"""Ground truth for the read API tests, computed straight from a gen_dataset.py folder and the
default matrix of access-policy.md (copied below by hand). Nothing here calls production scope,
policy or redaction code: it is the independent oracle the API is compared with.

The database is asked only for what the CSV files cannot say: the ids it gave to units and
voters (for node ids and the SERIAL order), the order of lower(name) under its collation, and
which released cells the last release suppressed (the pattern is a decision over the whole tree,
audited on its own by tests/test_disclosure_audit.py; here: shown counts are the true ones, a
sum of units hides a cell when any of its units does).
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from tests.dataset import read_csv

PERMS = (
    "unit.read",
    "stats.read",
    "voter.read",
    "voter.read_contact",
    "voter.read_sensitive",
    "voter.write",
    "data.import",
    "data.export",
    "outreach.manage",
    "outreach.call",
    "role.grant",
    "audit.read",
    "election.manage",  # beyond access-policy.md's table: issue 16 (policies/policy.csv)
    "turnout.mark",
)

# access-policy.md, "Default matrix": role -> the ✓ columns, in the table's order; then issue 16's
# election.manage and turnout.mark.
_MATRIX_ROWS = """
STATE_PRESIDENT          | ✓ | ✓ | ✓ |   |   |   |   |   | ✓ |   | ✓ | ✓ | ✓ |
STATE_GENERAL_SECRETARY  | ✓ | ✓ | ✓ |   |   |   |   |   | ✓ |   | ✓ | ✓ | ✓ |
REGIONAL_PRESIDENT       | ✓ | ✓ | ✓ |   |   |   |   |   | ✓ |   | ✓ |
REGIONAL_INCHARGE        | ✓ | ✓ | ✓ |   |   |   |   |   | ✓ |   |   |
DISTRICT_PRESIDENT       | ✓ | ✓ | ✓ |   |   |   |   |   | ✓ |   | ✓ |   | ✓ |
DISTRICT_INCHARGE        | ✓ | ✓ | ✓ |   |   |   |   |   | ✓ |   |   |
DISTRICT_CONVENOR        | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |   |   |
DISTRICT_CO_CONVENOR     | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |   |   |   |   |
IT_CONVENOR              | ✓ | ✓ | ✓ |   |   |   | ✓ | ✓ |   |   |   | ✓
SOCIAL_MEDIA_CONVENOR    | ✓ | ✓ |   |   |   |   |   |   |   |   |   |
OFFICE_SECRETARY         | ✓ | ✓ |   |   |   |   |   |   |   |   |   |
MANDAL_PRESIDENT         | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |   |   | ✓ |   | ✓ |
BOOTH_PRESIDENT          | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |   |   |   | ✓ |   |   |   | ✓
CALLER                   |   |   |   |   |   |   |   |   |   | ✓ |   |
"""


def _matrix() -> dict[str, frozenset[str]]:
    out = {}
    for line in _MATRIX_ROWS.strip().splitlines():
        role, *cells = [c.strip() for c in line.split("|")]
        cells += [""] * (len(PERMS) - len(cells))
        out[role] = frozenset(p for p, c in zip(PERMS, cells, strict=True) if c == "✓")
    return out


MATRIX = _matrix()
ROLES = tuple(MATRIX)
SENSITIVE = ("casteCategory", "caste", "economicStatus")
CATEGORY_ORDER = ("GEN", "OBC", "SC", "ST")
ECONOMIC_ORDER = ("BPL", "LOW_INCOME", "MIDDLE_INCOME", "HIGH_INCOME")
GENDER_ORDER = ("MALE", "FEMALE", "THIRD_GENDER")
BANDS = ("18-25", "26-35", "36-45", "46-60", "61+")


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def band(age: int) -> str:
    if age <= 25:
        return "18-25"
    if age <= 35:
        return "26-35"
    if age <= 45:
        return "36-45"
    if age <= 60:
        return "46-60"
    return "61+"


def suppress_truth(counts: dict[str, int], hidden: set[str]) -> dict[str, int | None]:
    """The released breakdown: true counts, None where the release suppressed the key."""
    return {k: (None if k in hidden else n) for k, n in counts.items()}


@dataclass
class Truth:
    folder: Path
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    chain: dict[str, list[str]] = field(default_factory=dict)  # code -> codes from the top to itself
    voters: list[dict[str, str]] = field(default_factory=list)
    by_epic: dict[str, dict[str, str]] = field(default_factory=dict)
    schemes: dict[str, dict[str, str]] = field(default_factory=dict)
    benefits: dict[str, dict[str, str]] = field(default_factory=dict)  # epic -> scheme -> since
    users: dict[str, str] = field(default_factory=dict)
    assignments: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unit_id: dict[str, int] = field(default_factory=dict)
    voter_id: dict[str, int] = field(default_factory=dict)
    name_rank: dict[str, int] = field(default_factory=dict)
    released_hidden: set[tuple[str, str, str]] = field(default_factory=set)  # (unit code, dim, key)

    @classmethod
    async def load(cls, folder: Path, pool: asyncpg.Pool) -> Truth:
        t = cls(folder)
        for u in read_csv(folder, "units.csv"):
            t.units[u["code"]] = u
        for code in t.units:
            path = [code]
            while t.units[path[-1]]["parent_code"]:
                path.append(t.units[path[-1]]["parent_code"])
            t.chain[code] = path[::-1]
        t.voters = read_csv(folder, "voters.csv")
        t.by_epic = {v["epic_number"]: v for v in t.voters}
        t.schemes = {s["code"]: s for s in read_csv(folder, "schemes.csv")}
        for b in read_csv(folder, "beneficiaries.csv"):
            t.benefits.setdefault(b["epic_number"], {})[b["scheme_code"]] = b["since"]
        t.users = {u["id"]: u["name"] for u in read_csv(folder, "users.csv")}
        for a in read_csv(folder, "assignments.csv"):
            t.assignments.setdefault(a["user_id"], []).append((a["role"], a["unit_code"]))
        t.unit_id = {r["code"]: r["id"] for r in await pool.fetch("select id, code from units")}
        t.voter_id = {r["epic_number"]: r["id"] for r in await pool.fetch("select id, epic_number from voters")}
        rows = await pool.fetch("select epic_number from voters order by lower(name), id")
        t.name_rank = {r["epic_number"]: i for i, r in enumerate(rows)}
        await t.load_release(pool)
        return t

    async def load_release(self, pool: asyncpg.Pool) -> None:
        rows = await pool.fetch(
            "select u.code, c.dim, c.key from released_cells c join units u on u.id = c.unit_id where c.suppressed"
        )
        self.released_hidden = {(r["code"], r["dim"], r["key"]) for r in rows}

    # ------------------------------------------------------------- the tree ---
    def under(self, code: str, ancestor: str) -> bool:
        return ancestor in self.chain[code]

    def level(self, code: str) -> str:
        return self.units[code]["level"]

    def booths_under(self, code: str) -> list[str]:
        return [c for c, u in self.units.items() if u["level"] == "BOOTH" and self.under(c, code)]

    def voters_under(self, code: str | None) -> list[dict[str, str]]:
        if code is None:
            return self.voters
        return [v for v in self.voters if self.under(v["booth_code"], code)]

    # ------------------------------------------------------------ the policy ---
    def has(self, user: str, perm: str, code: str) -> bool:
        return any(perm in MATRIX[role] and self.under(code, at) for role, at in self.assignments.get(user, []))

    def permissions(self, user: str) -> list[str]:
        held = {p for role, _ in self.assignments.get(user, []) for p in MATRIX[role]}
        return [p for p in PERMS if p in held]

    def sees_voter(self, user: str, epic: str) -> bool:
        return self.has(user, "voter.read", self.by_epic[epic]["booth_code"])

    def roots(self, user: str) -> list[str]:
        codes = {c for _, c in self.assignments.get(user, [])}
        tops = [c for c in codes if not any(o != c and self.under(c, o) for o in codes)]
        return sorted(tops, key=lambda c: (len(self.chain[c]), c))

    # -------------------------------------------------------------- records ---
    def ref(self, code: str) -> dict[str, Any]:
        u = self.units[code]
        return {"code": code, "name": u["name"], "nameHi": u["name_hi"] or None, "level": u["level"]}

    def voter(self, user: str, epic: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """A visible voter as `user` should see it (the fields named)."""
        v = self.by_epic[epic]
        booth = v["booth_code"]
        contact = self.has(user, "voter.read_contact", booth)
        sensitive = self.has(user, "voter.read_sensitive", booth)
        phone = v["phone"] or None
        full: dict[str, Any] = {
            "id": gid("Voter", self.voter_id[epic]),
            "epicNumber": epic,
            "serialNumber": int(v["serial_number"]),
            "name": v["name"],
            "nameHi": v["name_hi"] or None,
            "relativeName": v["relative_name"] or None,
            "age": int(v["age"]),
            "gender": v["gender"],
            "houseNumber": v["house_number"] or None,
            "phone": phone if contact or phone is None else "******" + phone[-4:],
            "casteCategory": (v["caste_category"] or None) if sensitive else None,
            "caste": (v["caste"] or None) if sensitive else None,
            "economicStatus": (v["economic_status"] or None) if sensitive else None,
            "contactConsent": v["contact_consent"] or "UNKNOWN",
            "redactedFields": ([] if contact else ["phone"]) + ([] if sensitive else list(SENSITIVE)),
            "schemes": [
                {"scheme": {"code": code}, "since": since or None}
                for code, since in sorted(self.benefits.get(epic, {}).items())
            ],
            "booth": {"code": booth},
        }
        return {f: full[f] for f in fields}

    def matches(self, v: dict[str, str], flt: dict[str, Any]) -> bool:
        if "gender" in flt and v["gender"] != flt["gender"]:
            return False
        if "ageMin" in flt and int(v["age"]) < flt["ageMin"]:
            return False
        if "ageMax" in flt and int(v["age"]) > flt["ageMax"]:
            return False
        if "casteCategory" in flt and v["caste_category"] not in flt["casteCategory"]:
            return False
        if "economicStatus" in flt and v["economic_status"] not in flt["economicStatus"]:
            return False
        if "schemes" in flt and not set(self.benefits.get(v["epic_number"], {})) & set(flt["schemes"]):
            return False
        if "hasPhone" in flt and bool(v["phone"]) != flt["hasPhone"]:
            return False
        if "contactConsent" in flt and (v["contact_consent"] or "UNKNOWN") != flt["contactConsent"]:
            return False
        if "search" in flt:
            s = flt["search"]
            if not (
                v["name"].lower().startswith(s.lower())
                or (v["name_hi"] or "").startswith(s)  # nameHi as stored (0008_name_hi_search)
                or v["epic_number"] == s
            ):
                return False
        return True

    def sort_key(self, order: str):
        if order == "SERIAL":
            return lambda v: (self.unit_id[v["booth_code"]], int(v["serial_number"]), self.voter_id[v["epic_number"]])
        if order == "AGE":
            return lambda v: (int(v["age"]), self.voter_id[v["epic_number"]])
        return lambda v: self.name_rank[v["epic_number"]]

    def voter_list(self, user: str, unit: str | None, flt: dict[str, Any], order: str) -> list[dict[str, str]] | str:
        """The voters `voters(unit, filter, orderBy)` returns to `user`, or "FORBIDDEN"."""
        if unit is not None and (
            unit not in self.units or not any(self.under(unit, at) for _, at in self.assignments.get(user, []))
        ):
            return []  # not visible (service.md), an ancestor of the scope included: empty, whatever the filter
        reachable = [v for v in self.voters_under(unit) if self.has(user, "voter.read", v["booth_code"])]
        if ("casteCategory" in flt or "economicStatus" in flt) and any(
            not self.has(user, "voter.read_sensitive", v["booth_code"]) for v in reachable
        ):
            return "FORBIDDEN"
        return sorted((v for v in reachable if self.matches(v, flt)), key=self.sort_key(order))

    # ---------------------------------------------------------------- stats ---
    def stats_sources(self, user: str, code: str) -> list[str]:
        """The units whose counts make up `code`'s stats for `user`: itself inside the stats.read
        scope, else the topmost stats.read assignments under it."""
        if self.has(user, "stats.read", code):
            return [code]
        inside = {at for role, at in self.assignments.get(user, []) if "stats.read" in MATRIX[role]}
        inside = {at for at in inside if self.under(at, code)}
        return sorted(at for at in inside if not any(o != at and self.under(at, o) for o in inside))

    def stats(self, user: str, code: str, top: int = 20) -> dict[str, Any]:
        counted = [v for v in self.voters_under(code) if self.has(user, "stats.read", v["booth_code"])]
        clear = all(self.has(user, "voter.read_sensitive", v["booth_code"]) for v in counted)
        sources = self.stats_sources(user, code)

        def hidden_keys(dim: str) -> set[str]:
            return {k for c, d, k in self.released_hidden if d == dim and c in sources}

        def buckets(counter: Counter[str], order: tuple[str, ...] | None) -> list[dict[str, Any]]:
            keys = [k for k in (order or sorted(counter)) if counter.get(k)]
            return [{"key": k, "count": counter[k]} for k in keys]

        def hidden(counter: Counter[str], order: tuple[str, ...] | None, dim: str) -> tuple[list[dict[str, Any]], bool]:
            shown = dict(counter) if clear else suppress_truth(dict(counter), hidden_keys(dim))
            keys = [k for k in (order or sorted(counter)) if counter.get(k)]
            return [{"key": k, "count": shown[k]} for k in keys], any(shown[k] is None for k in keys)

        cat, s1 = hidden(
            Counter(v["caste_category"] for v in counted if v["caste_category"]), CATEGORY_ORDER, "caste_category"
        )
        eco, s2 = hidden(
            Counter(v["economic_status"] for v in counted if v["economic_status"]), ECONOMIC_ORDER, "economic_status"
        )
        castes = Counter(v["caste"] for v in counted if v["caste"])
        shown_castes = dict(castes) if clear else suppress_truth(dict(castes), hidden_keys("caste"))
        visible = sorted(((k, n) for k, n in shown_castes.items() if n is not None), key=lambda kn: (-kn[1], kn[0]))
        suppressed_castes = sorted(k for k, n in shown_castes.items() if n is None)
        by_caste = [{"key": k, "count": n} for k, n in visible] + [{"key": k, "count": None} for k in suppressed_castes]
        schemes: Counter[str] = Counter()
        for v in counted:
            schemes.update(self.benefits.get(v["epic_number"], {}).keys())
        return {
            "voters": len(counted),
            "withPhone": sum(1 for v in counted if v["phone"]),
            "contactable": sum(1 for v in counted if v["phone"] and v["contact_consent"] != "DENIED"),
            "surveyed": sum(1 for v in counted if v["caste_category"] or v["economic_status"]),
            "byGender": buckets(Counter(v["gender"] for v in counted), GENDER_ORDER),
            "byAgeBand": buckets(Counter(band(int(v["age"])) for v in counted), BANDS),
            "byCasteCategory": cat,
            "byCaste": by_caste[:top],
            "byEconomicStatus": eco,
            "beneficiaries": buckets(schemes, None),
            "suppressed": s1 or s2 or bool(suppressed_castes),
            "outreach": {"assigned": 0, "called": 0, "byOutcome": []},
        }


STATS_SELECTION = """voters withPhone contactable surveyed byGender { key count } byAgeBand { key count }
  byCasteCategory { key count } byCaste { key count } byEconomicStatus { key count } beneficiaries { key count }
  suppressed outreach { assigned called byOutcome { key count } }"""
