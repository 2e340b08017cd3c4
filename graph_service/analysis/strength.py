"""Explainable link strength: how strong the tie between two actors is, and why.

A tie is scored on eight components, each in ``[0, 1]`` or *unavailable* when the graph lacks
the data it needs (see ``docs/link-strength.md`` for the model):

============== ========================================================================
duration       years since the pair's earliest link began, ``1 - exp(-years / 3)``
intensity      joint meetings a year plus listed joint activities, saturating at 12
formality      a signed agreement on a link, or a signed charter of a shared joint body
reciprocity    resources flow both ways (1), one way (0.5), recorded but none (0)
outcomes       investment, income increase, jobs, land, each against the scope's p90
multiplexity   distinct non-structural link types: 1 → 0.34, 2 → 0.67, ≥ 3 → 1
overlap        neighbourhood overlap (Onnela et al.) combined with shared joint bodies
administrative same town 1, county 0.75, city 0.5, province 0.25, otherwise 0
============== ========================================================================

``score`` is the weighted mean over the *available* components, so missing data does not
drag a tie down; ``confidence`` is the share of the total weight that was available, so
missing data shows up there instead. Each component says why it has its value: in Chinese
(``explanation``: the facts, the formula with their numbers, the scale of the score) and in
English (``explanation_en``).

References
----------
.. [1] M. S. Granovetter, "The Strength of Weak Ties", American Journal of Sociology 78(6),
   1360–1380, 1973. https://doi.org/10.1086/225469
.. [2] E. Gilbert and K. Karahalios, "Predicting Tie Strength with Social Media", Proceedings
   of the SIGCHI Conference on Human Factors in Computing Systems (CHI '09), 211–220, 2009.
   https://doi.org/10.1145/1518701.1518736
.. [3] J.-P. Onnela, J. Saramäki, J. Hyvönen, G. Szabó, D. Lazer, K. Kaski, J. Kertész and
   A.-L. Barabási, "Structure and tie strengths in mobile communication networks",
   Proceedings of the National Academy of Sciences 104(18), 7332–7336, 2007.
   https://doi.org/10.1073/pnas.0610245104
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import networkx as nx

from graph_service.analysis.graphs import filter_links
from graph_service.analysis.wording import Wording, amount, join, listing, number
from graph_service.domain import TIE_LINK_TYPES as DOMAIN_TIE_LINK_TYPES
from graph_service.schema import JOINT_BODY_KINDS, LINK_TYPES, STRUCTURAL_LINK_TYPES

__all__ = [
    "COMPONENTS",
    "COMPONENT_NAMES_ZH",
    "DURATION_SCALE_YEARS",
    "INTENSITY_SATURATION",
    "OUTCOME_METRICS",
    "TIE_LINK_TYPES",
    "StrengthComponent",
    "StrengthReference",
    "StrengthResult",
    "StrengthWeights",
    "administrative_proximity",
    "check_weights",
    "link_strength",
    "link_strengths",
    "neighbourhood_overlap",
    "strongest_links",
    "weakest_links",
]

#: Component names, in the order results list them.
COMPONENTS: Final[tuple[str, ...]] = (
    "duration",
    "intensity",
    "formality",
    "reciprocity",
    "outcomes",
    "multiplexity",
    "overlap",
    "administrative",
)

#: The 联建 relations between actors: non-structural links that are not a category tag
#: (``IN_INDUSTRY``, ``PART_OF_PROGRAM``) or a person's post (``HOLDS_POSITION``). The overlap
#: graph and the default scope of :func:`strongest_links` / :func:`weakest_links` use these.
TIE_LINK_TYPES: Final[frozenset[str]] = DOMAIN_TIE_LINK_TYPES

#: Time scale of the duration component: a tie of 3 years scores 1 - 1/e ≈ 0.63.
DURATION_SCALE_YEARS: Final[float] = 3.0
#: Joint events a year at which intensity saturates (monthly, 每月例会).
INTENSITY_SATURATION: Final[float] = 12.0
#: Link attributes the outcome component reads (summed over the pair's links).
OUTCOME_METRICS: Final[tuple[str, ...]] = (
    "investment_yuan",
    "income_increase_yuan",
    "jobs",
    "land_area_mu",
)
_MULTIPLEXITY: Final[dict[int, float]] = {0: 0.0, 1: 0.34, 2: 0.67}
_ADMIN_LEVELS: Final[tuple[tuple[int, float, str], ...]] = (
    (9, 1.0, "town"),
    (6, 0.75, "county"),
    (4, 0.5, "city"),
    (2, 0.25, "province"),
)
#: Chinese names of the components, as explanations call them.
COMPONENT_NAMES_ZH: Final[dict[str, str]] = {
    "duration": "持续时间",
    "intensity": "互动频度",
    "formality": "正式程度",
    "reciprocity": "互惠程度",
    "outcomes": "联建成效",
    "multiplexity": "联系多样性",
    "overlap": "关系重叠度",
    "administrative": "行政邻近度",
}
_LEVEL_ZH: Final[dict[str, str]] = {
    "town": "乡镇",
    "county": "县",
    "city": "市",
    "province": "省",
}
#: Link attribute → its Chinese name and unit (from the schema), for the outcome metrics.
_LINK_ATTRIBUTES: Final[dict[str, tuple[str, str]]] = {
    a.name: (a.label_zh, a.unit or "")
    for spec in LINK_TYPES.values()
    for a in spec.attributes
    if a.name in OUTCOME_METRICS
}


def _link_type_zh(type_: str) -> str:
    spec = LINK_TYPES.get(type_)
    return spec.label_zh if spec is not None else type_


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------


def check_weights(weights: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless every weight is a finite, non-negative number and one is
    positive: the rule of every weighted score here (link strength, recommendations)."""
    for name, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"weight {name} must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"weight {name} must be finite and non-negative, got {value}")
    if sum(float(v) for v in weights.values()) <= 0:
        raise ValueError("at least one weight must be positive")


