"""Region-wide assignment: helpers to weak villages, best total score under capacities.

For a 百企帮百村 round or a county's 以强带弱 plan, the planner has helpers (enterprises,
institutions, strong villages), weak villages, and a score for each candidate pair (from the
recommender). :func:`assign` picks the pairs that

1. give as many villages as possible their minimum number of helpers, then
2. maximise the total score,

with every helper taking at most its capacity of villages and every village at most its
maximum of helpers. It is a minimum-cost flow problem [1]_ on this network::

                  cap k_h, 0          cap 1, −score(h, v)
      S ──────────────────────► h ─────────────────────────► v ───┬── cap min_v, −B ──► T
      (one arc per helper)         (one arc per scored pair)       └── cap max_v − min_v, 0 ─► T

where ``B`` exceeds any total score, so a village's first ``min_v`` helpers outweigh any
difference in scores. Flows are integral (the constraint matrix of a network is totally
unimodular), so the minimum-cost flow *is* the plan. Scores are compared at a resolution of
``1e-6``; among plans of equal score the one using pairs earlier in (helper id, village id)
order wins (a third, lexicographically smaller term of the integer costs), so the result
does not depend on the order of the input.

:func:`plan_region` scores the candidate pairs of a region with the recommender and
assigns them; :func:`what_if` applies proposed pairings to a copy of the graph and reports
the change in coverage, connectivity and PageRank, writing nothing.

With ``min_helpers > 1`` the flow maximises the number of *places* filled below the
minimum, a tractable stand-in for the number of villages reaching it (which is a harder,
all-or-nothing objective); a village left partly filled is reported in ``unassigned``.

References
----------
.. [1] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms, and
   Applications*, Prentice Hall, 1993 (ch. 9: successive shortest paths with node
   potentials; ch. 11: network simplex).
.. [2] R. Jonker and A. Volgenant, "A shortest augmenting path algorithm for dense and sparse
   linear assignment problems", Computing 38(4), 325–340, 1987 (augmenting one row at a
   time, with early termination and lazy potential updates).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

from graph_service.analysis.centrality import CSRGraph, pagerank
from graph_service.analysis.coverage import village_coverage
from graph_service.analysis.graphs import filter_links
from graph_service.analysis.recommend import (
    CATEGORIES,
    RecommenderIndex,
    RecommendWeights,
    actor_map,
    score_candidates,
)
from graph_service.analysis.strength import TIE_LINK_TYPES
from graph_service.analysis.wording import Wording, listing, percent
from graph_service.domain import PLAN_STEP_EXAMPLES

__all__ = [
    "PLAN_STEPS",
    "SCORE_RESOLUTION",
    "AssignmentPlan",
    "CentralityShift",
    "CoverageSnapshot",
    "Helper",
    "PlanStep",
    "Village",
    "WhatIfReport",
    "assign",
    "plan_region",
    "what_if",
]

#: Scores are compared as integers of this many units per 1.0.
SCORE_RESOLUTION: Final[int] = 1_000_000
#: The steps of a plan's funnel (:func:`plan_region`), in order, as planners read them.
PLAN_STEPS: Final[dict[str, str]] = {
    "villages_listed": "指定的村",
    "weak": "薄弱村",
    "not_paired": "尚无结对帮扶方",
    "helpers_listed": "指定的帮扶方",
    "can_help": "可作帮扶方 (企业、机构、非薄弱村)",
    "has_places": "有空余帮扶名额",
    "has_candidates": "有可结对的帮扶方 (现有结对伙伴除外)",
    "within_limits": "在项目与距离限制内仍有帮扶方",
    "not_rejected": "除去已否决的结对后仍有帮扶方",
    "assigned": "分配到所需帮扶方",
}
_VILLAGE: Final[int] = CATEGORIES.index("Village")


@dataclass(frozen=True, slots=True)
class Helper:
    """A helper and how many villages it takes at most."""

    id: str
    capacity: int = 1


@dataclass(frozen=True, slots=True)
class Village:
    """A village and how many helpers it needs at least and takes at most."""

    id: str
    min_helpers: int = 1
    max_helpers: int = 1


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One filter between a region and its plan: the villages (or helpers) it was given,
    those it let through, and the first few it removed (in id order)."""

    #: A key of :data:`PLAN_STEPS`.
    step: str
    #: The step as planners read it (:data:`PLAN_STEPS`).
    label: str
    subject: Literal["villages", "helpers"]
    count_in: int
    count_out: int
    removed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AssignmentPlan:
    """An assignment of helpers to villages.

    ``pairs`` are ``(helper, village, score)`` sorted by village then helper;
    ``unassigned`` are ``(village, reason)`` for the villages that did not get their minimum:
    ``no_candidates`` (no scored pair with a helper of positive capacity),
    ``too_few_candidates`` (fewer candidate helpers than the minimum) or
    ``capacity_exhausted`` (the candidates' places went to other villages, where they
    served the plan better). ``covered`` counts villages with at least their minimum.
    ``unassigned_explanations`` says each reason in words, with its counts (Chinese and
    English), in the order of ``unassigned``.
    ``funnel`` is how :func:`plan_region` got from the region to the problem it assigned
    (empty from :func:`assign` alone).
    """

    pairs: tuple[tuple[str, str, float], ...]
    total_score: float
    unassigned: tuple[tuple[str, str], ...]
    method: str
    villages: int
    helpers: int
    candidate_pairs: int
    covered: int
    unassigned_explanations: tuple[Wording, ...] = ()
    funnel: tuple[PlanStep, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------
# Validation and the integer costs
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Problem:
    helpers: list[Helper]
    villages: list[Village]
    #: (helper index, village index, score, integer score), sorted by (helper id, village id)
    pairs: list[tuple[int, int, float, int]]


def _problem(
    helpers: Sequence[Helper],
    villages: Sequence[Village],
    scores: Mapping[tuple[str, str], float],
) -> _Problem:
    hs = sorted(helpers, key=lambda h: h.id)
    vs = sorted(villages, key=lambda v: v.id)
    for kind, items in (("helper", hs), ("village", vs)):
        ids = [x.id for x in items]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"duplicate {kind} ids: {dup[:5]}")
    for h in hs:
        if isinstance(h.capacity, bool) or not isinstance(h.capacity, int) or h.capacity < 0:
            raise ValueError(f"helper {h.id!r}: capacity must be a non-negative int")
    for v in vs:
        for value in (v.min_helpers, v.max_helpers):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"village {v.id!r}: min/max helpers must be non-negative ints")
        if v.min_helpers > v.max_helpers:
            raise ValueError(f"village {v.id!r}: min_helpers > max_helpers")
    h_index = {h.id: i for i, h in enumerate(hs)}
    v_index = {v.id: i for i, v in enumerate(vs)}
    pairs: list[tuple[int, int, float, int]] = []
    for key, score in scores.items():
        helper, village = key
        if helper not in h_index:
            raise ValueError(f"score for unknown helper {helper!r}")
        if village not in v_index:
            raise ValueError(f"score for unknown village {village!r}")
        number = float(score)
        if not math.isfinite(number):
            raise ValueError(f"score of {key!r} is not finite: {score!r}")
        quantum = round(number * SCORE_RESOLUTION)
        pairs.append((h_index[helper], v_index[village], number, quantum))
    pairs.sort(key=lambda p: (p[0], p[1]))
    return _Problem(hs, vs, pairs)


