"""Partner recommendations: whom a weak village (or a helper) should pair with, and why.

A planner asks "for this weak village, which enterprise, institution or strong village should
it pair with, and why?" — or, from the other side, "which villages should this enterprise
help?". :func:`recommend_partners` answers with ranked candidates, each with a score in
``[0, 1]`` and the reasons behind it as components:

============ ===========================================================================
industry     shared industries (1) or complementary ones (0.5), via ``IN_INDUSTRY``
proximity    same town 1, same county 0.4, same city 0.15, same province 0.05, else 0
capacity     the partner's free places: ``(capacity − load) / capacity``
structural   common neighbours on the weighted tie graph, as Adamic–Adar and resource
             allocation, and shared joint bodies: ``1 − exp(−AA_w − RA_w) · 0.5^bodies``
strength     for a village target: the partner's strength (economic size, PageRank,
             recorded outcomes); for a helper target it is called ``priority`` and measures
             how much the village needs help (weak, low collective income)
needs        the 四项清单: the share of the village's needs the partner's resources meet
============ ===========================================================================

The score is the weighted mean ``Σ wᵢ·vᵢ / Σ wᵢ`` (weights :class:`RecommendWeights`,
configurable); each reason carries its value, weight, contribution and a short explanation
("同属龙泉镇", "共同产业: 苹果", "需求 冷库 ↔ 资源 冷库").

The *relation* sought sets the defaults. ``pairing`` (结对帮扶, helper → helped) leaves out
weak villages, and villages of unknown standing, as helpers (以强带弱) and helpers without a
free place, and weighs strength;
``co_building`` (联建共建 between peers: 毗邻协作, 村企共建) keeps every candidate and weighs
proximity and the existing network instead (:meth:`RecommendWeights.defaults`). Existing
partners (``PAIRS_WITH``, ``CO_BUILDS``, ``MEMBER_OF``, and ``LEADS_COOPERATIVE``: a
cooperative the village's branch leads) and rejected pairs are never candidates.

Everything that does not depend on the target is computed once per scope by
:meth:`RecommenderIndex.build`; a query then costs a few milliseconds for a thousand
candidates.

References
----------
.. [1] D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social networks",
   Journal of the American Society for Information Science and Technology 58(7),
   1019–1031, 2007. https://doi.org/10.1002/asi.20591
.. [2] L. A. Adamic and E. Adar, "Friends and neighbors on the Web", Social Networks 25(3),
   211–230, 2003. https://doi.org/10.1016/S0378-8733(03)00009-1
.. [3] T. Zhou, L. Lü and Y.-C. Zhang, "Predicting missing links via local information",
   The European Physical Journal B 71(4), 623–630, 2009.
   https://doi.org/10.1140/epjb/e2009-00335-8
.. [4] L. Lü and T. Zhou, "Link prediction in weighted networks: The role of weak ties",
   Europhysics Letters 89(1), 18001, 2010. https://doi.org/10.1209/0295-5075/89/18001
.. [5] L. Page, S. Brin, R. Motwani and T. Winograd, "The PageRank citation ranking: bringing
   order to the Web", Stanford InfoLab technical report 1999-66, 1999.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

from graph_service.analysis.centrality import CSRGraph, pagerank
from graph_service.analysis.graphs import filter_links
from graph_service.analysis.strength import (
    OUTCOME_METRICS,
    TIE_LINK_TYPES,
    link_strengths,
)
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
    "Candidate",
    "Reason",
    "RecommendWeights",
    "Recommendation",
    "RecommenderIndex",
    "ScoredCandidates",
    "actor_map",
    "candidate_category",
    "looks_for",
    "recommend_partners",
    "score_candidates",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

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
_CO_BUILDING_WEIGHTS: Final[dict[str, float]] = {
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
_VILLAGE, _ENTERPRISE, _INSTITUTION, _BODY = 0, 1, 2, 3
#: What a target looks for: a village looks for helpers, a helper for villages.
_WANTS: Final[dict[int, tuple[int, ...]]] = {
    _VILLAGE: (_VILLAGE, _ENTERPRISE, _INSTITUTION, _BODY),
    _ENTERPRISE: (_VILLAGE,),
    _INSTITUTION: (_VILLAGE,),
    _BODY: (_VILLAGE,),
}

#: ``max_distance`` values and the code length two nodes must share.
DISTANCES: Final[dict[str, int]] = {"town": 9, "county": 6, "city": 4, "province": 2}
_LEVELS: Final[tuple[tuple[int, str], ...]] = ((9, "镇"), (6, "县"), (4, "市"), (2, "省"))
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
#: A village earning less than this is weak when it is not listed either way (the
#: generator's and the coverage analysis' threshold).
_WEAK_INCOME_YUAN: Final[float] = 100_000.0

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
_SIZE_METRICS: Final[dict[str, tuple[tuple[str, str, str], ...]]] = {
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
_STRENGTH_MIX: Final[tuple[float, float, float]] = (0.6, 0.2, 0.2)


# ---------------------------------------------------------------------------------------
# Configuration and results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecommendWeights:
    """Weights of the components (non-negative, finite, not all zero).

    The defaults (relation ``pairing``, 结对帮扶) put what makes a pairing work in practice
    first — a shared industry, the same town, a strong partner (1.0 each) — and give the
    supporting evidence half weight: free capacity, structural closeness in the existing
    network and matched 四项清单 (0.5 each). ``strength`` weighs the partner's strength for
    a village target and the village's priority (how weak it is) for a helper target.

    For ``co_building`` (联建共建: 毗邻协作, 村企共建, 产业链) see :meth:`defaults`: partners
    are peers, so strength and capacity do not count (0), and neighbourhood — proximity (2)
    and the existing network (1) — leads, with industry (1) and 四项清单 (0.5).
    """

    industry: float = 1.0
    proximity: float = 1.0
    capacity: float = 0.5
    structural: float = 0.5
    strength: float = 1.0
    needs: float = 0.5

    def __post_init__(self) -> None:
        for name in COMPONENTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"weight {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"weight {name} must be finite and non-negative, got {value}")
        if sum(self.as_dict().values()) <= 0:
            raise ValueError("at least one weight must be positive")

    @classmethod
    def defaults(cls, relation: str = "pairing") -> RecommendWeights:
        """The default weights of ``relation`` (see :data:`RELATIONS`)."""
        if relation not in RELATIONS:
            raise ValueError(f"relation must be one of {list(RELATIONS)}, got {relation!r}")
        return cls() if relation == "pairing" else cls(**_CO_BUILDING_WEIGHTS)

    @classmethod
    def coerce(
        cls,
        weights: RecommendWeights | Mapping[str, float] | None,
        relation: str = "pairing",
    ) -> RecommendWeights:
        """``weights`` as :class:`RecommendWeights`: the defaults of ``relation`` for
        ``None``; a mapping overrides the named defaults (unknown names raise
        ``ValueError``)."""
        base = cls.defaults(relation)
        if weights is None:
            return base
        if isinstance(weights, RecommendWeights):
            return weights
        unknown = sorted(set(weights) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown weights {unknown}; known: {list(COMPONENTS)}")
        return dataclasses.replace(base, **{k: float(v) for k, v in weights.items()})

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in COMPONENTS}

    @property
    def total(self) -> float:
        return sum(self.as_dict().values())


@dataclass(frozen=True, slots=True)
class Reason:
    """One component of a candidate's score: ``contribution = weight · value / Σ weights``."""

    name: str
    value: float
    weight: float
    explanation: str
    contribution: float = 0.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A recommended partner: ``score`` in ``[0, 1]`` is the sum of the contributions."""

    rank: int
    partner_id: str
    name: str
    label: str
    kind: str | None
    region_code: str | None
    score: float
    reasons: tuple[Reason, ...]

    def reason(self, name: str) -> Reason:
        """The reason called ``name``; ``KeyError`` if there is none."""
        for r in self.reasons:
            if r.name == name:
                return r
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Ranked partners for one target.

    ``target`` is the node ranked for (a village, enterprise, institution or joint body);
    ``asked`` is the id given, which may be the target's party organization. ``considered``
    counts the candidates scored after the filters; ``excluded_partners`` and
    ``excluded_rejected`` count those left out as existing partners and rejected pairs.
    """

    target: str
    asked: str
    target_name: str
    target_label: str
    looking_for: tuple[str, ...]
    relation: str
    candidates: tuple[Candidate, ...]
    considered: int
    excluded_partners: int
    excluded_rejected: int
    weights: dict[str, float]
    as_of: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True, eq=False)
