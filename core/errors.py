"""The error hierarchy of boothgraph, one class per code of service.md's error table.

Every error a client may see is a `BoothgraphError`; its `code` goes to
`errors[].extensions.code`. Anything else that escapes is masked as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations


class BoothgraphError(Exception):
    """Base class: an error whose message is safe to show to the client."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, object] = {"code": self.code, **extensions}


class Unauthenticated(BoothgraphError):
    """Missing, malformed, wrongly signed or expired token, or an unknown user."""

    code = "UNAUTHENTICATED"


class Forbidden(BoothgraphError):
    """An in-scope object whose action the viewer's role lacks, or a sensitive filter."""

    code = "FORBIDDEN"


class NotFound(BoothgraphError):
    """A mutation on something absent or outside the viewer's scope."""

    code = "NOT_FOUND"


class BadUserInput(BoothgraphError):
    """Invalid arguments."""

    code = "BAD_USER_INPUT"


class QueryTooComplex(BoothgraphError):
    """Depth, aliases, tokens or cost over the configured limits."""

    code = "QUERY_TOO_COMPLEX"


class RateLimited(BoothgraphError):
    """The user's token bucket is empty."""

    code = "RATE_LIMITED"


class DatabaseUnavailable(BoothgraphError):
    """PostgreSQL does not answer; the request failed fast instead of hanging."""

    code = "SERVICE_UNAVAILABLE"


class ModelCodeInForce(BoothgraphError):
    """Outreach that the Model Code of Conduct bars while it is in force for the unit; the message
    names the rule (policies/model_code.toml) and its source."""

    code = "MODEL_CODE_IN_FORCE"


class PollNotOpen(BoothgraphError):
    """A turnout mark outside the booth's poll date and hours."""

    code = "POLL_NOT_OPEN"


class ImportError_(BoothgraphError):
    """A CSV import was refused; names file, line and column. Nothing was written."""

    code = "BAD_USER_INPUT"

    def __init__(self, file: str, line: int, column: str | None, reason: str) -> None:
        where = f"{file}:{line}" + (f": column {column}" if column else "")
        super().__init__(f"{where}: {reason}", file=file, line=line, column=column)
        self.file, self.line, self.column, self.reason = file, line, column, reason


# Readable alias: `from core.errors import CsvImportError`.
CsvImportError = ImportError_