def _costs(problem: _Problem) -> tuple[list[int], int, int, int]:
    """Non-negative integer arc costs: (pair costs, extra-skip cost, min-skip cost, W).

    Pair ``e`` of rank ``r`` (from 0, in (helper, village) id order) costs
    ``(q_max − q_e)·W + r + 1`` and leaving a place of a village empty costs ``q_max·W``
    (plus ``B`` for a place below the minimum), so a pair scoring 0 is never added beyond
    the minimum. ``W`` exceeds the
    sum of ranks of any plan and ``B`` any difference of pair costs, so the objective is
    lexicographic: places below the minimum, then score, then ranks. Adding ``q_max·W`` to
    every way out of a village shifts all plans by the same constant.
    """
    units = sum(v.max_helpers for v in problem.villages)
    n_pairs = len(problem.pairs)
    qs = [p[3] for p in problem.pairs]
    q_max = max([0, *qs])
    q_min = min([0, *qs])
    weight = units * (n_pairs + 1) + 1
    pair_costs = [(q_max - q) * weight + rank + 1 for rank, q in enumerate(qs)]
    big = units * ((q_max - q_min + 1) * weight + n_pairs + 1) + 1
    return pair_costs, q_max * weight, q_max * weight + big, weight


# ---------------------------------------------------------------------------------------
# Successive shortest paths
# ---------------------------------------------------------------------------------------


def _ssp(problem: _Problem) -> list[int]:
    """Indices of the chosen pairs: successive shortest paths from the scarcer side.

    The same costs (:func:`_costs`) can be read from either side. From the villages: each
    village sends ``max_v`` units, a place left empty costs ``q_max·W`` (``+ B`` below the
    minimum), a helper receives up to ``k_h`` at no cost. From the helpers: each helper
    sends ``min(k_h, degree)`` units, a unit left unused costs ``q_max·W + B``, a village
    receives ``min_v`` units at no cost and ``max_v − min_v`` more at ``B`` each. Both give
    the total ``constant − B·(minimum places filled) − W·Σ scores + Σ (ranks + 1)``. The
    side with fewer units sends, so each search looks among plentiful partners.
    """
    V, H = len(problem.villages), len(problem.helpers)
    pair_costs, skip_extra, skip_min, _ = _costs(problem)
    big = skip_min - skip_extra
    deg_v, deg_h = [0] * V, [0] * H
    for h, v, _, _ in problem.pairs:
        if problem.helpers[h].capacity > 0:
            deg_v[v] += 1
            deg_h[h] += 1
    village_units = sum(v.max_helpers for v in problem.villages)
    helper_units = sum(min(x.capacity, d) for x, d in zip(problem.helpers, deg_h, strict=True))
    live = [
        (e, h, v) for e, (h, v, _, _) in enumerate(problem.pairs) if problem.helpers[h].capacity
    ]
    if helper_units <= village_units:
        out: list[list[tuple[int, int, int]]] = [[] for _ in range(H)]
        for e, h, v in live:
            out[h].append((H + v, pair_costs[e], e))
        return _augment(
            supply=[min(x.capacity, d) for x, d in zip(problem.helpers, deg_h, strict=True)],
            out=out,
            source_ends=[[(x.capacity, skip_min)] for x in problem.helpers],
            sink_ends=[
                [(v.min_helpers, 0), (v.max_helpers - v.min_helpers, big)] for v in problem.villages
            ],
            pair_costs=pair_costs,
            big=big,
        )
    out = [[] for _ in range(V)]
    for e, h, v in live:
        out[v].append((V + h, pair_costs[e], e))
    return _augment(
        supply=[v.max_helpers for v in problem.villages],
        out=out,
        source_ends=[
            [(v.max_helpers - v.min_helpers, skip_extra), (v.min_helpers, skip_min)]
            for v in problem.villages
        ],
        sink_ends=[[(x.capacity, 0)] for x in problem.helpers],
        pair_costs=pair_costs,
        big=big,
    )