@dataclass(frozen=True, slots=True)
class StrengthWeights:
    """Weights of the components (non-negative, not all zero).

    The defaults favour the substance of a tie (intensity and outcomes, 1.5 each: Gilbert &
    Karahalios found intensity and intimacy variables the strongest predictors) over the
    administrative frame (0.5: neighbours are likelier partners, not stronger ones).
    """

    duration: float = 1.0
    intensity: float = 1.5
    formality: float = 1.0
    reciprocity: float = 1.0
    outcomes: float = 1.5
    multiplexity: float = 1.0
    overlap: float = 1.0
    administrative: float = 0.5

    def __post_init__(self) -> None:
        check_weights({name: getattr(self, name) for name in COMPONENTS})

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in COMPONENTS}

    @property
    def total(self) -> float:
        return sum(self.as_dict().values())


def _quantile(values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default): position ``q·(n − 1)``."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True, slots=True)
class StrengthReference:
    """What counts as a large outcome: the value at which an outcome metric scores 1.

    Build it from the scope with :meth:`from_graph` (the 90th percentile of each metric over
    the scope's links); the defaults are round figures of the large links in the seed
    articles (流转土地3000亩, 吸纳务工300人, 村集体增收80多万元) and stand in for metrics the
    scope has no data on.
    """

    investment_yuan: float = 1_000_000.0
    income_increase_yuan: float = 1_000_000.0
    jobs: float = 300.0
    land_area_mu: float = 3_000.0
    quantile: float = 0.9
    #: Metrics that fell back to the default because the scope had no positive value.
    defaulted: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in OUTCOME_METRICS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"reference {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"reference {name} must be positive, got {value}")
        if not 0 < self.quantile <= 1:
            raise ValueError(f"quantile must be in (0, 1], got {self.quantile}")

    @classmethod
    def from_graph(
        cls,
        G: nx.MultiDiGraph,
        as_of: dt.date | None = None,
        quantile: float = 0.9,
        link_types: Iterable[str] | None = None,
    ) -> StrengthReference:
        """The ``quantile`` of each outcome metric over the links of ``G``.

        Parameters
        ----------
        G : networkx.MultiDiGraph
            The scope (the store's export).
        as_of : datetime.date, optional
            Only links (and nodes) valid on this day.
        quantile : float
            In ``(0, 1]``; 0.9 by default, so the top tenth of links saturate.
        link_types : iterable of str, optional
            Links to read; all non-structural links by default.

        Returns
        -------
        StrengthReference
            A metric without any positive value in the scope keeps its default and is listed
            in ``defaulted``.
        """
        if not 0 < quantile <= 1:
            raise ValueError(f"quantile must be in (0, 1], got {quantile}")
        H = filter_links(G, link_types, as_of)
        samples: dict[str, list[float]] = {m: [] for m in OUTCOME_METRICS}
        for _, _, data in H.edges(data=True):
            if data.get("type") in STRUCTURAL_LINK_TYPES:
                continue
            attrs = data.get("attributes") or {}
            for metric in OUTCOME_METRICS:
                value = _number(attrs.get(metric))
                if value is not None and value > 0:
                    samples[metric].append(value)
        defaults = cls()
        values: dict[str, float] = {}
        defaulted: list[str] = []
        for metric in OUTCOME_METRICS:
            if samples[metric]:
                values[metric] = _quantile(samples[metric], quantile)
            else:
                values[metric] = getattr(defaults, metric)
                defaulted.append(metric)
        return cls(**values, quantile=quantile, defaulted=tuple(defaulted))


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StrengthComponent:
    """One component of a tie's strength.

    ``value`` is ``None`` when the data is missing (``available`` is then ``False``);
    ``contribution`` is ``weight · value / Σ available weights``, so the contributions of a
    result add up to its score. ``explanation`` says in Chinese which facts gave the value
    and on what scale; ``explanation_en`` says it in English.
    """

    name: str
    value: float | None
    weight: float
    available: bool
    explanation: str
    explanation_en: str
    contribution: float = 0.0


