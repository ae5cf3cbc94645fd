#!/usr/bin/env python3
"""Before anything is timed: ask the peer and boothgraph the same questions and compare the answers.

    python3 bench/check.py --work /tmp/peer/work --peer-queries /tmp/peer/queries/peer \
        --bg-queries /tmp/peer/queries/boothgraph --q5 bench/queries/q5_state_dashboard.graphql \
        --peer-url http://127.0.0.1:5055/graphql --bg-url http://127.0.0.1:8000/graphql --data /tmp/bg-medium

Uses the scenario written by the peer's scenario.py (work/qN.vars.json, work/qN.token, work/q5.*).
Q1/Q2: the same 50 voters in the same order with the same fields, and the same hasNextPage.
Q3: the same total and the same (suppressed) caste-category buckets. Q4: null on both sides.
Q5 (boothgraph only): one entry per REGION of units.csv, their voters adding up to voters.csv.
Prints PASS/FAIL lines; exits 1 on any failure. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import sys
from urllib.parse import urlsplit

FILES = {
    "q1": "q1_booth_page.graphql",
    "q2": "q2_booth_scheme_page.graphql",
    "q3": "q3_district_stats.graphql",
    "q4": "q4_voter_by_epic.graphql",
}


def post(url: str, token: str, query: str, variables: dict) -> tuple[int, dict]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=120)
    body = json.dumps({"query": query, "variables": variables})
    conn.request("POST", parts.path, body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    text = resp.read().decode()
    try:
        return resp.status, json.loads(text)
    except ValueError:
        return resp.status, {"errors": [{"message": text[:300]}]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True)
    p.add_argument("--peer-queries", required=True)
    p.add_argument("--bg-queries", required=True)
    p.add_argument("--q5", required=True)
    p.add_argument("--peer-url", required=True)
    p.add_argument("--bg-url", required=True)
    p.add_argument("--data", required=True)
    a = p.parse_args()
    failures = 0

    def check(ok: bool, text: str) -> None:
        nonlocal failures
        failures += not ok
        print(("PASS " if ok else "FAIL ") + text, flush=True)

    def ask(side: str, q: str) -> dict | None:
        url, folder = (a.peer_url, a.peer_queries) if side == "peer" else (a.bg_url, a.bg_queries)
        path = a.q5 if q == "q5" else os.path.join(folder, FILES[q])
        with open(path) as f:
            query = f.read()
        with open(os.path.join(a.work, f"{q}.vars.json")) as f:
            variables = json.load(f)
        with open(os.path.join(a.work, f"{q}.token")) as f:
            token = f.read().strip()
        status, body = post(url, token, query, variables)
        if status != 200 or body.get("errors"):
            check(False, f"{side} {q.upper()}: HTTP {status} {json.dumps(body)[:400]}")
            return None
        return body["data"]

    for q in ("q1", "q2"):
        peer, bg = ask("peer", q), ask("boothgraph", q)
        if peer is None or bg is None:
            continue
        pv = peer["allVoters"]["nodes"]
        bv = [e["node"] for e in bg["voters"]["edges"]]
        same = pv == bv
        detail = f"{len(bv)} voters" if same else f"peer {len(pv)} vs boothgraph {len(bv)} voters"
        if not same:
            diff = next(((x, y) for x, y in zip(pv, bv, strict=False) if x != y), None)
            detail += f"; first difference: peer {diff[0]} / boothgraph {diff[1]}" if diff else ""
        check(same, f"{q.upper()}: same page on both sides ({detail})")
        ph, bh = peer["allVoters"]["pageInfo"]["hasNextPage"], bg["voters"]["pageInfo"]["hasNextPage"]
        check(ph == bh, f"{q.upper()}: hasNextPage peer {ph}, boothgraph {bh}")

    peer, bg = ask("peer", "q3"), ask("boothgraph", "q3")
    if peer is not None and bg is not None:
        ps, bs = peer["unitStats"], (bg["unit"] or {}).get("stats") or {}
        pb = {b["key"]: b["count"] for b in ps["byCasteCategory"]}
        bb = {b["key"]: b["count"] for b in bs.get("byCasteCategory", [])}
        check(ps["voters"] == bs.get("voters"), f"Q3: voters peer {ps['voters']}, boothgraph {bs.get('voters')}")
        check(pb == bb, f"Q3: byCasteCategory peer {pb}, boothgraph {bb}")

    peer, bg = ask("peer", "q4"), ask("boothgraph", "q4")
    if peer is not None and bg is not None:
        pv, bv = peer["voterByEpicNumber"], bg["voter"]
        check(pv is None and bv is None, f"Q4: out-of-scope EPIC is null on both sides (peer {pv}, boothgraph {bv})")

    bg = ask("boothgraph", "q5")
    if bg is not None:
        with open(os.path.join(a.data, "units.csv"), newline="", encoding="utf-8") as f:
            regions = sorted(u["code"] for u in csv.DictReader(f) if u["level"] == "REGION")
        with open(os.path.join(a.data, "voters.csv"), "rb") as raw:
            total = sum(1 for _ in raw) - 1
        nodes = [e["node"] for e in ((bg["unit"] or {}).get("children") or {}).get("edges", [])]
        got = sorted(n["code"] for n in nodes)
        check(got == regions, f"Q5: {len(got)} regions returned, {len(regions)} in units.csv")
        summed = sum(n["stats"]["voters"] for n in nodes)
        check(summed == total, f"Q5: regions' voters add up to {summed}, voters.csv has {total}")
        size = len(json.dumps({"data": bg}))
        print(f"INFO Q5 response: {size:,} bytes")

    print("checks: all passed" if not failures else f"checks: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
