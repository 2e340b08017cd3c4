"""Offline evaluation of the partner recommender against link-prediction baselines.

Protocol (:func:`evaluate`): hide a share of the existing pairing (``PAIRS_WITH``) and
joint-building (``CO_BUILDS``) ties, rebuild the recommender's index without them, and for
each hidden tie ask for the partners of one end (the *query*) and look for the other end
(the *answer*) in the ranking. The recommender is asked for the relation of the hidden tie
(``pairing`` for ``PAIRS_WITH``, ``co_building`` for ``CO_BUILDS``). Every method ranks the
same candidates — the recommender's for that relation, with the query's current partners
left out — so they differ only in how they score:

=========================== ==============================================================
``recommender``              :func:`graph_service.analysis.recommend.score_candidates`
``random``                   a seeded uniform draw
``preferential_attachment``  the candidate's degree on the tie graph (``k_q·k_c`` without
                             the query's constant ``k_q``, which would zero isolated queries)
``adamic_adar``              ``Σ_z 1 / ln k_z`` over common neighbours on the tie graph
``proximity``                administrative proximity of the division codes
                             (:func:`graph_service.analysis.strength.administrative_proximity`)
=========================== ==============================================================

Hits@k is the share of hidden ties whose answer ranks in the top ``k``; MRR the mean of
``1 / rank``. Ties in scores are counted in expectation over a random order (an answer tied
with ``t − 1`` others after ``g`` better ones has hits@k ``clip((k − g)/t, 0, 1)`` and
reciprocal rank ``(H_{g+t} − H_g)/t``), so a method gains nothing from tie order. Other
hidden answers of the same query are left out of its ranking (the *filtered* setting).

References
----------
.. [1] D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social networks",
   Journal of the American Society for Information Science and Technology 58(7),
   1019–1031, 2007. https://doi.org/10.1002/asi.20591
.. [2] L. A. Adamic and E. Adar, "Friends and neighbors on the Web", Social Networks 25(3),
   211–230, 2003. https://doi.org/10.1016/S0378-8733(03)00009-1
.. [3] T. Zhou, L. Lü and Y.-C. Zhang, "Predicting missing links via local information",
   The European Physical Journal B 71(4), 623–630, 2009.
.. [4] A. Bordes, N. Usunier, A. Garcia-Durán, J. Weston and O. Yakhnenko, "Translating
   embeddings for modeling multi-relational data", NIPS 2013 (the filtered ranking
   setting).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

from graph_service.analysis.graphs import filter_links
from graph_service.analysis.recommend import (
    RecommenderIndex,
    RecommendWeights,
    actor_map,
    candidate_category,
    looks_for,
    score_candidates,
)
from graph_service.domain import PAIRING_LINK_TYPES, REGION_CODE_LENGTHS

__all__ = [
    "EVALUATED_LINK_TYPES",
    "METHODS",
    "EvaluationReport",
    "EvaluationRow",
    "HeldOutTie",
    "evaluate",
    "pool",
]

FloatArray = npt.NDArray[np.float64]

#: The methods of a report, in order.
METHODS: Final[tuple[str, ...]] = (
    "recommender",
    "random",
    "preferential_attachment",
    "adamic_adar",
    "proximity",
)
#: The ties hidden and predicted.
EVALUATED_LINK_TYPES: Final[tuple[str, ...]] = PAIRING_LINK_TYPES
_ADMIN_SCALE: Final[tuple[float, ...]] = (1.0, 0.75, 0.5, 0.25)


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    """One method's results: ``hits[i]`` is hits@``k[i]`` of the report."""

    method: str
    hits: tuple[float, ...]
    mrr: float
    n: int


