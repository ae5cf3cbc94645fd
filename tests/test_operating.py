"""Operating it (issue 18 §4): GET /schema, /metrics (who may read it, what it counts), X-Request-ID,
JSON log lines, and OpenTelemetry traces only when an OTLP endpoint is configured."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.logs import JsonFormatter, RequestIdFilter
from tests.serverkit import bearer, client_for, free_port, seed
from tests.test_cli import command, env_for, run

ROOT = Path(__file__).resolve().parent.parent
METRICS_TOKEN = "scrape-secret-0123456789"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _requests(samples: dict, **labels: str) -> float:
    key = ("boothgraph_requests_total", tuple(sorted(labels.items())))
    return samples.get(key, 0.0)


async def test_schema_is_served_to_signed_in_users_only(database_url: str) -> None:
    snapshot = (ROOT / "tests" / "snapshots" / "schema.graphql").read_text(encoding="utf-8")
    async with client_for(database_url) as client:
        r = await client.get("/schema", headers=bearer())
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert r.text == snapshot
        assert (await client.get("/schema.graphql", headers=bearer())).text == snapshot
        anonymous = await client.get("/schema")
        assert anonymous.status_code == 401
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with client_for(database_url, seeded=False, introspection=False) as client:
        r = await client.get("/schema", headers=bearer())
        assert r.status_code == 404 and r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_metrics_are_off_without_a_token(database_url: str) -> None:
    async with client_for(database_url) as client:
        for headers in ({}, bearer()):
            r = await client.get("/metrics", headers=headers)
            assert r.status_code == 404 and r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_metrics_need_the_scrape_token_and_count_requests(database_url: str) -> None:
    async with client_for(database_url, metrics_token=METRICS_TOKEN) as client:
        scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        # Not anonymous users, not users' own tokens, not a wrong secret.
        for headers in ({}, bearer(), {"Authorization": "Bearer scrape-secret-wrong"}):
            r = await client.get("/metrics", headers=headers)
            assert r.status_code == 401, headers
            assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert r.headers["www-authenticate"] == "Bearer"

        before = _samples((await client.get("/metrics", headers=scrape)).text)
        for _ in range(3):
            ok = await client.post("/graphql", json={"query": "query Me { me { id } }"}, headers=bearer())
            assert ok.json() == {"data": {"me": {"id": "u-000001"}}}
        bad = await client.post("/graphql", json={"query": "query Broken { nope }"}, headers=bearer())
        assert bad.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        forbidden = await client.post("/graphql", json={"query": "{ forbidden }"}, headers=bearer())
        assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert (await client.post("/graphql", json={"query": "{ me { id } }"})).status_code == 401
        odd = "x" * 100  # not kept as a label: too long for an operation name
        await client.post("/graphql", json={"query": f"query {odd} {{ me {{ id }} }}"}, headers=bearer())

        r = await client.get("/metrics", headers=scrape)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
        after = _samples(r.text)

    def grew(**labels: str) -> float:
        return _requests(after, **labels) - _requests(before, **labels)

    assert grew(path="/graphql", operation="Me", status="200", code="OK") == 3
    assert grew(path="/graphql", operation="Broken", status="200", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert grew(path="/graphql", operation="-", status="200", code="FORBIDDEN") == 1
    assert grew(path="/graphql", operation="-", status="401", code="UNAUTHENTICATED") == 1
    assert grew(path="/graphql", operation="other", status="200", code="OK") == 1
    assert _requests(after, path="/metrics", operation="-", status="401", code="UNAUTHENTICATED") >= 3
    latency = ("boothgraph_request_duration_seconds_count", (("operation", "Me"), ("path", "/graphql")))
    assert after[latency] - before.get(latency, 0.0) == 3
    pool = {labels: v for (name, labels), v in after.items() if name == "boothgraph_pool_connections"}
    assert pool[(("state", "max"),)] == 4  # the test settings' POOL_MAX_SIZE
    assert 1 <= pool[(("state", "size"),)] <= 4
    assert ("boothgraph_imports_running", ()) in after


async def test_request_ids_are_taken_or_given(database_url: str) -> None:
    async with client_for(database_url) as client:
        own = await client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={**bearer(), "X-Request-ID": "app-42.retry:1"}
        )
        assert own.headers["x-request-id"] == "app-42.retry:1"
        for unusable in ("has space", "x" * 129, ""):
            r = await client.get("/healthz", headers={"X-Request-ID": unusable})
            given = r.headers["x-request-id"]
            assert given != unusable and len(given) == 32 and int(given, 16) >= 0
        refused = await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"X-Request-ID": "abc"})
        assert refused.status_code == 401 and refused.headers["x-request-id"] == "abc"
        first = (await client.get("/healthz")).headers["x-request-id"]
        assert first != (await client.get("/healthz")).headers["x-request-id"]


async def test_json_log_lines_carry_the_request_id(database_url: str) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    access = logging.getLogger("boothgraph.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        async with client_for(database_url) as client:
            await client.post("/graphql", json={"query": "{ me { id } }"}, headers={**bearer(), "X-Request-ID": "r-1"})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    entry = next(e for e in lines if e.get("request_id") == "r-1")
    assert entry["logger"] == "boothgraph.access" and entry["level"] == "INFO"
    assert (entry["method"], entry["path"], entry["status"], entry["user"]) == ("POST", "/graphql", 200, "u-000001")
    assert entry["bytes"] > 0 and entry["duration_ms"] >= 0
    assert entry["time"].endswith("+00:00")
    assert "query" not in json.dumps(entry)  # never the body


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((self.path, self.headers["content-type"], body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


async def test_traces_go_to_the_otlp_endpoint_only_when_one_is_set(database_url: str, tmp_path: Path) -> None:
    await seed(database_url)
    token = run(["token", "u-000001"], env_for(database_url), tmp_path).stdout.strip()
    for endpoint_set in (False, True):
        collector = _collector()
        url, received = next(collector)
        port = free_port()
        extra = {"OTEL_EXPORTER_OTLP_ENDPOINT": url} if endpoint_set else {}
        process = subprocess.Popen(
            [*command(), "serve", "--port", str(port)],
            env=env_for(database_url, **extra),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            lines = [""]
            while "serving http" not in lines[-1]:
                lines.append(process.stderr.readline())
                assert lines[-1] or process.poll() is None, "serve ended: " + "".join(lines)
            r = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ me { id } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.json() == {"data": {"me": {"id": "u-000001"}}}
        finally:
            process.terminate()  # the lifespan's end flushes the batched spans
            process.wait(timeout=30)
            collector.close()
        if not endpoint_set:
            assert received == []
            continue
        assert received, "no spans reached the collector"
        paths = {path for path, _, _ in received}
        assert paths == {"/v1/traces"}
        body = b"".join(b for _, _, b in received)
        assert b"POST /graphql" in body  # the request's span (Starlette instrumentation)
        assert b"postgresql" in body  # its SQL statements' spans (asyncpg instrumentation: db.system)
        assert b"boothgraph" in body  # service.name
