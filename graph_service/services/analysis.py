"""Analyses as the API and CLI run them: scope → cached graph → pure analysis → plain data.

The analysis functions live in ``graph_service.analysis`` and know nothing of stores; this
service resolves a scope to a graph (``ScopedGraphs``, cached per store version), keeps the
CSR matrix PageRank needs per graph, and turns results into JSON-ready data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from graph_service.analysis import (
    brokers,
    centrality,
    change,
    communities,
    coverage,
    rules,
)
from graph_service.analysis import strength as strength_model
from graph_service.analysis.graphs import collapse
from graph_service.domain import MEMBERSHIP_LINK_TYPES, is_region_code
from graph_service.errors import InvalidInputError
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.references import resolve_node
from graph_service.services.view import GraphView

__all__ = ["AnalysisService", "parse_scope", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Dataclasses, sets, tuples and non-finite floats as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted((to_jsonable(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def parse_scope(
    text: str,
    depth: int = 2,
    link_types: Sequence[str] = (),
    include_structural: bool = False,
    as_of: dt.date | None = None,
) -> AnalysisScope:
    """``all``, ``region:<code>``, ``body:<node id>`` or ``node:<node id>``."""
    kind, _, value = text.partition(":")
    if kind == "all" and not value:
        return AnalysisScope("all", None, depth, tuple(link_types), include_structural, as_of)
    if kind == "region" and is_region_code(value):
        return AnalysisScope("region", value, depth, tuple(link_types), include_structural, as_of)
    if kind in ("body", "node") and value:
        scope_kind = "body" if kind == "body" else "neighbourhood"
        return AnalysisScope(
            scope_kind,  # type: ignore[arg-type]
            value,
            depth,
            tuple(link_types),
            include_structural,
            as_of,
        )
    raise InvalidInputError(
        "scope is all, region:<division code>, body:<joint body id> or node:<node id>",
        field="scope",
    )


class AnalysisService:
    """Analyses of the graph a caller's view shows (``GraphView``): whatever the caller may
    not see is not in the graph, so no row, count or member can reveal it."""

    def __init__(self, rules_path: Path) -> None:
        self.rules_path = rules_path

    async def _simple(
        self, view: GraphView, scope: AnalysisScope
    ) -> tuple[nx.MultiDiGraph, nx.Graph, Any]:
        graph, key = await view.graph(scope)
        derived = view.graphs.derived.setdefault(key, {})
        if "simple" not in derived:
            derived["simple"] = collapse(graph)
        return graph, derived["simple"], key

    def _scope_info(self, scope: AnalysisScope, graph: nx.MultiDiGraph) -> dict[str, Any]:
        return {
            **scope.describe(),
            "nodes": graph.number_of_nodes(),
            "links": graph.number_of_edges(),
        }

    async def centrality(
        self,
        view: GraphView,
        scope: AnalysisScope,
        measures: Sequence[str],
        top: int,
        k: int | None,
        seed: int,
        exact_max: int,
    ) -> dict[str, Any]:
        graph, simple, key = await self._simple(view, scope)
        derived = view.graphs.derived[key]
        if "csr" not in derived:
            derived["csr"] = centrality.CSRGraph.from_graph(simple)
        report = centrality.centrality_set(
            simple,
            measures=tuple(measures),
            top=top,
            exact_max=exact_max,
            k=k,
            seed=seed,
            csr=derived["csr"],
        )
        return {"scope": self._scope_info(scope, graph), **to_jsonable(report)}

    async def communities(
        self, view: GraphView, scope: AnalysisScope, seed: int, resolution: float
    ) -> dict[str, Any]:
        graph, simple, _ = await self._simple(view, scope)
        result = communities.louvain(simple, resolution=resolution, seed=seed)
        # Membership reads MEMBER_OF and ORGANIZATION_OF (a village is a member through its
        # branch) whatever links the communities were detected on.
        types = (*scope.link_types, *MEMBERSHIP_LINK_TYPES) if scope.link_types else ()
        members_scope = dataclasses.replace(
            scope, link_types=tuple(dict.fromkeys(types)), include_structural=True
        )
        members_graph, _ = await view.graph(members_scope)
        bodies = {
            body: members
            for body, members in communities.joint_bodies(members_graph).items()
            if body in simple
        }
        comparison = communities.compare_with_bodies(result, bodies)
        rows = []
        for index, members in enumerate(result.communities):
            ordered = sorted(members, key=str)
            labels: dict[str, int] = {}
            for node in ordered:
                label = str(simple.nodes[node].get("label"))
                labels[label] = labels.get(label, 0) + 1
            # Members are listed up to 50 a community; sizes and label counts are complete.
            rows.append(
                {"index": index, "size": len(ordered), "labels": labels, "members": ordered[:50]}
            )
        return {
            "scope": self._scope_info(scope, graph),
            "method": result.method,
            "modularity": to_jsonable(result.modularity),
            "communities": rows,
            "joint_bodies": to_jsonable(comparison),
        }

    async def brokers(self, view: GraphView, scope: AnalysisScope, top: int) -> dict[str, Any]:
        graph, simple, _ = await self._simple(view, scope)
        scores = brokers.brokerage(simple)
        # Isolated nodes have no constraint (NaN): they broker nothing, and NaN cannot sort.
        finite = [
            (node, value)
            for node, value in scores.items()
            if value.constraint is not None and math.isfinite(value.constraint)
        ]
        finite.sort(key=lambda item: (item[1].constraint, str(item[0])))
        rows = [
            {
                "node": node,
                "name": simple.nodes[node].get("name"),
                "label": simple.nodes[node].get("label"),
                **to_jsonable(value),
            }
            for node, value in finite[:top]
        ]
        return {"scope": self._scope_info(scope, graph), "brokers": rows}

    async def fragility(self, view: GraphView, scope: AnalysisScope) -> dict[str, Any]:
        graph, simple, _ = await self._simple(view, scope)
        return {
            "scope": self._scope_info(scope, graph),
            **to_jsonable(brokers.fragility(simple)),
        }

    async def link_strength(
        self,
        view: GraphView,
        source: str,
        target: str,
        as_of: dt.date | None,
        weights: Mapping[str, float] | None,
        depth: int = 2,
    ) -> dict[str, Any]:
        # Ids, codes or names; a node the caller may not see is as unknown as a missing one.
        source = await resolve_node(view, source, "source", as_of)
        target = await resolve_node(view, target, "target", as_of)
        await view.node(source, field="source")
        await view.node(target, field="target")
        # The pair's surroundings: enough for overlap and shared bodies.
        scope = AnalysisScope("neighbourhood", source, depth, (), False, as_of)
        graph, _ = await view.graph(scope)
        if target not in graph:
            other = AnalysisScope("neighbourhood", target, depth, (), False, as_of)
            graph = nx.compose(graph, (await view.graph(other))[0])
        result = strength_model.link_strength(
            graph, source, target, weights=self._weights(weights), as_of=as_of
        )
        return to_jsonable(result)  # type: ignore[no-any-return]

    @staticmethod
    def _weights(weights: Mapping[str, float] | None) -> Any:
        if not weights:
            return None
        try:
            return strength_model.StrengthWeights(**weights)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(str(exc), field="weights") from exc

    async def extreme_links(
        self, view: GraphView, scope: AnalysisScope, top: int, strongest: bool
    ) -> dict[str, Any]:
        graph, _ = await view.graph(scope)
        pick = strength_model.strongest_links if strongest else strength_model.weakest_links
        rows = pick(graph, top=top, as_of=scope.as_of)
        return {"scope": self._scope_info(scope, graph), "links": to_jsonable(rows)}

    async def coverage(
        self,
        view: GraphView,
        region_code: str,
        as_of: dt.date | None,
        strong_threshold: float,
        details: bool = False,
        limit: int = 200,
    ) -> dict[str, Any]:
        scope = AnalysisScope("region", region_code, 2, (), True, as_of)
        graph, _ = await view.graph(scope)
        report = coverage.coverage_report(
            graph, region_code, as_of=as_of, strong_threshold=strong_threshold
        )
        data: dict[str, Any] = to_jsonable(report)
        # A county has hundreds of villages, a province tens of thousands: per-village rows
        # only on request, and lists cut at ``limit`` with their full length stated.
        if not details:
            data.pop("villages", None)
        data["weak_villages_total"] = len(data["weak_villages"])
        data["weak_villages"] = data["weak_villages"][:limit]
        for row in (data["total"], *data["children"]):
            for key in ("without_joint_body", "without_any"):
                row[f"{key}_total"] = len(row[key])
                row[key] = row[key][:limit]
        return {"scope": self._scope_info(scope, graph), **data}

    async def rule_check(self, view: GraphView, scope: AnalysisScope) -> dict[str, Any]:
        graph, _ = await view.graph(scope)
        loaded = rules.load_rules(self.rules_path)
        report = rules.check_rules(graph, loaded, as_of=scope.as_of)
        return {"scope": self._scope_info(scope, graph), **to_jsonable(report)}

    async def change(
        self, view: GraphView, scope: AnalysisScope, date_a: dt.date, date_b: dt.date
    ) -> dict[str, Any]:
        if date_b < date_a:
            raise InvalidInputError("to is before from", field="to")
        undated = dataclasses.replace(scope, as_of=None)
        graph, _ = await view.graph(undated)

        def pagerank(simple: nx.Graph) -> dict[Any, float]:
            csr = centrality.CSRGraph.from_graph(simple)
            return centrality.pagerank(csr)

        report = change.compare_dates(
            graph,
            date_a,
            date_b,
            centrality=pagerank,
            region_code=scope.value if scope.kind == "region" else None,
        )
        return {"scope": self._scope_info(undated, graph), **to_jsonable(report)}
