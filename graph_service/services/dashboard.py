"""The situation page of a region (``/dashboard``): one answer composed of the analyses the API
serves one by one, as a county organization department reads them.

Each part is the same service call the matching analysis route makes, with that route's
defaults, for the same caller view (so a chart shows exactly what ``/v1/analysis/…`` returns,
and nothing the caller may not see): coverage and weak villages (``/v1/analysis/coverage``),
rule breaches (``/v1/analysis/rules``), top-N centrality (``/v1/analysis/centrality``),
communities against the joint bodies (``/v1/analysis/communities``), the best partner of weak
villages without one (``/v1/recommendations/partners``); plus two summaries of the region's
graph (``analysis.trends``): links in force year by year and the distribution of link strength.
The answer's shape is documented in ``docs/dashboard.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import networkx as nx

from graph_service.analysis import strength as strength_model
from graph_service.analysis import trends
from graph_service.domain import (
    MAX_LISTED,
    MAX_LISTED_MEMBERS,
    MEASURE_LABELS_ZH,
    STRONG_LINK_THRESHOLD,
    parent_code,
)
from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.schema import JOINT_BODY_KINDS, LINK_TYPES
from graph_service.services.analysis import AnalysisService, parse_scope
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.listing import Limit, listing
from graph_service.services.recommendations import RecommendationService
from graph_service.services.references import resolve_scope
from graph_service.services.view import GraphView
from graph_service.services.work import VersionedCache

__all__ = ["CARDS", "DashboardRequest", "DashboardService"]

#: The headline cards, in the page's order: key → (label, unit).
CARDS: Final[dict[str, tuple[str, str]]] = {
    "villages": ("行政村", "个"),
    "joint_bodies": ("联建组织", "个"),
    "coverage": ("联合体覆盖率", "%"),
    "weak_villages": ("薄弱村", "个"),
    "rule_breaches": ("规则违反", "项"),
}
#: The links-by-year chart reaches back this many years at most (founding dates of the
#: 1950s would stretch the axis over decades without a link).
YEARS_BACK: Final[int] = 15
#: Bins of the link-strength histogram over [0, 1].
STRENGTH_BINS: Final[int] = 10
#: Louvain as the communities route runs it by default.
_LOUVAIN_SEED: Final[int] = 0
_LOUVAIN_RESOLUTION: Final[float] = 1.0
#: Centrality as the route computes it by default: exact up to this many nodes.
_EXACT_MAX: Final[int] = 5000


@dataclass(frozen=True, slots=True)
class DashboardRequest:
    """What the page asks: a region on a day, compared with an earlier day."""

    region: str
    as_of: dt.date | None = None
    since: dt.date | None = None
    measure: str = "pagerank"
    top: int = 20
    pairings: int = 20
    limit: int = 200


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100.0 * rate, 1)


def _change(value: float | None, previous: float | None) -> float | None:
    if value is None or previous is None:
        return None
    change = value - previous
    return round(change, 1) if isinstance(change, float) else change


@dataclass(frozen=True, slots=True)
class _Situation:
    """What the graph alone decides of a page (everything but the proposed pairings, which a
    planner's judgement changes without a new store version)."""

    page: dict[str, Any]
    #: Weak villages without any partner, in the coverage analysis's order.
    unpartnered: list[dict[str, Any]]


class DashboardService:
    """Compose a region's situation page from the analysis and recommendation services.

    The graph's part of a page is kept per store version, audience and parameters (the
    service's one cache policy, ``VersionedCache``): a page asked again, or by a colleague,
    costs only its pairings. A computation that outlives its request's time budget goes on
    and lands in the cache, so the page's retry after ``Retry-After`` finds it.
    """

    def __init__(
        self,
        analysis: AnalysisService,
        recommendations: RecommendationService,
        cache_entries: int = 64,
    ) -> None:
        self.analysis = analysis
        self.recommendations = recommendations
        self._situations: VersionedCache[_Situation] = VersionedCache(cache_entries)
        #: Told of each page answered, with its audience (services/dashboard_warmup.py).
        self.on_page: Callable[[DashboardRequest, str], None] | None = None

    async def situation(self, view: GraphView, request: DashboardRequest) -> dict[str, Any]:
        """The whole page for ``request`` (see ``docs/dashboard.md``).

        Raises ``InvalidInputError`` for a ``since`` after ``as_of`` and ``NotFoundError``
        for a region the caller cannot see, as the analysis routes do.
        """
        # A page is of a day: today's when none is asked (the analyses' own default, no date,
        # would count links that ended or have not begun).
        today = request.as_of or dt.date.today()
        if request.since is not None and request.since > today:
            raise InvalidInputError("since is after as_of", field="since")
        asked, request = request, dataclasses.replace(request, as_of=today)
        version = await view.store.version()
        audience = (await view.policy()).audience
        found = await self._situations.get_or_compute(
            (version, audience, dataclasses.replace(request, pairings=0)),
            version,
            lambda: self._graph_part(view, request, today),
        )
        page = {**found.page, "pairings": await self._pairings(view, found.unpartnered, request)}
        if self.on_page is not None:
            self.on_page(asked, audience)
        return page

    async def _graph_part(
        self, view: GraphView, request: DashboardRequest, today: dt.date
    ) -> _Situation:
        region = await self._region(view, request.region)
        ties = await self._scope(view, request.region, request.as_of)
        # The page is kept for the store version: it must be of that version, not of a graph
        # within the staleness bound (a planner's accepted pairing would stay listed as long
        # as the version lasts). The analyses below then find these graphs in the cache.
        used = [(True, request.as_of), (False, request.as_of), (False, None)]
        if request.since is not None:
            used += [(True, request.since), (False, request.since)]
        for structural, day in used:  # the scopes of coverage, the ties' analyses and trends
            scope = AnalysisScope("region", request.region, 2, (), structural, day)
            await view.graph(scope, exact=True)
        coverage = await self.analysis.coverage(
            view, request.region, request.as_of, STRONG_LINK_THRESHOLD, False, MAX_LISTED
        )
        rules = await self.analysis.rule_check(view, ties)
        cards = await self._cards(view, request.region, request.as_of, coverage, rules)
        if request.since is not None:
            earlier = await self._cards(view, request.region, request.since, None, None)
            for card, before in zip(cards, earlier, strict=True):
                card["previous"] = before["value"]
                card["change"] = _change(card["value"], before["value"])
        # Without a partner: no pairing or co-building partner, and in no joint body (joining
        # one, which the recommender proposes too, is a partnership as well).
        outside = {v["id"] for v in coverage["total"]["without_joint_body"]["items"]}
        unpartnered = [
            v
            for v in coverage["weak_villages"]["items"]
            if not v["partners"] and v["village_id"] in outside
        ]
        page = {
            "region": region,
            "as_of": today.isoformat(),
            "since": request.since.isoformat() if request.since else None,
            "cards": cards,
            "coverage_by_town": [self._town(row) for row in coverage["children"]],
            **await self._trends(view, request.region, request.as_of, today),
            "centrality": await self._centrality(view, ties, request),
            "communities": await self._communities(view, ties, request.limit),
            "unpartnered_weak": listing(
                [self._weak(v) for v in unpartnered[: request.limit]],
                Limit(request.limit, "limit", MAX_LISTED),
                len(unpartnered),
            ),
            "breaches": self._breaches(rules),
        }
        return _Situation(page, unpartnered)

    # ------------------------------------------------------------------ parts

    @staticmethod
    async def _scope(view: GraphView, region: str, as_of: dt.date | None) -> AnalysisScope:
        """The scope ``scope=region:CODE`` names on the analysis routes, with their defaults."""
        return await resolve_scope(view, parse_scope(f"region:{region}", 2, (), False, as_of))

    @staticmethod
    async def _region(view: GraphView, code: str) -> dict[str, Any]:
        summary = await view.region_summary(code)
        node = summary["region"]
        ancestors: list[str] = []
        up = parent_code(code)
        while up is not None:
            ancestors.insert(0, f"region:{up}")
            up = parent_code(up)
        found = await view.get_nodes(ancestors)
        return {
            "code": node["region_code"],
            "name": node["name"],
            "level": node.get("kind"),
            "path": [
                {
                    "code": found[a]["region_code"],
                    "name": found[a]["name"],
                    "level": found[a]["kind"],
                }
                for a in ancestors
                if a in found
            ],
            "children": [
                {"code": c["region_code"], "name": c["name"], "level": c["kind"]}
                for c in sorted(summary["children"], key=lambda c: str(c["region_code"]))
            ],
        }

    async def _cards(
        self,
        view: GraphView,
        region: str,
        as_of: dt.date | None,
        coverage: Mapping[str, Any] | None,
        rules: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        """The five headline figures on ``as_of`` (computed when not handed in)."""
        if coverage is None:
            coverage = await self.analysis.coverage(
                view, region, as_of, STRONG_LINK_THRESHOLD, False, 0
            )
        if rules is None:
            rules = await self.analysis.rule_check(view, await self._scope(view, region, as_of))
        graph, _ = await view.graph(AnalysisScope("region", region, 2, (), True, as_of))
        total = coverage["total"]
        values: dict[str, float | int | None] = {
            "villages": total["villages"],
            "joint_bodies": _joint_bodies(graph, region),
            "coverage": _percent(total["joint_body_rate"]),
            "weak_villages": coverage["weak_villages"]["total"],
            "rule_breaches": rules["breaches"],
        }
        return [
            {
                "key": key,
                "label": label,
                "unit": unit,
                "value": values[key],
                "previous": None,
                "change": None,
            }
            for key, (label, unit) in CARDS.items()
        ]

    @staticmethod
    def _town(row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "code": row["region_code"],
            "name": row["name"],
            "villages": row["villages"],
            "covered": row["joint_body"],
            "rate": _percent(row["joint_body_rate"]),
        }

    async def _trends(
        self, view: GraphView, region: str, as_of: dt.date | None, today: dt.date
    ) -> dict[str, Any]:
        """Links in force year by year (every date, so undated: ``as_of`` None) and the
        strength of every linked pair on ``as_of``."""
        graph, key = await view.graph(AnalysisScope("region", region, 2, (), False, None))
        years = trends.year_span(graph, today, earliest=today.year - YEARS_BACK)
        counted = await view.graphs.derive(
            key, f"links-by-year:{today.isoformat()}", trends.links_by_year, graph, years, today
        )
        dated, dated_key = await view.graph(AnalysisScope("region", region, 2, (), False, as_of))
        scores = await view.graphs.derive(dated_key, "strength-scores", _scores, dated, as_of)
        histogram = trends.strength_histogram(scores, STRENGTH_BINS)
        return {
            "links_by_year": {
                "years": counted.years,
                "series": [
                    {
                        "type": type_,
                        "label": LINK_TYPES[type_].label_zh,
                        "counts": counts,
                        "undated": counted.undated[type_],
                    }
                    for type_, counts in counted.counts.items()
                    if type_ in LINK_TYPES
                ],
            },
            "strength_histogram": {
                "bins": [
                    {"from": low, "to": high, "count": count}
                    for low, high, count in zip(
                        histogram.edges, histogram.edges[1:], histogram.counts, strict=False
                    )
                ],
                "links": histogram.total,
                "median": None if histogram.median is None else round(histogram.median, 4),
            },
        }

    async def _centrality(
        self, view: GraphView, scope: AnalysisScope, request: DashboardRequest
    ) -> dict[str, Any]:
        found = await self.analysis.centrality(
            view, scope, [request.measure], request.top, None, 0, _EXACT_MAX
        )
        ranked = found["measures"][request.measure]["rows"]
        rows = ranked["items"]
        return {
            "measure": request.measure,
            "label": MEASURE_LABELS_ZH[request.measure],
            # Every node is ranked; the chart shows the top rows.
            "total": ranked["total"],
            "truncated": ranked["truncated"],
            "rows": [
                {k: row.get(k) for k in ("rank", "node", "name", "label", "score")} for row in rows
            ],
        }

    async def _communities(
        self, view: GraphView, scope: AnalysisScope, limit: int
    ) -> dict[str, Any]:
        """Communities as a sankey: each joint body's members flowing to the communities
        Louvain put them in; each community names its members up to ``limit``."""
        found = await self.analysis.communities(
            view, scope, _LOUVAIN_SEED, _LOUVAIN_RESOLUTION, min(limit, MAX_LISTED_MEMBERS)
        )
        members = {row["index"]: row["members"]["items"] for row in found["communities"]}
        nodes: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        shown: set[int] = set()
        for body in found["joint_bodies"]["bodies"]:
            nodes.append({"id": body["body"], "name": body["name"] or body["body"], "kind": "body"})
            for index, count in sorted(body["spread"].items(), key=lambda kv: int(kv[0])):
                shown.add(int(index))
                links.append(
                    {"source": body["body"], "target": f"community:{index}", "value": count}
                )
        sizes = {row["index"]: row["size"] for row in found["communities"]}
        listed = Limit(limit, "limit", MAX_LISTED)
        for index in sorted(shown):
            nodes.append(
                {
                    "id": f"community:{index}",
                    "name": f"社区 {index}",
                    "kind": "community",
                    "members": listing(members.get(index, [])[:limit], listed, sizes[index]),
                }
            )
        return {
            "method": found["method"],
            "modularity": found["modularity"],
            "count": len(found["communities"]),
            "sankey": {"nodes": nodes, "links": links},
        }

    @staticmethod
    def _weak(village: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": village["village_id"],
            "name": village["name"],
            "region_name": village.get("region_name"),
            "reasons": village["reasons"],
            "explanation": village["explanation"],
            "explanation_en": village["explanation_en"],
        }

    async def _pairings(
        self, view: GraphView, unpartnered: Sequence[Mapping[str, Any]], request: DashboardRequest
    ) -> list[dict[str, Any]]:
        """The best partner of each of the first ``request.pairings`` weak villages without
        one, as ``/v1/recommendations/partners?top=1`` ranks them (rejected pairs left out)."""
        asked = list(unpartnered[: request.pairings])
        refs = await view.refs(v["village_id"] for v in asked)
        proposed = []
        for village in asked:
            try:
                found = await self.recommendations.partners(
                    view, village["village_id"], 1, (), None, None, request.as_of
                )
            except (InvalidInputError, NotFoundError):
                # A village the recommender cannot score (no county in the register): no
                # proposal, as the partners route would answer 422.
                continue
            best = found["candidates"]["items"]
            if not best:
                continue
            ref = refs.get(village["village_id"], {})
            proposed.append(
                {
                    "village": {
                        "id": village["village_id"],
                        "name": village["name"],
                        "label": ref.get("label", found["target_label"]),
                        "kind": ref.get("kind"),
                    },
                    "partner": best[0]["partner"],
                    "score": best[0]["score"],
                    "reasons": best[0]["reasons"],
                }
            )
        return proposed

    @staticmethod
    def _breaches(rules: Mapping[str, Any]) -> list[dict[str, Any]]:
        described = {r["rule_id"]: r for r in rules["rules"]}
        rows = []
        for body in rules["bodies"]:
            for outcome in body["outcomes"]:
                if outcome["status"] != "broken":
                    continue
                rule = described.get(outcome["rule_id"], {})
                rows.append(
                    {
                        "body": {"id": body["body_id"], "name": body["name"], "kind": body["kind"]},
                        "rule_id": outcome["rule_id"],
                        "description": rule.get("description_zh"),
                        "severity": rule.get("severity"),
                        "evidence": outcome["evidence"],
                        "members": [{"id": m["id"], "name": m["name"]} for m in outcome["members"]],
                    }
                )
        return rows


def _joint_bodies(graph: nx.MultiDiGraph, region: str) -> int:
    """Joint bodies (联合党委, 党建联合体, 党建联盟 …) registered in ``region``."""
    return sum(
        1
        for _, d in graph.nodes(data=True)
        if d.get("label") == "PartyOrganization"
        and d.get("kind") in JOINT_BODY_KINDS
        and str(d.get("region_code") or "").startswith(region)
    )


def _scores(graph: nx.MultiDiGraph, as_of: dt.date | None) -> list[float]:
    return [r.score for r in strength_model.strongest_links(graph, top=None, as_of=as_of)]
