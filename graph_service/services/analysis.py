"""Analyses as the API and CLI run them: scope → cached graph → pure analysis → plain data.

The analysis functions live in ``graph_service.analysis`` and know nothing of stores; this
service resolves a scope to a graph (``ScopedGraphs``, cached per store version), keeps the
CSR matrix PageRank needs per graph, and turns results into JSON-ready data. Every
CPU-bound step (the analysis and its conversion to plain data) runs in the worker pool
(``view.graphs.pool``, ``graph_service.services.work``); the event loop only awaits it and
names the nodes of the answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
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
from graph_service.domain import (
    MAX_LISTED,
    MAX_LISTED_MEMBERS,
    MAX_TOP,
    MEMBERSHIP_LINK_TYPES,
    is_region_code,
)
from graph_service.errors import InvalidInputError
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.listing import Limit, listing
from graph_service.services.recorded import RecordedStore
from graph_service.services.references import resolve_node
from graph_service.services.stored_analyses import (
    centrality_parameters,
    coverage_parameters,
    rules_parameters,
    stored_answer,
)
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


def _computed(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` as JSON-ready data: both steps are CPU work, for the pool."""
    return to_jsonable(fn(*args, **kwargs))


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
    not see is not in the graph, so no row, count or member can reveal it.

    With ``use_stored`` (the API's default), a region's centrality, coverage and rule check
    are answered from a batch run's stored answer (``services.national``) when one was
    computed for the same parameters, the caller's audience and the store's current version;
    the answer then says so in its ``provenance``. The batch itself computes with
    ``use_stored=False``.
    """

    def __init__(self, rules_path: Path, use_stored: bool = True) -> None:
        self.rules_path = rules_path
        self.use_stored = use_stored

    async def _stored(
        self, view: GraphView, analysis: str, parameters: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The stored answer for this view, if a fresh one exists (see the class docstring).
        Record-time views read the graph as it was: a stored answer is of the graph now."""
        if not self.use_stored or isinstance(view.store, RecordedStore):
            return None
        audience = (await view.policy()).audience
        return await stored_answer(view.store, analysis, parameters, audience)

    async def _simple(
        self, view: GraphView, scope: AnalysisScope
    ) -> tuple[nx.MultiDiGraph, nx.Graph, Any]:
        graph, key = await view.graph(scope)
        simple = await view.graphs.derive(key, "simple", collapse, graph)
        return graph, simple, key

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
        if scope.kind == "region":
            parameters = centrality_parameters(scope, measures, top, k, seed, exact_max)
            if (stored := await self._stored(view, "centrality", parameters)) is not None:
                return stored
        graph, simple, key = await self._simple(view, scope)
        csr = await view.graphs.derive(key, "csr", centrality.CSRGraph.from_graph, simple)
        data: dict[str, Any] = await view.graphs.pool.run(
            _computed,
            centrality.centrality_set,
            simple,
            measures=tuple(measures),
            top=top,
            exact_max=exact_max,
            k=k,
            seed=seed,
            csr=csr,
        )
        rows = [row for m in data["measures"].values() for row in m["rows"]]
        refs = await view.refs((row["node"] for row in rows), simple)
        for row in rows:
            row["region_name"] = _region_name(refs, row["node"])
        for measure in data["measures"].values():
            # Every node of the graph is ranked; the report keeps the top rows.
            measure["rows"] = listing(
                measure["rows"], Limit(top, "top", MAX_TOP), simple.number_of_nodes()
            )
        return {"scope": self._scope_info(scope, graph), **data}

    async def communities(
        self,
        view: GraphView,
        scope: AnalysisScope,
        seed: int,
        resolution: float,
        limit: int = 50,
    ) -> dict[str, Any]:
        graph, simple, _ = await self._simple(view, scope)
        # Membership reads MEMBER_OF and ORGANIZATION_OF (a village is a member through its
        # branch) whatever links the communities were detected on.
        types = (*scope.link_types, *MEMBERSHIP_LINK_TYPES) if scope.link_types else ()
        members_scope = dataclasses.replace(
            scope, link_types=tuple(dict.fromkeys(types)), include_structural=True
        )
        members_graph, _ = await view.graph(members_scope)
        found = await view.graphs.pool.run(
            _detect_communities, simple, members_graph, resolution, seed
        )
        result, comparison, ordered, label_counts = found
        # Members are listed up to ``limit`` a community; sizes and label counts are complete.
        limited = Limit(limit, "limit", MAX_LISTED_MEMBERS)
        shown = [m for members in ordered for m in members[:limit]]
        spreads = [*comparison["bodies"], *comparison["split_bodies"]]
        refs = await view.refs([*map(str, shown), *(b["body"] for b in spreads)], simple)
        for spread in spreads:
            spread["name"] = refs.get(spread["body"], {}).get("name")
        rows = []
        for index, (members, labels) in enumerate(zip(ordered, label_counts, strict=True)):
            named = [refs[str(m)] for m in members[:limit] if str(m) in refs]
            rows.append(
                {
                    "index": index,
                    "size": len(members),
                    "labels": labels,
                    "members": listing(named, limited, len(members)),
                }
            )
        return {
            "scope": self._scope_info(scope, graph),
            "method": result.method,
            "modularity": to_jsonable(result.modularity),
            "communities": rows,
            "joint_bodies": comparison,
        }

    async def brokers(self, view: GraphView, scope: AnalysisScope, top: int) -> dict[str, Any]:
        graph, simple, _ = await self._simple(view, scope)
        finite = await view.graphs.pool.run(_ranked_brokers, simple)
        refs = await view.refs((str(node) for node, _ in finite[:top]), simple)
        rows = [
            {
                "node": node,
                "name": simple.nodes[node].get("name"),
                "label": simple.nodes[node].get("label"),
                "region_name": _region_name(refs, node),
                **to_jsonable(value),
            }
            for node, value in finite[:top]
        ]
        return {
            "scope": self._scope_info(scope, graph),
            "brokers": listing(rows, Limit(top, "top", MAX_TOP), len(finite)),
        }

    async def fragility(self, view: GraphView, scope: AnalysisScope) -> dict[str, Any]:
        graph, simple, _ = await self._simple(view, scope)
        found = await view.graphs.pool.run(brokers.fragility, simple)
        ids = [
            *(str(n) for pair in found.bridges for n in pair),
            *map(str, found.articulation_points),
            *(str(n) for nodes in found.cut_off.values() for n in nodes),
        ]
        refs = await view.refs(ids, simple)

        def named(nodes: Sequence[Any]) -> list[dict[str, Any]]:
            return [refs[str(n)] for n in nodes if str(n) in refs]

        return {
            "scope": self._scope_info(scope, graph),
            "bridges": [named(pair) for pair in found.bridges],
            "articulation_points": named(found.articulation_points),
            "cut_off": {str(point): named(nodes) for point, nodes in found.cut_off.items()},
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
        if source == target:
            # Possibly named two ways (an id and a name): a tie joins two nodes.
            raise InvalidInputError(
                f"source and target are the same node {source}; a tie joins two nodes",
                field="target",
            )
        # The pair's surroundings: enough for overlap and shared bodies.
        scope = AnalysisScope("neighbourhood", source, depth, (), False, as_of)
        graph, _ = await view.graph(scope)
        if target not in graph:
            other = AnalysisScope("neighbourhood", target, depth, (), False, as_of)
            graph = await view.graphs.pool.run(nx.compose, graph, (await view.graph(other))[0])
        model_weights = self._weights(weights)
        data: dict[str, Any] = await view.graphs.pool.run(
            _computed,
            strength_model.link_strength,
            graph,
            source,
            target,
            weights=model_weights,
            as_of=as_of,
        )
        return _with_end_names(data, graph)

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

        def ranked() -> tuple[list[dict[str, Any]], int]:
            # Every linked pair is scored to rank them, so the total costs nothing more.
            found = pick(graph, top=None, as_of=scope.as_of)
            return [_with_end_names(to_jsonable(row), graph) for row in found[:top]], len(found)

        rows, total = await view.graphs.pool.run(ranked)
        return {
            "scope": self._scope_info(scope, graph),
            "links": listing(rows, Limit(top, "top", MAX_TOP), total),
        }

    async def coverage(
        self,
        view: GraphView,
        region_code: str,
        as_of: dt.date | None,
        strong_threshold: float,
        details: bool = False,
        limit: int = 200,
    ) -> dict[str, Any]:
        parameters = coverage_parameters(region_code, as_of, strong_threshold, details, limit)
        if (stored := await self._stored(view, "coverage", parameters)) is not None:
            return stored
        scope = AnalysisScope("region", region_code, 2, (), True, as_of)
        graph, _ = await view.graph(scope)
        data: dict[str, Any] = await view.graphs.pool.run(
            _computed,
            coverage.coverage_report,
            graph,
            region_code,
            as_of=as_of,
            strong_threshold=strong_threshold,
        )
        # A county has hundreds of villages, a province tens of thousands: per-village rows
        # only on request, and lists cut at ``limit`` with their full length stated.
        limited = Limit(limit, "limit", MAX_LISTED)
        if not details:
            data.pop("villages", None)
        rows = (data["total"], *data["children"])
        villages = data.get("villages") or []
        shown = [
            *(v for row in rows for k in _UNCOVERED for v in row[k][:limit]),
            *(v["village_id"] for v in data["weak_villages"][:limit]),
            *(v["village_id"] for v in villages),
            *(n for v in villages for k in _VILLAGE_LINKS for n in v[k]),
        ]
        refs = await view.refs(shown, graph)
        for row in rows:
            for key in _UNCOVERED:
                named = [refs[v] for v in row[key][:limit] if v in refs]
                row[key] = listing(named, limited, len(row[key]))
        for village in villages:
            village["region_name"] = _region_name(refs, village["village_id"])
            for key in _VILLAGE_LINKS:
                village[key] = [refs[n] for n in village[key] if n in refs]
        weak = data["weak_villages"]
        for village in weak[:limit]:
            village["region_name"] = _region_name(refs, village["village_id"])
        data["weak_villages"] = listing(weak, limited)
        return {"scope": self._scope_info(scope, graph), **data}

    async def rule_check(self, view: GraphView, scope: AnalysisScope) -> dict[str, Any]:
        if scope.kind == "region":
            stored = await self._stored(view, "rules", rules_parameters(scope))
            if stored is not None:
                return stored
        graph, _ = await view.graph(scope)

        def checked() -> Any:
            loaded = rules.load_rules(self.rules_path)
            return to_jsonable(rules.check_rules(graph, loaded, as_of=scope.as_of))

        data: dict[str, Any] = await view.graphs.pool.run(checked)
        outcomes = [o for body in data["bodies"] for o in body["outcomes"]]
        refs = await view.refs((m for o in outcomes for m in o["members"]), graph)
        for outcome in outcomes:
            outcome["members"] = [refs[m] for m in outcome["members"] if m in refs]
        return {"scope": self._scope_info(scope, graph), **data}

    async def change(
        self,
        view: GraphView,
        scope: AnalysisScope,
        date_a: dt.date,
        date_b: dt.date,
        top: int = 10,
    ) -> dict[str, Any]:
        if date_b < date_a:
            raise InvalidInputError("to is before from", field="to")
        undated = dataclasses.replace(scope, as_of=None)
        graph, _ = await view.graph(undated)

        def pagerank(simple: nx.Graph) -> dict[Any, float]:
            csr = centrality.CSRGraph.from_graph(simple)
            return centrality.pagerank(csr)

        data: dict[str, Any] = await view.graphs.pool.run(
            _computed,
            change.compare_dates,
            graph,
            date_a,
            date_b,
            centrality=pagerank,
            region_code=scope.value if scope.kind == "region" else None,
            # Every mover, to count them; the answer lists the first ``top``.
            top=graph.number_of_nodes(),
        )
        links = [*data["new_links"], *data["lost_links"]]
        movers = [*data["risers"][:top], *data["fallers"][:top]]
        villages = data["coverage"] or {"newly_covered": [], "newly_uncovered": []}
        refs = await view.refs(
            [
                *(end for link in links for end in (link["source"], link["target"])),
                *(m["node_id"] for m in movers),
                *villages["newly_covered"],
                *villages["newly_uncovered"],
            ],
            graph,
        )
        for link in links:
            link["source_name"] = refs.get(link["source"], {}).get("name")
            link["target_name"] = refs.get(link["target"], {}).get("name")
        for mover in movers:
            mover["region_name"] = _region_name(refs, mover["node_id"])
        for key in ("newly_covered", "newly_uncovered"):
            villages[key] = [refs[v] for v in villages[key] if v in refs]
        for key in ("risers", "fallers"):
            data[key] = listing(data[key], Limit(top, "top", MAX_TOP))
        return {"scope": self._scope_info(undated, graph), **data}


def _detect_communities(
    simple: nx.Graph, members_graph: nx.MultiDiGraph, resolution: float, seed: int
) -> tuple[Any, dict[str, Any], list[list[Any]], list[dict[str, int]]]:
    """Louvain communities set against the joint bodies: the result, the comparison as
    plain data, each community's members in order and its count of nodes per label."""
    result = communities.louvain(simple, resolution=resolution, seed=seed)
    bodies = {
        body: members
        for body, members in communities.joint_bodies(members_graph).items()
        if body in simple
    }
    comparison: dict[str, Any] = to_jsonable(communities.compare_with_bodies(result, bodies))
    ordered = [sorted(members, key=str) for members in result.communities]
    label_counts = []
    for members in ordered:
        labels: dict[str, int] = {}
        for node in members:
            label = str(simple.nodes[node].get("label"))
            labels[label] = labels.get(label, 0) + 1
        label_counts.append(labels)
    return result, comparison, ordered, label_counts


def _ranked_brokers(simple: nx.Graph) -> list[tuple[Any, Any]]:
    """Nodes by Burt's constraint, lowest (the best brokers) first, ties by id. Isolated
    nodes have no constraint (NaN): they broker nothing, and NaN cannot sort."""
    finite = [
        (node, value)
        for node, value in brokers.brokerage(simple).items()
        if value.constraint is not None and math.isfinite(value.constraint)
    ]
    finite.sort(key=lambda item: (item[1].constraint, str(item[0])))
    return finite


#: Coverage rows' lists of villages a joint body (or anything) leaves out.
_UNCOVERED = ("without_joint_body", "without_any")
#: A village's organizations, joint bodies and helpers (coverage details).
_VILLAGE_LINKS = ("organizations", "joint_bodies", "helpers")


def _region_name(refs: Mapping[str, Mapping[str, Any]], node: Any) -> str | None:
    ref = refs.get(str(node))
    return None if ref is None else ref["region_name"]


def _with_end_names(row: dict[str, Any], graph: nx.Graph) -> dict[str, Any]:
    """A link-strength row with the names of its two ends (from the caller's graph)."""
    for end in ("source", "target"):
        node = row[end]
        row[f"{end}_name"] = graph.nodes[node].get("name") if node in graph else None
    return row
