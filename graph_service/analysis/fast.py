"""NetworKit for the heavy graph measures: Louvain (PLM) and betweenness centrality.

networkx stays the reference implementation and runs the small graphs; above a size
(:data:`NETWORKIT_MIN_NODES`) :func:`graph_service.analysis.communities.louvain` and
:func:`graph_service.analysis.centrality.betweenness` call the functions here. They take the
sparse matrix the service already caches per scope (:class:`SparseGraph`, which
:class:`graph_service.analysis.centrality.CSRGraph` satisfies) and convert it to a
``networkit.Graph`` once: the conversion is cached per matrix object (weakly, so it goes
when the matrix goes).

Values come back as NumPy arrays in the matrix's node order, scaled as networkx scales
them, so callers can swap engines without touching the rest:

* :func:`plm_communities`: community labels and networkx's modularity of the partition.
* :func:`exact_betweenness`: Brandes' algorithm [2]_, normalised as
  ``networkx.betweenness_centrality(normalized=True)``.
* :func:`sampled_betweenness`: ``k`` random sources with the linear-scaling estimator of
  Geisberger, Sanders and Schultes [3]_ and a stated (Hoeffding) error bound
  (:func:`sampled_error_bound`).
* :func:`approximate_betweenness`: the path-sampling algorithm of Riondato and Kornaropoulos
  [4]_, whose additive error is at most ``epsilon`` for every node with probability at least
  ``1 − delta``.

Reproducibility: NetworKit keeps one random generator per thread, seeded from a global seed,
and its parallel Louvain moves nodes in an order that depends on thread timing. Every call
here holds one module lock, sets the seed (``networkit.engineering.setSeed(seed, False)``)
and runs PLM on a single thread (it takes milliseconds on a county, well under a second on
a province), so a graph and a seed give one partition. Exact and sampled betweenness run on
all threads: the sampled sources are drawn before the parallel loop, so the same sources are
used for a seed; per-thread partial sums make the values reproducible to rounding (~1e-15).

References
----------
.. [1] V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of
   communities in large networks", Journal of Statistical Mechanics P10008, 2008;
   C. L. Staudt, H. Meyerhenke, "Engineering parallel algorithms for community detection
   in massive networks", IEEE Transactions on Parallel and Distributed Systems 27(1):
   171–184, 2016 (PLM).
.. [2] U. Brandes, "A faster algorithm for betweenness centrality", Journal of Mathematical
   Sociology 25(2):163–177, 2001.
.. [3] R. Geisberger, P. Sanders, D. Schultes, "Better approximation of betweenness
   centrality", Proceedings of ALENEX 2008, 90–100.
.. [4] M. Riondato, E. M. Kornaropoulos, "Fast approximation of betweenness centrality
   through sampling", Data Mining and Knowledge Discovery 30(2):438–475, 2016.
.. [5] W. Hoeffding, "Probability inequalities for sums of bounded random variables",
   Journal of the American Statistical Association 58(301):13–30, 1963.
.. [6] C. L. Staudt, A. Sazonovs, H. Meyerhenke, "NetworKit: a tool suite for large-scale
   complex network analysis", Network Science 4(4):508–530, 2016.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

import networkit as nk
import numpy as np
import numpy.typing as npt
import scipy as sp

__all__ = [
    "DEFAULT_DELTA",
    "NETWORKIT_MIN_NODES",
    "ApproximateBetweenness",
    "Engine",
    "SparseGraph",
    "approximate_betweenness",
    "exact_betweenness",
    "modularity",
    "networkit_graph",
    "plm_communities",
    "sampled_betweenness",
    "sampled_error_bound",
]

#: Graphs from this many nodes up run on NetworKit when the engine is ``"auto"``. Below it
#: networkx (and the batched sweep) take milliseconds and stay the reference.
NETWORKIT_MIN_NODES: Final[int] = 1000

#: Failure probability of the stated error bounds.
DEFAULT_DELTA: Final[float] = 0.1

#: Which implementation runs: ``"auto"`` picks NetworKit from :data:`NETWORKIT_MIN_NODES`.
Engine = Literal["auto", "networkx", "networkit"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# NetworKit's seed and thread count are process-wide: one call at a time sets and uses them.
_LOCK = threading.RLock()
_CACHE: weakref.WeakKeyDictionary[Any, dict[bool, Any]] = weakref.WeakKeyDictionary()


class SparseGraph(Protocol):
    """What the functions here read of a cached matrix (``CSRGraph`` has all of it)."""

    @property
    def nodes(self) -> list[Hashable]: ...

    @property
    def matrix(self) -> Any: ...

    @property
    def pattern(self) -> Any: ...

    @property
    def directed(self) -> bool: ...


def networkit_graph(csr: SparseGraph, weighted: bool) -> Any:
    """The ``networkit.Graph`` of a cached matrix, built once per matrix and weighting.

    Parameters
    ----------
    csr : SparseGraph
        The matrix (``CSRGraph``); node ``i`` of the result is ``csr.nodes[i]``.
    weighted : bool
        Carry the matrix's weights (for Louvain) or only its pattern (for hop distances:
        NetworKit runs Dijkstra instead of breadth-first search on a weighted graph).

    Returns
    -------
    networkit.Graph
        Undirected graphs get each edge once (the upper triangle, diagonal included).

    Notes
    -----
    O(n + m), vectorised (``networkit.GraphFromCoo``). The result is cached against the
    matrix object in a weak dictionary; the graph must not be modified.
    """
    with _LOCK:
        built = _CACHE.setdefault(csr, {})
        graph = built.get(weighted)
        if graph is None:
            graph = _build(csr, weighted)
            built[weighted] = graph
        return graph


def _build(csr: SparseGraph, weighted: bool) -> Any:
    source = csr.matrix if weighted else csr.pattern
    n = len(csr.nodes)
    coo = sp.sparse.coo_array(source if csr.directed else sp.sparse.triu(source))
    rows = coo.row.astype(np.uint64)
    cols = coo.col.astype(np.uint64)
    if weighted:
        data = np.asarray(coo.data, dtype=np.float64)
        return nk.GraphFromCoo((data, (rows, cols)), n=n, weighted=True, directed=csr.directed)
    return nk.GraphFromCoo((rows, cols), n=n, weighted=False, directed=csr.directed)


@contextmanager
def _seeded(seed: int, threads: int | None) -> Iterator[None]:
    """Hold the lock, seed NetworKit and, if asked, pin its thread count for the call."""
    with _LOCK:
        previous = nk.getMaxNumberOfThreads()
        if threads is not None:
            nk.setNumberOfThreads(threads)
        nk.engineering.setSeed(seed, False)
        try:
            yield
        finally:
            nk.setNumberOfThreads(previous)


# ---------------------------------------------------------------------------------------
# Communities
# ---------------------------------------------------------------------------------------


def modularity(csr: SparseGraph, labels: IntArray, resolution: float = 1.0) -> float:
    """Modularity of a partition of an undirected weighted graph, as networkx computes it.

    Parameters
    ----------
    csr : SparseGraph
        Undirected; ``matrix`` holds the weights (self-loops on the diagonal, once).
    labels : numpy.ndarray
        Community label of each node, in matrix order.
    resolution : float, optional
        γ of the generalised modularity.

    Returns
    -------
    float
        ``Q = Σ_c [L_c / m − γ (d_c / 2m)²]`` [1]_ with ``L_c`` the weight inside community
        ``c``, ``d_c`` its total degree and ``m`` the total weight; a self-loop counts twice
        in a degree, as in ``networkx.community.modularity``. NaN without edges.

    Raises
    ------
    ValueError
        For a directed graph.

    Notes
    -----
    O(n + m), vectorised.

    References
    ----------
    .. [1] M. E. J. Newman, M. Girvan, "Finding and evaluating community structure in
       networks", Physical Review E 69(2):026113, 2004.
    """
    if csr.directed:
        raise ValueError("modularity here is for undirected graphs")
    matrix = sp.sparse.csr_array(csr.matrix)
    # A self-loop is on the diagonal once but adds its weight twice to its node's degree.
    doubled = sp.sparse.coo_array(matrix + sp.sparse.diags_array(matrix.diagonal()))
    two_m = float(doubled.data.sum())
    if two_m == 0:
        return math.nan
    labels = np.asarray(labels, dtype=np.int64)
    inside = labels[doubled.row] == labels[doubled.col]
    internal = np.bincount(labels[doubled.row[inside]], weights=doubled.data[inside])
    degree = np.bincount(labels[doubled.row], weights=doubled.data)
    size = max(len(internal), len(degree))
    internal = np.pad(internal, (0, size - len(internal)))
    degree = np.pad(degree, (0, size - len(degree)))
    return float((internal / two_m - resolution * (degree / two_m) ** 2).sum())


def plm_communities(
    csr: SparseGraph, resolution: float = 1.0, seed: int = 0, refine: bool = False
) -> tuple[IntArray, float]:
    """Louvain communities by NetworKit's PLM, with networkx's modularity of the result.

    Parameters
    ----------
    csr : SparseGraph
        Undirected; the matrix weights are the edge weights.
    resolution : float, optional
        Modularity's resolution γ (PLM's ``gamma``).
    seed : int, optional
        NetworKit's random seed; PLM runs on one thread, so a seed and a graph give one
        partition.
    refine : bool, optional
        PLM's second move phase after each coarsening (slower, sometimes better).

    Returns
    -------
    labels : numpy.ndarray
        Community label of each node in matrix order (arbitrary label values).
    modularity : float
        :func:`modularity` of the partition at ``resolution`` (NaN without edges).

    Raises
    ------
    ValueError
        For a directed graph (PLM optimises undirected modularity).

    Notes
    -----
    PLM [1]_ is Blondel et al.'s Louvain method [2]_ in C++: local moves until no node
    improves modularity, then the communities are contracted and the process repeats. The
    result is the last, coarsest level, as ``networkx.community.louvain_communities``
    returns; both are heuristics, and their partitions differ while their modularity is
    close (the tests hold them within 1 % on the generated counties). O(m) per pass.

    References
    ----------
    .. [1] C. L. Staudt, H. Meyerhenke, "Engineering parallel algorithms for community
       detection in massive networks", IEEE Transactions on Parallel and Distributed
       Systems 27(1):171–184, 2016.
    .. [2] V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of
       communities in large networks", Journal of Statistical Mechanics P10008, 2008.
    """
    if csr.directed:
        raise ValueError("PLM needs an undirected graph")
    graph = networkit_graph(csr, weighted=True)
    with _seeded(seed, threads=1):
        algorithm = nk.community.PLM(graph, refine=refine, gamma=resolution)
        algorithm.run()
        labels = np.asarray(algorithm.getPartition().getVector(), dtype=np.int64)
    return labels, modularity(csr, labels, resolution)


# ---------------------------------------------------------------------------------------
# Betweenness
# ---------------------------------------------------------------------------------------


def _pairs(n: int) -> float:
    """networkx's normaliser of betweenness, ``(n − 1)(n − 2)`` (ordered pairs)."""
    return float((n - 1) * (n - 2))


