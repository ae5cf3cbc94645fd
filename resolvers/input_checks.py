"""Input checks that answer BAD_USER_INPUT: dates, phones, enums, bounded text, ids. (Who can
see which unit: resolvers.visibility; one mutation in one transaction: resolvers.unit_of_work.)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from core.errors import BadUserInput

PHONE_RE = re.compile(r"^[0-9]{10}$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_TEXT = 2000
MAX_PAGE = 2_147_483_647


# ------------------------------------------------------------------------- input checks ---
def check_page(value: Any, argument: str = "page") -> int | None:
    """A roll page number (docs/pages.md): a positive int, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PAGE:
        raise BadUserInput(f"{argument} must be a page number from 1 to {MAX_PAGE}", argument=argument)
    return value


def parse_date(value: str | None, argument: str) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise BadUserInput(f"{argument} must be a date YYYY-MM-DD", argument=argument)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadUserInput(f"{argument} must be a date YYYY-MM-DD", argument=argument) from None


def check_phone(value: str | None, argument: str = "phone") -> str | None:
    if value is not None and (not isinstance(value, str) or not PHONE_RE.match(value)):
        raise BadUserInput(f"{argument} must be exactly 10 digits", argument=argument)
    return value


def check_enum(value: Any, allowed: Sequence[str] | type, argument: str) -> str | None:
    """Accepts an Enum member or its name; returns the name. None stays None."""
    if value is None:
        return None
    name = getattr(value, "value", value)
    names = [m.value for m in allowed] if isinstance(allowed, type) else list(allowed)  # type: ignore[attr-defined]
    if name not in names:
        raise BadUserInput(f"{argument} must be one of {', '.join(names)}", argument=argument)
    return str(name)


def check_text(value: str | None, argument: str, *, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise BadUserInput(f"{argument} is required", argument=argument)
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadUserInput(f"{argument} must be text of at most {limit} characters", argument=argument)
    if required and not value.strip():
        raise BadUserInput(f"{argument} must not be empty", argument=argument)
    return value


def parse_id(value: Any, argument: str) -> int:
    """A database id given as int or decimal string (schema/ decodes global ids first)."""
    if isinstance(value, bool):
        raise BadUserInput(f"{argument} is not a valid id", argument=argument)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    raise BadUserInput(f"{argument} is not a valid id", argument=argument)
