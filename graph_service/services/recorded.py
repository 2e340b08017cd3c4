"""Record-time reads: what the graph said at a moment (``recorded_as_of``).

``as_of`` is valid time: the day a node or link is true of the world. ``recorded_as_of`` is
transaction time: what the store held at a moment, whatever has been written since. The two
combine: "the villages valid on 2024-01-01, as the graph recorded them on 2025-03-01".

The state of a node or link at a moment T is the ``before`` of its first history entry after
T, or what is stored now when nothing changed it since. So a record-time read is the current
store seen through an :class:`Overlay`: the state at T of every node and link written after
T, read from the history (entries after T, paged). :class:`RecordedStore` answers the
store's reads (documents, neighbourhoods, region coverage, scope graphs) from the current
store and the overlay, over the store protocol only, so one implementation serves both
backends; :func:`recorded_view` wraps it in the caller's
:class:`~graph_service.services.view.GraphView`, so the visibility policy applies as it does
to current reads.

What happened before the history began was never recorded: record-time reads reach back to
the store's first history entry, and an earlier moment is refused
(:func:`graph_service.services.history.check_recorded_time`). Node references given by name
or division code are looked up as names are now; ids name the node at T.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from graph_service.domain import MAX_PAGE, MAX_RECORDED_CHANGES, MEMBERSHIP_LINK_TYPES
from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import JOINT_BODY_KINDS, STRUCTURAL_LINK_TYPES
from graph_service.services.analysis_scope import ScopedGraphs
from graph_service.services.history import check_recorded_time
from graph_service.services.view import GraphView, GraphViews
from graph_service.store.common import child_region_length, coverage_report, require_region
from graph_service.store.neighbourhood import NeighbourhoodWalk, check_depth
from graph_service.store.protocol import (
    AccountDoc,
    CoverageReport,
    GraphPath,
    GraphStore,
    HistoryQuery,
    JudgementQuery,
    KeyDoc,
    LinkQuery,
    NeighbourhoodQuery,
    NodeQuery,
    Page,
    PathQuery,
    RecordQuery,
    Scope,
    SearchHit,
    StoreStats,
    Subgraph,
    WriteBatch,
    WriteResult,
    valid_on,
)
from graph_service.visibility import PERSONAL_LABELS, Caller, Visibility

__all__ = ["Overlay", "RecordedStore", "RecordedViews", "recorded_view"]

_FIELD = "recorded_as_of"


def _under(doc: Mapping[str, Any], code: str) -> bool:
    region = doc.get("region_code")
    return region is not None and str(region).startswith(code)


class Overlay:
    """The nodes and links written after a moment, each as it was at that moment (``None``:
    not stored then)."""

    def __init__(
        self, at: str, nodes: dict[str, NodeDoc | None], links: dict[str, LinkDoc | None]
    ) -> None:
        self.at = at
        self.nodes = nodes
        self.links = links
        #: Node id → the changed links stored at the moment with that end, by id.
        self.by_end: defaultdict[str, list[str]] = defaultdict(list)
        for link_id, link in sorted(links.items()):
            if link is not None:
                self.by_end[link["source"]].append(link_id)
                if link["target"] != link["source"]:
                    self.by_end[link["target"]].append(link_id)

    @classmethod
    async def load(cls, store: GraphStore, at: str, cap: int = MAX_RECORDED_CHANGES) -> Overlay:
        """The overlay of the entries after ``at`` (stored form), read oldest first: each
        entity's first entry after ``at`` holds its state then (``before``)."""
        states: dict[str, dict[str, Any]] = {"node": {}, "link": {}}
        read = 0
        cursor: str | None = None
        # One pass over the entries after ``at`` (the time index), whatever their entity:
        # a filter on the entity would walk every entry of it instead.
        query = HistoryQuery(since=at)
        while True:
            page = await store.list_history(query, cursor, MAX_PAGE)
            read += len(page.items)
            if read > cap:
                raise InvalidInputError(
                    f"{_FIELD} {at} lies more than {cap} changes back: ask for a later moment",
                    field=_FIELD,
                )
            for entry in page.items:
                kept = states.get(entry["entity"])
                if kept is not None and entry["at"] > at:
                    kept.setdefault(entry["entity_id"], entry["before"])
            cursor = page.next_cursor
            if cursor is None:
                return cls(at, states["node"], states["link"])

    def names(self, labels: Iterable[str]) -> set[str]:
        """Names and aliases, at the moment, of the nodes of ``labels`` changed since."""
        wanted = set(labels)
        found: set[str] = set()
        for doc in self.nodes.values():
            if doc is not None and doc.get("label") in wanted:
                found.add(str(doc["name"]))
                found.update(doc.get("aliases") or ())
        return found