def exact_betweenness(csr: SparseGraph) -> FloatArray:
    """Exact betweenness in hops, normalised as ``networkx.betweenness_centrality``.

    Parameters
    ----------
    csr : SparseGraph
        Directed or undirected; only the pattern is read (hops, not weights).

    Returns
    -------
    numpy.ndarray
        Per node in matrix order, ``Σ_{s≠v≠t} σ_st(v)/σ_st / ((n − 1)(n − 2))`` over ordered
        pairs, which is networkx's normalised value for directed and undirected graphs
        alike. Graphs of fewer than three nodes score 0.

    Notes
    -----
    ``networkit.centrality.Betweenness`` (Brandes [1]_, parallel over sources): O(nm). Its
    unnormalised scores sum over ordered pairs in both cases, hence the one normaliser.

    References
    ----------
    .. [1] U. Brandes, "A faster algorithm for betweenness centrality", Journal of
       Mathematical Sociology 25(2):163–177, 2001.
    """
    n = len(csr.nodes)
    if n < 3:
        return np.zeros(n)
    graph = networkit_graph(csr, weighted=False)
    with _LOCK:
        algorithm = nk.centrality.Betweenness(graph, normalized=False)
        algorithm.run()
        scores = np.asarray(algorithm.scores(), dtype=np.float64)
    return scores / _pairs(n)


