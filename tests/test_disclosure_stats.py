"""Small-cell suppression across the tree and across breakdowns, through the API, on the tiny and
small presets: no single unknown to subtract, the interval audit per viewer, one pattern for all."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from tests.conftest import GEN_DATASET, DatabaseFactory
from tests.dataset import load_folder
from tests.disclosure_audit import AuditResult, audit
from tests.read_support import data

MIN_CELL = 5
DIMS = {"byCasteCategory": "caste_category", "byCaste": "caste", "byEconomicStatus": "economic_status"}
VIEW_Q = """query($after: String) { units(first: 500, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { code parent { code } stats {
    byCasteCategory { key count } byCaste(top: 500) { key count } byEconomicStatus { key count } } } } } }"""

ONE_UNIT_STATS = "byCasteCategory { key count } byCaste(top: 500) { key count }"

# tiny (gen_dataset.py): u-000001 state president, u-000003 state IT convenor, u-000004 regional
# president of Awadh, u-000006 district president and u-000010 IT convenor of Lucknow
STATE_PRESIDENT, REGIONAL_PRESIDENT, DISTRICT_PRESIDENT = "u-000001", "u-000004", "u-000006"


@pytest.fixture(scope="module")
async def small_pool(db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    """The `small` preset (~100k voters), loaded once for this module."""
    folder = tmp_path_factory.mktemp("bg-small")
    subprocess.run(
        [sys.executable, str(GEN_DATASET), "--preset", "small", "--out", str(folder)], check=True, capture_output=True
    )
    url = await db_factory.create()
    conn = await asyncpg.connect(url)
    try:
        await load_folder(conn, folder)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    yield pool
    await pool.close()
    await db_factory.drop(url)


async def published(pool: Any, user: str) -> dict[str, dict[str, Any]]:
    """Everything `user` can query at once: code -> {parent, dim -> {key: count or None}}."""
    view: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = (await data(pool, user, VIEW_Q, {"after": after}))["units"]
        for edge in page["edges"]:
            node = edge["node"]
            view[node["code"]] = {"parent": (node["parent"] or {}).get("code")} | {
                dim: {b["key"]: b["count"] for b in node["stats"][name]} for name, dim in DIMS.items()
            }
        if not page["pageInfo"]["hasNextPage"]:
            return view
        after = page["pageInfo"]["endCursor"]


def single_unknowns(view: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(unit, dim, key) a plain subtraction recovers: a shown parent cell with exactly one hidden
    child cell, or a shown category with exactly one hidden caste of it in the same unit."""
    found = []
    children: dict[str, list[str]] = {}
    for code, unit in view.items():
        if unit["parent"] in view:
            children.setdefault(unit["parent"], []).append(code)
    for code, kids in children.items():
        for dim in DIMS.values():
            for key, n in view[code][dim].items():
                hidden = [k for k in kids if key in view[k][dim] and view[k][dim][key] is None]
                if n is not None and len(hidden) == 1:
                    found.append((hidden[0], dim, key))
    for code, unit in view.items():
        for category, n in unit["caste_category"].items():
            hidden = [k for k, c in unit["caste"].items() if k.split("-")[0] == category and c is None]
            if n is not None and len(hidden) == 1:
                found.append((code, "caste", hidden[0]))
    return found


async def audit_view(pool: Any, view: dict[str, dict[str, Any]], only_under: str | None = None) -> list[AuditResult]:
    """The interval audit of both sensitive tables of `view` (optionally of one subtree only, as a
    viewer confined to it sees it). Row totals count as known: the strongest attacker."""
    if only_under is not None:
        inside = {only_under}
        for code in sorted(view, key=len):
            if view[code]["parent"] in inside:
                inside.add(code)
        view = {c: u for c, u in view.items() if c in inside}
    unit_parent = {c: (u["parent"] if u["parent"] in view else None) for c, u in view.items()}
    rows = await pool.fetch(
        "select u.code, c.dim, sum(c.n) as n from released_cells c join units u on u.id = c.unit_id "
        "where c.dim in ('caste_category', 'economic_status') group by 1, 2"
    )
    totals = {(r["code"], r["dim"]): int(r["n"]) for r in rows if r["code"] in view}
    results = []
    for dims, top in ((("caste_category", "caste"), "caste_category"), (("economic_status",), "economic_status")):
        shown = {(c, (d, k)): n for c, u in view.items() for d in dims for k, n in u[d].items()}
        keys: dict[Any, Any] = {}
        for _, (d, k) in shown:
            category = ("caste_category", k.split("-")[0])
            keys[(d, k)] = category if d == "caste" and category in {x for _, x in shown} else None
        row_totals = {c: n for (c, d), n in totals.items() if d == top}
        results.append(audit(unit_parent=unit_parent, key_parent=keys, shown=shown, totals=row_totals))
    return results


def report(label: str, results: list[AuditResult]) -> None:
    caste, economic = results
    print(
        f"\n[audit] {label}: caste+category {caste.suppressed} suppressed, narrowest {caste.narrowest}; "
        f"economic status {economic.suppressed} suppressed, narrowest {economic.narrowest}"
    )


def assert_wide(results: list[AuditResult]) -> None:
    for result in results:
        narrow = {c: r for c, r in result.ranges.items() if r[1] - r[0] < MIN_CELL - 1 - 1e-6}
        assert narrow == {}


