#!/usr/bin/env python3
"""A bounded soak of `boothgraph serve --workers 2` on loopback (issue 5).

    .venv/bin/python bench/soak.py [--database-url URL] [--data /tmp/bg-medium] [-n 100000] [-c 64]

Starts boothgraph with production settings as bench/run.sh does (GRAPHIQL=false, a random
JWT_SECRET, the rate limit out of the way) against --database-url (default: the bench cluster's
database `boothgraph`, which holds the medium data set; start the cluster with
/tmp/peer/pg.sh start), then sends N requests over C keep-alive connections (a small asyncio
HTTP/1.1 client), mixed over one user of every role of --data's assignments.csv:

- reads: booth pages (Q1-style, with random filters), a voter by EPIC (in and out of scope),
  node(id) of voters and units, unit stats, units, me;
- writes: updateVoterSurvey by a DISTRICT_CONVENOR and a BOOTH_PRESIDENT on voters of their
  scope, writing the values the voter already has (the data set stays as it was; audit entries
  are added); logCall by a CALLER on a campaign the soak creates and deletes again at the end
  (--no-outreach leaves that out);
- a sensitive filter by a role without voter.read_sensitive: FORBIDDEN is the right answer.

It counts errors (transport errors, a status other than 200, an error code not expected for
the operation), leaks (checked against the CSV files, never against the server: a voter of
another booth on a booth page, a voter or unit outside the caller's scope, a non-empty page of a
booth out of scope), p50/p99 per operation, throughput, and the RSS of the worker processes at
the start and at the end, and prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import datetime as dt
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
import psutil

MAIN = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(MAIN))

from core.auth import make_token  # noqa: E402
from tests.read_truth import MATRIX  # noqa: E402  (access-policy.md's default matrix, copied by hand)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:55432/boothgraph"
# Checked outcome of one response: (error, leak), each a short reason or None.
Verdict = tuple[str | None, str | None]
Check = Callable[[dict[str, Any]], Verdict]


# ------------------------------------------------------------------ the data set ---
@dataclass
class World:
    parent: dict[str, str | None]
    level: dict[str, str]
    children: dict[str, list[str]]
    assignments: dict[str, list[tuple[str, str]]]  # user -> [(role, unit code)]
    by_role: dict[str, str]  # role -> one user holding it
    schemes: list[str]
    booth_of: dict[str, str] = field(default_factory=dict)  # epic -> booth code (sampled booths only)
    epics_in: dict[str, list[str]] = field(default_factory=dict)  # booth -> epics (sampled booths only)

    def chain(self, code: str) -> list[str]:
        out: list[str] = []
        cur: str | None = code
        while cur:
            out.append(cur)
            cur = self.parent.get(cur)
        return out

    def scope(self, user: str, permission: str | None) -> set[str]:
        return {u for role, u in self.assignments.get(user, []) if permission is None or permission in MATRIX[role]}

    def under(self, code: str, scope: set[str]) -> bool:
        return any(c in scope for c in self.chain(code))

    def booths_under(self, code: str) -> list[str]:
        out, stack = [], [code]
        while stack:
            cur = stack.pop()
            if self.level[cur] == "BOOTH":
                out.append(cur)
            stack.extend(self.children.get(cur, []))
        return out


def rows(folder: Path, name: str) -> Iterable[dict[str, str]]:
    with open(folder / name, newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def load_world(folder: Path) -> World:
    parent: dict[str, str | None] = {}
    level: dict[str, str] = {}
    children: dict[str, list[str]] = defaultdict(list)
    for u in rows(folder, "units.csv"):
        parent[u["code"]] = u["parent_code"] or None
        level[u["code"]] = u["level"]
        if u["parent_code"]:
            children[u["parent_code"]].append(u["code"])
    assignments: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_role: dict[str, str] = {}
    for a in rows(folder, "assignments.csv"):
        assignments[a["user_id"]].append((a["role"], a["unit_code"]))
        by_role.setdefault(a["role"], a["user_id"])
    schemes = [s["code"] for s in rows(folder, "schemes.csv")]
    return World(parent, level, dict(children), dict(assignments), by_role, schemes)


def sample_booths(world: World, rng: random.Random, users: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Per user: some booths in its voter.read scope, some outside it."""
    all_booths = sorted(c for c, lv in world.level.items() if lv == "BOOTH")
    out = {}
    for user in users:
        inside = sorted({b for u in world.scope(user, "voter.read") for b in world.booths_under(u)})
        outside = [b for b in all_booths if not world.under(b, world.scope(user, "voter.read"))]
        out[user] = (rng.sample(inside, min(8, len(inside))), rng.sample(outside, min(4, len(outside))))
    return out


