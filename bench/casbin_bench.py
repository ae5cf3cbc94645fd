#!/usr/bin/env python3
"""Casbin decision cost with a state's worth of assignments loaded (policies.engine.PolicyEngine).

    .venv/bin/python bench/casbin_bench.py [--booths 180000] [--mandals 1900] [--districts 98]
                                           [--regions 6] [--samples 2000] [--seed 1]

Builds a synthetic tree shaped like Uttar Pradesh (1 state, 6 regions, 98 districts, 1,900
mandals, 180,000 booths; paths "UP/UP-R1/UP-R1-D01/UP-R1-D01-M01/UP-R1-D01-M01-B001"), and one
assignment per office: a BOOTH_PRESIDENT per booth, a MANDAL_PRESIDENT per mandal, eight district
offices per district, two per region, three at the state, plus CALLERs who each hold three
booths. These (user, role, path) rows go into PolicyEngine.load_assignments, then it measures:

- load: load_assignments() of all rows (what the server does at start and on a full resync);
- enforce: one Casbin decision, `enforce(viewer, path, permission)`, for a booth under the
  viewer (a district president: the role manager walks the booth path's five prefixes) and
  for a booth outside the viewer's scope (deny). Casbin has no decision cache, so warm means
  "same viewer again", cold means "first decision after a reload";
- cover miss ("cold"): cover(viewer, permission) for a viewer not in the cover cache: one
  Casbin decision per assignment plus the covering-set reduction. Each sample is a different
  user, so every call misses;
- cover hit ("warm"): the same users again; the LRU cache answers;
- reload: reload() (a new enforcer from model.conf + policy.csv; the users' links are kept),
  and reload_if_changed() when nothing changed (two stat() calls, the per-request check).

Times are per call, from time.perf_counter_ns, single thread, no other work. Prints a table.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.viewer import AssignedRole, UnitPlace, Viewer  # noqa: E402
from models import Level  # noqa: E402
from policies.engine import PolicyEngine  # noqa: E402

DISTRICT_ROLES = (
    "DISTRICT_PRESIDENT",
    "DISTRICT_INCHARGE",
    "DISTRICT_CONVENOR",
    "DISTRICT_CO_CONVENOR",
    "IT_CONVENOR",
    "SOCIAL_MEDIA_CONVENOR",
    "OFFICE_SECRETARY",
    "CALLER",
)


def spread(total: int, parts: int) -> list[int]:
    """`total` split into `parts` near-equal counts."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def build_tree(regions: int, districts: int, mandals: int, booths: int) -> dict[Level, list[UnitPlace]]:
    ids = iter(range(1, 10**9))
    state = UnitPlace(next(ids), "UP", Level.STATE, "UP", (1, None, None, None, None))
    tree: dict[Level, list[UnitPlace]] = {lvl: [] for lvl in Level}
    tree[Level.STATE].append(state)
    d_per_r = spread(districts, regions)
    region_list = []
    for r in range(regions):
        code = f"UP-R{r + 1}"
        rid = next(ids)
        place = UnitPlace(rid, code, Level.REGION, f"UP/{code}", (state.id, rid, None, None, None))
        tree[Level.REGION].append(place)
        region_list.extend([place] * d_per_r[r])
    m_per_d = spread(mandals, districts)
    mandal_parents = []
    for d, region in enumerate(region_list):
        code = f"{region.code}-D{d + 1:02d}"
        did = next(ids)
        place = UnitPlace(did, code, Level.DISTRICT, f"{region.path}/{code}", (state.id, region.id, did, None, None))
        tree[Level.DISTRICT].append(place)
        mandal_parents.extend([place] * m_per_d[d])
    b_per_m = spread(booths, mandals)
    for m, district in enumerate(mandal_parents):
        code = f"{district.code}-M{m + 1:04d}"
        mid = next(ids)
        anc = district.ancestors
        mandal = UnitPlace(mid, code, Level.MANDAL, f"{district.path}/{code}", (anc[0], anc[1], anc[2], mid, None))
        tree[Level.MANDAL].append(mandal)
        for b in range(b_per_m[m]):
            bcode = f"{code}-B{b + 1:03d}"
            bid = next(ids)
            tree[Level.BOOTH].append(
                UnitPlace(bid, bcode, Level.BOOTH, f"{mandal.path}/{bcode}", (anc[0], anc[1], anc[2], mid, bid))
            )
    return tree


def build_assignments(tree: dict[Level, list[UnitPlace]], rng: random.Random) -> dict[str, list[tuple[str, UnitPlace]]]:
    """user id -> [(role, unit)]"""
    users: dict[str, list[tuple[str, UnitPlace]]] = {}
    n = iter(range(1, 10**9))

    def give(role: str, *units: UnitPlace) -> None:
        users[f"u-{next(n):07d}"] = [(role, u) for u in units]

    state = tree[Level.STATE][0]
    for role in ("STATE_PRESIDENT", "STATE_GENERAL_SECRETARY", "IT_CONVENOR"):
        give(role, state)
    for region in tree[Level.REGION]:
        for role in ("REGIONAL_PRESIDENT", "REGIONAL_INCHARGE"):
            give(role, region)
    for district in tree[Level.DISTRICT]:
        for role in DISTRICT_ROLES:
            give(role, district)
    for mandal in tree[Level.MANDAL]:
        give("MANDAL_PRESIDENT", mandal)
    for booth in tree[Level.BOOTH]:
        give("BOOTH_PRESIDENT", booth)
    booths = tree[Level.BOOTH]
    for _ in range(len(tree[Level.DISTRICT]) * 10):  # callers, three booths each
        give("CALLER", *rng.sample(booths, 3))
    return users


