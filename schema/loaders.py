"""Per-request batches (DataLoaders kept in ctx.memo) for fields resolved once per object of a
list of units: stats, parents, breadcrumbs. Each batch is one statement for the whole list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from resolvers.context import ReadContext
from resolvers.stats import StatsData, stats_for_units
from resolvers.units import UnitRefRow, UnitRow, breadcrumbs, units_by_ids

K = TypeVar("K")
V = TypeVar("V")


def loader(
    ctx: ReadContext,
    name: Hashable,
    load_fn: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]],
    cache_key_fn: Callable[[K], Hashable] | None = None,
) -> DataLoader[K, V]:
    key = ("loader", name)
    found = ctx.memo.get(key)
    if found is None:
        found = DataLoader(load_fn=load_fn, cache_key_fn=cache_key_fn)
        ctx.memo[key] = found
    return found


def stats_loader(ctx: ReadContext) -> DataLoader[UnitRow, StatsData]:
    async def load(units: list[UnitRow]) -> list[StatsData]:
        found = await stats_for_units(ctx, units)
        return [found[u.id] for u in units]

    return loader(ctx, "stats", load, cache_key_fn=lambda u: u.id)


def scoped_unit_loader(ctx: ReadContext) -> DataLoader[int, UnitRow | None]:
    """Units by id inside the viewer's unit.read cover (None outside)."""

    async def load(ids: list[int]) -> list[UnitRow | None]:
        found = await units_by_ids(ctx, ids)
        return [found.get(i) for i in ids]

    return loader(ctx, "units", load)


def breadcrumb_loader(ctx: ReadContext) -> DataLoader[int, UnitRefRow | None]:
    async def load(ids: list[int]) -> list[UnitRefRow | None]:
        found = await breadcrumbs(ctx, ids)
        return [found.get(i) for i in ids]

    return loader(ctx, "breadcrumbs", load)


def keyed_loader(ctx: ReadContext, name: Hashable, load_fn: Callable[[list[Any]], Awaitable[Sequence[Any]]]):
    return loader(ctx, name, load_fn)
