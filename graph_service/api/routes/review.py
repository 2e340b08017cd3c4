"""Name resolution, the review queue, duplicate scans and merges.

``/v1/resolve`` is open as reads are (candidates the caller may see). The queue holds rows and
proposals as people wrote them, personal fields among them: reading it takes an API key;
deciding, scanning and merging take an editor (an admin to merge across counties).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from graph_service.access import Caller, check_role
from graph_service.api.deps import ReaderDep, RequestIdDep, ViewDep, WriterDep
from graph_service.api.intake_schemas import (
    DedupScan,
    MergeDone,
    MergePage,
    MergeUndone,
    Resolved,
    ReviewDecided,
    ReviewItem,
    ReviewPage,
)
from graph_service.api.openapi import GUARDED, READ, WRITE, problems
from graph_service.api.params import Cursor, NodeLabel, PageLimit
from graph_service.api.responses import ORJSONResponse
from graph_service.models import ONE_LINE, StrictModel
from graph_service.services.references import resolve_node
from graph_service.services.resolution import NameResolver
from graph_service.services.review import ITEM_STATUSES, PENDING, ReviewService

router = APIRouter(tags=["review"])

ItemId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="Item id.")
]
MergeId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="Merge id.")
]
RegionCode = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=12,
        pattern=r"^[0-9]{2,12}$",
        description="Division code: the scope names are compared within (a county or town).",
    ),
]


async def get_resolver(request: Request) -> NameResolver:
    resolver: NameResolver = request.app.state.resolver
    return resolver


async def get_review(request: Request) -> ReviewService:
    review: ReviewService = request.app.state.review
    return review


async def key_holder(request: Request, caller: ReaderDep) -> Caller:
    """Any account (the queue shows personal fields as rows gave them)."""
    check_role(caller, "viewer", f"{request.method} {request.url.path}")
    return caller


ResolverDep = Annotated[NameResolver, Depends(get_resolver)]
ReviewDep = Annotated[ReviewService, Depends(get_review)]
KeyHolderDep = Annotated[Caller, Depends(key_holder)]


@router.get(
    "/v1/resolve",
    summary="Which nodes a name may mean: ranked candidates with scores and reasons",
    response_model=Resolved,
    responses=problems(*READ, (404, "No region with this code.")),
)
async def resolve(
    view: ViewDep,
    resolver: ResolverDep,
    name: Annotated[
        str, Query(min_length=1, max_length=200, description="A name as written (王果铺镇).")
    ],
    label: Annotated[NodeLabel | None, Query(description="Only nodes of this label.")] = None,
    region: RegionCode = None,
    credit_code: Annotated[
        str | None,
        Query(
            max_length=18,
            pattern=r"^[0-9A-Za-z]{18}$",
            description="A unified social credit code: an exact valid one wins.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Candidates at most.")] = 10,
) -> ORJSONResponse:
    result = await resolver.resolve(
        view,
        name,
        label=label,
        region_code=region,
        credit_code=credit_code,
        limit=limit,
    )
    return ORJSONResponse(result.shown())


@router.post(
    "/v1/dedup/scan",
    summary="Propose likely duplicate nodes of a region to the review queue",
    response_model=DedupScan,
    responses=problems(*GUARDED),
)
async def dedup_scan(
    view: ViewDep,
    caller: WriterDep,
    review: ReviewDep,
    request_id: RequestIdDep,
    region: Annotated[
        str,
        Query(
            min_length=2,
            max_length=12,
            pattern=r"^[0-9]{2,12}$",
            description="Division code: nodes under it are compared (a county or a town).",
        ),
    ],
    label: Annotated[NodeLabel | None, Query(description="Only nodes of this label.")] = None,
    threshold: Annotated[
        float, Query(ge=0.5, le=1.0, description="Least match score of a proposed pair.")
    ] = 0.85,
) -> ORJSONResponse:
    result = await review.scan(view, caller, region, label, threshold, request_id)
    return ORJSONResponse(result)


@router.get(
    "/v1/review",
    summary="The review queue: items with their evidence and candidates",
    response_model=ReviewPage,
    responses=problems(*GUARDED),
)
async def review_queue(
    caller: KeyHolderDep,
    review: ReviewDep,
    status: Annotated[
        list[Literal[ITEM_STATUSES]] | None,  # type: ignore[valid-type]
        Query(description="Item statuses (repeat); open and unsure when left out."),
    ] = None,
    region: Annotated[
        str | None,
        Query(max_length=12, pattern=r"^[0-9]{2,12}$", description="Items under this region."),
    ] = None,
    item_type: Annotated[
        Literal["duplicate", "import_row", "entity", "link"] | None,
        Query(description="Items of this type."),
    ] = None,
    origin: Annotated[
        Literal["dedup", "import", "extraction"] | None,
        Query(description="Items from this source."),
    ] = None,
    cursor: Cursor = None,
    limit: PageLimit = 50,
) -> ORJSONResponse:
    page = await review.page(status or list(PENDING), region, item_type, origin, cursor, limit)
    return ORJSONResponse({"items": page.items, "next_cursor": page.next_cursor})


@router.get(
    "/v1/review/{item_id}",
    summary="One review item",
    response_model=ReviewItem,
    responses=problems(*GUARDED, (404, "No item with this id.")),
)
async def review_item(item_id: ItemId, caller: KeyHolderDep, review: ReviewDep) -> ORJSONResponse:
    return ORJSONResponse(await review.item(item_id))


class DecisionIn(StrictModel):
    decision: Literal["positive", "negative", "unsure"]
    node: Annotated[str, ONE_LINE] | None = Field(
        default=None,
        max_length=128,
        description="Import rows and extracted entities: the candidate meant, or new.",
    )
    canonical: Annotated[str, ONE_LINE] | None = Field(
        default=None,
        max_length=128,
        description="Duplicates: the node kept (by default the better connected of the pair).",
    )
    note: Annotated[str, ONE_LINE] | None = Field(default=None, max_length=2000)


@router.post(
    "/v1/review/{item_id}/decision",
    summary="Judge an item: positive (merge or write), negative, unsure",
    response_model=ReviewDecided,
    responses=problems(
        *WRITE,
        (404, "No item with this id."),
        (409, "The item was decided, or what it would write changed since."),
    ),
)
async def decide(
    item_id: ItemId,
    body: DecisionIn,
    view: ViewDep,
    caller: WriterDep,
    review: ReviewDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    choice: dict[str, Any] = body.model_dump(exclude={"decision"})
    result = await review.decide(view, caller, item_id, body.decision, choice, request_id)
    return ORJSONResponse(result)


class MergeIn(StrictModel):
    canonical: Annotated[str, ONE_LINE] = Field(
        min_length=1, max_length=200, description="The node kept (id, code or unique name)."
    )
    merged: Annotated[str, ONE_LINE] = Field(
        min_length=1, max_length=200, description="The node merged into it."
    )


@router.post(
    "/v1/merges",
    status_code=201,
    summary="Merge a duplicate node into a canonical one (links and sources move over)",
    response_model=MergeDone,
    responses=problems(*WRITE, (404, "A node does not exist.")),
)
async def merge(
    body: MergeIn,
    view: ViewDep,
    caller: WriterDep,
    review: ReviewDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    canonical = await resolve_node(view, body.canonical, "canonical")
    merged = await resolve_node(view, body.merged, "merged")
    result = await review.merge(view, caller, canonical, merged, request_id)
    result.pop("item", None)
    return ORJSONResponse(result, status_code=201)


@router.get(
    "/v1/merges",
    summary="Merges, newest first",
    response_model=MergePage,
    responses=problems(*GUARDED),
)
async def merges(
    caller: KeyHolderDep, review: ReviewDep, cursor: Cursor = None, limit: PageLimit = 50
) -> ORJSONResponse:
    page = await review.merges(cursor, limit)
    return ORJSONResponse({"items": page.items, "next_cursor": page.next_cursor})


@router.post(
    "/v1/merges/{merge_id}/undo",
    summary="Undo a merge as one unit",
    response_model=MergeUndone,
    responses=problems(
        *GUARDED,
        (404, "No merge with this id."),
        (409, "Undone already, or a node or link it wrote changed since."),
    ),
)
async def undo_merge(
    merge_id: MergeId, caller: WriterDep, review: ReviewDep, request_id: RequestIdDep
) -> ORJSONResponse:
    return ORJSONResponse(await review.undo_merge(caller, merge_id, request_id))
