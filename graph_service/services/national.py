"""Batch analyses of every county of a province or of the country, on a Dask cluster.

A run plans its partitions (:func:`plan_counties`: every county under a division code, or
every county of the store), submits one Dask task per county (:func:`analyse_county`) and
writes what comes back as records beside the graph (``services.stored_analyses``), in
batches, as the tasks finish. The existing routes then answer from those records while the
store stays at the version they were computed at (``AnalysisService``).

Each task computes what the routes compute, with the routes' own service objects
(``AnalysisService`` with ``use_stored=False``, ``RecommendationService``), so a stored
answer is the answer the route would have given: a county's centrality set, its coverage
report, its rule check and the assignment of helpers to its weak villages.

Workers need the data. Each worker process opens the store itself from the run's settings
(the embedded store's file or the Neo4j URI, both reachable from the workers) once, keeps it
open on an event loop of its own for the tasks that follow (:class:`_WorkerStore`), exports
its county, computes and returns a compact answer; the client alone writes. The cluster is a
``distributed.LocalCluster`` of ``workers`` processes unless a scheduler address is given
(``tcp://host:port``: any Dask cluster whose workers can import this package and reach the
store).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import secrets
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from graph_service.access import Caller
from graph_service.domain import (
    CENTRALITY_MEASURES,
    COUNTY_CODE_LENGTH,
    STRONG_LINK_THRESHOLD,
    is_region_code,
)
from graph_service.errors import GraphServiceError, InvalidInputError, NotFoundError
from graph_service.models import AssignmentIn
from graph_service.services.analysis import AnalysisService
from graph_service.services.analysis_scope import AnalysisScope, ScopedGraphs
from graph_service.services.recommendations import RecommendationService
from graph_service.services.stored_analyses import (
    STORED_ANALYSES,
    centrality_parameters,
    coverage_parameters,
    rules_parameters,
    stored_record,
)
from graph_service.services.view import GraphView, GraphViews
from graph_service.settings import Settings
from graph_service.store.factory import create_store
from graph_service.store.protocol import GraphStore, NodeQuery, RecordDoc, WriteBatch, WriteContext

__all__ = [
    "AUDIENCES",
    "BatchPlan",
    "CountyResult",
    "NationalReport",
    "analyse_county",
    "close_worker_stores",
    "plan_counties",
    "run_national",
]

T = TypeVar("T")

#: Who a stored answer is for: the public (anonymous callers) or key holders (``full``).
AUDIENCES: Final[tuple[str, ...]] = ("public", "full")
#: Records written per transaction by the client.
_WRITE_BATCH: Final[int] = 200
#: Region nodes read per page while planning.
_PAGE: Final[int] = 1000


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """What to compute for each county, with the routes' defaults: a stored answer serves
    exactly the requests that ask with these parameters."""

    analyses: tuple[str, ...] = STORED_ANALYSES
    measures: tuple[str, ...] = CENTRALITY_MEASURES
    top: int = 20
    k: int | None = None
    seed: int = 0
    exact_max: int = 5000
    strong_threshold: float = STRONG_LINK_THRESHOLD
    limit: int = 200
    as_of: dt.date | None = None
    audiences: tuple[str, ...] = ("public",)

    def __post_init__(self) -> None:
        unknown = [a for a in self.analyses if a not in STORED_ANALYSES]
        if unknown:
            raise InvalidInputError(
                f"unknown analysis {unknown[0]}: {', '.join(STORED_ANALYSES)}", field="analysis"
            )
        unknown = [m for m in self.measures if m not in CENTRALITY_MEASURES]
        if unknown:
            raise InvalidInputError(f"unknown measure {unknown[0]}", field="measure")
        unknown = [a for a in self.audiences if a not in AUDIENCES]
        if unknown or not self.audiences:
            raise InvalidInputError("audiences are public and/or full", field="audience")


@dataclass(slots=True)
class CountyResult:
    """One county's answers, as a task returns them (small: answers are top-N and cut
    lists), or why an analysis could not run."""

    region: str
    #: The store version read before the county's graph was exported. A write during the
    #: task makes the answers look older than they are: stale, never served, never wrong.
    version: int
    #: (analysis, audience, parameters, answer) per answer computed.
    answers: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    #: (analysis, audience, error code, message) per analysis that failed.
    errors: list[tuple[str, str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: CPU seconds of the worker's process during the task (its one task at a time): what
    #: the county costs, however busy the machine is.
    cpu_seconds: float = 0.0


@dataclass(slots=True)
class NationalReport:
    region: str | None
    run: str
    counties: int
    workers: int
    scheduler: str
    answers_stored: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: Sum of the tasks' own times: compute seconds however many workers shared them.
    task_seconds: float = 0.0
    #: Sum of the tasks' CPU seconds.
    task_cpu_seconds: float = 0.0

    @property
    def counties_per_second(self) -> float:
        return self.counties / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "run": self.run,
            "counties": self.counties,
            "workers": self.workers,
            "scheduler": self.scheduler,
            "answers_stored": self.answers_stored,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "task_seconds": round(self.task_seconds, 3),
            "task_cpu_seconds": round(self.task_cpu_seconds, 3),
            "counties_per_second": round(self.counties_per_second, 3),
        }


# ----------------------------------------------------------------------------- planning


async def plan_counties(store: GraphStore, region: str | None) -> list[str]:
    """The division codes of every county the store holds under ``region`` (a province,
    city or county code; ``None``: the whole country), in code order."""
    if region is not None:
        if not is_region_code(region) or len(region) > COUNTY_CODE_LENGTH:
            raise InvalidInputError(
                f"{region!r} is not the division code of a province, city or county",
                field="region",
            )
        if not await store.get_nodes([f"region:{region}"]):
            raise NotFoundError(f"no region with code {region}", field="region")
    found: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_nodes(
            NodeQuery(labels=["Region"], region_code=region), cursor, _PAGE
        )
        found += [
            str(doc["region_code"])
            for doc in page.items
            if len(str(doc.get("region_code") or "")) == COUNTY_CODE_LENGTH
        ]
        cursor = page.next_cursor
        if cursor is None:
            return sorted(set(found))


# ------------------------------------------------------------------------------- workers


def _caller(audience: str) -> Caller:
    """Whom an answer is computed as: anonymous for the public, an admin for key holders
    (every key holder sees the same graph: ``Visibility.audience``)."""
    if audience == "full":
        return Caller(authenticated=True, name="batch:national", role="admin")
    return Caller(authenticated=False, name="batch:national")


class _WorkerStore:
    """A worker process's open store, on an event loop of its own in a daemon thread.

    Tasks run on Dask's threads, each without a loop; the store (the Neo4j driver above
    all) belongs to the loop it was opened on, so every task's coroutine is sent to that
    one loop. Opened on the first task, kept for the next ones (opening the embedded store
    reads the whole graph), closed by :func:`close_worker_stores` at the end of a run.
    """

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.store = create_store(settings)
        self.call(self.store.open())
        # One worker thread for the CPU-bound steps: the cluster's workers are the parallelism.
        self.views = GraphViews(self.store, ScopedGraphs(self.store, size=4))
        self.analysis = AnalysisService(
            settings.seed_dir / "rules" / "joint_body_rules.json", use_stored=False
        )
        self.recommendations = RecommendationService(self.store, settings.recommend_tie_weight)

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        try:
            self.call(self.store.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


#: The open stores of this process, by what identifies the store.
_WORKER_STORES: dict[tuple[str, str], _WorkerStore] = {}
_WORKER_LOCK = threading.Lock()


def _store_identity(settings: Settings) -> tuple[str, str]:
    if settings.neo4j_uri:
        return ("neo4j", f"{settings.neo4j_uri}/{settings.neo4j_database}")
    return ("embedded", str(settings.embedded_path.resolve()))


def _worker_store(settings: Settings) -> _WorkerStore:
    identity = _store_identity(settings)
    with _WORKER_LOCK:
        found = _WORKER_STORES.get(identity)
        if found is None:
            found = _WORKER_STORES[identity] = _WorkerStore(settings)
        return found


def close_worker_stores() -> int:
    """Close the stores this process opened for tasks (run on every worker at the end of a
    run); returns how many."""
    with _WORKER_LOCK:
        stores = list(_WORKER_STORES.values())
        _WORKER_STORES.clear()
    for worker in stores:
        worker.close()
    return len(stores)


async def _county_answers(worker: _WorkerStore, code: str, plan: BatchPlan) -> CountyResult:
    result = CountyResult(code, await worker.store.version())
    region_scope = AnalysisScope("region", code, 2, (), False, plan.as_of)
    for audience in plan.audiences:
        view: GraphView = worker.views.view(_caller(audience))
        for analysis in plan.analyses:
            try:
                parameters, answer = await _answer(worker, view, analysis, code, region_scope, plan)
            except GraphServiceError as exc:
                result.errors.append((analysis, audience, exc.code, exc.message))
                continue
            result.answers.append((analysis, audience, parameters, answer))
    return result


async def _answer(
    worker: _WorkerStore,
    view: GraphView,
    analysis: str,
    code: str,
    scope: AnalysisScope,
    plan: BatchPlan,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One analysis of one county, as its route computes it, and what decides it."""
    service = worker.analysis
    if analysis == "centrality":
        parameters = centrality_parameters(
            scope, plan.measures, plan.top, plan.k, plan.seed, plan.exact_max
        )
        answer = await service.centrality(
            view, scope, plan.measures, plan.top, plan.k, plan.seed, plan.exact_max
        )
    elif analysis == "coverage":
        parameters = coverage_parameters(code, plan.as_of, plan.strong_threshold, False, plan.limit)
        answer = await service.coverage(
            view, code, plan.as_of, plan.strong_threshold, False, plan.limit
        )
    elif analysis == "rules":
        parameters = rules_parameters(scope)
        answer = await service.rule_check(view, scope)
    else:
        request = AssignmentIn(region=code, as_of=plan.as_of)
        parameters = request.model_dump(mode="json")
        answer = await worker.recommendations.assignment(view, request)
    return parameters, answer


