"""Is this exception "the database is not there (or not answering in time)"?

Such failures become SERVICE_UNAVAILABLE (HTTP 503) instead of a masked 500: the client may
retry, nothing is wrong with its request. The asyncpg pool opens new connections by itself
when PostgreSQL is back, so there is nothing to reset here.
"""

from __future__ import annotations

import asyncpg

from core.errors import DatabaseUnavailable

_FILESYSTEM = (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError)

UNAVAILABLE_MESSAGE = "The database is not available right now; try again shortly"
TIMEOUT_MESSAGE = "The database did not answer in time; try again or ask for less"


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(
        exc,
        (
            asyncpg.PostgresConnectionError,  # 08xxx, and a connection that died under us
            asyncpg.exceptions.OperatorInterventionError,  # 57xxx: shutdown, cannot connect now, statement timeout
            asyncpg.exceptions.TooManyConnectionsError,
            # During a failover: every host named in DATABASE_URL answers, none is a primary yet
            # (target_session_attrs=read-write), or a write reached a server that is read-only.
            asyncpg.exceptions.TargetServerAttributeNotMatched,
            asyncpg.exceptions.ReadOnlySQLTransactionError,
            TimeoutError,  # connect or pool acquire timeout (asyncio.TimeoutError is TimeoutError)
        ),
    ):
        return True
    if _connection_lost(exc):
        return True
    if isinstance(exc, _FILESYSTEM):
        # A file error names its file; connecting to the Unix socket of a stopped PostgreSQL
        # (the embedded one) raises FileNotFoundError without a file name.
        return isinstance(exc, FileNotFoundError) and exc.filename is None
    return isinstance(exc, OSError)


def _connection_lost(exc: BaseException) -> bool:
    """asyncpg's own errors for a connection PostgreSQL ended under it (a shutdown ends even the
    idle pooled connections with a FATAL message): used after it closed, or its protocol left
    waiting for an answer that never comes."""
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection is closed" in str(exc)
    return type(exc) is asyncpg.exceptions.InternalClientError and str(exc).startswith("cannot switch to state")


def as_unavailable(exc: BaseException) -> DatabaseUnavailable:
    """The client-facing error for an exception that `is_database_unavailable`."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if isinstance(exc, (asyncpg.exceptions.QueryCanceledError, TimeoutError)):
        return DatabaseUnavailable(TIMEOUT_MESSAGE)
    return DatabaseUnavailable(UNAVAILABLE_MESSAGE)