def _augment(
    supply: list[int],
    out: list[list[tuple[int, int, int]]],
    source_ends: list[list[tuple[int, int]]],
    sink_ends: list[list[tuple[int, int]]],
    pair_costs: list[int],
    big: int,
) -> list[int]:
    """Successive shortest paths on a bipartite network with ends at a sink ``T``.

    Sources ``0..S-1`` send ``supply`` units, one augmentation each, source after source;
    a unit goes to a sink by a pair arc (capacity 1) and on to ``T`` by one of the sink's
    end arcs, or straight to ``T`` by one of the source's end arcs (capacity, cost each).
    Each augmentation follows a shortest path in the residual network: Dijkstra on reduced
    costs, stopped when ``T`` is settled; only settled nodes update their potentials (the
    others implicitly shift by ``d(T)``, which changes no reduced cost) [1]_ [2]_. Residual
    arcs are kept implicitly: a source's unused pairs, a sink's current sources (reverse
    pair arcs) and the end arcs with capacity left. End flows only grow: a path enters and
    leaves every inner node by pair arcs. A source not yet sent holds no pair, so no path
    reaches it.

    Shortcut: when a source can end at a cost ``σ < B`` and every end costing ``B`` or more
    costs at least ``σ + B``, only ends cheaper than ``B`` can beat ``σ`` (an alternating
    path changes costs by less than ``B``); if none has capacity left (at a sink, or at a
    source holding a pair to give up) the unit ends at ``σ`` without a search.
    """
    # Why this is long: it is the solver's inner loop (Dijkstra, potentials and the
    # augmentation, per unit of supply); split into functions it loses its fast locals and
    # the 1,000 x 1,000 plan takes measurably longer (bench/recommend.py).
    S, K = len(supply), len(sink_ends)
    T = S + K
    ends: list[list[tuple[int, int]]] = [*source_ends, *sink_ends]
    flow = [[0] * len(e) for e in ends]
    used = [False] * len(pair_costs)
    held: list[dict[int, int]] = [{} for _ in range(K)]  # sink -> {source: pair}
    holds = [0] * S  # pairs each source holds
    costly = [c for e in ends for cap, c in e if cap > 0 and c >= big]
    lowest_costly = min(costly) if costly else None

    def cheap(node: int) -> bool:
        """A cheap end with capacity left that a path can use."""
        if node < S and holds[node] == 0:
            return False
        return any(c < big and f < cap for (cap, c), f in zip(ends[node], flow[node], strict=True))

    cheap_nodes = sum(1 for n in range(S, T) if cheap(n))
    pot = [0] * (T + 1)
    dist = [0] * (T + 1)
    stamp = [-1] * (T + 1)
    done = [-1] * (T + 1)
    parent = [-1] * (T + 1)
    via = [0] * (T + 1)  # pair index into a node; end arc index into T
    step = 0
    push, pop = heapq.heappush, heapq.heappop
    for s in range(S):
        for _ in range(supply[s]):
            own = [
                (c, j)
                for j, ((cap, c), f) in enumerate(zip(ends[s], flow[s], strict=True))
                if f < cap
            ]
            sigma, j_own = min(own) if own else (None, -1)
            if (
                sigma is not None
                and sigma < big
                and (lowest_costly is None or lowest_costly >= sigma + big)
                and cheap_nodes - cheap(s) == 0
            ):
                flow[s][j_own] += 1
                continue
            step += 1
            stamp[s], dist[s] = step, 0
            heap = [(0, s)]
            settled: list[int] = []
            bound = math.inf  # tentative d(T)
            while heap:
                d, u = pop(heap)
                if d > dist[u] or done[u] == step:
                    continue
                if u == T:
                    break
                done[u] = step
                settled.append(u)
                pu = pot[u]
                if u < S:
                    for w, c, e in out[u]:
                        if used[e]:
                            continue
                        nd = d + c + pu - pot[w]
                        if nd < bound and (stamp[w] != step or nd < dist[w]):
                            stamp[w], dist[w], parent[w], via[w] = step, nd, u, e
                            push(heap, (nd, w))
                else:
                    for w, e in held[u - S].items():
                        nd = d - pair_costs[e] + pu - pot[w]
                        if nd < bound and (stamp[w] != step or nd < dist[w]):
                            stamp[w], dist[w], parent[w], via[w] = step, nd, u, e
                            push(heap, (nd, w))
                for j, ((cap, c), f) in enumerate(zip(ends[u], flow[u], strict=True)):
                    if f < cap:
                        nd = d + c + pu - pot[T]
                        if nd < bound:
                            bound = nd
                            stamp[T], dist[T], parent[T], via[T] = step, nd, u, j
                            push(heap, (nd, T))
            d_t = dist[T]
            for u in settled:
                pot[u] += dist[u] - d_t
            # Augment one unit along the path, keeping the count of cheap ends.
            last = parent[T]
            before = {n: cheap(n) for n in (s, last)}
            flow[last][via[T]] += 1
            if last < S and last != s:
                holds[last] -= 1  # it gave up a pair for its end
            w = last
            while w != s:
                u, e = parent[w], via[w]
                if u < S:  # source u takes sink w
                    used[e] = True
                    held[w - S][u] = e
                else:  # sink u lets source w go
                    used[e] = False
                    del held[u - S][w]
                w = u
            if last != s:
                holds[s] += 1
            for n, was in before.items():
                cheap_nodes += cheap(n) - was
    return [e for e, flag in enumerate(used) if flag]


