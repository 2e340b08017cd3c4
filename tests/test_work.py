"""The worker pool, the one cache policy, single flight and the time budget
(``graph_service.services.work``), without a server."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from graph_service import progress
from graph_service.access import ANONYMOUS, Caller
from graph_service.errors import BusyError, NotFoundError
from graph_service.services.jobs import LOST_AFTER, Jobs, JobStore
from graph_service.services.work import (
    CAPTURE,
    BudgetExceeded,
    Capture,
    Payload,
    VersionedCache,
    Work,
    WorkPool,
)

pytestmark = pytest.mark.anyio


async def test_the_pool_runs_steps_off_the_event_loop_and_bounds_them() -> None:
    pool = WorkPool(2)
    running = 0
    most = 0
    lock = threading.Lock()
    loop_thread = threading.get_ident()

    def step() -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return threading.get_ident()

    threads = await asyncio.gather(*(pool.run(step) for _ in range(6)))
    assert loop_thread not in threads
    assert most == 2
    assert pool.busy == 0
    pool.shutdown()


async def test_the_loop_answers_while_the_pool_works() -> None:
    pool = WorkPool(1)
    work = asyncio.ensure_future(pool.run(time.sleep, 0.3))
    started = time.perf_counter()
    await asyncio.sleep(0.01)
    assert time.perf_counter() - started < 0.2
    await work
    pool.shutdown()


async def test_a_cancelled_waiter_keeps_its_worker_until_the_step_ends() -> None:
    pool = WorkPool(1)
    first = asyncio.ensure_future(pool.run(time.sleep, 0.2))
    await asyncio.sleep(0.02)
    first.cancel()
    second = asyncio.ensure_future(pool.run(lambda: "second"))
    await asyncio.sleep(0.05)
    # The thread still sleeps: the one worker is still taken.
    assert not second.done()
    assert await second == "second"
    pool.shutdown()


async def test_progress_reports_reach_the_flight_from_the_worker_thread() -> None:
    cache: VersionedCache[str] = VersionedCache(4)
    pool = WorkPool(1)

    def step() -> str:
        progress.report(3, 4)
        return "done"

    async def compute() -> str:
        return await pool.run(step)

    flight = cache.flight("k", 1, compute)
    assert await flight.wait() == "done"
    assert flight.progress == 0.75
    assert flight.started
    pool.shutdown()


# ---------------------------------------------------------------------------- the cache


async def test_the_cache_is_bounded_least_recently_used_out() -> None:
    evicted: list[Any] = []
    cache: VersionedCache[str] = VersionedCache(2, evicted.append)
    cache.put("a", 1, "A")
    cache.put("b", 1, "B")
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("c", 1, "C")
    assert list(cache) == ["a", "c"]
    assert evicted == ["b"]


async def test_a_newer_store_version_drops_the_older_entries() -> None:
    evicted: list[Any] = []
    cache: VersionedCache[str] = VersionedCache(8, evicted.append)
    cache.put("a", 1, "A")
    cache.put("b", 1, "B")
    cache.put("c", 2, "C")
    assert list(cache) == ["c"]
    assert sorted(evicted) == ["a", "b"]
    # A result computed on a version already superseded is not kept.
    cache.put("d", 1, "D")
    assert "d" not in cache
    assert len(cache) == 1


async def test_identical_concurrent_requests_compute_once() -> None:
    cache: VersionedCache[int] = VersionedCache(4)
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*(cache.get_or_compute("k", 1, compute) for _ in range(5)))
    assert results == [42] * 5
    assert calls == 1
    assert await cache.get_or_compute("k", 1, compute) == 42
    assert calls == 1
    assert len(cache.flights) == 0


async def test_a_failed_computation_is_not_kept() -> None:
    cache: VersionedCache[int] = VersionedCache(4)

    async def fail() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await cache.get_or_compute("k", 1, fail)
    assert "k" not in cache


# ---------------------------------------------------------------------------- the budget


async def test_past_its_budget_a_started_computation_goes_on_into_the_cache() -> None:
    pool = WorkPool(1)
    work = Work(pool, cache_entries=8, budget=0.05)
    calls = 0

    def slow() -> dict[str, int]:
        nonlocal calls
        calls += 1
        time.sleep(0.3)
        return {"answer": 1}

    async def compute() -> Any:
        return await pool.run(slow)

    job = {"operation": "analysis/centrality", "parameters": {"scope": "all"}}
    with pytest.raises(BusyError) as caught:
        await work.answer("what", 1, "public", compute, job=job)
    assert caught.value.details["computing"] is True
    assert caught.value.details["job"] == job
    assert "POST /v1/jobs" in caught.value.message
    await asyncio.sleep(0.4)
    answer = await work.answer("what", 1, "public", compute)
    assert answer.body == b'{"answer":1}'
    assert calls == 1
    pool.shutdown()


async def test_work_of_a_flight_an_answer_started_counts_as_the_answers() -> None:
    """An answer's first step is often its scope graph, exported in a flight of its own
    (the graph cache's). A worker taken by that flight has started the answer too: past the
    budget the answer is computing, not dropped, and lands in the cache."""
    pool = WorkPool(1)
    work = Work(pool, cache_entries=8, budget=0.05)
    graphs: VersionedCache[str] = VersionedCache(4)
    calls = 0

    def export() -> str:
        time.sleep(0.2)
        return "graph"

    async def exported() -> str:
        return await pool.run(export)

    async def compute() -> Any:
        nonlocal calls
        graph = await graphs.get_or_compute("scope", 1, exported)
        calls += 1
        return {"graph": graph}

    with pytest.raises(BusyError) as caught:
        await work.answer("what", 1, "public", compute)
    assert caught.value.details["computing"] is True
    await asyncio.sleep(0.3)
    answer = await work.answer("what", 1, "public", compute)
    assert answer.body == b'{"graph":"graph"}'
    assert calls == 1
    pool.shutdown()


async def test_a_request_that_never_got_a_worker_computes_nothing() -> None:
    pool = WorkPool(1)
    work = Work(pool, cache_entries=8, budget=0.05)
    ran: list[str] = []

    def step(name: str) -> str:
        ran.append(name)
        time.sleep(0.2)
        return name

    async def first() -> Any:
        return await pool.run(step, "first")

    async def second() -> Any:
        return await pool.run(step, "second")

    occupying = asyncio.ensure_future(work.answer("one", 1, "public", first))
    await asyncio.sleep(0.01)
    with pytest.raises(BusyError) as caught:
        await work.answer("two", 1, "public", second)
    assert caught.value.details["computing"] is False
    assert "every worker" in caught.value.message
    with pytest.raises(BusyError):
        await occupying
    await asyncio.sleep(0.3)
    assert ran == ["first"]  # the second was dropped, not queued for nobody
    assert len(work.results.flights) == 0
    pool.shutdown()


async def test_an_uncached_answer_is_computed_each_time() -> None:
    work = Work(WorkPool(1), cache_entries=8, budget=1)
    calls = 0

    async def compute() -> Any:
        nonlocal calls
        calls += 1
        return {"n": calls}

    await work.answer("w", 1, "public", compute, cached=False)
    second = await work.answer("w", 1, "public", compute, cached=False)
    assert second.body == b'{"n":2}'
    assert len(work.results) == 0


async def test_a_captured_answer_is_recorded_not_computed() -> None:
    work = Work(WorkPool(1), cache_entries=8, budget=1)

    async def compute() -> Any:
        raise AssertionError("computed")

    capture = Capture()
    token = CAPTURE.set(capture)
    try:
        placeholder = await work.answer("w", 3, "full", compute)
    finally:
        CAPTURE.reset(token)
    assert placeholder == Payload(b"")
    assert capture.computation is not None
    assert capture.computation.key == ("w", 3, "full")
    assert capture.computation.version == 3


async def test_budget_exceeded_says_whether_work_started() -> None:
    cache: VersionedCache[int] = VersionedCache(4)

    async def forever() -> int:
        await asyncio.sleep(10)
        return 1

    flight = cache.flight("k", 1, forever)
    with pytest.raises(BudgetExceeded) as caught:
        await flight.wait(0.01)
    assert caught.value.started is False
    await asyncio.sleep(0)
    assert flight.task.cancelled() or flight.task.cancelling()


# ---------------------------------------------------------------------------- jobs


async def test_a_job_whose_process_stopped_reads_as_failed(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    jobs = Jobs(store, Work(WorkPool(1)))
    record = {
        "id": "job-lost",
        "operation": "analysis/centrality",
        "parameters": "{}",
        "state": "running",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "heartbeat_at": time.time() - LOST_AFTER - 1,
        "account": "anonymous",
        "personal": 0,
        "starter": "address:127.0.0.1",
    }
    await store.create(record)
    await store.create({**record, "id": "job-alive", "heartbeat_at": time.time()})
    assert await store.active("address:127.0.0.1") == (1, 1)
    lost = await jobs.get(ANONYMOUS, "job-lost")
    assert lost["state"] == "failed"
    assert lost["error"]["code"] == "job_lost"
    assert (await jobs.get(ANONYMOUS, "job-alive"))["state"] == "running"
    # A key holder's job is the account's and the admins', not anyone else's.
    await store.create({**record, "id": "job-mine", "account": "县委组织部", "personal": 1})
    with pytest.raises(NotFoundError):
        await jobs.get(ANONYMOUS, "job-mine")
    with pytest.raises(NotFoundError):
        await jobs.get(Caller(authenticated=True, name="other", role="planner"), "job-mine")
    assert await jobs.get(Caller(authenticated=True, name="县委组织部"), "job-mine")
    assert await jobs.get(Caller(authenticated=True, name="root", role="admin"), "job-mine")
    await jobs.close()