# ------------------------------------------------------------------------------ tiny ---
async def test_no_suppressed_cell_is_a_single_unknown_on_tiny(read_pool) -> None:
    for user in (STATE_PRESIDENT, REGIONAL_PRESIDENT, DISTRICT_PRESIDENT):
        view = await published(read_pool, user)
        assert any(n is None for u in view.values() for d in DIMS.values() for n in u[d].values())
        assert single_unknowns(view) == []


async def test_interval_audit_on_tiny(read_pool) -> None:
    sp = await published(read_pool, STATE_PRESIDENT)
    for label, view, under in (
        ("tiny, state president", sp, None),
        ("tiny, regional president UP-AWD", await published(read_pool, REGIONAL_PRESIDENT), None),
        ("tiny, district president UP-AWD-LKO", await published(read_pool, DISTRICT_PRESIDENT), None),
        ("tiny, a viewer of mandal UP-AWD-LKO-M01", sp, "UP-AWD-LKO-M01"),
    ):
        results = await audit_view(read_pool, view, under)
        report(label, results)
        assert_wide(results)


async def test_every_viewer_sees_one_pattern_whatever_the_order(read_pool) -> None:
    sp = await published(read_pool, STATE_PRESIDENT)
    users = [f"u-{i:06d}" for i in range(1, 76)]
    compared = 0
    for user in users:
        result = await data(read_pool, user, "{ me { permissions } }")
        if "stats.read" not in result["me"]["permissions"]:
            continue
        view = await published(read_pool, user)
        for code, unit in view.items():
            # a unit shown without voter.read_sensitive is the same as the state president's
            if any(n is None for d in DIMS.values() for n in unit[d].values()):
                assert {d: unit[d] for d in DIMS.values()} == {d: sp[code][d] for d in DIMS.values()}, (user, code)
                compared += 1
    assert compared > 50
    # one unit at a time, in reverse order: the same answers as the whole list at once
    for code in sorted(sp, reverse=True)[:12]:
        q = f'{{ unit(code: "{code}") {{ stats {{ {ONE_UNIT_STATS} }} }} }}'
        stats = (await data(read_pool, STATE_PRESIDENT, q))["unit"]["stats"]
        assert {b["key"]: b["count"] for b in stats["byCaste"]} == sp[code]["caste"]
        assert {b["key"]: b["count"] for b in stats["byCasteCategory"]} == sp[code]["caste_category"]


# ----------------------------------------------------------------------------- small ---
def per_breakdown_rule(counts: dict[str, int]) -> dict[str, int | None]:
    """The rule before the released layer: 1..4 hidden, and the smallest other one when only one was."""
    hidden = {k for k, n in counts.items() if 0 < n < MIN_CELL}
    if len(hidden) == 1:
        rest = sorted((n, k) for k, n in counts.items() if k not in hidden)
        if rest:
            hidden.add(rest[0][1])
    return {k: (None if k in hidden else n) for k, n in counts.items()}


async def test_the_subtraction_attacks_of_the_issue_fail_on_small(small_pool) -> None:
    view = await published(small_pool, STATE_PRESIDENT)
    # The same units under the old per-breakdown rule, from the true counts: a parent minus its
    # children's shown cells, or a category minus its shown castes, recovered hundreds of cells.
    rows = await small_pool.fetch(
        "select u.code, r.dim, r.key, r.n from unit_rollups r join units u on u.id = r.unit_id "
        "where r.dim in ('caste_category', 'caste', 'economic_status') and r.n > 0"
    )
    true: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        true.setdefault(r["code"], {}).setdefault(r["dim"], {})[r["key"]] = r["n"]
    old = {
        code: {"parent": unit["parent"]} | {d: per_breakdown_rule(true.get(code, {}).get(d, {})) for d in DIMS.values()}
        for code, unit in view.items()
    }
    recovered = single_unknowns(old)
    print(f"\n[attack] small, state president, per-breakdown rule: {len(recovered)} cells are a single unknown")
    assert len(recovered) > 100
    assert any(dim == "caste" and true[code]["caste"][key] < MIN_CELL for code, dim, key in recovered)
    # The released view: no cell is a single unknown, by either attack, and nothing else moved.
    assert single_unknowns(view) == []
    for code, unit in view.items():
        for dim in DIMS.values():
            assert {k: n for k, n in unit[dim].items() if n is not None} == {
                k: n for k, n in true.get(code, {}).get(dim, {}).items() if unit[dim][k] is not None
            }
            assert set(unit[dim]) == set(true.get(code, {}).get(dim, {}))  # zero is never hidden, nor shown


async def test_interval_audit_on_small(small_pool) -> None:
    rows = await small_pool.fetch(
        "select a.user_id, a.role, u.code from assignments a join units u on u.id = a.unit_id "
        "where a.role in ('DISTRICT_PRESIDENT', 'REGIONAL_PRESIDENT') order by u.code limit 2"
    )
    sp = await published(small_pool, STATE_PRESIDENT)
    cases = [("small, state president", sp, None)]
    for r in rows:
        cases.append((f"small, {r['role']} {r['code']}", await published(small_pool, r["user_id"]), None))
    cases.append(("small, a viewer of mandal UP-AWD-LKO-M01", sp, "UP-AWD-LKO-M01"))
    for label, view, under in cases:
        results = await audit_view(small_pool, view, under)
        report(label, results)
        assert_wide(results)
