"""Record-time parameters: ``recorded_as_of`` on the reads that take it, ``since``/``until``
on the history, each a timestamp with a time zone (one without is a 422 naming it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import AwareDatetime

from graph_service.api.deps import ViewDep
from graph_service.services.history import recorded_time
from graph_service.services.recorded import recorded_view
from graph_service.services.view import GraphView, GraphViews

__all__ = ["RecordedAsOf", "RecordedViewDep", "Since", "Until"]

RecordedAsOf = Annotated[
    AwareDatetime | None,
    Query(
        description="What the graph said at this moment (a timestamp with a time zone: "
        "2025-06-01T08:00:00Z, or +08:00 URL-encoded as %2B08:00), as the edit history "
        "recorded it; back to the store's first history entry. Distinct from as_of (the day "
        "nodes and links are valid on); both may be given.",
    ),
]
Since = Annotated[
    AwareDatetime | None,
    Query(description="Entries recorded at or after this moment (with a time zone)."),
]
Until = Annotated[
    AwareDatetime | None,
    Query(description="Entries recorded at or before this moment (with a time zone)."),
]


async def view_at_recorded_time(
    request: Request, view: ViewDep, recorded_as_of: RecordedAsOf = None
) -> GraphView:
    """The caller's view of the graph now, or as recorded at ``recorded_as_of``."""
    if recorded_as_of is None:
        return view
    views: GraphViews = request.app.state.views
    return await recorded_view(views, view.caller, recorded_time(recorded_as_of, "recorded_as_of"))


RecordedViewDep = Annotated[GraphView, Depends(view_at_recorded_time)]
