"""The store contract: one ``typing.Protocol`` every backend implements.

Stores take and return plain documents (``NodeDoc`` / ``LinkDoc``). All reads accept ``as_of``:
only nodes and links valid on that date (``valid_from <= as_of <= valid_to``, open ends
allowed) are seen. Stores enforce referential integrity and the registry's link rules inside
the write transaction, so a batch is all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import networkx as nx

from graph_service import domain
from graph_service.models import LinkDoc, NodeDoc

#: A planner's judgement of a recommended pair (see ``graph_service.services.recommendations``):
#: ``id``, ``pair`` (the two actor ids, sorted, joined by ``|``), ``target``, ``partner``,
#: ``decision``, ``decided_by``, ``decided_at`` (UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) and
#: the rest of the record. Stores keep judgements apart from the graph, append-only.
JudgementDoc = dict[str, Any]
#: An account (``graph_service.access``): ``name`` (its id), ``role``, ``scope`` (a region
#: code, ``""`` national), ``created_at``, ``created_by``, ``disabled``.
AccountDoc = dict[str, Any]
#: An API key of an account: ``id`` (public, ``key_…``), ``account``, ``hash``
#: (``sha256:<hex>``; the key itself is never stored), ``created_at``, ``created_by``,
#: ``expires_at`` and ``revoked_at`` (UTC ``…Z`` strings or ``None``).
KeyDoc = dict[str, Any]
#: One entry of the edit history, written in the transaction of the change it records:
#: ``id`` (time-ordered), ``at`` (UTC transaction time, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``),
#: ``account``, ``request_id``, ``operation``, ``entity`` (``node``, ``link``,
#: ``judgement``, ``account``, ``key``), ``entity_id``, ``action`` (``create``, ``update``,
#: ``delete``), ``regions`` (the division codes it touches), ``before`` and ``after`` (the
#: whole document, ``None`` when absent). Append-only: nothing updates or deletes it.
HistoryDoc = dict[str, Any]
#: A record beside the graph, versioned by its ``key`` within its ``kind``: a review-queue
#: item, an identity judgement, a merge, an import, a saved column mapping, a redirect from a
#: merged id (``graph_service.services.review``). ``id`` (time-ordered), ``kind``, ``key``,
#: ``at`` (UTC), ``status`` and ``region`` (a division code or ``None``) are what stores
#: filter by; the rest of the document is the caller's. Append-only: a record's next version
#: is a new record with the same ``kind`` and ``key``; the latest is the one in force.
RecordDoc = dict[str, Any]

__all__ = [
    "MAX_DEPTH",
    "AccountDoc",
    "CoverageReport",
    "Direction",
    "GraphPath",
    "GraphStore",
    "HistoryDoc",
    "HistoryQuery",
    "JudgementDoc",
    "JudgementQuery",
    "KeyDoc",
    "LinkQuery",
    "NeighbourhoodQuery",
    "NodeQuery",
    "Page",
    "PathQuery",
    "RecordDoc",
    "RecordQuery",
    "RegionCoverage",
    "Scope",
    "SearchHit",
    "StoreStats",
    "Subgraph",
    "WriteBatch",
    "WriteContext",
    "WriteResult",
    "valid_on",
]

MAX_DEPTH = domain.MAX_DEPTH
Direction = Literal["out", "in", "both"]


def valid_on(doc: dict[str, Any], as_of: dt.date | None) -> bool:
    """Whether a node or link document is valid on ``as_of`` (always, when ``None``)."""
    if as_of is None:
        return True
    day = as_of.isoformat()
    start, end = doc.get("valid_from"), doc.get("valid_to")
    return (start is None or start <= day) and (end is None or day <= end)


@dataclass(frozen=True, slots=True)
class WriteContext:
    """Who writes, and why: what the edit history records of a batch.

    ``scope`` is the region the account may write in (``graph_service.access``; ``None``:
    everywhere); the store checks every entry against it inside the transaction.
    ``operation`` names what the caller did (``node.create``, ``batch``, ``import``,
    ``restore`` …). The time is the store's clock at the transaction, never the caller's.
    """

    account: str = "system"
    operation: str = "write"
    request_id: str | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """An atomic unit of writes, applied in this order: nodes, links, link and node deletes,
    judgements, accounts, keys; then the history of all of it, in the same transaction.

    ``detach`` lets a node delete remove the node's links too; without it, deleting a node
    that still has links is a conflict. ``judgements`` are appended (an id already stored
    is a conflict); they are records about the graph, not part of it, so a batch of
    judgements alone does not change :meth:`GraphStore.version` (nor do accounts and keys).
    """

    nodes: Sequence[NodeDoc] = ()
    links: Sequence[LinkDoc] = ()
    delete_links: Sequence[str] = ()
    delete_nodes: Sequence[str] = ()
    detach: bool = False
    judgements: Sequence[JudgementDoc] = ()
    #: Created or replaced whole (an account is never deleted: it is disabled).
    accounts: Sequence[AccountDoc] = ()
    #: Created or replaced whole (a key is revoked by setting ``revoked_at``).
    keys: Sequence[KeyDoc] = ()
    #: Appended (an id already stored is a conflict); like judgements, beside the graph.
    records: Sequence[RecordDoc] = ()
    context: WriteContext = field(default_factory=WriteContext)

    @property
    def changes_graph(self) -> bool:
        return bool(self.nodes or self.links or self.delete_links or self.delete_nodes)


@dataclass(frozen=True, slots=True)
class WriteResult:
    nodes_created: int = 0
    nodes_updated: int = 0
    links_created: int = 0
    links_updated: int = 0
    links_deleted: int = 0
    nodes_deleted: int = 0
    judgements_created: int = 0
    accounts_written: int = 0
    keys_written: int = 0
    history_recorded: int = 0
    records_created: int = 0
    version: int = 0
    #: The transaction time the history of this batch carries (``None``: nothing recorded):
    #: with the request id, what names this change set (``HistoryQuery(since=…, until=…)``).
    recorded_at: str | None = None


@dataclass(frozen=True, slots=True)
class NodeQuery:
    labels: Sequence[str] = ()
    kinds: Sequence[str] = ()
    #: Division-code prefix: the region and everything under it.
    region_code: str | None = None
    as_of: dt.date | None = None


@dataclass(frozen=True, slots=True)
class LinkQuery:
    types: Sequence[str] = ()
    source: str | None = None
    target: str | None = None
    #: Either end.
    node: str | None = None
    as_of: dt.date | None = None


@dataclass(frozen=True, slots=True)
class JudgementQuery:
    """Judgements to list, in id order (ids start with their UTC time: oldest first).

    ``current`` keeps only the latest judgement of each pair (the one in force) and then
    applies the other filters: ``current`` with ``decisions=["reject"]`` is the pairs
    rejected now.
    """

    ids: Sequence[str] = ()
    target: str | None = None
    partner: str | None = None
    #: Either end.
    node: str | None = None
    decisions: Sequence[str] = ()
    decided_by: str | None = None
    #: ``decided_at`` bounds, inclusive, in the stored form (UTC ``…Z`` strings).
    since: str | None = None
    until: str | None = None
    current: bool = False


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """History entries to list, oldest first (ids are time-ordered).

    ``region`` matches entries touching a division code under it (a node's region, a link's
    ends'); ``since``/``until`` bound ``at`` inclusively, in the stored form (UTC ``…Z``).
    """

    entity: str | None = None
    entity_id: str | None = None
    account: str | None = None
    region: str | None = None
    operation: str | None = None
    since: str | None = None
    until: str | None = None
    #: Newest first instead (a node's latest versions).
    newest_first: bool = False


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Records of one ``kind``, oldest first. ``current`` keeps the latest version of each key
    and then applies the other filters; ``region`` matches a division code under it."""

    kind: str
    keys: Sequence[str] = ()
    statuses: Sequence[str] = ()
    region: str | None = None
    current: bool = False
    newest_first: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    #: Opaque: pass back to get the next page; ``None`` on the last page.
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    node: NodeDoc
    #: ``exact`` > ``prefix`` > ``substring``; ``matched`` is the name or alias that matched.
    match: Literal["exact", "prefix", "substring"]
    matched: str
    score: float


@dataclass(frozen=True, slots=True)
class NeighbourhoodQuery:
    node_id: str
    depth: int = 1
    link_types: Sequence[str] = ()
    node_labels: Sequence[str] = ()
    direction: Direction = "both"
    limit: int = 500
    as_of: dt.date | None = None


@dataclass(slots=True)
class Subgraph:
    #: Node documents with a ``depth`` entry: hops from the centre.
    nodes: list[NodeDoc] = field(default_factory=list)
    links: list[LinkDoc] = field(default_factory=list)
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class PathQuery:
    source: str
    target: str
    max_depth: int = 6
    link_types: Sequence[str] = ()
    limit: int = 10
    as_of: dt.date | None = None


@dataclass(frozen=True, slots=True)
class GraphPath:
    node_ids: list[str]
    link_ids: list[str]


@dataclass(frozen=True, slots=True)
class RegionCoverage:
    region_code: str
    name: str
    villages: int
    covered: int
    uncovered_village_ids: list[str]

    @property
    def rate(self) -> float | None:
        return self.covered / self.villages if self.villages else None


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Villages under a region covered by a joint body, per child region."""

    region: NodeDoc
    total: RegionCoverage
    children: list[RegionCoverage]


@dataclass(frozen=True, slots=True)
class Scope:
    """What to export: a region (code prefix), explicit node ids, or everything."""

    region_code: str | None = None
    node_ids: Sequence[str] | None = None
    link_types: Sequence[str] = ()
    include_structural: bool = False
    as_of: dt.date | None = None


@dataclass(frozen=True, slots=True)
class StoreStats:
    backend: str
    nodes_by_label: dict[str, int]
    links_by_type: dict[str, int]
    version: int


@runtime_checkable
class GraphStore(Protocol):
    """The one store interface. Every method may raise ``StoreUnavailableError``."""

    backend: str

    async def open(self) -> None:
        """Connect, create or migrate the schema. Idempotent."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` when the store cannot serve."""

    async def version(self) -> int:
        """A number that changes whenever the data changes (for caches)."""

    async def write(self, batch: WriteBatch) -> WriteResult:
        """Apply ``batch`` atomically; ``NotFoundError``/``ConflictError``/``InvalidInputError``
        leave the store unchanged."""

    async def get_nodes(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, NodeDoc]: ...

    async def get_links(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, LinkDoc]: ...

    async def list_nodes(self, query: NodeQuery, cursor: str | None, limit: int) -> Page: ...

    async def list_links(self, query: LinkQuery, cursor: str | None, limit: int) -> Page: ...

    async def count_nodes(self, query: NodeQuery) -> dict[str, int]:
        """Nodes matching ``query``, counted by label."""

    async def count_links(self, node_id: str) -> int:
        """Links at ``node_id`` in any direction, whatever their dates."""

    async def search(
        self,
        text: str,
        labels: Sequence[str] = (),
        limit: int = 20,
        as_of: dt.date | None = None,
    ) -> list[SearchHit]: ...

    async def neighbourhood(self, query: NeighbourhoodQuery) -> Subgraph: ...

    async def shortest_paths(self, query: PathQuery) -> list[GraphPath]: ...

    async def coverage(self, region_code: str, as_of: dt.date | None = None) -> CoverageReport: ...

    async def export_graph(self, scope: Scope) -> nx.MultiDiGraph: ...

    async def stats(self) -> StoreStats: ...

    async def list_judgements(self, query: JudgementQuery, cursor: str | None, limit: int) -> Page:
        """Judgement records matching ``query``, oldest first, ``limit`` a page."""

    async def list_history(self, query: HistoryQuery, cursor: str | None, limit: int) -> Page:
        """Edit-history entries matching ``query``, ``limit`` a page."""

    async def list_records(self, query: RecordQuery, cursor: str | None, limit: int) -> Page:
        """Records matching ``query``, ``limit`` a page."""

    async def get_accounts(self, names: Sequence[str]) -> dict[str, AccountDoc]: ...

    async def list_accounts(self) -> list[AccountDoc]:
        """Every account, by name."""

    async def find_key(self, key_hash: str) -> tuple[KeyDoc, AccountDoc] | None:
        """The key stored with this hash and its account (revoked and expired ones too:
        the caller decides), or ``None``."""

    async def list_keys(self, account: str | None = None) -> list[KeyDoc]:
        """Keys (of ``account``, or all), oldest first."""

    # ---------------------------------------------------------------- record-time reads
    # (graph_service.services.recorded replays the history on the current adjacency)

    async def links_at_nodes(self, node_ids: Sequence[str]) -> dict[str, list[LinkDoc]]:
        """Every link stored at each of ``node_ids`` (either end, any type, any dates), in
        link id order; a node not stored has none. One round trip for all of them."""
