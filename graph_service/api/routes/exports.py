"""Exports of a scope for front ends and Gephi: Cytoscape.js, ECharts, node-link, GraphML, GEXF.

``GET /v1/export`` picks the format from ``format``, else from the ``Accept`` header:

=================================================  ==========
``application/graphml+xml``                        graphml
``application/gexf+xml``                           gexf
``application/vnd.graph-service.cytoscape+json``   cytoscape
``application/vnd.graph-service.echarts+json``     echarts
``application/vnd.graph-service.node-link+json``   node-link
``application/json``, ``*/*``, no header           cytoscape
=================================================  ==========

The scope's graph comes from the caller's view (``GraphView.graph``): what the caller may not
see (people, their links, personal fields) is not in it before metrics and layout are
computed, so scores do not leak it either. The export is computed in the worker pool,
cached and bounded by the request's time budget (``graph_service.api.work``); it can run as
a job (``POST /v1/jobs``), and a scope above the caller's cap is refused
(``graph_service.api.caps``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from graph_service.api.caps import check_scope_size
from graph_service.api.deps import SettingsDep, ViewDep
from graph_service.api.openapi import READ, problems
from graph_service.api.params import AsOf, LinkType
from graph_service.api.responses import problem
from graph_service.api.schemas import JsonExport
from graph_service.api.work import AnswersDep
from graph_service.errors import InvalidInputError
from graph_service.services.analysis import parse_scope
from graph_service.services.references import resolve_scope
from graph_service.services.work import Payload, json_payload
from graph_service.visual.formats import FORMATS, MAX_EXPORT_NODES, METRICS, export

__all__ = ["ACCEPTED", "MEDIA_TYPES", "negotiate", "router"]

router = APIRouter(prefix="/v1", tags=["exports"])

#: The media type each format is served as.
MEDIA_TYPES: dict[str, str] = {
    "cytoscape": "application/json",
    "echarts": "application/json",
    "node-link": "application/json",
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
}
#: Accept media types → format (first match by quality wins).
ACCEPTED: dict[str, str] = {
    "application/graphml+xml": "graphml",
    "application/gexf+xml": "gexf",
    "application/vnd.graph-service.cytoscape+json": "cytoscape",
    "application/vnd.graph-service.echarts+json": "echarts",
    "application/vnd.graph-service.node-link+json": "node-link",
    "application/json": "cytoscape",
    "application/*": "cytoscape",
    "*/*": "cytoscape",
}
_EXTENSIONS = {
    "cytoscape": "cytoscape.json",
    "echarts": "echarts.json",
    "node-link": "node-link.json",
    "graphml": "graphml",
    "gexf": "gexf",
}


def negotiate(accept: str | None) -> str | None:
    """The format an ``Accept`` header asks for; cytoscape without one; ``None`` when it
    names nothing this endpoint can serve."""
    if not accept or not accept.strip():
        return "cytoscape"
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranked.append((-quality, position, media.lower()))
    for negative_quality, _, media in sorted(ranked):
        if negative_quality < 0 and media in ACCEPTED:
            return ACCEPTED[media]
    return None


@router.get(
    "/export",
    summary="Export a scope as Cytoscape.js, ECharts, node-link JSON, GraphML or GEXF",
    response_model=JsonExport,
    responses={
        200: {
            "content": {
                "application/graphml+xml": {"schema": {"type": "string"}},
                "application/gexf+xml": {"schema": {"type": "string"}},
            },
            "description": "The scope in the chosen format: cytoscape, echarts and node-link "
            "as application/json, graphml and gexf as XML.",
        },
        **problems(
            *READ,
            (404, "The scope names no region, joint body or node (on as_of)."),
            406,
            (413, "The scope has more than max_nodes nodes."),
            (
                503,
                "The store is unavailable, or the export was not ready within the time "
                "budget: retry after Retry-After seconds, or start a job (details.job).",
            ),
        ),
    },
)
async def export_scope(
    request: Request,
    view: ViewDep,
    answers: AnswersDep,
    settings: SettingsDep,
    scope: Annotated[
        str,
        Query(
            max_length=200,
            description="all | region:<division code> | body:<joint body> | node:<node>; a "
            "body or node by its id, division code or a name only one node has.",
        ),
    ] = "all",
    format: Annotated[
        str | None,
        Query(description=f"{' | '.join(FORMATS)}; without it, the Accept header decides."),
    ] = None,
    depth: Annotated[int, Query(ge=1, le=3, description="Hops, for node: scopes.")] = 2,
    link_type: Annotated[
        list[LinkType] | None, Query(description="Only these link types (default: all).")
    ] = None,
    include_structural: Annotated[
        bool, Query(description="Keep IN_REGION / SUBORDINATE_TO / ORGANIZATION_OF links.")
    ] = True,
    as_of: AsOf = None,
    metric: Annotated[
        str | None, Query(description=f"Node size from: {', '.join(METRICS)}.")
    ] = None,
    strength: Annotated[
        bool, Query(description="Link width from explainable link strength.")
    ] = False,
    layout: Annotated[bool, Query(description="Add seeded layout coordinates.")] = False,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1, description="Seed of the layout.")] = 0,
    max_nodes: Annotated[
        int,
        Query(ge=1, le=MAX_EXPORT_NODES, description="Refuse scopes with more nodes (413)."),
    ] = MAX_EXPORT_NODES,
    download: Annotated[bool, Query(description="Serve as an attachment.")] = False,
    accept: Annotated[
        str | None,
        Header(max_length=1000, description="Picks the format when format is not given."),
    ] = None,
) -> Response:
    if format is not None:
        if format not in FORMATS:
            raise InvalidInputError(
                f"unknown format {format!r}: one of {', '.join(FORMATS)}", field="format"
            )
        fmt = format
    else:
        negotiated = negotiate(accept)
        if negotiated is None:
            return problem(
                406,
                "not_acceptable",
                f"Accept names no export format; use one of {', '.join(sorted(ACCEPTED))} "
                f"or the format parameter ({', '.join(FORMATS)})",
                title="Not acceptable",
                field="Accept",
                instance=request.url.path,
            )
        fmt = negotiated
    if metric is not None and metric not in METRICS:
        raise InvalidInputError(
            f"unknown metric {metric!r}: one of {', '.join(METRICS)}", field="metric"
        )
    analysis_scope = await resolve_scope(
        view, parse_scope(scope, depth, link_type or (), include_structural, as_of)
    )
    await check_scope_size(view, settings, analysis_scope)

    async def exported() -> Payload:
        # A download holds every write made before it was asked for.
        graph, _ = await view.graph(analysis_scope, exact=True)
        meta: dict[str, Any] = {
            "title": f"党建联建网络 · {scope}",
            "scope": analysis_scope.describe(),
            "format": fmt,
            "redacted": not view.caller.sees_personal,
        }
        # Metrics, layout and serialisation are CPU work: in the pool.
        result = await view.graphs.pool.run(
            export,
            graph,
            fmt,
            metric=metric,
            strength=strength,
            with_layout=layout,
            seed=seed,
            as_of=as_of,
            max_nodes=max_nodes,
            meta=meta,
        )
        headers = {
            "Vary": "Accept",
            "X-Export-Nodes": str(graph.number_of_nodes()),
            "X-Export-Links": str(graph.number_of_edges()),
        }
        if download or isinstance(result, bytes):
            # From the resolved scope: a name given for the node has no place in a file name.
            described = ":".join(filter(None, (scope.partition(":")[0], analysis_scope.value)))
            slug = re.sub(r"[^A-Za-z0-9._-]+", "_", described).strip("_") or "graph"
            disposition = f'attachment; filename="graph-{slug}.{_EXTENSIONS[fmt]}"'
            headers["Content-Disposition"] = disposition
        if isinstance(result, bytes):
            return Payload(result, MEDIA_TYPES[fmt], tuple(headers.items()))
        return await view.graphs.pool.run(json_payload, result, headers)

    # The format may come from the Accept header: it is part of what the answer depends on.
    return await answers(exported, vary=fmt)
