"""Brokers, fragility and communities: hand-computed cases, networkx and brute force."""

from __future__ import annotations

import math
import random
from collections.abc import Hashable
from functools import cache
from pathlib import Path

import networkx as nx
import pytest

from graph_service.analysis.brokers import BrokerScores, brokerage, fragility, top_brokers
from graph_service.analysis.communities import (
    CommunityResult,
    compare_with_bodies,
    joint_bodies,
    louvain,
)
from graph_service.analysis.graphs import collapse
from graph_service.register import read_register, register_graph
from graph_service.schema import JOINT_BODY_KINDS
from graph_service.services.synthetic.network import generate_network

REGISTER = Path(__file__).resolve().parent.parent / "seed" / "register"


@cache
def county_multigraph() -> nx.MultiDiGraph:
    """平原县 (profile 党建联合体 under most seeds) generated with seed 3, structural links kept."""
    rows = read_register(REGISTER, ["371426"])
    items = list(register_graph(rows))
    docs = [doc for kind, doc in items if kind == "node"]
    regions = [d for d in docs if d["label"] == "Region"]
    villages = [d for d in docs if d["label"] == "Village"]
    G = nx.MultiDiGraph()
    for kind, doc in [*items, *generate_network(regions, villages, 3)]:
        if kind == "node":
            G.add_node(doc["id"], **doc)
        else:
            G.add_edge(doc["source"], doc["target"], key=doc["id"], **doc)
    return G


# ---------------------------------------------------------------------------------------
# Structural holes
# ---------------------------------------------------------------------------------------


def triangle_with_leaf() -> nx.Graph:
    """Triangle 0-1-2 and a leaf 3 on 0."""
    return nx.Graph([(0, 1), (1, 2), (0, 2), (0, 3)])


def test_constraint_and_effective_size_by_hand() -> None:
    scores = brokerage(triangle_with_leaf(), weight=None)
    # p_0j = 1/3 (three contacts), p_1j = p_2j = 1/2, p_30 = 1.
    # c(0): j=1: (1/3 + p02 p21 = 1/3 · 1/2)² = (1/2)² = 1/4; j=2 likewise 1/4;
    #       j=3: no common contact, (1/3)² = 1/9 → 1/2 + 1/9 = 11/18
    # c(1): j=0: (1/2 + p12 p20 = 1/4)² = 9/16; j=2: (1/2 + p10 p02 = 1/6)² = 4/9
    #       → 9/16 + 4/9 = 145/144; c(2) the same; c(3) = 1² = 1
    # effective size n − 2t/n: node 0: 3 − 2·1/3 = 7/3 (one tie 1-2 among its contacts);
    # node 1: 2 − 2·1/2 = 1; node 2: 1; node 3: 1 − 0 = 1
    assert scores[0].constraint == pytest.approx(11 / 18)
    assert scores[1].constraint == pytest.approx(145 / 144)
    assert scores[2].constraint == pytest.approx(145 / 144)
    assert scores[3].constraint == pytest.approx(1.0)
    assert [scores[n].effective_size for n in range(4)] == pytest.approx([7 / 3, 1, 1, 1])
    G = triangle_with_leaf()
    reference = nx.constraint(G)
    assert all(scores[n].constraint == pytest.approx(reference[n]) for n in G)
    sizes = nx.effective_size(G)
    assert all(scores[n].effective_size == pytest.approx(sizes[n]) for n in G)


def test_weighted_constraint_and_effective_size_by_hand() -> None:
    G = nx.Graph()
    G.add_edge(0, 1, weight=2.0)
    G.add_edge(0, 2, weight=1.0)
    G.add_edge(1, 2, weight=1.0)
    score = brokerage(G)[0]
    # p01 = 2/3, p02 = 1/3, p12 = 1/3, p21 = 1/2.
    # c(0): j=1: (2/3 + p02 p21 = 1/6)² = 25/36; j=2: (1/3 + p01 p12 = 2/9)² = 25/81
    #       → 325/324
    # m_12 = w12 / max_x w1x = 1/2, m_21 = w21 / max_x w2x = 1
    # e(0) = (1 − p02 m12) + (1 − p01 m21) = 5/6 + 1/3 = 7/6
    assert score.constraint == pytest.approx(325 / 324)
    assert score.effective_size == pytest.approx(7 / 6)
    assert score.constraint == pytest.approx(nx.constraint(G, weight="weight")[0])
    assert score.effective_size == pytest.approx(nx.effective_size(G, [0], weight="weight")[0])


