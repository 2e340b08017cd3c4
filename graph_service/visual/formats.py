"""Graph exports: Cytoscape.js, ECharts, node-link JSON, GraphML and GEXF.

Every function takes the store's export: a ``networkx.MultiDiGraph`` whose nodes carry node
documents (``label``, ``kind``, ``name``, ``region_code``, ``attributes``, ``sources`` …) and
whose edges, keyed by link id, carry link documents (``type``, ``source``, ``target``,
``attributes``, ``sources`` …). None of them changes its input.

What a viewer shows is the same in all formats: a node's ``label`` is its Chinese name (Gephi,
Cytoscape.js and D3 label nodes by ``label``; ECharts by ``name``, which is the name too) and
its type (Village, Enterprise …) is ``node_label``; a link's ``label`` is its type in Chinese
and its type is ``type`` (``link_type`` in GEXF, which reserves ``type``).

Styling is shared by all formats:

* node colour from the node's kind when the kind has a colour of its own (joint bodies,
  cooperatives, banks, region levels), else from its label (:data:`LABEL_COLOURS`);
* node size from a metric (``node id → score``, e.g. a centrality), scaled linearly to
  [:data:`MIN_SIZE`, :data:`MAX_SIZE`] so that sizes are ordered like the scores; without a
  metric every node gets :data:`DEFAULT_SIZE`;
* link width from link strength (``link id → score in [0, 1]``), 1 + 7·score; links without
  a score get width 1;
* optional positions (``node id → (x, y)``), as :func:`layout` computes them.

Shapes
------
``to_cytoscape``
    ``{"data": {...}, "elements": {"nodes": [{"data": {...}, "position"?, "classes"}],
    "edges": [{"data": {...}, "classes"}]}}``: the object form of Cytoscape.js elements, ready
    for ``cytoscape({elements: doc.elements})`` or ``cy.json(doc)``.
``to_echarts``
    One ECharts ``series`` item of ``type: "graph"``: ``categories`` (one per node label
    present, named with the registry's Chinese label), ``nodes`` (``category`` is an index into
    ``categories``; ``symbolSize`` from the metric) and ``links`` (``source``/``target`` are
    indices into ``nodes``, which ECharts accepts whatever the node names; ``id`` is the link
    id). Use it as ``option.series = [series]``.
``to_node_link``
    ``networkx.node_link_data(G, edges="links")`` of the styled graph: D3 / force-graph read
    ``nodes`` and ``links``; ``networkx.node_link_graph(data, edges="links")`` reads it back.
``to_graphml`` / ``to_gexf``
    XML for Gephi. Attributes are flat: ``label``, ``node_label``, ``kind``, ``name``,
    ``region_code``, ``valid_from``/``valid_to`` and the styling stay plain; nested values
    (``attributes``, ``sources``, ``aliases``, ``figures``) are JSON strings. Node ids and link
    ids are kept (``nx.read_graphml(..., force_multigraph=True)`` gives the link ids as edge
    keys; ``nx.read_gexf`` gives them as the edges' ``id``). GEXF's ``label`` is its own
    element attribute and its ``type`` the edge direction, so there a link's type is
    ``link_type``; colour, size, thickness and position go in GEXF's ``viz``.
"""

# networkx convention: graphs are G, H (as in graph_service.analysis).
# ruff: noqa: N803, N806

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from io import BytesIO
from typing import Any, Final

import networkx as nx
import numpy as np
import orjson

from graph_service.analysis.graphs import collapse
from graph_service.domain import EXPORT_METRICS
from graph_service.domain import MAX_EXPORT_NODES as DOMAIN_MAX_EXPORT_NODES
from graph_service.errors import PayloadTooLargeError
from graph_service.schema import JOINT_BODY_KINDS, LINK_TYPES, NODE_LABELS

