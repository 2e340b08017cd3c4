"""Coverage and gaps per region: which villages a joint body or a pairing reaches.

A village is **covered by a joint body** when it, or its own party organization (the source
of an ``ORGANIZATION_OF`` link to it), is ``MEMBER_OF`` a party organization whose kind is
a joint-body kind (联合党委, 党建联合体 …: :data:`graph_service.schema.JOINT_BODY_KINDS`) —
the rule the store's coverage uses. It is **covered by a pairing** when a ``PAIRS_WITH`` link
(结对帮扶, 百企帮百村) targets it or its organization. Counts and rates are given for the
region and for each child region one code level down (province 2 → city 4 → county 6 →
town 9 digits), beside the figures the region's sources state (平原县: 62 联合体 cover all
424 villages), so callers can set the graph against the articles.

**Weak villages** (薄弱村) are those of :mod:`graph_service.analysis.weakness` (the one
definition the recommender and plans use too): listed as weak (attribute ``weak``), with a
collective income below a threshold, or — when neither is recorded — with fewer than a minimum
number of 联建 links. A weak village *without a strong partner* has no pairing helper or
co-building partner whose tie scores at least ``strong_threshold`` under
:func:`graph_service.analysis.strength.link_strength`.

References
----------
.. [1] 大众日报, “平原红” 铺就高质量发展底色 (seed document 000): "目前,平原县共打造联合体
   62个,覆盖行政村424个,覆盖率100%。"
.. [2] M. S. Granovetter, "The Strength of Weak Ties", American Journal of Sociology 78(6),
   1360–1380, 1973 (the tie-strength model behind "strong partner").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import networkx as nx

from graph_service.analysis.graphs import filter_links
from graph_service.analysis.strength import (
    StrengthReference,
    StrengthWeights,
    link_strengths,
)
from graph_service.analysis.weakness import organizations_of, village_weakness
from graph_service.analysis.wording import Wording, amount, join
from graph_service.domain import (
    DIVISION_CODE_LENGTHS,
    REGION_CODE_LENGTHS,
    WEAK_INCOME_YUAN,
    WEAK_MIN_TIE_LINKS,
)
from graph_service.schema import JOINT_BODY_KINDS

__all__ = [
    "CHILD_CODE_LENGTH",
    "DEFAULT_WEAK_INCOME_YUAN",
    "CoverageCounts",
    "CoverageReport",
    "PartnerStrength",
    "VillageCoverage",
    "WeakVillage",
    "coverage_report",
    "village_coverage",
]

#: Code length of the next level down: province → city → county → town.
CHILD_CODE_LENGTH: Final[dict[int, int]] = dict(itertools.pairwise(REGION_CODE_LENGTHS))
DEFAULT_WEAK_INCOME_YUAN: Final[float] = WEAK_INCOME_YUAN
_CODE_LENGTHS: Final[frozenset[int]] = frozenset(DIVISION_CODE_LENGTHS)


@dataclass(frozen=True, slots=True)
class VillageCoverage:
    """What reaches one village: the joint bodies it is in, the helpers paired with it."""

    village_id: str
    name: str
    region_code: str
    #: Party organizations of the village (``ORGANIZATION_OF`` sources).
    organizations: tuple[str, ...]
    joint_bodies: tuple[str, ...]
    #: Sources of ``PAIRS_WITH`` links to the village or its organization.
    helpers: tuple[str, ...]

    @property
    def in_joint_body(self) -> bool:
        return bool(self.joint_bodies)

    @property
    def paired(self) -> bool:
        return bool(self.helpers)


@dataclass(frozen=True, slots=True)
class CoverageCounts:
    """Coverage of the villages of one region (``region_code`` prefix)."""

    region_code: str
    name: str | None
    villages: int
    #: Villages in a joint body (directly or through their organization).
    joint_body: int
    #: Villages with a pairing helper.
    pairing: int
    both: int
    neither: int
    #: Rates over ``villages``; ``None`` for a region without villages.
    joint_body_rate: float | None
    pairing_rate: float | None
    #: Share covered by a joint body or a pairing.
    any_rate: float | None
    #: Villages in no joint body, and villages reached by nothing.
    without_joint_body: tuple[str, ...]
    without_any: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PartnerStrength:
    """A pairing helper or co-building partner of a weak village, with its tie strength."""

    partner_id: str
    partner_name: str
    #: The village or its organization: the end of the partner's link.
    via: str
    link_types: tuple[str, ...]
    score: float
    confidence: float


@dataclass(frozen=True, slots=True)
class WeakVillage:
    village_id: str
    name: str
    region_code: str
    #: ``listed_weak``, ``low_income``, ``few_links``.
    reasons: tuple[str, ...]
    collective_income_yuan: float | None
    #: 联建 links (:data:`~graph_service.analysis.strength.TIE_LINK_TYPES`) of the village
    #: and its organization.
    links: int
    partners: tuple[PartnerStrength, ...]
    has_strong_partner: bool
    #: The reasons and the partners' strength in words: Chinese, and English.
    explanation: str
    explanation_en: str


@dataclass(frozen=True, slots=True)
class CoverageReport:
    region_code: str
    name: str | None
    as_of: str | None
    total: CoverageCounts
    children: tuple[CoverageCounts, ...]
    villages: tuple[VillageCoverage, ...]
    #: Empty when the report was asked without weak villages.
    weak_villages: tuple[WeakVillage, ...]
    weak_without_strong_partner: int
    strong_threshold: float
    #: The region node's stated ``figures`` (metric, label, value, unit, quote …), as stored.
    stated_figures: tuple[dict[str, Any], ...]

    def stated(self, metric: str) -> float | None:
        """The stated value of ``metric`` (``villages_covered`` …), if the region has one."""
        for figure in self.stated_figures:
            if figure.get("metric") == metric and isinstance(figure.get("value"), int | float):
                return float(figure["value"])
        return None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _counts(code: str, name: str | None, villages: list[VillageCoverage]) -> CoverageCounts:
    joint = [v for v in villages if v.in_joint_body]
    paired = [v for v in villages if v.paired]
    both = sum(1 for v in villages if v.in_joint_body and v.paired)
    neither = [v.village_id for v in villages if not (v.in_joint_body or v.paired)]
    n = len(villages)
    return CoverageCounts(
        region_code=code,
        name=name,
        villages=n,
        joint_body=len(joint),
        pairing=len(paired),
        both=both,
        neither=len(neither),
        joint_body_rate=_rate(len(joint), n),
        pairing_rate=_rate(len(paired), n),
        any_rate=_rate(n - len(neither), n),
        without_joint_body=tuple(v.village_id for v in villages if not v.in_joint_body),
        without_any=tuple(neither),
    )


def _check_code(region_code: str) -> None:
    if not (region_code.isdigit() and len(region_code) in _CODE_LENGTHS):
        raise ValueError(
            f"region_code must be a division code of 2, 4, 6, 9 or 12 digits, got {region_code!r}"
        )


def _is_joint_body(H: nx.MultiDiGraph, node: Any) -> bool:
    doc = H.nodes[node]
    return bool(doc.get("label") == "PartyOrganization" and doc.get("kind") in JOINT_BODY_KINDS)


def _village_coverage(H: nx.MultiDiGraph, village: Any) -> VillageCoverage:
    doc = H.nodes[village]
    orgs = organizations_of(H, village)
    bodies: set[Any] = set()
    helpers: set[Any] = set()
    for actor in (village, *orgs):
        for _, body, d in H.out_edges(actor, data=True):
            if d.get("type") == "MEMBER_OF" and _is_joint_body(H, body):
                bodies.add(body)
        for helper, _, d in H.in_edges(actor, data=True):
            if d.get("type") == "PAIRS_WITH" and helper != village and helper not in orgs:
                helpers.add(helper)
    return VillageCoverage(
        village_id=str(village),
        name=str(doc.get("name") or village),
        region_code=str(doc.get("region_code") or ""),
        organizations=tuple(str(o) for o in orgs),
        joint_bodies=tuple(sorted(str(b) for b in bodies)),
        helpers=tuple(sorted(str(h) for h in helpers)),
    )


def village_coverage(
    G: nx.MultiDiGraph, region_code: str, as_of: dt.date | None = None
) -> list[VillageCoverage]:
    """The coverage of each village whose ``region_code`` starts with ``region_code``.

    Villages (and the links and bodies that reach them) must be valid on ``as_of``. Sorted
    by village code, then id.
    """
    _check_code(region_code)
    H = filter_links(G, None, as_of)
    return _villages_of(H, region_code)


def _villages_of(H: nx.MultiDiGraph, region_code: str) -> list[VillageCoverage]:
    villages = [
        n
        for n, d in H.nodes(data=True)
        if d.get("label") == "Village" and str(d.get("region_code") or "").startswith(region_code)
    ]
    villages.sort(key=lambda n: (str(H.nodes[n].get("region_code")), str(n)))
    return [_village_coverage(H, v) for v in villages]


def _region_nodes(H: nx.MultiDiGraph, prefix: str) -> dict[str, dict[str, Any]]:
    """Region documents under ``prefix`` (inclusive) by code."""
    out: dict[str, dict[str, Any]] = {}
    for _, d in sorted(H.nodes(data=True), key=lambda nd: str(nd[0])):
        code = str(d.get("region_code") or "")
        if d.get("label") == "Region" and code.startswith(prefix):
            out.setdefault(code, d)
    return out


def _weak_villages(
    G: nx.MultiDiGraph,
    H: nx.MultiDiGraph,
    covered: list[VillageCoverage],
    as_of: dt.date | None,
    strong_threshold: float,
    weak_income_yuan: float,
    min_links: int,
    weights: StrengthWeights | None,
    reference: StrengthReference | None,
) -> list[WeakVillage]:
    found: list[tuple[VillageCoverage, tuple[str, ...], float | None, int]] = []
    # partner candidates: (village index, partner, via, link type)
    candidates: defaultdict[int, dict[tuple[Any, Any], set[str]]] = defaultdict(dict)
    for vc in covered:
        village = vc.village_id
        actors = {village, *vc.organizations}
        weakness = village_weakness(
            H, village, vc.organizations, income_yuan=weak_income_yuan, min_links=min_links
        )
        if not weakness.weak:
            continue
        index = len(found)
        found.append((vc, weakness.reasons, weakness.collective_income_yuan, weakness.tie_links))
        for actor in sorted(actors, key=str):
            for helper, _, d in H.in_edges(actor, data=True):
                if d.get("type") == "PAIRS_WITH" and helper not in actors:
                    candidates[index].setdefault((helper, actor), set()).add("PAIRS_WITH")
            for a, b, d in (*H.in_edges(actor, data=True), *H.out_edges(actor, data=True)):
                other = b if a == actor else a
                if d.get("type") == "CO_BUILDS" and other not in actors:
                    candidates[index].setdefault((other, actor), set()).add("CO_BUILDS")
    pairs = [pair for index in range(len(found)) for pair in sorted(candidates[index], key=str)]
    strengths = iter(link_strengths(G, pairs, weights, as_of, reference) if pairs else [])
    out: list[WeakVillage] = []
    for index, (vc, reasons, income_value, n_links) in enumerate(found):
        partners = []
        for partner, via in sorted(candidates[index], key=str):
            result = next(strengths)
            partners.append(
                PartnerStrength(
                    partner_id=str(partner),
                    partner_name=str(H.nodes[partner].get("name") or partner),
                    via=str(via),
                    link_types=tuple(sorted(candidates[index][(partner, via)])),
                    score=result.score,
                    confidence=result.confidence,
                )
            )
        partners.sort(key=lambda p: (-p.score, p.partner_id, p.via))
        said = _why_weak(
            reasons, income_value, n_links, partners, strong_threshold, weak_income_yuan, min_links
        )
        out.append(
            WeakVillage(
                village_id=vc.village_id,
                name=vc.name,
                region_code=vc.region_code,
                reasons=reasons,
                collective_income_yuan=income_value,
                links=n_links,
                partners=tuple(partners),
                has_strong_partner=any(p.score >= strong_threshold for p in partners),
                explanation=said.zh,
                explanation_en=said.en,
            )
        )
    return out


def _why_weak(
    reasons: tuple[str, ...],
    income: float | None,
    links: int,
    partners: list[PartnerStrength],
    strong_threshold: float,
    weak_income_yuan: float,
    min_links: int,
) -> Wording:
    """Why a village counts as weak, and how strong its partners are, in words."""
    parts = []
    if "listed_weak" in reasons:
        parts.append(Wording("被列为薄弱村", "listed weak"))
    if "low_income" in reasons and income is not None:
        has, bar = amount(income, "元"), amount(weak_income_yuan, "元")
        parts.append(
            Wording(
                f"村集体收入 {has}, 低于薄弱村标准 {bar}", f"collective income {has} below {bar}"
            )
        )
    if "few_links" in reasons:
        parts.append(
            Wording(
                f"联建联系 {links} 条, 少于 {min_links} 条",
                f"{links} 联建 link(s), fewer than {min_links}",
            )
        )
    if not partners:
        parts.append(Wording("没有结对帮扶或联建共建伙伴", "no pairing or co-building partner"))
    else:
        best = partners[0].score
        strong = best >= strong_threshold
        parts.append(
            Wording(
                f"结对/共建伙伴 {len(partners)} 个, 最强的联系强度 {best:.2f} "
                f"(0–1 分, 达到 {strong_threshold:g} 为强), "
                + ("有强伙伴" if strong else "尚无强伙伴"),
                f"{len(partners)} partner(s), strongest tie {best:.2f} "
                f"({'strong' if strong else 'none strong'} at {strong_threshold:g})",
            )
        )
    return join(parts)


def coverage_report(
    G: nx.MultiDiGraph,
    region_code: str,
    as_of: dt.date | None = None,
    strong_threshold: float = 0.5,
    *,
    weak_income_yuan: float = DEFAULT_WEAK_INCOME_YUAN,
    min_links: int = WEAK_MIN_TIE_LINKS,
    weights: StrengthWeights | None = None,
    reference: StrengthReference | None = None,
    include_weak: bool = True,
) -> CoverageReport:
    """Coverage of the villages under ``region_code`` by joint bodies and pairings.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The store's export, with structural links (``ORGANIZATION_OF`` makes a village's
        党支部 count for the village).
    region_code : str
        Division code (2, 4, 6, 9 or 12 digits); villages whose code starts with it count.
    as_of : datetime.date, optional
        Only villages, bodies and links valid on this day.
    strong_threshold : float
        In ``[0, 1]``: the tie strength a partner needs to count as strong.
    weak_income_yuan : float
        Collective income a year below which a village is weak.
    min_links : int
        A village of unknown standing (no ``weak`` flag, no income) with fewer 联建 links
        (with its organization's) than this is weak; the default 1 flags isolated villages.
    weights, reference
        Passed to :func:`~graph_service.analysis.strength.link_strengths`.
    include_weak : bool
        Whether to find weak villages and score their partners (the costly part).

    Returns
    -------
    CoverageReport
        ``total`` for the region, ``children`` for each child region (regions of the next
        code level found in ``G``, or implied by village codes), the coverage of each
        village, the weak villages with their partners, and the region's stated figures.

    References
    ----------
    .. [1] 大众日报, “平原红” 铺就高质量发展底色 (seed document 000).
    """
    _check_code(region_code)
    if not 0 <= strong_threshold <= 1:
        raise ValueError(f"strong_threshold must be in [0, 1], got {strong_threshold}")
    if min_links < 0:
        raise ValueError(f"min_links must be non-negative, got {min_links}")
    H = filter_links(G, None, as_of)
    villages = _villages_of(H, region_code)
    regions = _region_nodes(H, region_code)
    region = regions.get(region_code)
    name = str(region["name"]) if region is not None and region.get("name") else None
    figures = tuple(dict(f) for f in (region or {}).get("figures") or [] if isinstance(f, Mapping))
    children: list[CoverageCounts] = []
    child_length = CHILD_CODE_LENGTH.get(len(region_code))
    if child_length is not None:
        by_child: defaultdict[str, list[VillageCoverage]] = defaultdict(list)
        for v in villages:
            by_child[v.region_code[:child_length]].append(v)
        codes = set(by_child) | {c for c in regions if len(c) == child_length}
        for code in sorted(codes):
            child = regions.get(code)
            child_name = str(child["name"]) if child is not None and child.get("name") else None
            children.append(_counts(code, child_name, by_child.get(code, [])))
    weak: list[WeakVillage] = []
    if include_weak:
        weak = _weak_villages(
            G,
            H,
            villages,
            as_of,
            strong_threshold,
            weak_income_yuan,
            min_links,
            weights,
            reference,
        )
    return CoverageReport(
        region_code=region_code,
        name=name,
        as_of=as_of.isoformat() if as_of is not None else None,
        total=_counts(region_code, name, villages),
        children=tuple(children),
        villages=tuple(villages),
        weak_villages=tuple(weak),
        weak_without_strong_partner=sum(1 for w in weak if not w.has_strong_partner),
        strong_threshold=strong_threshold,
        stated_figures=figures,
    )
