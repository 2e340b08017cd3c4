"""A route's answer computed as ``graph_service.services.work`` computes answers: in the
worker pool, cached per (route, parameters, store version, audience), once for identical
concurrent requests, within the request's time budget (else 503 busy with Retry-After and
the ``POST /v1/jobs`` body that computes the same in the background).

A route takes :data:`AnswersDep` and returns ``await answers(compute)``; the cache key is
the route and its query parameters as sent (with the store version and the audience they
determine the answer), plus ``vary`` for what else decides it (a body, a negotiated format);
``cached=False`` where the answer depends on more than the graph (judgements).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Request
from starlette.responses import Response

from graph_service.api.deps import ViewDep
from graph_service.services.analysis_scope import ScopedGraphs
from graph_service.services.jobs import JobLimits, Jobs, JobStore
from graph_service.services.view import GraphView, GraphViews
from graph_service.services.work import Work, WorkPool
from graph_service.settings import Settings
from graph_service.store.protocol import GraphStore

__all__ = [
    "JOB_OPERATIONS",
    "Answers",
    "AnswersDep",
    "get_work",
    "install_work",
    "job_body",
]

#: The operations a job runs (``POST /v1/jobs``): each is the GET route ``/v1/<operation>``,
#: its query parameters the job's ``parameters``.
JOB_OPERATIONS: Final[tuple[str, ...]] = (
    "analysis/centrality",
    "analysis/communities",
    "analysis/brokers",
    "analysis/fragility",
    "analysis/link-strength",
    "analysis/links/strongest",
    "analysis/links/weakest",
    "analysis/coverage",
    "analysis/rules",
    "analysis/change",
    "dashboard",
    "export",
)


def install_work(
    app: FastAPI, settings: Settings, store: GraphStore
) -> Callable[[], Awaitable[None]]:
    """The worker pool and what uses it, on ``app.state``: ``work`` (answers), ``views``
    (the read layer, its scope graphs computed in the pool) and ``jobs``. Returns what stops
    them (running jobs are recorded as failed)."""
    pool = WorkPool(settings.work_threads)
    app.state.work = work = Work(
        pool, settings.result_cache_entries, settings.request_budget_seconds
    )
    graphs = ScopedGraphs(
        store, settings.graph_cache_entries, pool, max_stale_s=settings.scope_graph_max_stale_s
    )
    app.state.views = GraphViews(store, graphs)
    limits = JobLimits(
        settings.job_concurrency,
        settings.job_max_active,
        settings.job_max_active_per_caller,
        settings.job_retention_hours,
    )
    app.state.jobs = jobs = Jobs(JobStore(settings.jobs_path), work, limits)

    async def stop() -> None:
        await jobs.close()
        pool.shutdown()

    return stop


def get_work(request: Request) -> Work:
    work: Work = request.app.state.work
    return work


def job_body(request: Request) -> dict[str, Any] | None:
    """The ``POST /v1/jobs`` body computing what this GET request asks, if a job can."""
    operation = request.url.path.removeprefix("/v1/")
    if request.method != "GET" or operation not in JOB_OPERATIONS:
        return None
    parameters: dict[str, Any] = {}
    for name in dict.fromkeys(request.query_params.keys()):
        values = request.query_params.getlist(name)
        parameters[name] = values if len(values) > 1 else values[0]
    return {"operation": operation, "parameters": parameters}


class Answers:
    """The answer of one request (see the module docstring)."""

    def __init__(self, work: Work, view: GraphView, request: Request) -> None:
        self.work = work
        self.view = view
        self.request = request

    async def __call__(
        self, compute: Callable[[], Awaitable[Any]], vary: Hashable = None, cached: bool = True
    ) -> Response:
        request = self.request
        what = (
            request.method,
            request.url.path,
            tuple(sorted(request.query_params.multi_items())),
            vary,
        )
        audience = (await self.view.policy()).audience
        version = await self.view.store.version()
        job = job_body(request)
        payload = await self.work.answer(what, version, audience, compute, job=job, cached=cached)
        return Response(payload.body, media_type=payload.media_type, headers=dict(payload.headers))


async def answers(request: Request, view: ViewDep) -> Answers:
    return Answers(get_work(request), view, request)


AnswersDep = Annotated[Answers, Depends(answers)]
