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

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Collection, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from graph_service.errors import ConflictError, NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.store.integrity import (
    check_deletable,
    check_duplicates,
    check_links,
    check_new_judgements,
    check_node_labels,
    check_scope,
    check_stored,
)
from graph_service.store.protocol import (
    AccountDoc,
    HistoryDoc,
    JudgementDoc,
    KeyDoc,
    RecordDoc,
    WriteBatch,
    WriteContext,
)

__all__ = ["BatchTarget", "Journal", "NodeHead", "StoredLinks", "apply_batch", "run_inline"]

T = TypeVar("T")

#: Link id → its stored ``type``, ``source``, ``target`` and whole ``doc``.
StoredLinks = Mapping[str, Mapping[str, Any]]
#: A stored node's label and region code.
NodeHead = tuple[str, str | None]


class BatchTarget(Protocol):
    """One backend's reads and writes inside its open write transaction.

    Reads see the transaction's own earlier writes. Writes are called only after the rules
    that guard them passed.
    """

    async def lock_nodes(self, ids: Sequence[str]) -> None:
        """Hold the stored nodes of ``ids`` until the transaction ends, so that what the
        batch reads of them (and of their links) is what it changes: the history's
        ``before`` is the version it replaces. A backend whose write transactions are
        serial (SQLite's ``BEGIN IMMEDIATE``) has nothing to do."""

    async def node_docs(self, ids: Sequence[str]) -> Mapping[str, NodeDoc]:
        """Those of ``ids`` that are stored, whole."""

    async def node_heads(self, ids: Sequence[str]) -> Mapping[str, NodeHead]:
        """Label and region code of those of ``ids`` that are stored."""

    async def stored_links(self, ids: Sequence[str], types: Sequence[str] = ()) -> StoredLinks:
        """Those of ``ids`` that are stored (``type``, ``source``, ``target`` and ``doc``);
        ``types``, when given, is each id's type in the batch (a hint for a faster lookup,
        not a filter)."""

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

    async def account_docs(self, names: Sequence[str]) -> Mapping[str, AccountDoc]: ...

    async def key_docs(self, ids: Sequence[str]) -> Mapping[str, KeyDoc]: ...

    async def upsert_accounts(self, accounts: Sequence[AccountDoc]) -> None: ...

    async def upsert_keys(self, keys: Sequence[KeyDoc]) -> None: ...

    async def append_history(self, entries: Sequence[HistoryDoc]) -> None: ...

    async def record_ids(self, ids: Sequence[str]) -> Collection[str]:
        """Those of ``ids`` that are stored records."""

    async def append_records(self, records: Sequence[RecordDoc]) -> None: ...


async def apply_batch(target: BatchTarget, batch: WriteBatch) -> dict[str, Any]:
    """Check and apply ``batch`` through ``target``; the counts of a ``WriteResult`` and
    its ``recorded_at``.

    Every change is journalled (:class:`Journal`) and the journal appended to the history
    last, in the same transaction. Raises the domain error of the first entry at fault; the
    caller rolls back. The ids of nodes and links are checked for repeats before the
    transaction (:func:`~graph_service.store.integrity.check_batch_ids`).
    """
    counts: Counter[str] = Counter()
    journal = Journal(batch.context)
    if batch.nodes:
        await _upsert_nodes(target, batch.nodes, counts, journal)
    if batch.links:
        await _upsert_links(target, batch, counts, journal)
    if batch.delete_links:
        await _delete_links(target, batch.delete_links, counts, journal)
    if batch.delete_nodes:
        await _delete_nodes(target, batch.delete_nodes, batch.detach, counts, journal)
    if batch.judgements:
        await _append_judgements(target, batch.judgements, counts, journal)
    if batch.accounts:
        await _upsert_accounts(target, batch.accounts, counts, journal)
    if batch.keys:
        await _upsert_keys(target, batch, counts, journal)
    if batch.records:
        await _append_records(target, batch.records, counts, journal)
    outcome: dict[str, Any] = dict(counts)
    if journal.entries:
        entries = journal.stamped()
        await target.append_history(entries)
        outcome["history_recorded"] = len(entries)
        outcome["recorded_at"] = entries[0]["at"]
    return outcome


