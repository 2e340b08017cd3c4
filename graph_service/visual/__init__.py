"""Visualisation: graph exports for front ends and Gephi, and the explorer page's support.

``formats`` holds pure functions from the store's ``networkx.MultiDiGraph`` (node and link
documents as attributes) to Cytoscape.js elements, an ECharts graph series, node-link JSON,
GraphML and GEXF, with node size from a metric, colour from label and kind, link width from
link strength and optional seeded layout coordinates.
"""

from graph_service.visual.formats import (
    FORMATS,
    MAX_EXPORT_NODES,
    METRICS,
    ExportTooLargeError,
    check_size,
    export,
    layout,
    link_strengths,
    node_colour,
    node_metric,
    to_cytoscape,
    to_echarts,
    to_gexf,
    to_graphml,
    to_node_link,
)

__all__ = [
    "FORMATS",
    "MAX_EXPORT_NODES",
    "METRICS",
    "ExportTooLargeError",
    "check_size",
    "export",
    "layout",
    "link_strengths",
    "node_colour",
    "node_metric",
    "to_cytoscape",
    "to_echarts",
    "to_gexf",
    "to_graphml",
    "to_node_link",
]
