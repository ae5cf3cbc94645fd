"""References to the state-wide tables, checked with the files' own rules, before anything is
compared with stored rows under a unit (docs/import-scope.md): beneficiaries.csv's scheme codes
and assignments.csv's user ids must be in this upload (schemes.csv, users.csv) or stored.
Schemes and users lie under no unit, so these answers reveal nothing outside a scope."""

from __future__ import annotations

import asyncpg

from transfer.refusal import refused
from transfer.staging import Staged

# (file, column, what, stored table, its key, the file of the upload that also defines it)
REFERENCES = (
    ("beneficiaries.csv", "scheme_code", "scheme", "schemes", "code", "schemes.csv"),
    ("assignments.csv", "user_id", "user", "users", "id", "users.csv"),
)


async def check_references(conn: asyncpg.Connection, staged: dict[str, Staged]) -> None:
    for file, column, what, table, key, defining in REFERENCES:
        st = staged.get(file)
        if st is None:
            continue
        upload = staged.get(defining)
        # Two anti joins: `not (exists ... or exists ...)` was a hashed subplan per row, twice
        # (0.32 s per half a million beneficiaries here, 0.08 s as anti joins).
        not_in_upload = f"and not exists (select from {upload.table} d where d.{key} = s.{column})" if upload else ""
        ord_ = await conn.fetchval(
            f"""select min(s.ord) from {st.table} s
                where not exists (select from {table} x where x.{key} = s.{column}) {not_in_upload}"""
        )
        if ord_ is not None:
            value = await conn.fetchval(f"select {column} from {st.table} where ord = $1", ord_)
            raise refused(file, st.line(ord_), column, f"no {what} {value!r}")