@dataclass(frozen=True, slots=True)
class StrengthResult:
    """The strength of the tie between ``source`` and ``target`` (node ids)."""

    source: str
    target: str
    score: float
    confidence: float
    components: tuple[StrengthComponent, ...]
    #: Ids and types of the pair's non-structural links that were read.
    link_ids: tuple[str, ...]
    link_types: tuple[str, ...]
    #: Documents the pair's links cite (their ``sources``).
    documents: tuple[str, ...]
    as_of: str | None
    #: The day durations run to (``as_of``, or the day of the call).
    evaluated_on: str

    def component(self, name: str) -> StrengthComponent:
        """The component called ``name``; ``KeyError`` if there is none."""
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def administrative_proximity(code_a: str | None, code_b: str | None) -> float | None:
    """How close two division codes are: 1 same town, 0.75 county, 0.5 city, 0.25 province.

    A level counts only when both codes reach it: a county-level node (6 digits) and a
    village of that county share the county (0.75), never the town. ``None`` when a code is
    missing.

    Examples
    --------
    >>> administrative_proximity("371426001201", "371426001202")
    1.0
    >>> administrative_proximity("371426", "371426103221")
    0.75
    >>> administrative_proximity("371426", "620802")
    0.0
    """
    if not code_a or not code_b:
        return None
    for length, value, _ in _ADMIN_LEVELS:
        if len(code_a) >= length and len(code_b) >= length and code_a[:length] == code_b[:length]:
            return value
    return 0.0


def _shared_level(code_a: str, code_b: str) -> tuple[int, str] | None:
    """The deepest division both codes share: its code length and name (``town`` …)."""
    for length, _, name in _ADMIN_LEVELS:
        if len(code_a) >= length and len(code_b) >= length and code_a[:length] == code_b[:length]:
            return length, name
    return None


def neighbourhood_overlap(G: nx.Graph, u: Any, v: Any) -> float:
    """Neighbourhood overlap of ``u`` and ``v`` in a simple undirected graph.

    .. math:: O_{uv} = \\frac{n_{uv}}{|(N(u) \\cup N(v)) \\setminus \\{u, v\\}|}

    where :math:`n_{uv}` counts common neighbours. For linked nodes the denominator is
    :math:`(k_u - 1) + (k_v - 1) - n_{uv}`, Onnela et al.'s overlap [1]_; for unlinked ones
    it is :math:`k_u + k_v - n_{uv}`. An empty denominator gives 0. Nodes missing from ``G``
    have no neighbours.

    References
    ----------
    .. [1] J.-P. Onnela et al., "Structure and tie strengths in mobile communication
       networks", PNAS 104(18), 7332–7336, 2007.

    Examples
    --------
    >>> G = nx.Graph([("a", "b"), ("a", "c"), ("b", "c"), ("a", "d")])
    >>> neighbourhood_overlap(G, "a", "b")  # 1 / ((3 - 1) + (2 - 1) - 1)
    0.5
    """
    nu = set(G[u]) if u in G else set()
    nv = set(G[v]) if v in G else set()
    common = len(nu & nv)
    union = len((nu | nv) - {u, v})
    return common / union if union else 0.0


# ---------------------------------------------------------------------------------------
# The scoring context: everything computed once per graph
# ---------------------------------------------------------------------------------------


_Raw = tuple[str, float | None, Wording]


