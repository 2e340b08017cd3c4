"""The Neo4j store: the official async driver, named Cypher statements, registry labels.

Layout in the database: every node carries ``:Entity`` and its registry label
(``:Entity:Village``) with indexed properties (``id``, ``label``, ``kind``, ``name``,
``names_text``, ``region_code``, ``valid_from``, ``valid_to``) and the full document as JSON
in ``doc``; every link is a relationship of its registry type with ``id``, dates and ``doc``.

Writes run in one managed transaction per batch (transient failures are retried),
so a batch is all-or-nothing; what a batch checks and writes, and in which order, is
``batch.apply_batch``, as in the embedded store. Reads are routed as reads. When the server
cannot be reached every call raises ``StoreUnavailableError`` (503 at the edge) and the store
recovers on its own once the server is back: migrations are (re)applied lazily on the first
call that succeeds. How it fails fast (timeouts, circuit breaker): ``neo4j_resilience``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import networkx as nx
import orjson
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, RoutingControl
from neo4j.exceptions import (
    AuthError,
    ConstraintError,
    DriverError,
    ServiceUnavailable,
    SessionExpired,
)

from graph_service.errors import (
    ConflictError,
    GraphServiceError,
    NotFoundError,
    StoreUnavailableError,
)
from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import JOINT_BODY_KINDS, LINK_TYPES, NODE_LABELS, STRUCTURAL_LINK_TYPES
from graph_service.search_text import FOLD_VERSION, fold
from graph_service.store import cypher, protocol
from graph_service.store.base import BaseGraphStore, PageRows, VillageCoverage
from graph_service.store.batch import NodeHead, StoredLinks, apply_batch
from graph_service.store.common import (
    ACCOUNT_FIELDS,
    HISTORY_FIELDS,
    JUDGEMENT_FIELDS,
    KEY_FIELDS,
    NODE_FIELDS,
    OWN_CODE_LABELS,
    RECORD_FIELDS,
    PageRequest,
    SearchText,
    account_fields,
    child_region_length,
    chunks,
    history_fields,
    judgement_fields,
    key_fields,
    node_fields,
    record_fields,
)
from graph_service.store.neighbourhood import NeighbourhoodWalk
from graph_service.store.neo4j_resilience import (
    DEFAULT,
    CircuitBreaker,
    Neo4jTimeouts,
    close_driver,
    driver_options,
    retry_transient,
)
from graph_service.store.protocol import valid_on

__all__ = [
    "Neo4jGraphStore",
    "ServerConnection",
    "escape_lucene",
    "link_properties",
    "node_properties",
]


def _LINKS_BY_ID() -> str:  # noqa: N802
    return cypher.union_over_types("links_by_id", "links_by_id_all")


log = logging.getLogger(__name__)
T = TypeVar("T")
#: Rows per UNWIND statement inside one batch transaction.
UNWIND_CHUNK = 5_000
_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


def escape_lucene(text: str) -> str:
    """Quote user text for a Lucene query: every operator character is escaped."""
    return "".join("\\" + ch if ch in _LUCENE_SPECIAL else ch for ch in text)


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def names_text(doc: Mapping[str, Any]) -> str:
    """What name search matches: every name and alias folded (``search_text.fold``), a line
    each."""
    return "\n".join(fold(name) for name in [doc["name"], *(doc.get("aliases") or [])])


def _node_props(doc: NodeDoc) -> dict[str, Any]:
    aliases = doc.get("aliases", [])
    return {
        **dict(zip(NODE_FIELDS, node_fields(doc), strict=True)),
        "aliases": aliases,
        "names_text": names_text(doc),
        "doc": orjson.dumps(doc).decode(),
    }


def node_properties(doc: NodeDoc) -> dict[str, Any]:
    """The properties the store writes for a node (its labels: ``:Entity`` and its own)."""
    return _node_props(doc)


def link_properties(doc: LinkDoc) -> dict[str, Any]:
    """The properties the store writes for a link (its type is the relationship type)."""
    return _link_props(doc)


def _bulk_node_row(doc: NodeDoc) -> list[Any]:
    """A node as a ``bulk_nodes_*`` row: the properties of :func:`node_properties` but the
    label (a parameter), in a list the driver packs faster than a map."""
    return [
        doc["id"],
        doc.get("kind"),
        doc["name"],
        doc.get("region_code"),
        doc.get("valid_from"),
        doc.get("valid_to"),
        doc.get("aliases", []),
        names_text(doc),
        orjson.dumps(doc).decode(),
    ]


def _bulk_link_row(doc: LinkDoc) -> list[Any]:
    return [
        doc["id"],
        doc["source"],
        doc["target"],
        doc.get("valid_from"),
        doc.get("valid_to"),
        orjson.dumps(doc).decode(),
    ]


@dataclass(frozen=True, slots=True)
class ServerConnection:
    """Where a store's server is and how it logs in: what a loader process needs to open a
    store of its own on the same database."""

    uri: str
    user: str
    password: str
    database: str

    def open_store(self) -> Neo4jGraphStore:
        return Neo4jGraphStore(self.uri, self.user, self.password, self.database)


def _link_props(doc: LinkDoc) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "valid_from": doc.get("valid_from"),
        "valid_to": doc.get("valid_to"),
        "doc": orjson.dumps(doc).decode(),
    }


def _props(fields: Sequence[str], values: Sequence[Any], doc: Mapping[str, Any]) -> dict[str, Any]:
    """What lookups and list filters need as properties, and the whole record as ``doc``."""
    return {**dict(zip(fields, values, strict=True)), "doc": orjson.dumps(doc).decode()}


def _judgement_props(doc: protocol.JudgementDoc) -> dict[str, Any]:
    return _props(JUDGEMENT_FIELDS, judgement_fields(doc), doc)


def _ring_rows(records: list[Any]) -> Iterator[tuple[str, str, str, str]]:
    """Rows of a ``neighbours_*`` statement as a ``NeighbourhoodWalk`` takes them."""
    for r in records:
        yield r["link_id"], r["link"], r["other_id"], r["other"]


class _CypherBatch:
    """The Cypher of one write transaction (see ``batch.apply_batch``)."""

    def __init__(self, tx: AsyncManagedTransaction) -> None:
        self.tx = tx

    async def _rows(self, name: str, statement_text: str | None = None, **params: Any) -> list[Any]:
        return await _tx_rows(self.tx, name, statement_text, **params)

    async def _run_in_chunks(self, text: str, rows: list[dict[str, Any]]) -> None:
        for chunk in chunks(rows, UNWIND_CHUNK):
            await self.tx.run(text, rows=chunk)

    async def lock_nodes(self, ids: Sequence[str]) -> None:
        """A write lock on each stored node, held to the end of the transaction."""
        if ids:
            await self.tx.run(cypher.statement("nodes_lock"), ids=list(ids))

    async def node_docs(self, ids: Sequence[str]) -> dict[str, NodeDoc]:
        docs = (orjson.loads(raw) for raw in await self._rows("nodes_get", ids=list(ids)))
        return {doc["id"]: doc for doc in docs}

    async def node_heads(self, ids: Sequence[str]) -> dict[str, NodeHead]:
        rows = await self._rows("nodes_heads_by_id", ids=list(ids))
        return {r["id"]: (r["label"], r["region_code"]) for r in rows}

    async def stored_links(self, ids: Sequence[str], types: Sequence[str] = ()) -> StoredLinks:
        """When ``types`` gives each id's type and the id is the one derived from type and
        ends, only that type's index can hold it: one seek per type present instead of one
        per registry type."""
        rows: list[Any] = []
        by_type: defaultdict[str, list[str]] = defaultdict(list)
        anywhere: list[str] = []
        for index, link_id in enumerate(ids):
            type_ = types[index] if types else None
            if type_ is not None and link_id.startswith(f"{type_.lower()}:"):
                by_type[type_].append(link_id)
            else:
                anywhere.append(link_id)
        for type_, typed_ids in by_type.items():
            text = cypher.for_type("links_by_id_of_type", type_)
            rows += await self._rows("links_by_id_of_type", text, ids=typed_ids)
        if anywhere:
            rows += await self._rows("links_by_id_all", _LINKS_BY_ID(), ids=anywhere)
        return {
            r["id"]: {
                "type": r["type"],
                "source": r["source"],
                "target": r["target"],
                "doc": orjson.loads(r["doc"]),
            }
            for r in rows
        }

    async def upsert_nodes(self, nodes: Sequence[NodeDoc]) -> None:
        by_label: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for node in nodes:
            by_label[node["label"]].append({"id": node["id"], "props": _node_props(node)})
        for label, rows in by_label.items():
            await self._run_in_chunks(cypher.for_label("nodes_upsert", label), rows)

    async def upsert_links(self, links: Sequence[LinkDoc]) -> None:
        by_type: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for link in links:
            by_type[link["type"]].append(
                {
                    "id": link["id"],
                    "source": link["source"],
                    "target": link["target"],
                    "props": _link_props(link),
                }
            )
        for type_, rows in by_type.items():
            await self._run_in_chunks(cypher.for_type("links_upsert", type_), rows)

    async def delete_links(self, stored: StoredLinks) -> None:
        ids_by_type: defaultdict[str, list[str]] = defaultdict(list)
        for link_id, info in stored.items():
            ids_by_type[info["type"]].append(link_id)
        for type_, ids in ids_by_type.items():
            await self.tx.run(cypher.for_type("links_delete", type_), ids=ids)

    async def links_at(self, node_id: str) -> list[str]:
        return await self._rows("node_links", id=node_id)

    async def delete_nodes(self, ids: Sequence[str], links: Sequence[str]) -> None:
        # DETACH DELETE takes ``links`` along.
        await self.tx.run(cypher.statement("nodes_delete"), ids=list(ids))

    async def judgement_ids(self, ids: Sequence[str]) -> set[str]:
        return set(await self._rows("judgements_existing", ids=list(ids)))

    async def append_judgements(self, judgements: Sequence[protocol.JudgementDoc]) -> None:
        rows = [_judgement_props(j) for j in judgements]
        await self._run_in_chunks(cypher.statement("judgements_create"), rows)

    async def record_ids(self, ids: Sequence[str]) -> set[str]:
        return set(await self._rows("records_existing", ids=list(ids)))

    async def append_records(self, records: Sequence[protocol.RecordDoc]) -> None:
        rows = [_props(RECORD_FIELDS, record_fields(r), r) for r in records]
        await self._run_in_chunks(cypher.statement("records_create"), rows)

    async def account_docs(self, names: Sequence[str]) -> dict[str, protocol.AccountDoc]:
        docs = (orjson.loads(raw) for raw in await self._rows("accounts_get", names=list(names)))
        return {doc["name"]: doc for doc in docs}

    async def key_docs(self, ids: Sequence[str]) -> dict[str, protocol.KeyDoc]:
        docs = (orjson.loads(raw) for raw in await self._rows("keys_get", ids=list(ids)))
        return {doc["id"]: doc for doc in docs}

    async def upsert_accounts(self, accounts: Sequence[protocol.AccountDoc]) -> None:
        rows = [_props(ACCOUNT_FIELDS, account_fields(a), a) for a in accounts]
        await self._run_in_chunks(cypher.statement("accounts_upsert"), rows)

    async def upsert_keys(self, keys: Sequence[protocol.KeyDoc]) -> None:
        rows = [_props(KEY_FIELDS, key_fields(k), k) for k in keys]
        await self._run_in_chunks(cypher.statement("keys_upsert"), rows)

    async def append_history(self, entries: Sequence[protocol.HistoryDoc]) -> None:
        rows = [_props(HISTORY_FIELDS, history_fields(e), e) for e in entries]
        await self._run_in_chunks(cypher.statement("history_append"), rows)


async def _tx_rows(
    tx: AsyncManagedTransaction, name: str, statement_text: str | None = None, **params: Any
) -> list[Any]:
    """The ``rows`` of a statement's one record, run in ``tx``."""
    result = await tx.run(statement_text or cypher.statement(name), params)
    record = await result.single()
    return list(record["rows"]) if record is not None else []


