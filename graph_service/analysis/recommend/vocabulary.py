"""The recommender's fixed terms: relations, components, categories and what each looks for,
distances, default capacities, industries that complement each other, and the 四项清单
vocabulary that matches needs with resources."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from graph_service.schema import JOINT_BODY_KINDS

__all__ = [
    "CATEGORIES",
    "COMPLEMENTARY_INDUSTRIES",
    "COMPONENTS",
    "DEFAULT_CAPACITY",
    "DEFAULT_MAX_HELPERS",
    "DISTANCES",
    "NEED_KINDS",
    "NEED_RESOURCES",
    "PARTNER_LINK_TYPES",
    "PROXIMITY_SCALE",
    "RELATIONS",
    "actor_category",
    "candidate_category",
    "looks_for",
]


#: Links that make two actors partners already, never to be proposed again: pairings,
#: co-building, membership, and a cooperative a village's branch leads (领办) together.
PARTNER_LINK_TYPES: Final[frozenset[str]] = frozenset(
    {"PAIRS_WITH", "CO_BUILDS", "MEMBER_OF", "LEADS_COOPERATIVE"}
)

#: Component names, in the order reasons list them.
COMPONENTS: Final[tuple[str, ...]] = (
    "industry",
    "proximity",
    "capacity",
    "structural",
    "strength",
    "needs",
)

#: What the partner is sought for: ``pairing`` (结对帮扶, helper → helped: 以强带弱, 百企帮百村)
#: or ``co_building`` (联建共建 between peers: 毗邻协作, 村企共建, 产业链).
RELATIONS: Final[tuple[str, ...]] = ("pairing", "co_building")
CO_BUILDING_WEIGHTS: Final[dict[str, float]] = {
    "industry": 1.0,
    "proximity": 2.0,
    "capacity": 0.0,
    "structural": 1.0,
    "strength": 0.0,
    "needs": 0.5,
}

#: Candidate categories: the label of the node, with joint bodies (联建组织) apart from
#: ordinary party organizations, which are never candidates. ``partner_labels`` filters by
#: these names (``"PartyOrganization"`` means joint bodies).
CATEGORIES: Final[tuple[str, ...]] = ("Village", "Enterprise", "Institution", "PartyOrganization")
#: Positions in :data:`CATEGORIES`, as the index's ``category`` array holds them.
VILLAGE, ENTERPRISE, INSTITUTION, BODY = 0, 1, 2, 3
#: What a target looks for: a village looks for helpers, a helper for villages.
WANTS: Final[dict[int, tuple[int, ...]]] = {
    VILLAGE: (VILLAGE, ENTERPRISE, INSTITUTION, BODY),
    ENTERPRISE: (VILLAGE,),
    INSTITUTION: (VILLAGE,),
    BODY: (VILLAGE,),
}

#: ``max_distance`` values and the code length two nodes must share.
DISTANCES: Final[dict[str, int]] = {"town": 9, "county": 6, "city": 4, "province": 2}
LEVELS: Final[tuple[tuple[int, str], ...]] = ((9, "镇"), (6, "县"), (4, "市"), (2, "省"))
#: Proximity by the deepest shared level (town, county, city, province). Steeper than the
#: administrative component of link strength (1/0.75/0.5/0.25): inside a county, sharing the
#: town is what makes a pairing practical (镇内结对, 毗邻协作).
PROXIMITY_SCALE: Final[tuple[float, ...]] = (1.0, 0.4, 0.15, 0.05)

#: Places a helper offers when it has no ``pairing_capacity`` attribute. 百企帮百村 pairs one
#: enterprise with one village (167 ↔ 167, 001); a strong village leads one or two weak ones
#: (以强带弱); 甘肃省科学院 helps four villages (001). Joint bodies take members without a cap.
DEFAULT_CAPACITY: Final[dict[str, float]] = {
    "Village": 2.0,
    "Enterprise": 1.0,
    "Enterprise/集团": 2.0,
    "Institution": 4.0,
    "PartyOrganization": math.inf,
}
#: Helpers a village takes at most, when it has no ``max_helpers`` attribute.
DEFAULT_MAX_HELPERS: Final[int] = 2

#: Industries that complement each other along a chain (processing, sales, feed, manure,
#: tourism): a complementary pair scores 0.5 on the industry component.
_PRIMARY: Final[tuple[str, ...]] = (
    "粮食",
    "设施蔬菜",
    "苹果",
    "水果",
    "畜牧",
    "家禽",
    "食用菌",
    "榛子",
    "中药材",
    "茶叶",
    "水稻",
    "水产养殖",
    "花卉苗木",
    "富硒农业",
    "林下经济",
    "棉花",
    "油料",
)
COMPLEMENTARY_INDUSTRIES: Final[frozenset[frozenset[str]]] = frozenset(
    {
        *(frozenset({"农产品加工", p}) for p in _PRIMARY),
        *(frozenset({"电子商务", p}) for p in (*_PRIMARY, "农产品加工")),
        *(
            frozenset({"乡村旅游", p})
            for p in ("苹果", "水果", "茶叶", "花卉苗木", "林下经济", "富硒农业", "榛子")
        ),
        frozenset({"粮食", "畜牧"}),
        frozenset({"粮食", "家禽"}),
        frozenset({"畜牧", "设施蔬菜"}),
        frozenset({"啤酒", "粮食"}),
    }
)

#: A need (需求清单) is met by a resource (资源清单, or a product) with one of these names …
NEED_RESOURCES: Final[dict[str, frozenset[str]]] = {
    "产业项目": frozenset({"产业项目", "项目", "合作社", "特色产品", "投资建设"}),
    "技术指导": frozenset({"技术指导", "技术", "科研技术", "技术投入", "种植管理"}),
    "销售渠道": frozenset({"销售渠道", "电商平台", "统一销售", "订单", "收购"}),
    "资金支持": frozenset({"资金支持", "资金", "投资建设", "贷款"}),
    "人才": frozenset({"人才", "人才队伍", "驻村帮扶干部"}),
    "基础设施": frozenset({"基础设施", "冷库"}),
}
#: … or by a partner of one of these kinds (what a bank or an institute offers anyway).
NEED_KINDS: Final[dict[str, frozenset[str]]] = {
    "产业项目": frozenset({"公司", "集团", "政府部门"}),
    "技术指导": frozenset({"科研院所", "高校", "公司", "集团"}),
    "销售渠道": frozenset({"公司", "集团", "合作社"}),
    "资金支持": frozenset({"金融机构", "公司", "集团"}),
    "人才": frozenset({"高校", "科研院所"}),
    "基础设施": frozenset({"政府部门"}),
}

#: Size metrics read for the strength component, per label, in order of preference.
SIZE_METRICS: Final[dict[str, tuple[tuple[str, str, str], ...]]] = {
    "Village": (("collective_income_yuan", "村集体收入", "元"),),
    "Enterprise": (
        ("annual_revenue_yuan", "年营业收入", "元"),
        ("total_assets_yuan", "总资产", "元"),
        ("employees", "员工", "人"),
        ("members", "社员", "户"),
    ),
    "Institution": (("staff", "职工", "人"),),
}
#: Shares of size, PageRank and outcomes in the strength component.
STRENGTH_MIX: Final[tuple[float, float, float]] = (0.6, 0.2, 0.2)


def actor_category(doc: Mapping[str, Any]) -> int | None:
    """The position in :data:`CATEGORIES` of a node document's category, or ``None``."""
    label = doc.get("label")
    if label == "Village":
        return VILLAGE
    if label == "Enterprise":
        return ENTERPRISE
    if label == "Institution":
        return INSTITUTION
    if label == "PartyOrganization" and doc.get("kind") in JOINT_BODY_KINDS:
        return BODY
    return None


def candidate_category(doc: Mapping[str, Any]) -> str | None:
    """The :data:`CATEGORIES` name of a node document, or ``None`` if it is never a
    candidate (regions, industries, ordinary party organizations …)."""
    cat = actor_category(doc)
    return None if cat is None else CATEGORIES[cat]


def looks_for(category: str) -> tuple[str, ...]:
    """What a target of ``category`` is matched with: a village with every category (its
    helpers), any other category with villages."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; known: {list(CATEGORIES)}")
    return tuple(CATEGORIES[c] for c in WANTS[CATEGORIES.index(category)])


def code_key(code: str, length: int) -> int:
    """The first ``length`` digits of a region code as an integer, ``-1`` if there are none."""
    return int(code[:length]) if len(code) >= length and code[:length].isdigit() else -1
