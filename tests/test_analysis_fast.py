"""NetworKit engines: hand-computed cases, and networkx on the seed and a generated county."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from functools import cache
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.stats import kendalltau

from graph_service.analysis import fast
from graph_service.analysis.centrality import CSRGraph, betweenness, centrality_set
from graph_service.analysis.communities import louvain
from graph_service.analysis.graphs import collapse
from graph_service.schema import STRUCTURAL_LINK_TYPES
from graph_service.services.seed import build_seed_graph, read_scope
from tests.test_analysis_centrality import county_graph
from tests.test_analysis_structure import two_cliques

SEED = Path(__file__).resolve().parent.parent / "seed"


@cache
def seed_graph() -> nx.Graph:
    """The curated seed graph without structural links, collapsed, isolated nodes dropped."""
    scope = read_scope(SEED / "register" / "counties.txt")
    built = build_seed_graph(sorted((SEED / "curated").glob("*.json")), SEED / "register", scope)
    M = nx.MultiDiGraph()
    M.add_nodes_from(built.nodes.items())
    for key, link in built.links.items():
        if link["type"] not in STRUCTURAL_LINK_TYPES:
            M.add_edge(link["source"], link["target"], key=key, **link)
    simple = collapse(M)
    simple.remove_nodes_from([n for n, d in simple.degree() if d == 0])
    return simple


def top_tau(
    exact: Mapping[Hashable, float], other: Mapping[Hashable, float], top: int = 20
) -> float:
    """Kendall's τ of two scorings over the union of their top-``top`` nodes."""

    def best(scores: Mapping[Hashable, float]) -> list[Hashable]:
        return sorted(scores, key=lambda n: (-scores[n], str(n)))[:top]

    union = sorted(set(best(exact)) | set(best(other)), key=str)
    statistic = kendalltau([exact[n] for n in union], [other[n] for n in union]).statistic
    return float(statistic)


# ---------------------------------------------------------------------------------------
# Hand-computed values
# ---------------------------------------------------------------------------------------


def test_path_and_star_betweenness_by_hand() -> None:
    # path 0 - 1 - 2: only the pair (0, 2) passes 1: 2 · 1 / ((n − 1)(n − 2)) = 1
    path = betweenness(nx.path_graph(3), engine="networkit")
    assert path.values == {0: 0.0, 1: 1.0, 2: 0.0}
    assert path.method == {"method": "exact", "k": None, "seed": None, "engine": "networkit"}
    # star, centre 0: all 6 leaf pairs pass the centre: 2 · 6 / (4 · 3) = 1
    star = betweenness(nx.star_graph(4), engine="networkit")
    assert star.values == {0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}
    # directed path 0 → 1 → 2: one ordered pair through 1, / ((n − 1)(n − 2)) = 1/2
    directed = betweenness(nx.DiGraph([(0, 1), (1, 2)]), engine="networkit")
    assert directed.values == {0: 0.0, 1: 0.5, 2: 0.0}
    assert betweenness(nx.path_graph(2), engine="networkit").values == {0: 0.0, 1: 0.0}


def test_exact_betweenness_equals_networkx() -> None:
    undirected = nx.connected_watts_strogatz_graph(300, 6, 0.1, seed=3)
    undirected.add_edges_from([(500, 501), (501, 502)])  # a second component
    directed = nx.gnm_random_graph(120, 360, seed=8, directed=True)
    for G in (undirected, directed):
        ours = betweenness(G, engine="networkit").values
        reference = nx.betweenness_centrality(G)
        assert max(abs(ours[n] - reference[n]) for n in G) < 1e-12


def test_louvain_two_cliques_by_hand() -> None:
    result = louvain(two_cliques(), engine="networkit")
    assert result.communities == [frozenset(range(4)), frozenset(range(4, 8))]
    # m = 13; each clique holds 6 edges and a degree sum of 13: Q = 2 (6/13 − 1/4) = 11/26
    assert result.modularity == pytest.approx(11 / 26)
    assert (result.method, result.engine) == ("louvain", "networkit")
    assert louvain(two_cliques(), engine="networkit") == result
    assert louvain(two_cliques()).engine == "networkx"  # small: the reference runs
    # resolution 0.5: Q = 2 (6/13 − 0.5 · 1/4) = 12/13 − 1/4
    half = louvain(two_cliques(), resolution=0.5, engine="networkit")
    assert half.modularity == pytest.approx(12 / 13 - 0.25)
    with pytest.raises(ValueError, match="undirected"):
        louvain(nx.DiGraph([(0, 1)]), engine="networkit")
    empty = louvain(nx.empty_graph(3), engine="networkit")
    assert math.isnan(empty.modularity)


def test_modularity_counts_self_loops_as_networkx_does() -> None:
    G = nx.Graph()
    G.add_edge(0, 1, weight=2.0)
    G.add_edge(1, 2, weight=1.0)
    G.add_edge(2, 2, weight=3.0)  # a self-loop
    G.add_edge(3, 4, weight=1.0)
    csr = CSRGraph.from_graph(G)
    labels = np.array([0, 0, 1, 2, 2])
    parts = [{0, 1}, {2}, {3, 4}]
    for gamma in (1.0, 0.6):
        expected = nx.community.modularity(G, parts, resolution=gamma)
        assert fast.modularity(csr, labels, gamma) == pytest.approx(expected, abs=1e-12)


