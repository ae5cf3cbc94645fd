"""Import speed against a bare COPY: voters per second, and peak memory.

    .venv/bin/python bench/import_bench.py                      # generates the medium preset
    .venv/bin/python bench/import_bench.py --data /tmp/bg-medium  # or takes a folder

Steps, all on a scratch database (created, dropped at the end unless --keep):
1. bare COPY of voters.csv into an unindexed table of text/int columns (the yardstick);
2. transfer.importer.import_folder of the whole folder into the empty, migrated database;
3. the same import again into the full database (every row an upsert that changes nothing);
4. the floor of any import that ends with the voters table the read path needs: COPY of the
   voters as stored (booth and ancestor ids already resolved, written out untimed) into a table
   of the voters' shape (columns and CHECKs), then its primary key, EPIC key and the read
   path's indexes, built after the rows as the import does. Nothing else (staging, checks,
   beneficiaries, rollups);
5. the bare COPY once more (the machine's noise shows in the two yardsticks).
Prints seconds, voters/s, the ratio to the bare COPY, the import's phases, and this process's
peak RSS (PostgreSQL's own memory is not in it). Run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import migrate  # noqa: E402
from transfer.importer import import_folder  # noqa: E402

GEN = ROOT.parent / "shared" / "tools" / "gen_dataset.py"
BARE = """create unlogged table if not exists bare_voters (epic_number text, booth_code text, serial_number int,
    name text, name_hi text, relative_name text, age smallint, gender text, house_number text, phone text,
    caste_category text, caste text, economic_status text, contact_consent text)"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def with_db(url: str, name: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


async def bare_copy(url: str, voters: Path) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("drop table if exists bare_voters")
        await conn.execute(BARE.replace("unlogged ", ""))  # logged, like voters: WAL counts
        started = time.perf_counter()
        await conn.copy_to_table("bare_voters", source=str(voters), format="csv", header=True)
        seconds = time.perf_counter() - started
        await conn.execute("drop table bare_voters")
        return seconds
    finally:
        await conn.close()


async def checkpoint(url: str) -> None:
    """Start each timed step with no dirty buffers left by the one before (needs superuser or
    pg_checkpoint; skipped without)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("checkpoint")
    except asyncpg.InsufficientPrivilegeError:
        pass
    finally:
        await conn.close()


async def floor_of_voters(url: str, scratch: Path) -> tuple[float, float, float]:
    """(COPY s, keys s, indexes s) of the stored voters into a fresh table of their shape."""
    conn = await asyncpg.connect(url)
    try:
        stored = scratch / "voters-resolved.csv"
        await conn.copy_from_query("select * from voters order by id", output=str(stored), format="csv")
        indexes = await conn.fetch(
            """select pg_get_indexdef(i.indexrelid) from pg_index i where i.indrelid = 'voters'::regclass
               and not exists (select from pg_constraint k where k.conindid = i.indexrelid)"""
        )
        await conn.execute("drop table if exists floor_voters")
        await conn.execute("create table floor_voters (like voters including constraints)")  # + CHECKs
        await conn.execute("set maintenance_work_mem = '512MB'")  # as transfer.bulk
        await conn.execute("checkpoint")
        started = time.perf_counter()
        await conn.copy_to_table("floor_voters", source=str(stored), format="csv")
        copied = time.perf_counter()
        await conn.execute("alter table floor_voters add primary key (id), add unique (epic_number)")
        keyed = time.perf_counter()
        for (definition,) in indexes:
            name, rest = definition.split(" ON public.voters ", 1)
            await conn.execute(f"{name.replace('voters_', 'floor_voters_')} ON floor_voters {rest}")
        done = time.perf_counter()
        await conn.execute("drop table floor_voters")
        stored.unlink()
        return copied - started, keyed - copied, done - keyed
    finally:
        await conn.close()


async def run_import(url: str, folder: Path, progress: bool) -> tuple[float, dict[str, float], dict[str, int]]:
    conn = await asyncpg.connect(url)
    try:
        report = await import_folder(conn, folder, user_id="bench", progress=progress)
        return report.seconds, report.phases, {n: c.inserted + c.updated for n, c in report.files.items()}
    finally:
        await conn.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a folder of the six CSV files (default: generate --preset)")
    parser.add_argument("--preset", default="medium", help="gen_dataset.py preset when generating (medium)")
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--db", default="bg_bench_import", help="scratch database name (dropped first)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--progress", action="store_true", help="progress bars on stderr")
    args = parser.parse_args()

    tmp = None
    folder = args.data
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="bg-bench-")
        folder = Path(tmp.name)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(GEN), "--preset", args.preset, "--out", str(folder)], check=True)
        print(f"generated {args.preset} in {time.perf_counter() - started:.1f} s")
    voters_csv = folder / "voters.csv"
    with voters_csv.open("rb") as f:
        voters = sum(1 for _ in f) - 1
    print(f"data: {folder} ({voters:,} voters, voters.csv {voters_csv.stat().st_size / 2**20:.0f} MiB)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    admin = await asyncpg.connect(args.server)
    await admin.execute(f'drop database if exists "{args.db}" with (force)')
    await admin.execute(f'create database "{args.db}"')
    url = with_db(args.server, args.db)
    try:
        migrate.upgrade(url)
        results: list[tuple[str, float]] = []
        await checkpoint(url)
        copy1 = await bare_copy(url, voters_csv)
        results.append(("bare COPY voters.csv, unindexed table", copy1))
        rss0 = peak_rss_mb()
        await checkpoint(url)
        first, phases1, rows1 = await run_import(url, folder, args.progress)
        rss1 = peak_rss_mb()
        results.append(("import into the empty database", first))
        await checkpoint(url)
        second, phases2, rows2 = await run_import(url, folder, args.progress)
        results.append(("import again into the full database (upserts)", second))
        scratch = Path(tempfile.mkdtemp(prefix="bg-floor-"))
        floor = await floor_of_voters(url, scratch)
        scratch.rmdir()
        results.append(("floor: COPY + keys + indexes of voters", sum(floor)))
        await checkpoint(url)
        copy2 = await bare_copy(url, voters_csv)
        results.append(("bare COPY again", copy2))
        yardstick = voters / ((copy1 + copy2) / 2)
        print()
        print(f"{'step':50} {'seconds':>8} {'voters/s':>10} {'vs COPY':>8}")
        for step, seconds in results:
            rate = voters / seconds
            print(f"{step:50} {seconds:8.2f} {rate:10,.0f} {rate / yardstick:7.2f}x")
        print(f"\nthe floor's parts (s): COPY {floor[0]:.2f}, primary and EPIC keys {floor[1]:.2f},"
              f" every other index of voters {floor[2]:.2f}")  # fmt: skip
        print("phases of the first import (s):", ", ".join(f"{k} {v:.2f}" for k, v in phases1.items() if v >= 0.05))
        print("phases of the second import (s):", ", ".join(f"{k} {v:.2f}" for k, v in phases2.items() if v >= 0.05))
        print("rows written, first import:", rows1)
        print("rows written, second import:", rows2)
        print(f"peak RSS of this process: {rss0:.0f} MiB before the imports, {rss1:.0f} MiB after the first,"
              f" {peak_rss_mb():.0f} MiB at the end")  # fmt: skip
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if not args.keep:
            await admin.execute(f'drop database if exists "{args.db}" with (force)')
        await admin.close()
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