class _Context:
    """The filtered graph and the indexes every pair needs, built once."""

    def __init__(
        self,
        G: nx.MultiDiGraph,
        weights: StrengthWeights | None,
        as_of: dt.date | None,
        reference: StrengthReference | None,
    ) -> None:
        self.H = filter_links(G, None, as_of)
        self.as_of = as_of
        self.day = as_of if as_of is not None else dt.date.today()
        self.weights = weights if weights is not None else StrengthWeights()
        self.reference = (
            reference if reference is not None else StrengthReference.from_graph(G, as_of)
        )
        self.ties = nx.Graph()
        self.ties.add_nodes_from(self.H)
        #: node -> nodes joined to it by ORGANIZATION_OF (its organization or its unit)
        self.units: defaultdict[Any, set[Any]] = defaultdict(set)
        #: actor -> joint bodies it is a member of
        self.bodies: defaultdict[Any, set[Any]] = defaultdict(set)
        #: division code -> the name of its region node, for explanations ("同属龙泉镇")
        self.region_names: dict[str, str] = {
            str(d["region_code"]): str(d["name"])
            for _, d in self.H.nodes(data=True)
            if d.get("label") == "Region" and d.get("region_code") and d.get("name")
        }
        for a, b, data in self.H.edges(data=True):
            type_ = data.get("type")
            if type_ in TIE_LINK_TYPES and a != b:
                self.ties.add_edge(a, b)
            if type_ == "ORGANIZATION_OF":
                self.units[a].add(b)
                self.units[b].add(a)
            elif type_ == "MEMBER_OF" and self.is_joint_body(b):
                self.bodies[a].add(b)

    def is_joint_body(self, node: Any) -> bool:
        doc = self.H.nodes[node]
        return bool(doc.get("label") == "PartyOrganization" and doc.get("kind") in JOINT_BODY_KINDS)

    def name(self, node: Any) -> str:
        return str(self.H.nodes[node].get("name") or node)

    def actors(self, node: Any) -> set[Any]:
        """The node and its organization or unit (a village acts through its 党支部)."""
        return {node} | self.units.get(node, set())

    def bodies_of(self, node: Any) -> set[Any]:
        return set().union(*(self.bodies.get(a, set()) for a in self.actors(node)))

    def pair_links(self, u: Any, v: Any) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for a, b in ((u, v), (v, u)):
            for key, data in (self.H.get_edge_data(a, b) or {}).items():
                if data.get("type") not in STRUCTURAL_LINK_TYPES:
                    out.append((str(key), data))
        out.sort(key=lambda kd: kd[0])
        return out


def _component(name: str, value: float | None, explanation: Wording) -> _Raw:
    if value is not None:
        value = min(1.0, max(0.0, value))
    return name, value, explanation


def _scored(name: str, value: float, how: str = "") -> str:
    """The Chinese close of an explanation: the component's name, its score and scale."""
    clipped = min(1.0, max(0.0, value))
    return f"{COMPONENT_NAMES_ZH[name]}得分 {how}{clipped:.3f} (0–1 分, 1 为最高)"


def _no_link(name: str) -> _Raw:
    return _component(
        name,
        None,
        Wording(
            f"两者之间没有联建联系, 无法计算{COMPONENT_NAMES_ZH[name]}", "no link between them"
        ),
    )


def _duration(ctx: _Context, links: list[tuple[str, dict[str, Any]]]) -> _Raw:
    starts = [d for _, data in links if (d := _date(data.get("valid_from"))) is not None]
    if not links:
        return _no_link("duration")
    if not starts:
        return _component(
            "duration",
            None,
            Wording(
                "联系上未记录起始日期 (valid_from), 无法计算持续时间",
                "no start date (valid_from) on the links",
            ),
        )
    first = min(starts)
    years = max(0.0, (ctx.day - first).days / 365.25)
    value = 1.0 - math.exp(-years / DURATION_SCALE_YEARS)
    scale = f"{DURATION_SCALE_YEARS:g}"
    return _component(
        "duration",
        value,
        Wording(
            f"自 {first.isoformat()} 起建立联系, 至 {ctx.day.isoformat()} 共 {years:.2f} 年; "
            + _scored("duration", value, f"1 − e^(−{years:.2f}/{scale}) = ")
            + f", 满 {scale} 年约 0.63",
            f"linked since {first.isoformat()}: {years:.2f} years to {ctx.day.isoformat()}; "
            f"1 - exp(-{years:.2f}/{scale}) = {value:.3f}",
        ),
    )


