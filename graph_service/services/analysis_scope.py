"""Scopes of analyses and the cached graphs behind them.

An analysis runs over a scope: a region (division code), a joint body (the body and its
members), a neighbourhood (a node and its k-hop surroundings) or the whole graph, restricted
to some link types and to what was valid on ``as_of``. Exported graphs are cached per
(scope, link types, date), store version and audience, so repeated analyses of one county do
not export it again, and a write invalidates them (``services.work.VersionedCache``, the one
cache policy). Concurrent requests for one scope export it once; what is derived from a
graph (its simple graph, CSR matrix, recommender index) is computed once in the worker pool
and kept with it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

import networkx as nx

from graph_service.domain import MEMBERSHIP_LINK_TYPES
from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.schema import JOINT_BODY_KINDS, LINK_TYPES, STRUCTURAL_LINK_TYPES
from graph_service.services.work import Flights, VersionedCache, WorkPool
from graph_service.store.protocol import (
    GraphStore,
    HistoryDoc,
    HistoryQuery,
    NeighbourhoodQuery,
    Scope,
)
from graph_service.visibility import PERSONAL_LABELS, Visibility

__all__ = ["AnalysisScope", "ScopedGraphs"]

#: History entries :meth:`ScopedGraphs.follow` reads per page, and at most in all: past
#: that many changes since the last follow (a bulk import), dropping every graph is cheaper
#: than deciding which each change touches.
_HISTORY_PAGE = 1000
_MAX_CHANGES = 20_000
#: Entries are read from this long before the newest one already read: a transaction
#: stamped earlier may commit later (Neo4j runs writes concurrently); ids already read are
#: skipped.
_HISTORY_OVERLAP = dt.timedelta(seconds=10)

T = TypeVar("T")
P = ParamSpec("P")

ScopeKind = Literal["region", "body", "neighbourhood", "all"]


@dataclass(frozen=True, slots=True)
class AnalysisScope:
    kind: ScopeKind = "all"
    #: Division code (region), node id (body, neighbourhood).
    value: str | None = None
    depth: int = 2
    link_types: tuple[str, ...] = ()
    include_structural: bool = False
    as_of: dt.date | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "depth": self.depth if self.kind == "neighbourhood" else None,
            "link_types": list(self.link_types) or None,
            "include_structural": self.include_structural,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }

    def effective_link_types(self) -> list[str]:
        if self.link_types:
            return list(self.link_types)
        return [t for t in LINK_TYPES if self.include_structural or t not in STRUCTURAL_LINK_TYPES]


def _history_time(at: str, shift: dt.timedelta) -> str:
    """A history time (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) moved by ``shift``, same form."""
    moment = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ") + shift
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class _Followed:
    """Where :meth:`ScopedGraphs.follow` left off: the store version its cache was brought
    to, the newest history time read and the ids read within the overlap before it."""

    version: int
    at: str | None
    #: Entry id → its time, for the entries within the overlap.
    seen: dict[str, str]


def _touched_ids(entry: HistoryDoc) -> set[str]:
    """The node ids a history entry of a node or link names (a link: both ends)."""
    ids = {str(entry.get("entity_id"))} if entry.get("entity") == "node" else set()
    for doc in (entry.get("before"), entry.get("after")):
        if doc and entry.get("entity") == "link":
            ids.update(str(doc[end]) for end in ("source", "target") if doc.get(end))
    return ids


def _touches(
    scope: AnalysisScope, audience: str, graph: nx.MultiDiGraph, entry: HistoryDoc
) -> bool:
    """Whether a change recorded in the edit history may change ``scope``'s graph.

    Only region scopes are decided: a change touches one when it names a division code
    under the region (a node placed there, a link with an end there), a node of the graph
    or a link with an end in it (placeless nodes: industries, programs). A change of a
    personal node touches every public graph (the public policy masks people's names in
    text). Any change touches every other kind of scope.
    """
    if entry.get("entity") not in ("node", "link"):
        return False
    if scope.kind != "region" or scope.value is None:
        return True
    if audience != "full" and any(
        doc and doc.get("label") in PERSONAL_LABELS
        for doc in (entry.get("before"), entry.get("after"))
    ):
        return True
    if any(str(code).startswith(scope.value) for code in entry.get("regions") or ()):
        return True
    return any(node in graph for node in _touched_ids(entry))


class ScopedGraphs:
    """Exports scopes from a store, with a small LRU cache keyed by store version.

    ``pool`` runs the CPU-bound steps (redacting a graph for the public, and everything
    :meth:`derive` computes); the services reach it as ``view.graphs.pool``.

    ``max_stale_s`` (settings ``scope_graph_max_stale_s``, 1 s by default; 0, exact, here): a
    scope's graph built less than that many seconds ago is used for a newer store version
    as well. Every write changes the version, so without it each write makes the next
    request of every scope export it again and rebuild what is derived from it (a county's
    recommender index: 0.1-0.5 s of CPU); with writes every few milliseconds, that is every
    request. With it, analyses and recommendations follow writes within ``max_stale_s``.
    """

    def __init__(
        self,
        store: GraphStore,
        size: int = 16,
        pool: WorkPool | None = None,
        max_stale_s: float = 0.0,
    ) -> None:
        self.store = store
        self.size = size
        self.pool = pool or WorkPool()
        self.max_stale_s = max_stale_s
        #: Derived artefacts (CSR matrices …) per graph key; dropped with their graph.
        self.derived: dict[Hashable, dict[str, Any]] = {}
        #: (scope, audience) → the key of its latest graph and when it was built.
        self._latest: dict[tuple[Any, ...], tuple[tuple[Any, ...], float]] = {}
        #: (scope, audience) → the key of the graph being exported for it, if one is.
        self._building: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._cache: VersionedCache[nx.MultiDiGraph] = VersionedCache(
            size, self._forget, retain=self._fresh
        )
        self._deriving: Flights[Any] = Flights()
        #: Whether :meth:`follow` carries graphs across writes (the app's index warm-up
        #: turns it on; a CLI run or a test of its own need not read the history).
        self.following = False
        self._followed: _Followed | None = None
        self._follow_lock = asyncio.Lock()
        #: Graphs :meth:`follow` carried to a newer version, and those it let go.
        self.carried = 0
        self.dropped = 0

    def _fresh(self, key: Hashable) -> bool:
        """Whether a graph of an older version is still usable (within ``max_stale_s``)."""
        if self.max_stale_s <= 0 or not isinstance(key, tuple):
            return False
        latest = self._latest.get((key[0], key[2]))
        return (
            latest is not None
            and latest[0] == key
            and time.monotonic() - latest[1] < self.max_stale_s
        )

    def _forget(self, key: Hashable) -> None:
        self.derived.pop(key, None)
        if isinstance(key, tuple):
            latest = self._latest.get((key[0], key[2]))
            if latest is not None and latest[0] == key:
                del self._latest[(key[0], key[2])]

    async def follow(self) -> list[tuple[AnalysisScope, str]]:
        """Bring the cache to the store's current version: every cached graph of the version
        last followed that no change since touches is kept as the current version's graph,
        with what was derived from it (a recommender index); the others are left to go.

        Returns the (scope, audience) slots whose graphs the changes touched (to rebuild).
        A no-op unless :attr:`following`, and when the version has not moved (one version
        read: what every cached read does anyway). Which changes touch which scope:
        :func:`_touches`, from the edit history the store writes in each change's
        transaction.
        """
        if not self.following:
            return []
        followed = self._followed
        if followed is not None and followed.version == await self.store.version():
            return []
        async with self._follow_lock:
            followed = self._followed
            if followed is None:
                self._followed = await self._changes(None, [])
                return []
            changes: list[HistoryDoc] = []
            position = await self._changes(followed, changes)
            if position.version == followed.version:
                return []
            touched = self._carry(followed.version, position.version, changes)
            self._followed = position
            return touched

    async def _changes(self, since: _Followed | None, into: list[HistoryDoc]) -> _Followed:
        """The store's version and the history entries after ``since`` up to it, appended
        to ``into`` (``since=None``: none, only where the history ends). Past
        ``_MAX_CHANGES`` entries it stops reading: every graph counts as touched."""
        while True:
            version = await self.store.version()
            into.clear()
            seen = dict(since.seen) if since is not None else {}
            at = since.at if since is not None else None
            if since is None:
                newest = await self.store.list_history(HistoryQuery(newest_first=True), None, 1)
                at = newest.items[0]["at"] if newest.items else None
            start = _history_time(at, -_HISTORY_OVERLAP) if at else None
            cursor: str | None = None
            # From the start: the entries within the overlap are only marked as read.
            while since is not None or at is not None:
                page = await self.store.list_history(
                    HistoryQuery(since=start), cursor, _HISTORY_PAGE
                )
                fresh = [e for e in page.items if e["id"] not in seen]
                if since is not None:
                    into += fresh
                seen.update((e["id"], e["at"]) for e in fresh)
                cursor = page.next_cursor
                if cursor is None or len(into) > _MAX_CHANGES:
                    break
            if seen:
                at = max(seen.values())
                horizon = _history_time(at, -_HISTORY_OVERLAP)
                seen = {i: t for i, t in seen.items() if t >= horizon}
            # A write between the two reads: its entries may be missing; read again.
            if await self.store.version() == version:
                return _Followed(version, at, seen)

    def _carry(
        self, old: int, new: int, changes: list[HistoryDoc]
    ) -> list[tuple[AnalysisScope, str]]:
        everything = len(changes) > _MAX_CHANGES
        kept: list[tuple[tuple[Any, ...], nx.MultiDiGraph, dict[str, Any]]] = []
        touched: list[tuple[AnalysisScope, str]] = []
        for key in self._cache:
            if not isinstance(key, tuple) or key[1] != old:
                continue
            scope, audience = key[0], key[2]
            graph = self._cache.get(key)
            if graph is None or (scope, new, audience) in self._cache:
                continue
            if everything or any(_touches(scope, audience, graph, e) for e in changes):
                touched.append((scope, audience))
                self.dropped += 1
            else:
                kept.append(((scope, new, audience), graph, dict(self.derived.get(key, {}))))
        now = time.monotonic()
        for key, graph, derived in kept:
            # The first put of the new version lets the old entries go (and their derived
            # artefacts): the snapshot above keeps what is carried.
            self._cache.put(key, new, graph)
            self.derived[key] = derived
            self._latest[(key[0], key[2])] = (key, now)
            self.carried += 1
        return touched

    async def key(
        self, scope: AnalysisScope, policy: Visibility, exact: bool = False
    ) -> tuple[Any, ...]:
        """The cache key of the scope's graph: of the current store version, or, unless
        ``exact``, of a graph built less than ``max_stale_s`` ago, or of the one being built.

        Joining the build under way matters under a stream of writes: each write makes a
        new version, and a request that started a build of its own for each would keep the
        pool busy rebuilding the same scope (the load benchmark's 503s, BENCHMARKS.md).
        """
        key = (scope, await self.store.version(), policy.audience)
        if exact or self.max_stale_s <= 0 or key in self._cache:
            return key
        building = self._building.get((scope, policy.audience))
        if building is not None:
            return building
        latest = self._latest.get((scope, policy.audience))
        if latest is not None and latest[0] in self._cache and self._fresh(latest[0]):
            return latest[0]
        return key

    async def graph(
        self, scope: AnalysisScope, policy: Visibility, exact: bool = False
    ) -> tuple[nx.MultiDiGraph, tuple[Any, ...]]:
        """The scope's graph as ``policy``'s audience sees it, and its cache key; ``exact``:
        of the current store version, never one within the staleness bound (what a write
        decides on, and downloads).

        Callers outside the services read graphs through ``GraphView.graph``, which picks
        the policy from the caller.
        """
        key = await self.key(scope, policy, exact)
        slot = (scope, policy.audience)

        async def export() -> nx.MultiDiGraph:
            try:
                exported = await self._export(scope, policy)
                graph = await self.pool.run(policy.graph, exported)
                self._latest[slot] = (key, time.monotonic())
                return graph
            finally:
                if self._building.get(slot) == key:
                    del self._building[slot]

        if self.max_stale_s > 0 and key not in self._cache and slot not in self._building:
            self._building[slot] = key

        # Graphs of an older store version are freed when the first graph of a newer one
        # is kept (a county graph and its index are ~100 MB), unless still fresh enough.
        graph = await self._cache.get_or_compute(key, key[1], export)
        return graph, key

    async def cached(self, scope: AnalysisScope, policy: Visibility) -> nx.MultiDiGraph | None:
        """The scope's graph if it is cached for this audience and the current version."""
        return self._cache.get(await self.key(scope, policy))

    async def derive(
        self,
        key: tuple[Any, ...],
        name: str,
        fn: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(*args, **kwargs)``, computed once per graph ``key`` in the pool (concurrent
        askers wait for the same computation) and kept with the graph as ``name``."""
        found = self.derived.get(key, {})
        if name in found:
            value: T = found[name]
            return value

        async def compute() -> T:
            result = await self.pool.run(fn, *args, **kwargs)
            if key in self._cache:  # not for a graph evicted meanwhile
                self.derived.setdefault(key, {})[name] = result
            return result

        flight_key: Hashable = (key, name)
        derived: T = await self._deriving.join(flight_key, compute).wait()
        return derived

    def counts(self, key: tuple[Any, ...], graph: nx.MultiDiGraph | None = None) -> tuple[int, int]:
        """Nodes and links of a cached graph, counted once (counting a multigraph's links
        walks every adjacency)."""
        derived = self.derived.setdefault(key, {}) if key in self._cache else {}
        if "size" not in derived:
            graph = graph if graph is not None else self._cache.get(key)
            if graph is None:
                raise KeyError(key)
            derived["size"] = (graph.number_of_nodes(), graph.number_of_edges())
        size: tuple[int, int] = derived["size"]
        return size

    async def _export(self, scope: AnalysisScope, policy: Visibility) -> nx.MultiDiGraph:
        types = scope.effective_link_types()
        # Traversals that gather a scope never step onto what the audience may not see, so
        # nothing joins a scope through a person.
        labels = policy.labels() if not policy.full else []
        if scope.kind == "all":
            return await self.store.export_graph(
                Scope(link_types=types, include_structural=True, as_of=scope.as_of)
            )
        if scope.value is None:
            raise InvalidInputError("this scope needs a value", field="scope")
        if scope.kind == "region":
            found = await self.store.get_nodes([f"region:{scope.value}"])
            if not found:
                raise NotFoundError(f"no region with code {scope.value}", field="region")
            return await self.store.export_graph(
                Scope(
                    region_code=scope.value,
                    link_types=types,
                    include_structural=True,
                    as_of=scope.as_of,
                )
            )
        if scope.kind == "body":
            body = (await self.store.get_nodes([scope.value], scope.as_of)).get(scope.value)
            if body is None or body.get("kind") not in JOINT_BODY_KINDS:
                raise NotFoundError(f"no joint body {scope.value}", field="body")
            members = await self.store.neighbourhood(
                NeighbourhoodQuery(
                    scope.value,
                    depth=1,
                    link_types=["MEMBER_OF"],
                    direction="in",
                    node_labels=labels,
                    limit=5000,
                    as_of=scope.as_of,
                )
            )
            ids = [n["id"] for n in members.nodes]
            # Members' own villages and organizations belong with them.
            around = await self.store.neighbourhood(
                NeighbourhoodQuery(
                    scope.value,
                    depth=2,
                    link_types=list(MEMBERSHIP_LINK_TYPES),
                    node_labels=labels,
                    limit=5000,
                    as_of=scope.as_of,
                )
            )
            ids += [n["id"] for n in around.nodes]
            return await self._by_ids(ids, types, scope)
        if scope.kind == "neighbourhood":
            sub = await self.store.neighbourhood(
                NeighbourhoodQuery(
                    scope.value,
                    depth=scope.depth,
                    link_types=policy.link_types(types),
                    node_labels=labels,
                    limit=5000,
                    as_of=scope.as_of,
                )
            )
            return await self._by_ids([n["id"] for n in sub.nodes], types, scope)
        raise InvalidInputError(f"unknown scope {scope.kind}", field="scope")

    async def _by_ids(
        self, ids: Sequence[str], types: list[str], scope: AnalysisScope
    ) -> nx.MultiDiGraph:
        return await self.store.export_graph(
            Scope(
                node_ids=sorted(set(ids)),
                link_types=types,
                include_structural=True,
                as_of=scope.as_of,
            )
        )