def _network_simplex(problem: _Problem) -> list[int]:
    """The same flow with ``networkx.network_simplex`` (exact, slower; for cross-checks)."""
    pair_costs, skip_extra, skip_min, _ = _costs(problem)
    units = sum(v.max_helpers for v in problem.villages)
    D = nx.DiGraph()
    D.add_node("T", demand=units)
    for v, village in enumerate(problem.villages):
        D.add_node(("v", v), demand=-village.max_helpers)
        # Two skip arcs per village need distinct heads: a middle node for the minimum.
        if village.min_helpers:
            D.add_edge(("v", v), ("m", v), capacity=village.min_helpers, weight=skip_min)
            D.add_edge(("m", v), "T", capacity=village.min_helpers, weight=0)
        extra = village.max_helpers - village.min_helpers
        if extra:
            D.add_edge(("v", v), "T", capacity=extra, weight=skip_extra)
    for h, helper in enumerate(problem.helpers):
        if helper.capacity > 0:
            D.add_edge(("h", h), "T", capacity=helper.capacity, weight=0)
    for e, ((h, v, _, _), c) in enumerate(zip(problem.pairs, pair_costs, strict=True)):
        if problem.helpers[h].capacity > 0:
            D.add_edge(("v", v), ("h", h), capacity=1, weight=c, pair=e)
    _, flow = nx.network_simplex(D)
    chosen = []
    for e, (h, v, _, _) in enumerate(problem.pairs):
        if problem.helpers[h].capacity > 0 and flow[("v", v)].get(("h", h), 0) > 0:
            chosen.append(e)
    return chosen


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def assign(
    helpers: Sequence[Helper],
    villages: Sequence[Village],
    scores: Mapping[tuple[str, str], float],
    *,
    method: Literal["ssp", "network_simplex"] = "ssp",
) -> AssignmentPlan:
    """Assign helpers to villages: the most villages at their minimum, then the best score.

    Parameters
    ----------
    helpers : sequence of Helper
        Helpers and their capacities (villages each takes at most).
    villages : sequence of Village
        Villages with the helpers each needs at least and takes at most.
    scores : mapping
        ``(helper id, village id) -> score`` for the candidate pairs; pairs not listed
        cannot be assigned. Scores may be any finite numbers (the recommender's are in
        ``[0, 1]``); a pair beyond a village's minimum is only added if its score is
        positive.
    method : {"ssp", "network_simplex"}
        ``ssp``: successive shortest paths with potentials (the default; fast on sparse
        candidate lists). ``network_simplex``: ``networkx.network_simplex`` on the same
        integer costs (exact too, much slower; a cross-check).

    Returns
    -------
    AssignmentPlan
        Pairs, total score (sum of the chosen pairs' given scores), villages below their
        minimum with the reason, and the method.

    Raises
    ------
    ValueError
        Duplicate ids, negative capacities, ``min_helpers > max_helpers``, a score for an
        unknown helper or village, or a non-finite score.

    Notes
    -----
    The flow network and its costs are described in the module notes. With integer costs
    both methods are exact [1]_. ``ssp`` makes one Dijkstra search per unit of village
    demand (``Σ max_v``), each stopped once the sink is settled, so its cost grows with how
    contested the helpers are: about a second for 1,000 helpers × 1,000 villages with 50
    candidates each. Deterministic: inputs are sorted by id, and ties in score go to the
    plan using pairs earlier in (helper, village) order.

    References
    ----------
    .. [1] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms,
       and Applications*, Prentice Hall, 1993.
    .. [2] R. Jonker and A. Volgenant, "A shortest augmenting path algorithm for dense and
       sparse linear assignment problems", Computing 38(4), 325–340, 1987.
    """
    if method not in ("ssp", "network_simplex"):
        raise ValueError(f"method must be 'ssp' or 'network_simplex', got {method!r}")
    problem = _problem(helpers, villages, scores)
    chosen = _ssp(problem) if method == "ssp" else _network_simplex(problem)
    return _plan(problem, chosen, method)


def _plan(problem: _Problem, chosen: Iterable[int], method: str) -> AssignmentPlan:
    hs, vs = problem.helpers, problem.villages
    got: defaultdict[int, int] = defaultdict(int)
    pairs = []
    total = 0.0
    for e in chosen:
        h, v, score, _ = problem.pairs[e]
        got[v] += 1
        total += score
        pairs.append((hs[h].id, vs[v].id, score))
    pairs.sort(key=lambda p: (p[1], p[0]))
    candidates: defaultdict[int, int] = defaultdict(int)
    for h, v, _, _ in problem.pairs:
        if hs[h].capacity > 0:
            candidates[v] += 1
    unassigned = []
    said = []
    for v, village in enumerate(vs):
        if got[v] >= village.min_helpers:
            continue
        if candidates[v] == 0:
            reason = "no_candidates"
        elif candidates[v] < village.min_helpers:
            reason = "too_few_candidates"
        else:
            reason = "capacity_exhausted"
        unassigned.append((village.id, reason))
        said.append(_why_unassigned(reason, candidates[v], got[v], village.min_helpers))
    return AssignmentPlan(
        pairs=tuple(pairs),
        total_score=total,
        unassigned=tuple(unassigned),
        unassigned_explanations=tuple(said),
        method=method,
        villages=len(vs),
        helpers=len(hs),
        candidate_pairs=len(problem.pairs),
        covered=len(vs) - len(unassigned),
    )


