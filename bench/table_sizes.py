"""Table and index sizes of a boothgraph database, and row counts: the measured points that
docs/scaling.md extrapolates from.

    .venv/bin/python bench/table_sizes.py postgresql://postgres@127.0.0.1:5432/boothgraph [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json

import asyncpg

SQL = """
select c.relname as name,
       c.reltuples::int8 as rows,
       pg_table_size(c.oid) as table_bytes,
       pg_indexes_size(c.oid) as index_bytes,
       (select coalesce(json_object_agg(i.relname, pg_relation_size(i.oid)), '{}')
          from pg_index x join pg_class i on i.oid = x.indexrelid where x.indrelid = c.oid)::text as indexes
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind = 'r'
order by pg_total_relation_size(c.oid) desc
"""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    conn = await asyncpg.connect(args.url)
    try:
        await conn.execute("analyze")
        rows = [dict(r) for r in await conn.fetch(SQL)]
        total = await conn.fetchval("select pg_database_size(current_database())")
    finally:
        await conn.close()
    if args.json:
        print(json.dumps({"database_bytes": total, "tables": rows}))
        return
    mb = 1024 * 1024
    print("| table | rows | table MB | indexes MB |")
    print("|---|---:|---:|---:|")
    for r in rows:
        if r["table_bytes"] + r["index_bytes"] >= mb:
            print(f"| {r['name']} | {r['rows']:,} | {r['table_bytes'] / mb:.1f} | {r['index_bytes'] / mb:.1f} |")
    print(f"| database | | {total / mb:.1f} | |")
    for r in rows:
        if r["name"] == "voters":
            for name, size in sorted(json.loads(r["indexes"]).items(), key=lambda kv: -kv[1]):
                print(f"  voters index {name}: {size / mb:.1f} MB")


if __name__ == "__main__":
    asyncio.run(main())
