"""The situation page's data: ``GET /v1/dashboard`` (one region's cards, charts and action
lists), its Excel report ``GET /v1/dashboard/report.xlsx``, and saved views ``/v1/views``.

The page itself is ``/dashboard`` (routes/explorer.py serves it with the explorer's files).
The answer is computed as the analyses are (``graph_service.api.work``: in the pool, within
the request's time budget, or as a job); it is not cached across requests, since it lists
proposals that a planner's judgement (which does not change the graph's version) removes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from graph_service.api.caps import check_caps, check_scope_size
from graph_service.api.deps import ReaderDep, RequestIdDep, SettingsDep, ViewDep
from graph_service.api.openapi import GUARDED, READ, WRITE, problems
from graph_service.api.params import AsOf
from graph_service.api.responses import ORJSONResponse
from graph_service.api.routes.analysis import COMPUTED
from graph_service.api.schemas import Dashboard, SavedView, SavedViewList
from graph_service.api.work import AnswersDep
from graph_service.domain import CENTRALITY_MEASURES, MAX_LISTED, MAX_TOP, REGION_CODE_PATTERN
from graph_service.errors import InvalidInputError
from graph_service.models import IsoDate, SavedViewIn
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.dashboard import DashboardRequest, DashboardService
from graph_service.services.report import dashboard_workbook
from graph_service.services.saved_views import SavedViews
from graph_service.services.view import GraphView
from graph_service.settings import Settings

__all__ = ["router"]

router = APIRouter(tags=["dashboard"])

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_REGION_404 = (404, "No region with this code (or none the caller may see).")
_VIEW_404 = (404, "No saved view with this id.")
ViewId = Annotated[
    str,
    Path(min_length=2, max_length=40, pattern=r"^v[0-9a-f]+$", description="Saved view id."),
]


async def get_dashboard(request: Request) -> DashboardService:
    service: DashboardService = request.app.state.dashboard
    return service


async def get_views(request: Request) -> SavedViews:
    service: SavedViews = request.app.state.saved_views
    return service


DashboardDep = Annotated[DashboardService, Depends(get_dashboard)]
ViewsDep = Annotated[SavedViews, Depends(get_views)]


async def dashboard_request(
    request: Request,
    view: ViewDep,
    settings: SettingsDep,
    region: Annotated[
        str,
        Query(
            pattern=REGION_CODE_PATTERN,
            description="Division code of a province, city, county or town.",
        ),
    ],
    as_of: AsOf = None,
    since: Annotated[
        IsoDate | None,
        Query(description="An earlier date: each card states its value then and the change."),
    ] = None,
    measure: Annotated[
        Literal[CENTRALITY_MEASURES],  # type: ignore[valid-type]
        Query(description="Centrality measure of the top-N chart."),
    ] = "pagerank",
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="Rows of the centrality chart.")] = 20,
    pairings: Annotated[
        int, Query(ge=0, le=100, description="Weak villages without a partner to propose for.")
    ] = 20,
    limit: Annotated[
        int, Query(ge=0, le=MAX_LISTED, description="Rows of each action list at most.")
    ] = 200,
) -> DashboardRequest:
    check_caps(request, view.caller, settings, limit=limit)
    if since is not None and since > (as_of or dt.date.today()):
        raise InvalidInputError("since is after as_of (or today)", field="since")
    await _check_region(view, settings, region, as_of)
    return DashboardRequest(region, as_of, since, str(measure), top, pairings, limit)


async def _check_region(
    view: GraphView, settings: Settings, region: str, as_of: dt.date | None
) -> None:
    scope = AnalysisScope("region", region, 2, (), True, as_of)
    await check_scope_size(view, settings, scope, field="region")


AskedDep = Annotated[DashboardRequest, Depends(dashboard_request)]


@router.get(
    "/v1/dashboard",
    summary="A region's situation page: cards, charts and action lists",
    response_model=Dashboard,
    responses=problems(*COMPUTED, _REGION_404),
)
async def dashboard(
    asked: AskedDep, view: ViewDep, service: DashboardDep, answers: AnswersDep
) -> Response:
    return await answers(lambda: service.situation(view, asked), cached=False)


@router.get(
    "/v1/dashboard/report.xlsx",
    summary="The situation page as an Excel workbook, a sheet per table",
    response_class=Response,
    responses={
        200: {
            "description": "The workbook (docs/dashboard.md lists its sheets).",
            "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        **problems(*COMPUTED, _REGION_404),
    },
)
async def dashboard_report(asked: AskedDep, view: ViewDep, service: DashboardDep) -> Response:
    data = await service.situation(view, asked)
    workbook = await view.graphs.pool.run(dashboard_workbook, data)
    day = data["as_of"]
    filename = f"dashboard-{asked.region}-{day}.xlsx"
    return Response(
        workbook,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------------- saved views


@router.get(
    "/v1/views",
    summary="The caller's saved views, newest first",
    response_model=SavedViewList,
    responses=problems(*GUARDED),
)
async def list_views(caller: ReaderDep, views: ViewsDep) -> ORJSONResponse:
    return ORJSONResponse({"items": await views.mine(caller)})


@router.post(
    "/v1/views",
    status_code=201,
    summary="Save a view of the situation page under the caller's account",
    response_model=SavedView,
    responses=problems(*WRITE),
)
async def save_view(
    body: Annotated[SavedViewIn, Body()],
    caller: ReaderDep,
    views: ViewsDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    saved = await views.save(caller, body, request_id)
    return ORJSONResponse(saved, status_code=201, headers={"Location": f"/v1/views/{saved['id']}"})


@router.get(
    "/v1/views/{view_id}",
    summary="A saved view (anyone who may read: a view holds parameters, not data)",
    response_model=SavedView,
    responses=problems(*READ, _VIEW_404),
)
async def get_view(view_id: ViewId, caller: ReaderDep, views: ViewsDep) -> ORJSONResponse:
    return ORJSONResponse(await views.get(view_id))


@router.put(
    "/v1/views/{view_id}",
    summary="Replace a saved view (its owner or an admin)",
    response_model=SavedView,
    responses=problems(*WRITE, _VIEW_404),
)
async def replace_view(
    view_id: ViewId,
    body: Annotated[SavedViewIn, Body()],
    caller: ReaderDep,
    views: ViewsDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    return ORJSONResponse(await views.replace(caller, view_id, body, request_id))


@router.delete(
    "/v1/views/{view_id}",
    status_code=204,
    summary="Remove a saved view (its owner or an admin)",
    responses=problems(*GUARDED, _VIEW_404),
)
async def remove_view(
    view_id: ViewId, caller: ReaderDep, views: ViewsDep, request_id: RequestIdDep
) -> Response:
    await views.remove(caller, view_id, request_id)
    return Response(status_code=204)
