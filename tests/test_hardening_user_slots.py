"""core.connections.UserSlots: at most `share` slots per user, waits bounded, FIFO, nothing lost
to timeouts or cancellation."""

from __future__ import annotations

import asyncio

import pytest

from core.connections import UserSlots
from core.errors import DatabaseUnavailable


async def test_share_is_held_and_handed_over_in_order() -> None:
    slots = UserSlots(2)
    await slots.take("u", 1.0, message="busy")
    await slots.take("u", 1.0, message="busy")
    await slots.take("other", 1.0, message="busy")  # another user's share is their own
    assert (slots.held("u"), slots.held("other")) == (2, 1)
    order: list[str] = []

    async def wait(name: str) -> None:
        await slots.take("u", 5.0, message="busy")
        order.append(name)

    first, second = asyncio.create_task(wait("first")), asyncio.create_task(wait("second"))
    await asyncio.sleep(0.01)
    assert order == [] and slots.held("u") == 2
    slots.give("u")
    await asyncio.sleep(0.01)
    assert order == ["first"] and slots.held("u") == 2
    slots.give("u")
    await asyncio.gather(first, second)
    assert order == ["first", "second"] and slots.held("u") == 2
    for _ in range(2):
        slots.give("u")
    slots.give("other")
    assert (slots.held("u"), slots.held("other")) == (0, 0)
    assert not slots._held and not slots._waiting


async def test_a_wait_is_bounded_and_leaves_nothing_behind() -> None:
    slots = UserSlots(1)
    await slots.take("u", 1.0, message="busy")
    with pytest.raises(DatabaseUnavailable, match="busy"):
        await slots.take("u", 0.05, message="busy")
    assert slots.held("u") == 1 and not slots._waiting
    slots.give("u")
    assert slots.held("u") == 0 and not slots._held
    await slots.take("u", 0.05, message="busy")  # free again at once
    slots.give("u")


async def test_cancelled_waiters_lose_nothing() -> None:
    slots = UserSlots(1)
    await slots.take("u", 1.0, message="busy")
    waiting = asyncio.create_task(slots.take("u", 5.0, message="busy"))
    await asyncio.sleep(0.01)
    waiting.cancel()  # cancelled while waiting: leaves the queue
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not slots._waiting and slots.held("u") == 1

    handed = asyncio.create_task(slots.take("u", 5.0, message="busy"))
    after = asyncio.create_task(slots.take("u", 5.0, message="busy"))
    await asyncio.sleep(0.01)
    slots.give("u")  # the slot goes to `handed` ...
    handed.cancel()  # ... which is cancelled before it runs: the slot passes on to `after`
    with pytest.raises(asyncio.CancelledError):
        await handed
    await asyncio.wait_for(after, 1.0)
    assert slots.held("u") == 1
    slots.give("u")
    assert slots.held("u") == 0 and not slots._held and not slots._waiting
