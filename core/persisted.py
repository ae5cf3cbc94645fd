"""Persisted operations (issue 18 §2): documents registered ahead (`boothgraph operations register
DIR`) or by Apollo's automatic persisted queries (`extensions.persistedQuery.sha256Hash`), kept in
`persisted_operations` (shared by every node) and remembered per process.

A request naming a hash runs the registered text; the text then meets the guard's caches of
parses, validations and costs (schema/extensions/guard.py), so a persisted operation is parsed,
validated and priced once per process, and its request carries 64 hex digits instead of the
document. APQ: a hash alone that is not registered answers PERSISTED_QUERY_NOT_FOUND (HTTP 200,
Apollo's signal to send the text with the hash); text with a hash registers it after checking
that the hash is the text's SHA-256 and that the text parses.

Registered-only (REGISTERED_OPERATIONS_ONLY=true for everyone, or an API key created with
`registeredOnly`): text without a registered hash is refused (PERSISTED_QUERY_REQUIRED, 400), and
clients cannot register new operations; only the command line can.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.errors import BoothgraphError

log = logging.getLogger("boothgraph.persisted")

VERSION = 1
MAX_REMEMBERED = 10_000
_HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(BoothgraphError, status=400):
    """A persisted-operation request that cannot run (rendered by middleware/errors.py)."""


class PersistedQueryNotFound(PersistedQueryError, code="PERSISTED_QUERY_NOT_FOUND", status=200):
    """Apollo clients read it from a GraphQL answer (HTTP 200), then send the text."""


class PersistedQueryRequired(PersistedQueryError, code="PERSISTED_QUERY_REQUIRED"):
    """Registered operations only, and this one is not (or is text)."""


class PersistedQueryInvalid(PersistedQueryError, code="BAD_REQUEST"):
    """A malformed persistedQuery extension, or a hash that is not the text's."""


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def requested_hash(extensions: Any) -> str | None:
    """The sha256Hash of `extensions.persistedQuery`, checked; None when there is none."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version", VERSION) != VERSION:
        raise PersistedQueryInvalid("extensions.persistedQuery must be {version: 1, sha256Hash}")
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise PersistedQueryInvalid("extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits")
    return value


@dataclass(frozen=True, slots=True)
class ApqLimits:
    """How much automatic registration a client may make (APQ_MAX_* settings)."""

    per_user: int
    total: int
    document_bytes: int


class PersistedOperations:
    """The registered documents: the database's, remembered per process (they never change)."""

    def __init__(self, *, maxsize: int = MAX_REMEMBERED) -> None:
        self.maxsize = maxsize
        self._known: OrderedDict[str, str] = OrderedDict()

    def _remember(self, digest: str, text: str) -> None:
        self._known[digest] = text
        self._known.move_to_end(digest)
        if len(self._known) > self.maxsize:
            self._known.popitem(last=False)

    def known(self, digest: str) -> str | None:
        """The text of a hash this process has seen, without asking the database."""
        return self._known.get(digest)

    async def text(self, conn: asyncpg.Connection | asyncpg.Pool, digest: str) -> str | None:
        found = self._known.get(digest)
        if found is None:
            found = await conn.fetchval("select document from persisted_operations where sha256 = $1", digest)
            if found is not None:
                self._remember(digest, found)
        return found

    async def register_automatic(
        self, conn: asyncpg.Connection | asyncpg.Pool, digest: str, text: str, user_id: str, limits: ApqLimits
    ) -> bool:
        """An APQ registration by `user_id`, within `limits`; False (nothing stored) beyond them.
        The counts are read in the INSERT itself: concurrent registrations of one user may pass
        the bound by as many as run at once, never more."""
        if len(text.encode()) > limits.document_bytes:
            return False
        source = f"apq:{user_id}"
        stored = await conn.fetchval(
            """with added as (
                   insert into persisted_operations (sha256, document, source)
                   select $1, $2, $3
                   where (select count(*) from persisted_operations where source = $3) < $4
                     and (select count(*) from persisted_operations where source like 'apq:%') < $5
                   on conflict (sha256) do nothing
                   returning 1)
               select count(*) from added""",
            digest,
            text,
            source,
            limits.per_user,
            limits.total,
        )
        if stored:
            self._remember(digest, text)
        return bool(stored)

    async def register(self, conn: asyncpg.Connection | asyncpg.Pool, digest: str, text: str, source: str) -> None:
        await conn.execute(
            """insert into persisted_operations (sha256, document, source) values ($1, $2, $3)
               on conflict (sha256) do nothing""",
            digest,
            text,
            source,
        )
        self._remember(digest, text)


def resolve_known(items: list[Any], store: PersistedOperations, *, registered_only: bool) -> bool:
    """The request path's fast case: every operation that names a hash names one this process
    already knows, without text, so each text is filled in with no database round trip (the
    database is asked only for a hash seen first, or for APQ's text + hash). True when that covered
    the request; False changes nothing, and `resolve` does the whole work."""
    texts: list[str | None] = []
    for item in items:
        digest = requested_hash(item.extensions)
        if digest is None:
            if registered_only and item.query is not None:
                return False  # refused by resolve
            texts.append(None)
            continue
        text = store.known(digest)
        if text is None or item.query is not None:
            return False
        texts.append(text)
    for item, text in zip(items, texts, strict=True):
        if text is not None:
            item.query = text
    return True


async def resolve(
    items: list[Any],
    *,
    store: PersistedOperations,
    conn: asyncpg.Connection,
    user_id: str,
    registered_only: bool,
    parses: Any,
    limits: ApqLimits,
) -> None:
    """Fill in the text of each operation of a request that names a persisted one (strawberry's
    GraphQLRequestData, changed in place), registering APQ texts when allowed. `parses(text)` says
    whether a text parses (the guard's cached parse): only those are registered."""
    for item in items:
        digest = requested_hash(item.extensions)
        if digest is None:
            if registered_only and item.query is not None:
                raise PersistedQueryRequired(
                    "Only registered operations run here: send extensions.persistedQuery.sha256Hash without the text"
                )
            continue
        if item.query is None:
            text = await store.text(conn, digest)
            if text is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")
            item.query = text
            continue
        if not isinstance(item.query, str) or sha256_of(item.query) != digest:
            raise PersistedQueryInvalid("provided sha does not match query")
        if await store.text(conn, digest) is None:
            if registered_only:
                raise PersistedQueryRequired("Only registered operations run here; this one is not registered")
            if parses(item.query) and not await store.register_automatic(conn, digest, item.query, user_id, limits):
                # Answered all the same; unregistered, the client keeps sending the text.
                log.info("persisted: %s's operation %s not registered (APQ_MAX_* reached)", user_id, digest[:12])
