"""Opaque global ids, tamper-proof keyset cursors and `first` validation (the Page a list resolver
returns: resolvers/page.py).

Global ids are base64 of "Type:pk" (Relay style). They are not secret: whoever holds one still
gets the object only through the scope, so a guessed or replayed id of something out of scope
resolves to null exactly like an absent one. A malformed id also resolves to null (never an
error), so ids never tell "exists elsewhere" from "does not exist".

Cursors carry the keyset values of the last row and an HMAC over them, over the kind of list
(e.g. "voters:SERIAL") and over a binding of the query (viewer id, unit, filter). A cursor that
was altered, or that is replayed under another list, order, filter or viewer, is refused with
BAD_USER_INPUT. The key is derived from the JWT secret (settings.jwt_secret, or the one the
embedded setup keeps under the data directory) so every worker process accepts every other's
cursors; without any, a random per-process key. Whatever a cursor says, the
scope condition is applied to the page anyway: a cursor only says where to start.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import BadUserInput
from core.settings import Settings

MAX_FIRST = 500
MAX_CURSOR_CHARS = 1024
NODE_TYPES = frozenset({"Unit", "Voter", "Campaign", "CallAssignment", "CallLog", "AuditEntry", "Assignment"})
_PG_BIGINT_MAX = 2**63 - 1

_PROCESS_KEY = secrets.token_bytes(32)


# ----------------------------------------------------------------- global ids ---
def to_global_id(type_name: str, pk: int | str) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode("ascii")


def from_global_id(global_id: str, *expected: str) -> tuple[str, int] | None:
    """(type, pk) of a well-formed id of one of our types (of `expected` when given); None otherwise."""
    if not isinstance(global_id, str) or not 4 <= len(global_id) <= 200:
        return None
    try:
        text = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError):
        return None
    type_name, sep, pk_text = text.partition(":")
    if not sep or type_name not in NODE_TYPES or (expected and type_name not in expected):
        return None
    if not pk_text.isascii() or not pk_text.isdigit() or len(pk_text) > 19:
        return None
    pk = int(pk_text)
    if pk > _PG_BIGINT_MAX:
        return None
    return type_name, pk


# -------------------------------------------------------------------- cursors ---
@functools.lru_cache(maxsize=16)
def _derive(secret: str | None, keyfile: str | None) -> bytes:
    if not secret and keyfile:
        try:
            secret = Path(keyfile).read_text().strip()
        except OSError:
            secret = None
    if secret:
        return hashlib.sha256(b"boothgraph/cursor/v1\0" + secret.encode()).digest()
    return _PROCESS_KEY


def _key(settings: Settings | None) -> bytes:
    """From JWT_SECRET; on the embedded database without one, from the secret `serve` keeps under
    the data directory (Settings.secret_for_serving), so every worker process signs alike; else
    a per-process key."""
    if settings is None:
        return _PROCESS_KEY
    keyfile = None
    if not settings.jwt_secret and settings.embedded:
        keyfile = str((settings.data_dir / "jwt_secret").resolve())
    return _derive(settings.jwt_secret, keyfile)


def binding(*parts: Any) -> str:
    """A short digest of what a cursor belongs to (viewer, list owner, filter, ...)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, kind: str, bind: str, payload: bytes) -> bytes:
    return hmac.digest(key, kind.encode() + b"\0" + bind.encode() + b"\0" + payload, "sha256")[:18]


class CursorCodec:
    """Cursors of one list: `kind` names the list and its order, `bind` the query it belongs to."""

    __slots__ = ("key", "kind", "bind")

    def __init__(self, settings: Settings | None, kind: str, bind: str) -> None:
        self.key = _key(settings)
        self.kind = kind
        self.bind = bind

    def encode(self, values: Sequence[Any]) -> str:
        payload = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
        return _b64(payload) + "." + _b64(_mac(self.key, self.kind, self.bind, payload))

    def decode(self, cursor: str | None, types: Sequence[type]) -> list[Any] | None:
        """The keyset values of `cursor` (None for no cursor); BAD_USER_INPUT when it is not a
        cursor this list issued for this query."""
        if cursor is None:
            return None
        bad = BadUserInput("The cursor is not valid for this query")
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS or cursor.count(".") != 1:
            raise bad
        body, _, sig = cursor.partition(".")
        try:
            payload, mac = _unb64(body), _unb64(sig)
        except (ValueError, binascii.Error):
            raise bad from None
        if not hmac.compare_digest(mac, _mac(self.key, self.kind, self.bind, payload)):
            raise bad
        try:
            values = json.loads(payload)
        except ValueError:
            raise bad from None
        if not isinstance(values, list) or len(values) != len(types):
            raise bad
        for value, typ in zip(values, types, strict=True):
            if type(value) is not typ:
                raise bad
        return values


def validate_first(first: int | None, default: int) -> int:
    """`first` of a connection: 0..500 (null means the default), else BAD_USER_INPUT."""
    if first is None:
        return default
    if first < 0 or first > MAX_FIRST:
        raise BadUserInput(f"first must be between 0 and {MAX_FIRST}", argument="first")
    return first


def like_prefix(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching values that start with `text`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