class ScoredCandidates:
    """Every candidate of one query with its components (what ranking and evaluation use).

    ``index`` holds positions in :attr:`RecommenderIndex.ids`; ``components`` has one row per
    name of :data:`COMPONENTS`; ``score`` is the weighted mean.
    """

    target: str
    index: IntArray
    components: FloatArray
    score: FloatArray
    excluded_partners: int
    excluded_rejected: int


# ---------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value if isinstance(v, str) and v)
    return frozenset()


def _percentiles(values: list[float]) -> list[float]:
    """Mid-rank percentiles in (0, 1): ``(below + equal / 2) / n``."""
    n = len(values)
    order = sorted(range(n), key=lambda i: values[i])
    out = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[order[j + 1]] == values[order[i]]:
            j += 1
        p = (i + (j - i + 1) / 2) / n
        for t in range(i, j + 1):
            out[order[t]] = p
        i = j + 1
    return out


def _code_key(code: str, length: int) -> int:
    return int(code[:length]) if len(code) >= length and code[:length].isdigit() else -1


def _fmt_amount(value: float, unit: str) -> str:
    if unit == "元" and value >= 10_000:
        return f"{value / 10_000:,.1f}万元"
    return f"{value:,.0f}{unit}"


@dataclass(frozen=True, eq=False)
class RecommenderIndex:
    """What ranking needs from one scope, computed once (:meth:`build`).

    Nodes are **actors**: villages, enterprises, institutions and party organizations, where
    a party organization that is the organization (``ORGANIZATION_OF``) of a village,
    enterprise or institution is merged into it — 台头村党支部 counts as 台头村, so a
    ``CO_BUILDS`` between two village branches is a tie between the villages. Candidates
    are the actors that can be partners: villages, enterprises, institutions and joint
    bodies; other party organizations (town and county committees) only carry ties.

    Attributes
    ----------
    ids : tuple of str
        Candidate ids, sorted; arrays below are aligned with them.
    category : numpy.ndarray
        Index into :data:`CATEGORIES`.
    unit_of : dict
        Any node id of the scope → its actor id (a party organization → its village …).
    adjacency : dict
        The weighted tie graph (:data:`graph_service.analysis.strength.TIE_LINK_TYPES`
        between actors): ``actor -> {neighbour: weight}``, weights in ``(0, 1]``.
    partners : dict
        Current partners of each actor (:data:`PARTNER_LINK_TYPES`).
    """

    ids: tuple[str, ...]
    position: dict[str, int]
    category: IntArray
    names: tuple[str, ...]
    labels: tuple[str, ...]
    kinds: tuple[str | None, ...]
    codes: tuple[str, ...]
    code_keys: IntArray
    industries: dict[str, frozenset[str]]
    industry_members: dict[str, IntArray]
    unit_of: dict[str, str]
    actor_names: dict[str, str]
    actor_labels: dict[str, str]
    adjacency: dict[str, dict[str, float]]
    degree: dict[str, int]
    bodies_of: dict[str, frozenset[str]]
    partners: dict[str, frozenset[str]]
    capacity: FloatArray
    load: FloatArray
    helpers_of: FloatArray
    max_helpers: FloatArray
    size_pct: FloatArray
    size_text: tuple[str, ...]
    pagerank_pct: FloatArray
    outcome: FloatArray
    strength: FloatArray
    priority: FloatArray
    weak: BoolArray
    #: Villages whose standing is known (a collective income or a ``weak`` flag).
    known: BoolArray
    needs: dict[str, frozenset[str]]
    offers: dict[str, frozenset[str]]
    need_met: dict[str, BoolArray]
    #: Program id -> (participants, categories of its helpers, categories of the helped).
    programs: dict[str, tuple[frozenset[str], frozenset[int], frozenset[int]]]
    region_names: dict[str, str]
    actor_codes: dict[str, str]
    actor_kinds: dict[str, str | None]
    #: Nodes of the scope that are not actors (regions, industries, programs, people).
    others: frozenset[str]
    as_of: str | None
    tie_weight: str

    def __len__(self) -> int:
        return len(self.ids)

    # ---------------------------------------------------------------- build

    @classmethod
    def build(
        cls,
        G: nx.MultiDiGraph,
        as_of: dt.date | None = None,
        *,
        tie_weight: Literal["strength", "count"] = "strength",
        exclude_links: Iterable[Any] = (),
    ) -> RecommenderIndex:
        """Precompute everything ranking needs for the scope ``G``.

        Parameters
        ----------
        G : networkx.MultiDiGraph
            The store's export of the scope, with structural links (``ORGANIZATION_OF``
            merges a party organization into its village or enterprise) and ``IN_INDUSTRY``.
        as_of : datetime.date, optional
            Read only the nodes and links valid on this day (all when omitted).
        tie_weight : {"strength", "count"}
            Weight of a tie in the structural signals: the tie's explained link strength
            (:func:`graph_service.analysis.strength.link_strengths`, floored at 0.05) or 1
            per tie.
        exclude_links : iterable
            Link ids (edge keys) to leave out, as if they were not in ``G`` (evaluation
            hides held-out links this way).

        Returns
        -------
        RecommenderIndex

        Notes
        -----
        Cost: one pass over the links, PageRank on the tie graph (sparse power iteration)
        and, with ``tie_weight="strength"``, the strength of every tie — under a second for a
        county of 1,500 nodes and 5,000 links (a tenth of that with ``"count"``). Build once
        per scope and data version.

        References
        ----------
        .. [1] L. Page, S. Brin, R. Motwani and T. Winograd, "The PageRank citation ranking:
           bringing order to the Web", Stanford InfoLab technical report 1999-66, 1999.
        .. [2] L. Lü and T. Zhou, "Link prediction in weighted networks: The role of weak
           ties", Europhysics Letters 89(1), 18001, 2010.
        """
        if tie_weight not in ("strength", "count"):
            raise ValueError(f"tie_weight must be 'strength' or 'count', got {tie_weight!r}")
        H = filter_links(G, None, as_of)
        hidden = set(exclude_links)
        if hidden:
            H.remove_edges_from([(u, v, k) for u, v, k in H.edges(keys=True) if k in hidden])
        return _build(H, as_of, tie_weight)

    # ---------------------------------------------------------------- helpers

    def resolve(self, node: str) -> str:
        """The actor of ``node`` (a party organization resolves to its village …).

        Raises ``networkx.NodeNotFound`` for a node outside the scope and ``ValueError`` for
        a node that is not an actor (a region, an industry …).
        """
        if node in self.unit_of:
            return self.unit_of[node]
        if node in self.others:
            raise ValueError(
                f"{node!r} cannot be a target: give a village, an enterprise, an institution "
                "or a joint body (or the party organization of one)"
            )
        raise nx.NodeNotFound(f"node {node!r} is not in the scope (or not valid on as_of)")

    def category_of(self, actor: str) -> int | None:
        pos = self.position.get(actor)
        return int(self.category[pos]) if pos is not None else None

    def region_name(self, code: str) -> str:
        return self.region_names.get(code, code)


