"""Pairing recommendations: ranked partners with reasons, region-wide assignment, what-if,
and planners' judgements (the only way a recommendation becomes a link).

Partners, assignments and what-if runs are computed in the worker pool, cached and bounded
by the request's time budget (``graph_service.api.work``); an assignment's and a what-if's
sizes are capped below admin (``graph_service.api.caps``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from graph_service.api.caps import check_caps
from graph_service.api.deps import PlannerViewDep, RequestIdDep, SettingsDep, ViewDep
from graph_service.api.openapi import READ, WRITE, problems
from graph_service.api.params import AsOf, Cursor, NodeLabel, PageLimit
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import (
    Assignment,
    Judgement,
    JudgementCreated,
    JudgementPage,
    Partners,
    WhatIf,
)
from graph_service.api.work import AnswersDep
from graph_service.domain import MAX_CANDIDATES
from graph_service.models import AssignmentIn, IsoDateTime, JudgementIn, WhatIfIn
from graph_service.services.recommendations import RecommendationService, judgement_time
from graph_service.store.protocol import JudgementQuery

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])


async def get_recommendations(request: Request) -> RecommendationService:
    service: RecommendationService = request.app.state.recommendations
    return service


RecommendationsDep = Annotated[RecommendationService, Depends(get_recommendations)]
#: 503 of a computed answer: the store is down, or the answer was not ready in time.
BUSY = (
    503,
    "The store is unavailable, or the answer was not ready within the time budget: retry "
    "after Retry-After seconds.",
)


@router.get(
    "/partners",
    summary="Ranked partners for a village or a helper, with reasons",
    response_model=Partners,
    responses=problems(*READ, (404, "No target node (on as_of)."), BUSY),
)
async def partners(
    target: Annotated[
        str,
        Query(
            min_length=1,
            max_length=128,
            description="A village, its party organization, or a helper (enterprise, "
            "institution, joint body): id, division code or a name only one node has.",
        ),
    ],
    service: RecommendationsDep,
    view: ViewDep,
    answers: AnswersDep,
    top: Annotated[
        int, Query(ge=1, le=MAX_CANDIDATES, description="Candidates to return at most.")
    ] = 10,
    partner_label: Annotated[
        list[NodeLabel] | None,
        Query(
            description="Only partners of these labels (Village, Enterprise, Institution, "
            "PartyOrganization for joint bodies)."
        ),
    ] = None,
    max_distance: Annotated[
        Literal["town", "county", "city", "province"] | None,
        Query(description="Only partners in the same town, county, city or province."),
    ] = None,
    program: Annotated[
        str | None,
        Query(max_length=128, description="A program (id or name): score for its pairings."),
    ] = None,
    relation: Annotated[
        Literal["pairing", "co_building"],
        Query(description="pairing (结对帮扶, 以强带弱) or co_building (联建共建 between peers)."),
    ] = "pairing",
    include_full: Annotated[
        bool, Query(description="Keep helpers (or villages) without a free place.")
    ] = False,
    as_of: AsOf = None,
) -> Response:
    return await answers(
        lambda: service.partners(
            view,
            target,
            top,
            partner_label or (),
            max_distance,
            program,
            as_of,
            relation,
            include_full,
        ),
        # Judgements (rejections, unsure marks) change the answer, not the store version.
        cached=False,
    )


@router.post(
    "/assignment",
    summary="Assign helpers to weak villages across a region under capacities (min-cost flow)",
    response_model=Assignment,
    responses=problems(
        *WRITE, (404, "No region with this code, or a village or helper not in it."), BUSY
    ),
)
async def assignment(
    request: Request,
    body: AssignmentIn,
    service: RecommendationsDep,
    view: ViewDep,
    answers: AnswersDep,
    settings: SettingsDep,
) -> Response:
    check_caps(
        request,
        view.caller,
        settings,
        k=body.k,
        top_candidates=body.top_candidates,
        villages=body.villages,
        helpers=body.helpers,
    )
    return await answers(
        lambda: service.assignment(view, body),
        vary=body.model_dump_json(),
        cached=False,  # rejected pairs are never assigned: judgements change the plan
    )


@router.post(
    "/what-if",
    summary="What proposed pairings would change; nothing is written",
    response_model=WhatIf,
    responses=problems(
        *WRITE,
        (404, "No region with this code, or a proposed node not in it (on as_of)."),
        BUSY,
    ),
)
async def what_if(
    request: Request,
    body: WhatIfIn,
    service: RecommendationsDep,
    view: PlannerViewDep,
    answers: AnswersDep,
    settings: SettingsDep,
) -> Response:
    check_caps(request, view.caller, settings, proposed=body.proposed)
    return await answers(lambda: service.what_if(view, body), vary=body.model_dump_json())


@router.post(
    "/judgements",
    status_code=201,
    summary="Accept, reject or mark unsure a recommended pair (accept writes the link)",
    response_model=JudgementCreated,
    responses=problems(
        *WRITE,
        (404, "No target, partner or program node."),
        (409, "Accepting a pair that are partners already, or whose link exists."),
    ),
)
async def judge(
    body: JudgementIn, service: RecommendationsDep, view: PlannerViewDep, request_id: RequestIdDep
) -> ORJSONResponse:
    result = await service.judge(view, body, request_id)
    return ORJSONResponse(
        result,
        status_code=201,
        headers={"Location": f"/v1/recommendations/judgements/{result['judgement']['id']}"},
    )


@router.get(
    "/judgements",
    summary="Judgements, oldest first: the audit trail of decisions",
    response_model=JudgementPage,
    responses=problems(*READ),
)
async def judgements(
    service: RecommendationsDep,
    view: ViewDep,
    target: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Judgements for this target.")
    ] = None,
    partner: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Judgements of this partner.")
    ] = None,
    node: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Either end.")
    ] = None,
    decision: Annotated[
        list[Literal["accept", "reject", "unsure"]] | None,
        Query(description="Only these decisions."),
    ] = None,
    decided_by: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only this planner's.")
    ] = None,
    since: Annotated[IsoDateTime | None, Query(description="Decided at or after.")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Decided at or before.")] = None,
    current: Annotated[
        bool, Query(description="Only the judgement in force per pair (the latest).")
    ] = False,
    cursor: Cursor = None,
    limit: PageLimit = 100,
) -> ORJSONResponse:
    query = JudgementQuery(
        target=target,
        partner=partner,
        node=node,
        decisions=decision or (),
        decided_by=decided_by,
        since=judgement_time(since) if since else None,
        until=judgement_time(until) if until else None,
        current=current,
    )
    return ORJSONResponse(await service.judgements(view, query, cursor, limit))


@router.get(
    "/judgements/{judgement_id}",
    summary="One judgement",
    response_model=Judgement,
    responses=problems(*READ, (404, "No judgement with this id.")),
)
async def judgement(
    judgement_id: Annotated[
        str, Path(min_length=1, max_length=128, description="A judgement id (judgement:…).")
    ],
    service: RecommendationsDep,
    view: ViewDep,
) -> ORJSONResponse:
    return ORJSONResponse(await service.judgement(view, judgement_id))
