"""Upserts of the flat files: schemes, users, voters, beneficiaries, assignments.

Each resolves its references first (refusing the first record whose booth, voter, scheme, user
or unit does not exist, by then counting what this import already wrote), reports what it
touches to the scope, then writes set-wise from the staging table. Counts are exact: rows
inserted, rows whose stored values changed; an unchanged row is not rewritten.

Voters: a column missing from the header keeps the stored value; an empty `contact_consent`
is UNKNOWN. An erased voter keeps phone, caste_category, caste and economic_status NULL and
consent DENIED whatever the file says (access-policy.md, erasure).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from transfer.bulk import hash_joins, rebuilt_indexes, without_row_triggers
from transfer.checks import check_unique
from transfer.refusal import refused
from transfer.scope import Absent, Scope, Touch, touches
from transfer.spec import ROLE_LEVELS
from transfer.staging import Staged

CHANGES = "bg_import_voter_changes"
BENEFICIARY_CHANGES = "bg_import_beneficiary_changes"
SENSITIVE = ("phone", "caste_category", "caste", "economic_status")
OPTIONAL_TEXT = ("name_hi", "relative_name", "house_number")


@dataclass
class Written:
    inserted: int = 0
    updated: int = 0
    booths: set[int] = field(default_factory=set)  # booths whose counts may have changed


async def upsert_plain(conn: asyncpg.Connection, st: Staged, table: str, key: str, columns: tuple[str, ...]) -> Written:
    """schemes and users: key plus columns; a column missing from the header keeps its value."""
    present = [c for c in columns if st.has(c)]
    names = ", ".join((key, *present))
    sets = ", ".join(f"{c} = excluded.{c}" for c in present)
    action = (
        f"do update set {sets} where ({', '.join(f'x.{c}' for c in present)}) is distinct from "
        f"({', '.join(f'excluded.{c}' for c in present)})"
    )
    row = await conn.fetchrow(
        f"""with done as (insert into {table} as x ({names}) select {names} from {st.table}
                on conflict ({key}) {action} returning xmax = 0 as inserted)
            select count(*) filter (where inserted), count(*) filter (where not inserted) from done"""
    )
    assert row is not None
    return Written(row[0], row[1])


def _voter_values(st: Staged) -> dict[str, tuple[str, str]]:
    """column -> (value when the table is empty, value in general). The general one reads the
    stored row `v` (left joined: all NULL for a new voter)."""
    out: dict[str, tuple[str, str]] = {
        "booth_id": ("u.id", "u.id"),
        "mandal_id": ("u.mandal_id", "u.mandal_id"),
        "district_id": ("u.district_id", "u.district_id"),
        "region_id": ("u.region_id", "u.region_id"),
        "serial_number": ("s.serial_number::int", "s.serial_number::int"),
        "name": ("s.name", "s.name"),
        "age": ("s.age::smallint", "s.age::smallint"),
        "gender": ("s.gender", "s.gender"),
    }
    for c in OPTIONAL_TEXT:
        out[c] = (f"s.{c}", f"s.{c}") if st.has(c) else ("null", f"v.{c}")
    # voters.csv's `page` is stored as roll_page; voters.page is generated from it (0005).
    out["roll_page"] = ("s.page::int", "s.page::int") if st.has("page") else ("null", "v.roll_page")
    for c in SENSITIVE:
        given = f"s.{c}" if st.has(c) else f"v.{c}"
        out[c] = (f"s.{c}" if st.has(c) else "null", f"case when v.erased then null else {given} end")
    if st.has("contact_consent"):
        fresh = given = "coalesce(s.contact_consent, 'UNKNOWN')"
    else:
        fresh, given = "'UNKNOWN'", "coalesce(v.contact_consent, 'UNKNOWN')"
    out["contact_consent"] = (fresh, f"case when v.erased then 'DENIED' else {given} end")
    return out


class Unresolved(Exception):
    """An INSERT that resolves the references itself wrote fewer rows than the file has."""


async def _inserting(conn: asyncpg.Connection, st: Staged, sql: str, *, table: str, rebuild: bool, fast: bool) -> None:
    """Run an INSERT of the whole file into an empty table, whose unique keys then find a key
    given twice (check_unique was skipped for it; with `rebuild` the keys are built after the
    load) and name the second line. A row short (a reference the INSERT's joins did not
    resolve) raises Unresolved, before the keys, and leaves nothing."""
    try:
        async with (
            conn.transaction(),
            rebuilt_indexes(conn, table, rebuild, constraints=True),
            without_row_triggers(conn, fast),
        ):
            status = await conn.execute(sql)
            if int(status.split()[-1]) != st.rows:
                raise Unresolved(f"{st.file}: {status}")
    except asyncpg.UniqueViolationError:
        await check_unique(conn, st)
        raise


async def write_voters(
    conn: asyncpg.Connection, st: Staged, scope: Scope, *, fresh: bool, fast: bool, rebuild: bool, hashed: bool = False
) -> Written:
    """`fresh`: the voters table was empty, so every row is new and check_unique was skipped;
    `hashed`: the file is about as large as the table (bulk.hash_joins)."""
    t = st.table
    booth_join = f"{t} s join units u on u.code = s.booth_code and u.level = 'BOOTH'"
    refs = await conn.fetch(
        f"""select u.id, min(s.ord) as ord from {t} s
            left join units u on u.code = s.booth_code and u.level = 'BOOTH' group by u.id"""
    )
    absent = [Absent(r["ord"], "booth_code", "BOOTH unit") for r in refs if r["id"] is None]
    booths = [Touch(r["id"], r["ord"], "booth_code", "BOOTH unit") for r in refs if r["id"] is not None]
    await scope.check(conn, st, booths, absent)

    values = _voter_values(st)
    columns = list(values)
    if fast:
        await conn.execute(
            "select from units where id = any($1::int[]) order by id for key share", [r["id"] for r in refs]
        )
    if fresh:  # every row is new
        await _inserting(
            conn,
            st,
            f"""insert into voters (epic_number, {", ".join(columns)})
                select s.epic_number, {", ".join(fresh_value for fresh_value, _ in values.values())}
                from {booth_join}""",
            table="voters",
            rebuild=rebuild,
            fast=fast,
        )
        return Written(st.rows, 0, {r["id"] for r in refs})

    # New rows and changed rows, from one join with the stored voters.
    async with hash_joins(conn, hashed):
        await conn.execute(
            f"""drop table if exists {CHANGES};
                create temp table {CHANGES} on commit drop as
                select v.id, v.booth_id as old_booth, s.ord, s.epic_number,
                       {", ".join(f"{value} as {c}" for c, (_, value) in values.items())}
                from {booth_join} left join voters v on v.epic_number = s.epic_number
                where v.id is null or ({", ".join(f"v.{c}" for c in columns)}) is distinct from
                                      ({", ".join(value for _, value in values.values())})"""
        )
    moved = f"select old_booth, min(ord) from {CHANGES} where old_booth <> booth_id group by old_booth"
    # An EPIC stored outside the scope: refused after every other check (Scope.deferred), and
    # its stored voter left alone until then.
    outside = await scope.check(conn, st, await touches(conn, moved, "epic_number", "voter"), defer=True)
    if outside:
        await conn.execute(f"delete from {CHANGES} where old_booth = any($1::int[])", outside)
    written = Written()
    async with rebuilt_indexes(conn, "voters", rebuild), without_row_triggers(conn, fast):
        rows = await conn.fetch(
            f"""with done as (
                    insert into voters (epic_number, {", ".join(columns)})
                    select epic_number, {", ".join(columns)} from {CHANGES} where id is null
                    returning booth_id)
                select booth_id, count(*) from done group by booth_id"""
        )
        written.inserted = sum(r[1] for r in rows)
        written.booths.update(r[0] for r in rows)
        rows = await conn.fetch(
            f"""with done as (
                    update voters v set {", ".join(f"{c} = c.{c}" for c in columns)}
                    from {CHANGES} c where v.id = c.id returning c.old_booth, c.booth_id)
                select old_booth, booth_id, count(*) from done group by 1, 2"""
        )
        written.updated = sum(r[2] for r in rows)
        written.booths.update(b for r in rows for b in (r[0], r[1]))
    await conn.execute(f"drop table {CHANGES}")
    return written


async def write_beneficiaries(
    conn: asyncpg.Connection,
    st: Staged,
    scope: Scope,
    *,
    fresh: bool,
    fast: bool,
    rebuild: bool,
    booths_known: bool = False,
    uploaded_voters: str | None = None,
) -> Written:
    """`fresh`: the beneficiaries table was empty, so check_unique was skipped; `rebuild`: a large
    file, whose keys are then built after the rows; `booths_known`: every stored voter came with
    this import, so their booths are recounted anyway (the returned booths are then empty).
    Scheme codes were checked before (transfer.references). `uploaded_voters`: the staging table
    of this import's voters.csv, whose EPICs voters.csv itself answers for (a stored one outside
    the scope is refused there)."""
    t = st.table
    since = "s.since::date" if st.has("since") else "null::date"
    if fresh and booths_known and not scope.active:
        # Nothing to learn before writing (no scope, no booths): the INSERT resolves the
        # references by its joins, and only a row short needs the check below to name it.
        # Saves a join of the file with every voter (~0.6 s per million beneficiaries here).
        if fast:
            await conn.execute("select from schemes order by code for key share")
        sql = f"""insert into beneficiaries (voter_id, scheme_code, since)
                  select v.id, s.scheme_code, {since} from {t} s join voters v on v.epic_number = s.epic_number
                  join schemes x on x.code = s.scheme_code"""
        try:
            await _inserting(conn, st, sql, table="beneficiaries", rebuild=rebuild, fast=fast)
            return Written(st.rows, 0, set())
        except Unresolved:
            pass  # rolled back: the check below refuses the first unresolved record
    own = f"and not exists (select from {uploaded_voters} u where u.epic_number = s.epic_number)"
    refs = await conn.fetch(
        f"""select v.booth_id, min(s.ord) as ord from {t} s left join voters v on v.epic_number = s.epic_number
            where true {own if uploaded_voters else ""} group by v.booth_id"""
    )
    absent = [Absent(r["ord"], "epic_number", "voter") for r in refs if r["booth_id"] is None]
    voters = [Touch(r["booth_id"], r["ord"], "epic_number", "voter") for r in refs if r["booth_id"] is not None]
    await scope.check(conn, st, voters, absent)
    src = f"select v.id, s.scheme_code, {since} from {t} s join voters v on v.epic_number = s.epic_number"
    if fast:
        await conn.execute("select from schemes order by code for key share")
    if fresh:
        # `refs` has every named voter's booth, unless voters.csv answered for some of them.
        booths = await _booths_named(conn, st) if uploaded_voters else {r["booth_id"] for r in refs}
        sql = f"insert into beneficiaries (voter_id, scheme_code, since) {src}"
        await _inserting(conn, st, sql, table="beneficiaries", rebuild=rebuild, fast=fast)
        return Written(st.rows, 0, booths)
    async with without_row_triggers(conn, fast):
        changed = "b.since is distinct from s.since::date" if st.has("since") else "false"
        await conn.execute(
            f"""drop table if exists {BENEFICIARY_CHANGES};
                create temp table {BENEFICIARY_CHANGES} on commit drop as
                select v.id as voter_id, v.booth_id, s.scheme_code, {since} as since, b.voter_id is null as new
                from {t} s join voters v on v.epic_number = s.epic_number
                left join beneficiaries b on b.voter_id = v.id and b.scheme_code = s.scheme_code
                where b.voter_id is null or {changed}"""
        )
        inserted = await conn.execute(
            f"""insert into beneficiaries (voter_id, scheme_code, since)
                select voter_id, scheme_code, since from {BENEFICIARY_CHANGES} where new"""
        )
        updated = await conn.execute(
            f"""update beneficiaries b set since = c.since from {BENEFICIARY_CHANGES} c
                where not c.new and b.voter_id = c.voter_id and b.scheme_code = c.scheme_code"""
        )
        booths = await conn.fetch(f"select distinct booth_id from {BENEFICIARY_CHANGES} where new")
        written = Written(int(inserted.split()[-1]), int(updated.split()[-1]), {r[0] for r in booths})
        await conn.execute(f"drop table {BENEFICIARY_CHANGES}")
    return written


async def _booths_named(conn: asyncpg.Connection, st: Staged) -> set[int]:
    """The booths of every voter the file names (all resolved by now): what a fresh beneficiaries
    table's recount needs beside voters.csv. One hash join; not a semi join with voters.csv's
    staging table, which has no statistics: PostgreSQL took it for 200 distinct EPICs and probed
    the EPIC key once per voter (7.7 s per million voters here, 0.7 s hashed)."""
    rows = await conn.fetch(
        f"select distinct v.booth_id from {st.table} s join voters v on v.epic_number = s.epic_number"
    )
    return {r[0] for r in rows}


_ROLE_LEVELS = ", ".join(f"('{role}', '{level}')" for role, levels in ROLE_LEVELS.items() for level in levels)


async def write_assignments(conn: asyncpg.Connection, st: Staged, scope: Scope, *, user_id: str) -> Written:
    """User ids were checked before (transfer.references). Every assignment granted is audited
    as `role.grant` by `user_id`, like grantRole, in the import's transaction."""
    t = st.table
    no_unit = await conn.fetchval(
        f"select min(s.ord) from {t} s where not exists (select from units u where u.code = s.unit_code)"
    )
    absent = [] if no_unit is None else [Absent(no_unit, "unit_code", "unit")]
    units = f"select u.id, min(s.ord) from {t} s join units u on u.code = s.unit_code group by u.id"
    await scope.check(conn, st, await touches(conn, units, "unit_code", "unit"), absent)
    row = await conn.fetchrow(
        f"""select s.ord from {t} s join units u on u.code = s.unit_code
            where s.page is not null and u.level <> 'BOOTH' order by s.ord limit 1"""
    )
    if row is not None:
        raise refused(st.file, st.line(row["ord"]), "page", "a page is a roll page of a BOOTH unit")
    row = await conn.fetchrow(
        f"""select s.ord, s.role, u.code, case when s.page is null then u.level else 'PAGE' end as level
            from {t} s join units u on u.code = s.unit_code
            where (s.role, case when s.page is null then u.level else 'PAGE' end) not in (values {_ROLE_LEVELS})
            order by s.ord limit 1"""
    )
    if row is not None:
        levels = " or ".join(sorted(ROLE_LEVELS[row["role"]]))
        raise refused(
            st.file,
            st.line(row["ord"]),
            "unit_code",
            f"a {row['role']} is assigned at a {levels}; {row['code']!r} is a {row['level']}",
        )
    # The detail is grantRole's (resolvers.audit.detail_json: compact, keys sorted) plus `via`.
    inserted = await conn.fetchval(
        f"""with done as (insert into assignments (user_id, role, unit_id, page)
                select s.user_id, s.role, u.id, s.page::int from {t} s join units u on u.code = s.unit_code
                order by s.ord
                on conflict (user_id, role, unit_id, page) do nothing returning id, user_id, role, unit_id, page),
            logged as (insert into audit_log (user_id, action, unit_id, unit_code, records, detail)
                select $1, 'role.grant', d.unit_id, u.code, 1,
                       '{{"already_held":false,"assignment":' || d.id
                       || coalesce(',"page":' || d.page, '') || ',"role":' || to_json(d.role)::text
                       || ',"user":' || to_json(d.user_id)::text || ',"via":"assignments.csv"}}'
                from done d join units u on u.id = d.unit_id order by d.id)
            select count(*) from done""",
        user_id,
    )
    return Written(inserted, 0)