def _why_unassigned(reason: str, candidates: int, got: int, needed: int) -> Wording:
    """Why a village did not get its minimum of helpers, with the counts behind it."""
    if reason == "no_candidates":
        return Wording(
            f"没有可用的帮扶方候选 (有空余名额的候选 0 个), 该村至少需要 {needed} 个",
            f"no candidate helper with a free place; the village needs {needed}",
        )
    if reason == "too_few_candidates":
        return Wording(
            f"有空余名额的帮扶方候选只有 {candidates} 个, 少于该村至少需要的 {needed} 个",
            f"only {candidates} candidate helper(s) with a free place; the village needs {needed}",
        )
    return Wording(
        f"有空余名额的帮扶方候选 {candidates} 个, 但其名额分给了使整个方案总分更高的其他村; "
        f"该村分到 {got} 个, 至少需要 {needed} 个",
        f"{candidates} candidate helper(s), whose places went to villages where they served "
        f"the plan better; the village got {got} of the {needed} it needs",
    )


def _top(score: npt.NDArray[np.float64], top: int) -> list[int]:
    """Positions of the ``top`` largest scores, best first, ties by position (id order)."""
    if len(score) > top:
        # Every position scoring at least the top-th best, then a stable sort of those.
        threshold = np.partition(score, len(score) - top)[len(score) - top]
        keep = np.flatnonzero(score >= threshold)
    else:
        keep = np.arange(len(score))
    order = keep[np.argsort(-score[keep], kind="stable")]
    return [int(j) for j in order[:top]]


def _step(
    step: str, subject: Literal["villages", "helpers"], before: Sequence[str], after: Sequence[str]
) -> PlanStep:
    """The step that took ``before`` to ``after`` (a subset, in order)."""
    kept = set(after)
    removed = sorted({x for x in before if x not in kept})
    return PlanStep(
        step=step,
        label=PLAN_STEPS[step],
        subject=subject,
        count_in=len(before),
        count_out=len(after),
        removed=tuple(removed[:PLAN_STEP_EXAMPLES]),
    )


def _villages_to_help(
    index: RecommenderIndex, villages: Sequence[str] | None
) -> tuple[list[str], list[PlanStep]]:
    """The villages a plan is for, and the steps that chose them: the listed ones, or the
    region's weak villages (:mod:`graph_service.analysis.weakness`) without a pairing helper."""
    if villages is not None:
        resolved = [index.resolve(v) for v in villages]
        listed = sorted(set(resolved))
        return listed, [_step("villages_listed", "villages", resolved, listed)]
    in_region = [c for i, c in enumerate(index.ids) if index.category[i] == _VILLAGE]
    weak = [c for c in in_region if index.weak[index.position[c]]]
    unpaired = [c for c in weak if index.places.helpers_of[index.position[c]] == 0]
    return unpaired, [
        _step("weak", "villages", in_region, weak),
        _step("not_paired", "villages", weak, unpaired),
    ]


def _can_help(index: RecommenderIndex, actor: str) -> bool:
    """An enterprise or institution, or a village known not to be weak (以强带弱): the
    helpers a pairing's scoring lets through."""
    pos = index.position.get(actor)
    if pos is None:  # an actor that is no candidate (a town committee …)
        return False
    category = int(index.category[pos])
    if category == _VILLAGE:
        return bool(index.standing.known[pos] and not index.weak[pos])
    return CATEGORIES[category] in ("Enterprise", "Institution")


def _helpers_with_places(
    index: RecommenderIndex, helpers: Sequence[str] | None, k: int | None, villages: int
) -> tuple[list[Helper], list[PlanStep]]:
    """The helpers a plan may use, with their places, and the steps that chose them."""
    steps = []
    if helpers is None:
        given = [
            c
            for i, c in enumerate(index.ids)
            if CATEGORIES[int(index.category[i])] in ("Village", "Enterprise", "Institution")
        ]
    else:
        resolved = [index.resolve(h) for h in helpers]
        given = sorted(set(resolved))
        steps.append(_step("helpers_listed", "helpers", resolved, given))
    able = [h for h in given if _can_help(index, h)]
    steps.append(_step("can_help", "helpers", given, able))
    placed = []
    for h in able:
        if k is None:
            pos = index.position[h]
            cap = float(index.capacity[pos])
            free = villages if math.isinf(cap) else max(0, int(cap - index.load[pos]))
            placed.append(Helper(h, free))
        else:
            placed.append(Helper(h, k))
    with_places = [x for x in placed if x.capacity > 0]
    steps.append(_step("has_places", "helpers", able, [x.id for x in with_places]))
    return with_places, steps


