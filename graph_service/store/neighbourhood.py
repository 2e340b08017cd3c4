"""Neighbourhood assembly, written once: which nodes join, at which depth, when the limit
truncates, and which links come along.

A backend finds the links at a ring of nodes (adjacency dictionaries, or one Cypher statement
per ring) and hands them to a :class:`NeighbourhoodWalk` as rows
``(link id, link, other end's id, other end)``. The link and the other end come in whatever
form the backend holds them (a document, an id, JSON text); ``load_node`` and ``load_link``
(when given) turn them into documents, and are called only for what the answer keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar, cast

from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.store.protocol import MAX_DEPTH, NeighbourhoodQuery, Subgraph, valid_on

__all__ = ["NeighbourhoodWalk", "check_depth"]

NodeRaw = TypeVar("NodeRaw")
LinkRaw = TypeVar("LinkRaw")


def check_depth(query: NeighbourhoodQuery) -> None:
    if not 0 <= query.depth <= MAX_DEPTH:
        raise InvalidInputError(f"depth must be 0..{MAX_DEPTH}", field="depth")


class NeighbourhoodWalk(Generic[NodeRaw, LinkRaw]):
    """Breadth-first from the centre, one ring at a time::

        walk = NeighbourhoodWalk(query, centre, load_node, load_link)
        for ring in walk.rings():
            walk.reach(links at the nodes of ring, usable for the query)
        walk.close(links at the nodes of walk.outer_ring)
        return walk.subgraph()

    The links a backend hands over are already filtered by the query's link types, direction
    and date; the walk filters the nodes they lead to.
    """

    def __init__(
        self,
        query: NeighbourhoodQuery,
        centre: NodeDoc | None,
        load_node: Callable[[NodeRaw], NodeDoc],
        load_link: Callable[[LinkRaw], LinkDoc] | None = None,
    ) -> None:
        """``load_link=None``: the rows hold link documents."""
        if centre is None or not valid_on(centre, query.as_of):
            raise NotFoundError(f"no node {query.node_id}", field="id")
        self._query = query
        self._load_node = load_node
        self._load_link = load_link
        self._depth_of = {query.node_id: 0}
        self._docs = {query.node_id: centre}
        self._links: dict[str, LinkRaw] = {}
        self._depth = 0
        #: The nodes that joined at the last ring, in the order they joined.
        self.outer_ring = [query.node_id]
        self.truncated = False

    @property
    def depth_of(self) -> Mapping[str, int]:
        """The nodes that joined, and their depth (a backend may skip links leading
        elsewhere)."""
        return self._depth_of

    @property
    def kept_links(self) -> list[str]:
        """Ids of the links the answer keeps so far (a backend may read them in one go)."""
        return list(self._links)

    def rings(self) -> Iterator[list[str]]:
        """The ids of each ring to expand, sorted, up to the query's depth."""
        for depth in range(1, self._query.depth + 1):
            if not self.outer_ring:
                return
            self._depth = depth
            ring, self.outer_ring = sorted(self.outer_ring), []
            yield ring

    def reach(self, rows: Iterable[tuple[str, LinkRaw, str, NodeRaw]]) -> None:
        """Take the links at the ring :meth:`rings` yielded last, in the order given."""
        query, depth_of, docs, links = self._query, self._depth_of, self._docs, self._links
        for link_id, link, other_id, other_raw in rows:
            if other_id not in depth_of:
                other = self._load_node(other_raw)
                if query.node_labels and other["label"] not in query.node_labels:
                    continue
                if not valid_on(other, query.as_of):
                    continue
                if len(depth_of) >= query.limit:
                    self.truncated = True
                    continue
                depth_of[other_id] = self._depth
                docs[other_id] = other
                self.outer_ring.append(other_id)
            if link_id not in links:
                links[link_id] = link

    def close(self, rows: Iterable[tuple[str, LinkRaw, str, NodeRaw]]) -> None:
        """Take the links among the outermost ring, so a drawing shows how they hang
        together: ``rows`` are the links at :attr:`outer_ring`."""
        depth_of, links = self._depth_of, self._links
        for link_id, link, other_id, _ in rows:
            if other_id in depth_of and link_id not in links:
                links[link_id] = link

    def subgraph(self) -> Subgraph:
        nodes = [{**self._docs[i], "depth": d} for i, d in self._depth_of.items()]
        load_link, links = self._load_link, self._links.values()
        if load_link is None:  # the rows held link documents
            docs = cast("list[LinkDoc]", list(links))
        else:
            docs = [load_link(link) for link in links]
        return Subgraph(nodes, docs, self.truncated)
