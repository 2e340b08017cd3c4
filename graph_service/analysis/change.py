"""Change over time: what the network gained and lost between two days.

Every node and link carries ``valid_from`` / ``valid_to`` (inclusive), so the network on any
day is a filter of the one graph (:func:`graph_service.analysis.graphs.filter_links`).
:func:`compare_dates` sets two days side by side: links and nodes new on the second day and
lost since the first, the joint-body coverage of a region on each day, and — given any
centrality measure — the nodes that rose or fell most in rank.

References
----------
.. [1] A. Hagberg, D. Schult, P. Swart, "Exploring network structure, dynamics, and function
   using NetworkX", Proceedings of the 7th Python in Science Conference (SciPy 2008), 11–15.
.. [2] P. Holme and J. Saramäki, "Temporal networks", Physics Reports 519(3), 97–125, 2012.
   https://doi.org/10.1016/j.physrep.2012.03.001
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph_service.analysis.coverage import coverage_report
from graph_service.analysis.graphs import collapse, filter_links
from graph_service.schema import LINK_TYPES, STRUCTURAL_LINK_TYPES

__all__ = [
    "CentralityMove",
    "ChangeReport",
    "CoverageChange",
    "LinkChange",
    "NodeChange",
    "compare_dates",
]

Centrality = Callable[[nx.Graph], Mapping[Any, float]]


@dataclass(frozen=True, slots=True)
class LinkChange:
    id: str
    type: str
    source: str
    target: str
    valid_from: str | None
    valid_to: str | None


@dataclass(frozen=True, slots=True)
class NodeChange:
    id: str
    label: str | None
    kind: str | None
    name: str | None
    region_code: str | None
    valid_from: str | None
    valid_to: str | None


@dataclass(frozen=True, slots=True)
class CoverageChange:
    """Joint-body (and pairing) coverage of a region's villages on the two days."""

    region_code: str
    villages_a: int
    covered_a: int
    rate_a: float | None
    paired_a: int
    villages_b: int
    covered_b: int
    rate_b: float | None
    paired_b: int
    #: Villages in a joint body on b but not on a (including villages new on b), and back.
    newly_covered: tuple[str, ...]
    newly_uncovered: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CentralityMove:
    """A node's centrality rank on both days (1 = most central; ties share a rank)."""

    node_id: str
    name: str | None
    rank_a: int
    rank_b: int
    score_a: float
    score_b: float
    #: ``rank_a - rank_b``: positive when the node rose.
    rank_change: int


@dataclass(frozen=True, slots=True)
class ChangeReport:
    date_a: str
    date_b: str
    link_types: tuple[str, ...] | None
    new_links: tuple[LinkChange, ...]
    lost_links: tuple[LinkChange, ...]
    new_nodes: tuple[NodeChange, ...]
    lost_nodes: tuple[NodeChange, ...]
    coverage: CoverageChange | None
    risers: tuple[CentralityMove, ...]
    fallers: tuple[CentralityMove, ...]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _link(key: Any, d: Mapping[str, Any]) -> LinkChange:
    return LinkChange(
        id=str(key),
        type=str(d.get("type")),
        source=str(d.get("source")),
        target=str(d.get("target")),
        valid_from=d.get("valid_from"),
        valid_to=d.get("valid_to"),
    )


def _node(n: Any, d: Mapping[str, Any]) -> NodeChange:
    return NodeChange(
        id=str(n),
        label=d.get("label"),
        kind=d.get("kind"),
        name=d.get("name"),
        region_code=d.get("region_code"),
        valid_from=d.get("valid_from"),
        valid_to=d.get("valid_to"),
    )


def _links(H: nx.MultiDiGraph) -> dict[str, tuple[Any, Mapping[str, Any]]]:
    return {str(k): (k, d) for _, _, k, d in H.edges(keys=True, data=True)}


def _ranks(scores: Mapping[Any, float]) -> dict[Any, int]:
    """Competition ranks: 1 + the number of nodes scoring strictly higher."""
    ordered = sorted(scores.values(), reverse=True)
    first: dict[float, int] = {}
    for i, s in enumerate(ordered):
        first.setdefault(s, i + 1)
    return {n: first[s] for n, s in scores.items()}


