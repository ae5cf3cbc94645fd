"""The officials' app's files (/app/, web/) from memory: StaticFiles answers each file with two
hops to a worker thread (look-up, then the streamed read), about 10 ms a file under load against
4 for /healthz, and a first load asks for 12 files. The files are small (about 150 KB in all), so
each is read once, kept with a strong ETag of its content, and read again only when its mtime or
size changes (one os.stat per request, on the event loop: microseconds for a local file). Text is
also kept gzipped (compressed once when read) and sent so to browsers that accept it: about a
third of the bytes (53 of 151 KB for the app), what a phone on a slow connection waits for. What is not a
regular file inside the directory (the redirect of /app to /app/, 404s) is StaticFiles'."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


@dataclass(frozen=True, slots=True)
class _File:
    version: tuple[int, int]  # (mtime_ns, size) when read
    body: bytes
    etag: str
    media_type: str
    gzipped: bytes | None  # None: not text, or not smaller compressed

    @property
    def gzip_etag(self) -> str:
        """Another representation, another entity tag (RFC 9110 8.8.3)."""
        return self.etag[:-1] + '-gzip"'


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header admits gzip (`gzip;q=0` refuses it)."""
    for part in accept_encoding.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        if coding.lower() not in ("gzip", "x-gzip"):
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


class WebFiles(StaticFiles):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True)
        self.root = directory.resolve()
        self._files: dict[Path, _File] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        index = path in ("", ".")
        if scope["method"] not in ("GET", "HEAD") or (index and not scope["path"].endswith("/")):
            return await super().get_response(path, scope)
        full = (self.root / ("index.html" if index else path)).resolve()
        try:
            info = os.stat(full)
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode) or not full.is_relative_to(self.root):
            return await super().get_response(path, scope)
        file = self._file(full, (info.st_mtime_ns, info.st_size))
        request = Headers(scope=scope)
        body, etag = file.body, file.etag
        headers = {"vary": "accept-encoding"}
        if file.gzipped is not None and accepts_gzip(request.get("accept-encoding", "")):
            body, etag = file.gzipped, file.gzip_etag
            headers["content-encoding"] = "gzip"
        if etag in request.get("if-none-match", ""):
            return Response(status_code=304, headers={"etag": etag, "vary": "accept-encoding"})
        headers |= {"etag": etag, "content-length": str(len(body))}
        return Response(b"" if scope["method"] == "HEAD" else body, media_type=file.media_type, headers=headers)

    def _file(self, full: Path, version: tuple[int, int]) -> _File:
        known = self._files.get(full)
        if known is not None and known.version == version:
            return known
        body = full.read_bytes()
        media_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
        gzipped = None
        text = media_type.startswith("text/") or media_type == "application/javascript"
        if text:
            media_type += "; charset=utf-8"
        if text or media_type in ("image/svg+xml", "application/json", "application/manifest+json"):
            # mtime=0: the same bytes for the same file on every node, so one ETag per content.
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            gzipped = packed if len(packed) < len(body) else None
        made = _File(version, body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', media_type, gzipped)
        self._files[full] = made
        return made
