"""`Followed`: a task's reports relayed in order, `None` in its silences, its answer or error
after; a reader that stops cancels the work and waits until the work's own cleanup is done."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from ragis.web.followed import Followed


async def test_reports_come_in_order_then_the_answer() -> None:
    async def work(report: Callable[[int], None]) -> str:
        for n in range(5):
            report(n)
            await asyncio.sleep(0)
        report(5)  # the last report, sent as the work ends, is not lost
        return "finished"

    followed: Followed[int, str] = Followed(work)
    assert [r async for r in followed.reports()] == [0, 1, 2, 3, 4, 5]
    assert followed.result() == "finished"


async def test_a_silence_longer_than_idle_is_told_as_none() -> None:
    go_on = asyncio.Event()

    async def work(report: Callable[[str], None]) -> None:
        report("before")
        await go_on.wait()  # quiet until the reader has seen a silence
        report("after")

    followed: Followed[str, None] = Followed(work, idle=0.001)
    seen: list[str | None] = []
    async for item in followed.reports():
        seen.append(item)
        if item is None:
            go_on.set()
    assert seen[0] == "before"
    assert None in seen
    assert seen[-1] == "after"
    assert [s for s in seen if s is not None] == ["before", "after"]


async def test_the_works_error_is_raised_by_result() -> None:
    async def work(report: Callable[[int], None]) -> None:
        report(1)
        raise ValueError("broken")

    followed: Followed[int, None] = Followed(work)
    assert [r async for r in followed.reports()] == [1]
    with pytest.raises(ValueError, match="broken"):
        followed.result()


async def test_a_reader_that_stops_cancels_the_work_and_waits_for_its_cleanup() -> None:
    cleaned: list[str] = []
    forever = asyncio.Event()

    async def work(report: Callable[[int], None]) -> None:
        try:
            report(1)
            await forever.wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # a cleanup that takes a while (removing what it wrote)
            cleaned.append("removed")
            raise

    followed: Followed[int, None] = Followed(work)
    reports = followed.reports()
    assert await anext(reports) == 1
    await reports.aclose()  # what a response does when its client leaves
    assert cleaned == ["removed"]


async def test_a_cancelled_reader_still_waits_for_the_cleanup() -> None:
    cleaned: list[str] = []
    started = asyncio.Event()

    async def work(report: Callable[[int], None]) -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.01)
            cleaned.append("removed")

    followed: Followed[int, None] = Followed(work)

    async def read() -> None:
        async for _ in followed.reports():
            pass

    reader = asyncio.create_task(read())
    await started.wait()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert cleaned == ["removed"]


async def test_result_before_the_end_is_an_error() -> None:
    async def work(report: Callable[[int], None]) -> None:
        return None

    with pytest.raises(RuntimeError):
        Followed(work).result()