def plan_region(
    index: RecommenderIndex,
    villages: Sequence[str] | None,
    helpers: Sequence[str] | None,
    k: int | None = 1,
    m: int = 1,
    top_candidates: int = 50,
    *,
    min_helpers: int = 1,
    program: str | None = None,
    max_distance: Literal["town", "county", "city", "province"] | None = None,
    weights: RecommendWeights | Mapping[str, float] | None = None,
    method: Literal["ssp", "network_simplex"] = "ssp",
    rejected: Iterable[tuple[str, str]] = (),
) -> AssignmentPlan:
    """Score candidate pairs with the recommender, then :func:`assign`.

    Parameters
    ----------
    index : RecommenderIndex
        The region's index.
    villages : sequence of str, optional
        Villages to help (ids, or their party organizations); when ``None``, the index's
        weak villages (:mod:`graph_service.analysis.weakness`) that have no pairing helper
        yet (no ``PAIRS_WITH`` to them or their organization).
    helpers : sequence of str, optional
        Helpers (ids or their organizations); when ``None``, every enterprise, institution
        and village of the index. Either way only enterprises, institutions and villages
        known not to be weak can help (以强带弱), and only those with a place.
    k : int or None
        Villages a helper takes at most in this round; ``None`` uses each helper's free
        places in the index (its capacity minus its current pairings).
    m : int
        Helpers a village takes at most.
    top_candidates : int
        Candidate helpers kept per village, best scores first (ties by id).
    min_helpers : int
        Helpers a village needs at least (``≤ m``).
    program, max_distance, weights
        Passed to :func:`~graph_service.analysis.recommend.score_candidates` (relation
        ``pairing``, helpers without a free place kept: capacity is the assignment's job).
    method : {"ssp", "network_simplex"}
        As for :func:`assign`.
    rejected : iterable of (str, str)
        Pairs a planner has rejected (either order, organizations allowed): never assigned.

    Returns
    -------
    AssignmentPlan
        With its ``funnel``: each filter between the region and the plan (villages chosen,
        helpers that can help and have a place, villages with a candidate, within the
        program and distance, after rejections, assigned), counted in and out with examples
        of what it removed — so an empty plan says why.

    Notes
    -----
    A village's current partners are never candidates. Scoring costs one recommender query
    per village restricted to the helpers (a millisecond or two each); a village left with
    no candidate by ``program`` or ``max_distance`` costs one more, to tell the funnel
    whether the limits or the helpers left it without.

    References
    ----------
    .. [1] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms,
       and Applications*, Prentice Hall, 1993.
    """
    if top_candidates < 1:
        raise ValueError(f"top_candidates must be positive, got {top_candidates}")
    if k is not None and k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    if m < 0 or not 0 <= min_helpers <= m:
        raise ValueError(f"need 0 <= min_helpers <= m, got {min_helpers} and {m}")
    village_ids, steps = _villages_to_help(index, villages)
    hs, helper_steps = _helpers_with_places(index, helpers, k, len(village_ids))
    steps += helper_steps
    within = np.zeros(len(index), dtype=np.bool_)
    within[[index.position[h.id] for h in hs]] = True
    refused = list(rejected)
    limited = program is not None or max_distance is not None
    scores: dict[tuple[str, str], float] = {}
    reached: dict[str, list[str]] = {"has_candidates": [], "within_limits": [], "not_rejected": []}
    for village in village_ids:
        scored = score_candidates(
            index,
            village,
            rejected=refused,
            program=program,
            max_distance=max_distance,
            weights=weights,
            relation="pairing",
            include_full=True,
            within=within,
        )
        # Rejections are cleared after the limits, so their count tells what was there.
        in_limits = len(scored.index) + scored.excluded_rejected > 0
        anywhere = in_limits or (
            limited
            and len(
                score_candidates(
                    index, village, relation="pairing", include_full=True, within=within
                ).index
            )
            > 0
        )
        for step, passed in (
            ("has_candidates", anywhere),
            ("within_limits", in_limits),
            ("not_rejected", len(scored.index) > 0),
        ):
            if passed:
                reached[step].append(village)
        for j in _top(scored.score, top_candidates):
            scores[(index.ids[int(scored.index[j])], village)] = float(scored.score[j])
    vs = [Village(v, min_helpers, m) for v in village_ids]
    plan = assign(hs, vs, scores, method=method)
    before = village_ids
    for step in reached:
        steps.append(_step(step, "villages", before, reached[step]))
        before = reached[step]
    short = {v for v, _ in plan.unassigned}
    steps.append(_step("assigned", "villages", before, [v for v in before if v not in short]))
    return dataclasses.replace(plan, funnel=tuple(steps))


# ---------------------------------------------------------------------------------------
# What-if
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoverageSnapshot:
    """Village coverage on one side of a what-if: villages, and how many are paired
    (have a ``PAIRS_WITH`` helper), in a joint body, or either."""

    villages: int
    paired: int
    joint_body: int
    covered: int
    paired_rate: float | None
    covered_rate: float | None


@dataclass(frozen=True, slots=True)
class CentralityShift:
    """A node's PageRank rank (1 = most central) and score before and after."""

    node_id: str
    name: str
    rank_before: int
    rank_after: int
    score_before: float
    score_after: float


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    """What proposed pairings would change; nothing is written.

    Connectivity is that of the tie graph of actors (party organizations merged into their
    villages and enterprises; :data:`~graph_service.analysis.strength.TIE_LINK_TYPES`):
    its number of connected components and the share of actors in the largest.
    ``risers`` are the actors whose PageRank rank improves most; ``proposal_shifts`` the
    PageRank of the proposal's own helpers and villages.
    """

    proposed: tuple[tuple[str, str], ...]
    region_code: str | None
    coverage_before: CoverageSnapshot
    coverage_after: CoverageSnapshot
    newly_paired: tuple[str, ...]
    newly_covered: tuple[str, ...]
    actors: int
    components_before: int
    components_after: int
    largest_share_before: float
    largest_share_after: float
    risers: tuple[CentralityShift, ...]
    proposal_shifts: tuple[CentralityShift, ...]
    #: What the figures above add up to, in words: Chinese, and English.
    summary: str = ""
    summary_en: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