def read_voters(world: World, folder: Path, booths: set[str]) -> None:
    for v in rows(folder, "voters.csv"):
        if v["booth_code"] in booths:
            world.booth_of[v["epic_number"]] = v["booth_code"]
            world.epics_in.setdefault(v["booth_code"], []).append(v["epic_number"])


# ---------------------------------------------------------------------- the jobs ---
@dataclass
class Job:
    op: str
    user: str
    body: bytes
    check: Check
    head: bytes = b""


def gid(kind: str, pk: int) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def gql_errors(body: dict[str, Any], expected: frozenset[str] = frozenset()) -> str | None:
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    bad = [c for c in codes if c not in expected]
    return f"code {bad[0]}" if bad else None


def epics_of(node_list: list[dict[str, Any]]) -> list[str]:
    return [n["node"]["epicNumber"] for n in node_list]


class Builder:
    """The request mix: Job templates, each with the check of its own answer."""

    def __init__(self, world: World, rng: random.Random, users: list[str], booths: dict[str, Any]) -> None:
        self.w, self.rng, self.users, self.booths = world, rng, users, booths
        self.unit_ids: dict[str, int] = {}
        self.voter_ids: dict[str, int] = {}
        self.survey_targets: dict[str, list[dict[str, Any]]] = {}
        self.call_ids: list[str] = []
        self.call_epics: set[str] = set()
        self.caller: str | None = None
        self.checked: Counter[str] = Counter()  # what the leak checks looked at

    # the caller may see the voters of its own call list
    def allowed_epic(self, user: str, epic: str) -> bool:
        booth = self.w.booth_of.get(epic)
        if user == self.caller and epic in self.call_epics:
            return True
        return booth is not None and self.w.under(booth, self.w.scope(user, "voter.read"))

    def booth_page(self, user: str) -> Job:
        inside, outside = self.booths[user]
        booth = self.rng.choice(inside + outside if inside and self.rng.random() < 0.8 else outside or inside)
        flt: dict[str, Any] = {}
        if self.rng.random() < 0.3:
            flt["gender"] = self.rng.choice(["MALE", "FEMALE"])
        if self.rng.random() < 0.3:
            flt["ageMin"] = self.rng.randint(18, 60)
        if self.rng.random() < 0.2:
            flt["schemes"] = [self.rng.choice(self.w.schemes)]
        if self.rng.random() < 0.2:
            flt["hasPhone"] = True
        query = """query Q1($booth: String!, $filter: VoterFilter) {
  voters(unit: $booth, first: 50, filter: $filter) {
    edges { node { epicNumber serialNumber name age gender houseNumber } } pageInfo { hasNextPage endCursor } } }"""
        in_scope = self.w.under(booth, self.w.scope(user, "voter.read"))

        def check(body: dict[str, Any]) -> Verdict:
            if error := gql_errors(body):
                return error, None
            epics = epics_of(body["data"]["voters"]["edges"])
            self.checked["voters on booth pages"] += len(epics)
            self.checked["booth pages out of scope" if not in_scope else "booth pages in scope"] += 1
            wrong = [e for e in epics if self.w.booth_of.get(e) != booth]
            if wrong:
                return None, f"booth page {booth}: {wrong[0]} is of {self.w.booth_of.get(wrong[0])}"
            if epics and not in_scope and not all(self.allowed_epic(user, e) for e in epics):
                return None, f"booth page {booth} out of scope returned {len(epics)} voters"
            return None, None

        return self.job("booth page (Q1)", user, query, {"booth": booth, "filter": flt or None}, check)

    def voter_by_epic(self, user: str) -> Job:
        inside, outside = self.booths[user]
        booth = self.rng.choice(inside if inside and self.rng.random() < 0.6 else outside or inside)
        epic = self.rng.choice(self.w.epics_in[booth])
        query = "query Q4($epic: String!) { voter(epicNumber: $epic) { epicNumber name age booth { code } } }"

        def check(body: dict[str, Any]) -> Verdict:
            if error := gql_errors(body):
                return error, None
            voter = body["data"]["voter"]
            self.checked["voters by EPIC shown" if voter else "voters by EPIC null"] += 1
            if voter is not None and (voter["epicNumber"] != epic or not self.allowed_epic(user, epic)):
                return None, f"voter {epic} of {booth} shown"
            return None, None

        return self.job("voter by EPIC", user, query, {"epic": epic}, check)

    def node(self, user: str) -> Job:
        inside, outside = self.booths[user]
        booth = self.rng.choice(inside + outside if inside else outside)
        if self.rng.random() < 0.5:
            epic = self.rng.choice(self.w.epics_in[booth])
            ident, what = gid("Voter", self.voter_ids[epic]), epic
        else:
            ident, what = gid("Unit", self.unit_ids[booth]), booth
        query = "query($id: ID!) { node(id: $id) { id ... on Voter { epicNumber } ... on Unit { code } } }"
        visible = self.w.scope(user, None)

        def check(body: dict[str, Any]) -> Verdict:
            if error := gql_errors(body):
                return error, None
            node = body["data"]["node"]
            self.checked["nodes shown" if node else "nodes null"] += 1
            if node is None:
                return None, None
            if "epicNumber" in node and (node["epicNumber"] != what or not self.allowed_epic(user, what)):
                return None, f"node voter {what} shown"
            if "code" in node and (node["code"] != what or not self.w.under(what, visible)):
                return None, f"node unit {what} shown"
            return None, None

        return self.job("node(id)", user, query, {"id": ident}, check)

    def unit_stats(self, user: str) -> Job:
        inside, outside = self.booths[user]
        booth = self.rng.choice(inside + outside if inside else outside)
        code = self.rng.choice(self.w.chain(booth)[: self.rng.randint(1, 4)])
        query = """query Q3($unit: String!) { unit(code: $unit) { code stats { voters withPhone surveyed suppressed
  byCasteCategory { key count } byGender { key count } byAgeBand { key count } } } }"""
        visible = self.w.scope(user, None)

        def check(body: dict[str, Any]) -> Verdict:
            if error := gql_errors(body):
                return error, None
            unit = body["data"]["unit"]
            self.checked["unit stats shown" if unit else "unit stats null"] += 1
            if unit is not None and not self.w.under(code, visible):
                return None, f"unit {code} shown"
            return None, None

        return self.job("unit stats (Q3)", user, query, {"unit": code}, check)

    def units(self, user: str) -> Job:
        level = self.rng.choice([None, "DISTRICT", "MANDAL", "BOOTH"])
        query = "query($level: Level) { units(level: $level, first: 20) { totalCount edges { node { code level } } } }"
        visible = self.w.scope(user, None)

        def check(body: dict[str, Any]) -> Verdict:
            if error := gql_errors(body):
                return error, None
            codes = [e["node"]["code"] for e in body["data"]["units"]["edges"]]
            self.checked["units listed"] += len(codes)
            outside = [c for c in codes if not self.w.under(c, visible)]
            return None, (f"units: {outside[0]} shown" if outside else None)

        return self.job("units", user, query, {"level": level}, check)

    def me(self, user: str) -> Job:
        query = "{ me { id assignments { role unit { code } } permissions } }"

        def check(body: dict[str, Any]) -> Verdict:
            if error := gql_errors(body):
                return error, None
            return (None if body["data"]["me"]["id"] == user else "me: another user"), None

        return self.job("me", user, query, {}, check)

    def survey(self, user: str) -> Job | None:
        targets = self.survey_targets.get(user)
        if not targets:
            return None
        target = self.rng.choice(targets)
        query = """mutation($input: VoterSurveyInput!) {
  updateVoterSurvey(input: $input) { epicNumber casteCategory economicStatus booth { code } } }"""

        def check(body: dict[str, Any]) -> Verdict:
            if error := gql_errors(body):
                return error, None
            got = body["data"]["updateVoterSurvey"]
            return (None if got["epicNumber"] == target["epicNumber"] else "survey: another voter"), None

        return self.job("updateVoterSurvey", user, query, {"input": target}, check)

    def log_call(self) -> Job | None:
        if not self.call_ids or self.caller is None:
            return None
        variables = {
            "input": {
                "assignmentId": self.rng.choice(self.call_ids),
                "outcome": self.rng.choice(["REACHED", "NO_ANSWER", "CALL_BACK"]),
                "satisfaction": self.rng.randint(1, 5),
                "notes": "soak",
            }
        }
        query = "mutation($input: CallLogInput!) { logCall(input: $input) { id outcome } }"

        def check(body: dict[str, Any]) -> Verdict:
            return gql_errors(body), None

        return self.job("logCall", self.caller, query, variables, check)

    def forbidden_filter(self) -> Job | None:
        users = [u for u in self.users if self.booths[u][0] and not self.w.scope(u, "voter.read_sensitive")]
        if not users:
            return None
        user = self.rng.choice(users)
        booth = self.rng.choice(self.booths[user][0])
        query = """query($booth: String!) { voters(unit: $booth, first: 5, filter: { casteCategory: [OBC] }) {
  edges { node { epicNumber } } } }"""

        def check(body: dict[str, Any]) -> Verdict:
            codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
            return (None if codes == ["FORBIDDEN"] else f"sensitive filter answered {codes or 'data'}"), None

        return self.job("sensitive filter (FORBIDDEN)", user, query, {"booth": booth}, check)

    def job(self, op: str, user: str, query: str, variables: dict[str, Any], check: Check) -> Job:
        return Job(op, user, orjson.dumps({"query": query, "variables": variables}), check)

    def templates(self, count: int) -> list[Job]:
        reads: list[tuple[float, Callable[[str], Job | None]]] = [
            (0.40, self.booth_page),
            (0.14, self.voter_by_epic),
            (0.12, self.node),
            (0.12, self.unit_stats),
            (0.08, self.units),
            (0.08, self.me),
        ]
        out: list[Job] = []
        while len(out) < count:
            r = self.rng.random()
            job: Job | None
            if r < 0.02:
                job = self.survey(self.rng.choice(list(self.survey_targets) or self.users))
            elif r < 0.03:
                job = self.log_call()
            elif r < 0.04:
                job = self.forbidden_filter()
            else:
                make = self.rng.choices([m for _, m in reads], weights=[w for w, _ in reads])[0]
                job = make(self.rng.choice(self.users))
            if job is not None:
                out.append(job)
        return out


