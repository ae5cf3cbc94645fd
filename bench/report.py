#!/usr/bin/env python3
"""Markdown report from the JSON lines that bench/run.sh collects (driver.py, persisted_driver.py
and limit.py lines, labels "boothgraph:Qn", "persisted:Qn", "peer:Qn", "limit:Qn"; sql_floor.py's
"sql:Qn" and `{ __typename }` as "floor:TYPENAME" and "boothgraph:TYPENAME"):

    python3 bench/report.py RESULTS.jsonl --meta META.json [--checks CHECKS.txt] > RESULTS.md

Per operation and target: the median run by req/s (with that run's p50/p99) and [min-max] req/s
over the runs; then boothgraph/peer and boothgraph/limit from the median req/s; then boothgraph's
persisted operations against the peer: req/s ratio and p99 ratio (issue 18 §2's target: Q1, Q2
and Q4 at >= 3x the peer's req/s with p99 at most a third of the peer's), and the ceiling that
target is held against (ceiling_table). META.json holds
the machine and software facts that run.sh gathered. Standard library only.
"""

from __future__ import annotations

import argparse
import collections
import json

NAMES = {
    "Q1": "Q1 booth page (50)",
    "Q2": "Q2 booth page, one scheme",
    "Q3": "Q3 district total + by caste",
    "Q4": "Q4 EPIC out of scope",
    "Q5": "Q5 state dashboard (6 regions, all stats)",
}
TARGETS = ("boothgraph", "peer", "limit")
PERSISTED = "persisted"  # boothgraph, the same operations sent as a hash alone
PERSISTED_TARGET = {"Q1": True, "Q2": True, "Q4": True}  # issue 18 §2: >= 3x req/s, p99 <= 1/3 of the peer's


