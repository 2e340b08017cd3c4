"""Ranking: the best partners of a target, each with its score and the reasons behind it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np

from graph_service.analysis.recommend.explanations import explain
from graph_service.analysis.recommend.index import RecommenderIndex
from graph_service.analysis.recommend.results import (
    Candidate,
    Reason,
    Recommendation,
    ScoredCandidates,
)
from graph_service.analysis.recommend.scoring import (
    NO_COMMON_NEIGHBOURS,
    CommonNeighbours,
    common_neighbours,
    score_candidates,
)
from graph_service.analysis.recommend.vocabulary import CATEGORIES, COMPONENTS, VILLAGE, WANTS
from graph_service.analysis.recommend.weights import RecommendWeights

__all__ = ["recommend_partners"]


def recommend_partners(
    index: RecommenderIndex,
    target: str,
    top: int = 10,
    partner_labels: Iterable[str] | None = None,
    max_distance: Literal["town", "county", "city", "province"] | None = None,
    program: str | None = None,
    rejected: Iterable[str | tuple[str, str]] = frozenset(),
    weights: RecommendWeights | Mapping[str, float] | None = None,
    *,
    relation: Literal["pairing", "co_building"] = "pairing",
    include_full: bool = False,
) -> Recommendation:
    """Ranked partners for ``target``, each with a score and its reasons.

    Parameters
    ----------
    index : RecommenderIndex
        The scope, built once with :meth:`RecommenderIndex.build`.
    target : str
        A village or its party organization (candidates: enterprises, institutions, other
        villages and joint bodies to join), or an enterprise, institution or joint body, or
        the party organization of one (candidates: villages).
    top : int
        How many candidates to return.
    partner_labels : iterable of str, optional
        Keep candidates of these :data:`CATEGORIES` (``"PartyOrganization"`` = joint
        bodies).
    max_distance : {"town", "county", "city", "province"}, optional
        Keep candidates sharing at least this division with the target (by code: a
        county-level enterprise does not share a town with anyone).
    program : str, optional
        A Program id (百企帮百村 …): keep the program's participants (``PART_OF_PROGRAM``)
        and candidates of the kinds the program's pairings have used on that side (its
        helpers are enterprises → every enterprise). ``ValueError`` if unknown.
    rejected : iterable, optional
        Pairs ``(a, b)`` a planner has rejected (either order, either may be given as a
        party organization), or bare partner ids; these candidates are left out.
    weights : RecommendWeights or mapping, optional
        Component weights (:class:`RecommendWeights`; a mapping overrides the named
        defaults of ``relation``).
    relation : {"pairing", "co_building"}
        What the partner is sought for. ``pairing`` (结对帮扶, the default): a village's
        candidates leave out weak villages and villages of unknown standing (no collective
        income, no ``weak`` flag: 以强带弱 needs a village known to be strong) and helpers
        without a free place; a helper's candidates leave out villages that
        already have their most helpers. ``co_building`` (联建共建 between peers): no such
        filters, and the co-building weights (:meth:`RecommendWeights.defaults`).
    include_full : bool
        Keep helpers (or villages) without a free place in a pairing; their capacity
        component is 0.

    Returns
    -------
    Recommendation
        The best ``top`` candidates by score (ties by id), each with one reason per
        component. Existing partners (:data:`PARTNER_LINK_TYPES` in either direction,
        through organizations) and rejected pairs are never returned.

    Raises
    ------
    networkx.NodeNotFound
        If ``target`` is not in the scope.
    ValueError
        If ``target`` cannot be a target (a region, a town committee …) or a filter is
        invalid.

    Notes
    -----
    Components (each in ``[0, 1]``; see the module notes): industry fit, proximity,
    capacity, structural (weighted Adamic–Adar [2]_ and resource allocation [3]_ on the tie
    graph in the weighted form of [4]_, with shared joint bodies), strength or priority,
    and 四项清单 needs. Score = ``Σ wᵢ·vᵢ / Σ wᵢ``. Cost: O(candidates + Σ degrees of the
    target's neighbours), a few milliseconds for a thousand candidates.

    References
    ----------
    .. [1] D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social
       networks", JASIST 58(7), 1019–1031, 2007.
    .. [2] L. A. Adamic and E. Adar, "Friends and neighbors on the Web", Social Networks
       25(3), 211–230, 2003.
    .. [3] T. Zhou, L. Lü and Y.-C. Zhang, "Predicting missing links via local information",
       The European Physical Journal B 71(4), 623–630, 2009.
    .. [4] L. Lü and T. Zhou, "Link prediction in weighted networks: The role of weak ties",
       Europhysics Letters 89(1), 18001, 2010.
    """
    # Why this is long: only by its docstring, the public reference of every parameter;
    # the body is about 55 lines.
    if top < 0:
        raise ValueError(f"top must be non-negative, got {top}")
    w = RecommendWeights.coerce(weights, relation)
    actor = index.resolve(target)
    scored = score_candidates(
        index,
        actor,
        partner_labels,
        max_distance,
        program,
        rejected,
        w,
        relation=relation,
        include_full=include_full,
    )
    cat = index.category_of(actor)
    assert cat is not None
    order = np.argsort(-scored.score, kind="stable")[:top]
    structure = common_neighbours(index, actor) if len(order) else NO_COMMON_NEIGHBOURS
    wd = w.as_dict()
    names = list(COMPONENTS)
    if cat != VILLAGE:
        names[4] = "priority"
    candidates = tuple(
        _candidate(index, actor, cat, scored, int(j), rank, names, wd, w.total, structure)
        for rank, j in enumerate(order, start=1)
    )
    return Recommendation(
        target=actor,
        asked=target,
        target_name=index.actors.names.get(actor, actor),
        target_label=index.actors.labels.get(actor, ""),
        looking_for=tuple(CATEGORIES[c] for c in WANTS[cat]),
        relation=relation,
        candidates=candidates,
        considered=len(scored.index),
        excluded_partners=scored.excluded_partners,
        excluded_rejected=scored.excluded_rejected,
        weights=wd,
        as_of=index.as_of,
    )


def _candidate(
    index: RecommenderIndex,
    actor: str,
    cat: int,
    scored: ScoredCandidates,
    j: int,
    rank: int,
    names: Sequence[str],
    weights: Mapping[str, float],
    total: float,
    structure: CommonNeighbours,
) -> Candidate:
    """Row ``j`` of ``scored`` as the candidate of rank ``rank``, with a reason per
    component (``names``: the components as reasons call them; ``total``: the sum of
    ``weights``)."""
    pos = int(scored.index[j])
    partner = index.candidates.ids[pos]
    reasons = []
    for c in range(len(COMPONENTS)):
        value = float(scored.components[c, j])
        text = explain(index, actor, cat, partner, names[c], value, structure)
        reasons.append(
            Reason(
                name=names[c],
                value=value,
                weight=weights[COMPONENTS[c]],
                explanation=text.zh,
                explanation_en=text.en,
                contribution=weights[COMPONENTS[c]] * value / total,
            )
        )
    return Candidate(
        rank=rank,
        partner_id=partner,
        name=index.candidates.names[pos],
        label=index.candidates.labels[pos],
        kind=index.candidates.kinds[pos],
        region_code=index.candidates.codes[pos] or None,
        score=float(scored.score[j]),
        reasons=tuple(reasons),
    )