def _snapshot(rows: Sequence[Any]) -> CoverageSnapshot:
    n = len(rows)
    paired = sum(1 for r in rows if r.paired)
    joint = sum(1 for r in rows if r.in_joint_body)
    covered = sum(1 for r in rows if r.paired or r.in_joint_body)
    return CoverageSnapshot(
        villages=n,
        paired=paired,
        joint_body=joint,
        covered=covered,
        paired_rate=paired / n if n else None,
        covered_rate=covered / n if n else None,
    )


def _coverage_rows(H: nx.MultiDiGraph, region_code: str | None) -> list[Any]:
    if region_code is not None:
        return village_coverage(H, region_code)
    provinces = sorted(
        {
            str(d.get("region_code"))[:2]
            for _, d in H.nodes(data=True)
            if d.get("label") == "Village" and len(str(d.get("region_code") or "")) == 12
        }
    )
    return [row for p in provinces for row in village_coverage(H, p)]


def _tie_graph(H: nx.MultiDiGraph, region_code: str | None) -> nx.Graph:
    unit_of = actor_map(H)
    actors = sorted(
        u
        for u in set(unit_of.values())
        if region_code is None or str(H.nodes[u].get("region_code") or "").startswith(region_code)
    )
    T = nx.Graph()
    T.add_nodes_from(actors)
    for a, b, d in H.edges(data=True):
        if d.get("type") not in TIE_LINK_TYPES:
            continue
        ua, ub = unit_of.get(str(a)), unit_of.get(str(b))
        if ua is None or ub is None or ua == ub or ua not in T or ub not in T:
            continue
        if T.has_edge(ua, ub):
            T[ua][ub]["weight"] += 1.0
        else:
            T.add_edge(ua, ub, weight=1.0)
    return T


def _connectivity(T: nx.Graph) -> tuple[int, float]:
    if len(T) == 0:
        return 0, 0.0
    sizes = [len(c) for c in nx.connected_components(T)]
    return len(sizes), max(sizes) / len(T)


def _ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """Competition ranks, 1 = highest; ties share the best rank."""
    ordered = sorted(scores.values(), reverse=True)
    first: dict[float, int] = {}
    for i, value in enumerate(ordered):
        first.setdefault(value, i + 1)
    return {n: first[s] for n, s in scores.items()}


def _with_proposals(
    before: nx.MultiDiGraph, proposed: Iterable[tuple[Any, Any]], program: str | None
) -> tuple[nx.MultiDiGraph, list[tuple[str, str]], dict[str, str]]:
    """A copy of ``before`` with each proposed pairing added as a virtual ``PAIRS_WITH``
    link (helper → the village's own node), the pairs as added, and the actor map."""
    after = before.copy()
    unit_of = actor_map(before)
    pairs: list[tuple[str, str]] = []
    for i, (helper, village) in enumerate(proposed):
        for node in (helper, village):
            if node not in before:
                raise nx.NodeNotFound(f"node {node!r} is not in the graph (or not valid)")
        v = unit_of.get(str(village))
        if v is None or before.nodes[v].get("label") != "Village":
            raise ValueError(f"{village!r} is not a village or a village's organization")
        h = unit_of.get(str(helper))
        if h is None:
            raise ValueError(f"{helper!r} is not an actor that can help")
        if h == v:
            raise ValueError(f"a village cannot pair with itself: {helper!r} → {village!r}")
        key = f"whatif:{i}:{helper}->{v}"
        attrs = {"program": program} if program is not None else {}
        after.add_edge(
            str(helper),
            v,
            key=key,
            id=key,
            type="PAIRS_WITH",
            source=str(helper),
            target=v,
            attributes=attrs,
            sources=[{"kind": "planner_decision", "document": "what-if (not stored)"}],
            virtual=True,
        )
        pairs.append((str(helper), v))

    return after, pairs, unit_of


