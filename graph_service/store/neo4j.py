"""The Neo4j store: the official async driver, named Cypher statements, registry labels.

Layout in the database: every node carries ``:Entity`` and its registry label
(``:Entity:Village``) with indexed properties (``id``, ``label``, ``kind``, ``name``,
``names_text``, ``region_code``, ``valid_from``, ``valid_to``) and the full document as JSON
in ``doc``; every link is a relationship of its registry type with ``id``, dates and ``doc``.

Writes run in one managed transaction per batch (the driver retries transient failures),
so a batch is all-or-nothing; the integrity rules are the same functions the embedded store
uses. Reads are routed as reads. When the server cannot be reached every call raises
``StoreUnavailableError`` (503 at the edge) and the store recovers on its own once the
server is back: migrations are (re)applied lazily on the first call that succeeds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

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
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import JOINT_BODY_KINDS, LINK_TYPES, NODE_LABELS, STRUCTURAL_LINK_TYPES
from graph_service.store import cypher
from graph_service.store.common import (
    child_code_length,
    coverage_row,
    decode_cursor,
    encode_cursor,
    top_hits,
)
from graph_service.store.integrity import check_duplicates, check_links, check_node_labels
from graph_service.store.protocol import (
    MAX_DEPTH,
    CoverageReport,
    GraphPath,
    JudgementQuery,
    LinkQuery,
    NeighbourhoodQuery,
    NodeQuery,
    Page,
    PathQuery,
    Scope,
    SearchHit,
    StoreStats,
    Subgraph,
    WriteBatch,
    WriteResult,
    valid_on,
)

__all__ = ["Neo4jGraphStore", "escape_lucene"]


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


def _node_props(doc: NodeDoc) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "label": doc["label"],
        "kind": doc.get("kind"),
        "name": doc["name"],
        "aliases": doc.get("aliases", []),
        "names_text": "\n".join([doc["name"], *doc.get("aliases", [])]).lower(),
        "region_code": doc.get("region_code"),
        "valid_from": doc.get("valid_from"),
        "valid_to": doc.get("valid_to"),
        "doc": orjson.dumps(doc).decode(),
    }


def _link_props(doc: LinkDoc) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "valid_from": doc.get("valid_from"),
        "valid_to": doc.get("valid_to"),
        "doc": orjson.dumps(doc).decode(),
    }


def _judgement_props(doc: dict[str, Any]) -> dict[str, Any]:
    """What list filters need as properties, and the whole record as ``doc``."""
    return {
        "id": doc["id"],
        "pair": doc["pair"],
        "target": doc["target"],
        "partner": doc["partner"],
        "decision": doc["decision"],
        "decided_by": doc.get("decided_by"),
        "decided_at": doc["decided_at"],
        "doc": orjson.dumps(doc).decode(),
    }


def _chunks(rows: list[T], size: int = UNWIND_CHUNK) -> list[list[T]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


class Neo4jGraphStore:
    """The store protocol on a Neo4j 5 server. See the module docstring."""

    backend = "neo4j"

    def __init__(self, uri: str, user: str, password: str, database: str = "neo4j") -> None:
        self.uri = uri
        self.database = database
        self._auth = (user, password)
        self._driver: AsyncDriver | None = None
        self._migrated = False

    # ------------------------------------------------------------------ plumbing

    async def open(self) -> None:
        if self._driver is None:
            self._driver = AsyncGraphDatabase.driver(
                self.uri,
                auth=self._auth,
                connection_timeout=5,
                max_transaction_retry_time=5,
                connection_acquisition_timeout=10,
            )
        try:
            await self._ensure_migrated()
        except StoreUnavailableError as exc:
            # The app starts anyway: readiness fails and calls answer 503 until it is back.
            log.warning("Neo4j at %s is not reachable yet: %s", self.uri, exc.message)

    async def close(self) -> None:
        if self._driver is not None:
            await self._driver.close()
            self._driver = None

    def _driver_or_raise(self) -> AsyncDriver:
        if self._driver is None:
            raise RuntimeError("store is not open")
        return self._driver

    async def _guard(self, work: Callable[[], Awaitable[T]]) -> T:
        try:
            return await work()
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
            await self._guard(self._migrate)
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

    async def migrate(self) -> list[int]:
        """Apply pending migrations; return every applied version."""
        await self._guard(self._migrate)
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

    @staticmethod
    async def _rows(
        tx: AsyncManagedTransaction, name: str, statement_text: str | None = None, **params: Any
    ) -> list[Any]:
        result = await tx.run(statement_text or cypher.statement(name), params)
        record = await result.single()
        return list(record["rows"]) if record is not None else []

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

        await self._guard(work)

    # ------------------------------------------------------------------ writes

    async def write(self, batch: WriteBatch) -> WriteResult:
        check_duplicates([n["id"] for n in batch.nodes], "nodes")
        check_duplicates([link["id"] for link in batch.links], "links")
        await self._ensure_migrated()
        driver = self._driver_or_raise()

        async def work() -> WriteResult:
            async with driver.session(database=self.database) as session:
                return await session.execute_write(self._write_tx, batch)

        return await self._guard(work)

    async def _labels(self, tx: AsyncManagedTransaction, ids: Sequence[str]) -> dict[str, str]:
        rows = await self._rows(tx, "nodes_labels_by_id", ids=list(ids))
        return {r["id"]: r["label"] for r in rows}

    async def _links_by_id(
        self, tx: AsyncManagedTransaction, ids: Sequence[str], types: Sequence[str] = ()
    ) -> dict[str, dict[str, Any]]:
        """Stored links among ``ids``. When ``types`` gives each id's type and the id is the
        one derived from type and ends, only that type's index can hold it: one seek per
        type present instead of one per registry type."""
        if not ids:
            return {}
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
            rows += await self._rows(tx, "links_by_id_of_type", text, ids=typed_ids)
        if anywhere:
            rows += await self._rows(tx, "links_by_id_all", _LINKS_BY_ID(), ids=anywhere)
        return {
            r["id"]: {"type": r["type"], "source": r["source"], "target": r["target"]} for r in rows
        }

    async def _write_tx(self, tx: AsyncManagedTransaction, batch: WriteBatch) -> WriteResult:
        counts: dict[str, int] = defaultdict(int)
        stored_labels = await self._labels(tx, [n["id"] for n in batch.nodes])
        check_node_labels(batch.nodes, stored_labels)
        by_label: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for node in batch.nodes:
            by_label[node["label"]].append({"id": node["id"], "props": _node_props(node)})
            counts["nodes_updated" if node["id"] in stored_labels else "nodes_created"] += 1
        for label, rows in by_label.items():
            for chunk in _chunks(rows):
                await tx.run(cypher.for_label("nodes_upsert", label), rows=chunk)

        if batch.links:
            labels = {n["id"]: n["label"] for n in batch.nodes}
            ends = {e for link in batch.links for e in (link["source"], link["target"])}
            labels.update(await self._labels(tx, [e for e in ends if e not in labels]))
            stored_links = await self._links_by_id(
                tx, [link["id"] for link in batch.links], [link["type"] for link in batch.links]
            )
            check_links(batch.links, labels, stored_links)
            by_type: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
            for link in batch.links:
                by_type[link["type"]].append(
                    {
                        "id": link["id"],
                        "source": link["source"],
                        "target": link["target"],
                        "props": _link_props(link),
                    }
                )
                counts["links_updated" if link["id"] in stored_links else "links_created"] += 1
            for type_, rows in by_type.items():
                for chunk in _chunks(rows):
                    await tx.run(cypher.for_type("links_upsert", type_), rows=chunk)

        if batch.delete_links:
            stored = await self._links_by_id(tx, batch.delete_links)
            for index, link_id in enumerate(batch.delete_links):
                if link_id not in stored:
                    raise NotFoundError(f"no link {link_id}", field=f"delete_links.{index}")
            ids_by_type: defaultdict[str, list[str]] = defaultdict(list)
            for link_id, info in stored.items():
                ids_by_type[info["type"]].append(link_id)
            for type_, ids in ids_by_type.items():
                await tx.run(cypher.for_type("links_delete", type_), ids=ids)
            counts["links_deleted"] += len(batch.delete_links)

        if batch.delete_nodes:
            present = await self._labels(tx, batch.delete_nodes)
            for index, node_id in enumerate(batch.delete_nodes):
                if node_id not in present:
                    raise NotFoundError(f"no node {node_id}", field=f"delete_nodes.{index}")
                attached = await self._rows(tx, "node_links", id=node_id)
                if attached and not batch.detach:
                    raise ConflictError(
                        f"node {node_id} still has {len(attached)} link(s); delete them first "
                        "or delete with detach",
                        field=f"delete_nodes.{index}",
                        details={"links": len(attached)},
                    )
                counts["links_deleted"] += len(attached)
            await tx.run(cypher.statement("nodes_delete"), ids=list(batch.delete_nodes))
            counts["nodes_deleted"] += len(batch.delete_nodes)

        if batch.judgements:
            ids = [j["id"] for j in batch.judgements]
            check_duplicates(ids, "judgements")
            existing = set(await self._rows(tx, "judgements_existing", ids=ids))
            for index, judgement_id in enumerate(ids):
                if judgement_id in existing:
                    raise ConflictError(
                        f"judgement {judgement_id} exists; judgements are never rewritten",
                        field=f"judgements.{index}.id",
                    )
            rows = [_judgement_props(j) for j in batch.judgements]
            for chunk in _chunks(rows):
                await tx.run(cypher.statement("judgements_create"), rows=chunk)
            counts["judgements_created"] += len(ids)

        graph_changed = bool(batch.nodes or batch.links or batch.delete_links or batch.delete_nodes)
        # Judgements are records about the graph: alone they leave its version (and every
        # cache keyed by it) as it was.
        name = "graph_version_bump" if graph_changed else "graph_version"
        result = await tx.run(cypher.statement(name))
        record = await result.single()
        assert record is not None
        version = record["version"] if graph_changed else record["rows"][0]
        return WriteResult(**counts, version=int(version))

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
    def _node_filters(query: NodeQuery) -> dict[str, Any]:
        return {
            "labels": list(query.labels) or None,
            "kinds": list(query.kinds) or None,
            "region_code": query.region_code,
            "as_of": _day(query.as_of),
        }

    async def list_nodes(self, query: NodeQuery, cursor: str | None, limit: int) -> Page:
        after = decode_cursor(cursor)
        records = await self._read(
            "nodes_list", after=after, limit=limit + 1, **self._node_filters(query)
        )
        items = [orjson.loads(r["doc"]) for r in records[:limit]]
        next_cursor = encode_cursor(records[limit - 1]["id"]) if len(records) > limit else None
        return Page(items, next_cursor)

    async def count_nodes(self, query: NodeQuery) -> dict[str, int]:
        rows = await self._read("nodes_count", **self._node_filters(query))
        return {r["key"]: int(r["count"]) for r in rows}

    async def list_links(self, query: LinkQuery, cursor: str | None, limit: int) -> Page:
        after = decode_cursor(cursor)
        records = await self._read(
            "links_list",
            after=after,
            limit=limit + 1,
            types=list(query.types) or None,
            source=query.source,
            target=query.target,
            node=query.node,
            as_of=_day(query.as_of),
        )
        items = [orjson.loads(r["doc"]) for r in records[:limit]]
        next_cursor = encode_cursor(records[limit - 1]["id"]) if len(records) > limit else None
        return Page(items, next_cursor)

    # ------------------------------------------------------------------ search

    async def search(
        self,
        text: str,
        labels: Sequence[str] = (),
        limit: int = 20,
        as_of: dt.date | None = None,
    ) -> list[SearchHit]:
        needle = text.strip().lower()
        if not needle:
            return []
        params: dict[str, Any] = {
            "labels": list(labels) or None,
            "candidates": max(200, limit * 20),
        }
        records = []
        if len(needle) >= 2:
            # A quoted phrase: the cjk analyzer turns it into consecutive bigrams.
            records = await self._read(
                "search_fulltext", query=f'"{escape_lucene(needle)}"', **params
            )
        if len(needle) < 2 or not records:
            records = await self._read("search_contains", text=needle, **params)
        docs: dict[str, NodeDoc] = {}
        for raw in records:
            doc = orjson.loads(raw)
            if valid_on(doc, as_of):
                docs[doc["id"]] = doc
        return top_hits(needle, docs.values(), limit)

    # ------------------------------------------------------------------ traversal

    async def neighbourhood(self, query: NeighbourhoodQuery) -> Subgraph:
        if not 0 <= query.depth <= MAX_DEPTH:
            raise InvalidInputError(f"depth must be 0..{MAX_DEPTH}", field="depth")

        async def work(tx: AsyncManagedTransaction) -> Subgraph:
            return await self._neighbourhood_tx(tx, query)

        return await self._in_read_tx(work)

    async def _neighbourhood_tx(
        self, tx: AsyncManagedTransaction, query: NeighbourhoodQuery
    ) -> Subgraph:
        rows = await self._rows(tx, "nodes_get", ids=[query.node_id])
        centre = orjson.loads(rows[0]) if rows else None
        if centre is None or not valid_on(centre, query.as_of):
            raise NotFoundError(f"no node {query.node_id}", field="id")
        expand = f"neighbours_{query.direction}"
        params: dict[str, Any] = {
            "types": list(query.link_types) or None,
            "as_of": _day(query.as_of),
        }
        depth_of = {query.node_id: 0}
        docs = {query.node_id: centre}
        links: dict[str, LinkDoc] = {}
        frontier = [query.node_id]
        truncated = False
        for depth in range(1, query.depth + 1):
            if not frontier:
                break
            next_frontier = []
            for record in await self._rows(tx, expand, ids=sorted(frontier), **params):
                other_id = record["other_id"]
                if other_id not in depth_of:
                    other = orjson.loads(record["other"])
                    if query.node_labels and other["label"] not in query.node_labels:
                        continue
                    if not valid_on(other, query.as_of):
                        continue
                    if len(depth_of) >= query.limit:
                        truncated = True
                        continue
                    depth_of[other_id] = depth
                    docs[other_id] = other
                    next_frontier.append(other_id)
                if record["link_id"] not in links:
                    links[record["link_id"]] = orjson.loads(record["link"])
            frontier = next_frontier
        if frontier:
            # Links among the outermost ring, so a drawing shows how they hang together.
            for record in await self._rows(tx, expand, ids=sorted(frontier), **params):
                if record["other_id"] in depth_of and record["link_id"] not in links:
                    links[record["link_id"]] = orjson.loads(record["link"])
        nodes = [{**docs[i], "depth": d} for i, d in depth_of.items()]
        return Subgraph(nodes, list(links.values()), truncated)

    async def shortest_paths(self, query: PathQuery) -> list[GraphPath]:
        found = await self.get_nodes([query.source, query.target], query.as_of)
        for field_name, node_id in (("source", query.source), ("target", query.target)):
            if node_id not in found:
                raise NotFoundError(f"no node {node_id}", field=field_name)
        if query.source == query.target:
            return [GraphPath([query.source], [])]
        records = await self._read(
            "shortest_paths",
            source=query.source,
            target=query.target,
            max_depth=query.max_depth,
            types=list(query.link_types) or None,
            as_of=_day(query.as_of),
            limit=query.limit,
        )
        return [GraphPath(list(r["node_ids"]), list(r["link_ids"])) for r in records]

    # ------------------------------------------------------------------ regions

    async def coverage(self, region_code: str, as_of: dt.date | None = None) -> CoverageReport:
        region = (await self.get_nodes([f"region:{region_code}"])).get(f"region:{region_code}")
        if region is None or region["label"] != "Region":
            raise NotFoundError(f"no region with code {region_code}", field="code")
        records = await self._read(
            "coverage_villages",
            region_code=region_code,
            as_of=_day(as_of),
            joint_kinds=list(JOINT_BODY_KINDS),
        )
        villages = sorted(r["id"] for r in records)  # rows
        codes = {r["id"]: r["region_code"] for r in records}
        covered = {r["id"] for r in records if r["covered"]}
        children = []
        child_length = child_code_length(region_code)
        if child_length is not None and child_length < 12:
            by_child: defaultdict[str, list[str]] = defaultdict(list)
            for v in villages:
                by_child[codes[v][:child_length]].append(v)
            for child in await self._read(
                "regions_under", region_code=region_code, length=child_length
            ):
                members = sorted(by_child.get(child["region_code"], []))
                children.append(coverage_row(child["region_code"], child["name"], members, covered))
        total = coverage_row(region_code, region["name"], villages, covered)
        return CoverageReport(region, total, children)

    # ------------------------------------------------------------------ export

    async def export_graph(self, scope: Scope) -> nx.MultiDiGraph:
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

    async def list_judgements(self, query: JudgementQuery, cursor: str | None, limit: int) -> Page:
        records = await self._read(
            "judgements_list",
            after=decode_cursor(cursor),
            limit=limit + 1,
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
        items = [orjson.loads(r["doc"]) for r in records[:limit]]
        next_cursor = encode_cursor(records[limit - 1]["id"]) if len(records) > limit else None
        return Page(items, next_cursor)

    async def stats(self) -> StoreStats:
        nodes = await self._read("stats_nodes")
        links = await self._read("stats_links")
        return StoreStats(
            self.backend,
            {r["key"]: int(r["count"]) for r in nodes if r["key"] in NODE_LABELS},
            {r["key"]: int(r["count"]) for r in links},
            await self.version(),
        )