@pytest.mark.parametrize("directed", [False, True], ids=["undirected", "directed"])
@pytest.mark.parametrize("weight", [None, "weight"], ids=["unweighted", "weighted"])
def test_brokerage_matches_networkx(directed: bool, weight: str | None) -> None:
    G = nx.gnm_random_graph(120, 480, seed=3, directed=directed)
    G.add_node(500)  # isolated: undefined
    rng = random.Random(5)
    for u, v in G.edges:
        G[u][v]["weight"] = rng.uniform(0.5, 4.0)
    ours = brokerage(G, weight=weight)
    constraint = nx.constraint(G, weight=weight)
    # networkx's per-node path, which follows Burt's definition (its all-nodes matrix path
    # normalises m by the wrong node on weighted or directed graphs in networkx 3.6)
    sizes = nx.effective_size(G, nodes=list(G), weight=weight)
    assert math.isnan(ours[500].constraint)
    assert math.isnan(ours[500].effective_size)
    assert math.isnan(constraint[500])
    assert math.isnan(sizes[500])
    compared = 0
    for n in G:
        if n == 500:
            continue
        assert ours[n].constraint == pytest.approx(constraint[n], abs=1e-12)
        if G.is_directed() and G.out_degree(n) == 0:
            # networkx's per-node path calls a node without out-links isolated
            # (networkx issue #2661); it has in-links, hence a defined effective size
            assert not math.isnan(ours[n].effective_size)
            continue
        assert ours[n].effective_size == pytest.approx(sizes[n], abs=1e-12)
        compared += 1
    assert compared > 100
    assert list(brokerage(G, nodes=[3, 1], weight=weight)) == [3, 1]
    assert brokerage(G, nodes=[3], weight=weight)[3] == ours[3]


def test_top_brokers() -> None:
    scores = brokerage(triangle_with_leaf(), weight=None)
    # constraint ascending: 0 (11/18), 3 (1), then 1 and 2 (145/144)
    assert [n for n, _ in top_brokers(scores, 2)] == [0, 3]
    # effective size descending: 0 (7/3), then 1, 2, 3 tied at 1, by id
    assert [n for n, _ in top_brokers(scores, 3, by="effective_size")] == [0, 1, 2]
    scores["lonely"] = BrokerScores(math.nan, math.nan)
    assert "lonely" not in dict(top_brokers(scores, 10))
    assert brokerage(nx.Graph()) == {}


