"""Scoring: every candidate of a target, filtered, with its six components and the score.

:func:`score_candidates` is what ranking
(:func:`~graph_service.analysis.recommend.ranking.recommend_partners`), evaluation and
region-wide assignment call. The components are industry fit, proximity, capacity,
structural closeness (weighted Adamic–Adar and resource allocation on the tie graph, with
shared joint bodies), strength or priority, and the 四项清单 needs, each in ``[0, 1]``; the
score is their weighted mean.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from graph_service.analysis.recommend.index import RecommenderIndex
from graph_service.analysis.recommend.index_parts import BoolArray, FloatArray, IntArray
from graph_service.analysis.recommend.results import ScoredCandidates
from graph_service.analysis.recommend.vocabulary import (
    CATEGORIES,
    COMPLEMENTARY_INDUSTRIES,
    COMPONENTS,
    DISTANCES,
    LEVELS,
    NEED_KINDS,
    NEED_RESOURCES,
    PROXIMITY_SCALE,
    VILLAGE,
    WANTS,
    code_key,
)
from graph_service.analysis.recommend.weights import RecommendWeights

__all__ = [
    "NO_COMMON_NEIGHBOURS",
    "CommonNeighbours",
    "common_neighbours",
    "free_share",
    "score_candidates",
    "structural_value",
    "target_keys",
]


def target_keys(index: RecommenderIndex, target: str) -> list[int]:
    code = index.actors.codes.get(target, "")
    return [code_key(code, length) for length, _ in LEVELS]


def _proximity(index: RecommenderIndex, target: str, idx: IntArray) -> FloatArray:
    keys = target_keys(index, target)
    out = np.zeros(len(idx))
    # Deepest level first: a shared town wins over a shared county.
    for level in range(len(LEVELS) - 1, -1, -1):
        if keys[level] < 0:
            continue
        same = index.candidates.code_keys[level, idx] == keys[level]
        out = np.where(same, PROXIMITY_SCALE[level], out)
    return out


def _industry(index: RecommenderIndex, target: str, n: int) -> FloatArray:
    """Industry fit of every candidate (full length): shared 1, complementary 0.5."""
    out = np.zeros(n)
    own = index.industries.of_actor.get(target, frozenset())
    for name in own:
        for other, members in index.industries.members.items():
            if other != name and frozenset({name, other}) in COMPLEMENTARY_INDUSTRIES:
                out[members] = np.maximum(out[members], 0.5)
    for name in own:
        shared = index.industries.members.get(name)
        if shared is not None:
            out[shared] = 1.0
    return out


@dataclass(frozen=True, slots=True)
class CommonNeighbours:
    """What a target shares with each actor two hops away on the weighted tie graph.

    Each mapping is keyed by the actor two hops away; a neighbour ``z`` of degree ``k_z``
    adds ``√(w_tz·w_zc) / ln k_z`` to the weighted Adamic–Adar index and ``√(w_tz·w_zc) /
    k_z`` to the weighted resource allocation (neighbours of degree 1 add nothing).
    """

    adamic_adar: dict[str, float]
    resource_allocation: dict[str, float]
    #: The common neighbours, in the order they were met.
    via: dict[str, list[str]]

    def __bool__(self) -> bool:
        return bool(self.via)


def common_neighbours(index: RecommenderIndex, target: str) -> CommonNeighbours:
    """The weighted common-neighbour signals of ``target`` with every actor two hops away."""
    aa: dict[str, float] = {}
    ra: dict[str, float] = {}
    via: dict[str, list[str]] = {}
    adjacency, degree = index.ties.adjacency, index.ties.degree
    for z, w_tz in adjacency.get(target, {}).items():
        k = degree[z]
        if k < 2:
            continue
        inv_log, inv_k = 1.0 / math.log(k), 1.0 / k
        for c, w_zc in adjacency[z].items():
            if c == target:
                continue
            w = math.sqrt(w_tz * w_zc)
            if c in via:
                aa[c] += w * inv_log
                ra[c] += w * inv_k
                via[c].append(z)
            else:
                aa[c] = w * inv_log
                ra[c] = w * inv_k
                via[c] = [z]
    return CommonNeighbours(aa, ra, via)


#: No common neighbours (a target without ties).
NO_COMMON_NEIGHBOURS: Final = CommonNeighbours({}, {}, {})


def structural_value(adamic_adar: float, resource_allocation: float, bodies: int) -> float:
    """The structural component: ``1 − exp(−AA_w − RA_w) · 0.5^bodies``."""
    return 1.0 - math.exp(-adamic_adar - resource_allocation) * 0.5**bodies


def _filter_mask(
    index: RecommenderIndex,
    target: str,
    wants: tuple[int, ...],
    partner_labels: Iterable[str] | None,
    max_distance: str | None,
    program: str | None,
) -> BoolArray:
    mask = np.isin(index.candidates.category, np.array(wants, dtype=np.int64))
    if partner_labels is not None:
        labels = list(partner_labels)
        unknown = sorted(set(labels) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown partner labels {unknown}; known: {list(CATEGORIES)}")
        cats = [CATEGORIES.index(label) for label in labels]
        mask &= np.isin(index.candidates.category, np.array(cats, dtype=np.int64))
    if max_distance is not None:
        if max_distance not in DISTANCES:
            raise ValueError(f"max_distance must be one of {list(DISTANCES)}, got {max_distance!r}")
        level = [length for length, _ in LEVELS].index(DISTANCES[max_distance])
        key = target_keys(index, target)[level]
        mask &= (index.candidates.code_keys[level] == key) & (key >= 0)
    if program is not None:
        if program not in index.programs:
            raise ValueError(f"unknown program {program!r}")
        found = index.programs[program]
        # A village looks for the program's helpers, a helper for the villages it helps.
        wanted = (
            found.helper_categories
            if index.category_of(target) == VILLAGE
            else found.helped_categories
        )
        allowed = np.isin(index.candidates.category, np.array(sorted(wanted), dtype=np.int64))
        for m in found.participants:
            pos = index.candidates.position.get(m)
            if pos is not None:
                allowed[pos] = True
        mask &= allowed
    pos = index.candidates.position.get(target)
    if pos is not None:
        mask[pos] = False
    return mask


def score_candidates(
    index: RecommenderIndex,
    target: str,
    partner_labels: Iterable[str] | None = None,
    max_distance: str | None = None,
    program: str | None = None,
    rejected: Iterable[str | tuple[str, str]] = frozenset(),
    weights: RecommendWeights | Mapping[str, float] | None = None,
    *,
    relation: Literal["pairing", "co_building"] = "pairing",
    include_full: bool = False,
    exclude: Iterable[str] = (),
    within: Collection[str] | BoolArray | None = None,
) -> ScoredCandidates:
    """Score every candidate of ``target`` (no ranking, no explanations).

    Parameters are those of :func:`recommend_partners`; ``target`` must already be an actor
    id (:meth:`RecommenderIndex.resolve`). ``exclude`` leaves out further candidate ids
    (evaluation uses it for the other held-out answers of a query); ``within`` keeps only
    the given candidate ids, or the candidates where a boolean array aligned with
    :attr:`RecommenderIndex.ids` is true (the helpers of an assignment).

    Returns
    -------
    ScoredCandidates
        Candidates in index order (ascending id), their component matrix and scores.

    References
    ----------
    .. [1] D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social
       networks", JASIST 58(7), 1019–1031, 2007.
    .. [2] L. A. Adamic and E. Adar, "Friends and neighbors on the Web", Social Networks
       25(3), 211–230, 2003.
    .. [3] T. Zhou, L. Lü and Y.-C. Zhang, "Predicting missing links via local information",
       The European Physical Journal B 71(4), 623–630, 2009.
    """
    w = RecommendWeights.coerce(weights, relation)
    cat = index.category_of(target)
    if cat is None:
        label = index.actors.labels.get(target, "?")
        raise ValueError(
            f"{target!r} ({label}) cannot be a target: give a village, an enterprise, an "
            "institution or a joint body (or the party organization of one)"
        )
    mask = _filter_mask(index, target, WANTS[cat], partner_labels, max_distance, program)
    if relation == "pairing":
        if cat == VILLAGE:
            # 以强带弱: a village helps another only when it is known not to be weak.
            mask &= ~index.standing.weak & (
                (index.candidates.category != VILLAGE) | index.standing.known
            )
            if not include_full:
                mask &= free_share(index.places.capacity, index.places.load) > 0
        elif not include_full:
            mask &= free_share(index.places.max_helpers, index.places.helpers_of) > 0
    excluded_partners, excluded_rejected = _exclude(index, target, mask, rejected, exclude, within)
    idx = np.flatnonzero(mask).astype(np.int64)
    comps = _components(index, target, cat, idx)
    wv = np.array([w.as_dict()[c] for c in COMPONENTS])
    score = (wv @ comps) / w.total if len(idx) else np.zeros(0)
    return ScoredCandidates(target, idx, comps, score, excluded_partners, excluded_rejected)


def _exclude(
    index: RecommenderIndex,
    target: str,
    mask: BoolArray,
    rejected: Iterable[str | tuple[str, str]],
    exclude: Iterable[str],
    within: Collection[str] | BoolArray | None,
) -> tuple[int, int]:
    """Clear from ``mask`` what is not ``within``, the target's partners, rejected pairs and
    ``exclude``; returns how many partners and rejected pairs were still in it (``within``
    first, so a plan learns how many of its own helpers its rejections took away)."""
    if isinstance(within, np.ndarray):
        mask &= within.astype(np.bool_)
    elif within is not None:
        keep = np.zeros(len(index), dtype=np.bool_)
        for item in within:
            pos = index.candidates.position.get(index.actors.unit_of.get(item, item))
            if pos is not None:
                keep[pos] = True
        mask &= keep
    partners = index.ties.partners.get(target, frozenset())
    excluded_partners = 0
    for p in partners:
        pos = index.candidates.position.get(p)
        if pos is not None and mask[pos]:
            mask[pos] = False
            excluded_partners += 1
    excluded_rejected = 0
    for item in rejected:
        if isinstance(item, tuple):
            a, b = (index.actors.unit_of.get(x, x) for x in item)
            other = b if a == target else (a if b == target else None)
        else:
            other = index.actors.unit_of.get(item, item)
        pos = index.candidates.position.get(other) if other is not None else None
        if pos is not None and mask[pos]:
            mask[pos] = False
            excluded_rejected += 1
    for item in exclude:
        pos = index.candidates.position.get(index.actors.unit_of.get(item, item))
        if pos is not None:
            mask[pos] = False
    return excluded_partners, excluded_rejected


def _components(index: RecommenderIndex, target: str, cat: int, idx: IntArray) -> FloatArray:
    """The component matrix (one row per name of :data:`COMPONENTS`) of candidates ``idx``."""
    n = len(idx)
    comps = np.zeros((len(COMPONENTS), n))
    if n == 0:
        return comps
    comps[0] = _industry(index, target, len(index))[idx]
    comps[1] = _proximity(index, target, idx)
    if cat == VILLAGE:
        comps[2] = free_share(index.places.capacity[idx], index.places.load[idx])
        comps[4] = index.standing.strength[idx]
        own = index.lists.needs.get(target, frozenset())
        if own:
            met = np.zeros(n)
            for term in own:
                met += index.lists.need_met[term][idx]
            comps[5] = met / len(own)
    else:
        comps[2] = free_share(index.places.max_helpers[idx], index.places.helpers_of[idx])
        comps[4] = index.standing.priority[idx]
        comps[5] = _needs_met_by(index, target, idx)
    structure = common_neighbours(index, target)
    bodies_of = index.ties.bodies_of
    own_bodies = bodies_of.get(target, frozenset())
    if structure:
        row = np.zeros(n)
        local = np.full(len(index), -1, dtype=np.int64)
        local[idx] = np.arange(n)
        position = index.candidates.position
        for c, aa in structure.adamic_adar.items():
            pos = position.get(c)
            if pos is None or local[pos] < 0:
                continue
            bodies = len(own_bodies & bodies_of.get(c, frozenset())) if own_bodies else 0
            row[local[pos]] = structural_value(aa, structure.resource_allocation[c], bodies)
        comps[3] = row
    return comps


def free_share(capacity: FloatArray, used: FloatArray) -> FloatArray:
    """``(capacity − used) / capacity`` clipped to ``[0, 1]``; 1 when unbounded, 0 when none."""
    out = np.zeros(len(capacity))
    unbounded = np.isinf(capacity)
    finite = ~unbounded & (capacity > 0)
    out[unbounded] = 1.0
    out[finite] = np.clip(capacity[finite] - used[finite], 0.0, None) / capacity[finite]
    return out


def _needs_satisfied_by(index: RecommenderIndex, helper: str) -> frozenset[str]:
    """The need terms ``helper`` meets, by its resources, products or kind."""
    offers = index.lists.offers.get(helper, frozenset())
    kind = index.actors.kinds.get(helper)
    return frozenset(
        term
        for term in index.lists.need_met
        if (offers & (NEED_RESOURCES.get(term, frozenset()) | {term}))
        or kind in NEED_KINDS.get(term, frozenset())
    )


def _needs_met_by(index: RecommenderIndex, helper: str, idx: IntArray) -> FloatArray:
    """The share of each candidate village's needs that ``helper`` meets."""
    met = _needs_satisfied_by(index, helper)
    out = np.zeros(len(idx))
    if not met:
        return out
    needs, ids = index.lists.needs, index.candidates.ids
    for j, p in enumerate(idx):
        own = needs.get(ids[int(p)])
        if own:
            out[j] = len(own & met) / len(own)
    return out
