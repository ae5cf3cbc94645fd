"""The error hierarchy of boothgraph: one class per code of service.md's error table, each with
the HTTP status it answers with when it ends a request (httpx style: one small hierarchy).

Every error a client may see is a `BoothgraphError`; its `code` goes to
`errors[].extensions.code`, its `status` and `headers()` to the HTTP answer when it is raised
outside GraphQL execution (middleware, /import, /export: middleware/errors.py renders them all).
Anything else that escapes is masked as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import math


class BoothgraphError(Exception):
    """Base class: an error whose message is safe to show to the client."""

    code = "INTERNAL_SERVER_ERROR"
    status = 500

    def __init_subclass__(cls, *, code: str | None = None, status: int | None = None) -> None:
        """`class Forbidden(BoothgraphError, code="FORBIDDEN", status=403)`: a subclass names its
        code and status in its header (or inherits them)."""
        super().__init_subclass__()
        cls.code = code or cls.code
        cls.status = status or cls.status

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, object] = {"code": self.code, **extensions}

    def headers(self) -> dict[str, str]:
        """HTTP headers that go with this answer."""
        return {}


class InternalError(BoothgraphError):
    """An unexpected failure, answered without a trace, SQL or path."""

    def __init__(self) -> None:
        super().__init__("Internal server error")


class Unauthenticated(BoothgraphError, code="UNAUTHENTICATED", status=401):
    """Missing, malformed, wrongly signed or expired token, or an unknown user."""

    def headers(self) -> dict[str, str]:
        return {"www-authenticate": "Bearer"}


class Forbidden(BoothgraphError, code="FORBIDDEN", status=403):
    """An in-scope object whose action the viewer's role lacks, or a sensitive filter."""


class NotFound(BoothgraphError, code="NOT_FOUND", status=404):
    """A mutation on something absent or outside the viewer's scope; an unknown path."""


class BadUserInput(BoothgraphError, code="BAD_USER_INPUT", status=400):
    """Invalid arguments."""


class QueryTooComplex(BoothgraphError, code="QUERY_TOO_COMPLEX", status=400):
    """Depth, aliases, tokens, cost or statements over the configured limits."""


class RateLimited(BoothgraphError, code="RATE_LIMITED", status=429):
    """The user's token bucket is empty (or their exports are all running)."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @classmethod
    def after(cls, wait_s: float) -> RateLimited:
        """The answer of an empty bucket that refills in `wait_s` seconds."""
        seconds = max(1, math.ceil(wait_s))
        return cls(f"Too many requests; retry in {seconds} s", retry_after=seconds)

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after)}


class DatabaseUnavailable(BoothgraphError, code="SERVICE_UNAVAILABLE", status=503):
    """PostgreSQL does not answer; the request failed fast instead of hanging."""

    def headers(self) -> dict[str, str]:
        return {"retry-after": "1"}


class ModelCodeInForce(BoothgraphError, code="MODEL_CODE_IN_FORCE", status=403):
    """Outreach that the Model Code of Conduct bars while it is in force for the unit; the message
    names the rule (policies/model_code.toml) and its source."""


class PollNotOpen(BoothgraphError, code="POLL_NOT_OPEN", status=409):
    """A turnout mark outside the booth's poll date and hours."""


class CsvImportError(BadUserInput):
    """A CSV import was refused; names file, line and column. Nothing was written."""

    def __init__(self, file: str, line: int, column: str | None, reason: str) -> None:
        where = f"{file}:{line}" + (f": column {column}" if column else "")
        super().__init__(f"{where}: {reason}", file=file, line=line, column=column)
        self.file, self.line, self.column, self.reason = file, line, column, reason


# ------------------------------------------------------------ HTTP-level refusals ---
class BadRequest(BoothgraphError, code="BAD_REQUEST", status=400):
    """A request the HTTP layer cannot take (not JSON, a bad header, a broken multipart body)."""


class PayloadTooLarge(BoothgraphError, code="PAYLOAD_TOO_LARGE", status=413):
    """A body over its limit."""


class MethodNotAllowed(BoothgraphError, code="METHOD_NOT_ALLOWED", status=405):
    """A method the path does not take; `allow` names those it does."""

    def __init__(self, message: str, *, allow: str | None = None) -> None:
        super().__init__(message)
        self.allow = allow

    def headers(self) -> dict[str, str]:
        return {"allow": self.allow} if self.allow else {}


def http_error(status: int, message: str) -> BoothgraphError:
    """A framework's HTTP refusal (starlette's, strawberry's) as one of ours, keeping its status:
    404 NOT_FOUND, 405 METHOD_NOT_ALLOWED, 413 PAYLOAD_TOO_LARGE, anything else BAD_REQUEST."""
    for kind in (NotFound, MethodNotAllowed, PayloadTooLarge):
        if kind.status == status:
            return kind(message)
    error = BadRequest(message)
    error.status = status
    return error
