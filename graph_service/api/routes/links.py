"""Links: create, replace, read, delete, list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from graph_service.api.deps import RequestIdDep, ServiceDep, ViewDep, WriterDep
from graph_service.api.openapi import READ, WRITE, problems
from graph_service.api.params import AsOf, Cursor, LinkId, LinkType, PageLimit
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import Link, LinkPage
from graph_service.models import LinkIn
from graph_service.store.protocol import LinkQuery

router = APIRouter(prefix="/v1/links", tags=["links"])


def _body(link: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = link.model_dump(mode="json", exclude_none=True)
    return dumped


@router.post(
    "",
    status_code=201,
    summary="Create a link (409 if the id exists)",
    response_model=Link,
    responses=problems(
        *WRITE,
        (404, "An end of the link does not exist."),
        (409, "A link with this id exists; PUT replaces it."),
    ),
)
async def create_link(
    link: Annotated[LinkIn, Body()],
    service: ServiceDep,
    caller: WriterDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    doc = await service.create_link(caller, _body(link), request_id)
    return ORJSONResponse(doc, status_code=201, headers={"Location": f"/v1/links/{doc['id']}"})


@router.put(
    "/{link_id}",
    summary="Create or replace a link",
    response_model=Link,
    responses={
        200: {"description": "Replaced."},
        201: {"model": Link, "description": "Created: no link had this id."},
        **problems(
            *WRITE,
            (404, "An end of the link does not exist."),
            (409, "The link exists with another type or other ends."),
        ),
    },
)
async def put_link(
    link_id: LinkId,
    link: Annotated[
        dict[str, Any],
        Body(description="A link as for POST; its id may be left out (the path gives it)."),
    ],
    service: ServiceDep,
    caller: WriterDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    doc, created = await service.put_link(caller, link_id, link, request_id)
    return ORJSONResponse(doc, status_code=201 if created else 200)


@router.get(
    "/{link_id}",
    summary="Read a link",
    response_model=Link,
    responses=problems(*READ, (404, "No link with this id (on as_of).")),
)
async def get_link(link_id: LinkId, view: ViewDep, as_of: AsOf = None) -> ORJSONResponse:
    return ORJSONResponse(await view.link(link_id, as_of))


@router.delete(
    "/{link_id}",
    status_code=204,
    summary="Delete a link",
    responses=problems(*READ, (404, "No link with this id.")),
)
async def delete_link(
    link_id: LinkId, service: ServiceDep, caller: WriterDep, request_id: RequestIdDep
) -> Response:
    await service.delete_link(link_id, caller, request_id)
    return Response(status_code=204)


@router.get(
    "",
    summary="List links with filters and cursor pagination",
    response_model=LinkPage,
    responses=problems(*READ),
)
async def list_links(
    view: ViewDep,
    link_type: Annotated[list[LinkType] | None, Query(description="Only these link types.")] = None,
    source: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Links from this node.")
    ] = None,
    target: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Links to this node.")
    ] = None,
    node: Annotated[
        str | None,
        Query(min_length=1, max_length=128, description="Links at this node, either end."),
    ] = None,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: PageLimit = 100,
    type: Annotated[
        list[LinkType] | None,
        Query(deprecated=True, description="The former name of link_type (accepted for now)."),
    ] = None,
) -> ORJSONResponse:
    types = [*(link_type or ()), *(type or ())]
    query = LinkQuery(types=types, source=source, target=target, node=node, as_of=as_of)
    page = await view.list_links(query, cursor, limit)
    return ORJSONResponse({"items": page.items, "next_cursor": page.next_cursor})