def test_brokerage_rejects_negative_weights() -> None:
    G = nx.Graph()
    G.add_edge(0, 1, weight=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        brokerage(G)


# ---------------------------------------------------------------------------------------
# Fragility
# ---------------------------------------------------------------------------------------


def barbell_with_villages() -> nx.Graph:
    """Two org triangles a1-a2-a3 and b1-b2-b3 joined by a3-b1; villages hang off them.

    v1, v2 on a1; v3 on b2; v4 on b3; the chain b3 - v5 - v6.
    """
    G = nx.Graph()
    for org in ("a1", "a2", "a3", "b1", "b2", "b3"):
        G.add_node(org, label="PartyOrganization")
    for village in ("v1", "v2", "v3", "v4", "v5", "v6"):
        G.add_node(village, label="Village")
    G.add_edges_from([("a1", "a2"), ("a2", "a3"), ("a1", "a3")])
    G.add_edges_from([("b1", "b2"), ("b2", "b3"), ("b1", "b3"), ("a3", "b1")])
    G.add_edges_from([("a1", "v1"), ("a1", "v2"), ("b2", "v3"), ("b3", "v4")])
    G.add_edges_from([("b3", "v5"), ("v5", "v6")])
    return G


def test_fragility_by_hand() -> None:
    result = fragility(barbell_with_villages())
    assert result.bridges == [
        ("a1", "v1"),
        ("a1", "v2"),
        ("a3", "b1"),
        ("b2", "v3"),
        ("b3", "v4"),
        ("b3", "v5"),
        ("v5", "v6"),
    ]
    assert result.articulation_points == ["a1", "a3", "b1", "b2", "b3", "v5"]
    # Removing (12 nodes; the largest piece stays connected):
    # a1 → {v1}, {v2}, the other 9            → v1, v2 cut off
    # a3 → {a1, a2, v1, v2} vs 7 on the b side → v1, v2
    # b1 → {a1, a2, a3, v1, v2} (5) vs 6       → v1, v2
    # b2 → {v3} vs 10                          → v3
    # b3 → {v4}, {v5, v6}, 9 others            → v4, v5, v6
    # v5 → {v6}                                → v6
    assert result.cut_off == {
        "b3": ["v4", "v5", "v6"],
        "a1": ["v1", "v2"],
        "a3": ["v1", "v2"],
        "b1": ["v1", "v2"],
        "b2": ["v3"],
        "v5": ["v6"],
    }
    assert list(result.cut_off) == ["b3", "a1", "a3", "b1", "b2", "v5"]  # most cut off first


def test_fragility_ties_keep_the_piece_with_the_smallest_id_and_components_are_local() -> None:
    G = nx.Graph()
    G.add_node("o", label="PartyOrganization")
    G.add_node("v0", label="Village")
    G.add_node("v1", label="Village")
    G.add_edges_from([("v0", "o"), ("o", "v1")])  # equal pieces {v0}, {v1}: v0's stays
    # a separate, larger component: its own articulation points only cut within it
    G.add_nodes_from(["w0", "w1", "w2", "w3"], label="Village")
    G.add_edges_from([("w0", "w1"), ("w1", "w2"), ("w2", "w3")])
    G.add_node("alone", label="Village")
    result = fragility(G)
    assert result.cut_off == {"o": ["v1"], "w1": ["w0"], "w2": ["w3"]}


def test_fragility_on_a_multigraph_parallel_links_are_no_bridge() -> None:
    G = nx.MultiGraph()
    G.add_nodes_from(["a", "b"], label="PartyOrganization")
    G.add_node("c", label="Village")
    G.add_edges_from([("a", "b"), ("a", "b"), ("b", "c")])
    result = fragility(G)
    assert result.bridges == [("b", "c")]
    assert result.articulation_points == ["b"]
    assert result.cut_off == {"b": ["c"]}
    with pytest.raises(nx.NetworkXNotImplemented):
        fragility(nx.DiGraph([(0, 1)]))


def brute_force_cut_off(G: nx.Graph) -> dict[Hashable, list[Hashable]]:
    """Remove each articulation point and look at the pieces of its component."""
    out: dict[Hashable, list[Hashable]] = {}
    rank = {n: i for i, n in enumerate(sorted(G))}
    for point in nx.articulation_points(G):
        pieces = list(
            nx.connected_components(G.subgraph(nx.node_connected_component(G, point) - {point}))
        )
        keep = max(pieces, key=lambda p: (len(p), -min(rank[n] for n in p)))
        lost = sorted(
            n for p in pieces if p is not keep for n in p if G.nodes[n]["label"] == "Village"
        )
        if lost:
            out[point] = lost
    return out


@pytest.mark.parametrize("seed", range(12))
def test_fragility_matches_brute_force(seed: int) -> None:
    G = nx.gnm_random_graph(80, 90, seed=seed)  # sparse: many blocks and cut points
    rng = random.Random(seed)
    for n in G:
        G.nodes[n]["label"] = "Village" if rng.random() < 0.6 else "PartyOrganization"
    result = fragility(G)
    assert result.cut_off == brute_force_cut_off(G)
    assert result.articulation_points == sorted(nx.articulation_points(G))
    assert result.bridges == sorted(tuple(sorted(e)) for e in nx.bridges(G))


# ---------------------------------------------------------------------------------------
# Communities
# ---------------------------------------------------------------------------------------


def two_cliques() -> nx.Graph:
    G = nx.Graph()
    G.add_edges_from(nx.complete_graph(range(4, 8)).edges, weight=1.0)  # second clique first
    G.add_edges_from(nx.complete_graph(range(4)).edges, weight=1.0)
    G.add_edge(3, 4, weight=1.0)
    return G


def test_louvain_finds_two_cliques_with_hand_computed_modularity() -> None:
    result = louvain(two_cliques())
    assert result.communities == [frozenset(range(4)), frozenset(range(4, 8))]  # tie: min id
    # m = 6 + 6 + 1 = 13; each clique: 6 internal edges, degree sum 4·3 + 1 = 13
    # Q = Σ_c [L_c/m − (d_c/2m)²] = 2 (6/13 − 1/4) = 11/26
    assert result.modularity == pytest.approx(11 / 26)
    assert result.method == "louvain"
    assert result.membership()[5] == 1
    assert louvain(two_cliques(), seed=0) == result  # deterministic for a seed


def test_louvain_sorts_by_size_and_handles_graphs_without_edges() -> None:
    G = nx.disjoint_union(nx.complete_graph(3), nx.complete_graph(5))
    result = louvain(G, weight=None)
    assert [len(c) for c in result.communities] == [5, 3]
    empty = louvain(nx.empty_graph(3))
    assert empty.communities == [frozenset({0}), frozenset({1}), frozenset({2})]
    assert math.isnan(empty.modularity)


def test_compare_with_bodies_on_a_constructed_case() -> None:
    result = CommunityResult([frozenset("abcd"), frozenset("efg")], 0.3, "louvain")
    bodies = {"B2": {"c", "d"}, "B1": {"a", "b", "e", "x"}}  # x is not in the graph
    comparison = compare_with_bodies(result, bodies)
    by_body = {s.body: s for s in comparison.bodies}
    # B1: a, b in community 0, e in community 1, x missing → split, majority 0 with 2/3
    assert by_body["B1"].spread == {0: 2, 1: 1}
    assert by_body["B1"].majority == 0
    assert by_body["B1"].majority_share == pytest.approx(2 / 3)
    assert (by_body["B1"].members, by_body["B1"].missing) == (3, 1)
    assert by_body["B2"].spread == {0: 2}
    assert [s.body for s in comparison.split_bodies] == ["B1"]
    # community 0 holds members of both bodies; community 1 only of B1
    assert len(comparison.crossing_communities) == 1
    crossing = comparison.crossing_communities[0]
    assert (crossing.community, crossing.size, crossing.bodies) == (0, 4, {"B1": 2, "B2": 2})
    # agreement: (2 + 2) of (3 + 2) placed memberships sit in their body's majority
    assert comparison.agreement == pytest.approx(0.8)
    assert comparison.intact == 1
    nothing = compare_with_bodies(result, {"B9": {"zz"}})
    assert math.isnan(nothing.agreement)
    assert nothing.bodies[0].majority is None


def test_joint_bodies_counts_a_village_through_its_party_organization() -> None:
    G = nx.MultiDiGraph()
    G.add_node("J", label="PartyOrganization", kind="联合党委")
    G.add_node("P", label="PartyOrganization", kind="党建联合体")  # no members
    G.add_node("T", label="PartyOrganization", kind="党委")  # ordinary: not a body
    for org in ("O1", "O3", "O4"):
        G.add_node(org, label="PartyOrganization", kind="党支部")
    for village in ("V1", "V2", "V3"):
        G.add_node(village, label="Village")
    for firm in ("E", "E2", "X"):
        G.add_node(firm, label="Enterprise")
    G.add_edge("O1", "V1", key="l1", type="ORGANIZATION_OF")
    G.add_edge("O1", "J", key="l2", type="MEMBER_OF")
    G.add_edge("O1", "J", key="l2b", type="MEMBER_OF")  # a second, parallel membership
    G.add_edge("E", "J", key="l3", type="MEMBER_OF")
    G.add_edge("V2", "J", key="l4", type="MEMBER_OF")
    G.add_edge("O3", "E2", key="l5", type="ORGANIZATION_OF")
    G.add_edge("O3", "J", key="l6", type="MEMBER_OF")
    G.add_edge("O4", "V3", key="l7", type="ORGANIZATION_OF")  # O4 is in no body
    G.add_edge("X", "T", key="l8", type="MEMBER_OF")
    G.add_edge("V1", "J", key="l9", type="CO_BUILDS")  # not membership
    bodies = joint_bodies(G)
    assert bodies == {"J": {"O1", "V1", "E", "V2", "O3"}, "P": set()}
    assert list(bodies) == ["J", "P"]
    wider = joint_bodies(G, via_organization=("Village", "Enterprise"))
    assert wider["J"] == {"O1", "V1", "E", "V2", "O3", "E2"}
    with pytest.raises(nx.NetworkXNotImplemented):
        joint_bodies(nx.Graph())


def test_generated_county_end_to_end() -> None:
    M = county_multigraph()
    bodies = joint_bodies(M)
    assert bodies
    assert all(M.nodes[b]["kind"] in JOINT_BODY_KINDS for b in bodies)
    # villages join through their party organizations (gen:org:<village code>)
    members = {str(m) for found in bodies.values() for m in found}
    assert any(m.startswith("village:") for m in members)
    for body, found in bodies.items():
        for member in map(str, found):
            if member.startswith("village:"):
                direct = M.has_edge(member, body)
                org = f"gen:org:{member.removeprefix('village:')}"
                assert direct or org in found
    links = [(u, v, k, d) for u, v, k, d in M.edges(keys=True, data=True)]
    joint = nx.MultiDiGraph()
    joint.add_nodes_from(M.nodes(data=True))
    joint.add_edges_from((u, v, k, d) for u, v, k, d in links if d["type"] != "IN_REGION")
    simple = collapse(joint)
    result = louvain(simple)
    assert 0.3 < result.modularity < 1
    comparison = compare_with_bodies(result, bodies)
    assert 0 < comparison.agreement <= 1
    assert len(comparison.bodies) == len(bodies)
    scores = brokerage(simple)
    assert len(scores) == len(simple)
    frail = fragility(simple)
    assert frail.articulation_points
    assert frail.cut_off == brute_force_cut_off(simple)
