"""The graph as one caller may see it: the read layer every route and CLI command uses.

A :class:`GraphView` binds a store, the shared scope-graph cache and a caller. Every read
(documents, lists, search, neighbourhoods, paths, counts, the graphs analyses, exports and
recommendations run on, free text such as article text and notes) goes through it, and it
applies :class:`graph_service.visibility.Visibility` once, so that no route, service or
command has to remember which labels or fields are personal.

A hidden node answers exactly as a missing one does (``NotFoundError`` with the same message),
so a caller cannot learn that a person exists by asking for one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from graph_service.domain import child_code_length, parent_code
from graph_service.errors import NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import NODE_LABELS
from graph_service.services.analysis_scope import AnalysisScope, ScopedGraphs
from graph_service.store.protocol import (
    CoverageReport,
    GraphPath,
    GraphStore,
    LinkQuery,
    NeighbourhoodQuery,
    NodeQuery,
    Page,
    PathQuery,
    SearchHit,
    StoreStats,
    Subgraph,
)
from graph_service.visibility import PERSONAL_LABELS, Caller, Visibility

__all__ = ["GraphView", "GraphViews"]

#: Personal nodes read per page when the masked names are gathered.
_NAMES_PAGE = 1000


def _enclosing_codes(doc: Mapping[str, Any]) -> list[str]:
    """The division codes a node lies in, nearest first: above its own code for a region or
    village (whose region code is its own), from its region code up for anything else."""
    code = doc.get("region_code")
    if not code:
        return []
    spec = NODE_LABELS.get(str(doc.get("label")))
    found = [] if spec is not None and spec.official_code else [str(code)]
    while (code := parent_code(str(code))) is not None:
        found.append(code)
    return found


class GraphViews:
    """Makes the view of each caller; keeps the public policy current per store version.

    One per process (the app's lifespan, a CLI run): the public policy needs the names of
    every personal node to mask them in text, read once per store version.
    """

    FULL = Visibility(full=True)

    def __init__(self, store: GraphStore, graphs: ScopedGraphs | None = None) -> None:
        self.store = store
        self.graphs = graphs or ScopedGraphs(store)
        self._public: tuple[int, Visibility] | None = None

    def view(self, caller: Caller) -> GraphView:
        return GraphView(self, caller)

    async def visibility(self, caller: Caller) -> Visibility:
        if caller.sees_personal:
            return self.FULL
        version = await self.store.version()
        if self._public is None or self._public[0] != version:
            self._public = (version, Visibility(full=False, names=await self._personal_names()))
        return self._public[1]

    async def _personal_names(self) -> tuple[str, ...]:
        names: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self.store.list_nodes(
                NodeQuery(labels=sorted(PERSONAL_LABELS)), cursor, _NAMES_PAGE
            )
            for doc in page.items:
                names.add(doc["name"])
                names.update(doc.get("aliases") or ())
            cursor = page.next_cursor
            if cursor is None:
                return tuple(sorted(names))


class GraphView:
    """Reads of one caller. Everything returned is already redacted for that caller."""

    def __init__(self, views: GraphViews, caller: Caller) -> None:
        self._views = views
        self.caller = caller
        self.store = views.store
        self.graphs = views.graphs
        self._policy: Visibility | None = None

    async def policy(self) -> Visibility:
        # Once per view (a view lives for one request or command): reading the store version
        # is a round trip on Neo4j, and a read asks for the policy several times.
        if self._policy is None:
            self._policy = await self._views.visibility(self.caller)
        return self._policy

    # ------------------------------------------------------------------ documents

    async def get_nodes(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, NodeDoc]:
        """The visible nodes among ``ids`` (missing and hidden ones are left out)."""
        policy = await self.policy()
        found = await self.store.get_nodes(ids, as_of)
        return {i: policy.doc(d) for i, d in found.items() if policy.node_visible(d)}

    async def node(self, node_id: str, as_of: dt.date | None = None, field: str = "id") -> NodeDoc:
        doc = (await self.get_nodes([node_id], as_of)).get(node_id)
        if doc is None:
            suffix = f" on {as_of}" if as_of else ""
            raise NotFoundError(f"no node {node_id}{suffix}", field=field)
        return doc

    async def get_links(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, LinkDoc]:
        """The visible links among ``ids``: of a visible type, with both ends visible."""
        policy = await self.policy()
        found = await self.store.get_links(ids, as_of)
        visible = await self._visible_links(found)
        return {i: policy.doc(d) for i, d in found.items() if i in visible}

    async def link(self, link_id: str, as_of: dt.date | None = None, field: str = "id") -> LinkDoc:
        doc = (await self.get_links([link_id], as_of)).get(link_id)
        if doc is None:
            suffix = f" on {as_of}" if as_of else ""
            raise NotFoundError(f"no link {link_id}{suffix}", field=field)
        return doc

    async def _visible_links(self, links: dict[str, LinkDoc]) -> set[str]:
        policy = await self.policy()
        if policy.full:
            return set(links)
        typed = {i: d for i, d in links.items() if policy.link_visible(d)}
        hidden = await self._hidden_ends(typed.values())
        return {i for i, d in typed.items() if policy.link_visible(d, hidden)}

    async def _hidden_ends(self, links: Iterable[LinkDoc]) -> set[str]:
        # A link of a visible type may still end at a hidden node (a person in a program).
        policy = await self.policy()
        ends = sorted({e for link in links for e in (link["source"], link["target"])})
        found = await self.store.get_nodes(ends)
        return {i for i, doc in found.items() if not policy.node_visible(doc)}

    # ------------------------------------------------------------------ lists and search

    async def list_nodes(self, query: NodeQuery, cursor: str | None, limit: int) -> Page:
        policy = await self.policy()
        labels = policy.labels(query.labels)
        if not labels:
            return Page([], None)
        if not policy.full:
            query = NodeQuery(labels, query.kinds, query.region_code, query.as_of)
        page = await self.store.list_nodes(query, cursor, limit)
        return Page([policy.doc(d) for d in page.items], page.next_cursor)

    async def list_links(self, query: LinkQuery, cursor: str | None, limit: int) -> Page:
        policy = await self.policy()
        types = policy.link_types(query.types)
        if not types:
            return Page([], None)
        if not policy.full:
            query = LinkQuery(types, query.source, query.target, query.node, query.as_of)
        page = await self.store.list_links(query, cursor, limit)
        visible = await self._visible_links({d["id"]: d for d in page.items})
        items = [policy.doc(d) for d in page.items if d["id"] in visible]
        return Page(items, page.next_cursor)

    async def count_nodes(self, query: NodeQuery) -> dict[str, int]:
        """Counts by label; personal labels are not counted for the public."""
        policy = await self.policy()
        counts = await self.store.count_nodes(query)
        return {label: n for label, n in counts.items() if policy.labels([label])}

    async def stats(self) -> StoreStats:
        policy = await self.policy()
        result = await self.store.stats()
        return StoreStats(
            result.backend,
            {k: v for k, v in result.nodes_by_label.items() if policy.labels([k])},
            {k: v for k, v in result.links_by_type.items() if policy.link_types([k])},
            result.version,
        )

    async def search(
        self,
        text: str,
        labels: Sequence[str] = (),
        limit: int = 20,
        as_of: dt.date | None = None,
    ) -> list[SearchHit]:
        policy = await self.policy()
        visible = policy.labels(labels)
        if not visible:
            return []
        hits = await self.store.search(text, visible if not policy.full else labels, limit, as_of)
        if policy.full:
            return hits
        return [
            SearchHit(policy.doc(h.node), h.match, policy.text(h.matched), h.score) for h in hits
        ]

    # ------------------------------------------------------------------ traversals

    async def neighbourhood(self, query: NeighbourhoodQuery) -> Subgraph:
        policy = await self.policy()
        if policy.full:
            return await self.store.neighbourhood(query)
        await self.node(query.node_id, query.as_of)  # a hidden centre is a 404
        labels = policy.labels(query.node_labels)
        types = policy.link_types(query.link_types)
        # Traversal never steps onto a personal node, so nothing is reached through one.
        sub = await self.store.neighbourhood(
            NeighbourhoodQuery(
                node_id=query.node_id,
                depth=query.depth if labels and types else 0,
                link_types=types,
                node_labels=labels,
                direction=query.direction,
                limit=query.limit,
                as_of=query.as_of,
            )
        )
        return self._redact_subgraph(sub, policy)

    async def shortest_paths(self, query: PathQuery) -> tuple[list[GraphPath], Subgraph]:
        for field, node_id in (("source", query.source), ("target", query.target)):
            await self.node(node_id, query.as_of, field=field)
        policy = await self.policy()
        paths = await self.store.shortest_paths(query)
        node_ids = sorted({n for p in paths for n in p.node_ids})
        nodes = await self.store.get_nodes(node_ids)
        if not policy.full:
            # Paths through hidden nodes are dropped rather than shown with holes.
            hidden = {i for i, doc in nodes.items() if not policy.node_visible(doc)}
            paths = [p for p in paths if not hidden.intersection(p.node_ids)]
        kept = {n for p in paths for n in p.node_ids}
        links = await self.store.get_links(sorted({lk for p in paths for lk in p.link_ids}))
        return paths, Subgraph(
            [policy.doc(d) for i, d in nodes.items() if i in kept],
            [policy.doc(d) for d in links.values() if policy.link_visible(d)],
        )

    def _redact_subgraph(self, subgraph: Subgraph, policy: Visibility) -> Subgraph:
        hidden = {n["id"] for n in subgraph.nodes if not policy.node_visible(n)}
        return Subgraph(
            [policy.doc(n) for n in subgraph.nodes if n["id"] not in hidden],
            [policy.doc(lk) for lk in subgraph.links if policy.link_visible(lk, hidden)],
            subgraph.truncated,
        )

    # ------------------------------------------------------------------ scopes and regions

    async def graph(
        self, scope: AnalysisScope, exact: bool = False
    ) -> tuple[nx.MultiDiGraph, tuple[Any, ...]]:
        """The scope's graph as this caller may see it, cached per audience and version
        (``exact``: see :meth:`ScopedGraphs.graph`).

        A body or node scope centred on a hidden node is a 404, as the node itself is.
        """
        policy = await self.policy()
        if scope.kind in ("body", "neighbourhood") and scope.value is not None:
            field = "body" if scope.kind == "body" else "scope"
            await self.node(scope.value, scope.as_of, field=field)
        return await self.graphs.graph(scope, policy, exact)

    async def coverage(self, region_code: str, as_of: dt.date | None = None) -> CoverageReport:
        # Coverage counts villages and joint bodies only: nothing personal to hide.
        return await self.store.coverage(region_code, as_of)

    async def region_summary(self, region_code: str) -> dict[str, Any]:
        region = await self.node(f"region:{region_code}", field="code")
        if region["label"] != "Region":
            raise NotFoundError(f"no region with code {region_code}", field="code")
        children = await self.store.list_nodes(
            NodeQuery(labels=["Region"], region_code=region_code), None, 10_000
        )
        child_len = child_code_length(region_code)
        counts = await self.count_nodes(NodeQuery(region_code=region_code))
        parent = None
        if (up := parent_code(region_code)) is not None:
            parent = (await self.get_nodes([f"region:{up}"])).get(f"region:{up}")
        return {
            "region": region,
            "parent": parent,
            "children": [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "kind": c["kind"],
                    "region_code": c["region_code"],
                }
                for c in children.items
                if child_len is not None and len(c["region_code"]) == child_len
            ],
            "nodes_by_label": counts,
        }

    # ------------------------------------------------------------------ references

    async def refs(
        self, ids: Iterable[str], graph: nx.Graph | None = None
    ) -> dict[str, dict[str, Any]]:
        """Nodes as a person reads them: id, name, label, kind, region code and the name of
        the region the node lies in (a village's town, a region's parent, an enterprise's
        region).

        Documents come from ``graph`` (a scope graph this view returned, so already
        redacted) where it holds them, else from the store through this view's policy;
        ids this caller may not see are left out, as missing ones are.
        """
        wanted = list(dict.fromkeys(ids))
        docs: dict[str, Mapping[str, Any]] = {}
        for node_id in wanted:
            if graph is not None and node_id in graph:
                docs[node_id] = graph.nodes[node_id]
        absent = [i for i in wanted if i not in docs]
        if absent:
            docs.update(await self.get_nodes(absent))
        regions = await self._region_names(docs.values(), graph)
        return {
            node_id: {
                "id": node_id,
                "name": doc.get("name"),
                "label": doc.get("label"),
                "kind": doc.get("kind"),
                "region_code": doc.get("region_code"),
                "region_name": next(
                    (regions[c] for c in _enclosing_codes(doc) if c in regions), None
                ),
            }
            for node_id in wanted
            if (doc := docs.get(node_id)) is not None
        }

    async def _region_names(
        self, docs: Iterable[Mapping[str, Any]], graph: nx.Graph | None
    ) -> dict[str, str]:
        """Division code → region name, for every code enclosing one of ``docs``."""
        codes = sorted({c for doc in docs for c in _enclosing_codes(doc)})
        names: dict[str, str] = {}
        absent = []
        for code in codes:
            region = f"region:{code}"
            if graph is not None and region in graph and graph.nodes[region].get("name"):
                names[code] = str(graph.nodes[region]["name"])
            else:
                absent.append(region)
        if absent:
            for region, doc in (await self.get_nodes(absent)).items():
                names[region.removeprefix("region:")] = str(doc["name"])
        return names

    # ------------------------------------------------------------------ free text

    async def text(self, value: str) -> str:
        """Free text (an article, a note) with the names this caller may not read masked."""
        return (await self.policy()).text(value)