def sampled_error_bound(n: int, k: int, delta: float = DEFAULT_DELTA) -> float:
    """Additive error of :func:`sampled_betweenness` for all nodes at once, w.p. ≥ 1 − δ.

    Parameters
    ----------
    n : int
        Nodes of the graph.
    k : int
        Sampled sources.
    delta : float, optional
        Allowed failure probability.

    Returns
    -------
    float
        ``ε = R √(ln(2n/δ) / (2(k + 1)))`` with ``R = 2n/(n − 1)``: with probability at
        least ``1 − δ`` every node's estimate lies within ``ε`` of its normalised
        betweenness.

    Notes
    -----
    Each sampled source contributes ``2n δ'_s(v) / ((n − 1)(n − 2))`` to a node's
    estimate, and the linear-scaled dependency ``δ'_s(v)`` is at most ``n − 2``, so one
    source's term lies in ``[0, R]``; the estimate is the mean of ``k + 1`` independent such
    terms with the node's betweenness as expectation. Hoeffding's inequality [1]_ bounds one
    node's deviation by ``2 exp(−2(k + 1)ε²/R²)`` and the union bound over ``n`` nodes gives
    ``ε``. It is a worst-case bound, loose for the small values most nodes have (the tests
    measure the actual error and rank agreement).

    References
    ----------
    .. [1] W. Hoeffding, "Probability inequalities for sums of bounded random variables",
       Journal of the American Statistical Association 58(301):13–30, 1963.
    """
    if n < 3:
        return 0.0
    spread = 2.0 * n / (n - 1)
    return spread * math.sqrt(math.log(2.0 * n / delta) / (2.0 * (k + 1)))


