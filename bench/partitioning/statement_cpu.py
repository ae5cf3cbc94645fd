"""Voters partitioned or not, measured: the backend's CPU per statement (/proc ticks of the one
backend, N executions of each prepared statement over 500 sampled voters), the partitions each
plan scans, and whether a generic plan (what a prepared statement gets after five runs) prunes.

    psql -d DB -f bench/partitioning/build_copies.sql   # voters_hash (HASH district_id), voters_list (LIST region)
    .venv/bin/python bench/partitioning/statement_cpu.py postgresql://postgres@127.0.0.1:5432/DB [N]
    psql -d DB -f bench/partitioning/vacuum.sql   # 1% of rows updated in each, VACUUM of each and of one part

The statements are the voter reads' shapes (resolvers/voters.py under resolvers/scope.py): a booth
page asked with `unit` (the unit filter names district_id and booth_id), the same page under a
booth cover alone (booth_id only), a voter by EPIC under a booth cover and under the state's.
"""

import asyncio
import json
import os
import sys

import asyncpg

DSN = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
TICKS = os.sysconf("SC_CLK_TCK")
COLS = "v.id, v.epic_number, v.serial_number, v.name, v.booth_id"
ARGS = {  # which of (district, booth, epic) each statement takes, in order
    "Q1 booth page (unit filter: district+booth)": (0, 1),
    "Q1 booth page (scope only: booth)": (1,),
    "Q4 by EPIC (scope: booth)": (1, 2),
    "Q4 by EPIC (state scope)": (2,),
    "district page": (0,),
}
PAGE = "order by v.booth_id, v.serial_number, v.id limit 50"
STMTS = {
    "Q1 booth page (unit filter: district+booth)": (
        f"select {COLS} from {{t}} v where v.district_id = $1::int and v.booth_id = $2::int {PAGE}"
    ),
    "Q1 booth page (scope only: booth)": f"select {COLS} from {{t}} v where v.booth_id = $1::int {PAGE}",
    "Q4 by EPIC (scope: booth)": f"select {COLS} from {{t}} v where v.epic_number = $2 and v.booth_id = $1::int",
    "Q4 by EPIC (state scope)": f"select {COLS} from {{t}} v where v.epic_number = $1",
    "district page": f"select {COLS} from {{t}} v where v.district_id = $1::int {PAGE}",
}


def ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


async def main():
    conn = await asyncpg.connect(DSN)
    pid = await conn.fetchval("select pg_backend_pid()")
    sample = await conn.fetch("select district_id, booth_id, epic_number from voters tablesample system (1) limit 500")
    out = {}
    for table in ("voters", "voters_hash", "voters_list"):
        for name, sql in STMTS.items():
            stmt = await conn.prepare(sql.format(t=table))

            def pick(r, name=name):
                return [r[k] for k in ARGS[name]]

            for r in sample[:50]:
                await stmt.fetch(*pick(r))
            t0 = ticks(pid)
            for i in range(N):
                r = sample[i % len(sample)]
                await stmt.fetch(*pick(r))
            cpu_ms = (ticks(pid) - t0) / TICKS * 1000 / N
            lit = [str(sample[0][0]), str(sample[0][1]), "'" + sample[0][2] + "'"]
            text = sql.format(t=table)
            for i, k in enumerate(ARGS[name], 1):
                text = text.replace(f"${i}::int", lit[k]).replace(f"${i}", lit[k])
            ex = await conn.fetch("explain (analyze, costs off, timing off, summary off) " + text)
            lines = [x[0] for x in ex]
            scanned = sum(
                1
                for line in lines
                if ("Index Scan" in line or "Seq Scan" in line or "Bitmap Heap" in line)
                and "never executed" not in line
            )
            out.setdefault(name, {})[table] = {"cpu_ms": round(cpu_ms, 4), "parts_scanned": scanned}
            print(table, name, round(cpu_ms, 4), "ms CPU;", scanned, "scans executed", flush=True)
    # Generic plan (as asyncpg's prepared statements get after 5 runs): pruning at executor start?
    await conn.execute("set plan_cache_mode = force_generic_plan")
    for table in ("voters_hash", "voters_list"):
        for name in (
            "Q1 booth page (scope only: booth)",
            "Q4 by EPIC (state scope)",
            "Q1 booth page (unit filter: district+booth)",
        ):
            text = STMTS[name].format(t=table)
            if name.startswith("Q4"):
                text = text.replace("epic_number = $1", "epic_number = $1::text").replace(
                    "epic_number = $2", "epic_number = $2::text"
                )
            await conn.execute(f"prepare p_{table} as " + text)
            lit = [str(sample[0][0]), str(sample[0][1]), "'" + sample[0][2] + "'"]
            args = ", ".join(lit[k] for k in ARGS[name])
            ex = await conn.fetch(f"explain (analyze, costs off, timing off, summary off) execute p_{table}({args})")
            txt = "\n".join(x[0] for x in ex)
            removed = [x.strip() for x in txt.splitlines() if "Subplans Removed" in x]
            print("generic", table, name, removed or "no pruning", flush=True)
            await conn.execute(f"deallocate p_{table}")
    print(json.dumps(out))
    await conn.close()


asyncio.run(main())
