"""CPU-bound work off the event loop: a bounded worker pool, the one cache policy, single
flight, and the time budget of a request.

An analysis, a recommendation index or an export used to run on the event loop: while one
anonymous ``centrality?scope=all&include_structural=true&exact_max=200000`` took 3–4 s, every
other client, ``/healthz`` included, waited. Now:

* **A bounded pool** (:class:`WorkPool`, ``Settings.work_threads``) runs every CPU-bound step;
  the loop only awaits it. A step waits for a free worker; a request waits at most its
  budget.
* **One cache policy** (:class:`VersionedCache`): entries keyed by what was asked, the store
  version and the audience; bounded (least recently used out); a newer store version drops
  every entry of an older one, so a write invalidates all that depended on the graph. The
  scope graphs (``ScopedGraphs``) and the finished answers (:class:`Work`) both use it.
* **Single flight** (:class:`Flight`): identical concurrent requests share one computation.
* **A time budget** (``Settings.request_budget_seconds``): a request whose answer is not
  ready in time gets ``BusyError`` (503, Retry-After) with a hint to start a job; a
  computation that has started goes on and its result lands in the cache, so the retry is
  answered at once. One that never got a worker is dropped when nobody waits for it.

Threads, not processes — measured (``bench/healthz.py``, BENCHMARKS.md "Responsive server"):

* The work's working set lives in this process and is shared by every request: the scope
  graphs and what is derived from them (CSR matrices, a county's recommender index,
  ~100 MB), built once per store version. A process pool must pickle them to a worker on
  every call (the seed graph's whole scope, 5,946 nodes: 1.5 MB, 17–29 ms to pickle and
  46–98 ms to unpickle; a province is 20 times larger; an index far more), or keep a copy
  per worker process (memory × workers) and route each scope to its worker.
* Threads meet the goal: over HTTP, ``/healthz`` during four concurrent exact centralities
  of that scope answered at p50 4 ms, p99 15 ms (before: 2.9 s at the median, 6.2 s at
  worst; load 3.4–4.9 on a shared 2-core machine). The loop gets the GIL back every switch
  interval; the heavy steps are numpy and scipy sparse products.
* For one analysis of a graph this small, processes kept the event loop cleaner (delays max
  7 ms against 129 ms) at the same speed on a quiet machine, and were slower on a loaded one
  (44 s against 26 s for four). Neither a 1 ms switch interval nor worker threads at a lower
  OS priority (a starved worker holding the GIL stalls the loop) was worth keeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

import orjson

from graph_service import progress
from graph_service.errors import BusyError

__all__ = [
    "CAPTURE",
    "BudgetExceeded",
    "Capture",
    "Computation",
    "Flight",
    "Flights",
    "Payload",
    "VersionedCache",
    "Work",
    "WorkPool",
    "json_payload",
    "preparing_job",
]

T = TypeVar("T")
P = ParamSpec("P")

#: The flight whose task is running (a worker taken by it marks it started).
_FLIGHT: ContextVar[Flight[Any] | None] = ContextVar("flight", default=None)


class WorkPool:
    """A bounded pool of worker threads for CPU-bound steps.

    :meth:`run` waits (on the event loop, without blocking it) for one of ``threads``
    workers, runs the step there with the caller's context variables (progress reports
    reach the caller's listener) and frees the worker when the step ends, even if the
    awaiting coroutine was cancelled meanwhile: a thread cannot be stopped, so its worker
    stays taken until it finishes.
    """

    def __init__(self, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError("a pool needs at least one thread")
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        #: Workers running a step now.
        self.busy = 0

    def _semaphore(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        # One per event loop: a CLI run or a test may start several loops in turn.
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.threads))
        return self._slots[1]

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="graph-work")
        return self._executor

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a worker thread, once one is free."""
        loop = asyncio.get_running_loop()
        slots = self._semaphore(loop)
        await slots.acquire()
        flight = _FLIGHT.get()
        while flight is not None:  # this step is work done for the flights that await it
            flight.started = True
            flight = flight.parent
        context = contextvars.copy_context()
        try:
            future = self._pool().submit(context.run, functools.partial(fn, *args, **kwargs))
        except BaseException:
            slots.release()
            raise
        self.busy += 1

        def finished(_: Future[T]) -> None:
            def release() -> None:
                self.busy -= 1
                slots.release()

            # A closed loop (RuntimeError) has nobody waiting for a worker any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(release)

        future.add_done_callback(finished)
        return await asyncio.wrap_future(future, loop=loop)

    def shutdown(self) -> None:
        """Stop taking work; steps not yet started are dropped, running ones finish."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


class BudgetExceeded(Exception):  # noqa: N818 (a signal inside this module, not an error)
    """A waiter's budget passed before the flight finished; ``started``: whether any of its
    work got a worker (and so goes on)."""

    def __init__(self, started: bool) -> None:
        super().__init__("budget exceeded")
        self.started = started


def _retrieve(task: asyncio.Task[Any]) -> None:
    # A flight nobody waits for any more may fail: its error is seen here, not logged as
    # "never retrieved".
    if not task.cancelled():
        task.exception()


class Flight(Generic[T]):
    """One computation and the requests waiting for it (single flight).

    The computation runs as its own task, so a waiter that gives up (its budget passed,
    its client went away) does not stop it. When the last waiter leaves before any of its
    steps got a worker, it is cancelled: nothing was computed, nothing is wasted.
    """

    def __init__(self, compute: Callable[[], Awaitable[T]]) -> None:
        #: Whether a step of it, or of a flight it started (its scope graph's export), has
        #: taken a worker.
        self.started = False
        #: The flight that started this one, if any (an answer's, for its scope graph).
        self.parent: Flight[Any] | None = _FLIGHT.get()
        #: The share done, when the work reports it (``graph_service.progress``).
        self.progress: float | None = None
        self.waiters = 0
        self.task: asyncio.Task[T] = asyncio.get_running_loop().create_task(self._run(compute))
        self.task.add_done_callback(_retrieve)

    async def _run(self, compute: Callable[[], Awaitable[T]]) -> T:
        _FLIGHT.set(self)
        progress.LISTENER.set(self._progressed)
        return await compute()

    def _progressed(self, fraction: float) -> None:
        self.progress = fraction

    async def wait(self, budget: float | None = None) -> T:
        """The result, or its error; :class:`BudgetExceeded` after ``budget`` seconds."""
        self.waiters += 1
        try:
            done, _ = await asyncio.wait({self.task}, timeout=budget)
            if not done:
                raise BudgetExceeded(self.started)
            return self.task.result()
        finally:
            self.waiters -= 1
            if not self.waiters and not self.started and not self.task.done():
                self.task.cancel()


class Flights(Generic[T]):
    """The computations in flight, by key: a second request for a key joins the first."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, Flight[T]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    def get(self, key: Hashable) -> Flight[T] | None:
        return self._flights.get(key)

    def join(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> Flight[T]:
        flight = self._flights.get(key)
        if flight is not None:
            return flight
        flight = Flight(compute)
        self._flights[key] = flight

        def landed(_: asyncio.Task[T]) -> None:
            if self._flights.get(key) is flight:
                del self._flights[key]

        flight.task.add_done_callback(landed)
        return flight


class VersionedCache(Generic[T]):
    """The service's one cache policy: bounded, least recently used out, one store version.

    Each entry is stored with the store version it was computed on. An entry of a newer
    version drops every entry of an older one (they are never asked for again: every
    request reads the current version first), and a result computed on a version already
    superseded is not kept. ``on_evict`` hears of each key dropped (to free what was
    derived from it). Misses are computed once however many ask at the same time
    (:meth:`flight`). Values are never ``None``. ``retain`` may keep an entry of an older
    version (the scope graphs' staleness bound); the size bound still applies to it.
    """

    def __init__(
        self,
        size: int,
        on_evict: Callable[[Hashable], None] | None = None,
        retain: Callable[[Hashable], bool] | None = None,
    ) -> None:
        self.size = size
        self._on_evict = on_evict
        self._retain = retain
        self._entries: OrderedDict[Hashable, tuple[int, T]] = OrderedDict()
        self._latest = 0
        self.flights: Flights[T] = Flights()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[Hashable]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> T | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        self._entries.move_to_end(key)
        return hit[1]

    def put(self, key: Hashable, version: int, value: T) -> None:
        if version < self._latest:
            return
        if version > self._latest:
            self._latest = version
            for old in [k for k, (v, _) in self._entries.items() if v < version]:
                if self._retain is None or not self._retain(old):
                    self._evict(old)
        self._entries[key] = (version, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._evict(next(iter(self._entries)))

    def _evict(self, key: Hashable) -> None:
        del self._entries[key]
        if self._on_evict is not None:
            self._on_evict(key)

    def flight(self, key: Hashable, version: int, compute: Callable[[], Awaitable[T]]) -> Flight[T]:
        """The computation of ``key`` (on ``version``): the one in flight, or a new one
        whose result is kept."""

        async def computed() -> T:
            value = await compute()
            self.put(key, version, value)
            return value

        return self.flights.join(key, computed)

    async def get_or_compute(
        self,
        key: Hashable,
        version: int,
        compute: Callable[[], Awaitable[T]],
        budget: float | None = None,
    ) -> T:
        hit = self.get(key)
        if hit is not None:
            return hit
        return await self.flight(key, version, compute).wait(budget)


@dataclass(frozen=True, slots=True)
class Payload:
    """A finished answer as it is sent: immutable bytes, so one cached answer serves every
    request (and a job's result is stored as is)."""

    body: bytes
    media_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_payload(data: Any, headers: Mapping[str, str] | None = None) -> Payload:
    """``data`` rendered as the API renders JSON (orjson, non-string keys allowed)."""
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return Payload(body, "application/json", tuple((headers or {}).items()))


@dataclass(frozen=True, slots=True)
class Computation:
    """One answer to compute: its cache key and the store version it was asked on."""

    key: Hashable
    version: int
    compute: Callable[[], Awaitable[Payload]] = field(repr=False)
    #: Whether the answer may be kept (see :meth:`Work.answer`).
    cached: bool = True

    def flight(self, work: Work) -> Flight[Payload]:
        """The computation, joined to an identical one in flight."""
        if self.cached:
            return work.results.flight(self.key, self.version, self.compute)
        return work.results.flights.join(self.key, self.compute)


@dataclass
class Capture:
    """What a route would compute, learnt without computing it (``POST /v1/jobs`` runs the
    route this way: its parameters validated, its caller known, its scope resolved)."""

    computation: Computation | None = None


#: Set while a job is being prepared: :meth:`Work.answer` records instead of computing.
CAPTURE: ContextVar[Capture | None] = ContextVar("capture", default=None)


def preparing_job() -> bool:
    """Whether the current request prepares a job (which lifts the caps below admin)."""
    return CAPTURE.get() is not None


class Work:
    """Answers computed in the pool, cached per (what was asked, store version, audience),
    computed once when asked for at the same time, within a time budget."""

    def __init__(self, pool: WorkPool, cache_entries: int = 256, budget: float = 5.0) -> None:
        self.pool = pool
        self.budget = budget
        self.results: VersionedCache[Payload] = VersionedCache(cache_entries)

    async def answer(
        self,
        what: Hashable,
        version: int,
        audience: str,
        compute: Callable[[], Awaitable[Any]],
        job: Mapping[str, Any] | None = None,
        cached: bool = True,
    ) -> Payload:
        """The answer to ``what`` (hashable: the route and its parameters) on the store's
        ``version``, for an ``audience`` (``Visibility.audience``).

        ``compute`` gives plain data (rendered as JSON in the pool) or a :class:`Payload`;
        it runs its CPU-bound steps with ``pool.run``. ``job`` is the ``POST /v1/jobs`` body
        that would compute the same, suggested when the budget passes. ``cached=False`` for
        an answer that depends on more than the graph's version (the planners' judgements,
        which do not move it): computed once for identical concurrent requests, not kept.
        """
        key = (what, version, audience)

        async def computed() -> Payload:
            value = await compute()
            if isinstance(value, Payload):
                return value
            return await self.pool.run(json_payload, value)

        computation = Computation(key, version, computed, cached)
        capture = CAPTURE.get()
        if capture is not None:
            capture.computation = computation
            return Payload(b"")
        hit = self.results.get(key) if cached else None
        if hit is not None:
            return hit
        try:
            return await computation.flight(self).wait(self.budget)
        except BudgetExceeded as late:
            raise self._busy(late.started, job) from None

    def _busy(self, started: bool, job: Mapping[str, Any] | None) -> BusyError:
        budget = f"{self.budget:g} s"
        if started:
            said = (
                f"the answer was not ready within the time budget ({budget}); it is still "
                "being computed and will be cached: ask again after Retry-After seconds"
            )
        else:
            said = (
                f"every worker ({self.pool.threads}) stayed busy for the time budget "
                f"({budget}); nothing was computed: ask again after Retry-After seconds"
            )
        details: dict[str, Any] = {"budget_seconds": self.budget, "computing": started}
        if job is not None:
            said += ", or start a job (POST /v1/jobs with details.job as its body)"
            details["job"] = dict(job)
        return BusyError(said, details=details)
