"""schema.voters: the hot list builds each Voter straight from its row (`voter_from_row`); that
must be the very object the record path (`voter_from_record(record_of(...))`) gives."""

from __future__ import annotations

import asyncpg
import pytest

from resolvers.voters import NO_SCHEMES, SCHEMES_JOIN, VOTER_COLUMNS, Want, _visibility, record_of, redacted_row
from schema.units import unit_from_row
from schema.voters import voter_from_record, voter_from_row
from tests.read_support import context


@pytest.mark.parametrize("user", ["u-000001", "u-000006", "u-000008", "u-000013", "u-000016"])
@pytest.mark.parametrize("schemes", [True, False])
async def test_voter_from_row_is_voter_from_record(read_pool: asyncpg.Pool, user: str, schemes: bool) -> None:
    ctx = await context(read_pool, user)
    rows = await read_pool.fetch(
        f"select {VOTER_COLUMNS}, false as on_call_list, {'sc.*' if schemes else NO_SCHEMES} "
        f"from voters v join units b on b.id = v.booth_id {SCHEMES_JOIN if schemes else ''} order by v.id limit 300"
    )
    assert rows
    vis = _visibility(ctx)
    for row in rows:
        red = redacted_row(ctx, row, vis, Want())
        record = record_of(row, red)
        booth = unit_from_row(record.booth)
        assert voter_from_row(row, red, booth) == voter_from_record(record, booth)
