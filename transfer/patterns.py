"""Byte patterns for the cell rules, so that the scanner can vouch for whole chunks.

A record (unquoted fields only) that matches `record_pattern` passes every rule of
checks.rules(): the patterns are as strict or stricter (no leading zeros, no quoted cells).
When every chunk of a file matches, the SQL cell check is skipped; when one does not, the SQL
check runs and names the first bad cell. tests/test_transfer_rules.py checks the two agree.
"""

from __future__ import annotations

from transfer.spec import Column

_UNQUOTED = rb'[^,"\r\n]'


def _digits(lo: str, hi: str) -> str:
    """Regex for the digit strings of lo's length between lo and hi (equal lengths)."""
    if not lo:
        return ""
    if lo == "0" * len(lo) and hi == "9" * len(hi):
        return f"[0-9]{{{len(lo)}}}"
    if lo[0] == hi[0]:
        return lo[0] + _digits(lo[1:], hi[1:])
    n = len(lo) - 1
    parts = [lo[0] + _digits(lo[1:], "9" * n)]
    if int(lo[0]) + 1 <= int(hi[0]) - 1:
        parts.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}]" + (f"[0-9]{{{n}}}" if n else ""))
    parts.append(hi[0] + _digits("0" * n, hi[1:]))
    return "(?:" + "|".join(parts) + ")"


def int_range(lo: int, hi: int) -> str:
    """Regex for the decimal numbers lo..hi (lo >= 0), written without leading zeros."""
    parts = []
    for width in range(len(str(lo)), len(str(hi)) + 1):
        a, b = max(lo, 10 ** (width - 1) if width > 1 else 0), min(hi, 10**width - 1)
        if a <= b:
            parts.append(_digits(str(a), str(b)))
    return "(?:" + "|".join(parts) + ")"


# YYYY-MM-DD naming a real day of the (proleptic Gregorian) calendar, year 0001 on.
_DATE = (
    r"(?:(?!0000)[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    r"|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)"
)


def cell_pattern(col: Column) -> bytes:
    if col.kind == "epic":
        p = rb"[A-Z]{3}[0-9]{7}"
    elif col.kind == "int":
        p = int_range(col.low, col.high).encode()
    elif col.kind == "enum":
        p = b"(?:" + b"|".join(v.encode() for v in col.choices) + b")"
    elif col.kind == "date":
        p = _DATE.encode()
    elif col.kind == "phone":
        p = rb"[0-9]{10}"
    elif col.kind == "code":  # printable ASCII but space, '"' and ','
        p = rb"[!#-+\--~]++"
    elif col.kind == "unit_code":  # and not '/'
        p = rb"[!#-+\-.0-~]++"
    else:
        p = _UNQUOTED + b"++"
    return p if col.need == "value" else b"(?:" + p + b")?+"


def record_pattern(columns: list[Column]) -> bytes:
    """One record of these columns, in this order, without its line break."""
    return b",".join(b"(?:" + cell_pattern(c) + b")" for c in columns)
