"""Detected communities against the formal joint bodies (联建组织).

A joint body (联合党委, 党建联合体 …) declares who works together; Louvain communities of the
link graph show who actually does. :func:`louvain` finds the communities,
:func:`joint_bodies` reads the bodies and their members off the store's multigraph, and
:func:`compare_with_bodies` lines the two up: bodies whose members fall apart into several
communities, communities that join members of several bodies, and one agreement score.

References
----------
.. [1] V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of
   communities in large networks", Journal of Statistical Mechanics P10008, 2008.
.. [2] M. E. J. Newman, M. Girvan, "Finding and evaluating community structure in networks",
   Physical Review E 69(2):026113, 2004.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import networkx as nx

from graph_service.analysis import fast
from graph_service.analysis.centrality import CSRGraph
from graph_service.schema import JOINT_BODY_KINDS

__all__ = [
    "BodyComparison",
    "BodySpread",
    "CommunityCrossing",
    "CommunityResult",
    "compare_with_bodies",
    "joint_bodies",
    "louvain",
]

B = TypeVar("B", bound=Hashable)


@dataclass(frozen=True, slots=True)
class CommunityResult:
    """A partition of a graph's nodes.

    ``communities`` are ordered by size (largest first), then by their smallest node id;
    a community's index in this list is how the other results refer to it. ``modularity``
    is NaN for a graph without edges (it is undefined there). ``engine`` says which
    implementation ran: ``"networkx"`` or ``"networkit"`` (PLM).
    """

    communities: list[frozenset[Hashable]]
    modularity: float
    method: str
    resolution: float = 1.0
    seed: int | None = None
    engine: str = "networkx"

    def membership(self) -> dict[Hashable, int]:
        """``node -> index`` of its community."""
        return {node: i for i, community in enumerate(self.communities) for node in community}


@dataclass(frozen=True, slots=True)
class BodySpread:
    """How the members of one body spread over the communities.

    ``spread`` maps community index to the number of the body's members in it (largest
    share first, then by index); ``majority`` is the first of these and ``majority_share``
    its share of the placed members. ``missing`` counts members that are in no community
    (not in the analysed graph).
    """

    body: Hashable
    members: int
    spread: dict[int, int]
    majority: int | None
    majority_share: float
    missing: int


@dataclass(frozen=True, slots=True)
class CommunityCrossing:
    """A community holding members of several bodies: ``bodies`` maps body to members."""

    community: int
    size: int
    bodies: dict[Hashable, int]


@dataclass(frozen=True, slots=True)
class BodyComparison:
    """Formal bodies against detected communities.

    ``bodies`` has every body; ``split_bodies`` those whose placed members span two or more
    communities (least cohesive first); ``crossing_communities`` the communities touching
    two or more bodies (most bodies first). ``agreement`` is the share of placed
    memberships that sit in their body's majority community (NaN without any); ``intact``
    counts bodies wholly inside one community.
    """

    bodies: list[BodySpread]
    split_bodies: list[BodySpread]
    crossing_communities: list[CommunityCrossing]
    agreement: float
    intact: int


def _order(nodes: Iterable[Hashable]) -> dict[Hashable, int]:
    items = list(nodes)
    try:
        ordered = sorted(cast(list[Any], items))
    except TypeError:
        ordered = sorted(items, key=lambda n: (type(n).__name__, str(n)))
    return {n: i for i, n in enumerate(ordered)}


def louvain(
    G: nx.Graph,
    weight: str | None = "weight",
    resolution: float = 1.0,
    seed: int = 0,
    *,
    engine: fast.Engine = "auto",
    csr: CSRGraph | None = None,
) -> CommunityResult:
    """Louvain communities of ``G`` and their modularity.

    Parameters
    ----------
    G : networkx graph
        Usually the collapsed simple graph of a scope, whose ``weight`` counts or sums the
        links of a pair.
    weight : str or None, optional
        Edge attribute holding the weight; ``None`` weighs every edge 1.
    resolution : float, optional
        Modularity's resolution γ: below 1 favours larger communities, above 1 smaller ones
        [3]_.
    seed : int, optional
        Seed of the node order Louvain visits; the result is deterministic for a seed and a
        graph (including its node insertion order).
    engine : {"auto", "networkx", "networkit"}, optional
        ``"networkx"`` is the reference; ``"networkit"`` runs NetworKit's PLM
        (:func:`graph_service.analysis.fast.plm_communities`) on undirected graphs;
        ``"auto"`` picks NetworKit for undirected graphs of at least
        :data:`graph_service.analysis.fast.NETWORKIT_MIN_NODES` nodes.
    csr : CSRGraph, optional
        ``CSRGraph.from_graph(G, weight)`` cached by the caller, for the NetworKit engine
        (built here when absent). It must have been built with the same ``weight``.

    Returns
    -------
    CommunityResult
        Communities largest first (ties by smallest node id), the modularity of the
        partition at ``resolution``, ``method="louvain"`` and the ``engine`` that ran.

    Raises
    ------
    ValueError
        For ``engine="networkit"`` on a directed graph, or a ``csr`` of another graph.

    Notes
    -----
    ``networkx.community.louvain_communities`` [1]_ (the last, coarsest level) and
    ``networkx.community.modularity`` [2]_. Louvain runs in about O(m) per pass and a few
    passes; it is a heuristic and different seeds can give different partitions of close
    modularity. A graph without edges gives every node its own community and NaN
    modularity. NetworKit's PLM is the same method in C++ (30–100× faster than networkx on
    the generated counties, see ``bench/analysis.py``); the seeds of the two engines are
    unrelated, their partitions differ and their modularity agrees within 1 % in the tests.

    References
    ----------
    .. [1] V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of
       communities in large networks", Journal of Statistical Mechanics P10008, 2008.
    .. [2] M. E. J. Newman, M. Girvan, "Finding and evaluating community structure in
       networks", Physical Review E 69(2):026113, 2004.
    .. [3] J. Reichardt, S. Bornholdt, "Statistical mechanics of community detection",
       Physical Review E 74(1):016110, 2006.
    """
    order = _order(G)
    ran = _louvain_engine(G, engine)
    if G.number_of_edges() == 0:
        found: list[set[Hashable]] = [{node} for node in G]
        quality = math.nan
    elif ran == "networkit":
        matrix = _check_csr(G, csr, weight)
        labels, quality = fast.plm_communities(matrix, resolution, seed)
        groups: defaultdict[int, set[Hashable]] = defaultdict(set)
        for node, label in zip(matrix.nodes, labels.tolist(), strict=True):
            groups[label].add(node)
        found = list(groups.values())
    else:
        found = nx.community.louvain_communities(G, weight=weight, resolution=resolution, seed=seed)
        quality = float(nx.community.modularity(G, found, weight=weight, resolution=resolution))
    communities = sorted(
        (frozenset(c) for c in found), key=lambda c: (-len(c), min(order[n] for n in c))
    )
    return CommunityResult(communities, quality, "louvain", resolution, seed, ran)


def _louvain_engine(G: nx.Graph, engine: fast.Engine) -> str:
    if engine == "networkit":
        if G.is_directed():
            raise ValueError("the networkit engine (PLM) needs an undirected graph")
        return "networkit"
    if engine == "auto" and not G.is_directed() and len(G) >= fast.NETWORKIT_MIN_NODES:
        return "networkit"
    return "networkx"


def _check_csr(G: nx.Graph, csr: CSRGraph | None, weight: str | None) -> CSRGraph:
    if csr is None:
        return CSRGraph.from_graph(G, weight=weight)
    if not csr.covers(G):
        raise ValueError("csr was not built from this graph (nodes or direction differ)")
    return csr


def joint_bodies(
    G: nx.MultiDiGraph, via_organization: Collection[str] = ("Village",)
) -> dict[Hashable, set[Hashable]]:
    """The joint bodies of a store multigraph and their members.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export (node documents as attributes, link documents on edges). Filter
        it by date first (:func:`graph_service.analysis.graphs.filter_links`). It must hold
        the structural ``ORGANIZATION_OF`` links for units to count through their party
        organization.
    via_organization : collection of str, optional
        Labels of units that count as members when their own party organization
        (``ORGANIZATION_OF`` org → unit) is one: villages by default.

    Returns
    -------
    dict
        ``body -> members`` for every ``PartyOrganization`` whose ``kind`` is in
        :data:`graph_service.schema.JOINT_BODY_KINDS` (bodies without members map to an
        empty set), in node-id order. Members are the sources of ``MEMBER_OF`` links into
        the body plus, for each member organization, the units of ``via_organization``
        labels it is the party organization of.

    Raises
    ------
    networkx.NetworkXNotImplemented
        For an undirected graph (link direction says who is the member).

    Notes
    -----
    O(n + m). Membership is not transitive: the members of a body that is itself a member
    of another body are not members of the outer body. A body is not its own member.
    """
    if not G.is_directed():
        raise nx.NetworkXNotImplemented("joint_bodies needs the directed store multigraph")
    nodes = G.nodes
    bodies = [
        n
        for n, d in nodes(data=True)
        if d.get("label") == "PartyOrganization" and d.get("kind") in JOINT_BODY_KINDS
    ]
    labels = set(via_organization)
    units: defaultdict[Hashable, list[Hashable]] = defaultdict(list)
    members: dict[Hashable, set[Hashable]] = {
        body: set() for body in sorted(bodies, key=_order(bodies).__getitem__)
    }
    for source, target, data in G.edges(data=True):
        kind = data.get("type")
        if kind == "ORGANIZATION_OF" and nodes[target].get("label") in labels:
            units[source].append(target)
    for source, target, data in G.edges(data=True):
        if data.get("type") == "MEMBER_OF" and target in members and source != target:
            members[target].add(source)
            members[target].update(units.get(source, ()))
    return members


def compare_with_bodies(
    result: CommunityResult, bodies: Mapping[B, Collection[Hashable]]
) -> BodyComparison:
    """Line up the formal bodies with the detected communities.

    Parameters
    ----------
    result : CommunityResult
        Communities of the analysed graph (:func:`louvain`).
    bodies : mapping
        ``body -> members`` (:func:`joint_bodies`). Add the body node to its members if it
        should count; it does not by default.

    Returns
    -------
    BodyComparison
        Per body its spread over communities; the split bodies; the communities that cut
        across bodies; the agreement score and the number of intact bodies.

    Notes
    -----
    The agreement score is the *purity* of the bodies with respect to the communities [1]_:
    ``Σ_b max_c |b ∩ c| / Σ_b |b ∩ placed|``, the share of (body, member) pairs whose
    member sits in the body's majority community. It is 1 when every body lies inside one
    community (whatever else the community holds), and it is well defined when bodies
    overlap — a node may be a member of several bodies — which rules out partition
    comparisons such as adjusted mutual information. Members missing from the graph are
    counted per body and left out of the score. A majority tie goes to the lower
    community index (the larger community). O(Σ_b |b|).

    References
    ----------
    .. [1] C. D. Manning, P. Raghavan, H. Schütze, *Introduction to Information Retrieval*,
       Cambridge University Press, 2008, §16.3 (purity).
    """
    membership = result.membership()
    spreads: list[BodySpread] = []
    touching: defaultdict[int, Counter[Hashable]] = defaultdict(Counter)
    placed_total = 0
    majority_total = 0
    for body, body_members in bodies.items():
        counts: Counter[int] = Counter()
        missing = 0
        for member in set(body_members):
            community = membership.get(member)
            if community is None:
                missing += 1
            else:
                counts[community] += 1
                touching[community][body] += 1
        spread = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        placed = sum(counts.values())
        majority = next(iter(spread), None)
        top = spread[majority] if majority is not None else 0
        spreads.append(
            BodySpread(
                body,
                placed,
                spread,
                majority,
                top / placed if placed else math.nan,
                missing,
            )
        )
        placed_total += placed
        majority_total += top
    order = _order(bodies)
    split = sorted(
        (s for s in spreads if len(s.spread) > 1),
        key=lambda s: (s.majority_share, -len(s.spread), order[s.body]),
    )
    crossing = [
        CommunityCrossing(
            community,
            len(result.communities[community]),
            dict(sorted(counter.items(), key=lambda item: (-item[1], order[item[0]]))),
        )
        for community, counter in touching.items()
        if len(counter) > 1
    ]
    crossing.sort(key=lambda c: (-len(c.bodies), c.community))
    return BodyComparison(
        spreads,
        split,
        crossing,
        majority_total / placed_total if placed_total else math.nan,
        sum(1 for s in spreads if len(s.spread) == 1),
    )
