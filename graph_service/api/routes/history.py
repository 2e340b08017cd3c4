"""The edit history: every change, who made it and when; restores of a node or link (admins).

Entries are listed newest first. What a caller sees of them follows the visibility policy
(``graph_service.services.history``): the public reads the history of the graph without
people, personal links and personal attributes; entries of accounts and keys are for admins.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import AwareDatetime, Field

from graph_service.api.deps import AdminDep, RequestIdDep, ViewDep
from graph_service.api.openapi import READ, WRITE, problems
from graph_service.api.params import (
    Cursor,
    LinkId,
    NodeId,
    NodeRefPath,
    PageLimit,
    RegionPrefix,
)
from graph_service.api.record_time import Since, Until
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import HistoryPage, LinkRestored, NodeRestored
from graph_service.errors import InvalidInputError
from graph_service.models import StrictModel
from graph_service.services.graph import GraphService
from graph_service.services.history import (
    Entity,
    HistoryService,
    recorded_time,
    resolve_history_node,
)
from graph_service.store.protocol import HistoryQuery, Page

router = APIRouter(prefix="/v1", tags=["history"])

#: A history entry's id, as listed (``h<time>-<index>-<salt>``).
VERSION_PATTERN = r"^h[0-9A-Za-z]+(-[0-9A-Za-z]+)*$"


async def get_history(request: Request) -> HistoryService:
    service: GraphService = request.app.state.service
    return HistoryService(service.store)


HistoryDep = Annotated[HistoryService, Depends(get_history)]
_ID = dict(min_length=1, max_length=128)


def _page(page: Page) -> ORJSONResponse:
    return ORJSONResponse({"items": page.items, "next_cursor": page.next_cursor})


@router.get(
    "/history",
    summary="The edit history, newest first: who changed what, when (filters, pages)",
    response_model=HistoryPage,
    responses=problems(*READ),
)
async def list_history(
    view: ViewDep,
    history: HistoryDep,
    node: Annotated[
        str | None, Query(**_ID, description="Only changes of this node (its id).")
    ] = None,
    link: Annotated[
        str | None, Query(**_ID, description="Only changes of this link (its id).")
    ] = None,
    account: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Only changes this account made."),
    ] = None,
    region: RegionPrefix = None,
    operation: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z_]+(\.[a-z_]+)?$",
            description="Only this operation (node.create, node.update, node.delete, "
            "link.create …, batch, judgement, account.create, key.create, key.revoke, restore).",
        ),
    ] = None,
    since: Since = None,
    until: Until = None,
    cursor: Cursor = None,
    limit: PageLimit = 100,
) -> ORJSONResponse:
    if node is not None and link is not None:
        raise InvalidInputError("give node or link, not both", field="link")
    entity: Entity | None = "node" if node is not None else "link" if link is not None else None
    query = HistoryQuery(
        entity=entity,
        entity_id=node if node is not None else link,
        account=account,
        region=region,
        operation=operation,
        since=recorded_time(since, "since") if since is not None else None,
        until=recorded_time(until, "until") if until is not None else None,
        newest_first=True,
    )
    return _page(await history.page(view, query, cursor, limit))


@router.get(
    "/nodes/{node_id}/history",
    summary="A node's history, newest first (a deleted node's too, by its id)",
    response_model=HistoryPage,
    responses=problems(*READ, (404, "Nothing was recorded of a node with this id, code or name.")),
)
async def node_history(
    node_id: NodeRefPath,
    view: ViewDep,
    history: HistoryDep,
    cursor: Cursor = None,
    limit: PageLimit = 100,
) -> ORJSONResponse:
    node_id = await resolve_history_node(view, node_id)
    return _page(await history.entity_page(view, "node", node_id, cursor, limit))


@router.get(
    "/links/{link_id}/history",
    summary="A link's history, newest first (a deleted link's too)",
    response_model=HistoryPage,
    responses=problems(*READ, (404, "Nothing was recorded of a link with this id.")),
)
async def link_history(
    link_id: LinkId,
    view: ViewDep,
    history: HistoryDep,
    cursor: Cursor = None,
    limit: PageLimit = 100,
) -> ORJSONResponse:
    return _page(await history.entity_page(view, "link", link_id, cursor, limit))


class RestoreIn(StrictModel):
    """What to restore to: a history entry (``version``) or a moment (``recorded_as_of``)."""

    version: str | None = Field(
        default=None,
        max_length=80,
        pattern=VERSION_PATTERN,
        description="A history entry of this node or link (its id): restore what it was after it.",
    )
    recorded_as_of: AwareDatetime | None = Field(
        default=None,
        description="Or a moment (with a time zone): restore what it was then.",
    )


class NodeRestoreIn(RestoreIn):
    links: bool = Field(
        default=False,
        description="Restore the links the node's deletion removed too (a detach delete); "
        "without it the node comes back alone.",
    )


_RESTORE_PROBLEMS = (
    (404, "No history entry with this id (field version)."),
    (
        409,
        "An end of the link is not stored now (the problem names it), or the entity is "
        "stored with another label, type or ends.",
    ),
)


def _moment(body: RestoreIn) -> str | None:
    if body.recorded_as_of is None:
        return None
    return recorded_time(body.recorded_as_of, "recorded_as_of")


def _restored(result: dict[str, Any], entity: str) -> dict[str, Any]:
    body = {k: result[k] for k in ("id", "version", "recorded_as_of", "created", "changed")}
    body["store_version"] = result["store_version"]
    body[entity] = result["document"]
    if entity == "node":
        body["links"] = result["links"]
    return body


@router.post(
    "/nodes/{node_id}/restore",
    summary="Restore a node to an earlier version (admins); recorded as a restore",
    response_model=NodeRestored,
    responses=problems(*WRITE, *_RESTORE_PROBLEMS),
)
async def restore_node(
    node_id: NodeId,
    body: Annotated[NodeRestoreIn, Body()],
    caller: AdminDep,
    history: HistoryDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    result = await history.restore(
        caller, "node", node_id, body.version, _moment(body), body.links, request_id
    )
    return ORJSONResponse(_restored(result, "node"))


@router.post(
    "/links/{link_id}/restore",
    summary="Restore a link to an earlier version (admins); recorded as a restore",
    response_model=LinkRestored,
    responses=problems(*WRITE, *_RESTORE_PROBLEMS),
)
async def restore_link(
    link_id: LinkId,
    body: Annotated[RestoreIn, Body()],
    caller: AdminDep,
    history: HistoryDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    result = await history.restore(
        caller, "link", link_id, body.version, _moment(body), False, request_id
    )
    return ORJSONResponse(_restored(result, "link"))
