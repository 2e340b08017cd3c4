"""A region drawn whole: nodes with server-side positions, and links (the explorer's big
views; ``services/layout.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from graph_service.api.deps import ViewDep
from graph_service.api.openapi import READ, problems
from graph_service.api.params import AsOf
from graph_service.api.responses import ORJSONResponse
from graph_service.domain import REGION_CODE_PATTERN
from graph_service.services.layout import MAX_LAYOUT_NODES, region_layout

__all__ = ["RegionLayout", "router"]

router = APIRouter(prefix="/v1", tags=["graph"])


class PlacedNode(BaseModel):
    """A node as the explorer draws it: what it is, and where."""

    id: str
    name: str | None = None
    label: str | None = None
    kind: str | None = None
    region_code: str | None = None
    x: float = Field(description="Horizontal position, in screen units.")
    y: float = Field(description="Vertical position, in screen units (down is positive).")


class DrawnLink(BaseModel):
    """A link as the explorer draws it: its ends and type (the rest is read on a click)."""

    id: str
    source: str
    target: str
    type: str | None = None


class RegionLayout(BaseModel):
    """Everything under a region that the caller may see, each node placed."""

    region: str
    as_of: str | None = None
    version: int = Field(description="The store version drawn.")
    cached: bool = Field(
        description="The layout had already been computed for this store version and audience."
    )
    nodes: list[PlacedNode]
    links: list[DrawnLink]
    components: int = Field(description="Connected components, packed side by side.")
    width: float = Field(description="Extent of the drawing: x lies in [0, width].")
    height: float = Field(description="Extent of the drawing: y lies in [0, height].")


@router.get(
    "/layout",
    summary="A region's graph with server-side positions, for drawing it whole",
    response_model=RegionLayout,
    responses=problems(
        *READ, (404, "No region with this code."), (422, "The region has too many nodes.")
    ),
)
async def layout(
    region: Annotated[
        str,
        Query(
            pattern=REGION_CODE_PATTERN,
            description="Division code of a province, city, county or town; at most "
            f"{MAX_LAYOUT_NODES} nodes are drawn.",
        ),
    ],
    view: ViewDep,
    as_of: AsOf = None,
) -> ORJSONResponse:
    """Positions are computed once per region, date, store version and audience (a write
    makes new ones); people and personal fields are left out for anonymous callers, as in
    every read."""
    return ORJSONResponse(await region_layout(view, region, as_of))
