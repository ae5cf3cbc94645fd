"""The app's files from memory (routes/web_files.py): the same answers as StaticFiles (index at
/app/, redirect of /app, 404 outside or missing), a strong ETag of the content with 304 on
If-None-Match, HEAD without a body, and a file changed on disk served anew."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from routes.web_files import WebFiles


def client_over(directory: Path) -> httpx.AsyncClient:
    app = Starlette(routes=[Mount("/app", WebFiles(directory), name="web")])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_files_index_etag_head_and_a_changed_file(tmp_path: Path) -> None:
    web = tmp_path / "web"
    (web / "js").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>x</title>")
    script = web / "js" / "main.js"
    script.write_text("export const a = 1;\n")
    (tmp_path / "secret.txt").write_text("not served")
    async with client_over(web) as client:
        index = await client.get("/app/")
        assert index.status_code == 200 and index.text.startswith("<!doctype html>")
        assert index.headers["content-type"] == "text/html; charset=utf-8"
        assert (await client.get("/app", follow_redirects=False)).status_code in (307, 308)
        first = await client.get("/app/js/main.js")
        assert first.status_code == 200 and first.text == "export const a = 1;\n"
        assert first.headers["content-type"] == "text/javascript; charset=utf-8"
        etag = first.headers["etag"]
        assert etag.startswith('"') and len(etag) == 34
        again = await client.get("/app/js/main.js", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        head = await client.head("/app/js/main.js")
        assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "20"
        assert (await client.get("/app/js/nope.js")).status_code == 404
        assert (await client.get("/app/js/%2e%2e/%2e%2e/secret.txt")).status_code == 404
        assert (await client.post("/app/js/main.js")).status_code == 405
        script.write_text("export const a = 22;\n")
        os.utime(script, ns=(1, 1))  # another mtime even within the clock's resolution
        changed = await client.get("/app/js/main.js", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.text == "export const a = 22;\n"
        assert changed.headers["etag"] != etag


async def test_text_goes_gzipped_to_those_that_accept_it(tmp_path: Path) -> None:
    web = tmp_path / "web"
    web.mkdir()
    text = "".join(f'  "message.{i}": "मतदाता सूची {i}",\n' for i in range(200))  # 9 KB, repetitive
    (web / "hi.js").write_text(text, encoding="utf-8")
    async with client_over(web) as client:
        plain = await client.get("/app/hi.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.text == text
        assert plain.headers["vary"] == "accept-encoding"
        packed = await client.get("/app/hi.js", headers={"Accept-Encoding": "br, gzip;q=0.8"})
        assert packed.headers["content-encoding"] == "gzip" and packed.text == text  # httpx decodes it
        assert int(packed.headers["content-length"]) * 4 < len(text.encode())
        assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
        refused = await client.get("/app/hi.js", headers={"Accept-Encoding": "gzip;q=0"})
        assert "content-encoding" not in refused.headers
        again = await client.get(
            "/app/hi.js", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]}
        )
        assert again.status_code == 304 and again.headers["etag"] == packed.headers["etag"]
        # The identity entity's tag does not validate the gzipped one, nor the other way round.
        stale = {"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]}
        other = await client.get("/app/hi.js", headers=stale)
        assert other.status_code == 200