@dataclass(frozen=True, slots=True)
class HeldOutTie:
    """A hidden tie: the query, the answer and the links between them (actor ids)."""

    query: str
    answer: str
    link_type: str
    links: tuple[str, ...]
    valid_from: str | None


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """Metrics of every method, overall and per link type, and what was held out.

    ``eligible`` counts the ties that could be held out; ``skipped`` counts ties left out of
    the evaluation, by reason (``no_village``: neither end is a village, e.g. a bank and a
    firm's branch; ``not_candidate``: the other end of a village is not a candidate, e.g. a
    town committee; ``undated``: no ``valid_from`` in a time split; ``not_in_snapshot``: an
    end is not valid on the day the index was built; ``still_partners``: another membership
    keeps the two ends partners after hiding). ``cutoff`` is the first day of the
    held-out ties in a time split (the index is built as of the day before).
    """

    split: str
    holdout: float
    seed: int
    k: tuple[int, ...]
    rows: tuple[EvaluationRow, ...]
    by_type: dict[str, tuple[EvaluationRow, ...]]
    eligible: int
    held_out: int
    evaluated: int
    skipped: dict[str, int]
    candidates_mean: float
    #: Held-out answers the recommender's rules left out of the candidates (misses for all).
    filtered_answers: int
    cutoff: str | None

    def row(self, method: str) -> EvaluationRow:
        """The overall row of ``method``; ``KeyError`` if there is none."""
        for r in self.rows:
            if r.method == method:
                return r
        raise KeyError(method)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------
# Ranking metrics
# ---------------------------------------------------------------------------------------


def _harmonic(n: int) -> float:
    return sum(1.0 / r for r in range(1, n + 1))


def _expected(scores: FloatArray, answer: int, ks: Sequence[int]) -> tuple[list[float], float]:
    """Hits@k and reciprocal rank of ``answer`` in expectation over the order of ties."""
    a = scores[answer]
    better = int(np.count_nonzero(scores > a))
    tied = int(np.count_nonzero(scores == a))
    hits = [min(1.0, max(0.0, (k - better) / tied)) for k in ks]
    if tied == 1:
        return hits, 1.0 / (better + 1)
    rr = (_harmonic(better + tied) - _harmonic(better)) / tied
    return hits, rr


# ---------------------------------------------------------------------------------------
# Held-out ties
# ---------------------------------------------------------------------------------------


def _ties(H: nx.MultiDiGraph, link_types: Sequence[str]) -> tuple[list[HeldOutTie], Counter[str]]:
    """The evaluable ties of ``H`` (one per pair of actors) and the counts of the rest."""
    unit_of = actor_map(H)
    skipped: Counter[str] = Counter()
    groups: dict[tuple[str, str], list[tuple[str, str, str, str, str | None]]] = defaultdict(list)
    for a, b, key, d in H.edges(keys=True, data=True):
        type_ = d.get("type")
        if type_ not in link_types:
            continue
        ua, ub = unit_of.get(str(a)), unit_of.get(str(b))
        if ua is None or ub is None or ua == ub:
            continue
        # The helped end of a pairing asks; a co-building is asked from its first end.
        query, answer = (ub, ua) if type_ == "PAIRS_WITH" else (ua, ub)
        pair = (min(ua, ub), max(ua, ub))
        groups[pair].append((str(type_), query, answer, str(key), d.get("valid_from")))
    out: list[HeldOutTie] = []
    for pair in sorted(groups):
        links = sorted(groups[pair], key=lambda t: (t[0] != "PAIRS_WITH", t[3]))
        type_, query, answer, _, _ = links[0]
        cq, ca = (candidate_category(H.nodes[x]) for x in (query, answer))
        if cq is not None and ca in looks_for(cq):
            pass
        elif ca is not None and cq in looks_for(ca):
            query, answer = answer, query  # ask from the end that can ask for the other
        else:
            skipped["not_candidate" if "Village" in (cq, ca) else "no_village"] += 1
            continue
        dates = [t[4] for t in links if t[4]]
        out.append(
            HeldOutTie(
                query=query,
                answer=answer,
                link_type=type_,
                links=tuple(t[3] for t in links),
                valid_from=min(dates) if len(dates) == len(links) else None,
            )
        )
    return out, skipped


def _split(
    ties: list[HeldOutTie], split: str, holdout: float, seed: int, skipped: Counter[str]
) -> tuple[list[HeldOutTie], dt.date | None]:
    if not ties:
        return [], None
    if split == "random":
        order = list(ties)
        random.Random(seed).shuffle(order)
        return order[: max(1, round(holdout * len(order)))], None
    dated = sorted((t for t in ties if t.valid_from), key=lambda t: (str(t.valid_from), t.query))
    skipped["undated"] += len(ties) - len(dated)
    if not dated:
        return [], None
    first = dated[len(dated) - max(1, round(holdout * len(dated)))]
    cutoff = str(first.valid_from)
    return [t for t in dated if str(t.valid_from) >= cutoff], dt.date.fromisoformat(cutoff[:10])


# ---------------------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------------------