def viewer(user_id: str, links: list[tuple[str, UnitPlace]]) -> Viewer:
    return Viewer(
        user_id=user_id,
        name=user_id,
        assignments=tuple(AssignedRole(i, role, unit, unit.code, None) for i, (role, unit) in enumerate(links, 1)),
    )


def timed(fn, calls) -> list[float]:
    """Per-call microseconds of fn(*args) for each args in calls."""
    out = []
    clock = time.perf_counter_ns
    for args in calls:
        t = clock()
        fn(*args)
        out.append((clock() - t) / 1000)
    return out


def row(name: str, us: list[float]) -> str:
    us = sorted(us)
    p99 = us[min(len(us) - 1, int(0.99 * len(us)))]

    def f(x: float) -> str:
        return f"{x:,.1f}" if x < 10_000 else f"{x / 1000:,.1f} ms"

    return f"| {name} | {len(us):,} | {f(statistics.median(us))} | {f(statistics.fmean(us))} | {f(p99)} |"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--regions", type=int, default=6)
    p.add_argument("--districts", type=int, default=98)
    p.add_argument("--mandals", type=int, default=1900)
    p.add_argument("--booths", type=int, default=180_000)
    p.add_argument("--samples", type=int, default=2000, help="calls per measurement (default 2000)")
    p.add_argument("--reloads", type=int, default=20, help="policy reloads timed (default 20)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)

    tree = build_tree(a.regions, a.districts, a.mandals, a.booths)
    users = build_assignments(tree, rng)
    rows = [(user, role, unit.path) for user, links in users.items() for role, unit in links]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    engine = PolicyEngine()
    gc.collect()
    load_us = timed(engine.load_assignments, [(rows,)] * 3)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    by_role: dict[str, list[str]] = {}
    for user, links in users.items():
        by_role.setdefault(links[0][0], []).append(user)
    viewers = {u: viewer(u, links) for u, links in users.items()}
    booths = tree[Level.BOOTH]

    # A district president asks about a booth of its own district (allow) and of another (deny).
    by_district: dict[int | None, list[UnitPlace]] = {}
    for b in booths:
        by_district.setdefault(b.ancestors[2], []).append(b)
    dps = [viewers[u] for u in by_role["DISTRICT_PRESIDENT"]]
    inside, outside = [], []
    for i in range(a.samples):
        v = dps[i % len(dps)]
        district_id = v.assignments[0].unit.id
        other = rng.choice(booths)
        while other.ancestors[2] == district_id:
            other = rng.choice(booths)
        inside.append((v, rng.choice(by_district[district_id]).path, "voter.read"))
        outside.append((v, other.path, "voter.read"))
    assert all(engine.enforce(*c) for c in inside[:50]) and not any(engine.enforce(*c) for c in outside[:50])

    results = []
    cold = []
    for i in range(a.reloads):
        engine.reload()
        cold += timed(engine.enforce, [inside[i]])
    results.append(row("enforce allow, first decision after a reload (cold)", cold))
    results.append(row("enforce allow: booth in own district (warm)", timed(engine.enforce, inside)))
    results.append(row("enforce deny: booth of another district (warm)", timed(engine.enforce, outside)))

    sp = viewers[by_role["STATE_PRESIDENT"][0]]
    bps = [viewers[u] for u in rng.sample(by_role["BOOTH_PRESIDENT"], a.samples)]
    callers = [viewers[u] for u in by_role["CALLER"] if len(viewers[u].assignments) == 3][: a.samples]
    mixed = rng.sample([viewers[u] for u in users], a.samples)

    cold = []
    for _ in range(a.reloads):
        engine.reload()  # empties the cover cache
        cold += timed(engine.cover, [(sp, "stats.read")])
    results.append(row("cover miss (cold): STATE_PRESIDENT, stats.read", cold))
    for label, group in (("BOOTH_PRESIDENT", bps), ("CALLER, 3 booths", callers), ("any user", mixed)):
        engine.reload()
        calls = [(v, "voter.read") for v in group]
        results.append(row(f"cover miss (cold): {label}, voter.read", timed(engine.cover, calls)))
        results.append(row(f"cover hit (warm): {label}, voter.read", timed(engine.cover, calls)))
    engine.reload()
    perms = timed(engine.permissions, [(v,) for v in mixed[:200]])
    results.append(row(f"permissions(viewer), cache empty: any user, {len(engine.known_permissions())} covers", perms))

    reload_us = timed(engine.reload, [()] * a.reloads)
    check_us = timed(engine.reload_if_changed, [()] * a.samples)
    assert engine.enforce(*inside[0]), "users' links must survive a reload"

    n_units = sum(len(v) for v in tree.values())
    print(
        f"casbin_bench: {len(rows):,} assignments ({len(users):,} users) over {n_units:,} units "
        f"(1 state, {a.regions} regions, {a.districts} districts, {a.mandals:,} mandals, {a.booths:,} booths); "
        f"{len(engine._enforcer.get_policy())} p rules; pycasbin {casbin_version()}, "
        f"Python {platform.python_version()}, {platform.processor() or platform.machine()}"
    )
    print(f"links held: {len(engine.users):,}; max RSS {rss0 // 1024} MB before the load, {rss1 // 1024} MB after\n")
    print("| operation | calls | median µs | mean µs | p99 µs |")
    print("|---|---:|---:|---:|---:|")
    print(row(f"load_assignments({len(rows):,} rows)", load_us))
    print("\n".join(results))
    print(row("reload(): new enforcer from model.conf + policy.csv", reload_us))
    print(row("reload_if_changed(), nothing changed", check_us))
    return 0


def casbin_version() -> str:
    from importlib.metadata import version

    try:
        return version("pycasbin")
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    sys.exit(main())