def _intensity(ctx: _Context, links: list[tuple[str, dict[str, Any]]]) -> _Raw:
    meetings: float | None = None
    meeting_body: Any = None
    activities: set[str] = set()
    listed = False
    for _, data in links:
        attrs = data.get("attributes") or {}
        m = _number(attrs.get("meetings_per_year"))
        body = None
        if m is None and data.get("type") == "MEMBER_OF":
            body = data.get("target")
            if body in ctx.H:
                body_attrs = ctx.H.nodes[body].get("attributes") or {}
                m = _number(body_attrs.get("meetings_per_year"))
        if m is not None and (meetings is None or m > meetings):
            meetings, meeting_body = m, body
        acts = attrs.get("activities")
        if isinstance(acts, list):
            listed = True
            activities.update(str(a) for a in acts)
    if not links:
        return _no_link("intensity")
    if meetings is None and not listed:
        return _component(
            "intensity",
            None,
            Wording(
                "联系上未记录年会议次数 (meetings_per_year) 或共同活动 (activities)",
                "no meetings_per_year or activities",
            ),
        )
    events = (meetings or 0.0) + len(activities)
    value = events / INTENSITY_SATURATION
    shown = listing(sorted(activities), 5)
    saturation = f"{INTENSITY_SATURATION:g}"
    if meetings is None:
        meetings_text = Wording("会议次数未记录", "meetings unknown")
    elif meeting_body is None:
        meetings_text = Wording(
            f"每年会议 {number(meetings)} 次", f"{number(meetings)} meetings a year"
        )
    else:
        body_name = ctx.name(meeting_body)
        meetings_text = Wording(
            f"每年会议 {number(meetings)} 次 ({body_name}的例会)",
            f"{number(meetings)} meetings a year (the meetings of {body_name})",
        )
    activities_text = Wording(
        f"共同活动 {len(activities)} 项" + (f" ({shown})" if shown else ""),
        f"{len(activities)} joint activities" + (f" ({shown})" if shown else ""),
    )
    facts = join([meetings_text, activities_text])
    return _component(
        "intensity",
        value,
        Wording(
            f"{facts.zh}; 合计每年 {number(events)} 次, 以每月 1 次 (每年 {saturation} 次) 为满分: "
            + _scored("intensity", value, f"{number(events)} ÷ {saturation} = "),
            f"{facts.en}: {number(events)} events a year / {saturation} (monthly) = "
            f"{min(1.0, value):.3f}",
        ),
    )


def _formality(ctx: _Context, links: list[tuple[str, dict[str, Any]]], u: Any, v: Any) -> _Raw:
    agreement: bool | None = None
    for key, data in links:
        signed = (data.get("attributes") or {}).get("agreement_signed")
        if signed is True:
            type_ = str(data.get("type"))
            return _component(
                "formality",
                1.0,
                Wording(
                    f"{_link_type_zh(type_)}联系已签订协议 (联系 {key}); "
                    + _scored("formality", 1.0),
                    f"agreement signed (签订协议) on {type_} {key}",
                ),
            )
        if signed is False:
            agreement = False
    bodies = ctx.bodies_of(u) & ctx.bodies_of(v)
    for a, b in ((u, v), (v, u)):
        if ctx.is_joint_body(b) and b in ctx.bodies_of(a):
            bodies.add(b)
    charter: bool | None = None
    for body in sorted(bodies, key=str):
        signed = (ctx.H.nodes[body].get("attributes") or {}).get("charter_signed")
        if signed is True:
            return _component(
                "formality",
                1.0,
                Wording(
                    f"共同所在的联建组织{ctx.name(body)}已签订章程; " + _scored("formality", 1.0),
                    f"charter signed (章程) by the shared body {ctx.name(body)}",
                ),
            )
        if signed is False:
            charter = False
    if agreement is None and charter is None:
        about_links = (
            "联系上未记录是否签订协议 (agreement_signed)" if links else "两者之间没有联建联系"
        )
        return _component(
            "formality",
            None,
            Wording(
                f"{about_links}, 共同所在的联建组织也未记录章程 (charter_signed)",
                "no agreement_signed on the links, no charter on a shared body",
            ),
        )
    known = []
    if agreement is False:
        known.append(Wording("联系上记录为未签订协议", "links record no signed agreement"))
    if charter is False:
        known.append(Wording("共同所在的联建组织没有章程", "shared body has no charter"))
    facts = join(known)
    return _component(
        "formality", 0.0, Wording(f"{facts.zh}; " + _scored("formality", 0.0), facts.en)
    )


def _reciprocity(ctx: _Context, links: list[tuple[str, dict[str, Any]]], u: Any, v: Any) -> _Raw:
    flows: dict[Any, list[str]] = {u: [], v: []}  # giver -> resources
    recorded = False
    for _, data in links:
        attrs = data.get("attributes") or {}
        for key, giver in (
            ("resources_from_source", data.get("source")),
            ("resources_from_target", data.get("target")),
        ):
            resources = attrs.get(key)
            if isinstance(resources, list):
                recorded = True
                if resources and giver in flows:
                    flows[giver].extend(str(r) for r in resources)
    if not links:
        return _no_link("reciprocity")
    if not recorded:
        return _component(
            "reciprocity",
            None,
            Wording(
                "联系上未记录双方的投入 (resources_from_source/target)",
                "no resources_from_source/target on the links",
            ),
        )
    ways = sum(1 for g in (u, v) if flows[g])
    value = {0: 0.0, 1: 0.5, 2: 1.0}[ways]

    def show(g: Any, nothing: str) -> str:
        return "、".join(sorted(set(flows[g]))[:4]) or nothing

    direction = {
        2: Wording("双向互有投入", "both ways"),
        1: Wording("只有一方投入", "one way"),
        0: Wording("双方都没有投入", "none recorded"),
    }[ways]
    return _component(
        "reciprocity",
        value,
        Wording(
            f"{ctx.name(u)}投入: {show(u, '无')}; {ctx.name(v)}投入: {show(v, '无')}; "
            f"{direction.zh}: " + _scored("reciprocity", value) + ", 双向 1, 单向 0.5, 无 0",
            f"{ctx.name(u)} brings {show(u, 'nothing')}; {ctx.name(v)} brings "
            f"{show(v, 'nothing')}: {direction.en}",
        ),
    )


