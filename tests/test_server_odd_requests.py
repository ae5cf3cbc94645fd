"""Odd requests answer with a status of their own and the JSON error shape of service.md, never
500 or plain text: several operations without operationName, a mutation over GET, unknown
paths and methods, tokens whose `sub` is no user id, and multipart bodies /import refuses."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt

from tests.serverkit import SECRET, bearer, client_for

TWO_OPERATIONS = "query A { me { id } } query B { me { name } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def shape(r: httpx.Response) -> tuple[int, str, str]:
    """(status, content type, the one error's code), checking the error shape on the way."""
    body = r.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert isinstance(error["message"], str) and error["message"]
    return r.status_code, r.headers["content-type"].split(";")[0], error["extensions"]["code"]


async def test_several_operations_need_an_operation_name(database_url: str) -> None:
    async with client_for(database_url) as client:
        r = await client.post("/graphql", json={"query": TWO_OPERATIONS}, headers=bearer())
        assert shape(r) == (200, "application/json", "BAD_REQUEST")
        r = await client.post(
            "/graphql", json={"query": TWO_OPERATIONS}, headers={**bearer(), "accept": GRAPHQL_RESPONSE}
        )
        assert shape(r) == (400, GRAPHQL_RESPONSE, "BAD_REQUEST")
        r = await client.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "B"}, headers=bearer())
        assert (r.status_code, r.json()) == (200, {"data": {"me": {"name": "Asha"}}})
        r = await client.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "C"}, headers=bearer())
        assert shape(r) == (400, "application/json", "BAD_REQUEST")


async def test_a_mutation_over_get_is_405(database_url: str) -> None:
    async with client_for(database_url) as client:
        r = await client.get("/graphql", params={"query": "mutation { ping }"}, headers=bearer())
        assert shape(r) == (405, "application/json", "METHOD_NOT_ALLOWED")
        assert r.headers["allow"] == "POST"
        both = "query A { me { id } } mutation B { ping }"
        r = await client.get("/graphql", params={"query": both, "operationName": "B"}, headers=bearer())
        assert shape(r) == (405, "application/json", "METHOD_NOT_ALLOWED")
        r = await client.get("/graphql", params={"query": both, "operationName": "A"}, headers=bearer())
        assert (r.status_code, r.json()) == (200, {"data": {"me": {"id": "u-000001"}}})
        r = await client.post("/graphql", json={"query": "mutation { ping }"}, headers=bearer())
        assert (r.status_code, r.json()) == (200, {"data": {"ping": True}})


async def test_unknown_paths_and_methods_answer_json(database_url: str) -> None:
    async with client_for(database_url) as client:
        cases: list[tuple[str, str, tuple[int, str, str]]] = [
            ("GET", "/nowhere", (404, "application/json", "NOT_FOUND")),
            ("GET", "/app/no-such-file.js", (404, "application/json", "NOT_FOUND")),
            ("DELETE", "/graphql", (405, "application/json", "METHOD_NOT_ALLOWED")),
            ("POST", "/healthz", (405, "application/json", "METHOD_NOT_ALLOWED")),
            ("GET", "/import", (405, "application/json", "METHOD_NOT_ALLOWED")),
            ("PUT", "/export/voters.csv", (405, "application/json", "METHOD_NOT_ALLOWED")),
        ]
        for method, path, expected in cases:
            r = await client.request(method, path, headers=bearer())
            assert shape(r) == expected, (method, path)
            if r.status_code == 405:
                assert "POST" in r.headers["allow"] or "GET" in r.headers["allow"]


def _signed(claims: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": "Bearer " + jwt.encode({"exp": int(time.time()) + 60, **claims}, SECRET, "HS256")}


async def test_a_signed_token_whose_sub_is_no_user_id_is_401(database_url: str) -> None:
    async with client_for(database_url) as client:
        for claims in ({"sub": "u-000001\x00"}, {"sub": "\x00"}, {"sub": 5}, {"sub": ["u-000001"]}, {"sub": None}, {}):
            for path, method in (("/graphql", "POST"), ("/export/voters.csv?unit=UP", "GET"), ("/import", "POST")):
                r = await client.request(method, path, json={"query": "{ me { id } }"}, headers=_signed(claims))
                assert shape(r) == (401, "application/json", "UNAUTHENTICATED"), (claims, path)


async def test_import_refuses_too_many_parts_and_oversized_parts(database_url: str) -> None:
    async with client_for(database_url) as client:
        many_files = {f"f{i}": (f"f{i}.csv", b"code\n", "text/csv") for i in range(13)}
        r = await client.post("/import", files=many_files, headers=bearer())
        assert shape(r) == (400, "application/json", "BAD_REQUEST")
        many_fields = {f"v{i}": (None, b"x") for i in range(13)}
        r = await client.post("/import", files=many_fields, headers=bearer())
        assert shape(r) == (400, "application/json", "BAD_REQUEST")
        oversized = {"voters.csv": (None, b"x" * ((1 << 20) + 1))}  # a field part over starlette's 1 MiB
        r = await client.post("/import", files=oversized, headers=bearer())
        assert shape(r) == (413, "application/json", "PAYLOAD_TOO_LARGE")
        broken = {**bearer(), "content-type": "multipart/form-data"}  # no boundary
        r = await client.post("/import", content=b"--x\r\n", headers=broken)
        assert shape(r) == (400, "application/json", "BAD_REQUEST")