__all__ = [
    "DEFAULT_SIZE",
    "FORMATS",
    "KIND_COLOURS",
    "LABEL_COLOURS",
    "MAX_EXPORT_NODES",
    "MAX_SIZE",
    "METRICS",
    "MIN_SIZE",
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

#: Exports refuse scopes with more nodes than this (the HTTP route lets callers go lower).
MAX_EXPORT_NODES: Final[int] = DOMAIN_MAX_EXPORT_NODES
#: Up to this many nodes :func:`layout` runs networkx's spring layout; above, a sampled one.
SPRING_MAX_NODES: Final[int] = 500

FORMATS: Final[tuple[str, ...]] = ("cytoscape", "echarts", "node-link", "graphml", "gexf")
METRICS: Final[tuple[str, ...]] = EXPORT_METRICS

MIN_SIZE: Final[float] = 10.0
MAX_SIZE: Final[float] = 60.0
DEFAULT_SIZE: Final[float] = 20.0
MIN_WIDTH: Final[float] = 1.0
MAX_WIDTH: Final[float] = 8.0

#: One colour per node label (the legend of every view).
LABEL_COLOURS: Final[dict[str, str]] = {
    "Region": "#8c8c8c",
    "Village": "#52c41a",
    "PartyOrganization": "#f5222d",
    "Enterprise": "#1677ff",
    "Institution": "#722ed1",
    "Industry": "#fa8c16",
    "Program": "#d4b106",
    "Person": "#eb2f96",
}
_COOPERATIVE_KINDS: Final[tuple[str, ...]] = (
    "合作社",
    "家庭农场",
    "强村富民公司",
    "红色物业公司",
    "村集体公司",
)
#: Kinds that stand out within their label: joint bodies, cooperatives, banks, region levels.
KIND_COLOURS: Final[dict[str, str]] = {
    **dict.fromkeys(JOINT_BODY_KINDS, "#a8071a"),
    **dict.fromkeys(_COOPERATIVE_KINDS, "#13c2c2"),
    "金融机构": "#531dab",
    "社区": "#237804",
    "省": "#434343",
    "市": "#595959",
    "县": "#8c8c8c",
    "乡镇": "#bfbfbf",
}
_FALLBACK_COLOUR: Final[str] = "#595959"
#: Link colours per type: structural links stay grey, the relations a planner reads stand out.
LINK_COLOURS: Final[dict[str, str]] = {
    "IN_REGION": "#d9d9d9",
    "SUBORDINATE_TO": "#bfbfbf",
    "ORGANIZATION_OF": "#bfbfbf",
    "MEMBER_OF": "#ff7875",
    "CO_BUILDS": "#ff4d4f",
    "PAIRS_WITH": "#fa541c",
    "LEADS_COOPERATIVE": "#13c2c2",
    "SUPPLIES": "#1677ff",
    "FINANCES": "#531dab",
    "DISPATCHES": "#722ed1",
    "IN_INDUSTRY": "#ffc069",
    "PART_OF_PROGRAM": "#d4b106",
    "HOLDS_POSITION": "#eb2f96",
}

_NESTED_KEYS: Final[tuple[str, ...]] = ("aliases", "attributes", "figures", "sources")


class ExportTooLargeError(PayloadTooLargeError, ValueError):
    """A scope has more nodes than an export may hold (HTTP 413 at the edge)."""


# ---------------------------------------------------------------------------------------
# Preparation: size limit, metrics, layout (redaction is the caller's view)
# ---------------------------------------------------------------------------------------


def check_size(G: nx.MultiDiGraph, max_nodes: int = MAX_EXPORT_NODES) -> None:
    """Raise :class:`ExportTooLargeError` when ``G`` has more than ``max_nodes`` nodes."""
    n = G.number_of_nodes()
    if n > max_nodes:
        raise ExportTooLargeError(
            f"the scope has {n} nodes and {G.number_of_edges()} links; an export holds at "
            f"most {max_nodes} nodes: narrow the scope (region:<code>, body:<id>, node:<id>), "
            "filter link types or raise max_nodes",
            field="scope",
            details={"nodes": n, "links": G.number_of_edges(), "max_nodes": max_nodes},
        )


def node_metric(
    G: nx.MultiDiGraph, name: str, seed: int = 0, as_of: dt.date | None = None
) -> dict[str, float]:
    """A node score for sizing, computed with networkx on the collapsed undirected graph:
    ``degree``, ``weighted_degree`` (links counted with multiplicity), ``pagerank``,
    ``betweenness`` (exact up to 1000 nodes, else from a ``seed``-ed sample of sources) or
    ``strength`` (the sum of the link strengths of the node's pairs on ``as_of``)."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; one of {', '.join(METRICS)}")
    if name == "strength":
        from graph_service.analysis.strength import strongest_links

        totals = {str(n): 0.0 for n in G}
        for result in strongest_links(G, top=None, as_of=as_of):
            totals[str(result.source)] += float(result.score)
            totals[str(result.target)] += float(result.score)
        return totals
    H = collapse(G)
    if H.number_of_nodes() == 0:
        return {}
    if name == "degree":
        return {str(n): float(d) for n, d in H.degree()}
    if name == "weighted_degree":
        return {str(n): float(d) for n, d in H.degree(weight="weight")}
    if name == "pagerank":
        if H.number_of_edges() == 0:
            return {str(n): 1.0 / H.number_of_nodes() for n in H}
        return {str(n): float(s) for n, s in nx.pagerank(H, weight="weight").items()}
    n = H.number_of_nodes()
    # Brandes' algorithm from a seeded sample of sources above 1000 nodes, sized so that the
    # work stays near 200,000 node visits.
    k = None if n <= 1000 else max(32, min(256, 200_000 // n))
    scores = nx.betweenness_centrality(H, k=k, seed=seed, normalized=True)
    return {str(node): float(s) for node, s in scores.items()}


def link_strengths(G: nx.MultiDiGraph, as_of: dt.date | None = None) -> dict[str, float]:
    """Link id → the strength score of its pair (``graph_service.analysis.strength``), for
    the non-structural links of ``G``; other links get none."""
    from graph_service.analysis.strength import strongest_links

    out: dict[str, float] = {}
    for result in strongest_links(G, top=None, as_of=as_of):
        for link_id in result.link_ids:
            out[str(link_id)] = float(result.score)
    return out


def layout(
    G: nx.Graph,
    seed: int = 0,
    scale: float = 1000.0,
    iterations: int = 50,
) -> dict[str, tuple[float, float]]:
    """Seeded 2-D coordinates for the nodes of ``G`` in [-scale, scale].

    Up to :data:`SPRING_MAX_NODES` nodes: networkx's Fruchterman-Reingold ``spring_layout``.
    Above: the same force model with repulsion estimated from a seeded sample of 48 nodes per
    node and step (O(n) per step instead of O(n²)), so 20,000 nodes lay out in seconds.
    The same graph and seed give the same coordinates, whatever order the nodes came in.
    """
    nodes = sorted(G.nodes(), key=str)
    n = len(nodes)
    if n == 0:
        return {}
    if n == 1:
        return {str(nodes[0]): (0.0, 0.0)}
    index = {node: i for i, node in enumerate(nodes)}
    pairs = sorted(
        {tuple(sorted((index[u], index[v]))) for u, v in G.edges() if u != v},
    )
    if n <= SPRING_MAX_NODES:
        simple = nx.Graph()
        simple.add_nodes_from(range(n))
        simple.add_edges_from(pairs)
        found = nx.spring_layout(simple, seed=seed, iterations=iterations)
        coords = np.array([found[i] for i in range(n)], dtype=float)
    else:
        edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        coords = _sampled_spring(n, edges, seed, iterations)
    coords -= coords.mean(axis=0)
    extent = float(np.abs(coords).max()) or 1.0
    coords *= scale / extent
    return {
        str(node): (round(float(x), 2), round(float(y), 2))
        for node, (x, y) in zip(nodes, coords, strict=True)
    }


def _sampled_spring(n: int, edges: np.ndarray, seed: int, iterations: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    k = 1.0 / math.sqrt(n)
    samples = min(n - 1, 48)
    factor = (n - 1) / samples
    temperature = 0.1
    cooling = temperature / (iterations + 1)
    src, dst = (edges[:, 0], edges[:, 1]) if len(edges) else (np.zeros(0, int), np.zeros(0, int))
    for _ in range(iterations):
        others = rng.integers(0, n, size=(n, samples))
        delta = pos[:, None, :] - pos[others]
        dist2 = np.maximum((delta**2).sum(axis=2), 1e-6)
        disp = (delta * (k * k / dist2)[:, :, None]).sum(axis=1) * factor
        if len(src):
            d = pos[src] - pos[dst]
            dist = np.maximum(np.sqrt((d**2).sum(axis=1)), 1e-6)
            pull = d * (dist / k)[:, None]
            for axis in (0, 1):
                disp[:, axis] -= np.bincount(src, weights=pull[:, axis], minlength=n)
                disp[:, axis] += np.bincount(dst, weights=pull[:, axis], minlength=n)
        disp -= (pos - pos.mean(axis=0)) * 0.05 * n * k
        length = np.maximum(np.sqrt((disp**2).sum(axis=1)), 1e-9)
        pos += disp * (np.minimum(length, temperature) / length)[:, None]
        temperature -= cooling
    return pos


# ---------------------------------------------------------------------------------------
# Styling shared by the formats
# ---------------------------------------------------------------------------------------


def node_colour(label: str | None, kind: str | None) -> str:
    """The node's colour: its kind's when the kind has one, else its label's."""
    if kind and kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    return LABEL_COLOURS.get(label or "", _FALLBACK_COLOUR)


def _label_zh(label: str | None) -> str:
    spec = NODE_LABELS.get(label or "")
    return spec.label_zh if spec else (label or "")


def _type_zh(type_: str | None) -> str:
    spec = LINK_TYPES.get(type_ or "")
    return spec.label_zh if spec else (type_ or "")


def _sizes(G: nx.MultiDiGraph, metric: Mapping[str, float] | None) -> dict[str, float]:
    if not metric:
        return {str(n): DEFAULT_SIZE for n in G}
    values = [float(metric.get(str(n), 0.0)) for n in G]
    lo, hi = min(values), max(values)
    span = hi - lo
    out: dict[str, float] = {}
    for n, v in zip(G, values, strict=True):
        share = (v - lo) / span if span > 0 else 0.5
        out[str(n)] = round(MIN_SIZE + share * (MAX_SIZE - MIN_SIZE), 3)
    return out


def _width(strength: float | None) -> float:
    if strength is None:
        return MIN_WIDTH
    return round(MIN_WIDTH + max(0.0, min(1.0, strength)) * (MAX_WIDTH - MIN_WIDTH), 3)


def _clean(value: Any) -> Any:
    """Documents as plain JSON data (dates as ISO text, non-finite floats as ``None``)."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class _Styled:
    """Per node and link: the document plus colour, size, score, width, strength, position."""

    def __init__(
        self,
        G: nx.MultiDiGraph,
        metric: Mapping[str, float] | None,
        strength: Mapping[str, float] | None,
        positions: Mapping[str, tuple[float, float]] | None,
    ) -> None:
        self.G = G
        self.metric = metric
        self.strength = strength or {}
        self.positions = positions
        self.sizes = _sizes(G, metric)

    def nodes(self) -> Iterable[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(id, document without depth, style) per node, in the graph's order."""
        for n, data in self.G.nodes(data=True):
            node_id = str(n)
            doc = {k: _clean(v) for k, v in data.items() if k != "depth"}
            doc["id"] = node_id
            # Viewers (Gephi, Cytoscape.js, D3) show a node's ``label``: make it the name,
            # and keep the node's type in ``node_label``.
            doc["node_label"] = data.get("label")
            doc["label"] = str(data.get("name") or node_id)
            style: dict[str, Any] = {
                "label_zh": _label_zh(data.get("label")),
                "color": node_colour(data.get("label"), data.get("kind")),
                "size": self.sizes[node_id],
            }
            if self.metric is not None:
                score = self.metric.get(node_id)
                style["score"] = float(score) if score is not None else None
            if self.positions is not None and node_id in self.positions:
                x, y = self.positions[node_id]
                style["x"], style["y"] = float(x), float(y)
            yield node_id, doc, style

    def links(self) -> Iterable[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
        """(source, target, link id, document, style) per link."""
        for u, v, key, data in self.G.edges(keys=True, data=True):
            link_id = str(data.get("id", key))
            doc = {k: _clean(val) for k, val in data.items()}
            doc.update(id=link_id, source=str(u), target=str(v))
            strength = self.strength.get(link_id)
            style: dict[str, Any] = {
                "label": _type_zh(data.get("type")),
                "label_zh": _type_zh(data.get("type")),
                "color": LINK_COLOURS.get(str(data.get("type")), "#bfbfbf"),
                "strength": strength,
                "width": _width(strength),
            }
            yield str(u), str(v), link_id, doc, style


def _meta(G: nx.MultiDiGraph, meta: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        **_clean(dict(meta or {})),
        "nodes": G.number_of_nodes(),
        "links": G.number_of_edges(),
    }


# ---------------------------------------------------------------------------------------
# JSON formats
# ---------------------------------------------------------------------------------------


def to_cytoscape(
    G: nx.MultiDiGraph,
    metric: Mapping[str, float] | None = None,
    strength: Mapping[str, float] | None = None,
    positions: Mapping[str, tuple[float, float]] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Cytoscape.js elements (object form) with the styling in each element's ``data``."""
    styled = _Styled(G, metric, strength, positions)
    nodes: list[dict[str, Any]] = []
    for node_id, doc, style in styled.nodes():
        element: dict[str, Any] = {"data": {**doc, **style, "id": node_id}}
        if "x" in style:
            element["position"] = {"x": style["x"], "y": style["y"]}
        classes = [str(doc.get("node_label") or "")]
        if doc.get("kind") in JOINT_BODY_KINDS:
            classes.append("joint-body")
        element["classes"] = " ".join(c for c in classes if c)
        nodes.append(element)
    edges = [
        {
            "data": {**doc, **style, "id": link_id, "source": u, "target": v},
            "classes": str(doc.get("type", "")),
        }
        for u, v, link_id, doc, style in styled.links()
    ]
    return {"data": _meta(G, meta), "elements": {"nodes": nodes, "edges": edges}}


def to_echarts(
    G: nx.MultiDiGraph,
    metric: Mapping[str, float] | None = None,
    strength: Mapping[str, float] | None = None,
    positions: Mapping[str, tuple[float, float]] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ECharts ``series`` item of type ``graph`` (see the module docs for its shape)."""
    styled = _Styled(G, metric, strength, positions)
    present = {str(d.get("label")) for _, d in G.nodes(data=True)}
    order = [label for label in NODE_LABELS if label in present]
    order += sorted(present - set(order))
    category_of = {label: i for i, label in enumerate(order)}
    categories = [
        {
            "name": _label_zh(label),
            "node_label": label,
            "itemStyle": {"color": LABEL_COLOURS.get(label, _FALLBACK_COLOUR)},
        }
        for label in order
    ]
    nodes: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for node_id, doc, style in styled.nodes():
        index[node_id] = len(nodes)
        item: dict[str, Any] = {
            "id": node_id,
            "name": doc.get("name") or node_id,
            "category": category_of[str(doc.get("node_label"))],
            "symbolSize": style["size"],
            "value": style.get("score"),
            "itemStyle": {"color": style["color"]},
            "kind": doc.get("kind"),
            "region_code": doc.get("region_code"),
        }
        if "x" in style:
            item["x"], item["y"] = style["x"], style["y"]
        nodes.append(item)
    links = [
        {
            "id": link_id,
            "source": index[u],
            "target": index[v],
            "value": style["strength"],
            "type": doc.get("type"),
            "label_zh": style["label_zh"],
            "lineStyle": {"width": style["width"], "color": style["color"]},
        }
        for u, v, link_id, doc, style in styled.links()
    ]
    return {
        "type": "graph",
        "name": str((meta or {}).get("title", "党建联建网络")),
        "layout": "none" if positions is not None else "force",
        "roam": True,
        "draggable": positions is None,
        "edgeSymbol": ["none", "arrow"],
        "edgeSymbolSize": 6,
        "label": {"show": len(nodes) <= 200, "position": "right", "formatter": "{b}"},
        "emphasis": {"focus": "adjacency"},
        "force": {"repulsion": 120, "edgeLength": [40, 120], "gravity": 0.05},
        "categories": categories,
        "nodes": nodes,
        "links": links,
        "meta": _meta(G, meta),
    }


def _styled_graph(
    G: nx.MultiDiGraph,
    metric: Mapping[str, float] | None,
    strength: Mapping[str, float] | None,
    positions: Mapping[str, tuple[float, float]] | None,
) -> nx.MultiDiGraph:
    styled = _Styled(G, metric, strength, positions)
    H = nx.MultiDiGraph()
    for node_id, doc, style in styled.nodes():
        H.add_node(node_id, **doc, **style)
    for u, v, link_id, doc, style in styled.links():
        H.add_edge(u, v, key=link_id, **doc, **style)
    return H


def to_node_link(
    G: nx.MultiDiGraph,
    metric: Mapping[str, float] | None = None,
    strength: Mapping[str, float] | None = None,
    positions: Mapping[str, tuple[float, float]] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Node-link JSON (D3, force-graph): ``nodes`` and ``links``, styling on each item."""
    H = _styled_graph(G, metric, strength, positions)
    H.graph.update(_meta(G, meta))
    data: dict[str, Any] = nx.node_link_data(H, edges="links")
    return data


# ---------------------------------------------------------------------------------------
# XML formats (Gephi)
# ---------------------------------------------------------------------------------------


def _json_text(value: Any) -> str:
    return orjson.dumps(_clean(value), option=orjson.OPT_SORT_KEYS).decode()


def _flat(doc: Mapping[str, Any], drop: Iterable[str] = ()) -> dict[str, Any]:
    """Scalars as they are (ints as floats), nested values as JSON text, ``None`` left out."""
    skip = set(drop)
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key in skip or value is None:
            continue
        if isinstance(value, bool | str):
            out[key] = value
        elif isinstance(value, int | float):
            out[key] = float(value)
        elif isinstance(value, (dt.date, dt.datetime)):
            out[key] = value.isoformat()
        else:
            out[key] = _json_text(value)
    return out


def _uniform_types(items: list[dict[str, Any]]) -> None:
    """GraphML and GEXF declare one type per attribute: a key whose values have more than one
    type becomes text everywhere."""
    types: dict[str, set[type]] = {}
    for item in items:
        for key, value in item.items():
            types.setdefault(key, set()).add(type(value))
    mixed = {key for key, seen in types.items() if len(seen) > 1}
    for item in items:
        for key in mixed & item.keys():
            value = item[key]
            item[key] = str(value).lower() if isinstance(value, bool) else str(value)


def _rgb(colour: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})", colour)
    if not match:
        return (89, 89, 89)
    r, g, b = (int(part, 16) for part in match.groups())
    return r, g, b


def to_graphml(
    G: nx.MultiDiGraph,
    metric: Mapping[str, float] | None = None,
    strength: Mapping[str, float] | None = None,
    positions: Mapping[str, tuple[float, float]] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """GraphML (UTF-8): flat attributes, link ids as edge ids; colour also as ``r``/``g``/``b``
    and position as ``x``/``y``, the keys Gephi's GraphML import reads."""
    styled = _Styled(G, metric, strength, positions)
    node_rows: list[tuple[str, dict[str, Any]]] = []
    for node_id, doc, style in styled.nodes():
        attrs = _flat({**doc, **style}, drop=("id",))
        attrs["r"], attrs["g"], attrs["b"] = _rgb(style["color"])
        node_rows.append((node_id, attrs))
    link_rows: list[tuple[str, str, str, dict[str, Any]]] = []
    for u, v, link_id, doc, style in styled.links():
        attrs = _flat({**doc, **style}, drop=("id", "source", "target"))
        link_rows.append((u, v, link_id, attrs))
    _uniform_types([attrs for _, attrs in node_rows])
    _uniform_types([attrs for *_, attrs in link_rows])
    H = nx.MultiDiGraph()
    H.graph.update(_flat(_meta(G, meta)))
    H.add_nodes_from(node_rows)
    for u, v, link_id, attrs in link_rows:
        H.add_edge(u, v, key=link_id, **attrs)
    buffer = BytesIO()
    nx.write_graphml(H, buffer, encoding="utf-8", prettyprint=False)
    return buffer.getvalue()


def to_gexf(
    G: nx.MultiDiGraph,
    metric: Mapping[str, float] | None = None,
    strength: Mapping[str, float] | None = None,
    positions: Mapping[str, tuple[float, float]] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """GEXF 1.2 (UTF-8): the node's name is its GEXF label, styling in ``viz``."""
    styled = _Styled(G, metric, strength, positions)
    node_rows: list[tuple[str, dict[str, Any], dict[str, Any], str]] = []
    for node_id, doc, style in styled.nodes():
        attrs = _flat(
            {**doc, **style},
            drop=("id", "label", "x", "y", "pid", "start", "end", "parents", "slices", "spells"),
        )
        r, g, b = _rgb(style["color"])
        viz: dict[str, Any] = {"color": {"r": r, "g": g, "b": b, "a": 1.0}, "size": style["size"]}
        if "x" in style:
            viz["position"] = {"x": style["x"], "y": style["y"], "z": 0.0}
        node_rows.append((node_id, attrs, viz, str(doc["label"])))
    link_rows: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = []
    for u, v, link_id, doc, style in styled.links():
        attrs = _flat(
            {**doc, "link_type": doc.get("type"), **style},
            drop=("id", "source", "target", "type", "label", "weight", "start", "end", "key"),
        )
        r, g, b = _rgb(style["color"])
        viz = {"color": {"r": r, "g": g, "b": b, "a": 1.0}, "thickness": style["width"]}
        link_rows.append((u, v, link_id, attrs, viz))
    _uniform_types([attrs for _, attrs, _, _ in node_rows])
    _uniform_types([attrs for *_, attrs, _ in link_rows])
    H = nx.MultiDiGraph()
    for node_id, attrs, viz, label in node_rows:
        H.add_node(node_id, label=label, viz=viz, **attrs)
    for u, v, link_id, attrs, viz in link_rows:
        strength_value = attrs.get("strength")
        H.add_edge(
            u,
            v,
            key=link_id,
            id=link_id,
            label=attrs.get("label_zh", ""),
            weight=float(strength_value) if isinstance(strength_value, float) else 1.0,
            viz=viz,
            **attrs,
        )
    buffer = BytesIO()
    nx.write_gexf(H, buffer, encoding="utf-8", prettyprint=False)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# One entry point
# ---------------------------------------------------------------------------------------

_WRITERS: Final[dict[str, Any]] = {
    "cytoscape": to_cytoscape,
    "echarts": to_echarts,
    "node-link": to_node_link,
    "graphml": to_graphml,
    "gexf": to_gexf,
}


def export(
    G: nx.MultiDiGraph,
    fmt: str,
    *,
    metric: str | None = None,
    strength: bool = False,
    with_layout: bool = False,
    seed: int = 0,
    as_of: dt.date | None = None,
    max_nodes: int = MAX_EXPORT_NODES,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any] | bytes:
    """``G`` in format ``fmt``: checks the size, computes the metric, link strengths and
    layout asked for, and writes. JSON formats give a dict, XML formats bytes."""
    if fmt not in _WRITERS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    check_size(G, max_nodes)
    scores = node_metric(G, metric, seed, as_of) if metric else None
    strengths = link_strengths(G, as_of) if strength else None
    positions = layout(G, seed=seed) if with_layout else None
    info = {
        **dict(meta or {}),
        "metric": metric,
        "strength": strength,
        "layout_seed": seed if with_layout else None,
    }
    result: dict[str, Any] | bytes = _WRITERS[fmt](
        G, metric=scores, strength=strengths, positions=positions, meta=info
    )
    return result