def _baselines(
    index: RecommenderIndex, query: str, cand: npt.NDArray[np.int64], rng: np.random.Generator
) -> dict[str, FloatArray]:
    ids = index.ids
    degree = np.array([index.degree.get(ids[int(i)], 0) for i in cand], dtype=np.float64)
    aa: dict[str, float] = defaultdict(float)
    for z in index.adjacency.get(query, {}):
        k = index.degree[z]
        if k < 2:
            continue
        for c in index.adjacency[z]:
            if c != query:
                aa[c] += 1.0 / math.log(k)
    adamic = np.array([aa.get(ids[int(i)], 0.0) for i in cand], dtype=np.float64)
    code = index.actor_codes.get(query, "")
    proximity = np.zeros(len(cand))
    for level in range(index.code_keys.shape[0] - 1, -1, -1):
        length = REGION_CODE_LENGTHS[::-1][level]
        if len(code) < length or not code[:length].isdigit():
            continue
        same = index.code_keys[level, cand] == int(code[:length])
        proximity = np.where(same, _ADMIN_SCALE[level], proximity)
    return {
        "random": rng.random(len(cand)),
        "preferential_attachment": degree,
        "adamic_adar": adamic,
        "proximity": proximity,
    }


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def evaluate(
    G: nx.MultiDiGraph,
    seed: int = 0,
    holdout: float = 0.2,
    split: Literal["random", "time"] = "random",
    k: Sequence[int] = (5, 10),
    *,
    weights: RecommendWeights | Mapping[str, float] | None = None,
    tie_weight: Literal["strength", "count"] = "strength",
    as_of: dt.date | None = None,
    link_types: Iterable[str] = EVALUATED_LINK_TYPES,
) -> EvaluationReport:
    """Hide a share of the pairing and co-building ties, recommend, and score the ranking.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export of a scope (a county, the seed graph …), with structural links.
    seed : int
        Seeds the random split and the random baseline.
    holdout : float
        In ``(0, 1)``: the share of ties to hide (at least one).
    split : {"random", "time"}
        ``random``: a seeded uniform sample of the ties, the index built from all other
        links (valid on ``as_of`` when given). ``time``: the ties with the latest
        ``valid_from`` (every tie from the cutoff day on, so ties on the cutoff day go
        together; undated ties are skipped), the index built **as of the day before the
        cutoff** — the network a planner saw then.
    k : sequence of int
        The cut-offs of hits@k.
    weights, tie_weight
        Passed to the recommender (:class:`~graph_service.analysis.recommend.RecommendWeights`,
        :meth:`~graph_service.analysis.recommend.RecommenderIndex.build`).
    as_of : datetime.date, optional
        Read only what is valid on this day (random split only).
    link_types : iterable of str
        The ties to hide; ``PAIRS_WITH`` and ``CO_BUILDS`` by default.

    Returns
    -------
    EvaluationReport
        One row per method of :data:`METHODS` (hits@k, MRR, number of queries), the same per
        link type, and the counts of what was held out and skipped.

    Notes
    -----
    A tie is one pair of actors (party organizations merged into their villages and
    enterprises), with all its hidden links. The query of a pairing is its helped end, of a
    co-building its first end; a tie whose query cannot be a target, or whose answer is
    not a candidate of the query (a bank and a firm's branch), is skipped and counted.

    References
    ----------
    .. [1] D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social
       networks", JASIST 58(7), 1019–1031, 2007.
    .. [2] L. A. Adamic and E. Adar, "Friends and neighbors on the Web", Social Networks
       25(3), 211–230, 2003.
    """
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    if split not in ("random", "time"):
        raise ValueError(f"split must be 'random' or 'time', got {split!r}")
    ks = tuple(int(x) for x in k)
    if not ks or min(ks) < 1:
        raise ValueError(f"k must be positive cut-offs, got {k!r}")
    if split == "time" and as_of is not None:
        raise ValueError("a time split sets its own as_of (the day before the cutoff)")
    types = tuple(dict.fromkeys(link_types))
    H = filter_links(G, None, as_of)
    ties, skipped = _ties(H, types)
    held, cutoff = _split(ties, split, holdout, seed, skipped)
    index_day = cutoff - dt.timedelta(days=1) if cutoff is not None else as_of
    hidden = [key for t in held for key in t.links]
    # Built on the first held-out tie: a split that holds nothing out (undated ties in a
    # time split) costs nothing.
    index: RecommenderIndex | None = None
    answers: defaultdict[str, set[str]] = defaultdict(set)
    for t in held:
        answers[t.query].add(t.answer)

    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    sizes: list[int] = []
    rng = np.random.default_rng(seed)
    evaluated = 0
    filtered = 0
    for t in held:
        if index is None:
            index = RecommenderIndex.build(
                G, index_day, tie_weight=tie_weight, exclude_links=hidden
            )
        if t.query not in index.unit_of or t.answer not in index.position:
            skipped["not_in_snapshot"] += 1
            continue
        if t.answer in index.partners.get(t.query, frozenset()):
            skipped["still_partners"] += 1
            continue
        relation: Literal["pairing", "co_building"] = (
            "pairing" if t.link_type == "PAIRS_WITH" else "co_building"
        )
        scored = score_candidates(
            index,
            t.query,
            weights=weights,
            relation=relation,
            exclude=answers[t.query] - {t.answer},
        )
        evaluated += 1
        sizes.append(len(scored.index))
        where = np.flatnonzero(scored.index == index.position[t.answer])
        if len(where) == 0:
            # The recommender's rules left the answer out (a helper without a free place):
            # a miss for every method, as all rank the same candidates.
            filtered += 1
            for method in METHODS:
                for group in ("all", t.link_type):
                    sums[group][f"{method}:rr"].append(0.0)
                    for kk in ks:
                        sums[group][f"{method}:{kk}"].append(0.0)
            continue
        j = int(where[0])
        scores = {"recommender": scored.score, **_baselines(index, t.query, scored.index, rng)}
        for method in METHODS:
            hits, rr = _expected(scores[method], j, ks)
            for group in ("all", t.link_type):
                row = sums[group]
                row[f"{method}:rr"].append(rr)
                for kk, h in zip(ks, hits, strict=True):
                    row[f"{method}:{kk}"].append(h)

    return EvaluationReport(
        split=split,
        holdout=holdout,
        seed=seed,
        k=ks,
        rows=_rows(sums, "all", ks),
        by_type={group: _rows(sums, group, ks) for group in sorted(set(sums) - {"all"})},
        eligible=len(ties),
        held_out=len(held),
        evaluated=evaluated,
        skipped=dict(sorted(skipped.items())),
        candidates_mean=float(np.mean(sizes)) if sizes else 0.0,
        filtered_answers=filtered,
        cutoff=cutoff.isoformat() if cutoff is not None else None,
    )


