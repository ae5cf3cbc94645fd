"""Run a multi-statement SQL script inside an Alembic revision.

asyncpg prepares every statement it is given with parameters, and a prepared statement holds
one command; a script with functions and triggers is sent whole through asyncpg's simple
query protocol instead, on the revision's own connection and transaction.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.util.concurrency import await_only


def run_script(sql: str) -> None:
    driver_connection = op.get_bind().connection.driver_connection
    await_only(driver_connection.execute(sql))