def _outcomes(ctx: _Context, links: list[tuple[str, dict[str, Any]]]) -> _Raw:
    totals: dict[str, float] = {}
    for _, data in links:
        attrs = data.get("attributes") or {}
        for metric in OUTCOME_METRICS:
            value = _number(attrs.get(metric))
            if value is not None:
                totals[metric] = totals.get(metric, 0.0) + max(0.0, value)
    if not links:
        return _no_link("outcomes")
    if not totals:
        return _component(
            "outcomes",
            None,
            Wording(
                "联系上未记录投资额、增收额、带动就业或涉及土地",
                "no investment, income, jobs or land on the links",
            ),
        )
    ref = ctx.reference
    scores: list[float] = []
    parts: list[Wording] = []
    percentile = round(ref.quantile * 100)
    for metric in OUTCOME_METRICS:
        if metric not in totals:
            continue
        r = float(getattr(ref, metric))
        s = min(1.0, totals[metric] / r)
        scores.append(s)
        name_zh, unit = _LINK_ATTRIBUTES[metric]
        defaulted = metric in ref.defaulted
        yardstick = "默认参考值" if defaulted else f"本范围第 {percentile} 百分位"
        parts.append(
            Wording(
                f"{name_zh} {amount(totals[metric], unit)} ÷ {yardstick} {amount(r, unit)} "
                f"= {s:.2f}",
                f"{metric} {number(totals[metric])}{unit} / "
                f"{'default' if defaulted else f'p{percentile}'} {number(r)} = {s:.2f}",
            )
        )
    value = sum(scores) / len(scores)
    facts = join(parts)
    return _component(
        "outcomes",
        value,
        Wording(
            f"{facts.zh} (每项达到参考值即为 1); "
            + _scored("outcomes", value, f"{len(scores)} 项平均 "),
            f"{facts.en}; mean {value:.3f}",
        ),
    )


def _multiplexity(links: list[tuple[str, dict[str, Any]]]) -> _Raw:
    types = sorted({str(data.get("type")) for _, data in links})
    value = _MULTIPLEXITY.get(len(types), 1.0)
    scale = "1 种 0.34, 2 种 0.67, 3 种及以上 1"
    if not types:
        return _component(
            "multiplexity",
            value,
            Wording(
                "两者之间没有联建联系; " + _scored("multiplexity", value) + f", {scale}",
                "0 link type(s): no non-structural link",
            ),
        )
    shown_zh = "、".join(f"{_link_type_zh(t)} ({t})" for t in types)
    return _component(
        "multiplexity",
        value,
        Wording(
            f"两者之间有 {len(types)} 种联系: {shown_zh}; "
            + _scored("multiplexity", value)
            + f", {scale}",
            f"{len(types)} link type(s): {', '.join(types)}",
        ),
    )


def _overlap(ctx: _Context, u: Any, v: Any) -> _Raw:
    o = neighbourhood_overlap(ctx.ties, u, v)
    nu = set(ctx.ties[u]) if u in ctx.ties else set()
    nv = set(ctx.ties[v]) if v in ctx.ties else set()
    common = len(nu & nv)
    union = len((nu | nv) - {u, v})
    shared = sorted(ctx.bodies_of(u) & ctx.bodies_of(v), key=str)
    value = 1.0 - (1.0 - o) * 0.5 ** len(shared)
    names = listing([ctx.name(b) for b in shared], 3)
    partners_zh = (
        f"两者的联建伙伴 (不含彼此) 共 {union} 个, 其中共同伙伴 {common} 个, "
        f"邻里重叠度 {common}/{union} = {o:.3f}"
        if union
        else "两者都没有其他联建伙伴, 邻里重叠度 0"
    )
    if shared:
        bodies_zh = (
            f"同在 {len(shared)} 个联建组织 ({names}), 每同在一个, 与满分的差距减半: "
            + _scored("overlap", value, f"1 − (1 − {o:.3f}) × 0.5^{len(shared)} = ")
        )
    else:
        bodies_zh = "未同在任何联建组织: " + _scored("overlap", value, "= 邻里重叠度 ")
    return _component(
        "overlap",
        value,
        Wording(
            f"{partners_zh}; {bodies_zh}",
            f"{common} common neighbours of {union}: overlap {o:.3f}; {len(shared)} shared "
            f"joint bodies{f' ({names})' if names else ''}: 1 - (1 - {o:.3f})·0.5^"
            f"{len(shared)} = {value:.3f}",
        ),
    )


