"""Jobs: an analysis or export run in the background, then polled and fetched.

``POST /v1/jobs`` takes ``{"operation": "analysis/centrality", "parameters": {...}}``: the
GET route ``/v1/<operation>`` and its query parameters. The route itself validates them:
the job runs the route's own handler, with the caller's key, in a mode where the handler
stops short of computing (``services.work.CAPTURE``), so parameters are checked by the
route's own declarations (bounds, names, unknown ones refused), the scope is resolved and
every error is the one the route would answer, its field given as ``parameters.<name>``.
What the handler would have computed then runs in the background, without the time budget
and the caps below admin (``graph_service.api.caps``).

``GET /v1/jobs/{job_id}`` answers for a job of any server process; ``…/result`` gives its
result as the route would have (same media type and headers). Who may read which job:
``graph_service.services.jobs``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeAlias
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response
from starlette.types import ASGIApp, Message

from graph_service.access import ANONYMOUS
from graph_service.api.deps import ReaderDep
from graph_service.api.openapi import READ, WRITE, problems
from graph_service.api.query import declared_query
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import Job, JobResult
from graph_service.api.work import JOB_OPERATIONS
from graph_service.errors import GraphServiceError, InvalidInputError
from graph_service.models import ONE_LINE
from graph_service.services.jobs import Jobs
from graph_service.services.work import CAPTURE, Capture, Computation

__all__ = ["JobIn", "router"]

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

if TYPE_CHECKING:
    Operation: TypeAlias = str
else:
    Operation = Literal[JOB_OPERATIONS]
Scalar: TypeAlias = bool | int | float | Annotated[str, ONE_LINE]
#: The headers of the job request the route sees: who the caller is, nothing else.
_CALLER_HEADERS: Final[frozenset[bytes]] = frozenset({b"x-api-key", b"authorization"})
#: What the route's request keeps of the job request's ASGI scope.
_KEPT: Final[tuple[str, ...]] = (
    "type",
    "asgi",
    "http_version",
    "scheme",
    "server",
    "client",
    "root_path",
    "app",
)


class JobIn(BaseModel):
    """What a job computes: a GET route and its query parameters."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=4000)

    operation: Operation = Field(
        description="The route: GET /v1/<operation> (analyses, export, partners).",
        examples=["analysis/centrality"],
    )
    parameters: dict[str, Scalar | list[Scalar]] = Field(
        default_factory=dict,
        max_length=64,
        description="The route's query parameters, as they would be sent (a list for a "
        "repeated one); checked exactly as the route checks them, without the caps below "
        "admin.",
        examples=[{"scope": "all", "include_structural": True, "exact_max": 200000}],
    )


JobId = Annotated[str, Path(min_length=1, max_length=100, description="A job id (job-…).")]


async def get_jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]


def _text(value: Scalar) -> str:
    """A parameter as a query string carries it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query(parameters: Mapping[str, Scalar | list[Scalar]]) -> bytes:
    pairs = [
        (name, _text(value))
        for name, given in parameters.items()
        for value in (given if isinstance(given, list) else [given])
    ]
    return urlencode(pairs).encode("ascii")


def _in_parameters(
    field: str | None, scope: Mapping[str, Any], given: Collection[str]
) -> str | None:
    """A field of the route's as a field of the job body: a query parameter, given or
    declared by the route, is one of ``parameters``."""
    route = scope.get("route")
    names = {*given, *(declared_query(route) if isinstance(route, APIRoute) else ())}
    if field is not None and field.split(".")[0] in names:
        return f"parameters.{field}"
    return field


async def _prepare(request: Request, body: JobIn) -> Computation | Response:
    """Run the operation's route for this caller in capture mode: what it would compute,
    or its answer when it answers without computing (a 406, say)."""
    scope: dict[str, Any] = {k: request.scope[k] for k in _KEPT if k in request.scope}
    path = f"/v1/{body.operation}"
    scope.update(
        method="GET",
        path=path,
        raw_path=path.encode("ascii"),
        query_string=_query(body.parameters),
        headers=[(k, v) for k, v in request.scope["headers"] if k in _CALLER_HEADERS],
        state=dict(request.scope.get("state") or {}),
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    router: ASGIApp = request.app.router
    capture = Capture()
    token = CAPTURE.set(capture)
    try:
        # The app's router, without the app's middleware and exception handlers: the
        # route's errors reach this request's handlers, naming the job body's fields.
        async with AsyncExitStack() as stack:
            scope["fastapi_middleware_astack"] = stack
            await router(scope, receive, send)
    except RequestValidationError as exc:
        errors = [
            {**e, "loc": ("body", "parameters", *e["loc"][1:])} if e["loc"][0] == "query" else e
            for e in exc.errors()
        ]
        raise RequestValidationError(errors) from exc
    except GraphServiceError as exc:
        given = body.parameters.keys()
        exc.field = _in_parameters(exc.field, scope, given)
        if isinstance(exc, InvalidInputError):
            exc.errors = [
                {**e, "field": _in_parameters(e["field"], scope, given)} for e in exc.errors
            ]
        raise
    finally:
        CAPTURE.reset(token)
    if capture.computation is not None:
        return capture.computation
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
    headers.pop("content-length", None)
    return Response(content, status_code=start["status"], headers=headers)


def _shown(job: dict[str, Any]) -> dict[str, Any]:
    done = job["state"] == "done"
    return {**job, "result_url": f"/v1/jobs/{job['id']}/result" if done else None}


@router.post(
    "",
    status_code=202,
    summary="Start a job: an analysis or export in the background, without the time budget",
    response_model=Job,
    responses=problems(
        *WRITE,
        (404, "The parameters name no region, joint body or node (as the route answers)."),
        406,
        (429, "This caller has as many jobs queued or running as one caller may."),
        (503, "As many jobs are queued or running as the service takes; retry later."),
    ),
)
async def start_job(request: Request, body: JobIn, caller: ReaderDep, jobs: JobsDep) -> Response:
    prepared = await _prepare(request, body)
    if isinstance(prepared, Response):
        return prepared
    # Anonymous callers are told apart by address; key holders by account.
    client = request.client.host if request.client else "unknown"
    starter = f"address:{client}" if caller == ANONYMOUS else f"account:{caller.name}"
    job = await jobs.start(caller, starter, body.operation, body.parameters, prepared)
    return ORJSONResponse(
        _shown(job), status_code=202, headers={"Location": f"/v1/jobs/{job['id']}"}
    )


@router.get(
    "/{job_id}",
    summary="A job's state and progress",
    response_model=Job,
    responses=problems(*READ, (404, "No job with this id that this caller may read.")),
)
async def get_job(job_id: JobId, caller: ReaderDep, jobs: JobsDep) -> ORJSONResponse:
    return ORJSONResponse(_shown(await jobs.get(caller, job_id)))


@router.get(
    "/{job_id}/result",
    summary="A finished job's result, as its route answers",
    response_model=JobResult,
    responses={
        200: {
            "content": {
                "application/graphml+xml": {"schema": {"type": "string"}},
                "application/gexf+xml": {"schema": {"type": "string"}},
            },
            "description": "The result, with the media type and headers its route sends.",
        },
        **problems(
            *READ,
            (404, "No job with this id that this caller may read."),
            (409, "The job is not done yet (code job_not_done) or failed (job_failed)."),
        ),
    },
)
async def job_result(job_id: JobId, caller: ReaderDep, jobs: JobsDep) -> Response:
    payload = await jobs.result(caller, job_id)
    return Response(payload.body, media_type=payload.media_type, headers=dict(payload.headers))
