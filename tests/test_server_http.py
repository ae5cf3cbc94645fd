"""The HTTP surface of service.md over a tiny schema: auth, GraphQL-over-HTTP, errors, audit."""

from __future__ import annotations

import time

import asyncpg
import jwt
import orjson

from tests.serverkit import SECRET, bearer, client_for, token

ME = {"query": "{ me { id name } }"}
GQL_RESPONSE = "application/graphql-response+json"


async def test_health_and_ready(database_url: str) -> None:
    async with client_for(database_url) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_authenticated_query(database_url: str) -> None:
    async with client_for(database_url) as client:
        response = await client.post("/graphql", json=ME, headers=bearer())
        assert response.status_code == 200
        assert response.json() == {"data": {"me": {"id": "u-000001", "name": "Asha"}}}
        assert response.headers["content-type"].startswith("application/json")


def _alg_none(sub: str) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + 60}, key=None, algorithm="none")


async def test_unauthenticated_is_401_with_exact_body(database_url: str) -> None:
    cases = {
        "missing": {},
        "not bearer": {"Authorization": "Basic dTpw"},
        "empty bearer": {"Authorization": "Bearer "},
        "malformed": {"Authorization": "Bearer not-a-jwt"},
        "wrong signature": {"Authorization": f"Bearer {token(secret='another-secret-0123456789-abcdefghij')}"},
        "expired": {"Authorization": f"Bearer {token(ttl_s=-10)}"},
        "alg none": {"Authorization": f"Bearer {_alg_none('u-000001')}"},
        "unknown user": bearer("u-999999"),
    }
    async with client_for(database_url) as client:
        for name, headers in cases.items():
            response = await client.post("/graphql", json=ME, headers=headers)
            assert response.status_code == 401, name
            body = response.json()
            assert list(body) == ["errors"], name
            [error] = body["errors"]
            assert set(error) == {"message", "extensions"}, name
            assert error["extensions"] == {"code": "UNAUTHENTICATED"}, name
            assert isinstance(error["message"], str) and error["message"], name


async def test_revocation_takes_effect_at_once(database_url: str) -> None:
    async with client_for(database_url) as client:
        assert (await client.post("/graphql", json=ME, headers=bearer())).status_code == 200
        conn = await asyncpg.connect(database_url)
        await conn.execute("delete from assignments; delete from users where id = 'u-000001'")
        await conn.close()
        assert (await client.post("/graphql", json=ME, headers=bearer())).status_code == 401


async def test_graphql_over_http_status_codes(database_url: str) -> None:
    async with client_for(database_url) as client:
        for accept, status in ((None, 200), ("application/json", 200), (GQL_RESPONSE, 400)):
            headers = bearer() | ({"Accept": accept} if accept else {})
            invalid = await client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
            assert invalid.status_code == status, accept
            body = invalid.json()
            assert "data" not in body
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            expected_type = GQL_RESPONSE if accept == GQL_RESPONSE else "application/json"
            assert invalid.headers["content-type"].startswith(expected_type)

            syntax = await client.post("/graphql", json={"query": "{ me { id "}, headers=headers)
            assert syntax.status_code == status
            assert syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"

            # Execution errors keep `data`: 200 under both media types.
            partial = await client.post("/graphql", json={"query": "{ me { id } forbidden }"}, headers=headers)
            assert partial.status_code == 200
            assert partial.json()["data"] is None or partial.json()["data"]["me"] == {"id": "u-000001"}


async def test_accept_negotiation(database_url: str) -> None:
    async with client_for(database_url) as client:
        accept = f"{GQL_RESPONSE}, application/json;q=0.9"
        response = await client.post("/graphql", json={"query": "{ nope }"}, headers=bearer() | {"Accept": accept})
        assert response.status_code == 400
        accept = f"{GQL_RESPONSE};q=0.5, application/json"
        response = await client.post("/graphql", json={"query": "{ nope }"}, headers=bearer() | {"Accept": accept})
        assert response.status_code == 200


async def test_errors_keep_codes_and_mask_the_unexpected(database_url: str) -> None:
    async with client_for(database_url) as client:
        response = await client.post("/graphql", json={"query": "{ boom }"}, headers=bearer())
        assert response.status_code == 200
        text = response.text
        [error] = response.json()["errors"]
        assert error["message"] == "Internal server error"
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
        for leak in ("secret_table", "Traceback", "/work/", ".py", "relation"):
            assert leak not in text

        response = await client.post("/graphql", json={"query": "{ forbidden }"}, headers=bearer())
        [error] = response.json()["errors"]
        assert error["message"] == "You may not read that here"
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["path"] == ["forbidden"]