def _actor_category(doc: Mapping[str, Any]) -> int | None:
    label = doc.get("label")
    if label == "Village":
        return _VILLAGE
    if label == "Enterprise":
        return _ENTERPRISE
    if label == "Institution":
        return _INSTITUTION
    if label == "PartyOrganization" and doc.get("kind") in JOINT_BODY_KINDS:
        return _BODY
    return None


def candidate_category(doc: Mapping[str, Any]) -> str | None:
    """The :data:`CATEGORIES` name of a node document, or ``None`` if it is never a
    candidate (regions, industries, ordinary party organizations …)."""
    cat = _actor_category(doc)
    return None if cat is None else CATEGORIES[cat]


def looks_for(category: str) -> tuple[str, ...]:
    """What a target of ``category`` is matched with: a village with every category (its
    helpers), any other category with villages."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; known: {list(CATEGORIES)}")
    return tuple(CATEGORIES[c] for c in _WANTS[CATEGORIES.index(category)])


def _capacity_of(doc: Mapping[str, Any]) -> float:
    attrs = doc.get("attributes") or {}
    given = _number(attrs.get("pairing_capacity"))
    if given is not None and given >= 0:
        return given
    label = str(doc.get("label"))
    return DEFAULT_CAPACITY.get(f"{label}/{doc.get('kind')}", DEFAULT_CAPACITY.get(label, 1.0))


def actor_map(G: nx.MultiDiGraph) -> dict[str, str]:
    """Every actor node of ``G`` → its actor: a party organization that is the organization
    (``ORGANIZATION_OF``) of a village, enterprise or institution maps to it, any other
    village, enterprise, institution or party organization to itself.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("v", label="Village")
    >>> G.add_node("o", label="PartyOrganization", kind="党支部")
    >>> _ = G.add_edge("o", "v", key="l", type="ORGANIZATION_OF")
    >>> actor_map(G)
    {'o': 'v', 'v': 'v'}
    """
    unit_of: dict[str, str] = {}
    for org, target, d in sorted(G.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        if d.get("type") != "ORGANIZATION_OF" or str(org) in unit_of:
            continue
        if G.nodes[target].get("label") in ("Village", "Enterprise", "Institution") and (
            G.nodes[org].get("label") == "PartyOrganization"
        ):
            unit_of[str(org)] = str(target)
    for n, d in G.nodes(data=True):
        if d.get("label") in ("Village", "Enterprise", "Institution", "PartyOrganization"):
            unit_of.setdefault(str(n), str(n))
    return dict(sorted(unit_of.items()))


def _build(H: nx.MultiDiGraph, as_of: dt.date | None, tie_weight: str) -> RecommenderIndex:
    unit_of = actor_map(H)

    def unit(n: Any) -> str | None:
        return unit_of.get(str(n))

    # Candidates and their documents.
    cand_ids = sorted({u for u in set(unit_of.values()) if _actor_category(H.nodes[u]) is not None})
    position = {c: i for i, c in enumerate(cand_ids)}
    n = len(cand_ids)
    docs = [H.nodes[c] for c in cand_ids]
    category = np.array([_actor_category(d) for d in docs], dtype=np.int64)
    codes = tuple(str(d.get("region_code") or "") for d in docs)
    code_keys = np.array(
        [[_code_key(c, length) for c in codes] for length, _ in _LEVELS], dtype=np.int64
    ).reshape(len(_LEVELS), n)

    # Links, once.
    industries: defaultdict[str, set[str]] = defaultdict(set)
    partners: defaultdict[str, set[str]] = defaultdict(set)
    bodies_of: defaultdict[str, set[str]] = defaultdict(set)
    helped: defaultdict[str, set[str]] = defaultdict(set)  # helper -> helped
    helpers: defaultdict[str, set[str]] = defaultdict(set)  # helped -> helpers
    tie_pairs: dict[tuple[str, str], list[tuple[Any, Any]]] = defaultdict(list)
    outcome_totals: defaultdict[str, dict[str, float]] = defaultdict(dict)
    program_members: defaultdict[str, set[str]] = defaultdict(set)
    program_helpers: defaultdict[str, set[int]] = defaultdict(set)
    program_helped: defaultdict[str, set[int]] = defaultdict(set)
    for a, b, d in H.edges(data=True):
        type_ = d.get("type")
        if type_ == "IN_INDUSTRY":
            ua = unit(a)
            if ua is not None:
                industries[ua].add(str(H.nodes[b].get("name") or b))
            continue
        if type_ == "PART_OF_PROGRAM":
            ua = unit(a)
            if ua is not None:
                program_members[str(b)].add(ua)
            continue
        if type_ not in TIE_LINK_TYPES:
            continue
        ua, ub = unit(a), unit(b)
        if ua is None or ub is None or ua == ub:
            continue
        key = (ua, ub) if ua <= ub else (ub, ua)
        tie_pairs[key].append((a, b))
        attrs = d.get("attributes") or {}
        for metric in OUTCOME_METRICS:
            value = _number(attrs.get(metric))
            if value is not None and value > 0:
                for u in (ua, ub):
                    outcome_totals[u][metric] = outcome_totals[u].get(metric, 0.0) + value
        if type_ in PARTNER_LINK_TYPES:
            partners[ua].add(ub)
            partners[ub].add(ua)
        if type_ == "MEMBER_OF" and _actor_category(H.nodes[ub]) == _BODY:
            bodies_of[ua].add(ub)
        if type_ == "PAIRS_WITH":
            helped[ua].add(ub)
            helpers[ub].add(ua)
            program = attrs.get("program")
            if isinstance(program, str) and program:
                cat_a, cat_b = _actor_category(H.nodes[ua]), _actor_category(H.nodes[ub])
                if cat_a is not None:
                    program_helpers[program].add(cat_a)
                if cat_b is not None:
                    program_helped[program].add(cat_b)

    # Tie weights.
    weights: dict[tuple[str, str], float] = {}
    if tie_weight == "strength" and tie_pairs:
        # One representative raw pair per actor pair; the strength model reads all the
        # pair's links and merges organizations with their units for shared bodies.
        reps = {key: pairs[0] for key, pairs in tie_pairs.items()}
        raw = list(reps.values())
        results = link_strengths(H, raw, as_of=as_of)
        for (key, _), result in zip(reps.items(), results, strict=True):
            weights[key] = max(0.05, min(1.0, result.score))
    else:
        weights = dict.fromkeys(tie_pairs, 1.0)
    adjacency: dict[str, dict[str, float]] = defaultdict(dict)
    for (ua, ub), w in weights.items():
        adjacency[ua][ub] = w
        adjacency[ub][ua] = w
    adjacency = dict(adjacency)
    degree = {u: len(nb) for u, nb in adjacency.items()}

    # PageRank on the weighted tie graph of all actors.
    T = nx.Graph()
    T.add_nodes_from(sorted(set(unit_of.values())))
    T.add_weighted_edges_from((a, b, w) for (a, b), w in sorted(weights.items()))
    pr = pagerank(CSRGraph.from_graph(T)) if len(T) else {}
    pr_values = [float(pr.get(c, 0.0)) for c in cand_ids]
    pagerank_pct = np.array(_percentiles(pr_values) if n else [], dtype=np.float64)

    # Outcomes: each metric against the p90 of the candidates' totals.
    refs: dict[str, float] = {}
    for metric in OUTCOME_METRICS:
        values = sorted(t[metric] for c, t in outcome_totals.items() if metric in t)
        if values:
            refs[metric] = values[min(len(values) - 1, int(0.9 * (len(values) - 1) + 0.5))]
    outcome = np.zeros(n)
    for i, c in enumerate(cand_ids):
        totals = outcome_totals.get(c)
        if totals:
            outcome[i] = float(np.mean([min(1.0, totals[m] / refs[m]) for m in totals]))

    # Size within the label: percentile of the first metric a node has.
    size_pct = np.full(n, 0.5)
    size_text = ["规模未知"] * n
    groups: defaultdict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for i, d in enumerate(docs):
        attrs = d.get("attributes") or {}
        label = str(d.get("label"))
        if category[i] == _BODY:
            count = sum(1 for p in partners.get(cand_ids[i], ()) if cand_ids[i] in bodies_of[p])
            groups[("PartyOrganization", "members")].append((i, float(count)))
            size_text[i] = f"成员 {count} 个"
            continue
        for metric, name, unit_name in _SIZE_METRICS.get(label, ()):
            value = _number(attrs.get(metric))
            if value is not None:
                groups[(label, metric)].append((i, value))
                size_text[i] = f"{name} {_fmt_amount(value, unit_name)}"
                break
    for group in groups.values():
        for (i, _), p in zip(group, _percentiles([v for _, v in group]), strict=True):
            size_pct[i] = p
    s_size, s_pr, s_out = _STRENGTH_MIX
    strength = s_size * size_pct + s_pr * pagerank_pct + s_out * outcome

    # Villages: weak, priority (how much help they need), helpers and places.
    weak = np.zeros(n, dtype=np.bool_)
    known = np.zeros(n, dtype=np.bool_)
    priority = np.zeros(n)
    max_helpers = np.zeros(n)
    capacity = np.zeros(n)
    load = np.zeros(n)
    helpers_of = np.zeros(n)
    for i, (c, d) in enumerate(zip(cand_ids, docs, strict=True)):
        attrs = d.get("attributes") or {}
        capacity[i] = _capacity_of(d)
        load[i] = len(helped.get(c, ()))
        helpers_of[i] = len(helpers.get(c, ()))
        if category[i] != _VILLAGE:
            continue
        income = _number(attrs.get("collective_income_yuan"))
        listed = attrs.get("weak")
        weak[i] = (
            listed
            if isinstance(listed, bool)
            else (income is not None and income < _WEAK_INCOME_YUAN)
        )
        known[i] = isinstance(listed, bool) or income is not None
        mh = _number(attrs.get("max_helpers"))
        max_helpers[i] = mh if mh is not None and mh >= 0 else DEFAULT_MAX_HELPERS
        priority[i] = (
            0.5 + 0.5 * float(weak[i])
            if income is None
            else (0.5 * float(weak[i]) + 0.5 * (1.0 - size_pct[i]))
        )

    # 四项清单: needs of each actor, offers (resources, products) of each.
    needs: dict[str, frozenset[str]] = {}
    offers: dict[str, frozenset[str]] = {}
    for u in sorted(set(unit_of.values())):
        attrs = H.nodes[u].get("attributes") or {}
        nd = _strings(attrs.get("needs"))
        of = _strings(attrs.get("resources")) | _strings(attrs.get("products"))
        if nd:
            needs[u] = nd
        if of:
            offers[u] = of
    terms = sorted({t for nd in needs.values() for t in nd})
    kinds = tuple(d.get("kind") for d in docs)
    need_met: dict[str, BoolArray] = {}
    for term in terms:
        met = np.zeros(n, dtype=np.bool_)
        good = NEED_RESOURCES.get(term, frozenset()) | {term}
        by_kind = NEED_KINDS.get(term, frozenset())
        for i, c in enumerate(cand_ids):
            met[i] = bool(offers.get(c, frozenset()) & good) or kinds[i] in by_kind
        need_met[term] = met

    industry_members = {
        name: np.array(sorted(position[u] for u in us if u in position), dtype=np.int64)
        for name, us in _invert(industries).items()
    }
    programs = {
        p: (
            frozenset(program_members.get(p, ())),
            frozenset(program_helpers.get(p, ())),
            frozenset(program_helped.get(p, ())),
        )
        for p in sorted(set(program_members) | set(program_helpers))
    }
    for p, d in H.nodes(data=True):
        if d.get("label") == "Program" and str(p) not in programs:
            programs[str(p)] = (frozenset(), frozenset(), frozenset())
    region_names = {
        str(d.get("region_code")): str(d.get("name"))
        for _, d in H.nodes(data=True)
        if d.get("label") == "Region" and d.get("region_code")
    }
    all_units = sorted(set(unit_of.values()))
    return RecommenderIndex(
        ids=tuple(cand_ids),
        position=position,
        category=category,
        names=tuple(str(d.get("name") or c) for c, d in zip(cand_ids, docs, strict=True)),
        labels=tuple(str(d.get("label")) for d in docs),
        kinds=kinds,
        codes=codes,
        code_keys=code_keys,
        industries={u: frozenset(s) for u, s in industries.items()},
        industry_members=industry_members,
        unit_of=unit_of,
        actor_names={u: str(H.nodes[u].get("name") or u) for u in all_units},
        actor_labels={u: str(H.nodes[u].get("label")) for u in all_units},
        adjacency=adjacency,
        degree=degree,
        bodies_of={u: frozenset(s) for u, s in bodies_of.items()},
        partners={u: frozenset(s) for u, s in partners.items()},
        capacity=capacity,
        load=load,
        helpers_of=helpers_of,
        max_helpers=max_helpers,
        size_pct=size_pct,
        size_text=tuple(size_text),
        pagerank_pct=pagerank_pct,
        outcome=outcome,
        strength=strength,
        priority=priority,
        weak=weak,
        known=known,
        needs=needs,
        offers=offers,
        need_met=need_met,
        programs=programs,
        region_names=region_names,
        actor_codes={u: str(H.nodes[u].get("region_code") or "") for u in all_units},
        actor_kinds={u: H.nodes[u].get("kind") for u in all_units},
        others=frozenset(str(n) for n in H if str(n) not in unit_of),
        as_of=as_of.isoformat() if as_of is not None else None,
        tie_weight=tie_weight,
    )


def _invert(mapping: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    out: defaultdict[str, set[str]] = defaultdict(set)
    for key, values in mapping.items():
        for v in values:
            out[v].add(key)
    return dict(out)


# ---------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------


def _target_keys(index: RecommenderIndex, target: str) -> list[int]:
    code = index.actor_codes.get(target, "")
    return [_code_key(code, length) for length, _ in _LEVELS]


def _proximity(index: RecommenderIndex, target: str, idx: IntArray) -> FloatArray:
    keys = _target_keys(index, target)
    out = np.zeros(len(idx))
    # Deepest level first: a shared town wins over a shared county.
    for level in range(len(_LEVELS) - 1, -1, -1):
        if keys[level] < 0:
            continue
        same = index.code_keys[level, idx] == keys[level]
        out = np.where(same, PROXIMITY_SCALE[level], out)
    return out


def _industry(index: RecommenderIndex, target: str, n: int) -> FloatArray:
    """Industry fit of every candidate (full length): shared 1, complementary 0.5."""
    out = np.zeros(n)
    own = index.industries.get(target, frozenset())
    for name in own:
        for other, members in index.industry_members.items():
            if other != name and frozenset({name, other}) in COMPLEMENTARY_INDUSTRIES:
                out[members] = np.maximum(out[members], 0.5)
    for name in own:
        shared = index.industry_members.get(name)
        if shared is not None:
            out[shared] = 1.0
    return out


def _structure(
    index: RecommenderIndex, target: str
) -> dict[str, tuple[float, float, float, list[str]]]:
    """Weighted common-neighbour signals of ``target`` with every actor two hops away:
    ``actor -> (Σ √(w_tz·w_zc), Σ …/ln k_z, Σ …/k_z, common neighbours)``."""
    out: dict[str, tuple[float, float, float, list[str]]] = {}
    for z, w_tz in index.adjacency.get(target, {}).items():
        k = index.degree[z]
        if k < 2:
            continue
        inv_log, inv_k = 1.0 / math.log(k), 1.0 / k
        for c, w_zc in index.adjacency[z].items():
            if c == target:
                continue
            w = math.sqrt(w_tz * w_zc)
            cn, aa, ra, via = out.get(c, (0.0, 0.0, 0.0, []))
            via.append(z)
            out[c] = (cn + w, aa + w * inv_log, ra + w * inv_k, via)
    return out


def _structural_value(aa: float, ra: float, bodies: int) -> float:
    return 1.0 - math.exp(-aa - ra) * 0.5**bodies


def _filter_mask(
    index: RecommenderIndex,
    target: str,
    wants: tuple[int, ...],
    partner_labels: Iterable[str] | None,
    max_distance: str | None,
    program: str | None,
) -> BoolArray:
    mask = np.isin(index.category, np.array(wants, dtype=np.int64))
    if partner_labels is not None:
        labels = list(partner_labels)
        unknown = sorted(set(labels) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown partner labels {unknown}; known: {list(CATEGORIES)}")
        cats = [CATEGORIES.index(label) for label in labels]
        mask &= np.isin(index.category, np.array(cats, dtype=np.int64))
    if max_distance is not None:
        if max_distance not in DISTANCES:
            raise ValueError(f"max_distance must be one of {list(DISTANCES)}, got {max_distance!r}")
        level = [length for length, _ in _LEVELS].index(DISTANCES[max_distance])
        key = _target_keys(index, target)[level]
        mask &= (index.code_keys[level] == key) & (key >= 0)
    if program is not None:
        if program not in index.programs:
            raise ValueError(f"unknown program {program!r}")
        members, helper_cats, helped_cats = index.programs[program]
        # A village looks for the program's helpers, a helper for the villages it helps.
        wanted = helper_cats if index.category_of(target) == _VILLAGE else helped_cats
        allowed = np.isin(index.category, np.array(sorted(wanted), dtype=np.int64))
        for m in members:
            pos = index.position.get(m)
            if pos is not None:
                allowed[pos] = True
        mask &= allowed
    pos = index.position.get(target)
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
        label = index.actor_labels.get(target, "?")
        raise ValueError(
            f"{target!r} ({label}) cannot be a target: give a village, an enterprise, an "
            "institution or a joint body (or the party organization of one)"
        )
    mask = _filter_mask(index, target, _WANTS[cat], partner_labels, max_distance, program)
    if relation == "pairing":
        if cat == _VILLAGE:
            # 以强带弱: a village helps another only when it is known not to be weak.
            mask &= ~index.weak & ((index.category != _VILLAGE) | index.known)
            if not include_full:
                mask &= _free_share(index.capacity, index.load) > 0
        elif not include_full:
            mask &= _free_share(index.max_helpers, index.helpers_of) > 0
    partners = index.partners.get(target, frozenset())
    excluded_partners = 0
    for p in partners:
        pos = index.position.get(p)
        if pos is not None and mask[pos]:
            mask[pos] = False
            excluded_partners += 1
    excluded_rejected = 0
    for item in rejected:
        if isinstance(item, tuple):
            a, b = (index.unit_of.get(x, x) for x in item)
            other = b if a == target else (a if b == target else None)
        else:
            other = index.unit_of.get(item, item)
        pos = index.position.get(other) if other is not None else None
        if pos is not None and mask[pos]:
            mask[pos] = False
            excluded_rejected += 1
    for item in exclude:
        pos = index.position.get(index.unit_of.get(item, item))
        if pos is not None:
            mask[pos] = False
    if isinstance(within, np.ndarray):
        mask &= within.astype(np.bool_)
    elif within is not None:
        keep = np.zeros(len(index), dtype=np.bool_)
        for item in within:
            pos = index.position.get(index.unit_of.get(item, item))
            if pos is not None:
                keep[pos] = True
        mask &= keep
    idx = np.flatnonzero(mask).astype(np.int64)
    comps = _components(index, target, cat, idx)
    wv = np.array([w.as_dict()[c] for c in COMPONENTS])
    score = (wv @ comps) / w.total if len(idx) else np.zeros(0)
    return ScoredCandidates(target, idx, comps, score, excluded_partners, excluded_rejected)


def _components(index: RecommenderIndex, target: str, cat: int, idx: IntArray) -> FloatArray:
    n = len(idx)
    comps = np.zeros((len(COMPONENTS), n))
    if n == 0:
        return comps
    comps[0] = _industry(index, target, len(index))[idx]
    comps[1] = _proximity(index, target, idx)
    if cat == _VILLAGE:
        comps[2] = _free_share(index.capacity[idx], index.load[idx])
        comps[4] = index.strength[idx]
        own = index.needs.get(target, frozenset())
        if own:
            met = np.zeros(n)
            for term in own:
                met += index.need_met[term][idx]
            comps[5] = met / len(own)
    else:
        comps[2] = _free_share(index.max_helpers[idx], index.helpers_of[idx])
        comps[4] = index.priority[idx]
        comps[5] = _needs_met_by(index, target, idx)
    structure = _structure(index, target)
    own_bodies = index.bodies_of.get(target, frozenset())
    if structure:
        row = np.zeros(n)
        local = np.full(len(index), -1, dtype=np.int64)
        local[idx] = np.arange(n)
        for c, (_, aa, ra, _) in structure.items():
            pos = index.position.get(c)
            if pos is None or local[pos] < 0:
                continue
            shared = len(own_bodies & index.bodies_of.get(c, frozenset())) if own_bodies else 0
            row[local[pos]] = _structural_value(aa, ra, shared)
        comps[3] = row
    return comps


def _free_share(capacity: FloatArray, used: FloatArray) -> FloatArray:
    """``(capacity − used) / capacity`` clipped to ``[0, 1]``; 1 when unbounded, 0 when none."""
    out = np.zeros(len(capacity))
    unbounded = np.isinf(capacity)
    finite = ~unbounded & (capacity > 0)
    out[unbounded] = 1.0
    out[finite] = np.clip(capacity[finite] - used[finite], 0.0, None) / capacity[finite]
    return out


def _top_share(pct: float) -> str:
    """``前 k%`` for a percentile (at least 1%)."""
    return f"前 {max(1, math.ceil(100 * (1 - pct)))}%"


def _satisfied(index: RecommenderIndex, helper: str) -> frozenset[str]:
    """The need terms ``helper`` meets, by its resources, products or kind."""
    offers = index.offers.get(helper, frozenset())
    kind = index.actor_kinds.get(helper)
    return frozenset(
        term
        for term in index.need_met
        if (offers & (NEED_RESOURCES.get(term, frozenset()) | {term}))
        or kind in NEED_KINDS.get(term, frozenset())
    )


def _needs_met_by(index: RecommenderIndex, helper: str, idx: IntArray) -> FloatArray:
    met = _satisfied(index, helper)
    out = np.zeros(len(idx))
    if not met:
        return out
    for j, p in enumerate(idx):
        own = index.needs.get(index.ids[int(p)])
        if own:
            out[j] = len(own & met) / len(own)
    return out


# ---------------------------------------------------------------------------------------
# Explanations
# ---------------------------------------------------------------------------------------


def _shared_level(index: RecommenderIndex, a: str, b: str) -> tuple[int, str] | None:
    ca, cb = index.actor_codes.get(a, ""), index.actor_codes.get(b, "")
    for level, (length, _) in enumerate(_LEVELS):
        if len(ca) >= length and len(cb) >= length and ca[:length] == cb[:length]:
            return level, ca[:length]
    return None


def _explain(
    index: RecommenderIndex,
    target: str,
    cat: int,
    partner: str,
    name: str,
    value: float,
    structure: Mapping[str, tuple[float, float, float, list[str]]],
) -> str:
    pos = index.position[partner]
    if name == "industry":
        own = index.industries.get(target, frozenset())
        theirs = index.industries.get(partner, frozenset())
        shared = sorted(own & theirs)
        if shared:
            return "共同产业: " + "、".join(shared)
        pairs = sorted(
            f"{a} ↔ {b}"
            for a in own
            for b in theirs
            if frozenset({a, b}) in COMPLEMENTARY_INDUSTRIES
        )
        if pairs:
            return "互补产业: " + "、".join(pairs[:3])
        if not own or not theirs:
            return "产业未知" if not own else f"对方产业未知 (本方: {'、'.join(sorted(own))})"
        return f"产业不同 ({'、'.join(sorted(own))} / {'、'.join(sorted(theirs))})"
    if name == "proximity":
        common = _shared_level(index, target, partner)
        if common is None:
            ca, cb = index.actor_codes.get(target), index.actor_codes.get(partner)
            return "区划代码缺失" if not ca or not cb else "不同省份"
        level, code = common
        return f"同属{index.region_name(code)}" + (
            "" if code in index.region_names else _LEVELS[level][1]
        )
    if name == "capacity":
        if cat == _VILLAGE:
            cap, load = float(index.capacity[pos]), float(index.load[pos])
            if math.isinf(cap):
                return "联建组织, 可吸纳新成员"
            free = max(0.0, cap - load)
            return (
                f"已帮扶 {load:g}/{cap:g}, 尚余 {free:g} 个名额"
                if free
                else (f"名额已满 ({load:g}/{cap:g})")
            )
        mh, have = float(index.max_helpers[pos]), float(index.helpers_of[pos])
        return f"已有帮扶方 {have:g} 个 (至多 {mh:g})"
    if name == "structural":
        signals = structure.get(partner)
        shared_bodies = sorted(
            index.bodies_of.get(target, frozenset()) & index.bodies_of.get(partner, frozenset())
        )
        if signals is None and not shared_bodies:
            return "网络中无共同邻居"
        parts = []
        if signals is not None:
            _, aa, ra, via = signals
            shown = "、".join(index.actor_names.get(z, z) for z in sorted(via)[:3])
            more = "…" if len(via) > 3 else ""
            parts.append(f"共同邻居 {len(via)} 个 ({shown}{more})")
            parts.append(f"Adamic–Adar {aa:.2f}, 资源分配 {ra:.2f}")
        if shared_bodies:
            names = "、".join(index.actor_names.get(b, b) for b in shared_bodies[:2])
            parts.append(f"同在 {names}")
        return "; ".join(parts)
    if name == "strength":
        return (
            f"{index.size_text[pos]} (同类{_top_share(float(index.size_pct[pos]))}); "
            f"PageRank {_top_share(float(index.pagerank_pct[pos]))}; "
            f"成效 {index.outcome[pos]:.2f}"
        )
    if name == "priority":
        text = index.size_text[pos]
        return ("薄弱村, " if index.weak[pos] else "非薄弱村, ") + text
    if name == "needs":
        return _explain_needs(index, target, cat, partner)
    return f"{value:.2f}"


def _explain_needs(index: RecommenderIndex, target: str, cat: int, partner: str) -> str:
    village, helper = (target, partner) if cat == _VILLAGE else (partner, target)
    own = index.needs.get(village, frozenset())
    if not own:
        return "村未列需求清单"
    offers = index.offers.get(helper, frozenset())
    kind = index.actor_kinds.get(helper)
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


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


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
    structure = _structure(index, actor) if len(order) else {}
    wd = w.as_dict()
    names = list(COMPONENTS)
    if cat != _VILLAGE:
        names[4] = "priority"
    candidates = []
    for rank, j in enumerate(order, start=1):
        pos = int(scored.index[j])
        partner = index.ids[pos]
        reasons = tuple(
            Reason(
                name=names[c],
                value=float(scored.components[c, j]),
                weight=wd[COMPONENTS[c]],
                explanation=_explain(
                    index,
                    actor,
                    cat,
                    partner,
                    names[c],
                    float(scored.components[c, j]),
                    structure,
                ),
                contribution=wd[COMPONENTS[c]] * float(scored.components[c, j]) / w.total,
            )
            for c in range(len(COMPONENTS))
        )
        candidates.append(
            Candidate(
                rank=rank,
                partner_id=partner,
                name=index.names[pos],
                label=index.labels[pos],
                kind=index.kinds[pos],
                region_code=index.codes[pos] or None,
                score=float(scored.score[j]),
                reasons=reasons,
            )
        )
    return Recommendation(
        target=actor,
        asked=target,
        target_name=index.actor_names.get(actor, actor),
        target_label=index.actor_labels.get(actor, ""),
        looking_for=tuple(CATEGORIES[c] for c in _WANTS[cat]),
        relation=relation,
        candidates=tuple(candidates),
        considered=len(scored.index),
        excluded_partners=scored.excluded_partners,
        excluded_rejected=scored.excluded_rejected,
        weights=wd,
        as_of=index.as_of,
    )
