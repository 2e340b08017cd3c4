"""The write transaction every backend runs, written once.

:func:`apply_batch` decides what a batch reads, which rules it checks (``integrity``), what it
writes and in which order, and counts what it did. A backend supplies a
:class:`BatchTarget`: the reads and writes themselves, in SQL or Cypher, inside the
transaction it opened; it commits when ``apply_batch`` returns and rolls back when it raises.

The target's methods are coroutines so that the Neo4j target can await its driver. The
embedded target does blocking SQLite work in a worker thread; its methods never suspend, so
its store runs the same coroutine to the end with :func:`run_inline`, without an event loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Coroutine, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from graph_service.models import LinkDoc, NodeDoc
from graph_service.store.integrity import (
    check_deletable,
    check_duplicates,
    check_links,
    check_new_judgements,
    check_node_labels,
    check_stored,
)
from graph_service.store.protocol import JudgementDoc, WriteBatch

__all__ = ["BatchTarget", "StoredLinks", "apply_batch", "run_inline"]

T = TypeVar("T")

#: Link id → its stored ``type``, ``source`` and ``target``.
StoredLinks = Mapping[str, Mapping[str, str]]


class BatchTarget(Protocol):
    """One backend's reads and writes inside its open write transaction.

    Reads see the transaction's own earlier writes. Writes are called only after the rules
    that guard them passed.
    """

    async def node_labels(self, ids: Sequence[str]) -> Mapping[str, str]:
        """Labels of those of ``ids`` that are stored."""

    async def stored_links(self, ids: Sequence[str], types: Sequence[str] = ()) -> StoredLinks:
        """Those of ``ids`` that are stored; ``types``, when given, is each id's type in the
        batch (a hint for a faster lookup, not a filter)."""

    async def upsert_nodes(self, nodes: Sequence[NodeDoc]) -> None: ...

    async def upsert_links(self, links: Sequence[LinkDoc]) -> None: ...

    async def delete_links(self, stored: StoredLinks) -> None:
        """Delete the links ``stored`` names (what :meth:`stored_links` returned)."""

    async def links_at(self, node_id: str) -> Sequence[str]:
        """Ids of the links at ``node_id``, either direction."""

    async def delete_nodes(self, ids: Sequence[str], links: Sequence[str]) -> None:
        """Delete the nodes and ``links``, every link still at them."""

    async def judgement_ids(self, ids: Sequence[str]) -> Collection[str]:
        """Those of ``ids`` that are stored."""

    async def append_judgements(self, judgements: Sequence[JudgementDoc]) -> None: ...


async def apply_batch(target: BatchTarget, batch: WriteBatch) -> dict[str, int]:
    """Check and apply ``batch`` through ``target``; the counts of a ``WriteResult``.

    Raises the domain error of the first entry at fault; the caller rolls back. The ids of
    nodes and links are checked for repeats before the transaction
    (:func:`~graph_service.store.integrity.check_batch_ids`).
    """
    counts: Counter[str] = Counter()
    if batch.nodes:
        await _upsert_nodes(target, batch.nodes, counts)
    if batch.links:
        await _upsert_links(target, batch, counts)
    if batch.delete_links:
        await _delete_links(target, batch.delete_links, counts)
    if batch.delete_nodes:
        await _delete_nodes(target, batch.delete_nodes, batch.detach, counts)
    if batch.judgements:
        await _append_judgements(target, batch.judgements, counts)
    return dict(counts)


async def _upsert_nodes(
    target: BatchTarget, nodes: Sequence[NodeDoc], counts: Counter[str]
) -> None:
    stored = await target.node_labels([n["id"] for n in nodes])
    check_node_labels(nodes, stored)
    await target.upsert_nodes(nodes)
    updated = sum(1 for n in nodes if n["id"] in stored)
    counts["nodes_updated"] += updated
    counts["nodes_created"] += len(nodes) - updated


async def _upsert_links(target: BatchTarget, batch: WriteBatch, counts: Counter[str]) -> None:
    links = batch.links
    # The batch's own nodes are written already; only ends outside it need a read.
    labels = {n["id"]: n["label"] for n in batch.nodes}
    ends = {end for link in links for end in (link["source"], link["target"])}
    outside = [end for end in ends if end not in labels]
    if outside:
        labels.update(await target.node_labels(outside))
    stored = await target.stored_links([k["id"] for k in links], [k["type"] for k in links])
    check_links(links, labels, stored)
    await target.upsert_links(links)
    updated = sum(1 for link in links if link["id"] in stored)
    counts["links_updated"] += updated
    counts["links_created"] += len(links) - updated


async def _delete_links(target: BatchTarget, ids: Sequence[str], counts: Counter[str]) -> None:
    stored = await target.stored_links(ids)
    for index, link_id in enumerate(ids):
        check_stored(link_id, stored, "link", f"delete_links.{index}")
    await target.delete_links(stored)
    counts["links_deleted"] += len(ids)


async def _delete_nodes(
    target: BatchTarget, ids: Sequence[str], detach: bool, counts: Counter[str]
) -> None:
    stored = await target.node_labels(ids)
    # A link between two deleted nodes is at both; it is deleted, and counted, once.
    detached: dict[str, None] = {}
    for index, node_id in enumerate(ids):
        check_stored(node_id, stored, "node", f"delete_nodes.{index}")
        links = [i for i in await target.links_at(node_id) if i not in detached]
        check_deletable(index, node_id, links, detach)
        detached.update(dict.fromkeys(links))
    await target.delete_nodes(ids, list(detached))
    counts["links_deleted"] += len(detached)
    counts["nodes_deleted"] += len(ids)


async def _append_judgements(
    target: BatchTarget, judgements: Sequence[JudgementDoc], counts: Counter[str]
) -> None:
    ids = [j["id"] for j in judgements]
    check_duplicates(ids, "judgements")
    check_new_judgements(ids, await target.judgement_ids(ids))
    await target.append_judgements(judgements)
    counts["judgements_created"] += len(ids)


def run_inline(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (its awaits reach only blocking code) to its end.

    For a :class:`BatchTarget` doing blocking work in a worker thread, where there is no
    event loop to run it on and none is needed.
    """
    try:
        work.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    work.close()
    raise RuntimeError("a coroutine run inline suspended; it needs an event loop")
