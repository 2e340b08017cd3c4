"""From the store's multigraph to the graphs analyses run on.

References
----------
.. [1] A. Hagberg, D. Schult, P. Swart, "Exploring network structure, dynamics, and function
   using NetworkX", SciPy 2008.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx

__all__ = ["collapse", "filter_links", "valid_on"]


def valid_on(attrs: dict[str, Any], as_of: dt.date | None) -> bool:
    """Whether a node or link (its document as attributes) is valid on ``as_of``."""
    if as_of is None:
        return True
    day = as_of.isoformat()
    start, end = attrs.get("valid_from"), attrs.get("valid_to")
    return (start is None or start <= day) and (end is None or day <= end)


def filter_links(
    G: nx.MultiDiGraph, link_types: Iterable[str] | None = None, as_of: dt.date | None = None
) -> nx.MultiDiGraph:
    """A copy of ``G`` keeping the links of ``link_types`` (all when ``None``) valid on
    ``as_of``, and the nodes valid on ``as_of``."""
    types = set(link_types) if link_types is not None else None
    H = nx.MultiDiGraph()
    H.add_nodes_from((n, d) for n, d in G.nodes(data=True) if valid_on(d, as_of))
    H.add_edges_from(
        (u, v, k, d)
        for u, v, k, d in G.edges(keys=True, data=True)
        if u in H and v in H and (types is None or d.get("type") in types) and valid_on(d, as_of)
    )
    return H


def collapse(
    G: nx.MultiDiGraph,
    weight: Callable[[dict[str, Any]], float] | None = None,
) -> nx.Graph:
    """The simple undirected graph of ``G``: one edge per linked pair.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export (or a filtered copy).
    weight : callable, optional
        Maps a link's attributes to its weight; the pair's weight is the sum over its links.
        Without it every link weighs 1, so a pair's weight counts its links.

    Returns
    -------
    networkx.Graph
        Nodes keep their attributes; edges carry ``weight`` and ``links`` (the link ids).

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_edge("a", "b", key="l1", type="SUPPLIES")
    'l1'
    >>> G.add_edge("b", "a", key="l2", type="CO_BUILDS")
    'l2'
    >>> H = collapse(G)
    >>> H["a"]["b"]["weight"], sorted(H["a"]["b"]["links"])
    (2.0, ['l1', 'l2'])
    """
    H = nx.Graph()
    H.add_nodes_from(G.nodes(data=True))
    for u, v, key, data in G.edges(keys=True, data=True):
        if u == v:
            continue
        w = float(weight(data)) if weight is not None else 1.0
        if H.has_edge(u, v):
            H[u][v]["weight"] += w
            H[u][v]["links"].append(key)
        else:
            H.add_edge(u, v, weight=w, links=[key])
    return H