def sampled_betweenness(csr: SparseGraph, k: int, seed: int = 0) -> FloatArray:
    """Betweenness estimated from ``k`` random sources, normalised as networkx's.

    Parameters
    ----------
    csr : SparseGraph
        Directed or undirected; only the pattern is read (hops).
    k : int
        Sources to sample (uniformly, with replacement).
    seed : int, optional
        NetworKit's random seed: it fixes the sources.

    Returns
    -------
    numpy.ndarray
        Per node in matrix order, an unbiased estimate of networkx's normalised
        betweenness; :func:`sampled_error_bound` states its error.

    Raises
    ------
    ValueError
        If ``k < 1``.

    Notes
    -----
    ``networkit.centrality.EstimateBetweenness`` [1]_: a breadth-first search and Brandes'
    accumulation per source, O(km), with each pair's dependency weighted by the distance
    share of the node on its path (linear scaling), which keeps nodes next to a sampled
    source from being overrated. NetworKit draws ``k + 1`` sources and scales the sum by
    ``2n/k``; the result is rescaled by ``k/(k + 1)`` here so that its expectation is the
    exact value.

    References
    ----------
    .. [1] R. Geisberger, P. Sanders, D. Schultes, "Better approximation of betweenness
       centrality", Proceedings of ALENEX 2008, 90–100.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    n = len(csr.nodes)
    if n < 3:
        return np.zeros(n)
    graph = networkit_graph(csr, weighted=False)
    with _seeded(seed, threads=None):
        algorithm = nk.centrality.EstimateBetweenness(graph, k, False, True)
        algorithm.run()
        scores = np.asarray(algorithm.scores(), dtype=np.float64)
    return scores * (k / (k + 1)) / _pairs(n)


@dataclass(frozen=True, slots=True)
class ApproximateBetweenness:
    """Betweenness within ``epsilon`` of the exact value for every node, w.p. ≥ 1 − δ.

    ``epsilon`` is on networkx's normalised scale; ``samples`` counts the shortest paths
    the algorithm drew.
    """

    values: FloatArray
    epsilon: float
    delta: float
    samples: int


def approximate_betweenness(
    csr: SparseGraph, epsilon: float = 0.02, delta: float = DEFAULT_DELTA, seed: int = 0
) -> ApproximateBetweenness:
    """Betweenness with a guaranteed additive error, by sampling shortest paths.

    Parameters
    ----------
    csr : SparseGraph
        Undirected or directed; only the pattern is read (hops).
    epsilon : float, optional
        Largest additive error on networkx's normalised scale.
    delta : float, optional
        Probability that some node misses the bound.
    seed : int, optional
        NetworKit's random seed.

    Returns
    -------
    ApproximateBetweenness

    Raises
    ------
    ValueError
        Unless ``0 < epsilon`` and ``0 < delta < 1``.

    Notes
    -----
    ``networkit.centrality.ApproxBetweenness`` (Riondato and Kornaropoulos [1]_) draws
    ``r = (c/ε'²)(⌊log₂(VD − 2)⌋ + 1 + ln(1/δ))`` node pairs (``VD`` an upper bound of the
    vertex diameter, ``c = 1``), one random shortest path per pair, and counts the inner
    nodes; every node's share of all ordered pairs ``b(v)/(n(n − 1))`` is then within ``ε'``
    with probability ``1 − δ``. networkx divides by ``(n − 1)(n − 2)`` instead, so the
    algorithm runs with ``ε' = ε (n − 2)/n`` and its values are scaled by ``n/(n − 2)``.
    Each sample costs one breadth-first search, O(m): far more samples than
    :func:`sampled_betweenness` needs sources, bought for the guarantee.

    References
    ----------
    .. [1] M. Riondato, E. M. Kornaropoulos, "Fast approximation of betweenness centrality
       through sampling", Data Mining and Knowledge Discovery 30(2):438–475, 2016.
    """
    if not (epsilon > 0 and 0 < delta < 1):
        raise ValueError("epsilon must be positive and delta in (0, 1)")
    n = len(csr.nodes)
    if n < 3:
        return ApproximateBetweenness(np.zeros(n), epsilon, delta, 0)
    scale = n / (n - 2)
    graph = networkit_graph(csr, weighted=False)
    with _seeded(seed, threads=None):
        algorithm = nk.centrality.ApproxBetweenness(graph, epsilon / scale, delta)
        algorithm.run()
        scores = np.asarray(algorithm.scores(), dtype=np.float64)
        samples = int(algorithm.numberOfSamples())
    return ApproximateBetweenness(scores * scale, epsilon, delta, samples)
