"""Spreadsheet safety (csv-format.md, OWASP "CSV injection").

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
spreadsheet programs, so every CSV the service writes puts one `'` before it (`escape_cell`),
and the importer takes exactly that one `'` away again (`unescape_sql`, on the staging table),
so that an export imports back unchanged. A cell such as `'x` or `''=x` keeps its quotes but one:
only a `'` standing before one of those characters is removed, and only once.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# An escaped cell somewhere in a chunk of CSV bytes: the gate that decides whether the staging
# table needs the (set-wise) unescaping pass at all. False positives only cost that pass.
ESCAPED_BYTES = re.compile(rb"'[=+\-@\t\r]")

# The same test in SQL (a POSIX regular expression; E'' for the tab and carriage return).
ESCAPED_SQL = "^'[=+@\t\r-]"


def escape_cell(value: object) -> object:
    """`value` as a CSV writer should write it: strings starting like a formula get a `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """The importer's rule on one cell (the SQL below does the same set-wise)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def unescape_sql(table: str, columns: list[str]) -> str:
    """One UPDATE of a staging table removing the leading `'` of every escaped cell."""
    sets = ", ".join(f"{c} = case when {c} ~ $1 then substr({c}, 2) else {c} end" for c in columns)
    where = " or ".join(f"{c} ~ $1" for c in columns)
    return f"update {table} set {sets} where {where}"