def what_if(
    G: nx.MultiDiGraph,
    proposed: Sequence[tuple[str, str]],
    region_code: str | None = None,
    *,
    as_of: dt.date | None = None,
    top: int = 10,
    program: str | None = None,
) -> WhatIfReport:
    """Apply proposed pairings to a copy of ``G`` and report what they would change.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export; it is not modified.
    proposed : sequence of (helper, village)
        Pairings to add as virtual ``PAIRS_WITH`` links, helper → village (either may be
        given as its party organization).
    region_code : str, optional
        Report coverage of the villages under this division code and connectivity and
        centrality of the actors under it; the whole graph when omitted.
    as_of : datetime.date, optional
        Read only what is valid on this day.
    top : int
        How many PageRank risers to report.
    program : str, optional
        Written on the virtual links (``attributes.program``).

    Returns
    -------
    WhatIfReport
        Coverage (paired, in a joint body, either) before and after with the villages newly
        paired and newly covered; connected components and largest-component share of the
        tie graph; PageRank risers and the proposal's own shifts.

    Raises
    ------
    networkx.NodeNotFound
        If a helper or village is not in ``G``.
    ValueError
        If a proposed village is not a village (or a village's organization), or a helper
        is not an actor, or both ends are the same.

    Notes
    -----
    PageRank [2]_ runs on the weighted tie graph (weight = number of links) before and
    after, through :func:`graph_service.analysis.centrality.pagerank`.

    References
    ----------
    .. [1] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms,
       and Applications*, Prentice Hall, 1993.
    .. [2] L. Page, S. Brin, R. Motwani and T. Winograd, "The PageRank citation ranking:
       bringing order to the Web", Stanford InfoLab technical report 1999-66, 1999.
    """
    if top < 0:
        raise ValueError(f"top must be non-negative, got {top}")
    before = filter_links(G, None, as_of)
    after, pairs, unit_of = _with_proposals(before, proposed, program)
    rows_before = _coverage_rows(before, region_code)
    rows_after = _coverage_rows(after, region_code)
    was_paired = {r.village_id for r in rows_before if r.paired}
    was_covered = {r.village_id for r in rows_before if r.paired or r.in_joint_body}
    newly_paired = sorted(
        r.village_id for r in rows_after if r.paired and r.village_id not in was_paired
    )
    newly_covered = sorted(
        r.village_id
        for r in rows_after
        if (r.paired or r.in_joint_body) and r.village_id not in was_covered
    )

    tb, ta = _tie_graph(before, region_code), _tie_graph(after, region_code)
    cb, lb = _connectivity(tb)
    ca, la = _connectivity(ta)
    pr_b = {str(n): s for n, s in pagerank(CSRGraph.from_graph(tb)).items()} if len(tb) else {}
    pr_a = {str(n): s for n, s in pagerank(CSRGraph.from_graph(ta)).items()} if len(ta) else {}
    rank_b, rank_a = _ranks(pr_b), _ranks(pr_a)

    def shift(node: str) -> CentralityShift:
        return CentralityShift(
            node_id=node,
            name=str(before.nodes[node].get("name") or node),
            rank_before=rank_b[node],
            rank_after=rank_a[node],
            score_before=pr_b[node],
            score_after=pr_a[node],
        )

    common = sorted(set(rank_b) & set(rank_a))
    risers = sorted(
        (n for n in common if rank_a[n] < rank_b[n]),
        key=lambda n: (rank_a[n] - rank_b[n], n),
    )[:top]
    ends = sorted({unit_of[h] for h, _ in pairs} | {v for _, v in pairs})
    report = WhatIfReport(
        proposed=tuple(pairs),
        region_code=region_code,
        coverage_before=_snapshot(rows_before),
        coverage_after=_snapshot(rows_after),
        newly_paired=tuple(newly_paired),
        newly_covered=tuple(newly_covered),
        actors=len(ta),
        components_before=cb,
        components_after=ca,
        largest_share_before=lb,
        largest_share_after=la,
        risers=tuple(shift(n) for n in risers),
        proposal_shifts=tuple(shift(n) for n in ends if n in rank_b and n in rank_a),
    )
    said = _what_if_summary(report, before)
    return dataclasses.replace(report, summary=said.zh, summary_en=said.en)


def _what_if_summary(report: WhatIfReport, G: nx.MultiDiGraph) -> Wording:
    """The what-if's figures in words: the pairs, coverage and connectivity before → after."""

    def name(node: str) -> str:
        return str(G.nodes[node].get("name") or node) if node in G else node

    def rates(a: float | None, b: float | None) -> str:
        return f" ({percent(a)} → {percent(b)})" if a is not None and b is not None else ""

    before, after = report.coverage_before, report.coverage_after
    shown = [f"{name(h)} → {name(v)}" for h, v in report.proposed]
    pairs = listing(shown, 5)
    paired = listing([name(v) for v in report.newly_paired], 5)
    covered = listing([name(v) for v in report.newly_covered], 5)
    shares = f"{percent(report.largest_share_before)} → {percent(report.largest_share_after)}"
    components = f"{report.components_before} → {report.components_after}"
    zh = [
        f"拟新增结对 {len(report.proposed)} 对 (仅模拟, 不写入数据): {pairs}",
        f"本区域 {after.villages} 个村中, 有结对的村 {before.paired} → {after.paired} 个"
        + rates(before.paired_rate, after.paired_rate)
        + f", 有结对或在联建组织中的村 {before.covered} → {after.covered} 个"
        + rates(before.covered_rate, after.covered_rate),
        f"新增结对村 {len(report.newly_paired)} 个"
        + (f" ({paired})" if paired else "")
        + f", 新覆盖村 {len(report.newly_covered)} 个"
        + (f" ({covered})" if covered else ""),
        f"联建网络 {report.actors} 个主体的连通片 {components} 个 (越少越连成一体), "
        f"最大连通片占全部主体 {shares}",
    ]
    en = [
        f"{len(report.proposed)} proposed pairing(s), simulated, nothing written: "
        + listing(shown, 5, ", "),
        f"villages paired {before.paired} → {after.paired} of {after.villages}"
        + rates(before.paired_rate, after.paired_rate)
        + f", paired or in a joint body {before.covered} → {after.covered}"
        + rates(before.covered_rate, after.covered_rate),
        f"newly paired {len(report.newly_paired)}, newly covered {len(report.newly_covered)}",
        f"tie graph of {report.actors} actors: {components} components, largest {shares}",
    ]
    return Wording("; ".join(zh), "; ".join(en))
