"""How a refused import is reported: always file, physical line and column.

A bad file is `CsvImportError` (BAD_USER_INPUT). When the caller has a scope (`allowed`), a
reference to a unit or voter that is absent *or* outside the scope is `NotFound` with the same
wording for both, so an import never reveals what exists elsewhere (access-policy.md).
"""

from __future__ import annotations

from core.errors import BoothgraphError, CsvImportError, NotFound

MAX_SHOWN = 40


def shown(value: str | None) -> str:
    """A cell value quoted for a message, shortened."""
    if value is None:
        return "empty"
    text = value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"
    return repr(text)


def refused(file: str, line: int, column: str | None, reason: str) -> CsvImportError:
    return CsvImportError(file, line, column, reason)


def missing(file: str, line: int, column: str | None, reason: str, *, scoped: bool) -> BoothgraphError:
    """A reference that does not resolve; NOT_FOUND for scoped (HTTP) imports."""
    if not scoped:
        return CsvImportError(file, line, column, reason)
    where = f"{file}:{line}" + (f": column {column}" if column else "")
    return NotFound(f"{where}: {reason}", file=file, line=line, column=column)
