"""The Room's inbox: first in, first out, bounded, and its head visible without taking it."""

from __future__ import annotations

import asyncio

import pytest

from docstream.collab.room.inbox import Inbox


async def test_items_come_out_in_order_and_peek_leaves_the_head_in_place() -> None:
    inbox: Inbox[int] = Inbox(10)
    assert inbox.peek() is None and inbox.empty()
    for i in range(3):
        inbox.put_nowait(i)
    assert inbox.peek() == 0 and inbox.peek() == 0 and inbox.qsize() == 3
    assert [await inbox.get(), inbox.get_nowait(), await inbox.get()] == [0, 1, 2]
    assert inbox.empty()
    with pytest.raises(asyncio.QueueEmpty):
        inbox.get_nowait()


async def test_a_full_inbox_refuses_put_nowait_and_put_waits_for_room() -> None:
    inbox: Inbox[str] = Inbox(2)
    inbox.put_nowait("a")
    inbox.put_nowait("b")
    assert inbox.full()
    with pytest.raises(asyncio.QueueFull):
        inbox.put_nowait("c")
    waiting = asyncio.get_running_loop().create_task(inbox.put("c"))
    await asyncio.sleep(0.01)
    assert not waiting.done() and inbox.qsize() == 2
    assert inbox.get_nowait() == "a"
    await asyncio.wait_for(waiting, 1)
    assert [inbox.get_nowait(), inbox.get_nowait()] == ["b", "c"]


async def test_get_waits_for_an_item() -> None:
    inbox: Inbox[int] = Inbox(1)
    getting = asyncio.get_running_loop().create_task(inbox.get())
    await asyncio.sleep(0.01)
    assert not getting.done()
    inbox.put_nowait(7)
    assert await asyncio.wait_for(getting, 1) == 7


async def test_several_blocked_producers_all_get_in_and_nothing_is_lost() -> None:
    inbox: Inbox[int] = Inbox(1)
    producers = [asyncio.get_running_loop().create_task(inbox.put(i)) for i in range(20)]
    got = [await asyncio.wait_for(inbox.get(), 1) for _ in range(20)]
    await asyncio.gather(*producers)
    assert sorted(got) == list(range(20)) and inbox.empty()


async def test_a_cancelled_put_leaves_nothing_behind() -> None:
    inbox: Inbox[int] = Inbox(1)
    inbox.put_nowait(1)
    waiting = asyncio.get_running_loop().create_task(inbox.put(2))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert inbox.get_nowait() == 1 and inbox.empty()


def test_an_inbox_holds_at_least_one_item() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Inbox(0)


async def test_a_freed_slot_wakes_one_waiting_producer_oldest_first() -> None:
    inbox: Inbox[int] = Inbox(1)
    inbox.put_nowait(0)
    loop = asyncio.get_running_loop()
    producers = []
    for i in range(1, 4):
        producers.append(loop.create_task(inbox.put(i)))
        await asyncio.sleep(0)  # each starts waiting in turn
    assert len(inbox._putters) == 3
    assert inbox.get_nowait() == 0
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # One slot, one producer in: the first that waited. The others still wait their turn.
    assert inbox.peek() == 1 and [p.done() for p in producers] == [True, False, False]
    assert [inbox.get_nowait() for _ in range(1)] == [1]
    for expected in (2, 3):
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert inbox.get_nowait() == expected
    await asyncio.gather(*producers)