class Journal:
    """The history entries of one batch: one per entity it changed, stamped with the
    account and request of its ``WriteContext`` and one transaction time from the clock.

    Ids are ``h<time>-<index>-<salt>``: ordered by time, then by the order of the changes
    in the batch; the random salt keeps two writers of the same microsecond apart. The time is
    taken last (:meth:`stamped`), when the batch holds every node it changes
    (``BatchTarget.lock_nodes``): of two writes of one entity, the later commit has the later
    time.
    """

    def __init__(self, context: WriteContext) -> None:
        self.context = context
        self.entries: list[HistoryDoc] = []

    def stamped(self) -> list[HistoryDoc]:
        """The entries with their time and ids, taken now."""
        now = dt.datetime.now(dt.UTC)
        at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        prefix, salt = "h" + now.strftime("%Y%m%dT%H%M%S%fZ"), secrets.token_hex(3)
        for index, entry in enumerate(self.entries):
            entry["id"], entry["at"] = f"{prefix}-{index:06d}-{salt}", at
        return self.entries

    def record(
        self,
        entity: str,
        entity_id: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        regions: Iterable[str | None] = (),
    ) -> None:
        """Journal one change; an upsert that changes nothing is no change."""
        if before == after:
            return
        action = "create" if before is None else "delete" if after is None else "update"
        context = self.context
        self.entries.append(
            {
                "id": "",  # stamped() gives the id and the time
                "at": "",
                "account": context.account,
                "request_id": context.request_id,
                "operation": context.operation,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "regions": sorted({code for code in regions if code}),
                "before": dict(before) if before is not None else None,
                "after": dict(after) if after is not None else None,
            }
        )


async def _upsert_nodes(
    target: BatchTarget, nodes: Sequence[NodeDoc], counts: Counter[str], journal: Journal
) -> None:
    await target.lock_nodes([n["id"] for n in nodes])
    stored = await target.node_docs([n["id"] for n in nodes])
    check_node_labels(nodes, {node_id: doc["label"] for node_id, doc in stored.items()})
    context = journal.context
    for index, node in enumerate(nodes):
        before = stored.get(node["id"])
        regions = [node.get("region_code")]
        if before is not None:
            regions.insert(0, before.get("region_code"))
        check_scope(context.scope, context.account, f"nodes.{index}.region_code", regions)
        journal.record("node", node["id"], before, node, regions)
    await target.upsert_nodes(nodes)
    updated = sum(1 for n in nodes if n["id"] in stored)
    counts["nodes_updated"] += updated
    counts["nodes_created"] += len(nodes) - updated


async def _upsert_links(
    target: BatchTarget, batch: WriteBatch, counts: Counter[str], journal: Journal
) -> None:
    links = batch.links
    # The batch's own nodes are written already; only ends outside it need a read.
    heads: dict[str, NodeHead] = {n["id"]: (n["label"], n.get("region_code")) for n in batch.nodes}
    ends = {end for link in links for end in (link["source"], link["target"])}
    # A link's writers all hold its ends: concurrent writes of one link are serial.
    await target.lock_nodes(sorted(ends))
    outside = [end for end in ends if end not in heads]
    if outside:
        heads.update(await target.node_heads(outside))
    stored = await target.stored_links([k["id"] for k in links], [k["type"] for k in links])
    check_links(links, {node_id: head[0] for node_id, head in heads.items()}, stored)
    context = journal.context
    for index, link in enumerate(links):
        regions = [heads[link["source"]][1], heads[link["target"]][1]]
        check_scope(context.scope, context.account, f"links.{index}", regions, any_end=True)
        before = stored.get(link["id"])
        journal.record("link", link["id"], before and before["doc"], link, regions)
    await target.upsert_links(links)
    updated = sum(1 for link in links if link["id"] in stored)
    counts["links_updated"] += updated
    counts["links_created"] += len(links) - updated


async def _link_regions(target: BatchTarget, stored: StoredLinks) -> dict[str, list[str | None]]:
    """Each stored link's ends' region codes."""
    ends = sorted({info[end] for info in stored.values() for end in ("source", "target")})
    heads = await target.node_heads(ends)
    return {
        link_id: [
            heads.get(info["source"], ("", None))[1],
            heads.get(info["target"], ("", None))[1],
        ]
        for link_id, info in stored.items()
    }


async def _delete_links(
    target: BatchTarget, ids: Sequence[str], counts: Counter[str], journal: Journal
) -> None:
    stored = await target.stored_links(ids)
    await target.lock_nodes(
        sorted({i[end] for i in stored.values() for end in ("source", "target")})
    )
    stored = await target.stored_links(ids)  # as they are now that their ends are held
    for index, link_id in enumerate(ids):
        check_stored(link_id, stored, "link", f"delete_links.{index}")
    regions = await _link_regions(target, stored)
    context = journal.context
    for index, link_id in enumerate(ids):
        field = f"delete_links.{index}"
        check_scope(context.scope, context.account, field, regions[link_id], any_end=True)
        journal.record("link", link_id, stored[link_id]["doc"], None, regions[link_id])
    await target.delete_links(stored)
    counts["links_deleted"] += len(ids)