# ------------------------------------------------------------------- the server ---
class Server:
    def __init__(self, executable: str, url: str, port: int, workers: int, log: Path) -> None:
        self.port, self.secret, self.log = port, secrets.token_urlsafe(32), log
        self.cwd = tempfile.mkdtemp(prefix="bg-soak-")  # no developer .env applies
        env = dict(os.environ, DATABASE_URL=url, JWT_SECRET=self.secret, GRAPHIQL="false")
        env |= {"RATE_LIMIT_PER_S": "1000000", "RATE_LIMIT_BURST": "1000000"}
        cmd = [executable, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        self.proc = subprocess.Popen(
            cmd, cwd=self.cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        self.command = " ".join(cmd)

    def wait_ready(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"boothgraph exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"boothgraph not ready after {seconds} s; see {self.log}")

    def workers(self) -> list[psutil.Process]:
        kids = psutil.Process(self.proc.pid).children(recursive=True)
        return [p for p in kids if "resource_tracker" not in " ".join(p.cmdline())]

    def rss_mb(self) -> dict[int, float]:
        return {p.pid: p.memory_info().rss / 2**20 for p in self.workers()}

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


# ------------------------------------------------------------------- the client ---
@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    errors_by_op: Counter[str] = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if not chunked:
        return status, await reader.readexactly(length), close
    body = bytearray()
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return status, bytes(body), close
        body += await reader.readexactly(size)
        await reader.readline()


async def drive(port: int, jobs: list[Job], n: int, concurrency: int, stats: Stats, rng: random.Random) -> float:
    order = [rng.randrange(len(jobs)) for _ in range(n)]
    next_index = 0

    async def connection() -> None:
        nonlocal next_index
        reader = writer = None
        while next_index < n:
            job = jobs[order[next_index]]
            next_index += 1
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert reader is not None
                writer.write(job.head + job.body)
                status, raw, close = await asyncio.wait_for(_read_response(reader), 60)
                elapsed = time.perf_counter() - started
                if close:
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError) as exc:
                stats.errors[f"transport: {type(exc).__name__}"] += 1
                stats.errors_by_op[job.op] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            stats.latencies[job.op].append(elapsed)
            stats.statuses[status] += 1
            if status != 200:
                stats.errors[f"HTTP {status}"] += 1
                stats.errors_by_op[job.op] += 1
                continue
            try:
                error, leak = job.check(orjson.loads(raw))
            except (ValueError, KeyError, TypeError) as exc:
                error, leak = f"unexpected answer ({type(exc).__name__})", None
            if error:
                stats.errors[f"{job.op}: {error}"] += 1
                stats.errors_by_op[job.op] += 1
            if leak:
                stats.leaks.append(f"{job.op} as {job.user}: {leak}")
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started


# ---------------------------------------------------------------------- set-up ---
async def db_facts(url: str, b: Builder, world: World, survey_users: list[str]) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        for r in await conn.fetch("select id, code from units where code = any($1::text[])", list(world.level)):
            b.unit_ids[r["code"]] = r["id"]
        epics = list(world.booth_of)
        for r in await conn.fetch("select id, epic_number from voters where epic_number = any($1::text[])", epics):
            b.voter_ids[r["epic_number"]] = r["id"]
        for user in survey_users:
            inside = b.booths[user][0]
            picks = [e for booth in inside for e in world.epics_in[booth][:5]]
            current = await conn.fetch(
                """select epic_number, caste_category, economic_status from voters
                   where epic_number = any($1::text[]) and not erased""",
                picks,
            )
            b.survey_targets[user] = [
                {"epicNumber": r["epic_number"]}
                | ({"casteCategory": r["caste_category"]} if r["caste_category"] else {})
                | ({"economicStatus": r["economic_status"]} if r["economic_status"] else {})
                for r in current
            ]
    finally:
        await conn.close()


def post(port: int, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        body: dict[str, Any] = json.loads(r.read())
    if body.get("errors"):
        raise RuntimeError(json.dumps(body["errors"])[:300])
    return body


def set_up_outreach(world: World, b: Builder, port: int, secret: str) -> int | None:
    """A campaign at a CALLER's unit, created by someone with outreach.manage there; calls assigned."""
    caller = world.by_role.get("CALLER")
    if caller is None:
        return None
    unit = next(u for role, u in world.assignments[caller] if role == "CALLER")
    manager = next(
        (
            user
            for user, held in world.assignments.items()
            if user != caller and any("outreach.manage" in MATRIX[r] and u in world.chain(unit) for r, u in held)
        ),
        None,
    )
    if manager is None:
        return None
    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
    campaign = post(
        port,
        make_token(manager, secret),
        "mutation($i: CampaignInput!) { createCampaign(input: $i) { id } }",
        {
            "i": {
                "name": f"soak {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
                "unit": unit,
                "schemes": world.schemes,
                "opensOn": today.isoformat(),
                "closesOn": (today + dt.timedelta(days=7)).isoformat(),
            }
        },
    )["data"]["createCampaign"]["id"]
    post(
        port,
        make_token(manager, secret),
        "mutation($i: AssignCallsInput!) { assignCalls(input: $i) }",
        {"i": {"campaignId": campaign, "callerId": caller, "limit": 100}},
    )
    page = post(
        port,
        make_token(caller, secret),
        "query($c: ID) { myCallList(campaignId: $c, first: 100) { edges { node { id voter { epicNumber } } } } }",
        {"c": campaign},
    )["data"]["myCallList"]["edges"]
    b.caller = caller
    b.call_ids = [e["node"]["id"] for e in page]
    b.call_epics = {e["node"]["voter"]["epicNumber"] for e in page}
    return int(base64.b64decode(campaign).decode().split(":")[1])


async def remove_campaign(url: str, campaign: int) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        async with conn.transaction():
            ids = "select id from call_assignments where campaign_id = $1"
            await conn.execute(f"update call_assignments set last_call_id = null where id in ({ids})", campaign)
            await conn.execute(f"delete from call_logs where assignment_id in ({ids})", campaign)
            await conn.execute("delete from call_assignments where campaign_id = $1", campaign)
            await conn.execute("delete from campaigns where id = $1", campaign)
    finally:
        await conn.close()


# ---------------------------------------------------------------------- report ---
def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000 if ordered else 0.0


def report(
    args: argparse.Namespace,
    server: Server,
    stats: Stats,
    seconds: float,
    rss: tuple[dict[int, float], dict[int, float], dict[int, float]],
    voters: int,
    users: dict[str, str],
    checked: Counter[str],
) -> str:
    total = sum(len(v) for v in stats.latencies.values()) + sum(
        c for k, c in stats.errors.items() if k.startswith("transport")
    )
    every = [x for v in stats.latencies.values() for x in v]
    errors = sum(stats.errors.values())
    ready, start, end = rss
    lines = [
        f"Soak on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: `{server.command}` (GRAPHIQL=false, random JWT_SECRET,"
        f" RATE_LIMIT_PER_S/BURST=1000000) over `{args.database_url}` ({args.data}: {voters:,} voters),"
        f" {total:,} requests at concurrency {args.concurrency} from one asyncio keep-alive client"
        " on the same machine.",
        "",
        "| metric | value |",
        "|---|---:|",
        f"| requests | {total:,} |",
        f"| duration | {seconds:.1f} s |",
        f"| throughput | {total / seconds:,.0f} req/s |",
        f"| p50 / p90 / p99 / max | {pct(every, 50):.1f} / {pct(every, 90):.1f} / {pct(every, 99):.1f} /"
        f" {max(every, default=0) * 1000:.0f} ms |",
        f"| errors | {errors} |",
        f"| leaks | {len(stats.leaks)} |",
        f"| what the leak checks saw | {', '.join(f'{k} {v:,}' for k, v in sorted(checked.items()))} |",
        f"| HTTP statuses | {', '.join(f'{k}: {v:,}' for k, v in sorted(stats.statuses.items()))} |",
    ]
    for pid in sorted(set(ready) | set(start) | set(end)):
        r, a, b = ready.get(pid, 0.0), start.get(pid, 0.0), end.get(pid, 0.0)
        lines.append(
            f"| RSS worker {pid}: ready → after warm-up (start) → end"
            f" | {r:.0f} → {a:.0f} → {b:.0f} MB ({b - a:+.0f} MB) |"
        )
    lines += ["", "| operation | requests | errors | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|"]
    for op, values in sorted(stats.latencies.items(), key=lambda kv: -len(kv[1])):
        lines.append(
            f"| {op} | {len(values):,} | {stats.errors_by_op[op]} | {pct(values, 50):.1f} | {pct(values, 99):.1f} |"
        )
    lines += ["", "Users (one per role): " + ", ".join(f"{r} {u}" for r, u in sorted(users.items()))]
    if stats.errors:
        lines += ["", "Errors:"] + [f"- {k}: {v}" for k, v in stats.errors.most_common(20)]
    if stats.leaks:
        lines += ["", "Leaks:"] + [f"- {x}" for x in stats.leaks[:20]]
    return "\n".join(lines)


async def check_database(url: str) -> int:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(
            f"the database {url} does not answer ({exc}); start the bench cluster: /tmp/peer/pg.sh start"
        ) from None
    try:
        voters = int(await conn.fetchval("select count(*) from voters"))
    finally:
        await conn.close()
    if not voters:
        raise SystemExit(f"the database {url} holds no voters: load it first (bench/run.sh --check-only)")
    return voters


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--data", type=Path, default=Path("/tmp/bg-medium"), help="the data folder loaded there")
    parser.add_argument("-n", "--requests", type=int, default=100_000)
    parser.add_argument("-c", "--concurrency", type=int, default=64)
    parser.add_argument(
        "--warmup",
        type=int,
        default=20_000,
        help="requests before the start RSS is read: enough to send nearly every one of the 5,000 distinct"
        " requests once, so that bounded caches (parsed documents, covers, prepared statements) are full",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--boothgraph", default=str(MAIN / ".venv" / "bin" / "boothgraph"))
    parser.add_argument("--no-outreach", action="store_true", help="no campaign, no logCall")
    parser.add_argument("--log", type=Path, default=Path(tempfile.gettempdir()) / "bg-soak-server.log")
    args = parser.parse_args()

    voters = asyncio.run(check_database(args.database_url))
    rng = random.Random(args.seed)
    world = load_world(args.data)
    users = sorted(set(world.by_role.values()))
    booths = sample_booths(world, rng, users)
    read_voters(world, args.data, {b for inside, outside in booths.values() for b in inside + outside})
    builder = Builder(world, rng, users, booths)
    survey_users = [world.by_role[r] for r in ("DISTRICT_CONVENOR", "BOOTH_PRESIDENT") if r in world.by_role]
    asyncio.run(db_facts(args.database_url, builder, world, survey_users))

    server = Server(args.boothgraph, args.database_url, args.port, args.workers, args.log)
    campaign = None
    try:
        server.wait_ready()
        rss_ready = server.rss_mb()
        if not args.no_outreach:
            campaign = set_up_outreach(world, builder, args.port, server.secret)
        jobs = builder.templates(5_000)
        tokens = {u: make_token(u, server.secret, ttl_s=6 * 3600) for u in users}
        for job in jobs:
            job.head = (
                f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {tokens[job.user]}\r\nContent-Length: {len(job.body)}\r\n\r\n"
            ).encode()
        # warm-up (each worker's caches, the pool), then the RSS at the start
        asyncio.run(drive(args.port, jobs, args.warmup, args.concurrency, Stats(), random.Random(1)))
        builder.checked.clear()
        rss_start = server.rss_mb()
        stats = Stats()
        seconds = asyncio.run(drive(args.port, jobs, args.requests, args.concurrency, stats, rng))
        rss_end = server.rss_mb()
    finally:
        server.stop()
        if campaign is not None:
            try:
                asyncio.run(remove_campaign(args.database_url, campaign))
            except (OSError, asyncpg.PostgresError) as exc:
                print(f"soak: could not remove campaign {campaign}: {exc}", file=sys.stderr)
    print(
        report(
            args,
            server,
            stats,
            seconds,
            (rss_ready, rss_start, rss_end),
            voters,
            {r: u for r, u in world.by_role.items()},
            builder.checked,
        )
    )
    return 1 if stats.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
