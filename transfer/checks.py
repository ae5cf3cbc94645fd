"""Set-wise checks of one staged file: every cell rule in one scan, then duplicate keys.

Each rule is an SQL predicate true for a bad cell; `min(ord) filter (where ...)` per rule finds
the first bad record of each kind in a single pass, and the smallest wins (ties: the leftmost
column of the file). Only then is the offending value read back for the message.
"""

from __future__ import annotations

import asyncpg

from transfer.refusal import refused, shown
from transfer.spec import INT4_MAX, Column
from transfer.staging import Staged

_DATE = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
MASKED_PHONE = (
    "a masked phone, as an export without voter.read_contact writes it, cannot be imported: "
    "leave the phone column out to keep the stored phones, or give all 10 digits"
)


def _invalid_date(c: str) -> str:
    """True for a YYYY-MM-DD string that names no calendar day; never raises."""
    y, m, d = f"substr({c}, 1, 4)::int", f"substr({c}, 6, 2)::int", f"substr({c}, 9, 2)::int"
    last_day = (
        f"extract(day from make_date(greatest({y}, 1), least(greatest({m}, 1), 12), 1)"
        " + interval '1 month' - interval '1 day')"
    )
    return f"case when {c} ~ {_DATE} then {y} < 1 or {m} not between 1 and 12 or {d} < 1 or {d} > {last_day} end"


def rules(col: Column) -> list[tuple[str, str]]:
    """(predicate true for a bad cell, reason) for one column, in the order they are reported."""
    c = col.name
    out: list[tuple[str, str]] = []
    if col.need == "value":
        out.append((f"{c} is null", "a value is required"))
    if col.kind == "epic":
        out.append((f"{c} !~ '^[A-Z]{{3}}[0-9]{{7}}$'", "not an EPIC number (3 capital letters, 7 digits)"))
    elif col.kind == "int":
        if col.high == INT4_MAX:
            span = f"must be {col.low} or more"
        else:
            span = f"must be between {col.low} and {col.high}"
        out.append((f"{c} !~ '^-?[0-9]+$'", "not a whole number"))
        out.append(
            (
                f"case when {c} ~ '^-?[0-9]{{1,9}}$' then {c}::int not between {col.low} and {col.high} "
                f"else {c} ~ '^-?[0-9]+$' end",
                span,
            )
        )
    elif col.kind == "enum":
        choices = ", ".join(f"'{v}'" for v in col.choices)
        out.append((f"{c} not in ({choices})", "must be one of " + ", ".join(col.choices)))
    elif col.kind == "date":
        out.append((f"{c} !~ {_DATE}", "not a date YYYY-MM-DD"))
        out.append((_invalid_date(c), "not a valid date"))
    elif col.kind == "phone":
        # What an export writes for a viewer without voter.read_contact (resolvers.redaction): it
        # cannot be imported back, and leaving the column out keeps the stored phones (docs/round-trip.md).
        out.append((f"{c} ~ '^[*]+[0-9]{{4}}$'", MASKED_PHONE))
        out.append((f"{c} !~ '^[0-9]{{10}}$'", "must be 10 digits"))
    elif col.kind == "code":
        out.append((f"{c} !~ '^[!-~]+$'", "a code is printable ASCII without spaces"))
    elif col.kind == "unit_code":
        out.append((f"{c} !~ '^[!-.0-~]+$'", "a unit code is printable ASCII without spaces or '/'"))
    return out


async def check_cells(conn: asyncpg.Connection, staged: Staged) -> None:
    found: list[tuple[str, str, str]] = []  # (predicate, column, reason), in file column order
    for name in staged.columns:
        for predicate, reason in rules(staged.spec.by_name[name]):
            found.append((predicate, name, reason))
    if not found or not staged.rows or staged.vouched:
        return
    select = ", ".join(f"min(ord) filter (where {p})" for p, _, _ in found)
    row = await conn.fetchrow(f"select {select} from {staged.table}")
    assert row is not None
    hits = [(ord_, i) for i, ord_ in enumerate(row) if ord_ is not None]
    if not hits:
        return
    ord_, i = min(hits)
    _, column, reason = found[i]
    value = await conn.fetchval(f"select {column} from {staged.table} where ord = $1", ord_)
    if value is not None:
        reason = f"{reason}; got {shown(value)}"
    raise refused(staged.file, staged.line(ord_), column, reason)


async def check_unique(conn: asyncpg.Connection, staged: Staged) -> None:
    """The same key twice in one file: refused at the line of the second occurrence."""
    keys = ", ".join(staged.spec.key)
    t = staged.table
    dup = await conn.fetchval(f"select exists (select from {t} group by {keys} having count(*) > 1)")
    if not dup:
        return
    row = await conn.fetchrow(
        f"select ord, first from (select ord, min(ord) over w as first, row_number() over w as n "
        f"from {t} window w as (partition by {keys} order by ord)) x where n = 2 order by ord limit 1"
    )
    assert row is not None
    what = " and ".join(c for c in staged.spec.key if staged.has(c))
    raise refused(
        staged.file,
        staged.line(row["ord"]),
        staged.spec.key[0],
        f"the same {what} as line {staged.line(row['first'])}",
    )
