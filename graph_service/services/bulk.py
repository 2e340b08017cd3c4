"""Parallel bulk writes into a Neo4j store: batches of trusted documents written by several
loader processes at once, each on its own connection (``Neo4jGraphStore.bulk_write``).

Why processes: a Neo4j load is bound by the client (building row lists, folding names,
dumping JSON and the driver packing them all run on one core per interpreter), so more
connections in one process gain little. A :class:`BulkWriter` hands each batch to a pool of
processes and settles the batches in the order they were submitted, so what the caller
records as written (a checkpoint) is always a prefix of its input.

Batches in flight at once must not need each other's nodes: loaders write every node first,
then every link (two passes).
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from graph_service.domain import MAX_PAGE
from graph_service.models import LinkDoc, NodeDoc
from graph_service.register import RegisterRow, read_register, register_graph
from graph_service.services.synthetic.network import generate_network
from graph_service.store.neo4j import Neo4jGraphStore, ServerConnection
from graph_service.store.neo4j_bulk import ImportManifest, write_import_csv
from graph_service.store.protocol import GraphStore, LinkQuery, NodeQuery

__all__ = [
    "BulkWriter",
    "ImportManifest",
    "Phase",
    "generated_documents",
    "load_documents",
    "register_documents",
    "stored_documents",
    "write_neo4j_csv",
]

#: What a pass writes: every node, every link, or both (one pass, one batch at a time).
Phase = Literal["nodes", "links", "all"]

_WORKER: dict[str, Any] = {}


def _start_worker(connection: ServerConnection) -> None:
    """A loader process's own event loop and store (one connection)."""
    loop = asyncio.new_event_loop()
    store = connection.open_store()
    loop.run_until_complete(store.open())
    _WORKER.update(loop=loop, store=store)

    def close() -> None:
        loop.run_until_complete(store.close())
        loop.close()

    atexit.register(close)


def _split(
    docs: Iterable[tuple[str, NodeDoc | LinkDoc]], phase: Phase
) -> tuple[list[NodeDoc], list[LinkDoc]]:
    nodes: list[NodeDoc] = []
    links: list[LinkDoc] = []
    for kind, doc in docs:
        if kind == "node" and phase != "links":
            nodes.append(doc)
        elif kind == "link" and phase != "nodes":
            links.append(doc)
    return nodes, links


def _write_in_worker(
    payload: Sequence[RegisterRow] | tuple[list[NodeDoc], list[LinkDoc]],
    phase: Phase,
    create: bool,
) -> tuple[int, int]:
    """Write one batch in a loader process: register rows (made into documents here, where
    the work is parallel) or documents."""
    if isinstance(payload, tuple):
        nodes, links = payload
    else:
        nodes, links = _split(register_graph(payload), phase)
    store: Neo4jGraphStore = _WORKER["store"]
    _WORKER["loop"].run_until_complete(store.bulk_write(nodes, links, create=create))
    return len(nodes), len(links)


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[tuple[int, int]]
    size: int


class BulkWriter:
    """Batches written by ``workers`` processes (0: in this process, on as many
    connections as batches in flight); ``settled(size, nodes, links)`` is called for each
    batch once it and every batch before it are written."""

    def __init__(
        self,
        store: Neo4jGraphStore,
        workers: int,
        settled: Callable[[int, int, int], None],
        in_flight: int | None = None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.settled = settled
        # One batch queued behind each busy worker, so none waits for the next.
        self.in_flight = in_flight or max(2, 2 * workers)
        self.pending: deque[_Pending] = deque()
        self.pool: Executor | None = None

    async def __aenter__(self) -> BulkWriter:
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.store.connection(),),
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            await self.drain()
        else:
            for item in self.pending:
                item.future.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def submit(
        self,
        payload: Sequence[RegisterRow] | tuple[list[NodeDoc], list[LinkDoc]],
        size: int,
        phase: Phase,
        *,
        create: bool,
    ) -> None:
        """Write ``payload`` (``size`` input rows) when a slot is free."""
        while len(self.pending) >= self.in_flight:
            await self._settle_oldest()
        future: asyncio.Future[tuple[int, int]]
        if self.pool is not None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.pool, _write_in_worker, payload, phase, create)
        else:
            future = asyncio.ensure_future(self._write_here(payload, phase, create))
        self.pending.append(_Pending(future, size))

    async def _write_here(
        self,
        payload: Sequence[RegisterRow] | tuple[list[NodeDoc], list[LinkDoc]],
        phase: Phase,
        create: bool,
    ) -> tuple[int, int]:
        if isinstance(payload, tuple):
            nodes, links = payload
        else:
            nodes, links = _split(register_graph(payload), phase)
        await self.store.bulk_write(nodes, links, create=create)
        return len(nodes), len(links)

    async def _settle_oldest(self) -> None:
        item = self.pending.popleft()
        nodes, links = await item.future
        self.settled(item.size, nodes, links)

    async def drain(self) -> None:
        while self.pending:
            await self._settle_oldest()


