"""Generate the network of some regions (:mod:`~graph_service.services.synthetic.network`) into
a store, in atomic batches."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph_service.domain import code_ancestors
from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.services.synthetic.network import generate_network
from graph_service.store.neo4j import Neo4jGraphStore
from graph_service.store.protocol import GraphStore, NodeQuery, WriteBatch

__all__ = ["GenerationReport", "generate_into", "scope_of"]


@dataclass(slots=True)
class GenerationReport:
    regions: int = 0
    villages: int = 0
    nodes: int = 0
    links: int = 0
    seconds: float = 0.0
    nodes_by_label: dict[str, int] = field(default_factory=dict)
    links_by_type: dict[str, int] = field(default_factory=dict)


async def _all(store: GraphStore, query: NodeQuery) -> list[NodeDoc]:
    items: list[NodeDoc] = []
    cursor = None
    while True:
        page = await store.list_nodes(query, cursor, 1000)
        items += page.items
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


async def scope_of(store: GraphStore, codes: Sequence[str]) -> tuple[list[NodeDoc], list[NodeDoc]]:
    """The Region and Village documents under ``codes``, with the regions above them."""
    regions: dict[str, NodeDoc] = {}
    villages: dict[str, NodeDoc] = {}
    for code in codes:
        found = await store.get_nodes([f"region:{code}"])
        if not found:
            raise NotFoundError(
                f"no region with code {code} (load the register first)", field="regions"
            )
        ancestors = [f"region:{a}" for a in code_ancestors(code)]
        regions.update(await store.get_nodes(ancestors))
        for doc in await _all(store, NodeQuery(labels=["Region"], region_code=code)):
            regions[doc["id"]] = doc
        for doc in await _all(store, NodeQuery(labels=["Village"], region_code=code)):
            villages[doc["id"]] = doc
    return list(regions.values()), list(villages.values())


async def generate_into(
    store: GraphStore,
    codes: Sequence[str],
    seed: int,
    batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> GenerationReport:
    """Generate the network of ``codes`` with ``seed`` and write it in atomic batches.

    The generator yields every node before the links that use it, so batches written in
    order never reference a node that is not yet stored.
    """
    started = time.perf_counter()
    regions, villages = await scope_of(store, codes)
    if not villages:
        raise InvalidInputError("the regions hold no villages", field="regions")
    report = GenerationReport(regions=len(regions), villages=len(villages))
    if isinstance(store, Neo4jGraphStore):
        # Parallel bulk batches (services/bulk.py): every node, then every link.
        from graph_service.services.bulk import load_documents

        await load_documents(
            store,
            _counted(generate_network(regions, villages, seed), report),
            batch_size,
            progress=progress,
        )
        report.seconds = time.perf_counter() - started
        return report
    nodes: list[NodeDoc] = []
    links: list[LinkDoc] = []

    async def flush() -> None:
        if nodes or links:
            await store.write(WriteBatch(nodes=list(nodes), links=list(links)))
            if progress is not None:
                progress(len(nodes) + len(links))
            nodes.clear()
            links.clear()

    for kind, doc in generate_network(regions, villages, seed):
        bucket: Any = nodes if kind == "node" else links
        bucket.append(doc)
        if kind == "node":
            report.nodes += 1
            report.nodes_by_label[doc["label"]] = report.nodes_by_label.get(doc["label"], 0) + 1
        else:
            report.links += 1
            report.links_by_type[doc["type"]] = report.links_by_type.get(doc["type"], 0) + 1
        if len(nodes) + len(links) >= batch_size:
            await flush()
    await flush()
    report.seconds = time.perf_counter() - started
    return report


def _counted(
    docs: Iterator[tuple[str, dict[str, Any]]], report: GenerationReport
) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind, doc in docs:
        if kind == "node":
            report.nodes += 1
            report.nodes_by_label[doc["label"]] = report.nodes_by_label.get(doc["label"], 0) + 1
        else:
            report.links += 1
            report.links_by_type[doc["type"]] = report.links_by_type.get(doc["type"], 0) + 1
        yield kind, doc