def _administrative(ctx: _Context, u: Any, v: Any) -> _Raw:
    cu = ctx.H.nodes[u].get("region_code")
    cv = ctx.H.nodes[v].get("region_code")
    value = administrative_proximity(cu, cv)
    if value is None:
        missing = [n for n, c in ((u, cu), (v, cv)) if not c]
        return _component(
            "administrative",
            None,
            Wording(
                f"{'、'.join(ctx.name(n) for n in missing)}未记录区划代码, 无法判断行政邻近度",
                f"no region_code on {' and '.join(str(n) for n in missing)}",
            ),
        )
    level = _shared_level(str(cu), str(cv))
    if level is None:
        shared = Wording("不在同一省份", "different provinces")
    else:
        length, name = level
        region = ctx.region_names.get(str(cu)[:length])
        code = str(cu)[:length]
        where = f"同属{region}" if region else f"同在一个{_LEVEL_ZH[name]}"
        shared = Wording(f"{where} ({code})", f"same {name}")
    return _component(
        "administrative",
        value,
        Wording(
            f"区划代码 {cu} 与 {cv}: {shared.zh}; "
            + _scored("administrative", value)
            + ", 同乡镇 1, 同县 0.75, 同市 0.5, 同省 0.25, 不同省 0",
            f"{cu} and {cv}: {shared.en}",
        ),
    )


def _score(ctx: _Context, u: Any, v: Any) -> StrengthResult:
    if u not in ctx.H:
        raise nx.NodeNotFound(f"node {u!r} is not in the graph (or not valid on as_of)")
    if v not in ctx.H:
        raise nx.NodeNotFound(f"node {v!r} is not in the graph (or not valid on as_of)")
    if u == v:
        raise ValueError(f"a tie needs two nodes, got {u!r} twice")
    links = ctx.pair_links(u, v)
    raw = (
        _duration(ctx, links),
        _intensity(ctx, links),
        _formality(ctx, links, u, v),
        _reciprocity(ctx, links, u, v),
        _outcomes(ctx, links),
        _multiplexity(links),
        _overlap(ctx, u, v),
        _administrative(ctx, u, v),
    )
    weights = ctx.weights.as_dict()
    available_weight = sum(weights[name] for name, value, _ in raw if value is not None)
    total = sum(weights.values())
    components = []
    weighted = 0.0
    for name, value, explanation in raw:
        w = weights[name]
        contribution = 0.0
        if value is not None and available_weight > 0:
            contribution = w * value / available_weight
            weighted += contribution
        components.append(
            StrengthComponent(
                name, value, w, value is not None, explanation.zh, explanation.en, contribution
            )
        )
    documents = sorted(
        {
            str(s["document"])
            for _, data in links
            for s in data.get("sources") or []
            if isinstance(s, Mapping) and s.get("document")
        }
    )
    return StrengthResult(
        source=str(u),
        target=str(v),
        score=min(1.0, weighted),
        confidence=available_weight / total,
        components=tuple(components),
        link_ids=tuple(key for key, _ in links),
        link_types=tuple(sorted({str(data.get("type")) for _, data in links})),
        documents=tuple(documents),
        as_of=ctx.as_of.isoformat() if ctx.as_of is not None else None,
        evaluated_on=ctx.day.isoformat(),
    )


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def link_strength(
    G: nx.MultiDiGraph,
    u: str,
    v: str,
    weights: StrengthWeights | None = None,
    as_of: dt.date | None = None,
    reference: StrengthReference | None = None,
) -> StrengthResult:
    """The explained strength of the tie between ``u`` and ``v`` (linked or not).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export: node documents on nodes, link documents on edges keyed by link
        id. Include structural links (``ORGANIZATION_OF``) so a village's 党支部 counts as
        the village for shared joint bodies.
    u, v : str
        Node ids. The result is symmetric in them.
    weights : StrengthWeights, optional
        Component weights; :class:`StrengthWeights` defaults when omitted.
    as_of : datetime.date, optional
        Read only nodes and links valid on this day, and measure durations up to it
        (to today when omitted, reading every node and link).
    reference : StrengthReference, optional
        Outcome scale; ``StrengthReference.from_graph(G, as_of)`` when omitted.

    Returns
    -------
    StrengthResult
        ``score`` = Σ wᵢ·vᵢ / Σ wᵢ over the available components; ``confidence`` =
        Σ available wᵢ / Σ all wᵢ.

    Raises
    ------
    networkx.NodeNotFound
        If ``u`` or ``v`` is not in ``G`` (or not valid on ``as_of``).
    ValueError
        If ``u == v``.

    See Also
    --------
    link_strengths : many pairs, indexes built once.

    References
    ----------
    .. [1] M. S. Granovetter, "The Strength of Weak Ties", American Journal of Sociology
       78(6), 1360–1380, 1973.
    .. [2] E. Gilbert and K. Karahalios, "Predicting Tie Strength with Social Media", CHI '09,
       211–220, 2009.
    .. [3] J.-P. Onnela et al., "Structure and tie strengths in mobile communication
       networks", PNAS 104(18), 7332–7336, 2007.
    """
    return _score(_Context(G, weights, as_of, reference), u, v)