def _movers(
    G: nx.MultiDiGraph,
    date_a: dt.date,
    date_b: dt.date,
    types: Iterable[str],
    centrality: Centrality,
    top: int,
) -> tuple[tuple[CentralityMove, ...], tuple[CentralityMove, ...]]:
    types = list(types)
    Sa = collapse(filter_links(G, types, date_a))
    Sb = collapse(filter_links(G, types, date_b))
    score_a = {n: float(s) for n, s in centrality(Sa).items()}
    score_b = {n: float(s) for n, s in centrality(Sb).items()}
    rank_a, rank_b = _ranks(score_a), _ranks(score_b)
    moves = [
        CentralityMove(
            node_id=str(n),
            name=G.nodes[n].get("name") if n in G else None,
            rank_a=rank_a[n],
            rank_b=rank_b[n],
            score_a=score_a[n],
            score_b=score_b[n],
            rank_change=rank_a[n] - rank_b[n],
        )
        for n in set(score_a) & set(score_b)
    ]
    risers = sorted(
        (m for m in moves if m.rank_change > 0), key=lambda m: (-m.rank_change, m.node_id)
    )
    fallers = sorted(
        (m for m in moves if m.rank_change < 0), key=lambda m: (m.rank_change, m.node_id)
    )
    return tuple(risers[:top]), tuple(fallers[:top])


def compare_dates(
    G: nx.MultiDiGraph,
    date_a: dt.date,
    date_b: dt.date,
    link_types: Iterable[str] | None = None,
    centrality: Centrality | None = None,
    *,
    region_code: str | None = None,
    top: int = 10,
) -> ChangeReport:
    """What changed in ``G`` between ``date_a`` and ``date_b``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export over the whole period (not filtered to a day).
    date_a, date_b : datetime.date
        The two days; "new" means valid on ``date_b`` and not on ``date_a``, "lost" the
        reverse (so swapping the days swaps the lists).
    link_types : iterable of str, optional
        Link types to compare (all when omitted); also the links of the centrality graphs,
        which otherwise use every non-structural link.
    centrality : callable, optional
        ``centrality(G_simple) -> {node: score}`` on the simple undirected graph of each
        day (:func:`graph_service.analysis.graphs.collapse`), e.g.
        ``networkx.degree_centrality``. Nodes present on both days are ranked (1 = most
        central, ties share the best rank) and the largest movers reported.
    region_code : str, optional
        Also compare the joint-body coverage of this region's villages
        (:func:`graph_service.analysis.coverage.coverage_report` on each day).
    top : int
        How many risers and fallers to report.

    Returns
    -------
    ChangeReport
        Links and nodes new and lost (sorted by id), the coverage change, the risers (by
        rank gained, then id) and fallers (by rank lost, then id).

    References
    ----------
    .. [1] P. Holme and J. Saramäki, "Temporal networks", Physics Reports 519(3), 97–125,
       2012.
    """
    if top < 0:
        raise ValueError(f"top must be non-negative, got {top}")
    types = list(dict.fromkeys(link_types)) if link_types is not None else None
    if types is not None:
        unknown = sorted(set(types) - set(LINK_TYPES))
        if unknown:
            raise ValueError(f"unknown link types: {', '.join(unknown)}")
    Ha = filter_links(G, types, date_a)
    Hb = filter_links(G, types, date_b)
    la, lb = _links(Ha), _links(Hb)
    new_links = tuple(_link(*lb[k]) for k in sorted(set(lb) - set(la)))
    lost_links = tuple(_link(*la[k]) for k in sorted(set(la) - set(lb)))
    na = {str(n): n for n in Ha}
    nb = {str(n): n for n in Hb}
    new_nodes = tuple(_node(nb[k], Hb.nodes[nb[k]]) for k in sorted(set(nb) - set(na)))
    lost_nodes = tuple(_node(na[k], Ha.nodes[na[k]]) for k in sorted(set(na) - set(nb)))
    coverage = None
    if region_code is not None:
        ra = coverage_report(G, region_code, date_a, include_weak=False)
        rb = coverage_report(G, region_code, date_b, include_weak=False)
        in_a = {v.village_id for v in ra.villages if v.in_joint_body}
        in_b = {v.village_id for v in rb.villages if v.in_joint_body}
        coverage = CoverageChange(
            region_code=region_code,
            villages_a=ra.total.villages,
            covered_a=ra.total.joint_body,
            rate_a=ra.total.joint_body_rate,
            paired_a=ra.total.pairing,
            villages_b=rb.total.villages,
            covered_b=rb.total.joint_body,
            rate_b=rb.total.joint_body_rate,
            paired_b=rb.total.pairing,
            newly_covered=tuple(sorted(in_b - in_a)),
            newly_uncovered=tuple(sorted(in_a - in_b)),
        )
    risers: tuple[CentralityMove, ...] = ()
    fallers: tuple[CentralityMove, ...] = ()
    if centrality is not None:
        graph_types = (
            types if types is not None else sorted(set(LINK_TYPES) - STRUCTURAL_LINK_TYPES)
        )
        risers, fallers = _movers(G, date_a, date_b, graph_types, centrality, top)
    return ChangeReport(
        date_a=date_a.isoformat(),
        date_b=date_b.isoformat(),
        link_types=tuple(types) if types is not None else None,
        new_links=new_links,
        lost_links=lost_links,
        new_nodes=new_nodes,
        lost_nodes=lost_nodes,
        coverage=coverage,
        risers=risers,
        fallers=fallers,
    )
