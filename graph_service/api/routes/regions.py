"""Regions: roll-up, everything under a code, joint-body coverage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from graph_service.api.deps import ViewDep
from graph_service.api.openapi import READ, problems
from graph_service.api.params import AsOf, Cursor, NodeLabel, PageLimit, RegionCodePath
from graph_service.api.record_time import RecordedViewDep
from graph_service.api.responses import ORJSONResponse
from graph_service.api.schemas import NodePage, RegionCoverageReport, RegionSummary
from graph_service.domain import MAX_LISTED_UNCOVERED
from graph_service.services.listing import Limit, listing
from graph_service.store.protocol import NodeQuery, RegionCoverage

router = APIRouter(prefix="/v1/regions", tags=["regions"])
_NO_REGION = problems(*READ, (404, "No region with this code."))


def _row(row: RegionCoverage, limit: Limit, refs: dict[str, dict[str, Any]]) -> dict[str, object]:
    shown = row.uncovered_village_ids[: limit.value]
    return {
        "region_code": row.region_code,
        "name": row.name,
        "villages": row.villages,
        "covered": row.covered,
        "uncovered": row.villages - row.covered,
        "rate": round(row.rate, 4) if row.rate is not None else None,
        "uncovered_villages": listing(
            [refs[v] for v in shown if v in refs], limit, len(row.uncovered_village_ids)
        ),
    }


@router.get(
    "/{code}",
    summary="A region with its parent, children and node counts",
    response_model=RegionSummary,
    responses=_NO_REGION,
)
async def region(code: RegionCodePath, view: ViewDep) -> ORJSONResponse:
    return ORJSONResponse(await view.region_summary(code))


@router.get(
    "/{code}/nodes",
    summary="Everything under a region code",
    response_model=NodePage,
    responses=_NO_REGION,
)
async def region_nodes(
    code: RegionCodePath,
    view: ViewDep,
    label: Annotated[list[NodeLabel] | None, Query(description="Only these labels.")] = None,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: PageLimit = 100,
) -> ORJSONResponse:
    await view.region_summary(code)  # 404 for an unknown region
    page = await view.list_nodes(
        NodeQuery(labels=label or (), region_code=code, as_of=as_of), cursor, limit
    )
    return ORJSONResponse({"items": page.items, "next_cursor": page.next_cursor})


@router.get(
    "/{code}/coverage",
    summary="Villages covered by a joint body, per child region",
    response_model=RegionCoverageReport,
    responses=_NO_REGION,
)
async def coverage(
    code: RegionCodePath,
    view: RecordedViewDep,
    as_of: AsOf = None,
    uncovered_limit: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_LISTED_UNCOVERED,
            description="Uncovered villages listed per row at most (each row states them all "
            "in uncovered and uncovered_villages.total).",
        ),
    ] = 100,
) -> ORJSONResponse:
    report = await view.coverage(code, as_of)
    limit = Limit(uncovered_limit, "uncovered_limit", MAX_LISTED_UNCOVERED)
    rows = (report.total, *report.children)
    refs = await view.refs(v for r in rows for v in r.uncovered_village_ids[:uncovered_limit])
    return ORJSONResponse(
        {
            "region": {
                "id": report.region["id"],
                "name": report.region["name"],
                "region_code": report.region["region_code"],
            },
            "as_of": as_of.isoformat() if as_of else None,
            "total": _row(report.total, limit, refs),
            "children": [_row(c, limit, refs) for c in report.children],
            "stated_figures": report.region.get("figures", []),
            "definition": "A village is covered when it, or its own party organization "
            "(ORGANIZATION_OF), is a member (MEMBER_OF) of a joint body valid on as_of.",
        }
    )