def median_run(runs: list[dict]) -> tuple[dict, float, float]:
    runs = sorted(runs, key=lambda r: r["rps"])
    return runs[len(runs) // 2], runs[0]["rps"], runs[-1]["rps"]


def persisted_table(res: dict[tuple[str, str], list[dict]]) -> list[str]:
    """Plain and persisted boothgraph beside the peer, with the ratios issue 18 §2 asks for."""
    out = [
        "",
        "### Persisted operations (the hash alone) against the peer",
        "",
        "Same runs, median run by req/s. Target (issue 18 §2) for Q1, Q2, Q4: persisted req/s >= 3x "
        "the peer's, and p99 <= 1/3 of the peer's (p99 ratio <= 0.33).",
        "",
        "| op | peer req/s, p99 | boothgraph req/s, p99 | persisted req/s, p99 | boothgraph/peer req/s "
        "| persisted/peer req/s | persisted/peer p99 | target met |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for op, name in NAMES.items():
        med = {t: median_run(res[(t, op)])[0] for t in ("peer", "boothgraph", PERSISTED) if res.get((t, op))}
        if PERSISTED not in med:
            continue
        cell = {t: f"{m['rps']:.0f}, {m['p99_ms']:.1f} ms" for t, m in med.items()}
        peer = med.get("peer")
        ratio = {
            t: f"{med[t]['rps'] / peer['rps']:.2f}" if peer and t in med else "-" for t in ("boothgraph", PERSISTED)
        }
        p99 = f"{med[PERSISTED]['p99_ms'] / peer['p99_ms']:.2f}" if peer else "-"
        met = "-"
        if peer and op in PERSISTED_TARGET:
            ok = med[PERSISTED]["rps"] >= 3 * peer["rps"] and med[PERSISTED]["p99_ms"] * 3 <= peer["p99_ms"]
            met = "yes" if ok else "no"
        out.append(
            f"| {name} | {cell.get('peer', '-')} | {cell.get('boothgraph', '-')} | {cell[PERSISTED]} "
            f"| {ratio['boothgraph']} | {ratio[PERSISTED]} | {p99} | {met} |"
        )
    return out


def ceiling_table(res: dict[tuple[str, str], list[dict]]) -> list[str]:
    """Issue 18 §2's target beside what bounds it: `{ __typename }` on the bare stack (strawberry +
    Starlette + uvicorn: bench/framework_floor.py) and on boothgraph (auth, the viewer's roles read
    from the database, middleware, the GraphQL view: all the work every request does), and the
    operation's own statements replayed without a server (bench/sql_floor.py)."""
    floor, least = res.get(("floor", "TYPENAME")), res.get(("boothgraph", "TYPENAME"))
    if not floor and not least:
        return []

    def rps(runs: list[dict] | None) -> str:
        return f"{median_run(runs)[0]['rps']:.0f}" if runs else "-"

    out = [
        "",
        "### The ceiling of issue 18 §2's target",
        "",
        "Same runs, median req/s. `{ __typename }` asks nothing of the data: on the bare stack "
        f"(strawberry + Starlette + uvicorn, nothing of ours) {rps(floor)} req/s; on boothgraph, with "
        f"everything every request does (token, the viewer's roles read from the database, middleware, "
        f"the GraphQL view), {rps(least)} req/s. No operation is served faster than its server answers "
        "`{ __typename }`. The SQL column replays the operation's own statements (the viewer's read "
        "included) over asyncpg in one process with no server.",
        "",
        "| op | 3x the peer (target) | persisted req/s | boothgraph `{ __typename }` | bare stack `{ __typename }` "
        "| its SQL alone |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for op in PERSISTED_TARGET:
        peer = res.get(("peer", op))
        target = f"{3 * median_run(peer)[0]['rps']:.0f}" if peer else "-"
        out.append(
            f"| {NAMES[op]} | {target} | {rps(res.get((PERSISTED, op)))} | {rps(least)} | {rps(floor)} "
            f"| {rps(res.get(('sql', op)))} |"
        )
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("--meta", required=True)
    p.add_argument("--checks")
    a = p.parse_args()
    with open(a.meta) as f:
        meta = json.load(f)
    res: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    with open(a.results) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                target, op = r["label"].split(":")
                res[(target, op)].append(r)
    runs = max((len(v) for v in res.values()), default=0)
    sample = next(iter(res.values()))[0] if res else {"n": "?", "c": "?", "engine": "?"}

    out = [f"# boothgraph vs PostGraphile + RLS vs raw SQL: {meta['preset']} preset, {meta['date']}", ""]
    out.append(
        f"{sample['n']} requests per operation at concurrency {sample['c']} after {meta['warmup']} warm-up "
        f"requests (load generator: {sample['engine']}), {runs} run(s) with peer, limit and boothgraph alternating. "
        "Each cell: the median run's req/s [min-max over the runs], and that run's p50 and p99 in ms. "
        "Ratios compare median req/s; above 1 means boothgraph serves more requests per second."
    )
    out.append("")
    head = "| op |" + "".join(f" {t} req/s | {t} p50 | {t} p99 |" for t in TARGETS)
    head += " boothgraph/peer | boothgraph/limit |"
    out += [head, "|---|" + "---:|" * (3 * len(TARGETS) + 2)]
    for op, name in NAMES.items():
        if not any(res.get((t, op)) for t in TARGETS):
            continue
        cells, rates = [], {}
        for t in TARGETS:
            if res.get((t, op)):
                m, lo, hi = median_run(res[(t, op)])
                rng = f" [{lo:.0f}-{hi:.0f}]" if len(res[(t, op)]) > 1 else ""
                cells.append(f" {m['rps']:.0f}{rng} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} |")
                rates[t] = m["rps"]
            else:
                cells.append(" - | - | - |")
        ratios = [
            f" {rates['boothgraph'] / rates[t]:.2f} |" if "boothgraph" in rates and t in rates else " - |"
            for t in ("peer", "limit")
        ]
        out.append(f"| {name} |" + "".join(cells) + "".join(ratios))
    if any(t == PERSISTED for t, _ in res):
        out += persisted_table(res)
    out += ceiling_table(res)
    errors = {f"{t}:{op}": sum(r["errors"] for r in rs) for (t, op), rs in res.items()}
    bad = {k: v for k, v in errors.items() if v}
    out += ["", f"Errors (non-200 or `errors` in the body): {bad if bad else 'none'}.", ""]

    out += ["## Scenario", ""]
    sc = meta.get("scenario", {})
    out.append(
        f"Data: `{meta['data']}` ({meta.get('voters', '?'):,} voters, gen_dataset.py --preset {meta['preset']}). "
        f"Q1/Q2 booth {sc.get('booth')} (Q1 as DISTRICT_PRESIDENT {sc.get('dp_a')}, Q2 scheme {sc.get('scheme')} "
        f"as DISTRICT_CONVENOR {sc.get('dc_a')}); Q3 district {sc.get('district_a')} "
        f"({sc.get('voters_a', 0):,} voters) as {sc.get('dp_a')}; Q4 EPIC {sc.get('epic_b')} of {sc.get('district_b')} "
        f"as {sc.get('dp_a')} (must be null); "
        f"Q5 unit {meta.get('q5_unit')} with all its regions' UnitStats as STATE_PRESIDENT {meta.get('q5_user')} "
        "(boothgraph only: the peer has no such query)."
    )
    out += ["", "## Machine and software", ""]
    for k, v in meta.get("machine", {}).items():
        out.append(f"- {k}: {v}")
    out += ["", "## Settings", ""]
    for k, v in meta.get("settings", {}).items():
        out.append(f"- {k}: {v}")
    if a.checks:
        with open(a.checks) as f:
            out += ["", "## Checks before timing", "", "```", f.read().rstrip(), "```"]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
