"""units.csv: the tree's rules, then the upsert level by level, and moving whole subtrees.

Rules (besides the cell rules): one STATE, with no parent, and every other unit with one; a
parent in the file or the database; no cycle; a parent exactly one level up; an existing unit
keeps its level. Rows may come in any order: units are written top-down, depth by depth, each
taking its path and ancestor ids from its (already written) parent. A unit given a new parent
carries its subtree along: descendants' paths and ancestor ids are recomputed the same way,
and the voters of every moved booth get their mandal/district/region ids from the booth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from models import LEVELS, Level
from transfer.refusal import refused
from transfer.scope import Absent, Scope, touches
from transfer.staging import Staged

_LEVELS = "array['STATE','REGION','DISTRICT','MANDAL','BOOTH']"


def _depth(expr: str) -> str:
    return f"array_position({_LEVELS}, {expr})"


@dataclass
class UnitChanges:
    inserted: int = 0
    updated: int = 0
    moved: list[int] = field(default_factory=list)  # ids of units given a new parent
    old_parents: list[int] = field(default_factory=list)  # their parents before the move
    moved_booths: list[int] = field(default_factory=list)  # booths whose ancestors changed


async def check_tree(conn: asyncpg.Connection, st: Staged, scope: Scope) -> None:
    t, file = st.table, st.file
    row = await conn.fetchrow(
        f"""select ord, 'parent_code' as col, 'a STATE has no parent' as reason from {t}
            where level = 'STATE' and parent_code is not null
            union all
            select ord, 'parent_code', 'a value is required (only the STATE has no parent)' from {t}
            where level <> 'STATE' and parent_code is null
            union all
            select ord, 'level', 'a second STATE; there is one state' from
                (select ord, row_number() over (order by ord) as n from {t} where level = 'STATE') s where n = 2
            union all
            select s.ord, 'code', 'the database already has the STATE ' || quote_literal(u.code) from {t} s
            join units u on u.level = 'STATE' and u.code <> s.code where s.level = 'STATE'
            order by 1 limit 1"""
    )
    if row is not None:
        raise refused(file, st.line(row["ord"]), row["col"], row["reason"])

    # References to units that exist nowhere, and where the file touches the tree as it stands
    # (existing units at their current place, existing parents): one refusal, at the first line
    # of either (transfer.scope). Checked before the rules below, which could tell about other units.
    no_parent = await conn.fetchval(
        f"""select min(s.ord) from {t} s where s.parent_code is not null
            and not exists (select from {t} p where p.code = s.parent_code)
            and not exists (select from units p where p.code = s.parent_code)"""
    )
    absent = [] if no_parent is None else [Absent(no_parent, "parent_code", "unit")]
    existing = f"select u.id, min(s.ord) from {t} s join units u on u.code = s.code group by u.id"
    parents = f"select p.id, min(s.ord) from {t} s join units p on p.code = s.parent_code group by p.id"
    touched = await touches(conn, existing, "code", "unit") + await touches(conn, parents, "parent_code", "unit")
    await scope.check(conn, st, touched, absent)

    row = await conn.fetchrow(
        f"""select s.ord, u.level from {t} s join units u on u.code = s.code
            where u.level <> s.level order by s.ord limit 1"""
    )
    if row is not None:
        raise refused(
            file, st.line(row["ord"]), "level", f"the unit is a {row['level']} already; a level cannot change"
        )

    merged = f"""merged as (
        select code, parent_code, level from {t}
        union all
        select u.code, p.code, u.level from units u left join units p on p.id = u.parent_id
        where not exists (select from {t} s where s.code = u.code))"""
    row = await conn.fetchrow(
        f"""with recursive {merged},
            walk (ord, start, code, steps, path) as (
                select ord, code, parent_code, 1, array[code] from {t} where parent_code is not null
                union all
                select w.ord, w.start, m.parent_code, w.steps + 1, w.path || w.code
                from walk w join merged m on m.code = w.code
                where w.code <> w.start and m.parent_code is not null and w.steps < 8)
            select ord, path || start as path from walk where code = start order by ord limit 1"""
    )
    if row is not None:
        cycle = " -> ".join(row["path"])
        raise refused(file, st.line(row["ord"]), "parent_code", f"the parents form a cycle: {cycle}")

    row = await conn.fetchrow(
        f"""with {merged}
            select s.ord, s.level, s.parent_code, m.level as parent_level
            from {t} s join merged m on m.code = s.parent_code
            where {_depth("m.level")} <> {_depth("s.level")} - 1 order by s.ord limit 1"""
    )
    if row is not None:
        depth = Level(row["level"]).depth
        wanted = LEVELS[depth - 1].value if depth else "none"
        raise refused(
            file,
            st.line(row["ord"]),
            "level",
            f"a {row['level']}'s parent must be a {wanted}; {row['parent_code']!r} is a {row['parent_level']}",
        )


async def write_units(conn: asyncpg.Connection, st: Staged) -> UnitChanges:
    t = st.table
    changes = UnitChanges()
    moves = await conn.fetch(
        f"""select u.id, u.parent_id from {t} s join units u on u.code = s.code
            left join units p on p.code = s.parent_code
            where u.parent_id is distinct from p.id order by s.ord"""
    )
    changes.moved = [r["id"] for r in moves]
    changes.old_parents = sorted({r["parent_id"] for r in moves if r["parent_id"] is not None})
    name_hi = "excluded.name_hi" if st.has("name_hi") else "u.name_hi"
    src_name_hi = "s.name_hi" if st.has("name_hi") else "null::text"
    for depth, level in enumerate(LEVELS):
        row = await conn.fetchrow(
            f"""with src as (
                    select s.code, s.name, {src_name_hi} as name_hi, p.id as parent_id, p.path as ppath,
                           p.state_id, p.region_id, p.district_id, p.mandal_id,
                           coalesce(e.id, nextval(pg_get_serial_sequence('units', 'id'))::int) as id
                    from {t} s left join units p on p.code = s.parent_code left join units e on e.code = s.code
                    where s.level = $1),
                done as (
                    insert into units as u (id, code, parent_id, level, depth, name, name_hi, path,
                                            state_id, region_id, district_id, mandal_id, booth_id)
                    select id, code, parent_id, $1, {depth}, name, name_hi, coalesce(ppath || '/', '') || code,
                           coalesce(state_id, id),
                           case when {depth} = 1 then id else region_id end,
                           case when {depth} = 2 then id else district_id end,
                           case when {depth} = 3 then id else mandal_id end,
                           case when {depth} = 4 then id end
                    from src
                    on conflict (code) do update set parent_id = excluded.parent_id, name = excluded.name,
                        name_hi = {name_hi}, path = excluded.path, state_id = excluded.state_id,
                        region_id = excluded.region_id, district_id = excluded.district_id,
                        mandal_id = excluded.mandal_id, booth_id = excluded.booth_id
                    where (u.parent_id, u.name, u.name_hi, u.path, u.state_id, u.region_id, u.district_id,
                           u.mandal_id, u.booth_id) is distinct from
                          (excluded.parent_id, excluded.name, {name_hi}, excluded.path, excluded.state_id,
                           excluded.region_id, excluded.district_id, excluded.mandal_id, excluded.booth_id)
                    returning u.id, xmax = 0 as inserted)
                select count(*) filter (where inserted) as ins, count(*) filter (where not inserted) as upd,
                       coalesce(array_agg(id) filter (where not inserted), '{{}}') as ids
                from done""",
            level.value,
        )
        assert row is not None
        changes.inserted += row["ins"]
        changes.updated += row["upd"]
        if not changes.moved or depth == 0:
            continue
        # Descendants of moved units: their parent's path changed, so theirs follows.
        carried = await conn.fetch(
            """update units c set path = p.path || '/' || c.code, state_id = p.state_id,
                    region_id = case when c.depth = 1 then c.id else p.region_id end,
                    district_id = case when c.depth = 2 then c.id else p.district_id end,
                    mandal_id = case when c.depth = 3 then c.id else p.mandal_id end,
                    booth_id = case when c.depth = 4 then c.id end
                from units p where p.id = c.parent_id and c.depth = $1 and c.path <> p.path || '/' || c.code
                returning c.id""",
            depth,
        )
        if level.value == "BOOTH":
            moved = set(changes.moved)
            booths = {r["id"] for r in carried} | {i for i in row["ids"] if i in moved}
            changes.moved_booths = sorted(booths)
    if changes.moved_booths:
        await conn.execute(
            """update voters v set mandal_id = b.mandal_id, district_id = b.district_id, region_id = b.region_id
               from units b where b.id = v.booth_id and v.booth_id = any($1::int[])
               and (v.mandal_id, v.district_id, v.region_id)
                   is distinct from (b.mandal_id, b.district_id, b.region_id)""",
            changes.moved_booths,
        )
    return changes


async def touched_after(conn: asyncpg.Connection, st: Staged, scope: Scope) -> None:
    """Every unit of the file at its new place (new units, moved ones)."""
    t = st.table
    placed = f"select u.id, s.ord from {t} s join units u on u.code = s.code where s.parent_code is not null"
    await scope.check(conn, st, await touches(conn, placed, "parent_code", "unit"))
    states = f"select u.id, s.ord from {t} s join units u on u.code = s.code where s.parent_code is null"
    await scope.check(conn, st, await touches(conn, states, "code", "unit"))