async def test_bad_variables_are_bad_user_input(database_url: str) -> None:
    async with client_for(database_url) as client:
        body = {"query": "query($n: Int!) { items(first: $n) { edges { node { id } } } }", "variables": {"n": "x"}}
        response = await client.post("/graphql", json=body, headers=bearer() | {"Accept": GQL_RESPONSE})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_requests_are_4xx(database_url: str) -> None:
    raw_bodies = {
        "malformed json": (b'{"query": ', "application/json"),
        "empty body": (b"", "application/json"),
        "invalid utf-8": (b'{"query": "{ me { id } }\xff\xfe"}', "application/json"),
        "json string": (b'"{ me { id } }"', "application/json"),
        "json number": (b"42", "application/json"),
        "wrong content type": (b"query=%7Bme%7Bid%7D%7D", "application/x-www-form-urlencoded"),
        "text plain": (b"{ me { id } }", "text/plain"),
        "no query": (b"{}", "application/json"),
        "null query": (b'{"query": null}', "application/json"),
        "query not a string": (b'{"query": 5}', "application/json"),
        "variables not an object": (b'{"query": "{ me { id } }", "variables": [1]}', "application/json"),
        "operationName not a string": (b'{"query": "{ me { id } }", "operationName": 5}', "application/json"),
        "unknown operation": (b'{"query": "query A { me { id } }", "operationName": "B"}', "application/json"),
        "empty batch": (b"[]", "application/json"),
        "batch of non-objects": (b"[1, 2]", "application/json"),
    }
    async with client_for(database_url) as client:
        for name, (content, content_type) in raw_bodies.items():
            response = await client.post("/graphql", content=content, headers=bearer() | {"Content-Type": content_type})
            assert 400 <= response.status_code < 500 or (response.status_code == 200 and "errors" in response.json()), (
                name,
                response.status_code,
                response.text,
            )
            assert response.status_code != 500, name
            assert "Traceback" not in response.text


async def test_batches_are_bounded(database_url: str) -> None:
    async with client_for(database_url, max_batch=3) as client:
        ok = await client.post(
            "/graphql", json=[ME, {"query": "{ items { edges { node { id } } } }"}], headers=bearer()
        )
        assert ok.status_code == 200
        assert [list(r["data"]) for r in ok.json()] == [["me"], ["items"]]
        refused = await client.post("/graphql", json=[ME] * 4, headers=bearer())
        assert refused.status_code == 400
        assert "at most 3" in refused.json()["errors"][0]["message"]


async def test_graphiql_page_and_get_queries(database_url: str) -> None:
    async with client_for(database_url) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        query = await client.get("/graphql", params={"query": "{ me { id } }"}, headers=bearer())
        assert query.status_code == 200 and query.json()["data"]["me"]["id"] == "u-000001"
        assert (await client.get("/graphql", params={"query": "{ me { id } }"})).status_code == 401
        mutation = await client.get("/graphql", params={"query": "mutation { ping }"}, headers=bearer())
        assert 400 <= mutation.status_code < 500
        assert (await client.put("/graphql", json=ME, headers=bearer())).status_code == 405
    async with client_for(database_url, seeded=False, graphiql=False) as client:
        assert (await client.get("/graphql", headers={"Accept": "text/html"})).status_code == 404


async def test_security_headers(database_url: str) -> None:
    async with client_for(database_url) as client:
        for response in (
            await client.post("/graphql", json=ME, headers=bearer()),
            await client.post("/graphql", json=ME),
            await client.get("/graphql", headers={"Accept": "text/html"}),
            await client.get("/healthz"),
        ):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert "https://unpkg.com" in page.headers["content-security-policy"]
        api = await client.post("/graphql", json=ME, headers=bearer())
        assert api.headers["content-security-policy"].startswith("default-src 'none'")
        assert api.headers["cache-control"] == "no-store"


