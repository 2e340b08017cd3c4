"""Caps below admin: what one request of a caller without an admin key may ask for.

A route's own bounds (``le=`` in its signature, ``domain.py``) are what anyone may ask for
at all; the caps here are lower, for the parameters that scale a request's cost, and hold
for every caller but an admin (anonymous, viewer, planner, editor). An admin key or a job
(``POST /v1/jobs``, which runs in the background) lifts them. Above a cap the answer is a
422 problem+json (code ``above_cap``) naming the field, the caller's cap and what lifts it.

The values are settings (``Settings.cap_*``, defined once there); :data:`CAPPED` says which
parameter of which route each one caps. Not capped, because they do not scale the cost:
``top`` (every node is ranked anyway; 500 rows instead of 20 add ~10% to a centrality
set), ``depth`` (a node scope holds at most ``domain.MAX_NEIGHBOURHOOD`` nodes) and an
export's ``max_nodes`` (its scope is capped).
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Final

from fastapi import Request

from graph_service.access import Caller
from graph_service.errors import InvalidInputError
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.recorded import RecordedStore
from graph_service.services.view import GraphView
from graph_service.services.work import preparing_job
from graph_service.settings import Settings
from graph_service.store.protocol import NodeQuery

__all__ = ["CAPPED", "check_caps", "check_scope_size", "lifted"]

#: Route path → each capped parameter (as the caller names it) → the setting of its cap.
CAPPED: Final[dict[str, dict[str, str]]] = {
    "/v1/analysis/centrality": {"exact_max": "cap_exact_max", "k": "cap_sample_k"},
    "/v1/analysis/communities": {"limit": "cap_listed"},
    "/v1/analysis/coverage": {"limit": "cap_listed"},
    "/v1/dashboard": {"limit": "cap_listed"},
    "/v1/dashboard/report.xlsx": {"limit": "cap_listed"},
    "/v1/recommendations/assignment": {
        "k": "cap_assignment_k",
        "top_candidates": "cap_assignment_candidates",
        "villages": "cap_assignment_actors",
        "helpers": "cap_assignment_actors",
    },
    "/v1/recommendations/what-if": {"proposed": "cap_proposed_pairs"},
}
#: Every scope of an analysis or an export is capped in nodes (``all`` or a region: body
#: and node scopes are bounded by their traversal).
SCOPE_CAP: Final[str] = "cap_scope_nodes"


def lifted(caller: Caller) -> bool:
    """Whether no cap holds: an admin's request, or any caller's job being prepared."""
    return caller.is_admin or preparing_job()


def _above(field: str, amount: int, cap: int, what: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field}: {what} {amount} is above {cap}, the cap for callers without an admin key; "
        "an admin key or a job (POST /v1/jobs) lifts it",
        field=field,
        code="above_cap",
        details={"cap": cap, "value": amount, "lifted_by": ["admin key", "POST /v1/jobs"]},
    )


def check_caps(
    request: Request, caller: Caller, settings: Settings, **values: int | Sized | None
) -> None:
    """Each named parameter of this route against its cap (a list by its length)."""
    if lifted(caller):
        return
    route = getattr(request.scope.get("route"), "path", "")
    capped = CAPPED[route]
    for field, value in values.items():
        if value is None:
            continue
        amount = len(value) if isinstance(value, Sized) else value
        cap: int = getattr(settings, capped[field])
        if amount > cap:
            raise _above(field, amount, cap, "the value" if isinstance(value, int) else "items")


async def check_scope_size(
    view: GraphView, settings: Settings, scope: AnalysisScope, field: str = "scope"
) -> None:
    """The nodes of an ``all`` or region scope against the cap: its cached graph's, else
    counted in the store before the graph is exported (the export is a cost of its own)."""
    if lifted(view.caller) or scope.kind not in ("all", "region"):
        return
    graph = await view.graphs.cached(scope, await view.policy())
    if graph is not None:
        nodes = graph.number_of_nodes()
    else:
        # A recorded moment's store counts nothing; today's count bounds the cost as well (a
        # scope rarely shrinks much, and the cap is an order of magnitude, not an exact size).
        query = NodeQuery(region_code=scope.value)
        if isinstance(view.store, RecordedStore):
            counts = await view.store.store.count_nodes(query)
        else:
            counts = await view.count_nodes(query)
        nodes = sum(counts.values())
    cap: int = getattr(settings, SCOPE_CAP)
    if nodes > cap:
        raise _above(field, nodes, cap, "nodes in the scope")
