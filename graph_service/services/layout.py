"""A region drawn whole: its nodes, links and server-side positions for the explorer.

The explorer draws a county of thousands of nodes; laying that out in the browser takes
longer than drawing it. :func:`region_layout` reads the region's graph through the caller's
view (so a person, or anything else the caller may not see, is neither drawn nor placed),
lays it out with :func:`graph_service.analysis.layout.layout_positions` in the worker pool,
and keeps the answer with the graph in ``ScopedGraphs``: one layout per (region, as_of,
store version, audience), computed once however many ask at the same time, and dropped
with its graph when a write makes a new version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import networkx as nx

from graph_service.analysis.layout import layout_positions
from graph_service.errors import InvalidInputError
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.view import GraphView
from graph_service.store.protocol import NodeQuery

__all__ = ["LAYOUT_EDGE_LENGTH", "MAX_LAYOUT_NODES", "region_layout"]

#: Screen units between two linked nodes (the explorer's nodes are 8–30 units wide).
LAYOUT_EDGE_LENGTH: Final[float] = 60.0
#: A region larger than this is refused: a browser cannot draw it usefully in one view.
MAX_LAYOUT_NODES: Final[int] = 30_000
#: The name the layout is kept under with its graph (``ScopedGraphs.derive``).
_DERIVED: Final[str] = "explorer_layout"
#: Node fields the explorer draws with; everything else is read on a click.
_NODE_FIELDS: Final[tuple[str, ...]] = ("name", "label", "kind", "region_code")


def _payload(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """The drawing of ``graph``: nodes with positions, and links (ends and type)."""
    placed = layout_positions(graph, edge_length=LAYOUT_EDGE_LENGTH)
    nodes = []
    for node_id, (x, y) in sorted(placed.positions.items(), key=lambda item: str(item[0])):
        data = graph.nodes[node_id]
        row: dict[str, Any] = {"id": node_id}
        row.update({name: data.get(name) for name in _NODE_FIELDS})
        row["x"], row["y"] = round(x, 2), round(y, 2)
        nodes.append(row)
    links = [
        {"id": key, "source": u, "target": v, "type": data.get("type")}
        for u, v, key, data in graph.edges(keys=True, data=True)
    ]
    links.sort(key=lambda link: str(link["id"]))
    return {
        "nodes": nodes,
        "links": links,
        "components": placed.components,
        "width": round(placed.width, 2),
        "height": round(placed.height, 2),
    }


def _too_large(region: str, nodes: int) -> InvalidInputError:
    return InvalidInputError(
        f"region {region} has {nodes} nodes; at most {MAX_LAYOUT_NODES} are drawn at once: "
        "choose a smaller region",
        field="region",
    )


async def region_layout(
    view: GraphView, region: str, as_of: dt.date | None = None
) -> dict[str, Any]:
    """The region's graph as ``view``'s caller may see it, every node placed.

    Returns ``region``, ``as_of``, ``version`` (the store version drawn), ``cached`` (the
    layout was already computed for this version and audience), ``nodes`` (id, name, label,
    kind, region_code, x, y), ``links`` (id, source, target, type), ``components``,
    ``width`` and ``height``. Raises ``NotFoundError`` for an unknown region and
    ``InvalidInputError`` past :data:`MAX_LAYOUT_NODES` nodes.
    """
    # Counted before the export: a province's graph is not worth reading to refuse it.
    counted = sum((await view.count_nodes(NodeQuery(region_code=region))).values())
    if counted > MAX_LAYOUT_NODES:
        raise _too_large(region, counted)
    # Every link type, structural ones too: the party hierarchy and IN_REGION are what
    # hold a county's drawing together.
    scope = AnalysisScope("region", region, 2, (), True, as_of)
    graph, key = await view.graph(scope)
    if graph.number_of_nodes() > MAX_LAYOUT_NODES:
        raise _too_large(region, graph.number_of_nodes())
    cached = _DERIVED in view.graphs.derived.get(key, {})
    drawing: dict[str, Any] = await view.graphs.derive(key, _DERIVED, _payload, graph)
    return {
        "region": region,
        "as_of": as_of.isoformat() if as_of else None,
        "version": key[1],
        "cached": cached,
        **drawing,
    }
