"""Persisted operations (issue 18 §2): Apollo's automatic persisted queries, the command line's
registration of a folder, and registered-only for everyone or per API key."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from graphql.language.parser import Parser
from graphql.validation import ValidationContext

from core.persisted import PersistedOperations
from schema.extensions.cost import CostMemo
from tests.serverkit import bearer, client_for, seed
from tests.test_api_keys import SERVICE, _service_account
from tests.test_cli import env_for, run
from tests.writes_support import DISTRICT_PRESIDENT_LKO

QUERY = "query Me { me { id } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(digest: str = DIGEST, query: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


def code_of(body: dict) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_automatic_persisted_queries(database_url: str) -> None:
    await seed(database_url)
    async with client_for(database_url, seeded=False) as node_a, client_for(database_url, seeded=False) as node_b:
        unknown = await node_a.post("/graphql", json=persisted(), headers=bearer())
        assert unknown.status_code == 200
        assert unknown.json() == {
            "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
        }
        wrong = await node_a.post("/graphql", json=persisted("0" * 64, QUERY), headers=bearer())
        assert wrong.status_code == 400 and code_of(wrong.json()) == "BAD_REQUEST"
        malformed = await node_a.post("/graphql", json=persisted("XYZ", QUERY), headers=bearer())
        assert malformed.status_code == 400 and code_of(malformed.json()) == "BAD_REQUEST"

        registered = await node_a.post("/graphql", json=persisted(query=QUERY), headers=bearer())
        assert registered.json() == {"data": {"me": {"id": "u-000001"}}}
        # The hash alone now runs, on this node and on another (the table is shared).
        for node in (node_a, node_b):
            by_hash = await node.post("/graphql", json=persisted(), headers=bearer())
            assert by_hash.json() == {"data": {"me": {"id": "u-000001"}}}
        batch = await node_b.post("/graphql", json=[persisted(), {"query": "{ me { name } }"}], headers=bearer())
        assert batch.json() == [{"data": {"me": {"id": "u-000001"}}}, {"data": {"me": {"name": "Asha"}}}]
        assert (await node_a.post("/graphql", json=persisted())).status_code == 401

        # A text that does not parse is answered as such and not registered.
        broken = "query Broken { me { "
        answer = await node_a.post(
            "/graphql", json=persisted(hashlib.sha256(broken.encode()).hexdigest(), broken), headers=bearer()
        )
        assert code_of(answer.json()) == "GRAPHQL_PARSE_FAILED"
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("select sha256, document, source from persisted_operations")
        assert [tuple(r) for r in rows] == [(DIGEST, QUERY, "apq:u-000001")]
    finally:
        await conn.close()


async def test_registered_only_for_everyone(database_url: str, tmp_path: Path) -> None:
    await seed(database_url)
    folder = tmp_path / "ops"
    folder.mkdir()
    (folder / "me.graphql").write_text(QUERY, encoding="utf-8")
    (folder / "bad.graphql").write_text("query Bad { nope }", encoding="utf-8")
    refused = run(["operations", "register", str(folder)], env_for(database_url), tmp_path)
    assert refused.returncode == 1 and "bad.graphql: Cannot query field 'nope'" in refused.stderr, refused.stderr
    (folder / "bad.graphql").unlink()
    done = run(["operations", "register", str(folder)], env_for(database_url), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{DIGEST}  me.graphql\n"

    async with client_for(database_url, seeded=False, registered_operations_only=True) as client:
        ad_hoc = await client.post("/graphql", json={"query": QUERY}, headers=bearer())
        assert ad_hoc.status_code == 400 and code_of(ad_hoc.json()) == "PERSISTED_QUERY_REQUIRED"
        other = "{ me { name } }"
        new = await client.post(
            "/graphql", json=persisted(hashlib.sha256(other.encode()).hexdigest(), other), headers=bearer()
        )
        assert new.status_code == 400 and code_of(new.json()) == "PERSISTED_QUERY_REQUIRED"
        ok = await client.post("/graphql", json=persisted(), headers=bearer())
        assert ok.json() == {"data": {"me": {"id": "u-000001"}}}
        with_text = await client.post("/graphql", json=persisted(query=QUERY), headers=bearer())
        assert with_text.json() == {"data": {"me": {"id": "u-000001"}}}
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("select array_agg(source) from persisted_operations") == ["cli:me.graphql"]
    finally:
        await conn.close()


async def test_registered_only_per_api_key(database_url: str, tiny_dataset: Path) -> None:
    await _service_account(database_url, tiny_dataset)
    async with client_for(database_url, seeded=False) as client:
        created = await client.post(
            "/auth/api-keys",
            json={"userId": SERVICE, "name": "locked", "registeredOnly": True},
            headers=bearer(DISTRICT_PRESIDENT_LKO),
        )
        key = {"Authorization": f"Bearer {created.json()['key']}"}
        # Someone registers the operation (an ordinary user's APQ); the key may then run it by hash only.
        assert (await client.post("/graphql", json=persisted(query=QUERY), headers=bearer(SERVICE))).status_code == 200
        refused = await client.post("/graphql", json={"query": QUERY}, headers=key)
        assert refused.status_code == 400 and code_of(refused.json()) == "PERSISTED_QUERY_REQUIRED"
        assert (await client.post("/graphql", json=persisted(), headers=key)).json() == {
            "data": {"me": {"id": SERVICE}}
        }
        # The same account's other credentials are not held to it.
        assert (await client.post("/graphql", json={"query": QUERY}, headers=bearer(SERVICE))).status_code == 200
        rotated = await client.post(
            "/auth/api-keys/rotate", json={"prefix": created.json()["prefix"]}, headers=bearer(DISTRICT_PRESIDENT_LKO)
        )
        new_key = {"Authorization": f"Bearer {rotated.json()['key']}"}
        still = await client.post("/graphql", json={"query": QUERY}, headers=new_key)
        assert still.status_code == 400 and code_of(still.json()) == "PERSISTED_QUERY_REQUIRED"


def numbered(i: int, pad: int = 0) -> tuple[str, str]:
    """A distinct operation (and its hash): `me` under an alias of its own, padded with a comment."""
    text = f"query Me{i} {{ me{i}: me {{ id }} }}" + (" #" + "x" * pad if pad else "")
    return text, hashlib.sha256(text.encode()).hexdigest()


async def test_automatic_registrations_are_bounded_per_user_in_all_and_in_size(database_url: str) -> None:
    """APQ_MAX_PER_USER, APQ_MAX_TOTAL, APQ_MAX_DOCUMENT_BYTES: a text beyond them is answered and
    not registered, so a client cannot fill the table every node shares."""
    await seed(database_url)
    limits = {"apq_max_per_user": 3, "apq_max_total": 5, "apq_max_document_bytes": 200}
    async with client_for(database_url, seeded=False, **limits) as client:

        async def register(user: str, text: str, digest: str) -> None:
            answer = await client.post("/graphql", json=persisted(digest, text), headers=bearer(user))
            assert "errors" not in answer.json(), answer.json()  # answered, registered or not

        async def known(digest: str, user: str = "u-000001") -> bool:
            answer = (await client.post("/graphql", json=persisted(digest), headers=bearer(user))).json()
            return "data" in answer

        ops = [numbered(i) for i in range(8)]
        for text, digest in ops[:4]:
            await register("u-000001", text, digest)
        assert [await known(d) for _, d in ops[:4]] == [True, True, True, False]  # 3 per user
        for text, digest in ops[4:7]:
            await register("u-000002", text, digest)
        assert [await known(d, "u-000002") for _, d in ops[4:7]] == [True, True, False]  # 5 in all
        large, large_digest = numbered(99, pad=300)
        await register("u-000002", large, large_digest)
        assert not await known(large_digest)  # over 200 bytes
    conn = await asyncpg.connect(database_url)
    try:
        sources = Counter(await conn.fetchval("select array_agg(source) from persisted_operations"))
        assert sources == {"apq:u-000001": 3, "apq:u-000002": 2}
    finally:
        await conn.close()


async def test_a_persisted_operation_is_parsed_validated_and_priced_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After its first run in a process, a request naming a persisted operation by hash is not
    parsed, validated or priced again, and its text is not looked up in the database: counted at
    graphql-core's parser and validator, the cost walk and the store's lookup (all of them, from
    wherever they are called)."""
    calls: Counter[str] = Counter()

    def counted(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    counted(Parser, "parse_document")
    counted(ValidationContext, "__init__")
    counted(CostMemo, "_compute")
    counted(PersistedOperations, "text")
    # A text no earlier test ran: the process-wide caches of parses, validations and costs miss.
    query = f"query Probe{uuid.uuid4().hex} {{ me {{ id }} }}"
    digest = hashlib.sha256(query.encode()).hexdigest()
    await seed(database_url)
    async with client_for(database_url, seeded=False) as client:
        registered = await client.post("/graphql", json=persisted(digest, query), headers=bearer())
        assert registered.json() == {"data": {"me": {"id": "u-000001"}}}
        assert calls["parse_document"] == 1 and calls["__init__"] == 1 and calls["_compute"] == 1
        calls.clear()
        for _ in range(5):
            by_hash = await client.post("/graphql", json=persisted(digest), headers=bearer())
            assert by_hash.json() == {"data": {"me": {"id": "u-000001"}}}
        assert calls == Counter(), calls