def link_strengths(
    G: nx.MultiDiGraph,
    pairs: Iterable[tuple[str, str]],
    weights: StrengthWeights | None = None,
    as_of: dt.date | None = None,
    reference: StrengthReference | None = None,
) -> list[StrengthResult]:
    """:func:`link_strength` for each of ``pairs``, in order, building the indexes once."""
    ctx = _Context(G, weights, as_of, reference)
    return [_score(ctx, u, v) for u, v in pairs]


def _linked_pairs(H: nx.MultiDiGraph, link_types: Iterable[str] | None) -> list[tuple[str, str]]:
    types = set(link_types) if link_types is not None else set(TIE_LINK_TYPES)
    unknown = types - set(LINK_TYPES)
    if unknown:
        raise ValueError(f"unknown link types: {', '.join(sorted(unknown))}")
    types -= STRUCTURAL_LINK_TYPES
    pairs: dict[tuple[str, str], tuple[Any, Any]] = {}
    for a, b, data in H.edges(data=True):
        if a == b or data.get("type") not in types:
            continue
        key = (str(a), str(b)) if str(a) <= str(b) else (str(b), str(a))
        pairs.setdefault(key, (a, b) if key[0] == str(a) else (b, a))
    return [pairs[k] for k in sorted(pairs)]


def _ranked(
    G: nx.MultiDiGraph,
    top: int | None,
    weights: StrengthWeights | None,
    as_of: dt.date | None,
    reference: StrengthReference | None,
    link_types: Iterable[str] | None,
    strongest: bool,
) -> list[StrengthResult]:
    if top is not None and top < 0:
        raise ValueError(f"top must be non-negative, got {top}")
    ctx = _Context(G, weights, as_of, reference)
    results = [_score(ctx, a, b) for a, b in _linked_pairs(ctx.H, link_types)]
    sign = -1.0 if strongest else 1.0
    results.sort(key=lambda r: (sign * r.score, -r.confidence, r.source, r.target))
    return results if top is None else results[:top]


def strongest_links(
    G: nx.MultiDiGraph,
    top: int | None = 20,
    weights: StrengthWeights | None = None,
    as_of: dt.date | None = None,
    reference: StrengthReference | None = None,
    link_types: Iterable[str] | None = None,
) -> list[StrengthResult]:
    """The ``top`` strongest linked pairs of ``G``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The scope.
    top : int or None
        How many pairs (all when ``None``).
    weights, as_of, reference
        As for :func:`link_strength`; the reference is computed once for the scope.
    link_types : iterable of str, optional
        The links that make a pair; :data:`TIE_LINK_TYPES` by default. Structural types are
        always left out. All of a pair's non-structural links are scored, whatever its type.

    Returns
    -------
    list of StrengthResult
        Ordered by score (highest first), then confidence (highest first), then the ids;
        each pair once, ``source`` < ``target``.

    References
    ----------
    .. [1] J.-P. Onnela et al., "Structure and tie strengths in mobile communication
       networks", PNAS 104(18), 7332–7336, 2007.
    """
    return _ranked(G, top, weights, as_of, reference, link_types, strongest=True)


def weakest_links(
    G: nx.MultiDiGraph,
    top: int | None = 20,
    weights: StrengthWeights | None = None,
    as_of: dt.date | None = None,
    reference: StrengthReference | None = None,
    link_types: Iterable[str] | None = None,
) -> list[StrengthResult]:
    """The ``top`` weakest linked pairs of ``G``.

    As :func:`strongest_links`, ordered by score (lowest first), then confidence (highest
    first: the surest weak ties lead), then the ids.

    References
    ----------
    .. [1] M. S. Granovetter, "The Strength of Weak Ties", American Journal of Sociology
       78(6), 1360–1380, 1973.
    """
    return _ranked(G, top, weights, as_of, reference, link_types, strongest=False)
