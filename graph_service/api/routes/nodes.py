"""Nodes: create, replace, read, delete, list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from graph_service.api.deps import RequestIdDep, ServiceDep, ViewDep, WriterDep
from graph_service.api.openapi import READ, WRITE, problems
from graph_service.api.params import (
    AsOf,
    Cursor,
    NodeId,
    NodeLabel,
    NodeRefPath,
    PageLimit,
    RegionPrefix,
    renamed,
)
from graph_service.api.record_time import RecordedViewDep
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import Node, NodePage
from graph_service.models import NodeIn
from graph_service.services.references import resolve_node
from graph_service.store.protocol import NodeQuery

router = APIRouter(prefix="/v1/nodes", tags=["nodes"])


def _body(node: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = node.model_dump(mode="json", exclude_none=True)
    return dumped


@router.post(
    "",
    status_code=201,
    summary="Create a node (409 if the id exists)",
    response_model=Node,
    responses=problems(*WRITE, (409, "A node with this id exists; PUT replaces it.")),
)
async def create_node(
    node: Annotated[NodeIn, Body()],
    service: ServiceDep,
    caller: WriterDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    doc = await service.create_node(caller, _body(node), request_id)
    return ORJSONResponse(doc, status_code=201, headers={"Location": f"/v1/nodes/{doc['id']}"})


@router.put(
    "/{node_id}",
    summary="Create or replace a node",
    response_model=Node,
    responses={
        200: {"description": "Replaced."},
        201: {"model": Node, "description": "Created: no node had this id."},
        **problems(*WRITE, (409, "The node exists with another label.")),
    },
)
async def put_node(
    node_id: NodeId,
    node: Annotated[
        dict[str, Any],
        Body(description="A node as for POST; its id may be left out (the path gives it)."),
    ],
    service: ServiceDep,
    caller: WriterDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    doc, created = await service.put_node(caller, node_id, node, request_id)
    return ORJSONResponse(doc, status_code=201 if created else 200)


@router.get(
    "/{node_id}",
    summary="Read a node (by id, division code or unambiguous name)",
    response_model=Node,
    responses=problems(*READ, (404, "No node with this id, code or name (on as_of).")),
)
async def get_node(
    node_id: NodeRefPath, view: RecordedViewDep, as_of: AsOf = None
) -> ORJSONResponse:
    node_id = await resolve_node(view, node_id, "id", as_of)
    return ORJSONResponse(await view.node(node_id, as_of))


@router.delete(
    "/{node_id}",
    status_code=204,
    summary="Delete a node",
    responses=problems(
        *READ,
        (404, "No node with this id."),
        (409, "The node has links; detach=true deletes them too."),
    ),
)
async def delete_node(
    node_id: NodeId,
    service: ServiceDep,
    caller: WriterDep,
    request_id: RequestIdDep,
    detach: Annotated[bool, Query(description="Delete the node's links too.")] = False,
) -> Response:
    await service.delete_node(node_id, detach, caller, request_id)
    return Response(status_code=204)


@router.get(
    "",
    summary="List nodes with filters and cursor pagination",
    response_model=NodePage,
    responses=problems(*READ),
)
async def list_nodes(
    view: ViewDep,
    label: Annotated[list[NodeLabel] | None, Query(description="Only these labels.")] = None,
    kind: Annotated[
        list[str] | None, Query(max_length=20, description="Only these kinds (党支部, 公司 …).")
    ] = None,
    region: RegionPrefix = None,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: PageLimit = 100,
    region_code: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{2,12}$",
            deprecated=True,
            description="The former name of region (accepted for now).",
        ),
    ] = None,
) -> ORJSONResponse:
    prefix = renamed("region", region, "region_code", region_code)
    query = NodeQuery(labels=label or (), kinds=kind or (), region_code=prefix, as_of=as_of)
    page = await view.list_nodes(query, cursor, limit)
    return ORJSONResponse({"items": page.items, "next_cursor": page.next_cursor})
