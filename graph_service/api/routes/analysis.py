"""Network analyses over a scope: centrality, link strength, communities, brokers,
fragility, coverage and gaps, rule checks, change between two dates.

Each answer is computed in the worker pool, cached and bounded by the request's time budget
(``graph_service.api.work``); the parameters that scale the cost are capped below admin
(``graph_service.api.caps``). Every route here can also run as a job (``POST /v1/jobs``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from graph_service.api.caps import check_caps, check_scope_size
from graph_service.api.deps import SettingsDep, ViewDep
from graph_service.api.openapi import READ, problems
from graph_service.api.params import NODE_REFERENCE, AsOf, LinkType
from graph_service.api.record_time import RecordedViewDep
from graph_service.api.schemas import (
    AnalysisCoverage,
    Brokers,
    Centrality,
    Change,
    Communities,
    ExtremeLinks,
    Fragility,
    LinkStrength,
    RuleCheck,
)
from graph_service.api.work import AnswersDep
from graph_service.domain import (
    CENTRALITY_MEASURES,
    MAX_LISTED,
    MAX_LISTED_MEMBERS,
    MAX_TOP,
    MIN_BETWEENNESS_SAMPLE,
    REGION_CODE_PATTERN,
    STRONG_LINK_THRESHOLD,
)
from graph_service.models import IsoDate
from graph_service.services.analysis import AnalysisService, parse_scope
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.references import resolve_scope

router = APIRouter(prefix="/v1/analysis", tags=["analysis"])

MEASURES = CENTRALITY_MEASURES


async def get_analysis(request: Request) -> AnalysisService:
    service: AnalysisService = request.app.state.analysis
    return service


AnalysisDep = Annotated[AnalysisService, Depends(get_analysis)]
ScopeText = Annotated[
    str,
    Query(
        max_length=200,
        description="all | region:<division code> | body:<joint body> | node:<node>; a body or "
        "node by its id, division code or a name only one node has.",
    ),
]
Top = Annotated[int, Query(ge=1, le=MAX_TOP, description="Rows to return at most.")]
#: The statuses of every analysis: its own, 503 when the answer is not ready within the
#: request's time budget, and (with the caps below admin) 422.
COMPUTED: tuple[int | tuple[int, str], ...] = (
    *READ,
    (
        503,
        "The store is unavailable, or the answer was not ready within the time budget: "
        "retry after Retry-After seconds, or start a job (details.job).",
    ),
)
#: Every scoped analysis: a scope naming an unknown region, joint body or node is a 404.
SCOPED = problems(*COMPUTED, (404, "The scope names no region, joint body or node (on as_of)."))
#: A component weight of link strength (docs/link-strength.md); the model's when omitted.
_Weight = Annotated[
    float | None,
    Query(ge=0, le=100, description="Weight of this strength component; default the model's."),
]


async def scope_dep(
    view: ViewDep,
    settings: SettingsDep,
    scope: ScopeText = "all",
    depth: Annotated[int, Query(ge=1, le=3, description="Hops, for node: scopes.")] = 2,
    link_type: Annotated[
        list[LinkType] | None,
        Query(description="Only these link types (default: all non-structural)."),
    ] = None,
    include_structural: Annotated[
        bool, Query(description="Count IN_REGION / SUBORDINATE_TO / ORGANIZATION_OF too.")
    ] = False,
    as_of: AsOf = None,
) -> AnalysisScope:
    parsed = parse_scope(scope, depth, link_type or (), include_structural, as_of)
    resolved = await resolve_scope(view, parsed)
    await check_scope_size(view, settings, resolved)
    return resolved


ScopeDep = Annotated[AnalysisScope, Depends(scope_dep)]


@router.get(
    "/centrality",
    summary="Centrality: top-N per measure with the method used",
    response_model=Centrality,
    responses=SCOPED,
)
async def centrality(
    request: Request,
    scope: ScopeDep,
    analysis: AnalysisDep,
    view: ViewDep,
    answers: AnswersDep,
    settings: SettingsDep,
    measure: Annotated[list[str] | None, Query(description=", ".join(MEASURES))] = None,
    top: Top = 20,
    k: Annotated[
        int | None,
        Query(ge=MIN_BETWEENNESS_SAMPLE, le=100_000, description="Betweenness sample size."),
    ] = None,
    seed: Annotated[int, Query(ge=0, description="Seed of sampled betweenness.")] = 0,
    exact_max: Annotated[
        int,
        Query(ge=10, le=200_000, description="Larger graphs sample betweenness (k sources)."),
    ] = 5000,
) -> Response:
    measures = measure or list(MEASURES)
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        from graph_service.errors import InvalidInputError

        raise InvalidInputError(f"unknown measure {unknown[0]}", field="measure")
    check_caps(request, view.caller, settings, exact_max=exact_max, k=k)
    return await answers(
        lambda: analysis.centrality(view, scope, measures, top, k, seed, exact_max)
    )


@router.get(
    "/communities",
    summary="Louvain communities set against the joint bodies",
    response_model=Communities,
    responses=SCOPED,
)
async def communities(
    request: Request,
    scope: ScopeDep,
    analysis: AnalysisDep,
    view: ViewDep,
    answers: AnswersDep,
    settings: SettingsDep,
    seed: Annotated[int, Query(ge=0, description="Seed of the Louvain method.")] = 0,
    resolution: Annotated[
        float, Query(gt=0, le=10, description="Louvain resolution: above 1, smaller communities.")
    ] = 1.0,
    limit: Annotated[
        int,
        Query(ge=0, le=MAX_LISTED_MEMBERS, description="Members listed per community at most."),
    ] = 50,
) -> Response:
    check_caps(request, view.caller, settings, limit=limit)
    return await answers(lambda: analysis.communities(view, scope, seed, resolution, limit))


@router.get(
    "/brokers",
    summary="Brokers: Burt's constraint and effective size",
    response_model=Brokers,
    responses=SCOPED,
)
async def brokers(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, answers: AnswersDep, top: Top = 20
) -> Response:
    return await answers(lambda: analysis.brokers(view, scope, top))


@router.get(
    "/fragility",
    summary="Bridges and articulation points that cut villages off",
    response_model=Fragility,
    responses=SCOPED,
)
async def fragility(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, answers: AnswersDep
) -> Response:
    return await answers(lambda: analysis.fragility(view, scope))


@router.get(
    "/link-strength",
    summary="Explainable strength of a link or any pair of nodes",
    response_model=LinkStrength,
    responses=problems(*COMPUTED, (404, "No source or target node.")),
)
async def link_strength(
    source: Annotated[str, Query(min_length=1, max_length=128, description=NODE_REFERENCE)],
    target: Annotated[str, Query(min_length=1, max_length=128, description=NODE_REFERENCE)],
    analysis: AnalysisDep,
    view: ViewDep,
    answers: AnswersDep,
    as_of: AsOf = None,
    w_duration: _Weight = None,
    w_intensity: _Weight = None,
    w_formality: _Weight = None,
    w_reciprocity: _Weight = None,
    w_outcomes: _Weight = None,
    w_multiplexity: _Weight = None,
    w_overlap: _Weight = None,
    w_administrative: _Weight = None,
) -> Response:
    given = {
        "duration": w_duration,
        "intensity": w_intensity,
        "formality": w_formality,
        "reciprocity": w_reciprocity,
        "outcomes": w_outcomes,
        "multiplexity": w_multiplexity,
        "overlap": w_overlap,
        "administrative": w_administrative,
    }
    weights = {k: v for k, v in given.items() if v is not None}
    return await answers(
        lambda: analysis.link_strength(view, source, target, as_of, weights or None)
    )


@router.get(
    "/links/strongest",
    summary="The strongest links of a scope",
    response_model=ExtremeLinks,
    responses=SCOPED,
)
async def strongest(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, answers: AnswersDep, top: Top = 20
) -> Response:
    return await answers(lambda: analysis.extreme_links(view, scope, top, strongest=True))


@router.get(
    "/links/weakest",
    summary="The weakest links of a scope",
    response_model=ExtremeLinks,
    responses=SCOPED,
)
async def weakest(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, answers: AnswersDep, top: Top = 20
) -> Response:
    return await answers(lambda: analysis.extreme_links(view, scope, top, strongest=False))


@router.get(
    "/coverage",
    summary="Coverage and gaps: joint bodies, pairings, weak villages",
    response_model=AnalysisCoverage,
    responses=problems(*COMPUTED, (404, "No region with this code.")),
)
async def coverage(
    request: Request,
    region: Annotated[
        str,
        Query(
            pattern=REGION_CODE_PATTERN,
            description="Division code of a province, city, county or town.",
        ),
    ],
    analysis: AnalysisDep,
    view: RecordedViewDep,
    answers: AnswersDep,
    settings: SettingsDep,
    as_of: AsOf = None,
    strong_threshold: Annotated[
        float, Query(ge=0, le=1, description="Link strength a strong partner reaches.")
    ] = STRONG_LINK_THRESHOLD,
    details: Annotated[bool, Query(description="Include every village's row.")] = False,
    limit: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_LISTED,
            description="Villages listed per list at most (weak villages, villages without "
            "a joint body or without any); each list states its total.",
        ),
    ] = 200,
) -> Response:
    check_caps(request, view.caller, settings, limit=limit)
    scope = AnalysisScope("region", region, 2, (), True, as_of)
    await check_scope_size(view, settings, scope, field="region")
    return await answers(
        lambda: analysis.coverage(view, region, as_of, strong_threshold, details, limit)
    )


@router.get(
    "/rules",
    summary="Joint bodies that break their rules, with the evidence",
    response_model=RuleCheck,
    responses=SCOPED,
)
async def rule_check(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, answers: AnswersDep
) -> Response:
    return await answers(lambda: analysis.rule_check(view, scope))


@router.get(
    "/change",
    summary="What changed between two dates",
    response_model=Change,
    responses=SCOPED,
)
async def change(
    scope: ScopeDep,
    analysis: AnalysisDep,
    view: ViewDep,
    answers: AnswersDep,
    date_from: Annotated[IsoDate, Query(alias="from", description="The earlier day (YYYY-MM-DD).")],
    date_to: Annotated[
        IsoDate, Query(alias="to", description="The later day (YYYY-MM-DD), not before from.")
    ],
    top: Annotated[
        int, Query(ge=1, le=MAX_TOP, description="PageRank risers and fallers listed at most.")
    ] = 10,
) -> Response:
    return await answers(lambda: analysis.change(view, scope, date_from, date_to, top))