async def load_documents(
    store: Neo4jGraphStore,
    docs: Iterable[tuple[str, NodeDoc | LinkDoc]],
    batch_size: int = 20_000,
    workers: int = 2,
    *,
    create: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Write ``docs`` (nodes before the links that use them, as the generator yields them;
    a later document of an id replaces an earlier one) in parallel batches: every node
    first, then every link. ``create`` only when the caller
    has proven none of them stored. Returns the nodes and links written."""
    # A document seen again replaces the first (the generator revisits villages): batches in
    # flight at once must not hold one id twice, and CREATE must see each id once.
    by_id: tuple[dict[str, NodeDoc], dict[str, LinkDoc]] = ({}, {})
    for kind, doc in docs:
        by_id[0 if kind == "node" else 1][doc["id"]] = doc
    nodes, links = list(by_id[0].values()), list(by_id[1].values())
    counts = [0, 0]

    def settled(size: int, written_nodes: int, written_links: int) -> None:
        counts[0] += written_nodes
        counts[1] += written_links
        if progress is not None:
            progress(size)

    async with BulkWriter(store, workers, settled) as writer:
        for phase, items in (("nodes", nodes), ("links", links)):
            for start in range(0, len(items), batch_size):
                part = items[start : start + batch_size]
                payload: tuple[list[NodeDoc], list[LinkDoc]] = (
                    (part, []) if phase == "nodes" else ([], part)
                )
                await writer.submit(payload, len(part), phase, create=create)  # type: ignore[arg-type]
            # Links need every node: the node pass is written before the link pass starts.
            await writer.drain()
    return counts[0], counts[1]


# ---------------------------------------------------------------------- import CSV


def register_documents(
    dist: Path, scope: Sequence[str] | None = None
) -> Iterator[tuple[str, NodeDoc | LinkDoc]]:
    """The register's nodes and containment links (``scope``: codes, their ancestors and
    descendants), as ``load-divisions`` writes them."""
    yield from register_graph(read_register(dist, scope))


def generated_documents(
    dist: Path, regions: Sequence[str], seed: int
) -> Iterator[tuple[str, NodeDoc | LinkDoc]]:
    """The generated network of ``regions`` with ``seed``, after the register documents it
    stands on (the regions, their ancestors and villages), as ``generate`` writes it into a
    store holding the register."""
    scope = list(register_documents(dist, regions))
    yield from scope
    nodes = [doc for kind, doc in scope if kind == "node"]
    yield from generate_network(
        [n for n in nodes if n["label"] == "Region"],
        [n for n in nodes if n["label"] == "Village"],
        seed,
    )


async def stored_documents(store: GraphStore) -> list[tuple[str, NodeDoc | LinkDoc]]:
    """Every node and link of ``store`` (all of it: people included)."""
    docs: list[tuple[str, NodeDoc | LinkDoc]] = []
    cursor: str | None = None
    while True:
        page = await store.list_nodes(NodeQuery(), cursor, MAX_PAGE)
        docs += [("node", doc) for doc in page.items]
        if (cursor := page.next_cursor) is None:
            break
    while True:
        links = await store.list_links(LinkQuery(), cursor, MAX_PAGE)
        docs += [("link", doc) for doc in links.items]
        if (cursor := links.next_cursor) is None:
            break
    return docs


def write_neo4j_csv(
    directory: Path, docs: Iterable[tuple[str, NodeDoc | LinkDoc]], graph_version: int = 1
) -> ImportManifest:
    """The ``neo4j-admin database import full`` files of ``docs`` (``store.neo4j_bulk``);
    a document seen twice (an id repeated) is written once, the last one seen."""
    nodes: dict[str, NodeDoc] = {}
    links: dict[str, LinkDoc] = {}
    for kind, doc in docs:
        (nodes if kind == "node" else links)[doc["id"]] = doc
    return write_import_csv(
        directory,
        itertools.chain(
            (("node", doc) for doc in nodes.values()), (("link", doc) for doc in links.values())
        ),
        graph_version,
    )
