"""Explanations: the short text behind each component of a candidate's score.

"同属龙泉镇", "共同产业: 苹果", "需求 冷库 ↔ 资源 冷库" — one function per component, called by
:func:`explain` for the candidates a ranking returns. Each returns a
:class:`~graph_service.analysis.wording.Wording`: the Chinese text planners read and the
English beside it. A number says what it counts and on what scale; a missing kind or
industry is said to be missing, never printed as ``None``.
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
    STRENGTH_MIX,
    VILLAGE,
)
from graph_service.analysis.wording import Wording, join, listing, number, rank_share

__all__ = ["explain"]


def explain(
    index: RecommenderIndex,
    target: str,
    cat: int,
    partner: str,
    name: str,
    value: float,
    structure: CommonNeighbours,
) -> Wording:
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
        return _structural(index, target, partner, value, structure)
    if name == "strength":
        return _strength(index, index.candidates.position[partner], value)
    if name == "priority":
        return _priority(index, index.candidates.position[partner], value)
    if name == "needs":
        return _needs(index, target, cat, partner)
    return Wording(f"得分 {value:.2f} (0–1 分)", f"{value:.2f}")


def _industry(index: RecommenderIndex, target: str, partner: str) -> Wording:
    own = index.industries.of_actor.get(target, frozenset())
    theirs = index.industries.of_actor.get(partner, frozenset())
    shared = sorted(own & theirs)
    if shared:
        return Wording("共同产业: " + "、".join(shared), "shared industry: " + ", ".join(shared))
    pairs = sorted(
        f"{a} ↔ {b}" for a in own for b in theirs if frozenset({a, b}) in COMPLEMENTARY_INDUSTRIES
    )
    if pairs:
        return Wording(
            "互补产业: " + "、".join(pairs[:3]), "complementary industries: " + ", ".join(pairs[:3])
        )
    if not own:
        return Wording("产业未知 (本方未登记所属产业)", "industry unknown (none recorded here)")
    if not theirs:
        mine = "、".join(sorted(own))
        return Wording(f"对方产业未知 (本方: {mine})", f"partner's industry unknown (here: {mine})")
    mine, other = "、".join(sorted(own)), "、".join(sorted(theirs))
    return Wording(f"产业不同 ({mine} / {other})", f"different industries ({mine} / {other})")


def _shared_level(index: RecommenderIndex, a: str, b: str) -> tuple[int, str] | None:
    """The deepest level of :data:`LEVELS` whose code ``a`` and ``b`` share, and the code."""
    ca, cb = index.actors.codes.get(a, ""), index.actors.codes.get(b, "")
    for level, (length, _) in enumerate(LEVELS):
        if len(ca) >= length and len(cb) >= length and ca[:length] == cb[:length]:
            return level, ca[:length]
    return None


def _proximity(index: RecommenderIndex, target: str, partner: str) -> Wording:
    common = _shared_level(index, target, partner)
    if common is None:
        ca, cb = index.actors.codes.get(target), index.actors.codes.get(partner)
        if not ca or not cb:
            return Wording("区划代码缺失, 无法判断远近", "division code missing")
        return Wording("不同省份", "different provinces")
    level, code = common
    known = code in index.actors.region_names
    where = index.region_name(code) + ("" if known else LEVELS[level][1])
    return Wording(f"同属{where}", f"same {where} ({code})")


def _capacity(index: RecommenderIndex, cat: int, pos: int) -> Wording:
    places = index.places
    if cat == VILLAGE:
        cap, load = float(places.capacity[pos]), float(places.load[pos])
        if math.isinf(cap):
            return Wording("联建组织, 可吸纳新成员 (名额不限)", "joint body: open to new members")
        free = max(0.0, cap - load)
        helped = f"已帮扶 {number(load)} 个村 (名额 {number(cap)} 个)"
        if free:
            return Wording(
                f"{helped}, 尚余 {number(free)} 个名额",
                f"helps {number(load)} of {number(cap)} villages, {number(free)} place(s) free",
            )
        return Wording(
            f"名额已满: {helped}", f"no free place: helps {number(load)} of {number(cap)}"
        )
    mh, have = float(places.max_helpers[pos]), float(places.helpers_of[pos])
    return Wording(
        f"该村已有帮扶方 {number(have)} 个 (至多接受 {number(mh)} 个)",
        f"the village has {number(have)} helper(s) (takes at most {number(mh)})",
    )


def _structural(
    index: RecommenderIndex,
    target: str,
    partner: str,
    value: float,
    structure: CommonNeighbours,
) -> Wording:
    bodies_of, names = index.ties.bodies_of, index.actors.names
    shared_bodies = sorted(bodies_of.get(target, frozenset()) & bodies_of.get(partner, frozenset()))
    via = structure.via.get(partner)
    if via is None and not shared_bodies:
        return Wording(
            "网络中无共同伙伴, 也不同在联建组织", "no common neighbour, no shared joint body"
        )
    parts = []
    aa = structure.adamic_adar.get(partner, 0.0)
    ra = structure.resource_allocation.get(partner, 0.0)
    if via is not None:
        shown = listing([names.get(z, z) for z in sorted(via)], 3)
        parts.append(
            Wording(
                f"共同伙伴 {len(via)} 个 ({shown}); 按关系强弱加权的 Adamic–Adar 指数 "
                f"{aa:.2f}、资源分配指数 {ra:.2f} (从 0 起, 越大越近)",
                f"{len(via)} common neighbour(s) ({shown}); Adamic–Adar {aa:.2f}, "
                f"resource allocation {ra:.2f}",
            )
        )
    if shared_bodies:
        bodies = "、".join(names.get(b, b) for b in shared_bodies[:2])
        parts.append(Wording(f"同在 {bodies}", f"both in {bodies}"))
    facts = join(parts)
    formula = f"1 − e^(−{aa:.2f} − {ra:.2f}) × 0.5^{len(shared_bodies)} = {value:.2f}"
    return Wording(
        f"{facts.zh}; 网络关联得分 {formula} (0–1 分, 每同在一个联建组织, 与满分的差距减半)",
        f"{facts.en}; structural {formula.replace('−', '-')}",
    )


def _strength(index: RecommenderIndex, pos: int, value: float) -> Wording:
    """The partner's size, network standing and outcomes, and how they make its strength."""
    standing = index.standing
    size = standing.size_text[pos]
    size_pct = float(standing.size_pct[pos])
    pagerank_pct = float(standing.pagerank_pct[pos])
    pagerank = rank_share(pagerank_pct)
    outcome = float(standing.outcome[pos])
    if standing.outcome_recorded[pos]:
        outcome_text = Wording(
            f"联建成效 {outcome:.2f} 分 (0–1 分, 1 为最高: 其联建联系记录的投资、增收、就业、"
            "土地各与本区域第 90 百分位相比, 达到即为 1, 再取平均)",
            f"outcomes {outcome:.2f} (0–1: investment, income, jobs and land on its ties, each "
            "against the scope's p90, averaged)",
        )
    else:
        outcome_text = Wording(
            "联建成效 0 分 (其联建联系未记录投资、增收、就业或土地)",
            "outcomes 0 (none recorded on its ties)",
        )
    s_size, s_pr, s_out = STRENGTH_MIX
    formula = (
        f"{s_size:g}×{size_pct:.2f} + {s_pr:g}×{pagerank_pct:.2f} + {s_out:g}×{outcome:.2f} "
        f"= {value:.2f}"
    )
    return Wording(
        f"规模: {size.zh}; 影响力: 网络 PageRank 在本区域候选中居{pagerank.zh}; {outcome_text.zh}; "
        f"实力得分 = {s_size:g}×规模百分位 + {s_pr:g}×影响力百分位 + {s_out:g}×成效 = {formula}",
        f"size: {size.en}; PageRank {pagerank.en}; {outcome_text.en}; strength = {formula}",
    )