def test_conversion_is_cached_per_matrix() -> None:
    csr = CSRGraph.from_graph(nx.path_graph(4))
    weighted = fast.networkit_graph(csr, weighted=True)
    assert fast.networkit_graph(csr, weighted=True) is weighted
    plain = fast.networkit_graph(csr, weighted=False)
    assert plain is not weighted
    assert (plain.numberOfNodes(), plain.numberOfEdges()) == (4, 3)
    assert weighted.isWeighted()
    assert not plain.isWeighted()


def test_sampled_record_states_its_bound_and_is_reproducible() -> None:
    G = nx.connected_watts_strogatz_graph(300, 6, 0.1, seed=3)
    result = betweenness(G, exact_max=0, k=200, seed=4, engine="networkit")
    bound = fast.sampled_error_bound(300, 200)
    # R √(ln(2n/δ) / (2(k + 1))) with R = 2n/(n − 1)
    assert bound == pytest.approx(600 / 299 * math.sqrt(math.log(6000) / 402))
    assert result.method["method"] == "sampled"
    assert (result.method["k"], result.method["seed"]) == (200, 4)
    assert result.method["engine"] == "networkit"
    assert result.method["epsilon"] == pytest.approx(bound)
    assert result.method["delta"] == fast.DEFAULT_DELTA
    assert betweenness(G, exact_max=0, k=200, seed=4, engine="networkit").values == result.values
    reference = nx.betweenness_centrality(G)
    errors = [abs(result.values[n] - reference[n]) for n in G]
    assert max(errors) < bound
    # unbiased: the total is close to the exact total
    assert sum(result.values.values()) == pytest.approx(sum(reference.values()), rel=0.05)
    with pytest.raises(ValueError, match="hops"):
        betweenness(G, weight="weight", engine="networkit")


def test_approximate_betweenness_keeps_its_guarantee() -> None:
    G = nx.connected_watts_strogatz_graph(200, 6, 0.1, seed=3)
    csr = CSRGraph.from_graph(G)
    found = fast.approximate_betweenness(csr, epsilon=0.02, delta=0.1, seed=2)
    reference = nx.betweenness_centrality(G)
    assert found.samples > 0
    assert max(abs(found.values[i] - reference[n]) for i, n in enumerate(csr.nodes)) <= 0.02
    with pytest.raises(ValueError, match="epsilon"):
        fast.approximate_betweenness(csr, epsilon=0.0)


def test_centrality_set_reports_the_engine() -> None:
    G = nx.connected_watts_strogatz_graph(300, 6, 0.1, seed=3)
    report = centrality_set(G, top=300, engine="networkit", weight=None)
    between = report.measures["betweenness"]
    assert between.method["engine"] == "networkit"
    assert "engine" not in report.measures["closeness"].method
    reference = nx.betweenness_centrality(G)
    assert max(abs(row.score - reference[row.node]) for row in between.rows) < 1e-12
    # the sweep still gives closeness when betweenness goes elsewhere
    closeness = nx.closeness_centrality(G)
    rows = report.measures["closeness"].rows
    assert max(abs(row.score - closeness[row.node]) for row in rows) < 1e-12


# ---------------------------------------------------------------------------------------
# The seed graph and a generated county
# ---------------------------------------------------------------------------------------


def test_seed_graph_cross_check_with_networkx() -> None:
    G = seed_graph()
    assert len(G) > 50
    exact = betweenness(G, engine="networkit").values
    reference = nx.betweenness_centrality(G)
    assert max(abs(exact[n] - reference[n]) for n in G) < 1e-12
    assert top_tau(reference, exact) >= 0.9
    ours = louvain(G, seed=1, engine="networkit")
    theirs = louvain(G, seed=1, engine="networkx")
    assert abs(ours.modularity - theirs.modularity) <= 0.01 * theirs.modularity
    # half the nodes as sources (NetworKit draws them with replacement)
    sampled = betweenness(G, exact_max=0, k=len(G) // 2, seed=1, engine="networkit")
    assert sampled.method["method"] == "sampled"
    assert top_tau(reference, sampled.values) >= 0.9


def test_generated_county_cross_check() -> None:
    G = county_graph()
    csr = CSRGraph.from_graph(G)
    assert len(G) >= fast.NETWORKIT_MIN_NODES  # auto picks NetworKit here
    ours = louvain(G, seed=1, csr=csr)
    theirs = louvain(G, seed=1, engine="networkx")
    assert ours.engine == "networkit"
    assert abs(ours.modularity - theirs.modularity) <= 0.01 * theirs.modularity
    # the reference: the batched sweep, equal to networkx (tests/test_analysis_centrality.py)
    reference = betweenness(G, csr=csr, engine="networkx")
    exact = betweenness(G, csr=csr)
    assert exact.method["engine"] == "networkit"
    assert max(abs(exact.values[n] - reference.values[n]) for n in G) < 1e-12
    assert top_tau(reference.values, exact.values) >= 0.9


@pytest.mark.xfail(
    strict=True,
    reason=(
        "known miss: the county's top-20 betweenness values from rank 10 on lie within "
        "0.005-0.013 of each other; source sampling ranks them with tau 0.58-0.83 even at "
        "k = n/2..n - 1 (measured, seeds 0-2; the sweep's own sample: 0.61-0.71 at n/2)"
    ),
)
def test_generated_county_sampled_rank_agreement() -> None:
    G = county_graph()
    csr = CSRGraph.from_graph(G)
    reference = betweenness(G, csr=csr, engine="networkx")
    sampled = betweenness(G, exact_max=0, k=len(G) // 2, seed=1, csr=csr)
    assert sampled.method["engine"] == "networkit"
    assert top_tau(reference.values, sampled.values) >= 0.9