class Neo4jGraphStore(BaseGraphStore):
    """The store protocol on a Neo4j 5 server. See the module docstring."""

    backend = "neo4j"

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        *,
        timeouts: Neo4jTimeouts | None = None,
    ) -> None:
        self.uri = uri
        self.database = database
        self._auth = (user, password)
        self._driver: AsyncDriver | None = None
        self._migrated = False
        self._init_resilience(timeouts or Neo4jTimeouts())

    # ------------------------------------------------------------------ plumbing

    async def open(self) -> None:
        if self._driver is None:
            self._driver = AsyncGraphDatabase.driver(
                self.uri, auth=self._auth, **driver_options(self.timeouts)
            )
        try:
            await self._ensure_migrated()
        except StoreUnavailableError as exc:
            # The app starts anyway: readiness fails and calls answer 503 until it is back.
            log.warning("Neo4j at %s is not reachable yet: %s", self.uri, exc.message)

    async def close(self) -> None:
        await self._close_resilience()
        if self._driver is not None:
            await self._driver.close()
            self._driver = None

    # ------------------------------------------------------------------ failing fast
    # Driver timeouts, the retry policy and the circuit breaker: neo4j_resilience.py.

    def _init_resilience(self, timeouts: Neo4jTimeouts) -> None:
        self.timeouts = timeouts
        self.breaker = CircuitBreaker(self._answers, self._serves, timeouts)

    async def _resilient(
        self, work: Callable[[], Awaitable[T]], timeout: float | Literal["default"] | None
    ) -> T:
        async def attempts() -> T:
            return await retry_transient(work, self.timeouts.retry)

        return await self.breaker.call(attempts, timeout)

    async def _answers(self) -> None:
        """The server takes a new connection (handshake and login: no query to plan)."""
        await self._probe(query=False)

    async def _serves(self) -> None:
        """The database answers ``RETURN 1``."""
        await self._probe(query=True)

    async def _probe(self, *, query: bool) -> None:
        """On a driver of its own: the pool's connections may all be held by slow queries,
        and a pooled one interrupted in its liveness check stays taken (driver 6.4)."""
        # Connecting may take as long as the probe may (a cold server's first handshake).
        limit = self.timeouts.call if query else self.timeouts.probe_timeout
        options = {
            **driver_options(self.timeouts),
            "connection_timeout": limit,
            "connection_acquisition_timeout": limit,
        }
        driver = AsyncGraphDatabase.driver(
            self.uri, auth=self._auth, **options, max_connection_pool_size=1
        )
        try:
            if query:
                await driver.execute_query(
                    "RETURN 1", database_=self.database, routing_=RoutingControl.READ
                )
            else:
                await driver.verify_connectivity()
        finally:
            await close_driver(driver, self.timeouts.probe_timeout)

    async def _close_resilience(self) -> None:
        await self.breaker.close()

    # ------------------------------------------------------------------ plumbing (cont.)

    def _driver_or_raise(self) -> AsyncDriver:
        if self._driver is None:
            raise RuntimeError("store is not open")
        return self._driver

    async def _guard(
        self,
        work: Callable[[], Awaitable[T]],
        timeout: float | Literal["default"] | None = DEFAULT,
    ) -> T:
        try:
            return await self._resilient(work, timeout)
        except GraphServiceError:
            raise
        except ConstraintError as exc:
            # A concurrent writer created the same id between our check and our write.
            raise ConflictError(f"conflicting concurrent write: {exc.message}") from exc
        except (ServiceUnavailable, SessionExpired, AuthError, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j is unavailable: {exc}") from exc
        except DriverError as exc:
            raise StoreUnavailableError(f"Neo4j driver error: {exc}") from exc

    async def _ensure_migrated(self) -> None:
        if not self._migrated:
            await self._guard(self._migrate, timeout=None)  # may build indexes: no time limit
            self._migrated = True

    async def _migrate(self) -> None:
        driver = self._driver_or_raise()
        applied_records, _, _ = await driver.execute_query(
            cypher.statement("migrations_applied"),
            database_=self.database,
            routing_=RoutingControl.READ,
        )
        applied = set(applied_records[0]["rows"])
        for version, name, statements in cypher.migrations():
            if version in applied:
                continue
            for text in statements:
                await driver.execute_query(text, database_=self.database)
            await driver.execute_query(
                cypher.statement("migration_record"),
                version=version,
                name=name,
                database_=self.database,
            )
            log.info("applied Neo4j migration %04d_%s", version, name)
        await driver.execute_query("CALL db.awaitIndexes(300)", database_=self.database)
        await self._refold_names(driver)

    async def _refold_names(self, driver: AsyncDriver) -> None:
        """Make every ``names_text`` again when they were folded by another version of
        ``search_text.fold`` (or before it): a data migration Cypher cannot do alone."""
        records, _, _ = await driver.execute_query(
            cypher.statement("names_fold_version"), database_=self.database
        )
        if records and records[0]["rows"] == [FOLD_VERSION]:
            return
        after, count = "", 0
        while True:
            records, _, _ = await driver.execute_query(
                cypher.statement("names_page"),
                after=after,
                limit=UNWIND_CHUNK,
                database_=self.database,
            )
            page = records[0]["rows"]
            if not page:
                break
            rows = [{"id": r["id"], "names_text": names_text(r)} for r in page]
            await driver.execute_query(
                cypher.statement("names_text_set"), rows=rows, database_=self.database
            )
            after, count = page[-1]["id"], count + len(page)
        await driver.execute_query(
            cypher.statement("names_fold_mark"), fold=FOLD_VERSION, database_=self.database
        )
        log.info("folded the search names of %d nodes (fold version %d)", count, FOLD_VERSION)

    async def migrate(self) -> list[int]:
        """Apply pending migrations; return every applied version."""
        await self._guard(self._migrate, timeout=None)  # may build indexes: no time limit
        self._migrated = True
        return [int(v) for v in await self._read("migrations_applied")]

    async def _read(self, name: str, statement_text: str | None = None, **params: Any) -> list[Any]:
        await self._ensure_migrated()
        driver = self._driver_or_raise()

        async def work() -> list[Any]:
            records, _, _ = await driver.execute_query(
                statement_text or cypher.statement(name),
                parameters_=params,
                database_=self.database,
                routing_=RoutingControl.READ,
            )
            # Every read statement returns one record whose ``rows`` holds the result list.
            return list(records[0]["rows"]) if records else []

        return await self._guard(work)

    async def _in_read_tx(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        """Several statements in one read transaction: one BEGIN/COMMIT, one consistent view."""
        await self._ensure_migrated()
        driver = self._driver_or_raise()

        async def run() -> T:
            async with driver.session(
                database=self.database, default_access_mode="READ"
            ) as session:
                return await session.execute_read(work)

        return await self._guard(run)

    async def ping(self) -> None:
        await self._read("ping")

    async def version(self) -> int:
        return int((await self._read("graph_version"))[0])

    async def wipe(self) -> None:
        """Delete everything but the migration record (tests and resets only)."""
        await self._ensure_migrated()
        driver = self._driver_or_raise()

        async def work() -> None:
            async with driver.session(database=self.database) as session:
                result = await session.run(cypher.statement("wipe"))
                await result.consume()
                # An empty graph's names are folded: the next open need not fold them again.
                result = await session.run(cypher.statement("names_fold_mark"), fold=FOLD_VERSION)
                await result.consume()

        await self._guard(work)

    # ------------------------------------------------------------------ writes

    async def _write(self, batch: protocol.WriteBatch) -> protocol.WriteResult:
        await self._ensure_migrated()
        driver = self._driver_or_raise()

        async def work() -> protocol.WriteResult:
            async with driver.session(database=self.database) as session:
                return await session.execute_write(self._write_tx, batch)

        return await self._guard(work)

    @staticmethod
    async def _write_tx(
        tx: AsyncManagedTransaction, batch: protocol.WriteBatch
    ) -> protocol.WriteResult:
        counts = await apply_batch(_CypherBatch(tx), batch)
        graph_changed = batch.changes_graph
        # Judgements, accounts and keys are records beside the graph: alone they leave its
        # version (and every cache keyed by it) as it was.
        name = "graph_version_bump" if graph_changed else "graph_version"
        result = await tx.run(cypher.statement(name))
        record = await result.single()
        assert record is not None
        version = record["version"] if graph_changed else record["rows"][0]
        return protocol.WriteResult(**counts, version=int(version))

    # ------------------------------------------------------------------ bulk loads

    def connection(self) -> ServerConnection:
        """This store's server and login, for loader processes that open their own."""
        return ServerConnection(self.uri, self._auth[0], self._auth[1], self.database)

    async def bulk_write(
        self, nodes: Sequence[NodeDoc], links: Sequence[LinkDoc], *, create: bool
    ) -> int:
        """Write trusted, already valid documents in one transaction: the same nodes,
        relationships and properties as :meth:`write`, without its reads, checks and
        history entries (a bulk load of reference data, e.g. the division register). Several
        calls may run at once on separate connections (or processes) when none needs
        another's nodes. ``create`` says the caller has proven none of them is stored yet:
        ``CREATE`` instead of ``MERGE`` (a stored id then fails on its unique constraint).
        A link whose ends are not both stored fails the batch (``NotFoundError``), as it
        does in :meth:`write`. Returns the graph's version after the write."""
        await self._ensure_migrated()
        driver = self._driver_or_raise()
        node_rows: defaultdict[str, list[list[Any]]] = defaultdict(list)
        for node in nodes:
            node_rows[node["label"]].append(_bulk_node_row(node))
        link_rows: defaultdict[str, list[list[Any]]] = defaultdict(list)
        for link in links:
            link_rows[link["type"]].append(_bulk_link_row(link))
        node_statement = "bulk_nodes_create" if create else "bulk_nodes_merge"
        link_statement = "bulk_links_create" if create else "bulk_links_merge"

        async def write_tx(tx: AsyncManagedTransaction) -> int:
            for label, rows in node_rows.items():
                text = cypher.for_label(node_statement, label)
                for chunk in chunks(rows, UNWIND_CHUNK):
                    await (await tx.run(text, rows=chunk, label=label)).consume()
            for type_, rows in link_rows.items():
                text = cypher.for_type(link_statement, type_)
                for chunk in chunks(rows, UNWIND_CHUNK):
                    written = await (await tx.run(text, rows=chunk)).single()
                    if written is None or written["written"] != len(chunk):
                        raise NotFoundError(
                            f"a {type_} link of this batch names a node that is not stored",
                            field="links",
                        )
            record = await (await tx.run(cypher.statement("graph_version_bump"))).single()
            assert record is not None
            return int(record["version"])

        async def work() -> int:
            async with driver.session(database=self.database) as session:
                return await session.execute_write(write_tx)

        return await self._guard(work, timeout=None)

    # ------------------------------------------------------------------ point reads

    async def get_nodes(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, NodeDoc]:
        rows = await self._read("nodes_get", ids=list(ids))
        docs = (orjson.loads(doc) for doc in rows)
        return {d["id"]: d for d in docs if valid_on(d, as_of)}

    async def get_links(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, LinkDoc]:
        if not ids:
            return {}
        records = await self._read("links_by_id_all", statement_text=_LINKS_BY_ID(), ids=list(ids))
        docs = (orjson.loads(r["doc"]) for r in records)
        return {d["id"]: d for d in docs if valid_on(d, as_of)}

    async def count_links(self, node_id: str) -> int:
        rows = await self._read("links_count_at", id=node_id)
        return int(rows[0]) if rows else 0

    # ------------------------------------------------------------------ lists

    @staticmethod
    def _node_filters(query: protocol.NodeQuery) -> dict[str, Any]:
        return {
            "labels": list(query.labels) or None,
            "kinds": list(query.kinds) or None,
            "region_code": query.region_code,
            "as_of": _day(query.as_of),
        }

    async def _page_rows(self, name: str, request: PageRequest, **params: Any) -> PageRows:
        records = await self._read(name, after=request.after, limit=request.fetch, **params)
        return [(r["id"], r["doc"]) for r in records]

    async def _node_rows(self, query: protocol.NodeQuery, request: PageRequest) -> PageRows:
        return await self._page_rows("nodes_list", request, **self._node_filters(query))

    async def count_nodes(self, query: protocol.NodeQuery) -> dict[str, int]:
        rows = await self._read("nodes_count", **self._node_filters(query))
        return {r["key"]: int(r["count"]) for r in rows}

    async def _link_rows(self, query: protocol.LinkQuery, request: PageRequest) -> PageRows:
        return await self._page_rows(
            "links_list",
            request,
            types=list(query.types) or None,
            source=query.source,
            target=query.target,
            node=query.node,
            as_of=_day(query.as_of),
        )

    # ------------------------------------------------------------------ search

    async def _search_candidates(
        self, text: SearchText, labels: Sequence[str], limit: int, as_of: dt.date | None
    ) -> Iterable[NodeDoc]:
        needle = text.needle
        params: dict[str, Any] = {
            "labels": list(labels) or None,
            "candidates": max(200, limit * 20),
        }
        records = []
        if text.ids:
            # Only text that could be an id or a code costs this statement (not names).
            records += await self._read(
                "search_keys",
                ids=list(text.ids),
                code=text.code,
                code_labels=sorted(OWN_CODE_LABELS),
                labels=params["labels"],
            )
        found = []
        if len(needle) >= 2:
            # A quoted phrase: the cjk analyzer turns it into consecutive bigrams.
            found = await self._read(
                "search_fulltext", query=f'"{escape_lucene(needle)}"', **params
            )
        if len(needle) < 2 or not found:
            found = await self._read("search_contains", text=needle, **params)
        records += found
        docs: dict[str, NodeDoc] = {}
        for raw in records:
            doc = orjson.loads(raw)
            if valid_on(doc, as_of):
                docs[doc["id"]] = doc
        return docs.values()

    # ------------------------------------------------------------------ traversal

    async def _neighbourhood(self, query: protocol.NeighbourhoodQuery) -> protocol.Subgraph:
        async def work(tx: AsyncManagedTransaction) -> protocol.Subgraph:
            return await self._neighbourhood_tx(tx, query)

        return await self._in_read_tx(work)

    @staticmethod
    async def _neighbourhood_tx(
        tx: AsyncManagedTransaction, query: protocol.NeighbourhoodQuery
    ) -> protocol.Subgraph:
        rows = await _tx_rows(tx, "nodes_get", ids=[query.node_id])
        centre = orjson.loads(rows[0]) if rows else None
        walk = NeighbourhoodWalk[str, str](query, centre, orjson.loads, orjson.loads)
        expand = f"neighbours_{query.direction}"
        params: dict[str, Any] = {
            "types": list(query.link_types) or None,
            "as_of": _day(query.as_of),
        }
        for ring in walk.rings():
            walk.reach(_ring_rows(await _tx_rows(tx, expand, ids=ring, **params)))
        if walk.outer_ring:
            records = await _tx_rows(tx, expand, ids=sorted(walk.outer_ring), **params)
            walk.close(_ring_rows(records))
        return walk.subgraph()

    async def _shortest_paths(self, query: protocol.PathQuery) -> list[protocol.GraphPath]:
        records = await self._read(
            "shortest_paths",
            source=query.source,
            target=query.target,
            max_depth=query.max_depth,
            types=list(query.link_types) or None,
            as_of=_day(query.as_of),
            limit=query.limit,
        )
        return [protocol.GraphPath(list(r["node_ids"]), list(r["link_ids"])) for r in records]

    # ------------------------------------------------------------------ regions

    async def _village_coverage(self, region_code: str, as_of: dt.date | None) -> VillageCoverage:
        records = await self._read(
            "coverage_villages",
            region_code=region_code,
            as_of=_day(as_of),
            joint_kinds=list(JOINT_BODY_KINDS),
        )
        village_codes = {r["id"]: r["region_code"] for r in records}
        covered = {r["id"] for r in records if r["covered"]}
        children = []
        length = child_region_length(region_code)
        if length is not None:
            rows = await self._read("regions_under", region_code=region_code, length=length)
            children = [(child["region_code"], child["name"]) for child in rows]
        return village_codes, covered, children

    # ------------------------------------------------------------------ export

    async def export_graph(self, scope: protocol.Scope) -> nx.MultiDiGraph:
        if scope.node_ids is not None:
            ids = list(scope.node_ids)
        elif scope.region_code is not None:
            ids = await self._read("scope_region_nodes", region_code=scope.region_code)
        else:
            ids = await self._read("scope_all_nodes")
        graph = nx.MultiDiGraph()
        as_of = _day(scope.as_of)
        for raw in await self._read("scope_nodes", ids=sorted(ids), as_of=as_of):
            doc = orjson.loads(raw)
            graph.add_node(doc["id"], **doc)
        members = list(graph)
        types = [
            t
            for t in (scope.link_types or LINK_TYPES)
            if scope.include_structural or t not in STRUCTURAL_LINK_TYPES
        ]
        for raw in await self._read("scope_links", ids=members, types=types, as_of=as_of):
            doc = orjson.loads(raw)
            graph.add_edge(doc["source"], doc["target"], key=doc["id"], **doc)
        return graph

    async def _judgement_rows(
        self, query: protocol.JudgementQuery, request: PageRequest
    ) -> PageRows:
        return await self._page_rows(
            "judgements_list",
            request,
            ids=list(query.ids) or None,
            target=query.target,
            partner=query.partner,
            node=query.node,
            decisions=list(query.decisions) or None,
            decided_by=query.decided_by,
            since=query.since,
            until=query.until,
            current=query.current,
        )

    async def _record_rows(self, query: protocol.RecordQuery, request: PageRequest) -> PageRows:
        return await self._page_rows(
            "records_list_newest" if query.newest_first else "records_list",
            request,
            kind=query.kind,
            keys=list(query.keys) or None,
            statuses=list(query.statuses) or None,
            region=query.region,
            current=query.current,
        )

    async def _history_rows(self, query: protocol.HistoryQuery, request: PageRequest) -> PageRows:
        return await self._page_rows(
            "history_list_newest" if query.newest_first else "history_list",
            request,
            entity=query.entity,
            entity_id=query.entity_id,
            account=query.account,
            operation=query.operation,
            region=query.region,
            since=query.since,
            until=query.until,
        )

    async def get_accounts(self, names: Sequence[str]) -> dict[str, protocol.AccountDoc]:
        docs = (orjson.loads(raw) for raw in await self._read("accounts_get", names=list(names)))
        return {doc["name"]: doc for doc in docs}

    async def list_accounts(self) -> list[protocol.AccountDoc]:
        return [orjson.loads(raw) for raw in await self._read("accounts_list")]

    async def find_key(self, key_hash: str) -> tuple[protocol.KeyDoc, protocol.AccountDoc] | None:
        rows = await self._read("keys_by_hash", hash=key_hash)
        if not rows:
            return None
        return orjson.loads(rows[0]["key"]), orjson.loads(rows[0]["account"])

    async def list_keys(self, account: str | None = None) -> list[protocol.KeyDoc]:
        return [orjson.loads(raw) for raw in await self._read("keys_list", account=account)]

    async def stats(self) -> protocol.StoreStats:
        nodes = await self._read("stats_nodes")
        links = await self._read("stats_links")
        return protocol.StoreStats(
            self.backend,
            {r["key"]: int(r["count"]) for r in nodes if r["key"] in NODE_LABELS},
            {r["key"]: int(r["count"]) for r in links},
            await self.version(),
        )

    # ------------------------------------------------------------------ record-time reads

    async def links_at_nodes(self, node_ids: Sequence[str]) -> dict[str, list[LinkDoc]]:
        wanted = list(dict.fromkeys(node_ids))
        found: dict[str, dict[str, LinkDoc]] = {node_id: {} for node_id in wanted}
        for chunk in chunks(wanted, UNWIND_CHUNK):
            for row in await self._read("links_at_nodes", ids=list(chunk)):
                # A link from a node to itself comes once per direction: keyed by id.
                found[row["node"]].setdefault(row["id"], orjson.loads(row["doc"]))
        return {node_id: [links[i] for i in sorted(links)] for node_id, links in found.items()}
