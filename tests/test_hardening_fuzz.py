"""Property-based fuzzing of every argument of every Query and Mutation field, over HTTP.

Operations are built from the live schema (graphql-core's GraphQLSchema behind `schema._schema`):
for each root field, random values per argument type (ints huge and negative, strings up to a
megabyte, lone surrogates, NUL, unicode, SQL-ish text and LIKE wildcards, enums right and wrong,
lists, nulls, nested input objects, global ids and cursors real, forged and broken), passed inline
or as variables, with a small random selection of the return type. They go to the real app
(tests/serverkit.client_for over a clone of the tiny data set) as users of several roles.

Whatever is sent: never a 5xx, every error carries a known `extensions.code` (never
INTERNAL_SERVER_ERROR), no internals in any message; and a booth president never gets the EPIC
number of a voter outside the own booth (ground truth: voters.csv)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.cursors import CursorCodec
from schema import schema
from server import build_schema
from tests.conftest import DatabaseFactory
from tests.dataset import read_csv
from tests.serverkit import client_for, settings_for, token

GQL: GraphQLSchema = schema._schema
assert GQL.query_type is not None and GQL.mutation_type is not None
QUERY_FIELDS = sorted(GQL.query_type.fields)
MUTATION_FIELDS = sorted(GQL.mutation_type.fields)

KNOWN_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "QUERY_TOO_COMPLEX",
    "RATE_LIMITED",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
}
# Refusals before GraphQL (README, HTTP): a body that is not JSON (invalid UTF-8, a lone surrogate
# escape) is 400 BAD_REQUEST; a body over MAX_BODY_BYTES is 413.
HTTP_CODES = {400: {"BAD_REQUEST"}, 401: {"UNAUTHENTICATED"}, 413: {"PAYLOAD_TOO_LARGE"}}
INTERNALS = ("traceback", "select ", "asyncpg", "/work/")

SP, DP, DC, MP, BP, BP_CALLER, CALLER, NOBODY = (
    "u-000001",  # STATE_PRESIDENT at UP
    "u-000006",  # DISTRICT_PRESIDENT at UP-AWD-LKO
    "u-000008",  # DISTRICT_CONVENOR at UP-AWD-LKO (voter.write, outreach.manage)
    "u-000014",  # MANDAL_PRESIDENT and CALLER at UP-AWD-LKO-M01
    "u-000018",  # BOOTH_PRESIDENT at UP-AWD-LKO-M01-B0002, nothing else
    "u-000016",  # BOOTH_PRESIDENT and CALLER at UP-AWD-LKO-M01-B0001
    "u-000015",  # CALLER at UP-AWD-LKO-M01
    "u-000074",  # no assignment
)
BP_BOOTH = "UP-AWD-LKO-M01-B0002"
USERS = [SP, DP, DC, MP, BP, BP_CALLER, CALLER, NOBODY]
EXAMPLES_PER_FIELD = 60
EPIC = re.compile(r"[A-Z]{3}[0-9]{7}")

INTS = [0, 1, -1, 499, 500, 501, 2**31 - 1, -(2**31), 2**31, 2**53, 2**63 - 1, 2**63, -(2**63) - 1, 10**40]
SQLISH = [
    "' or '1'='1",
    "'; drop table voters; --",
    "1; select pg_sleep(10) --",
    "' union select epic_number from voters --",
    "%",
    "_",
    "%%",
    "a%b_c",
    "\\",
    "\\%",
    "%_%_\\",
    "$1",
    "::text",
    "E'\\x00'",
    "\x00",
    "a\x00b",
    "null",
    "NULL",
    "*",
    "/*",
    "--",
    '"',
    "'",
    "\\'",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    " ",
    "",
]
SURROGATES = ["\ud800", "a\udfffb", "\udbff\udbff", "\ud83d"]  # lone surrogates (not valid Unicode text)
UNICODE = ["उत्तर प्रदेश", "राम", "ऋ", "😀", "\u202e", "\ufeff", "ǅ", "ß", "İ", "ﬃ", "٥١٢٣٤٥٦٧٨٩", "５１２３４５６７８９"]
BIG = ["x" * 100_000, "%" * 300_000, "a" * 1_000_000, "ऋ" * 120_000]
TODAY = dt.date.today()
DATES = [
    TODAY.isoformat(),
    (TODAY + dt.timedelta(days=30)).isoformat(),
    (TODAY - dt.timedelta(days=400)).isoformat(),
    "2026-02-30",
    "2024-02-29",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "26/11/2026",
    "2026-1-1",
    "2026-11-26T10:00:00+05:30",
    "yesterday",
]
PHONES = ["5123456789", "9999999999", "0000000000", "512345678", "51234567890", "+915123456789", "512-345-6789"]
ACTIONS = ["voter.read_contact", "voter.write", "role.grant", "data.import", "outreach.call", "nope"]
NODE_KINDS = ["Unit", "Voter", "Campaign", "CallAssignment", "CallLog", "AuditEntry", "Assignment", "User", "unit"]
FORGING = settings_for("postgresql://127.0.0.1/none")  # the app's JWT secret: forged cursors carry a good key
CURSOR_KINDS = ["voters:SERIAL", "voters:NAME", "voters:AGE", "units", "children", "campaigns", "audit", "calls"]


@dataclass(frozen=True)
class Enum:
    """An enum value: a bare name inline, a string in variables."""

    name: str


def gid(kind: str, pk: int | str) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


# ------------------------------------------------------------- the documents ---
def literal(value: Any) -> str:
    """`value` as a GraphQL literal (JSON string escapes are GraphQL string escapes)."""
    if value is None:
        return "null"
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"


def jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def rarely(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any], one_in: int = 8) -> st.SearchStrategy[Any]:
    """`odd` about once in `one_in` draws; the simplest choice (0, where Hypothesis starts and shrinks to) is usual."""
    return st.integers(0, one_in - 1).flatmap(lambda n: odd if n == one_in // 2 else usual)


def required(arg_type: GraphQLInputType, default: Any) -> bool:
    return isinstance(arg_type, GraphQLNonNull) and default is Undefined


@dataclass
class Fuzzer:
    """Strategies for argument values and selections, from the schema and the data set."""

    gql: GraphQLSchema
    epics: list[str]
    units: list[str]
    users: list[str]
    schemes: list[str]
    castes: list[str]
    ids: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)

    # ---------------------------------------------------------------- scalars ---
    def ints(self) -> st.SearchStrategy[int]:
        return st.one_of(st.integers(-3, 600), st.sampled_from(INTS), st.integers())

    def generic_strings(self) -> st.SearchStrategy[str]:
        return st.one_of(
            st.sampled_from(SQLISH),
            st.sampled_from(UNICODE + SURROGATES),
            st.text(max_size=24),
            st.text(alphabet="%_\\'\"aZ0 -", max_size=8),
            rarely(st.text(max_size=3), st.sampled_from(BIG), one_in=6),
        )

    def ids_(self) -> st.SearchStrategy[str]:
        return st.one_of(
            st.sampled_from(self.ids or ["VW5pdDox"]),
            st.builds(gid, st.sampled_from(NODE_KINDS), st.one_of(self.ints(), st.sampled_from(["", "x", "1.5"]))),
            st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode()),
            st.sampled_from(self.users),
            self.generic_strings(),
        )

    def cursor_strings(self) -> st.SearchStrategy[str]:
        forged = st.builds(
            lambda kind, bind, values: CursorCodec(FORGING, kind, bind).encode(values),
            st.sampled_from(CURSOR_KINDS),
            st.text(alphabet="0123456789abcdef", min_size=24, max_size=24),
            st.lists(st.one_of(self.ints(), st.text(max_size=8), st.none(), st.booleans()), max_size=4),
        )
        real = st.sampled_from(self.cursors or ["x.y"])
        tampered = st.tuples(real, st.integers(0, 60), st.sampled_from("AZaz09-_.")).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
        )
        return st.one_of(real, tampered, forged, st.text(alphabet="abcXYZ019-_.=", max_size=40), self.generic_strings())

    def strings(self, name: str) -> st.SearchStrategy[str]:
        hinted: list[str] | None = {
            "epicNumber": self.epics,
            "search": [e[:4] for e in self.epics[:50]] + ["Ra", "mohd ", "pr"] + self.epics[:50],
            "unit": self.units,
            "userId": self.users,
            "callerId": self.users,
            "scheme": self.schemes,
            "schemes": self.schemes,
            "since": DATES,
            "opensOn": DATES,
            "closesOn": DATES,
            "phone": PHONES,
            "action": ACTIONS,
            "caste": self.castes,
        }.get(name)
        if name == "after":
            return self.cursor_strings()
        if name in ("id", "assignmentId", "campaignId"):
            return self.ids_()
        if hinted:
            return st.one_of(st.sampled_from(hinted), self.generic_strings())
        return self.generic_strings()

    # ----------------------------------------------------------------- values ---
    def value(self, gtype: GraphQLInputType, name: str) -> st.SearchStrategy[Any]:
        """Mostly values of `gtype`, sometimes null where null is not allowed, or a wrong type."""
        if isinstance(gtype, GraphQLNonNull):
            return rarely(self._value(gtype.of_type, name), st.none(), one_in=12)
        return rarely(self._value(gtype, name), st.none(), one_in=4)

    def _value(self, gtype: GraphQLInputType, name: str) -> st.SearchStrategy[Any]:
        wrong = st.one_of(st.booleans(), self.ints(), st.just(1.5), st.text(max_size=5), st.just([]), st.just({}))
        if isinstance(gtype, GraphQLList):
            element = self.value(gtype.of_type, name)
            lists = st.lists(element, max_size=4)
            return rarely(lists, st.one_of(element, lists.map(lambda items: items * 600)), one_in=6)
        if isinstance(gtype, GraphQLEnumType):
            names = [Enum(n) for n in gtype.values]
            odd = st.sampled_from([Enum("NOPE"), Enum(names[0].name.lower()), "MALE", 3])
            return rarely(st.sampled_from(names), odd)
        if isinstance(gtype, GraphQLInputObjectType):
            return self._input_object(gtype)
        assert isinstance(gtype, GraphQLScalarType), gtype
        usual: st.SearchStrategy[Any]
        if gtype.name == "Int":
            usual = self.ints()
        elif gtype.name == "Float":
            usual = st.floats(allow_nan=False, allow_infinity=False)
        elif gtype.name == "Boolean":
            usual = st.booleans()
        elif gtype.name == "ID":
            usual = rarely(self.strings(name), self.ints())
        else:
            usual = self.strings(name)
        return rarely(usual, wrong, one_in=10)

    def _input_object(self, gtype: GraphQLInputObjectType) -> st.SearchStrategy[dict[str, Any]]:
        must = {n: self.value(f.type, n) for n, f in gtype.fields.items() if required(f.type, f.default_value)}
        may = {n: self.value(f.type, n) for n, f in gtype.fields.items() if n not in must}
        usual = st.fixed_dictionaries(must, optional=may)

        def broken(d: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
            drop = [k for k in d if k in must]
            return st.one_of(
                st.just({**d, "bogus": 1}),
                st.sampled_from(drop).map(lambda k: {x: v for x, v in d.items() if x != k}) if drop else st.just(d),
            )

        return rarely(usual, usual.flatmap(broken), one_in=10)


# ---------------------------------------------------------------- selections ---
@st.composite
def selection(draw: st.DrawFn, fz: Fuzzer, gtype: GraphQLOutputType, budget: int) -> str:
    named = get_named_type(gtype)
    if is_leaf_type(named):
        return ""
    if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
        possible = list(fz.gql.get_possible_types(named))
        chosen = draw(st.lists(st.sampled_from(possible), min_size=1, max_size=3, unique_by=lambda t: t.name))
        parts = ["__typename"] + (["id"] if isinstance(named, GraphQLInterfaceType) else [])
        for concrete in chosen:
            parts.append(f"... on {concrete.name} {draw(selection(fz, concrete, budget))}")
        return "{ " + " ".join(parts) + " }"
    assert isinstance(named, GraphQLObjectType)
    usable = {
        n: f for n, f in named.fields.items() if not any(required(a.type, a.default_value) for a in f.args.values())
    }
    leaves = sorted(n for n, f in usable.items() if is_leaf_type(get_named_type(f.type)))
    objects = sorted(n for n in usable if n not in leaves)
    parts = draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=4, unique=True)) if leaves else []
    if named.name == "Voter" and "epicNumber" not in parts:
        parts.append("epicNumber")
    picked: list[str] = []
    if budget > 1 and objects:
        picked = draw(st.lists(st.sampled_from(objects), max_size=2, unique=True))
        if named.name.endswith("Connection") and "edges" not in picked:
            picked.append("edges")
    for name in picked:
        sub = usable[name]
        args = draw(nested_args(fz, sub))
        parts.append(f"{name}{args} {draw(selection(fz, sub.type, budget - 1))}")
    return "{ " + " ".join(parts or ["__typename"]) + " }"


@st.composite
def nested_args(draw: st.DrawFn, fz: Fuzzer, gfield: GraphQLField) -> str:
    given_args = [
        f"{n}: {literal(draw(fz.value(a.type, n)))}" for n, a in gfield.args.items() if draw(st.integers(0, 3)) == 0
    ]
    return f"({', '.join(given_args)})" if given_args else ""


@st.composite
def operation(draw: st.DrawFn, fz: Fuzzer, kind: str, name: str) -> dict[str, Any]:
    root = fz.gql.query_type if kind == "query" else fz.gql.mutation_type
    assert root is not None
    gfield = root.fields[name]
    decls: list[str] = []
    args: list[str] = []
    variables: dict[str, Any] = {}
    for arg_name, arg in gfield.args.items():
        mode = draw(st.sampled_from(["variable", "variable", "literal", "omit"]))
        if mode == "omit" and required(arg.type, arg.default_value) and draw(st.integers(0, 5)):
            mode = "variable"  # leave a required argument out only now and then
        if mode == "omit":
            continue
        value = draw(fz.value(arg.type, arg_name))
        if mode == "literal":
            args.append(f"{arg_name}: {literal(value)}")
            continue
        decls.append(f"$v_{arg_name}: {arg.type}")
        args.append(f"{arg_name}: $v_{arg_name}")
        if value is not None or draw(st.booleans()):
            variables[f"v_{arg_name}"] = jsonable(value)
    if draw(st.integers(0, 24)) == 0:
        args.append("bogus: 1")
    head = f"{kind} Fuzz" + (f"({', '.join(decls)})" if decls else "")
    call = name + (f"({', '.join(args)})" if args else "")
    body = f"{head} {{ {call} {draw(selection(fz, gfield.type, 4))} }}"
    return {"query": body, "variables": variables, "operationName": "Fuzz"}


def encode(body: dict[str, Any], ascii_only: bool) -> bytes:
    """JSON with lone surrogates either escaped (\\ud800) or as raw invalid UTF-8 bytes."""
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# ----------------------------------------------------------------- the checks ---
def check(response: httpx.Response, sent: bytes) -> dict[str, Any]:
    """What holds for any request; returns the parsed body."""
    where = f"{response.status_code} {response.text[:600]!r}\nsent: {sent[:600]!r}"
    assert response.status_code < 500, where
    body = response.json()
    assert isinstance(body, dict), where
    lowered, asked = response.text.lower(), sent.decode("utf-8", "replace").lower()
    for needle in INTERNALS:  # an echo of the client's own input is not a leak
        assert needle not in lowered or needle in asked, (needle, where)
    errors = body.get("errors") or []
    if response.status_code == 200:
        assert "data" in body or errors, where
    allowed = KNOWN_CODES if response.status_code in (200, 400) else HTTP_CODES.get(response.status_code, set())
    if response.status_code == 400:
        allowed = allowed | HTTP_CODES[400]
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        assert code in allowed and code != "INTERNAL_SERVER_ERROR", (code, where)
        assert isinstance(error.get("message"), str), where
    return body


def epic_numbers(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "epicNumber" and isinstance(v, str)] + [
            e for v in value.values() for e in epic_numbers(v)
        ]
    if isinstance(value, list):
        return [e for v in value for e in epic_numbers(v)]
    return []


# ------------------------------------------------------------------- fixtures ---
@dataclass
class Harness:
    client: httpx.AsyncClient
    fuzzer: Fuzzer
    tokens: dict[str, str]
    own_epics: set[str]
    other_epics: set[str]

    async def send(self, user: str | None, body: dict[str, Any], ascii_only: bool) -> tuple[httpx.Response, bytes]:
        sent = encode(body, ascii_only)
        headers = {"Content-Type": "application/json"}
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return await self.client.post("/graphql", content=sent, headers=headers), sent


async def _ok(client: httpx.AsyncClient, user: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token(user)}"}
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return dict(body["data"])


async def _harvest(client: httpx.AsyncClient) -> tuple[list[str], list[str]]:
    """Real ids and cursors of every kind, and a campaign with a call list and a logged call."""
    ids: list[str] = []
    cursors: list[str] = []
    opens, closes = TODAY.isoformat(), (TODAY + dt.timedelta(days=60)).isoformat()
    campaign = await _ok(
        client,
        MP,
        "mutation($i: CampaignInput!) { createCampaign(input: $i) { id } }",
        i={
            "name": "Fuzz",
            "unit": "UP-AWD-LKO-M01",
            "schemes": ["PMUY", "PMGKAY"],
            "opensOn": opens,
            "closesOn": closes,
        },
    )
    ids.append(campaign["createCampaign"]["id"])
    await _ok(
        client,
        MP,
        "mutation($i: AssignCallsInput!) { assignCalls(input: $i) }",
        i={"campaignId": ids[0], "callerId": CALLER, "limit": 5},
    )
    calls = await _ok(client, CALLER, "{ myCallList(first: 5) { edges { cursor node { id } } } }")
    entries = calls["myCallList"]["edges"]
    ids += [e["node"]["id"] for e in entries]
    cursors += [e["cursor"] for e in entries]
    logged = await _ok(
        client,
        CALLER,
        "mutation($i: CallLogInput!) { logCall(input: $i) { id } }",
        i={"assignmentId": entries[0]["node"]["id"], "outcome": "REACHED", "satisfaction": 3},
    )
    ids.append(logged["logCall"]["id"])
    for user in (SP, BP, DC):
        page = await _ok(
            client,
            user,
            """{ voters(first: 5) { edges { cursor node { id booth { id } } } }
                 units(first: 5) { edges { cursor node { id children(first: 1) { pageInfo { endCursor } } } } }
                 me { assignments { id } } }""",
        )
        for edge in page["voters"]["edges"]:
            ids += [edge["node"]["id"], edge["node"]["booth"]["id"]]
            cursors.append(edge["cursor"])
        for edge in page["units"]["edges"]:
            ids.append(edge["node"]["id"])
            cursors += [edge["cursor"], edge["node"]["children"]["pageInfo"]["endCursor"] or "x.y"]
        ids += [a["id"] for a in page["me"]["assignments"]]
    audit = await _ok(client, SP, "{ auditLog(first: 5) { edges { cursor node { id } } } }")
    ids += [e["node"]["id"] for e in audit["auditLog"]["edges"]]
    cursors += [e["cursor"] for e in audit["auditLog"]["edges"]]
    return sorted(set(ids)), sorted(set(cursors))


@dataclass
class DataSet:
    fuzzer: Fuzzer
    own_epics: set[str]
    other_epics: set[str]


def _data_set(folder: Path) -> DataSet:
    voters = read_csv(folder, "voters.csv")
    own = [v["epic_number"] for v in voters if v["booth_code"] == BP_BOOTH]
    other = [v["epic_number"] for v in voters if v["booth_code"] != BP_BOOTH]
    fuzzer = Fuzzer(
        gql=GQL,
        # every own EPIC and as many of other booths, so the booth president asks for both
        epics=own + other[:: max(1, len(other) // max(1, len(own)))],
        units=[u["code"] for u in read_csv(folder, "units.csv")] + ["up", "UP-", "UP-AWD-LKO-M0", "NOPE"],
        users=[u["id"] for u in read_csv(folder, "users.csv")] + ["u-999999", "u-", ""],
        schemes=[s["code"] for s in read_csv(folder, "schemes.csv")] + ["NOPE", "pmuy"],
        castes=sorted({v["caste"] for v in voters if v["caste"]}) + ["OBC-99", "X"],
    )
    return DataSet(fuzzer, set(own), set(other))


@pytest.fixture(scope="module")
async def harness(db_factory: DatabaseFactory, read_template: str, tiny_dataset: Path) -> AsyncIterator[Harness]:
    """One clone of the tiny data set and one app for the whole module (mutations accumulate)."""
    async with _harness(db_factory, read_template, tiny_dataset) as h:
        yield h


@pytest.fixture
async def bp_harness(db_factory: DatabaseFactory, read_template: str, tiny_dataset: Path) -> AsyncIterator[Harness]:
    """A clone of its own: only the booth president acts on it, so nobody widens the scope."""
    async with _harness(db_factory, read_template, tiny_dataset) as h:
        yield h


@contextlib.asynccontextmanager
async def _harness(db_factory: DatabaseFactory, template: str, folder: Path) -> AsyncIterator[Harness]:
    url = await db_factory.create(template=template)
    try:
        overrides: dict[str, Any] = {"rate_limit_per_s": 1e6, "rate_limit_burst": 1_000_000, "pool_max_size": 4}
        app_schema = build_schema(settings_for(url, **overrides))
        async with client_for(url, seeded=False, schema=app_schema, **overrides) as client:
            data = _data_set(folder)
            data.fuzzer.ids, data.fuzzer.cursors = await _harvest(client)
            tokens = {user: token(user) for user in USERS}
            yield Harness(client, data.fuzzer, tokens, data.own_epics, data.other_epics)
    finally:
        await db_factory.drop(url)


def test_the_fuzzer_sees_every_root_field() -> None:
    assert {"node", "me", "unit", "units", "voter", "voters", "schemes", "campaigns", "myCallList", "auditLog"} <= set(
        QUERY_FIELDS
    )
    assert {"updateVoterSurvey", "grantRole", "revokeRole", "logCall", "assignCalls"} <= set(MUTATION_FIELDS)


FUZZ = settings(max_examples=EXAMPLES_PER_FIELD, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", QUERY_FIELDS)
@FUZZ
@given(data=st.data())
async def test_query_fields_survive_fuzzing(harness: Harness, name: str, data: st.DataObject) -> None:
    body = data.draw(operation(harness.fuzzer, "query", name), label="body")
    user = data.draw(rarely(st.sampled_from(USERS), st.none(), one_in=20), label="user")
    response, sent = await harness.send(user, body, data.draw(st.booleans(), label="ascii"))
    check(response, sent)


@pytest.mark.parametrize("name", MUTATION_FIELDS)
@FUZZ
@given(data=st.data())
async def test_mutation_fields_survive_fuzzing(harness: Harness, name: str, data: st.DataObject) -> None:
    body = data.draw(operation(harness.fuzzer, "mutation", name), label="body")
    user = data.draw(rarely(st.sampled_from(USERS), st.none(), one_in=20), label="user")
    response, sent = await harness.send(user, body, data.draw(st.booleans(), label="ascii"))
    check(response, sent)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_a_booth_president_never_gets_a_voter_of_another_booth(bp_harness: Harness, data: st.DataObject) -> None:
    h = bp_harness
    kind = data.draw(st.sampled_from(["query", "query", "mutation"]), label="kind")
    name = data.draw(st.sampled_from(QUERY_FIELDS if kind == "query" else MUTATION_FIELDS), label="field")
    body = data.draw(operation(h.fuzzer, kind, name), label="body")
    response, sent = await h.send(BP, body, data.draw(st.booleans(), label="ascii"))
    got = check(response, sent)
    shown = set(epic_numbers(got.get("data")))
    assert shown <= h.own_epics, (shown - h.own_epics, body["query"][:500])
    asked = sent.decode("utf-8", "replace")
    leaked = {e for e in EPIC.findall(response.text) if e in h.other_epics and e not in asked}
    assert not leaked, (leaked, body["query"][:500])


async def test_a_nul_character_in_a_text_argument_is_bad_user_input(harness: Harness) -> None:
    """PostgreSQL's text holds no U+0000: an argument with one is the client's error, never a 500."""
    cases = [
        (SP, "query($c: String!) { unit(code: $c) { code } }", {"c": "UP\x00"}),
        (SP, "query($e: String!) { voter(epicNumber: $e) { epicNumber } }", {"e": "\x00"}),
        (SP, 'query { voters(unit: "UP\\u0000", first: 1) { totalCount } }', {}),
        (DC, "mutation($s: String!) { enrollBeneficiary(epicNumber: $s, scheme: $s) { epicNumber } }", {"s": "a\x00"}),
    ]
    for user, query, variables in cases:
        response, sent = await harness.send(user, {"query": query, "variables": variables}, ascii_only=True)
        body = check(response, sent)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    for path in ("/export/voters.csv?unit=UP%00", "/export/voters.csv?unit=%00"):
        exported = await harness.client.get(path, headers={"Authorization": f"Bearer {harness.tokens[SP]}"})
        assert exported.status_code == 400, exported.text
        assert exported.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