async def test_cors_allow_list(database_url: str) -> None:
    async with client_for(database_url, cors_origins="https://app.example.org") as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        allowed = await client.options("/graphql", headers={"Origin": "https://app.example.org"} | preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.org"
        denied = await client.options("/graphql", headers={"Origin": "https://evil.example.com"} | preflight)
        assert denied.status_code == 400
        assert "access-control-allow-origin" not in denied.headers

        simple = await client.post("/graphql", json=ME, headers=bearer() | {"Origin": "https://app.example.org"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example.org"
        other = await client.post("/graphql", json=ME, headers=bearer() | {"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


async def test_body_limit_413(database_url: str) -> None:
    async with client_for(database_url) as client:
        big = b'{"query": "{ me { id } }", "x": "' + b"a" * 1_048_576 + b'"}'
        response = await client.post("/graphql", content=big, headers=bearer() | {"Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks():  # no Content-Length: counted as it streams
            yield b'{"query": "{ me { id } }", "x": "'
            for _ in range(20):
                yield b"a" * 65_536
            yield b'"}'

        streamed = await client.post(
            "/graphql", content=chunks(), headers=bearer() | {"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413

        # POST /import has a limit of its own (whole CSV files): 2 MiB reach the endpoint.
        upload = await client.post("/import", content=b"x" * 2_097_152, headers=bearer() | {"Content-Type": "text/csv"})
        assert upload.status_code == 400, upload.text

        exactly = b'{"query": "{ me { id } }", "x": "' + b"a" * (1_048_576 - 35) + b'"}'
        assert len(exactly) == 1_048_576
        ok = await client.post("/graphql", content=exactly, headers=bearer() | {"Content-Type": "application/json"})
        assert ok.status_code == 200, ok.text


async def test_rate_limit_429_with_retry_after(database_url: str) -> None:
    async with client_for(database_url, rate_limit_per_s=0.5, rate_limit_burst=2) as client:
        statuses = [(await client.post("/graphql", json=ME, headers=bearer())).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = await client.post("/graphql", json=ME, headers=bearer())
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # Another user has a bucket of their own; health checks are never limited.
        assert (await client.post("/graphql", json=ME, headers=bearer("u-000002"))).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_reads_are_audited_once_per_request_and_action(database_url: str) -> None:
    async with client_for(database_url) as client:
        query = {"query": '{ a: readContacts(unit: "UP", voters: 3) b: readContacts(unit: "UP", voters: 5) }'}
        response = await client.post("/graphql", json=query, headers=bearer())
        assert response.status_code == 200, response.text
        await client.post("/graphql", json=ME, headers=bearer())  # reads nothing in clear: no entry
    conn = await asyncpg.connect(database_url)
    rows = await conn.fetch("select user_id, action, unit_id, unit_code, records from audit_log")
    await conn.close()
    assert [dict(r) for r in rows] == [
        {"user_id": "u-000001", "action": "voter.read_contact", "unit_id": 1, "unit_code": "UP", "records": 5}
    ]


async def test_introspection_switch_and_suggestions(database_url: str) -> None:
    introspection = {"query": "{ __schema { queryType { name } } }"}
    async with client_for(database_url) as client:
        assert (await client.post("/graphql", json=introspection)).status_code == 401
        allowed = await client.post("/graphql", json=introspection, headers=bearer())
        assert allowed.json()["data"]["__schema"]["queryType"]["name"] == "Query"
        hint = await client.post("/graphql", json={"query": "{ mee { id } }"}, headers=bearer())
        assert "Did you mean" in hint.json()["errors"][0]["message"]
    async with client_for(database_url, seeded=False, introspection=False) as client:
        refused = await client.post("/graphql", json=introspection, headers=bearer())
        assert "data" not in refused.json()
        assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        hint = await client.post("/graphql", json={"query": "{ mee { id } }"}, headers=bearer())
        assert "Did you mean" not in hint.json()["errors"][0]["message"]


async def test_responses_are_orjson(database_url: str) -> None:
    async with client_for(database_url) as client:
        response = await client.post("/graphql", json=ME, headers=bearer())
        assert response.content == orjson.dumps({"data": {"me": {"id": "u-000001", "name": "Asha"}}})


def test_secret_is_required(database_url: str) -> None:
    import pytest

    from core.settings import Settings, SettingsError
    from server import create_app

    with pytest.raises(SettingsError):
        create_app(Settings(database_url=database_url, jwt_secret=None))
    assert SECRET  # the kit's secret is long enough to be accepted
