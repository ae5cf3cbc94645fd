"""Headers read from an ASGI scope and written to a response's start message as the raw byte
pairs they are: starlette's `Headers` / `MutableHeaders` build a view object and lower-case every
name each time, ~5 us a call, and the per-request middleware makes several calls on every request
(bench/README.md, "Per-request costs")."""

from __future__ import annotations

from starlette.types import Message, Scope


def request_header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case, as ASGI servers give names), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _headers(message: Message) -> list[tuple[bytes, bytes]]:
    headers = message.get("headers")
    if not isinstance(headers, list):  # absent, or a tuple from some other app
        headers = message["headers"] = list(headers or ())
    return headers


def append_header(message: Message, name: bytes, value: str) -> None:
    _headers(message).append((name, value.encode("latin-1")))


def set_header(message: Message, name: bytes, value: str) -> None:
    """Header `name` (lower case) set to `value`, replacing any the inner app wrote."""
    headers = _headers(message)
    if any(key == name for key, _ in headers):
        headers[:] = [(key, v) for key, v in headers if key != name]
    headers.append((name, value.encode("latin-1")))