class RecordedStore:
    """The store's reads as they would have answered at the overlay's moment.

    Read-only: documents, search (names as they are now), neighbourhoods, region coverage
    and scope graphs. Reads record-time routes do not take are refused (422 naming
    ``recorded_as_of``); histories, judgements and accounts are read as they are.
    """

    def __init__(self, store: GraphStore, overlay: Overlay) -> None:
        self.store = store
        self.overlay = overlay
        self.backend = store.backend

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """The current store is opened and closed by its owner."""

    async def close(self) -> None:
        """See :meth:`open`."""

    async def ping(self) -> None:
        await self.store.ping()

    async def version(self) -> int:
        return await self.store.version()

    async def write(self, batch: WriteBatch) -> WriteResult:
        raise InvalidInputError("a record-time read writes nothing", field=_FIELD)

    # ------------------------------------------------------------------ documents

    async def get_nodes(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, NodeDoc]:
        return await self._docs(ids, self.overlay.nodes, self.store.get_nodes, as_of)

    async def get_links(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, LinkDoc]:
        return await self._docs(ids, self.overlay.links, self.store.get_links, as_of)

    @staticmethod
    async def _docs(
        ids: Sequence[str], changed: Mapping[str, Any], get: Any, as_of: dt.date | None
    ) -> dict[str, Any]:
        unchanged = [i for i in ids if i not in changed]
        stored: dict[str, Any] = await get(unchanged) if unchanged else {}
        found = {}
        for item_id in ids:
            doc = changed[item_id] if item_id in changed else stored.get(item_id)
            if doc is not None and valid_on(doc, as_of):
                found[item_id] = doc
        return found

    async def search(
        self,
        text: str,
        labels: Sequence[str] = (),
        limit: int = 20,
        as_of: dt.date | None = None,
    ) -> list[SearchHit]:
        """Names as they are now, the nodes as they were (those not stored then are left out)."""
        hits = await self.store.search(text, labels, limit, as_of)
        docs = await self.get_nodes([h.node["id"] for h in hits], as_of)
        return [
            SearchHit(docs[h.node["id"]], h.match, h.matched, h.score)
            for h in hits
            if h.node["id"] in docs
        ]

    # ------------------------------------------------------------------ links at nodes

    async def links_at_nodes(self, node_ids: Sequence[str]) -> dict[str, list[LinkDoc]]:
        """Every link stored at the moment at each node (any type, any dates), by link id:
        those stored now that did not change since, and the changed ones as they were."""
        changed = self.overlay.links
        found: dict[str, list[LinkDoc]] = {}
        for node_id, now in (await self.store.links_at_nodes(node_ids)).items():
            links = {d["id"]: d for d in now if d["id"] not in changed}
            for link_id in self.overlay.by_end.get(node_id, ()):
                link = changed[link_id]
                if link is not None:
                    links[link_id] = link
            found[node_id] = [links[i] for i in sorted(links)]
        return found

    async def links_among(self, node_ids: Iterable[str]) -> dict[str, LinkDoc]:
        """Every link stored at the moment between two of ``node_ids``, by id."""
        members = set(node_ids)
        current = await self.store.export_graph(
            Scope(node_ids=sorted(members), include_structural=True)
        )
        changed = self.overlay.links
        links = {
            key: dict(data)
            for _, _, key, data in current.edges(keys=True, data=True)
            if key not in changed
        }
        for link_id, link in changed.items():
            if link is not None and link["source"] in members and link["target"] in members:
                links[link_id] = link
        return links

    # ------------------------------------------------------------------ traversal

    async def neighbourhood(self, query: NeighbourhoodQuery) -> Subgraph:
        check_depth(query)
        centre = (await self.get_nodes([query.node_id])).get(query.node_id)
        docs: dict[str, NodeDoc] = {}
        walk = NeighbourhoodWalk[str, LinkDoc](query, centre, docs.__getitem__)
        for ring in walk.rings():
            rows = await self._ring(ring, query)
            docs.update(await self.get_nodes(sorted({row[2] for row in rows} - set(docs))))
            walk.reach(row for row in rows if row[2] in docs)
        walk.close(await self._ring(walk.outer_ring, query))
        return walk.subgraph()

    async def _ring(
        self, ring: Sequence[str], query: NeighbourhoodQuery
    ) -> list[tuple[str, LinkDoc, str, str]]:
        """The links at each node of ``ring`` usable for ``query`` (type, direction, date),
        in link id order per node, as rows for a ``NeighbourhoodWalk``."""
        rows = []
        for node_id, links in (await self.links_at_nodes(sorted(ring))).items():
            for link in links:
                out, into = link["source"] == node_id, link["target"] == node_id
                if (query.direction == "out" and not out) or (query.direction == "in" and not into):
                    continue
                if query.link_types and link["type"] not in query.link_types:
                    continue
                if not valid_on(link, query.as_of):
                    continue
                other = link["target"] if out else link["source"]
                rows.append((link["id"], link, other, other))
        return rows

    async def shortest_paths(self, query: PathQuery) -> list[GraphPath]:
        raise _not_taken("paths")

    # ------------------------------------------------------------------ regions

    async def coverage(self, region_code: str, as_of: dt.date | None = None) -> CoverageReport:
        """Villages under the region covered by a joint body at the moment, per child region:
        today's answer, with the villages the changes since could have touched worked out
        again from the links as they were."""
        region_id = f"region:{region_code}"
        region = require_region((await self.get_nodes([region_id])).get(region_id), region_code)
        villages = await self._current_villages(region_code, as_of)
        try:
            today = await self.store.coverage(region_code, as_of)
        except NotFoundError:  # the region is gone now: every village is worked out
            today = None
        affected = set(villages) if today is None else await self._coverage_touched()
        affected |= set(self.overlay.nodes)
        covered_now = set(villages) - set(today.total.uncovered_village_ids if today else ())
        village_codes = {v: code for v, code in villages.items() if v not in self.overlay.nodes}
        then = await self.get_nodes(sorted(affected | set(self.overlay.nodes)), as_of)
        for node_id, doc in then.items():
            if doc["label"] == "Village" and _under(doc, region_code):
                village_codes[node_id] = str(doc["region_code"])
        covered = {v for v in village_codes if v not in affected and v in covered_now}
        covered |= await self._covered_among(sorted(affected & set(village_codes)), as_of)
        children = await self._children(region_code, today)
        return coverage_report(region, region_code, village_codes, covered, children)

    async def _current_villages(self, region_code: str, as_of: dt.date | None) -> dict[str, str]:
        """Villages stored now under the region and valid on ``as_of``: id → code."""
        found: dict[str, str] = {}
        query = NodeQuery(labels=["Village"], region_code=region_code, as_of=as_of)
        cursor: str | None = None
        while True:
            page = await self.store.list_nodes(query, cursor, MAX_PAGE)
            found.update((d["id"], str(d["region_code"])) for d in page.items)
            cursor = page.next_cursor
            if cursor is None:
                return found

    async def _coverage_touched(self) -> set[str]:
        """Nodes whose coverage the changes since the moment may have changed: changed
        villages, the members of changed joint bodies, the ends of changed memberships and
        organizations, and the villages of the organizations among them."""
        overlay = self.overlay
        now_nodes = await self.store.get_nodes(sorted(overlay.nodes))
        now_links = await self.store.get_links(sorted(overlay.links))
        touched: set[str] = set()
        actors: set[str] = set()
        bodies: set[str] = set()
        for node_id, then in overlay.nodes.items():
            for doc in (then, now_nodes.get(node_id)):
                if doc is not None and doc.get("label") == "Village":
                    touched.add(node_id)
                if doc is not None and doc.get("kind") in JOINT_BODY_KINDS:
                    bodies.add(node_id)
        for link_id, then in overlay.links.items():
            for link in (then, now_links.get(link_id)):
                if link is not None and link["type"] == "ORGANIZATION_OF":
                    touched.add(link["target"])
                elif link is not None and link["type"] == "MEMBER_OF":
                    actors.add(link["source"])
        for body, links in (await self._links_then_and_now(bodies)).items():
            actors.update(
                k["source"] for k in links if k["type"] == "MEMBER_OF" and k["target"] == body
            )
        touched |= actors
        for actor, links in (await self._links_then_and_now(actors)).items():
            touched.update(
                k["target"]
                for k in links
                if k["type"] == "ORGANIZATION_OF" and k["source"] == actor
            )
        return touched

    async def _links_then_and_now(self, node_ids: Iterable[str]) -> dict[str, list[LinkDoc]]:
        """The links at each node at the moment and now."""
        ids = sorted(set(node_ids))
        found = await self.links_at_nodes(ids)
        for node_id, now in (await self.store.links_at_nodes(ids)).items():
            found[node_id] += now
        return found

    async def _covered_among(self, villages: Sequence[str], as_of: dt.date | None) -> set[str]:
        """Those of ``villages`` in a joint body at the moment, themselves or through their
        own party organization (the store's rule, ``GraphStore.coverage``)."""
        usable = [
            link
            for links in (await self.links_at_nodes(villages)).values()
            for link in links
            if link["type"] in MEMBERSHIP_LINK_TYPES and valid_on(link, as_of)
        ]
        wanted = set(villages)
        # An organization is of one village (ORGANIZATION_OF); keyed by the organization.
        organizations: dict[str, set[str]] = defaultdict(set)
        for link in usable:
            if link["type"] == "ORGANIZATION_OF" and link["target"] in wanted:
                organizations[link["source"]].add(link["target"])
        memberships = [k for k in usable if k["type"] == "MEMBER_OF" and k["source"] in wanted]
        for links in (await self.links_at_nodes(sorted(organizations))).values():
            memberships += [
                k
                for k in links
                if k["type"] == "MEMBER_OF" and k["source"] in organizations and valid_on(k, as_of)
            ]
        bodies = await self.get_nodes(sorted({k["target"] for k in memberships}), as_of)
        joint = {i for i, doc in bodies.items() if doc.get("kind") in JOINT_BODY_KINDS}
        covered: set[str] = set()
        for membership in memberships:
            if membership["target"] in joint:
                member = membership["source"]
                covered |= {member} if member in wanted else organizations[member]
        return covered

    async def _children(
        self, region_code: str, today: CoverageReport | None
    ) -> list[tuple[str, str]]:
        """``(code, name)`` of the regions one level down at the moment, in code order."""
        length = child_region_length(region_code)
        if length is None:
            return []
        if today is not None:
            names = {c.region_code: c.name for c in today.children}
        else:
            names = {}
            query = NodeQuery(labels=["Region"], region_code=region_code)
            cursor: str | None = None
            while True:
                page = await self.store.list_nodes(query, cursor, MAX_PAGE)
                names.update(
                    (str(d["region_code"]), str(d["name"]))
                    for d in page.items
                    if len(str(d["region_code"])) == length
                )
                cursor = page.next_cursor
                if cursor is None:
                    break
        now = await self.store.get_nodes(sorted(self.overlay.nodes))
        for node_id, then in self.overlay.nodes.items():
            for doc, keep in ((now.get(node_id), False), (then, True)):
                if doc is None or doc["label"] != "Region" or not _under(doc, region_code):
                    continue
                code = str(doc["region_code"])
                if len(code) != length:
                    continue
                if keep:
                    names[code] = str(doc["name"])
                else:
                    names.pop(code, None)
        return sorted(names.items())

    # ------------------------------------------------------------------ scope graphs

    async def export_graph(self, scope: Scope) -> nx.MultiDiGraph:
        """The scope's graph at the moment, built as the stores build it: a region's nodes
        and the placeless ones linked to them, explicit ids, or everything."""
        if scope.node_ids is not None:
            docs = await self.get_nodes(sorted(set(scope.node_ids)))
            links = await self.links_among(docs)
        elif scope.region_code is not None:
            docs, links = await self._region(scope.region_code)
        else:
            docs, links = await self._everything()
        types = scope.link_types
        graph = nx.MultiDiGraph()
        for node_id in sorted(docs):
            if valid_on(docs[node_id], scope.as_of):
                graph.add_node(node_id, **docs[node_id])
        for link in sorted(links.values(), key=lambda k: (k["source"], k["id"])):
            if link["source"] not in graph or link["target"] not in graph:
                continue
            if types and link["type"] not in types:
                continue
            if not scope.include_structural and link["type"] in STRUCTURAL_LINK_TYPES:
                continue
            if valid_on(link, scope.as_of):
                graph.add_edge(link["source"], link["target"], key=link["id"], **link)
        return graph

    async def _region(self, code: str) -> tuple[dict[str, NodeDoc], dict[str, LinkDoc]]:
        """The nodes under ``code`` at the moment, the placeless nodes linked to one of them
        then, and the links among all of these."""
        changed = self.overlay.nodes
        today = await self.store.export_graph(Scope(region_code=code, include_structural=True))
        placed = {n for n, d in today.nodes(data=True) if n not in changed and _under(d, code)}
        placed |= {n for n, d in changed.items() if d is not None and _under(d, code)}
        # Placeless candidates: those linked to the region now, those placeless then among the
        # changed nodes, the ends of changed links, and what changed placed nodes linked to.
        candidates = {n for n, d in today.nodes(data=True) if d.get("region_code") is None}
        candidates |= {n for n, d in changed.items() if d is not None and not d.get("region_code")}
        for link in self.overlay.links.values():
            if link is not None:
                candidates.update((link["source"], link["target"]))
        for at_node in (await self.links_at_nodes(sorted(placed & set(changed)))).values():
            candidates.update(end for k in at_node for end in (k["source"], k["target"]))
        docs = await self.get_nodes(sorted(placed | candidates))
        placeless = {n for n in candidates - placed if n in docs and not docs[n].get("region_code")}
        links = await self.links_among(placed | placeless)
        linked = {
            end
            for k in links.values()
            for end, other in ((k["source"], k["target"]), (k["target"], k["source"]))
            if other in placed
        }
        members = (placed & set(docs)) | (placeless & linked)
        kept = {i: k for i, k in links.items() if k["source"] in members and k["target"] in members}
        return {n: docs[n] for n in members}, kept

    async def _everything(self) -> tuple[dict[str, NodeDoc], dict[str, LinkDoc]]:
        today = await self.store.export_graph(Scope(include_structural=True))
        docs: dict[str, NodeDoc] = {
            n: dict(d) for n, d in today.nodes(data=True) if n not in self.overlay.nodes
        }
        docs.update((n, d) for n, d in self.overlay.nodes.items() if d is not None)
        links: dict[str, LinkDoc] = {
            k: dict(d)
            for _, _, k, d in today.edges(keys=True, data=True)
            if k not in self.overlay.links
        }
        links.update((i, k) for i, k in self.overlay.links.items() if k is not None)
        return docs, links

    # ------------------------------------------------------------------ not taken at a moment

    async def list_nodes(self, query: NodeQuery, cursor: str | None, limit: int) -> Page:
        raise _not_taken("node lists")

    async def list_links(self, query: LinkQuery, cursor: str | None, limit: int) -> Page:
        raise _not_taken("link lists")

    async def count_nodes(self, query: NodeQuery) -> dict[str, int]:
        raise _not_taken("node counts")

    async def count_links(self, node_id: str) -> int:
        raise _not_taken("link counts")

    async def stats(self) -> StoreStats:
        raise _not_taken("statistics")

    # ------------------------------------------------------------------ beside the graph

    async def list_judgements(self, query: JudgementQuery, cursor: str | None, limit: int) -> Page:
        return await self.store.list_judgements(query, cursor, limit)

    async def list_history(self, query: HistoryQuery, cursor: str | None, limit: int) -> Page:
        return await self.store.list_history(query, cursor, limit)

    async def list_records(self, query: RecordQuery, cursor: str | None, limit: int) -> Page:
        return await self.store.list_records(query, cursor, limit)

    async def get_accounts(self, names: Sequence[str]) -> dict[str, AccountDoc]:
        return await self.store.get_accounts(names)

    async def list_accounts(self) -> list[AccountDoc]:
        return await self.store.list_accounts()

    async def find_key(self, key_hash: str) -> tuple[KeyDoc, AccountDoc] | None:
        return await self.store.find_key(key_hash)

    async def list_keys(self, account: str | None = None) -> list[KeyDoc]:
        return await self.store.list_keys(account)