def _priority(index: RecommenderIndex, pos: int, value: float) -> Wording:
    """How much the village needs help: listed weak, and how low its income ranks."""
    standing = index.standing
    size = standing.size_text[pos]
    weak = bool(standing.weak[pos])
    status = Wording("薄弱村", "weak village") if weak else Wording("非薄弱村", "not weak")
    flag = f"{int(weak)}"
    if standing.size_known[pos]:
        pct = float(standing.size_pct[pos])
        formula = f"0.5×{flag} + 0.5×(1 − {pct:.2f}) = {value:.2f}"
        how = f"0.5×薄弱 (是 1, 否 0) + 0.5×(1 − 收入百分位) = {formula}"
    else:
        formula = f"0.5 + 0.5×{flag} = {value:.2f}"
        how = f"收入未知时 0.5 + 0.5×薄弱 (是 1, 否 0) = {formula}"
    return Wording(
        f"{status.zh}, {size.zh}; 帮扶需求得分 {how} (0–1 分, 越薄弱、收入越低越高)",
        f"{status.en}, {size.en}; priority {formula}",
    )


def _needs(index: RecommenderIndex, target: str, cat: int, partner: str) -> Wording:
    village, helper = (target, partner) if cat == VILLAGE else (partner, target)
    own = index.lists.needs.get(village, frozenset())
    if not own:
        return Wording("村未列需求清单", "the village lists no needs")
    offers = index.lists.offers.get(helper, frozenset())
    kind = index.actors.kinds.get(helper)
    parts = []
    for term in sorted(own):
        direct = sorted(offers & (NEED_RESOURCES.get(term, frozenset()) | {term}))
        if direct:
            parts.append(Wording(f"需求 {term} ↔ 资源 {direct[0]}", f"need {term} ↔ {direct[0]}"))
        elif kind is not None and kind in NEED_KINDS.get(term, frozenset()):
            parts.append(Wording(f"需求 {term} ↔ {kind}", f"need {term} ↔ a {kind}"))
    if not parts:
        needs = "、".join(sorted(own))
        return Wording(f"需求 {needs} 无对应资源", f"needs {needs}: none met")
    return join(parts)
