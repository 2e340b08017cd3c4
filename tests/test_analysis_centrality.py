"""Centrality: hand-computed values on tiny graphs, networkx and igraph on generated ones."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Mapping
from functools import cache
from pathlib import Path

import igraph  # type: ignore[import-untyped]
import networkx as nx
import pytest

from graph_service.analysis.centrality import (
    MEASURES,
    CSRGraph,
    betweenness,
    centrality_set,
    closeness,
    eigenvector,
    harmonic,
    pagerank,
    ranked,
)
from graph_service.analysis.graphs import collapse
from graph_service.register import read_register, register_graph
from graph_service.schema import STRUCTURAL_LINK_TYPES
from graph_service.services.synthetic.network import generate_network

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "seed" / "register"
PINGYUAN = "371426"


def close(a: Mapping[Hashable, float], b: Mapping[Hashable, float], tol: float) -> bool:
    return a.keys() == b.keys() and all(abs(a[n] - b[n]) <= tol for n in a)


def weighted_random_graph() -> nx.Graph:
    G = nx.gnm_random_graph(200, 800, seed=1)
    rng = random.Random(7)
    for u, v in G.edges:
        G[u][v]["weight"] = rng.uniform(0.5, 5.0)
    return G


@cache
def county_graph() -> nx.Graph:
    """平原县 generated with seed 3, exported as the store does (no structural links)."""
    rows = read_register(REGISTER, [PINGYUAN])
    docs = [doc for kind, doc in register_graph(rows) if kind == "node"]
    regions = [d for d in docs if d["label"] == "Region"]
    villages = [d for d in docs if d["label"] == "Village"]
    M = nx.MultiDiGraph()
    for doc in docs:
        M.add_node(doc["id"], **doc)
    for kind, doc in generate_network(regions, villages, 3):
        if kind == "node":
            M.add_node(doc["id"], **doc)
        elif doc["type"] not in STRUCTURAL_LINK_TYPES:
            M.add_edge(doc["source"], doc["target"], key=doc["id"], **doc)
    return collapse(M)


def watts_strogatz() -> nx.Graph:
    return nx.connected_watts_strogatz_graph(300, 6, 0.1, seed=3)


def to_igraph(G: nx.Graph) -> tuple[igraph.Graph, dict[Hashable, int]]:
    index = {n: i for i, n in enumerate(G)}
    H = igraph.Graph(n=len(index), edges=[(index[u], index[v]) for u, v in G.edges()])
    H.es["weight"] = [d.get("weight", 1.0) for _, _, d in G.edges(data=True)]
    return H, index


# ---------------------------------------------------------------------------------------
# Hand-computed values
# ---------------------------------------------------------------------------------------


def test_path_of_three() -> None:
    G = nx.path_graph(3)  # 0 - 1 - 2
    report = centrality_set(G, weight=None)
    scores = {m: {row.node: row.score for row in r.rows} for m, r in report.measures.items()}
    # degree / (n - 1): 1/2, 2/2, 1/2
    assert scores["degree"] == {0: 0.5, 1: 1.0, 2: 0.5}
    assert scores["weighted_degree"] == {0: 1.0, 1: 2.0, 2: 1.0}
    # only the pair (0, 2) passes through 1: 2 * 1 / ((n - 1)(n - 2)) = 2 / 2 = 1
    assert scores["betweenness"] == {0: 0.0, 1: 1.0, 2: 0.0}
    # closeness of 0: (n - 1) / (1 + 2) = 2/3; of 1: 2 / (1 + 1) = 1
    assert scores["closeness"] == pytest.approx({0: 2 / 3, 1: 1.0, 2: 2 / 3})
    # harmonic of 0: 1/1 + 1/2 = 1.5; of 1: 1 + 1 = 2
    assert scores["harmonic"] == pytest.approx({0: 1.5, 1: 2.0, 2: 1.5})
    # A v = λ v with λ = √2: v = (1/2, 1/√2, 1/2), unit norm
    assert scores["eigenvector"] == pytest.approx({0: 0.5, 1: 1 / math.sqrt(2), 2: 0.5})


def test_star_of_five() -> None:
    G = nx.star_graph(4)  # centre 0, leaves 1..4
    csr = CSRGraph.from_graph(G)
    # 6 leaf pairs all pass through the centre: 2 * 6 / (4 * 3) = 1
    assert betweenness(G).values == {0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}
    # leaf distances 1, 2, 2, 2: closeness 4/7, harmonic 1 + 3/2 = 2.5
    assert closeness(G).values == pytest.approx({0: 1.0, 1: 4 / 7, 2: 4 / 7, 3: 4 / 7, 4: 4 / 7})
    assert harmonic(G).values == pytest.approx({0: 4.0, 1: 2.5, 2: 2.5, 3: 2.5, 4: 2.5})
    # PageRank, α = 0.85: centre c = 0.15/5 + 0.85 · 4 l, leaf l = 0.03 + 0.85 · c / 4
    # → c = 0.03 + 3.4 (0.03 + 0.2125 c) → 0.2775 c = 0.132 → c = 0.475676, l = (1 − c) / 4
    centre = 0.132 / 0.2775
    expected = {0: centre, **{leaf: (1 - centre) / 4 for leaf in range(1, 5)}}
    assert pagerank(csr) == pytest.approx(expected, abs=1e-9)
    # λ c = 4 l, λ l = c → λ = 2, c = 2 l, c² + 4 l² = 1 → l = 1/(2√2), c = 1/√2
    leaf = 1 / (2 * math.sqrt(2))
    assert eigenvector(csr) == pytest.approx({0: 2 * leaf, 1: leaf, 2: leaf, 3: leaf, 4: leaf})


def test_pagerank_two_cycle_and_dangling_node() -> None:
    cycle = nx.DiGraph([(0, 1), (1, 0)])
    assert pagerank(CSRGraph.from_graph(cycle)) == pytest.approx({0: 0.5, 1: 0.5})
    # 0 → 1 and 1 dangling: 1 jumps uniformly. x0 = 0.075 + 0.85 · x1 / 2 with x0 + x1 = 1
    # → 1.425 x0 = 0.5 → x0 = 0.350877, x1 = 0.649123
    dangling = nx.DiGraph([(0, 1)])
    x0 = 0.5 / 1.425
    assert pagerank(CSRGraph.from_graph(dangling)) == pytest.approx({0: x0, 1: 1 - x0}, abs=1e-9)
    assert pagerank(CSRGraph.from_graph(dangling)) == pytest.approx(nx.pagerank(dangling))


def small_weighted_graph() -> nx.Graph:
    G = nx.Graph()
    # weight is a strength, length a distance; the same numbers
    for u, v, w in [("a", "b", 2.0), ("b", "c", 1.0), ("a", "c", 1.0), ("c", "d", 3.0)]:
        G.add_edge(u, v, weight=w, length=w)
    return G


def test_small_weighted_graph() -> None:
    G = small_weighted_graph()
    report = centrality_set(G, top=4)
    scores = {m: {row.node: row.score for row in r.rows} for m, r in report.measures.items()}
    # strengths: a 2 + 1, b 2 + 1, c 1 + 1 + 3, d 3
    assert scores["weighted_degree"] == {"a": 3.0, "b": 3.0, "c": 5.0, "d": 3.0}
    assert scores["degree"] == {"a": 2 / 3, "b": 2 / 3, "c": 1.0, "d": 1 / 3}
    # in hops c is on a–d and b–d only: 2 · 2 / (3 · 2) = 2/3
    assert scores["betweenness"] == pytest.approx({"a": 0, "b": 0, "c": 2 / 3, "d": 0})
    assert scores["pagerank"] == pytest.approx(nx.pagerank(G, tol=1e-12), abs=1e-9)

    by_length = centrality_set(
        G, measures=("betweenness", "closeness", "harmonic"), distance="length"
    )
    scores = {m: {row.node: row.score for row in r.rows} for m, r in by_length.measures.items()}
    # a–b has two shortest paths of length 2 (direct, via c): c gets 1/2; a–d and b–d go via
    # c: c = 2.5 pairs → 2 · 2.5 / (3 · 2) = 5/6
    assert scores["betweenness"] == pytest.approx({"a": 0, "b": 0, "c": 5 / 6, "d": 0})
    # distances from a: b 2, c 1, d 4 (sum 7); c: 1, 1, 3 (5); d: 3, 4, 4 (11)
    assert scores["closeness"] == pytest.approx({"a": 3 / 7, "b": 3 / 7, "c": 3 / 5, "d": 3 / 11})
    # harmonic a: 1/2 + 1 + 1/4; c: 1 + 1 + 1/3; d: 1/3 + 1/4 + 1/4
    assert scores["harmonic"] == pytest.approx({"a": 1.75, "b": 1.75, "c": 7 / 3, "d": 5 / 6})
    assert scores["closeness"] == pytest.approx(nx.closeness_centrality(G, distance="length"))


def test_sampled_estimates_by_hand() -> None:
    G = nx.path_graph(5)  # 0 - 1 - 2 - 3 - 4
    assert random.Random(2).sample(list(G), 2) == [0, 4]  # the sources seed 2 draws
    # Sources S = {0, 4}. Scale (n − 1)/|S∖{v}|: 4/2 = 2 off S, 4/1 = 4 on S.
    # harmonic: node 0 ← 4 at 4: 4 · 1/4 = 1; node 1 ← 0 at 1, 4 at 3: 2 · (1 + 1/3) = 8/3;
    # node 2 ← both at 2: 2 · (1/2 + 1/2) = 2
    result = harmonic(G, exact_max=0, k=2, seed=2)
    assert result.method == {"method": "sampled", "k": 2, "seed": 2}
    assert result.values == pytest.approx({0: 1.0, 1: 8 / 3, 2: 2.0, 3: 8 / 3, 4: 1.0})
    # closeness: node 0: reach 1 · 4, distance 4 · 4 → (4/16)(4/4) = 1/4;
    # node 1: reach 2 · 2 = 4, distance (1 + 3) · 2 = 8 → 1/2; node 2: (2 + 2) · 2 = 8 → 1/2
    assert closeness(G, exact_max=0, k=2, seed=2).values == pytest.approx(
        {0: 0.25, 1: 0.5, 2: 0.5, 3: 0.5, 4: 0.25}
    )
    # betweenness: from 0 the dependencies of 1, 2, 3 are 3, 2, 1; from 4 they are 1, 2, 3;
    # each sums to 4, scaled by 1 / (k (n − 2)) = 1/6 → 2/3; sources get 0
    sampled = betweenness(G, exact_max=0, k=2, seed=2)
    assert sampled.values == pytest.approx({0: 0.0, 1: 2 / 3, 2: 2 / 3, 3: 2 / 3, 4: 0.0})


# ---------------------------------------------------------------------------------------
# networkx on random graphs
# ---------------------------------------------------------------------------------------


def test_pagerank_matches_networkx_on_weighted_random_graph() -> None:
    G = weighted_random_graph()
    csr = CSRGraph.from_graph(G)
    ours = pagerank(csr)
    assert close(ours, nx.pagerank(G, weight="weight", tol=1e-13, max_iter=1000), 1e-6)
    assert close(
        pagerank(csr, alpha=0.7), nx.pagerank(G, alpha=0.7, weight="weight", tol=1e-13), 1e-6
    )
    assert pagerank(csr) == ours  # the cached matrix is not consumed
    assert math.isclose(sum(ours.values()), 1.0)


def test_pagerank_matches_networkx_on_directed_graph_with_dangling_nodes() -> None:
    D = nx.gnm_random_graph(150, 400, seed=4, directed=True)
    D.add_nodes_from([1000, 1001])  # isolated, hence dangling
    sinks = [n for n in D if D.out_degree(n) == 0]
    assert len(sinks) >= 3
    personal = {n: 1.0 + (n % 3) for n in D}
    csr = CSRGraph.from_graph(D, weight=None)
    assert close(pagerank(csr), nx.pagerank(D, weight=None, tol=1e-13), 1e-6)
    assert close(
        pagerank(csr, personalization=personal),
        nx.pagerank(D, personalization=personal, tol=1e-13),
        1e-6,
    )


def test_eigenvector_matches_networkx_on_weighted_random_graph() -> None:
    G = weighted_random_graph()
    assert nx.is_connected(G)
    ours = eigenvector(CSRGraph.from_graph(G))
    assert close(ours, nx.eigenvector_centrality_numpy(G, weight="weight"), 1e-9)
    power = nx.eigenvector_centrality(G, weight="weight", tol=1e-12, max_iter=5000)
    assert close(ours, power, 1e-6)


def test_eigenvector_directed_uses_in_links() -> None:
    D = nx.gnm_random_graph(80, 300, seed=5, directed=True)
    nx.add_cycle(D, range(80))
    assert nx.is_strongly_connected(D)
    assert close(eigenvector(CSRGraph.from_graph(D)), nx.eigenvector_centrality_numpy(D), 1e-9)


def test_eigenvector_on_disconnected_graph_takes_largest_component() -> None:
    G = nx.complete_graph(4)  # K4: 1/2 each
    G.add_edges_from([(10, 11), (11, 12), (10, 12)])  # a triangle
    G.add_node(20)
    csr = CSRGraph.from_graph(G)
    assert eigenvector(csr) == pytest.approx(
        {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5, 10: 0, 11: 0, 12: 0, 20: 0}
    )
    with pytest.raises(nx.AmbiguousSolution):
        eigenvector(csr, disconnected="raise")
    report = centrality_set(G, measures=("eigenvector",))
    assert "largest component (4 of 8 nodes)" in report.measures["eigenvector"].method["note"]
    with pytest.raises(nx.NetworkXPointlessConcept):
        eigenvector(CSRGraph.from_graph(nx.Graph()))


def test_path_measures_match_networkx_exactly() -> None:
    G = weighted_random_graph()
    G.add_edges_from([(500, 501), (501, 502)])  # a second component
    G.add_node(600)  # and an isolated node
    assert close(betweenness(G).values, nx.betweenness_centrality(G), 1e-12)
    assert close(closeness(G).values, nx.closeness_centrality(G), 1e-12)
    assert close(
        closeness(G, wf_improved=False).values,
        nx.closeness_centrality(G, wf_improved=False),
        1e-12,
    )
    assert close(harmonic(G).values, nx.harmonic_centrality(G), 1e-9)
    # weights as distances go to Dijkstra
    assert close(
        betweenness(G, weight="weight").values, nx.betweenness_centrality(G, weight="weight"), 1e-12
    )
    assert close(
        closeness(G, "weight").values, nx.closeness_centrality(G, distance="weight"), 1e-12
    )
    assert close(harmonic(G, "weight").values, nx.harmonic_centrality(G, distance="weight"), 1e-9)


def test_path_measures_on_directed_graph_follow_networkx() -> None:
    D = nx.gnm_random_graph(120, 360, seed=8, directed=True)
    assert close(betweenness(D).values, nx.betweenness_centrality(D), 1e-12)
    assert close(closeness(D).values, nx.closeness_centrality(D), 1e-12)
    assert close(harmonic(D).values, nx.harmonic_centrality(D), 1e-9)


# ---------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------


def test_sampled_betweenness_reports_method_and_equals_networkx_sample() -> None:
    G = watts_strogatz()
    result = betweenness(G, exact_max=100, k=60, seed=11)
    assert result.method == {"method": "sampled", "k": 60, "seed": 11}
    assert close(result.values, nx.betweenness_centrality(G, k=60, seed=11), 1e-12)
    assert betweenness(G, exact_max=100, k=60, seed=11).values == result.values
    assert betweenness(G, exact_max=100, k=60, seed=12).values != result.values
    # default k: min(n, 500), i.e. every node here, hence exact
    assert betweenness(G, exact_max=100).method == {"method": "exact", "k": None, "seed": None}
    assert betweenness(G).method["method"] == "exact"
    with pytest.raises(ValueError, match="at least 2"):
        betweenness(G, exact_max=0, k=1)


def test_sampled_closeness_and_harmonic_track_exact_values() -> None:
    G = watts_strogatz()
    exact_h = harmonic(G).values
    exact_c = closeness(G).values
    sampled_h = harmonic(G, exact_max=0, k=100, seed=1)
    sampled_c = closeness(G, exact_max=0, k=100, seed=1)
    assert sampled_c.method == {"method": "sampled", "k": 100, "seed": 1}
    # a third of the nodes as sources: unbiased on average, every node within 20 %
    for sampled, exact in ((sampled_h.values, exact_h), (sampled_c.values, exact_c)):
        ratios = [sampled[n] / exact[n] for n in G]
        assert abs(sum(ratios) / len(ratios) - 1) < 0.02
        assert max(abs(r - 1) for r in ratios) < 0.2


def test_centrality_set_shares_one_sample_across_path_measures() -> None:
    G = watts_strogatz()
    report = centrality_set(G, exact_max=50, k=80, seed=5, top=300)
    for measure, single in (
        ("betweenness", betweenness(G, exact_max=50, k=80, seed=5)),
        ("closeness", closeness(G, exact_max=50, k=80, seed=5)),
        ("harmonic", harmonic(G, exact_max=50, k=80, seed=5)),
    ):
        part = report.measures[measure]
        assert part.method == {"method": "sampled", "k": 80, "seed": 5}
        assert {row.node: row.score for row in part.rows} == single.values
    assert report.measures["pagerank"].method["method"] == "csr"
    assert report.measures["degree"].method["method"] == "exact"


# ---------------------------------------------------------------------------------------
# igraph
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [watts_strogatz, county_graph], ids=["watts-strogatz", "county"])
def test_cross_check_with_igraph(build: Callable[[], nx.Graph]) -> None:
    G = build()
    H, index = to_igraph(G)
    n = len(G)
    weighted = G.number_of_edges() and "weight" in next(iter(G.edges(data=True)))[2]

    ours = pagerank(CSRGraph.from_graph(G, weight="weight" if weighted else None))
    theirs = H.pagerank(weights="weight" if weighted else None)
    assert max(abs(ours[v] - theirs[index[v]]) for v in G) < 1e-6

    # igraph counts unordered pairs, unnormalised: networkx's value is 2 B / ((n-1)(n-2))
    between = betweenness(G).values
    ib = H.betweenness(directed=False)
    assert max(abs(between[v] - 2 * ib[index[v]] / ((n - 1) * (n - 2))) for v in G) < 1e-9

    # igraph closeness uses the reachable nodes only (NaN when none): scale by (r-1)/(n-1)
    component = {v: len(c) for c in nx.connected_components(G) for v in c}
    ours_c = closeness(G).values
    ic = H.closeness()
    for v in G:
        expected = 0.0 if math.isnan(ic[index[v]]) else ic[index[v]] * (component[v] - 1) / (n - 1)
        assert ours_c[v] == pytest.approx(expected, abs=1e-12)

    # igraph's harmonic centrality is normalised by n - 1
    ours_h = harmonic(G).values
    ih = H.harmonic_centrality()
    assert max(abs(ours_h[v] - ih[index[v]] * (n - 1)) for v in G) < 1e-9

    if nx.is_connected(G):  # igraph scales the eigenvector to a maximum of 1
        ev = eigenvector(CSRGraph.from_graph(G, weight=None))
        top = max(ev.values())
        iev = H.eigenvector_centrality(scale=True)
        assert max(abs(ev[v] / top - iev[index[v]]) for v in G) < 1e-8


def test_county_graph_is_a_realistic_input() -> None:
    G = county_graph()
    labels = {d["label"] for _, d in G.nodes(data=True)}
    assert {"Village", "PartyOrganization", "Enterprise"} <= labels
    assert len(G) > 1000
    assert nx.number_connected_components(G) > 1  # isolated regions: disconnected inputs


# ---------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------


def test_report_rows_ranks_ties_by_id_and_respects_top() -> None:
    G = nx.Graph()
    G.add_node("hub", name="镇党委", label="PartyOrganization")
    for leaf in ("v3", "v1", "v4", "v2"):  # inserted out of order
        G.add_node(leaf, name=f"{leaf}村", label="Village")
        G.add_edge("hub", leaf, weight=1.0)
    report = centrality_set(G, top=3)
    assert (report.nodes, report.edges, report.top) == (5, 4, 3)
    assert list(report.measures) == list(MEASURES)
    degree = report.measures["degree"]
    assert [(r.rank, r.node) for r in degree.rows] == [(1, "hub"), (2, "v1"), (3, "v2")]
    assert degree.rows[0].name == "镇党委"
    assert degree.rows[1].label == "Village"
    for part in report.measures.values():
        assert len(part.rows) == 3
    one = centrality_set(G, measures=("pagerank", "degree"), top=1)
    assert list(one.measures) == ["pagerank", "degree"]
    assert [len(p.rows) for p in one.measures.values()] == [1, 1]
    assert centrality_set(G, measures=("degree",), top=0).measures["degree"].rows == ()


def test_ranked_orders_by_score_then_id_and_puts_nan_last() -> None:
    scores = {"b": 1.0, "a": 1.0, "c": 2.0, "d": math.nan, 3: 1.0}
    assert [n for n, _ in ranked(scores)] == ["c", 3, "a", "b", "d"]  # mixed ids: int first
    assert [n for n, _ in ranked(scores, 2, ascending=True)] == [3, "a"]


def test_centrality_set_validates_and_handles_empty_graphs() -> None:
    G = nx.path_graph(4)
    with pytest.raises(ValueError, match="unknown measures"):
        centrality_set(G, measures=("degree", "katz"))
    with pytest.raises(ValueError, match="not built from this graph"):
        centrality_set(G, csr=CSRGraph.from_graph(nx.path_graph(5)))
    empty = centrality_set(nx.Graph())
    assert (empty.nodes, empty.edges) == (0, 0)
    assert all(p.rows == () and p.method["method"] == "skipped" for p in empty.measures.values())
    cached = CSRGraph.from_graph(G)
    assert centrality_set(G, csr=cached) == centrality_set(G, csr=cached)


def test_csr_graph_from_graph() -> None:
    G = small_weighted_graph()
    csr = CSRGraph.from_graph(G)
    assert csr.nodes == ["a", "b", "c", "d"]
    dense = csr.matrix.toarray()
    assert (dense == dense.T).all()
    assert dense[csr.index["c"], csr.index["d"]] == 3.0
    assert CSRGraph.from_graph(G, weight=None).matrix.sum() == 2 * G.number_of_edges()
    assert list(csr.out_strength) == [3.0, 3.0, 5.0, 3.0]
    G.add_edge("a", "d", weight=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        CSRGraph.from_graph(G)
