"""Walk list and voter slips of one booth of 1,500 voters: seconds per printout (target < 2 s).

    .venv/bin/python bench/printouts.py                 # server at 127.0.0.1:5432, user postgres
    .venv/bin/python bench/printouts.py --runs 7 --url postgresql://postgres@127.0.0.1:5432/postgres

On a scratch database (created, dropped at the end): gen_dataset.py writes one booth of
--voters voters, transfer.importer loads it; then, per run, the printout as GET /export/*.pdf
makes it: prepare_printout (visibility, the rows through the scope filter, the data.export
audit, one transaction) and the PDF (fpdf2, HarfBuzz shaping), as the booth president. Prints
each phase's median and the worst run, in wall-clock seconds and in this process's CPU seconds
(the PDF is pure Python: on a busy machine its wall time is its CPU time stretched by the
load, on an idle one the two agree); the first run of a process pays fpdf2's font loading.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import migrate  # noqa: E402
from core.viewer import load_viewer  # noqa: E402
from policies import PolicyEngine  # noqa: E402
from transfer import printout_pdf  # noqa: E402
from transfer.importer import import_folder  # noqa: E402
from transfer.printouts import prepare_printout  # noqa: E402

GEN = ROOT.parent / "shared" / "tools" / "gen_dataset.py"


def with_db(url: str, name: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--voters", type=int, default=1500)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    name = f"bg_bench_print_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.url)
    await admin.execute(f'create database "{name}"')
    url = with_db(args.url, name)
    try:
        migrate.upgrade(url)
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(
                [sys.executable, str(GEN), "--out", folder, "--regions", "1", "--districts", "1",
                 "--mandals-per-district", "1", "--booths-per-mandal", "1", "--voters-per-booth", str(args.voters)],
                check=True, capture_output=True,
            )  # fmt: skip
            conn = await asyncpg.connect(url)
            await import_folder(conn, Path(folder))
        booth, president = await conn.fetchrow(
            """select u.code, a.user_id from units u join assignments a on a.unit_id = u.id
               where u.level = 'BOOTH' and a.role = 'BOOTH_PRESIDENT' limit 1"""
        )
        voters = await conn.fetchval("select count(*) from voters")
        viewer = await load_viewer(conn, president)
        assert viewer is not None
        policy = PolicyEngine()
        print(f"booth {booth}: {voters} voters; {args.runs} runs each; first run of the process included")
        for kind, render in (("walklist", printout_pdf.walk_list), ("slips", printout_pdf.slips)):
            prepare, draw, total, cpu, size = [], [], [], [], 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                printout = await prepare_printout(conn, viewer, policy, kind=kind, unit=booth, page=None)
                t1, c1 = time.perf_counter(), time.process_time()
                body = render(printout.booth, printout.page, printout.entries)
                t2, c2 = time.perf_counter(), time.process_time()
                cpu.append(c2 - c1)
                prepare.append(t1 - t0)
                draw.append(t2 - t1)
                total.append(t2 - t0)
                size = len(body)
            print(
                f"{kind:9} rows+audit {statistics.median(prepare) * 1000:6.0f} ms  pdf {statistics.median(draw):5.2f} s"
                f" (cpu {statistics.median(cpu):4.2f} s)"
                f"  total median {statistics.median(total):5.2f} s  worst {max(total):5.2f} s  "
                f"({size / 1024:.0f} KiB, {len(printout.entries)} voters)"
            )
        await conn.close()
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