def _rows(
    sums: Mapping[str, Mapping[str, list[float]]], group: str, ks: tuple[int, ...]
) -> tuple[EvaluationRow, ...]:
    """Each method's mean hits@k and MRR over one group's queries."""
    row = sums.get(group, {})
    out = []
    for method in METHODS:
        rr = row.get(f"{method}:rr", [])
        n = len(rr)
        out.append(
            EvaluationRow(
                method=method,
                hits=tuple(float(np.mean(row[f"{method}:{kk}"])) if n else 0.0 for kk in ks),
                mrr=float(np.mean(rr)) if n else 0.0,
                n=n,
            )
        )
    return tuple(out)


def pool(reports: Iterable[EvaluationReport]) -> tuple[EvaluationRow, ...]:
    """The rows of several reports pooled over their queries (weighted by ``n``).

    All reports must share ``k``; a method's hits and MRR are the means over every query
    of every report (micro-average), so large scopes count more.

    References
    ----------
    .. [1] D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social
       networks", JASIST 58(7), 1019–1031, 2007.
    """
    totals: dict[str, list[float]] = {}
    ks: tuple[int, ...] | None = None
    for report in reports:
        if ks is None:
            ks = report.k
        elif report.k != ks:
            raise ValueError("reports with different k cannot be pooled")
        for row in report.rows:
            acc = totals.setdefault(row.method, [0.0] * (len(row.hits) + 2))
            for i, h in enumerate(row.hits):
                acc[i] += h * row.n
            acc[-2] += row.mrr * row.n
            acc[-1] += row.n
    out = []
    for method in METHODS:
        if method not in totals:
            continue
        acc = totals[method]
        n = int(acc[-1])
        out.append(
            EvaluationRow(
                method=method,
                hits=tuple(acc[i] / n if n else 0.0 for i in range(len(acc) - 2)),
                mrr=acc[-2] / n if n else 0.0,
                n=n,
            )
        )
    return tuple(out)
