"""Graph queries: atomic batches, search, neighbourhoods, paths."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

from graph_service.api.deps import RequestIdDep, ServiceDep, SettingsDep, ViewDep, WriterDep
from graph_service.api.openapi import READ, WRITE, problems
from graph_service.api.params import (
    MAX_NEIGHBOURHOOD,
    MAX_PATHS,
    NODE_REFERENCE,
    AsOf,
    LinkType,
    NodeLabel,
    NodeRefPath,
)
from graph_service.api.record_time import RecordedViewDep
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import Neighbourhood, Paths, SearchResult, WriteSummary
from graph_service.domain import DEFAULT_NEIGHBOURHOOD
from graph_service.errors import InvalidInputError
from graph_service.models import ID_PATTERN, LinkIn, NodeIn
from graph_service.services.references import resolve_node
from graph_service.store.protocol import MAX_DEPTH, NeighbourhoodQuery, PathQuery, Subgraph

router = APIRouter(prefix="/v1", tags=["graph"])

_Id = Annotated[str, Field(pattern=ID_PATTERN)]


class WriteRequest(BaseModel):
    """An atomic batch: everything is written, or nothing."""

    model_config = ConfigDict(extra="forbid")

    nodes: list[NodeIn] = Field(default_factory=list)
    links: list[LinkIn] = Field(default_factory=list)
    delete_links: list[_Id] = Field(default_factory=list)
    delete_nodes: list[_Id] = Field(default_factory=list)
    detach: bool = False


def _subgraph(subgraph: Subgraph) -> dict[str, Any]:
    return {"nodes": subgraph.nodes, "links": subgraph.links, "truncated": subgraph.truncated}


@router.post(
    "/batch",
    summary="Write nodes and links atomically",
    response_model=WriteSummary,
    responses=problems(
        *WRITE,
        (404, "A link end, or a node or link to delete, does not exist."),
        (
            409,
            "The batch conflicts with what is stored (a node's label, a link's ends, "
            "a node with links deleted without detach).",
        ),
    ),
)
async def write_batch(
    request: Annotated[WriteRequest, Body()],
    service: ServiceDep,
    caller: WriterDep,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    for name in ("nodes", "links", "delete_links", "delete_nodes"):
        if len(getattr(request, name)) > settings.max_batch_size:
            raise InvalidInputError(
                f"at most {settings.max_batch_size} {name} per batch", field=name
            )
    result = await service.write(
        caller,
        nodes=[n.model_dump(mode="json", exclude_none=True) for n in request.nodes],
        links=[link.model_dump(mode="json", exclude_none=True) for link in request.links],
        delete_links=request.delete_links,
        delete_nodes=request.delete_nodes,
        detach=request.detach,
        request_id=request_id,
    )
    return ORJSONResponse(
        {
            "nodes_created": result.nodes_created,
            "nodes_updated": result.nodes_updated,
            "links_created": result.links_created,
            "links_updated": result.links_updated,
            "links_deleted": result.links_deleted,
            "nodes_deleted": result.nodes_deleted,
            "version": result.version,
        }
    )


@router.get(
    "/search",
    summary="Search names and aliases (exact > prefix > substring)",
    response_model=SearchResult,
    responses=problems(*READ),
)
async def search(
    q: Annotated[str, Query(min_length=1, max_length=100, description="名称或别名")],
    view: ViewDep,
    label: Annotated[list[NodeLabel] | None, Query(description="Only these labels.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Hits to return at most.")] = 20,
    as_of: AsOf = None,
) -> ORJSONResponse:
    if not q.strip():
        raise InvalidInputError("q is blank", field="q")
    # One hit more than shown tells whether more match (a ranked search counts no total).
    hits = await view.search(q, label or (), limit + 1, as_of)
    return ORJSONResponse(
        {
            "query": q,
            "items": [
                {"node": h.node, "match": h.match, "matched": h.matched, "score": h.score}
                for h in hits[:limit]
            ],
            "truncated": len(hits) > limit,
        }
    )


@router.get(
    "/nodes/{node_id}/neighbourhood",
    summary="k-hop neighbourhood (k ≤ 3)",
    response_model=Neighbourhood,
    responses=problems(*READ, (404, "No node with this id, code or name (on as_of).")),
)
async def neighbourhood(
    node_id: NodeRefPath,
    view: RecordedViewDep,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH, description="Hops from the node.")] = 1,
    link_type: Annotated[
        list[LinkType] | None, Query(description="Follow only these link types.")
    ] = None,
    label: Annotated[
        list[NodeLabel] | None, Query(description="Reach only nodes of these labels.")
    ] = None,
    direction: Annotated[
        str,
        Query(pattern="^(out|in|both)$", description="Follow links out, in, or both ways."),
    ] = "both",
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_NEIGHBOURHOOD, description="Nodes at most; more sets truncated."),
    ] = DEFAULT_NEIGHBOURHOOD,
    as_of: AsOf = None,
) -> ORJSONResponse:
    node_id = await resolve_node(view, node_id, "id", as_of)
    query = NeighbourhoodQuery(
        node_id=node_id,
        depth=depth,
        link_types=link_type or (),
        node_labels=label or (),
        direction=direction,  # type: ignore[arg-type]
        limit=limit,
        as_of=as_of,
    )
    subgraph = await view.neighbourhood(query)
    return ORJSONResponse({"centre": node_id, **_subgraph(subgraph)})


@router.get(
    "/paths",
    summary="Shortest paths between two nodes",
    response_model=Paths,
    responses=problems(*READ, (404, "No source or target node (id, code or name; on as_of).")),
)
async def paths(
    source: Annotated[str, Query(min_length=1, max_length=128, description=NODE_REFERENCE)],
    target: Annotated[str, Query(min_length=1, max_length=128, description=NODE_REFERENCE)],
    view: ViewDep,
    max_depth: Annotated[int, Query(ge=1, le=8, description="Longest path, in links.")] = 6,
    link_type: Annotated[
        list[LinkType] | None, Query(description="Follow only these link types.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PATHS, description="Paths at most.")] = 10,
    as_of: AsOf = None,
) -> ORJSONResponse:
    source = await resolve_node(view, source, "source", as_of)
    target = await resolve_node(view, target, "target", as_of)
    query = PathQuery(
        source=source,
        target=target,
        max_depth=max_depth,
        link_types=link_type or (),
        limit=limit,
        as_of=as_of,
    )
    found, subgraph = await view.shortest_paths(query)
    return ORJSONResponse(
        {
            "source": source,
            "target": target,
            "length": len(found[0].link_ids) if found else None,
            "paths": [{"nodes": p.node_ids, "links": p.link_ids} for p in found],
            **_subgraph(subgraph),
        }
    )
