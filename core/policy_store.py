"""The access policy published through the database (migration 0007, `published_policy`).

`boothgraph policy publish` stores the model and rules of a policy directory as one row with a
new version; `withdraw` deletes it (every server then goes back to its own POLICY_DIR). Each
server reads the version with the viewer on every request (core/viewer.py) and, when it differs
from the one it runs, fetches the row here and swaps it in (routes/state.py): so one edit counts on every
node from its next request, with no extra round trip on the requests in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class PublishedPolicy:
    version: int
    model: str
    rules: str


async def fetch_published(conn: asyncpg.Connection) -> PublishedPolicy | None:
    row = await conn.fetchrow("select version, model, rules from published_policy where id = 1")
    return None if row is None else PublishedPolicy(row["version"], row["model"], row["rules"])


async def publish(conn: asyncpg.Connection, *, model: str, rules: str, published_by: str) -> int:
    """Store a policy as the next version (one statement, so two publishers never share one)."""
    return int(
        await conn.fetchval(
            """insert into published_policy (id, version, model, rules, published_by)
               values (1, 1, $1, $2, $3)
               on conflict (id) do update set version = published_policy.version + 1, model = excluded.model,
                   rules = excluded.rules, published_at = now(), published_by = excluded.published_by
               returning version""",
            model,
            rules,
            published_by,
        )
    )


async def withdraw(conn: asyncpg.Connection) -> bool:
    return await conn.execute("delete from published_policy") != "DELETE 0"
