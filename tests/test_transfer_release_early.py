"""A first import starts its release's search once the voters are written (resolvers.release.
start_first_release), beside the beneficiaries and the recount: what it stores is exactly what a
release of every booth stores afterwards, on the direct first load and on the careful one."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import asyncpg
import pytest

from resolvers import release as release_module
from resolvers.release import release
from transfer import importer


async def released(conn: asyncpg.Connection) -> tuple[list[tuple], tuple]:
    cells = await conn.fetch("select unit_id, dim, key, n, suppressed from released_cells order by 1, 2, 3")
    stats = await conn.fetchrow("select min_cell, booths, cells, suppressed, degenerate from stats_release")
    return [tuple(r) for r in cells], tuple(stats)


@pytest.mark.parametrize("careful", [False, True])
async def test_the_early_release_stores_what_a_release_of_every_booth_stores(
    conn: asyncpg.Connection,
    tiny_dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    careful: bool,
) -> None:
    started: list[object] = []

    async def spy(c: asyncpg.Connection) -> release_module.EarlyRelease | None:
        early = await release_module.start_first_release(c)
        started.append(early)
        return early

    monkeypatch.setattr(importer, "start_first_release", spy)
    folder = tiny_dataset
    if careful:  # one quoted field, which the direct COPY declines: voters.csv is staged
        folder = tmp_path / "quoted"
        shutil.copytree(tiny_dataset, folder)
        head, first, rest = (folder / "voters.csv").read_text(encoding="utf-8").split("\n", 2)
        cells = first.split(",")
        cells[3] = f'"{cells[3]}"'
        (folder / "voters.csv").write_text("\n".join([head, ",".join(cells), rest]), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="transfer.importer"):
        report = await importer.import_folder(conn, folder)
    assert ("careful path" in caplog.text) is careful
    assert report.files["voters.csv"].inserted > 0
    assert len(started) == 1 and started[0] is not None
    early = await released(conn)
    assert len(early[0]) > 100 and any(s for *_, s in early[0])

    await release(conn)  # every booth, the way a first release did it before
    assert await released(conn) == early


async def test_a_release_read_in_small_chunks_stores_what_one_read_stores(
    conn: asyncpg.Connection, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booths' cells come through a cursor, CHUNK_ROWS at a time (resolvers.release): many
    small chunks, the first release's and a later one's, file the same cells as one."""
    monkeypatch.setattr(release_module, "CHUNK_ROWS", 7)
    await importer.import_folder(conn, tiny_dataset)  # its first release, in chunks of 7
    chunked = await released(conn)
    assert len(chunked[0]) > 7 * 20
    monkeypatch.setattr(release_module, "CHUNK_ROWS", 1_000_000)
    await release(conn)  # every booth again, in one chunk
    assert await released(conn) == chunked
    monkeypatch.setattr(release_module, "CHUNK_ROWS", 7)
    await release(conn)
    assert await released(conn) == chunked
