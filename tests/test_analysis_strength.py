"""Link strength: every component by hand, the score/confidence rule, overlap, ordering."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import networkx as nx
import pytest

from graph_service.analysis.strength import (
    COMPONENTS,
    StrengthReference,
    StrengthWeights,
    administrative_proximity,
    link_strength,
    link_strengths,
    neighbourhood_overlap,
    strongest_links,
    weakest_links,
)

AS_OF = dt.date(2023, 1, 1)


def add_node(
    G: nx.MultiDiGraph,
    node_id: str,
    label: str,
    kind: str | None = None,
    region_code: str | None = None,
    **attributes: Any,
) -> None:
    doc: dict[str, Any] = {
        "id": node_id,
        "label": label,
        "kind": kind,
        "name": node_id.split(":")[-1],
        "attributes": attributes,
    }
    if region_code is not None:
        doc["region_code"] = region_code
    G.add_node(node_id, **doc)


def add_link(
    G: nx.MultiDiGraph,
    link_id: str,
    type_: str,
    source: str,
    target: str,
    valid_from: str | None = None,
    valid_to: str | None = None,
    **attributes: Any,
) -> None:
    doc: dict[str, Any] = {
        "id": link_id,
        "type": type_,
        "source": source,
        "target": target,
        "attributes": attributes,
        "sources": [{"kind": "article", "document": "000_ebbe741d95becf05.txt"}],
    }
    if valid_from is not None:
        doc["valid_from"] = valid_from
    if valid_to is not None:
        doc["valid_to"] = valid_to
    G.add_edge(source, target, key=link_id, **doc)


def pair_graph(full: bool = True) -> nx.MultiDiGraph:
    """An enterprise ``ent:x`` and a village ``village:v`` with every kind of substance.

    ties (non-structural 联建 links): x–v (L1, L2), b–x, b–v, y–x, x–j; v's 党支部 org:v is in
    the 联合体 j (charter signed), and so is x.
    """
    G = nx.MultiDiGraph()
    add_node(G, "ent:x", "Enterprise", "公司", "371426")
    add_node(G, "village:v", "Village", "行政村", "371426001201")
    add_node(G, "org:v", "PartyOrganization", "党支部", "371426001201")
    add_node(G, "org:b", "PartyOrganization", "党支部", "371426001")
    add_node(G, "ent:y", "Enterprise", "公司", "371426")
    body_attrs: dict[str, Any] = {"meetings_per_year": 12}
    if full:
        body_attrs["charter_signed"] = True
    add_node(G, "org:j", "PartyOrganization", "党建联合体", "371426001", **body_attrs)
    l1: dict[str, Any] = {}
    l2: dict[str, Any] = {}
    if full:
        l1 = {
            "agreement_signed": True,
            "meetings_per_year": 4,
            "activities": ["技术指导", "助销"],
            "resources_from_source": ["资金"],
            "resources_from_target": ["土地"],
            "investment_yuan": 500_000,
            "jobs": 30,
        }
        l2 = {
            "meetings_per_year": 2,
            "activities": ["订单种植"],
            "income_increase_yuan": 200_000,
            "land_area_mu": 400,
        }
    add_link(G, "L1", "PAIRS_WITH", "ent:x", "village:v", "2020-01-01", **l1)
    add_link(G, "L2", "SUPPLIES", "village:v", "ent:x", "2021-07-01", **l2)
    add_link(G, "L3", "CO_BUILDS", "org:b", "ent:x", "2021-01-01")
    add_link(G, "L4", "CO_BUILDS", "org:b", "village:v", "2021-01-01")
    add_link(G, "L5", "SUPPLIES", "ent:y", "ent:x")
    add_link(G, "L6", "MEMBER_OF", "ent:x", "org:j", "2020-06-01")
    add_link(G, "L7", "MEMBER_OF", "org:v", "org:j", "2020-06-01")
    add_link(G, "L8", "ORGANIZATION_OF", "org:v", "village:v")
    # A link that ended before AS_OF: invisible on that day.
    add_link(G, "L9", "FINANCES", "ent:x", "village:v", "2019-01-01", "2021-12-31")
    return G


REFERENCE = StrengthReference(
    investment_yuan=1_000_000, income_increase_yuan=400_000, jobs=60, land_area_mu=400
)

# duration: earliest valid link L1 2020-01-01 → 2023-01-01 = 366 + 365 + 365 = 1096 days
YEARS = 1096 / 365.25
DURATION = 1 - math.exp(-YEARS / 3)  # ≈ 0.6322
# intensity: max meetings (4, 2) = 4 + 3 distinct activities (技术指导, 助销, 订单种植) = 7 / 12
INTENSITY = 7 / 12
# outcomes: investment 500k/1M = 0.5, income 200k/400k = 0.5, jobs 30/60 = 0.5, land 400/400 = 1
OUTCOMES = (0.5 + 0.5 + 0.5 + 1.0) / 4  # = 0.625
# multiplexity: PAIRS_WITH + SUPPLIES (FINANCES ended) = 2 types → 0.67
MULTIPLEXITY = 0.67
# overlap: N(x) = {v, b, y, j}, N(v) = {x, b}; common {b}: 1 / ((4-1) + (2-1) - 1) = 1/3;
# one shared joint body (x and org:v in j): 1 - (1 - 1/3)·0.5 = 2/3
OVERLAP = 2 / 3
# administrative: 371426 (county-level enterprise) vs 371426001201: same county → 0.75
ADMIN = 0.75
# default weights: duration 1, intensity 1.5, formality 1, reciprocity 1, outcomes 1.5,
# multiplexity 1, overlap 1, administrative 0.5 → total 8.5
FULL_SCORE = (
    1 * DURATION
    + 1.5 * INTENSITY
    + 1 * 1.0  # formality: agreement signed on L1
    + 1 * 1.0  # reciprocity: x brings 资金 (L1 source), v brings 土地 (L1 target)
    + 1.5 * OUTCOMES
    + 1 * MULTIPLEXITY
    + 1 * OVERLAP
    + 0.5 * ADMIN
) / 8.5  # ≈ 6.1564 / 8.5 ≈ 0.7243


def test_default_weights_are_documented_values() -> None:
    w = StrengthWeights()
    assert w.as_dict() == {
        "duration": 1.0,
        "intensity": 1.5,
        "formality": 1.0,
        "reciprocity": 1.0,
        "outcomes": 1.5,
        "multiplexity": 1.0,
        "overlap": 1.0,
        "administrative": 0.5,
    }
    assert w.total == 8.5
    assert tuple(w.as_dict()) == COMPONENTS


# The Chinese explanations of the full pair, from the figures above: each says which facts
# gave the value, the formula, and the scale of the score.
SCALE = "(0–1 分, 1 为最高)"
FULL_PAIR_ZH = {
    "duration": "自 2020-01-01 起建立联系, 至 2023-01-01 共 3.00 年; "
    f"持续时间得分 1 − e^(−3.00/3) = 0.632 {SCALE}, 满 3 年约 0.63",
    "intensity": "每年会议 4 次; 共同活动 3 项 (助销、技术指导、订单种植); 合计每年 7 次, "
    f"以每月 1 次 (每年 12 次) 为满分: 互动频度得分 7 ÷ 12 = 0.583 {SCALE}",
    "formality": f"结对帮扶联系已签订协议 (联系 L1); 正式程度得分 1.000 {SCALE}",
    "reciprocity": f"x投入: 资金; v投入: 土地; 双向互有投入: 互惠程度得分 1.000 {SCALE}, "
    "双向 1, 单向 0.5, 无 0",
    "outcomes": "投资额 50.0万元 ÷ 本范围第 90 百分位 100.0万元 = 0.50; "
    "增收额 20.0万元 ÷ 本范围第 90 百分位 40.0万元 = 0.50; "
    "带动就业 30人 ÷ 本范围第 90 百分位 60人 = 0.50; "
    "涉及土地 400亩 ÷ 本范围第 90 百分位 400亩 = 1.00 (每项达到参考值即为 1); "
    f"联建成效得分 4 项平均 0.625 {SCALE}",
    "multiplexity": "两者之间有 2 种联系: 结对帮扶 (PAIRS_WITH)、供销/订单 (SUPPLIES); "
    f"联系多样性得分 0.670 {SCALE}, 1 种 0.34, 2 种 0.67, 3 种及以上 1",
    "overlap": "两者的联建伙伴 (不含彼此) 共 3 个, 其中共同伙伴 1 个, 邻里重叠度 1/3 = 0.333; "
    "同在 1 个联建组织 (j), 每同在一个, 与满分的差距减半: "
    f"关系重叠度得分 1 − (1 − 0.333) × 0.5^1 = 0.667 {SCALE}",
    "administrative": "区划代码 371426 与 371426001201: 同在一个县 (371426); "
    f"行政邻近度得分 0.750 {SCALE}, 同乡镇 1, 同县 0.75, 同市 0.5, 同省 0.25, 不同省 0",
}


def test_full_pair_by_hand() -> None:
    result = link_strength(pair_graph(), "ent:x", "village:v", as_of=AS_OF, reference=REFERENCE)
    values = {c.name: c.value for c in result.components}
    assert values == pytest.approx(
        {
            "duration": DURATION,
            "intensity": INTENSITY,
            "formality": 1.0,
            "reciprocity": 1.0,
            "outcomes": OUTCOMES,
            "multiplexity": MULTIPLEXITY,
            "overlap": OVERLAP,
            "administrative": ADMIN,
        }
    )
    assert all(c.available for c in result.components)
    assert result.score == pytest.approx(FULL_SCORE)
    assert result.score == pytest.approx(0.72428, abs=1e-5)
    assert result.confidence == 1.0
    assert sum(c.contribution for c in result.components) == pytest.approx(result.score)
    assert result.link_ids == ("L1", "L2")
    assert result.link_types == ("PAIRS_WITH", "SUPPLIES")
    assert result.documents == ("000_ebbe741d95becf05.txt",)
    assert result.as_of == "2023-01-01"
    assert result.evaluated_on == "2023-01-01"
    # Explanations carry the facts used, in Chinese and in English.
    assert "2020-01-01" in result.component("duration").explanation_en
    assert "L1" in result.component("formality").explanation_en
    assert "资金" in result.component("reciprocity").explanation_en
    assert "same county" in result.component("administrative").explanation_en
    assert {c.name: c.explanation for c in result.components} == FULL_PAIR_ZH
    # Symmetric in the two nodes.
    back = link_strength(pair_graph(), "village:v", "ent:x", as_of=AS_OF, reference=REFERENCE)
    assert back.score == pytest.approx(result.score)


def test_missing_data_keeps_score_lowers_confidence() -> None:
    full = link_strength(pair_graph(), "ent:x", "village:v", as_of=AS_OF, reference=REFERENCE)
    bare = link_strength(
        pair_graph(full=False), "ent:x", "village:v", as_of=AS_OF, reference=REFERENCE
    )
    unavailable = {c.name for c in bare.components if not c.available}
    assert unavailable == {"intensity", "formality", "reciprocity", "outcomes"}
    for c in bare.components:
        if c.available:  # what is left is measured exactly as before
            assert c.value == pytest.approx(full.component(c.name).value)
        else:
            assert c.value is None
            assert c.contribution == 0.0
    # score over the available components only: duration (1), multiplexity (1), overlap (1),
    # administrative (0.5) → (0.6322 + 0.67 + 0.6667 + 0.375) / 3.5 ≈ 0.6697
    expected = (DURATION + MULTIPLEXITY + OVERLAP + 0.5 * ADMIN) / 3.5
    assert bare.score == pytest.approx(expected)
    assert bare.score == pytest.approx(0.66968, abs=1e-5)
    # confidence: 3.5 of 8.5 weight available
    assert bare.confidence == pytest.approx(3.5 / 8.5)
    assert bare.confidence < full.confidence


def test_member_link_uses_body_meetings_and_charter() -> None:
    # x MEMBER_OF j (L6, no attributes): intensity from j's 12 meetings a year → 12/12 = 1;
    # formality from j's signed charter → 1.
    result = link_strength(pair_graph(), "ent:x", "org:j", as_of=AS_OF, reference=REFERENCE)
    assert result.component("intensity").value == 1.0
    assert "meetings of j" in result.component("intensity").explanation_en
    assert "j的例会" in result.component("intensity").explanation
    assert result.component("formality").value == 1.0
    assert "charter" in result.component("formality").explanation_en
    assert "j已签订章程" in result.component("formality").explanation
    # no resources or outcomes recorded on L6
    assert not result.component("reciprocity").available
    assert not result.component("outcomes").available


def test_unlinked_pair_and_known_negatives() -> None:
    G = pair_graph()
    # b and y are not linked: no link-based components, but structure and place are known.
    result = link_strength(G, "org:b", "ent:y", as_of=AS_OF, reference=REFERENCE)
    assert result.link_ids == ()
    assert result.component("multiplexity").value == 0.0
    assert not result.component("duration").available
    # N(b) = {x, v}, N(y) = {x}: common {x}; union minus {b, y} = {x, v} → 1/2
    assert result.component("overlap").value == pytest.approx(0.5)
    # 371426001 and 371426: same county → 0.75
    assert result.component("administrative").value == 0.75
    # A recorded "no agreement" and empty resource lists are facts, not missing data.
    add_link(G, "L10", "CO_BUILDS", "org:b", "ent:y", agreement_signed=False)
    add_link(G, "L11", "SUPPLIES", "ent:y", "org:b", resources_from_source=[])
    result = link_strength(G, "org:b", "ent:y", as_of=AS_OF, reference=REFERENCE)
    assert result.component("formality").value == 0.0
    assert result.component("reciprocity").value == 0.0


def test_one_way_resources_and_as_of_validity() -> None:
    G = pair_graph()
    add_link(G, "L12", "CO_BUILDS", "ent:y", "org:b", resources_from_target=["场地"])
    result = link_strength(G, "ent:y", "org:b", as_of=AS_OF)
    # only b (the target) brings something: one way → 0.5
    assert result.component("reciprocity").value == 0.5
    # On 2019-06-01 only FINANCES (L9, from 2019-01-01) joins x and v: one type → 0.34,
    # 0.41 years: 2019-01-01 → 2019-06-01 = 151 days.
    early = link_strength(G, "ent:x", "village:v", as_of=dt.date(2019, 6, 1))
    assert early.link_ids == ("L9",)
    assert early.component("multiplexity").value == 0.34
    assert early.component("duration").value == pytest.approx(1 - math.exp(-151 / 365.25 / 3))


def test_errors_and_today() -> None:
    G = pair_graph()
    with pytest.raises(nx.NodeNotFound):
        link_strength(G, "ent:x", "ent:nobody")
    with pytest.raises(ValueError, match="two nodes"):
        link_strength(G, "ent:x", "ent:x")
    result = link_strength(G, "ent:x", "village:v")
    assert result.as_of is None
    assert result.evaluated_on == dt.date.today().isoformat()
    # Without as_of the ended FINANCES link counts too: three types → 1.0.
    assert result.component("multiplexity").value == 1.0


def test_neighbourhood_overlap_by_hand() -> None:
    S = nx.Graph([("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "e")])
    # a–b: k_a = 3 (b, c, d), k_b = 3 (a, c, e), common {c}: 1 / ((3-1) + (3-1) - 1) = 1/3
    assert neighbourhood_overlap(S, "a", "b") == pytest.approx(1 / 3)
    # a–d: k_d = 1, no common neighbour: 0 / ((3-1) + (1-1) - 0) = 0
    assert neighbourhood_overlap(S, "a", "d") == 0.0
    # c, d unlinked: N(c) = {a, b}, N(d) = {a}: 1 common / |{a, b}| = 1/2
    assert neighbourhood_overlap(S, "c", "d") == pytest.approx(0.5)
    # a lone pair: empty denominator → 0
    assert neighbourhood_overlap(nx.Graph([("p", "q")]), "p", "q") == 0.0
    # The same graph as 联建 links, plus structural links that must not count.
    G = nx.MultiDiGraph()
    for n in "abcde":
        add_node(G, n, "Enterprise", "公司")
    add_node(G, "region", "Region", "县", "371426")
    for i, (u, v) in enumerate(S.edges()):
        add_link(G, f"e{i}", "CO_BUILDS", u, v)
    add_link(G, "r1", "IN_REGION", "a", "region")
    add_link(G, "r2", "IN_REGION", "b", "region")
    result = link_strength(G, "a", "b", as_of=AS_OF)
    assert result.component("overlap").value == pytest.approx(1 / 3)
    assert not result.component("administrative").available  # no codes on a, b
    assert "no region_code" in result.component("administrative").explanation_en
    assert result.component("administrative").explanation == (
        "a、b未记录区划代码, 无法判断行政邻近度"
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("371426001201", "371426001202", 1.0),  # same town (龙门街道)
        ("371426001201", "371426001201", 1.0),  # same village
        ("371426001", "371426001201", 1.0),  # a town-level body and a village of it
        ("371426001201", "371426103221", 0.75),  # same county, other town
        ("371426", "371426103221", 0.75),  # county-level node: never "same town"
        ("371426", "371428", 0.5),  # same city (德州市)
        ("371426", "370302", 0.25),  # same province (山东省)
        ("371426", "620802", 0.0),  # 山东 vs 甘肃
        (None, "371426", None),
        ("371426", "", None),
    ],
)
def test_administrative_proximity(a: str | None, b: str | None, expected: float | None) -> None:
    assert administrative_proximity(a, b) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": -1.0}, "non-negative"),
        ({"overlap": math.nan}, "finite"),
        ({"intensity": True}, "number"),
        (dict.fromkeys(COMPONENTS, 0.0), "positive"),
    ],
)
def test_weights_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StrengthWeights(**kwargs)


def test_custom_weights_and_zero_available_weight() -> None:
    G = pair_graph(full=False)
    only_multiplexity = StrengthWeights(**{**dict.fromkeys(COMPONENTS, 0.0), "multiplexity": 1.0})
    result = link_strength(G, "ent:x", "village:v", only_multiplexity, AS_OF, REFERENCE)
    # 2 types → 0.67, and it is the whole weight
    assert result.score == pytest.approx(0.67)
    assert result.confidence == 1.0
    only_intensity = StrengthWeights(**{**dict.fromkeys(COMPONENTS, 0.0), "intensity": 1.0})
    result = link_strength(G, "ent:x", "village:v", only_intensity, AS_OF, REFERENCE)
    # intensity is unavailable without attributes: nothing to score, no confidence
    assert result.score == 0.0
    assert result.confidence == 0.0


def test_reference_from_graph() -> None:
    G = nx.MultiDiGraph()
    for n in "abcdefg":
        add_node(G, n, "Enterprise", "公司")
    for i, jobs in enumerate([100, 200, 300, 400, 500]):
        add_link(G, f"s{i}", "SUPPLIES", "abcdefg"[i], "g", jobs=jobs)
    # structural links never count, nor links that ended before as_of
    add_link(G, "x1", "IN_REGION", "a", "b", jobs=10_000)
    add_link(G, "x2", "SUPPLIES", "f", "a", valid_to="2020-12-31", jobs=10_000)
    ref = StrengthReference.from_graph(G, as_of=AS_OF)
    # jobs sorted [100 … 500]: position 0.9·(5-1) = 3.6 → 400 + 0.6·(500-400) = 460
    assert ref.jobs == pytest.approx(460)
    assert ref.defaulted == ("investment_yuan", "income_increase_yuan", "land_area_mu")
    assert ref.land_area_mu == StrengthReference().land_area_mu
    # median: position 0.5·4 = 2 → 300
    assert StrengthReference.from_graph(G, AS_OF, quantile=0.5).jobs == pytest.approx(300)
    with pytest.raises(ValueError, match="quantile"):
        StrengthReference.from_graph(G, quantile=0)
    with pytest.raises(ValueError, match="positive"):
        StrengthReference(jobs=0)


def ranking_graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    for n in "abcdefghijkl":
        add_node(G, n, "Enterprise", "公司")
    add_node(G, "ind", "Industry")
    add_link(G, "ab", "CO_BUILDS", "a", "b", agreement_signed=True, meetings_per_year=12)
    add_link(G, "cd", "CO_BUILDS", "c", "d", agreement_signed=False, meetings_per_year=6)
    add_link(G, "ef", "CO_BUILDS", "e", "f", meetings_per_year=6)
    add_link(G, "gh", "CO_BUILDS", "g", "h")
    add_link(G, "ij", "CO_BUILDS", "i", "j", agreement_signed=False, meetings_per_year=3)
    add_link(G, "kl", "CO_BUILDS", "k", "l", agreement_signed=False, meetings_per_year=6)
    add_link(G, "lk", "SUPPLIES", "l", "k")  # the same pair, the other way
    add_link(G, "a-ind", "IN_INDUSTRY", "a", "ind")  # not a 联建 tie: left out by default
    return G


#: Only intensity and formality count, so every score is easy to check.
TWO = StrengthWeights(**{**dict.fromkeys(COMPONENTS, 0.0), "intensity": 1.0, "formality": 1.0})


def test_strongest_and_weakest_ordering() -> None:
    G = ranking_graph()
    # (a, b): intensity 12/12 = 1, formality 1 → 1.0, confidence 1
    # (e, f): intensity 6/12 = 0.5, formality unknown → 0.5, confidence 0.5
    # (c, d), (k, l): intensity 0.5, formality 0 → 0.25, confidence 1 (tie: by id)
    # (i, j): intensity 3/12 = 0.25, formality 0 → 0.125
    # (g, h): nothing known → 0.0, confidence 0
    strong = strongest_links(G, top=4, weights=TWO, as_of=AS_OF)
    assert [(r.source, r.target) for r in strong] == [
        ("a", "b"),
        ("e", "f"),
        ("c", "d"),
        ("k", "l"),
    ]
    assert [r.score for r in strong] == pytest.approx([1.0, 0.5, 0.25, 0.25])
    weak = weakest_links(G, top=None, weights=TWO, as_of=AS_OF)
    assert [(r.source, r.target) for r in weak] == [
        ("g", "h"),
        ("i", "j"),
        ("c", "d"),
        ("k", "l"),
        ("e", "f"),
        ("a", "b"),
    ]
    assert [r.score for r in weak] == pytest.approx([0.0, 0.125, 0.25, 0.25, 0.5, 1.0])
    # the pair (k, l) is scored once, over both of its links
    kl = next(r for r in weak if r.source == "k")
    assert kl.link_ids == ("kl", "lk")
    # restricting the link types restricts the pairs, not the links read
    only = strongest_links(G, weights=TWO, as_of=AS_OF, link_types=["SUPPLIES"])
    assert [(r.source, r.target, r.link_ids) for r in only] == [("k", "l", ("kl", "lk"))]
    # deterministic: same call, same order
    assert strongest_links(G, top=4, weights=TWO, as_of=AS_OF) == strong
    assert strongest_links(G, top=0, weights=TWO, as_of=AS_OF) == []
    with pytest.raises(ValueError, match="top"):
        weakest_links(G, top=-1)
    with pytest.raises(ValueError, match="unknown link types"):
        strongest_links(G, link_types=["FRIENDS_WITH"])


def test_link_strengths_matches_single_calls() -> None:
    G = pair_graph()
    pairs = [("ent:x", "village:v"), ("org:b", "ent:y")]
    batch = link_strengths(G, pairs, as_of=AS_OF, reference=REFERENCE)
    singles = [link_strength(G, u, v, as_of=AS_OF, reference=REFERENCE) for u, v in pairs]
    assert batch == singles
    assert batch[0].as_dict()["components"][0]["name"] == "duration"
