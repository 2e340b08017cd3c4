"""What every backend does alike around its own reads and writes, written once.

:class:`BaseGraphStore` implements the parts of :class:`~graph_service.store.protocol.GraphStore`
that do not depend on how data is stored: the checks of a request before anything is read,
search ranking, paging, the ends of a path and the coverage roll-up. A backend subclasses it
and supplies the abstract methods (SQL and the in-memory graph; Cypher) and the protocol
methods that are all its own.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence, Set

from graph_service.errors import NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.store import protocol
from graph_service.store.common import (
    PageRequest,
    SearchText,
    coverage_report,
    require_region,
    top_hits,
)
from graph_service.store.integrity import check_batch_ids
from graph_service.store.neighbourhood import check_depth

__all__ = ["BaseGraphStore", "PageRows", "VillageCoverage"]

#: ``(id, JSON document)`` rows in id order, as :meth:`PageRequest.page` takes them.
PageRows = Sequence[tuple[str, str | bytes]]
#: ``(code of each village, the covered villages, (code, name) of each child region)``
#: for :func:`~graph_service.store.common.coverage_report`.
VillageCoverage = tuple[Mapping[str, str], Set[str], Iterable[tuple[str, str]]]


class BaseGraphStore(ABC):
    """The store protocol's shared behaviour; see the module docstring."""

    backend: str

    # ------------------------------------------------------------------ writes

    async def write(self, batch: protocol.WriteBatch) -> protocol.WriteResult:
        check_batch_ids(batch)
        return await self._write(batch)

    @abstractmethod
    async def _write(self, batch: protocol.WriteBatch) -> protocol.WriteResult:
        """Apply ``batch`` (ids checked) with ``batch.apply_batch`` in one transaction."""

    # ------------------------------------------------------------------ point reads

    @abstractmethod
    async def get_nodes(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, NodeDoc]: ...

    @abstractmethod
    async def get_links(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, LinkDoc]: ...

    # ------------------------------------------------------------------ lists

    async def list_nodes(
        self, query: protocol.NodeQuery, cursor: str | None, limit: int
    ) -> protocol.Page:
        request = PageRequest.of(cursor, limit)
        return request.page(await self._node_rows(query, request))

    async def list_links(
        self, query: protocol.LinkQuery, cursor: str | None, limit: int
    ) -> protocol.Page:
        request = PageRequest.of(cursor, limit)
        return request.page(await self._link_rows(query, request))

    async def list_judgements(
        self, query: protocol.JudgementQuery, cursor: str | None, limit: int
    ) -> protocol.Page:
        request = PageRequest.of(cursor, limit)
        return request.page(await self._judgement_rows(query, request))

    async def list_history(
        self, query: protocol.HistoryQuery, cursor: str | None, limit: int
    ) -> protocol.Page:
        request = PageRequest.of(cursor, limit)
        return request.page(await self._history_rows(query, request))

    async def list_records(
        self, query: protocol.RecordQuery, cursor: str | None, limit: int
    ) -> protocol.Page:
        request = PageRequest.of(cursor, limit)
        return request.page(await self._record_rows(query, request))

    # Each: the rows matching ``query`` after ``request.after``, ``request.fetch`` at most.

    @abstractmethod
    async def _node_rows(self, query: protocol.NodeQuery, request: PageRequest) -> PageRows: ...

    @abstractmethod
    async def _link_rows(self, query: protocol.LinkQuery, request: PageRequest) -> PageRows: ...

    @abstractmethod
    async def _judgement_rows(
        self, query: protocol.JudgementQuery, request: PageRequest
    ) -> PageRows: ...

    @abstractmethod
    async def _record_rows(self, query: protocol.RecordQuery, request: PageRequest) -> PageRows:
        """Newest first (before ``request.after``, when set) if ``query.newest_first``."""

    @abstractmethod
    async def _history_rows(self, query: protocol.HistoryQuery, request: PageRequest) -> PageRows:
        """Newest first (before ``request.after``, when set) if ``query.newest_first``."""

    # ------------------------------------------------------------------ search

    async def search(
        self,
        text: str,
        labels: Sequence[str] = (),
        limit: int = 20,
        as_of: dt.date | None = None,
    ) -> list[protocol.SearchHit]:
        terms = SearchText.of(text)
        if not terms.needle:
            return []
        candidates = await self._search_candidates(terms, labels, limit, as_of)
        return top_hits(terms, candidates, limit)

    @abstractmethod
    async def _search_candidates(
        self, text: SearchText, labels: Sequence[str], limit: int, as_of: dt.date | None
    ) -> Iterable[NodeDoc]:
        """Nodes with ``labels`` (any, when empty), valid on ``as_of``, a folded name or
        alias of which contains ``text.needle`` (all of them, or a part that holds the
        ``limit`` best), and those whose id or own division code is ``text.key``
        (``common.key_match``)."""

    # ------------------------------------------------------------------ traversal

    async def neighbourhood(self, query: protocol.NeighbourhoodQuery) -> protocol.Subgraph:
        check_depth(query)
        return await self._neighbourhood(query)

    @abstractmethod
    async def _neighbourhood(self, query: protocol.NeighbourhoodQuery) -> protocol.Subgraph:
        """The neighbourhood (depth checked), assembled by a ``NeighbourhoodWalk``."""

    async def shortest_paths(self, query: protocol.PathQuery) -> list[protocol.GraphPath]:
        found = await self.get_nodes([query.source, query.target], query.as_of)
        for field_name, node_id in (("source", query.source), ("target", query.target)):
            if node_id not in found:
                raise NotFoundError(f"no node {node_id}", field=field_name)
        if query.source == query.target:
            return [protocol.GraphPath([query.source], [])]
        return await self._shortest_paths(query)

    @abstractmethod
    async def _shortest_paths(self, query: protocol.PathQuery) -> list[protocol.GraphPath]:
        """Paths between two different nodes, both valid on ``query.as_of``."""

    # ------------------------------------------------------------------ regions

    async def coverage(
        self, region_code: str, as_of: dt.date | None = None
    ) -> protocol.CoverageReport:
        region_id = f"region:{region_code}"
        region = require_region((await self.get_nodes([region_id])).get(region_id), region_code)
        village_codes, covered, children = await self._village_coverage(region_code, as_of)
        return coverage_report(region, region_code, village_codes, covered, children)

    @abstractmethod
    async def _village_coverage(self, region_code: str, as_of: dt.date | None) -> VillageCoverage:
        """The villages under a region (valid on ``as_of``), those covered by a joint body,
        and the regions one level down (``common.child_region_length``; none under a town),
        in code order."""