def _not_taken(what: str) -> InvalidInputError:
    return InvalidInputError(f"{what} are not read at a recorded moment", field=_FIELD)


class RecordedViews(GraphViews):
    """Views of the graph at a recorded moment, for one request.

    The public policy masks the names of the people stored now and of those stored then;
    it is made afresh, so that the redacted documents it keeps are these, not today's.
    """

    def __init__(self, views: GraphViews, store: RecordedStore) -> None:
        # Graphs of this moment are cached for this request only; their CPU work runs in the
        # process's one worker pool.
        super().__init__(store, ScopedGraphs(store, pool=views.graphs.pool))
        self._today = views
        self._recorded = store

    async def visibility(self, caller: Caller) -> Visibility:
        if caller.sees_personal:
            return self.FULL
        today = await self._today.visibility(caller)
        names = self._recorded.overlay.names(PERSONAL_LABELS)
        return Visibility(full=False, names=(*today.names, *sorted(names)))


async def recorded_view(views: GraphViews, caller: Caller, at: str) -> GraphView:
    """The caller's view of the graph as recorded at ``at`` (stored form); refused for a
    moment before the history began or still to come."""
    await check_recorded_time(views.store, at, _FIELD)
    overlay = await Overlay.load(views.store, at)
    return RecordedViews(views, RecordedStore(views.store, overlay)).view(caller)