def analyse_county(settings: Settings, code: str, plan: BatchPlan) -> CountyResult:
    """The Dask task: one county's analyses, on this worker's store."""
    started, cpu_started = time.perf_counter(), time.process_time()
    worker = _worker_store(settings)
    result = worker.call(_county_answers(worker, code, plan))
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    return result


# -------------------------------------------------------------------------------- client


def _distributed() -> Any:
    """``dask.distributed``, imported when a run starts (the API never needs it); untyped."""
    return importlib.import_module("distributed")


@contextmanager
def _client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client of the cluster at ``scheduler``, or of a LocalCluster of ``workers``
    processes (one thread each: the analyses hold the GIL) for the duration of a run."""
    dask = _distributed()
    if scheduler is not None:
        with dask.Client(scheduler) as client:
            yield client
        return
    with (
        dask.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        dask.Client(cluster) as client,
    ):
        yield client


ProgressCallback = Callable[[int, int, CountyResult], None]


async def run_national(
    settings: Settings,
    store: GraphStore,
    region: str | None,
    plan: BatchPlan,
    workers: int = 2,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
    client: Any = None,
) -> NationalReport:
    """Analyse every county under ``region`` (the country when ``None``) on a Dask cluster
    and store the answers; ``progress(done, total, result)`` after each county. ``client``:
    an open ``distributed.Client`` to use instead of making one (tests, benchmarks)."""
    counties = await plan_counties(store, region)
    run = f"national-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    report = NationalReport(
        region, run, len(counties), workers, scheduler or ("client" if client else "local")
    )
    started = time.perf_counter()
    if client is not None:
        await _submit_all(client, settings, store, counties, plan, report, progress)
    else:
        with _client(workers, scheduler) as made:
            await _submit_all(made, settings, store, counties, plan, report, progress)
    report.seconds = time.perf_counter() - started
    return report


async def _submit_all(
    client: Any,
    settings: Settings,
    store: GraphStore,
    counties: Sequence[str],
    plan: BatchPlan,
    report: NationalReport,
    progress: ProgressCallback | None,
) -> None:
    pending: list[RecordDoc] = []

    async def flush() -> None:
        if pending:
            context = WriteContext(account="batch:national", operation="analysis.national")
            await store.write(WriteBatch(records=list(pending), context=context))
            report.answers_stored += len(pending)
            pending.clear()

    futures = [
        client.submit(analyse_county, settings, code, plan, key=f"{report.run}-{code}", pure=False)
        for code in counties
    ]
    try:
        for done, future in enumerate(_distributed().as_completed(futures), start=1):
            try:
                result: CountyResult = future.result()
            except Exception as exc:  # a worker lost or a bug: the other counties go on
                code = str(future.key).removeprefix(f"{report.run}-")
                result = CountyResult(code, -1, errors=[("*", "*", "task_failed", repr(exc))])
            report.task_seconds += result.seconds
            report.task_cpu_seconds += result.cpu_seconds
            for analysis, audience, parameters, answer in result.answers:
                pending.append(
                    stored_record(
                        analysis,
                        parameters,
                        audience,
                        result.region,
                        result.version,
                        answer,
                        report.run,
                    )
                )
            report.errors += [
                {"region": result.region, "analysis": a, "audience": w, "code": c, "message": m}
                for a, w, c, m in result.errors
            ]
            if len(pending) >= _WRITE_BATCH:
                await flush()
            if progress is not None:
                progress(done, len(counties), result)
        await flush()
    finally:
        client.cancel(futures)
        client.run(close_worker_stores)
