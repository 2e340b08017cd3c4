"""Explanations: the short text behind each component of a candidate's score.

"同属龙泉镇", "共同产业: 苹果", "需求 冷库 ↔ 资源 冷库" — one function per component, called by
:func:`explain` for the candidates a ranking returns.
"""

from __future__ import annotations

import math

from graph_service.analysis.recommend.index import RecommenderIndex
from graph_service.analysis.recommend.scoring import CommonNeighbours
from graph_service.analysis.recommend.vocabulary import (
    COMPLEMENTARY_INDUSTRIES,
    LEVELS,
    NEED_KINDS,
    NEED_RESOURCES,
    VILLAGE,
)

__all__ = ["explain"]


def explain(
    index: RecommenderIndex,
    target: str,
    cat: int,
    partner: str,
    name: str,
    value: float,
    structure: CommonNeighbours,
) -> str:
    """Why ``partner`` scores ``value`` on component ``name`` for ``target`` (of category
    ``cat``); ``structure`` holds the target's common neighbours
    (:func:`~graph_service.analysis.recommend.scoring.common_neighbours`)."""
    if name == "industry":
        return _industry(index, target, partner)
    if name == "proximity":
        return _proximity(index, target, partner)
    if name == "capacity":
        return _capacity(index, cat, index.candidates.position[partner])
    if name == "structural":
        return _structural(index, target, partner, structure)
    if name == "strength":
        return _strength(index, index.candidates.position[partner])
    if name == "priority":
        pos = index.candidates.position[partner]
        text = index.standing.size_text[pos]
        return ("薄弱村, " if index.standing.weak[pos] else "非薄弱村, ") + text
    if name == "needs":
        return _needs(index, target, cat, partner)
    return f"{value:.2f}"


def _industry(index: RecommenderIndex, target: str, partner: str) -> str:
    own = index.industries.of_actor.get(target, frozenset())
    theirs = index.industries.of_actor.get(partner, frozenset())
    shared = sorted(own & theirs)
    if shared:
        return "共同产业: " + "、".join(shared)
    pairs = sorted(
        f"{a} ↔ {b}" for a in own for b in theirs if frozenset({a, b}) in COMPLEMENTARY_INDUSTRIES
    )
    if pairs:
        return "互补产业: " + "、".join(pairs[:3])
    if not own or not theirs:
        return "产业未知" if not own else f"对方产业未知 (本方: {'、'.join(sorted(own))})"
    return f"产业不同 ({'、'.join(sorted(own))} / {'、'.join(sorted(theirs))})"


def _shared_level(index: RecommenderIndex, a: str, b: str) -> tuple[int, str] | None:
    """The deepest level of :data:`LEVELS` whose code ``a`` and ``b`` share, and the code."""
    ca, cb = index.actors.codes.get(a, ""), index.actors.codes.get(b, "")
    for level, (length, _) in enumerate(LEVELS):
        if len(ca) >= length and len(cb) >= length and ca[:length] == cb[:length]:
            return level, ca[:length]
    return None


def _proximity(index: RecommenderIndex, target: str, partner: str) -> str:
    common = _shared_level(index, target, partner)
    if common is None:
        ca, cb = index.actors.codes.get(target), index.actors.codes.get(partner)
        return "区划代码缺失" if not ca or not cb else "不同省份"
    level, code = common
    return f"同属{index.region_name(code)}" + (
        "" if code in index.actors.region_names else LEVELS[level][1]
    )


def _capacity(index: RecommenderIndex, cat: int, pos: int) -> str:
    places = index.places
    if cat == VILLAGE:
        cap, load = float(places.capacity[pos]), float(places.load[pos])
        if math.isinf(cap):
            return "联建组织, 可吸纳新成员"
        free = max(0.0, cap - load)
        return (
            f"已帮扶 {load:g}/{cap:g}, 尚余 {free:g} 个名额"
            if free
            else (f"名额已满 ({load:g}/{cap:g})")
        )
    mh, have = float(places.max_helpers[pos]), float(places.helpers_of[pos])
    return f"已有帮扶方 {have:g} 个 (至多 {mh:g})"


def _structural(
    index: RecommenderIndex, target: str, partner: str, structure: CommonNeighbours
) -> str:
    bodies_of, names = index.ties.bodies_of, index.actors.names
    shared_bodies = sorted(bodies_of.get(target, frozenset()) & bodies_of.get(partner, frozenset()))
    via = structure.via.get(partner)
    if via is None and not shared_bodies:
        return "网络中无共同邻居"
    parts = []
    if via is not None:
        shown = "、".join(names.get(z, z) for z in sorted(via)[:3])
        more = "…" if len(via) > 3 else ""
        parts.append(f"共同邻居 {len(via)} 个 ({shown}{more})")
        aa, ra = structure.adamic_adar[partner], structure.resource_allocation[partner]
        parts.append(f"Adamic–Adar {aa:.2f}, 资源分配 {ra:.2f}")
    if shared_bodies:
        parts.append(f"同在 {'、'.join(names.get(b, b) for b in shared_bodies[:2])}")
    return "; ".join(parts)


def _top_share(pct: float) -> str:
    """``前 k%`` for a percentile (at least 1%)."""
    return f"前 {max(1, math.ceil(100 * (1 - pct)))}%"


def _strength(index: RecommenderIndex, pos: int) -> str:
    standing = index.standing
    return (
        f"{standing.size_text[pos]} (同类{_top_share(float(standing.size_pct[pos]))}); "
        f"PageRank {_top_share(float(standing.pagerank_pct[pos]))}; "
        f"成效 {standing.outcome[pos]:.2f}"
    )


def _needs(index: RecommenderIndex, target: str, cat: int, partner: str) -> str:
    village, helper = (target, partner) if cat == VILLAGE else (partner, target)
    own = index.lists.needs.get(village, frozenset())
    if not own:
        return "村未列需求清单"
    offers = index.lists.offers.get(helper, frozenset())
    kind = index.actors.kinds.get(helper)
    parts = []
    for term in sorted(own):
        direct = sorted(offers & (NEED_RESOURCES.get(term, frozenset()) | {term}))
        if direct:
            parts.append(f"需求 {term} ↔ 资源 {direct[0]}")
        elif kind in NEED_KINDS.get(term, frozenset()):
            parts.append(f"需求 {term} ↔ {kind}")
    if not parts:
        return f"需求 {'、'.join(sorted(own))} 无对应资源"
    return "; ".join(parts)
