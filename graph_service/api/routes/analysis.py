"""Network analyses over a scope: centrality, link strength, communities, brokers,
fragility, coverage and gaps, rule checks, change between two dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from graph_service.api.deps import ViewDep
from graph_service.api.params import AsOf, LinkType
from graph_service.api.responses import ORJSONResponse
from graph_service.domain import (
    CENTRALITY_MEASURES,
    MAX_TOP,
    REGION_CODE_PATTERN,
    STRONG_LINK_THRESHOLD,
)
from graph_service.services.analysis import AnalysisService, parse_scope
from graph_service.services.analysis_scope import AnalysisScope

router = APIRouter(prefix="/v1/analysis", tags=["analysis"])

MEASURES = CENTRALITY_MEASURES


def get_analysis(request: Request) -> AnalysisService:
    service: AnalysisService = request.app.state.analysis
    return service


AnalysisDep = Annotated[AnalysisService, Depends(get_analysis)]
ScopeText = Annotated[
    str,
    Query(
        max_length=200,
        description="all | region:<division code> | body:<joint body id> | node:<node id>",
    ),
]
Top = Annotated[int, Query(ge=1, le=MAX_TOP)]


def scope_dep(
    scope: ScopeText = "all",
    depth: Annotated[int, Query(ge=1, le=3, description="Hops, for node: scopes.")] = 2,
    link_type: Annotated[list[LinkType] | None, Query()] = None,
    include_structural: Annotated[
        bool, Query(description="Count IN_REGION / SUBORDINATE_TO / ORGANIZATION_OF too.")
    ] = False,
    as_of: AsOf = None,
) -> AnalysisScope:
    return parse_scope(scope, depth, link_type or (), include_structural, as_of)


ScopeDep = Annotated[AnalysisScope, Depends(scope_dep)]


@router.get("/centrality", summary="Centrality: top-N per measure with the method used")
async def centrality(
    scope: ScopeDep,
    analysis: AnalysisDep,
    view: ViewDep,
    measure: Annotated[list[str] | None, Query(description=", ".join(MEASURES))] = None,
    top: Top = 20,
    k: Annotated[
        int | None, Query(ge=1, le=100_000, description="Betweenness sample size.")
    ] = None,
    seed: Annotated[int, Query(ge=0)] = 0,
    exact_max: Annotated[int, Query(ge=10, le=200_000)] = 5000,
) -> ORJSONResponse:
    measures = measure or list(MEASURES)
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        from graph_service.errors import InvalidInputError

        raise InvalidInputError(f"unknown measure {unknown[0]}", field="measure")
    return ORJSONResponse(await analysis.centrality(view, scope, measures, top, k, seed, exact_max))


@router.get("/communities", summary="Louvain communities set against the joint bodies")
async def communities(
    scope: ScopeDep,
    analysis: AnalysisDep,
    view: ViewDep,
    seed: Annotated[int, Query(ge=0)] = 0,
    resolution: Annotated[float, Query(gt=0, le=10)] = 1.0,
) -> ORJSONResponse:
    return ORJSONResponse(await analysis.communities(view, scope, seed, resolution))


@router.get("/brokers", summary="Brokers: Burt's constraint and effective size")
async def brokers(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, top: Top = 20
) -> ORJSONResponse:
    return ORJSONResponse(await analysis.brokers(view, scope, top))


@router.get("/fragility", summary="Bridges and articulation points that cut villages off")
async def fragility(scope: ScopeDep, analysis: AnalysisDep, view: ViewDep) -> ORJSONResponse:
    return ORJSONResponse(await analysis.fragility(view, scope))


@router.get("/link-strength", summary="Explainable strength of a link or any pair of nodes")
async def link_strength(
    source: Annotated[str, Query(min_length=1, max_length=128)],
    target: Annotated[str, Query(min_length=1, max_length=128)],
    analysis: AnalysisDep,
    view: ViewDep,
    as_of: AsOf = None,
    w_duration: Annotated[float | None, Query(ge=0, le=100)] = None,
    w_intensity: Annotated[float | None, Query(ge=0, le=100)] = None,
    w_formality: Annotated[float | None, Query(ge=0, le=100)] = None,
    w_reciprocity: Annotated[float | None, Query(ge=0, le=100)] = None,
    w_outcomes: Annotated[float | None, Query(ge=0, le=100)] = None,
    w_multiplexity: Annotated[float | None, Query(ge=0, le=100)] = None,
    w_overlap: Annotated[float | None, Query(ge=0, le=100)] = None,
    w_administrative: Annotated[float | None, Query(ge=0, le=100)] = None,
) -> ORJSONResponse:
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
    return ORJSONResponse(
        await analysis.link_strength(view, source, target, as_of, weights or None)
    )


@router.get("/links/strongest", summary="The strongest links of a scope")
async def strongest(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, top: Top = 20
) -> ORJSONResponse:
    return ORJSONResponse(await analysis.extreme_links(view, scope, top, strongest=True))


@router.get("/links/weakest", summary="The weakest links of a scope")
async def weakest(
    scope: ScopeDep, analysis: AnalysisDep, view: ViewDep, top: Top = 20
) -> ORJSONResponse:
    return ORJSONResponse(await analysis.extreme_links(view, scope, top, strongest=False))


@router.get("/coverage", summary="Coverage and gaps: joint bodies, pairings, weak villages")
async def coverage(
    region: Annotated[str, Query(pattern=REGION_CODE_PATTERN)],
    analysis: AnalysisDep,
    view: ViewDep,
    as_of: AsOf = None,
    strong_threshold: Annotated[float, Query(ge=0, le=1)] = STRONG_LINK_THRESHOLD,
    details: Annotated[bool, Query(description="Include every village's row.")] = False,
    limit: Annotated[int, Query(ge=0, le=100_000, description="Cut lists at this length.")] = 200,
) -> ORJSONResponse:
    return ORJSONResponse(
        await analysis.coverage(view, region, as_of, strong_threshold, details, limit)
    )


@router.get("/rules", summary="Joint bodies that break their rules, with the evidence")
async def rule_check(scope: ScopeDep, analysis: AnalysisDep, view: ViewDep) -> ORJSONResponse:
    return ORJSONResponse(await analysis.rule_check(view, scope))


@router.get("/change", summary="What changed between two dates")
async def change(
    scope: ScopeDep,
    analysis: AnalysisDep,
    view: ViewDep,
    date_from: Annotated[dt.date, Query(alias="from")],
    date_to: Annotated[dt.date, Query(alias="to")],
) -> ORJSONResponse:
    return ORJSONResponse(await analysis.change(view, scope, date_from, date_to))