async def _delete_nodes(
    target: BatchTarget,
    ids: Sequence[str],
    detach: bool,
    counts: Counter[str],
    journal: Journal,
) -> None:
    await target.lock_nodes(ids)
    stored = await target.node_docs(ids)
    context = journal.context
    # A link between two deleted nodes is at both; it is deleted, and counted, once.
    detached: dict[str, None] = {}
    for index, node_id in enumerate(ids):
        check_stored(node_id, stored, "node", f"delete_nodes.{index}")
        region = stored[node_id].get("region_code")
        check_scope(context.scope, context.account, f"delete_nodes.{index}", [region])
        links = [i for i in await target.links_at(node_id) if i not in detached]
        check_deletable(index, node_id, links, detach)
        detached.update(dict.fromkeys(links))
    if detached:
        gone = await target.stored_links(list(detached))
        regions = await _link_regions(target, gone)
        for link_id, info in gone.items():
            journal.record("link", link_id, info["doc"], None, regions[link_id])
    for node_id in ids:
        doc = stored[node_id]
        journal.record("node", node_id, doc, None, [doc.get("region_code")])
    await target.delete_nodes(ids, list(detached))
    counts["links_deleted"] += len(detached)
    counts["nodes_deleted"] += len(ids)


async def _append_judgements(
    target: BatchTarget, judgements: Sequence[JudgementDoc], counts: Counter[str], journal: Journal
) -> None:
    ids = [j["id"] for j in judgements]
    check_duplicates(ids, "judgements")
    check_new_judgements(ids, await target.judgement_ids(ids))
    ends = sorted({j[end] for j in judgements for end in ("target", "partner") if j.get(end)})
    heads = await target.node_heads(ends)
    for judgement in judgements:
        regions = [
            heads.get(judgement.get(end, ""), ("", None))[1] for end in ("target", "partner")
        ]
        journal.record("judgement", judgement["id"], None, judgement, regions)
    await target.append_judgements(judgements)
    counts["judgements_created"] += len(ids)


async def _append_records(
    target: BatchTarget, records: Sequence[RecordDoc], counts: Counter[str], journal: Journal
) -> None:
    ids = [r["id"] for r in records]
    check_duplicates(ids, "records")
    stored = await target.record_ids(ids)
    for index, record_id in enumerate(ids):
        if record_id in stored:
            raise ConflictError(
                f"record {record_id} exists; records are never rewritten",
                field=f"records.{index}.id",
            )
    for record in records:
        entity_id = f"{record['kind']}:{record['key']}"
        journal.record("record", entity_id, None, record, [record.get("region")])
    await target.append_records(records)
    counts["records_created"] += len(ids)


async def _upsert_accounts(
    target: BatchTarget, accounts: Sequence[AccountDoc], counts: Counter[str], journal: Journal
) -> None:
    names = [a["name"] for a in accounts]
    check_duplicates(names, "accounts")
    stored = await target.account_docs(names)
    for account in accounts:
        journal.record(
            "account", account["name"], stored.get(account["name"]), account, [account["scope"]]
        )
    await target.upsert_accounts(accounts)
    counts["accounts_written"] += len(accounts)


async def _upsert_keys(
    target: BatchTarget, batch: WriteBatch, counts: Counter[str], journal: Journal
) -> None:
    keys = batch.keys
    check_duplicates([k["id"] for k in keys], "keys")
    owners = {a["name"]: a for a in batch.accounts}
    missing = [k["account"] for k in keys if k["account"] not in owners]
    if missing:
        owners.update(await target.account_docs(sorted(set(missing))))
    stored = await target.key_docs([k["id"] for k in keys])
    for index, key in enumerate(keys):
        owner = owners.get(key["account"])
        if owner is None:
            raise NotFoundError(f"no account {key['account']}", field=f"keys.{index}.account")
        before = stored.get(key["id"])
        if before is not None and before["hash"] != key["hash"]:
            raise ConflictError(
                f"key {key['id']} exists with another hash; a key is never re-keyed",
                field=f"keys.{index}.hash",
            )
        # The history keeps what a key was, not the hash that would identify it.
        journal.record("key", key["id"], _unhashed(before), _unhashed(key), [owner["scope"]])
    await target.upsert_keys(keys)
    counts["keys_written"] += len(keys)


def _unhashed(key: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if key is None else {k: v for k, v in key.items() if k != "hash"}


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
