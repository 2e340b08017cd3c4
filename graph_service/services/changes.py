"""Records beside the graph, and change sets that can be undone as one unit.

A *record* (``RecordDoc``) is one version of a (kind, key): review items, identity
judgements, merges, imports, saved mappings, redirects. :func:`new_record` makes one; the
latest version of a key is the one in force (:func:`current_records`).

A *change set* is the graph writes of one transaction: a merge, an import's commit. Its
history entries share the transaction's time and the salt that ends their ids
(``store.batch.Journal``). :func:`undo_change_set` writes the inverse in one new transaction:
every node and link back to its version before the change set, those it created deleted.
It refuses (409, naming the entity) when something the change set wrote was changed again
since: undoing would silently discard that later edit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from graph_service.errors import ConflictError, NotFoundError
from graph_service.store.protocol import (
    GraphStore,
    HistoryDoc,
    HistoryQuery,
    RecordDoc,
    RecordQuery,
    WriteBatch,
    WriteContext,
    WriteResult,
)

__all__ = [
    "ChangeSet",
    "all_records",
    "change_set_of",
    "current_record",
    "current_records",
    "new_record",
    "now",
    "undo_change_set",
]

_PAGE = 1000
ChangeSet = list[HistoryDoc]


def now() -> str:
    """UTC now in the stored form (``YYYY-MM-DDTHH:MM:SS.ffffffZ``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record(
    kind: str, key: str, status: str | None = None, region: str | None = None, **doc: Any
) -> RecordDoc:
    """A new version of ``kind``/``key``: its id starts with the time (ids order versions)."""
    at = now()
    stamp = at.replace("-", "").replace(":", "").replace(".", "")
    return {
        **doc,
        "id": f"r{stamp}-{secrets.token_hex(4)}",
        "kind": kind,
        "key": key,
        "at": at,
        "status": status,
        "region": region,
    }


async def all_records(store: GraphStore, query: RecordQuery) -> list[RecordDoc]:
    """Every record matching ``query`` (all pages)."""
    found: list[RecordDoc] = []
    cursor: str | None = None
    while True:
        page = await store.list_records(query, cursor, _PAGE)
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            return found


async def current_records(
    store: GraphStore, kind: str, keys: Sequence[str]
) -> dict[str, RecordDoc]:
    """The version in force of each of ``keys`` that has one."""
    if not keys:
        return {}
    records = await all_records(store, RecordQuery(kind, keys=list(keys), current=True))
    return {str(r["key"]): r for r in records}


async def current_record(store: GraphStore, kind: str, key: str, field: str) -> RecordDoc:
    """The version in force of ``kind``/``key``; 404 naming ``field`` when there is none."""
    found = (await current_records(store, kind, [key])).get(key)
    if found is None:
        raise NotFoundError(f"no {kind} {key}", field=field)
    return found


async def change_set_of(store: GraphStore, record: RecordDoc) -> ChangeSet:
    """The history entries of the transaction that appended ``record``."""
    entity_id = f"{record['kind']}:{record['key']}"
    page = await store.list_history(
        HistoryQuery(entity="record", entity_id=entity_id, since=record["at"]), None, _PAGE
    )
    mine = next((e for e in page.items if (e["after"] or {}).get("id") == record["id"]), None)
    if mine is None:
        raise NotFoundError(f"no history of {entity_id}", field="id")
    salt = mine["id"].rsplit("-", 1)[1]
    entries: ChangeSet = []
    cursor: str | None = None
    while True:
        page = await store.list_history(
            HistoryQuery(since=mine["at"], until=mine["at"]), cursor, _PAGE
        )
        entries += [e for e in page.items if e["id"].endswith(f"-{salt}")]
        cursor = page.next_cursor
        if cursor is None:
            return entries


def _net(entries: ChangeSet, entity: str) -> dict[str, tuple[Any, Any]]:
    """Per entity id: its version before the first entry and after the last."""
    net: dict[str, tuple[Any, Any]] = {}
    for entry in entries:
        if entry["entity"] != entity:
            continue
        first = net.get(entry["entity_id"])
        net[entry["entity_id"]] = (entry["before"] if first is None else first[0], entry["after"])
    return net


async def undo_change_set(
    store: GraphStore,
    entries: ChangeSet,
    context: WriteContext,
    records: Sequence[RecordDoc] = (),
) -> WriteResult:
    """Put every node and link ``entries`` changed back as it was (module docstring); append
    ``records`` in the same transaction.

    Raises
    ------
    ConflictError
        A node or link was changed after the change set (``details.changed``).
    """
    nodes, links = _net(entries, "node"), _net(entries, "link")
    stored_nodes = await store.get_nodes(list(nodes))
    stored_links = await store.get_links(list(links))
    changed = [
        {"entity": entity, "id": entity_id}
        for entity, net, stored in (("node", nodes, stored_nodes), ("link", links, stored_links))
        for entity_id, (_, after) in net.items()
        if not _same(stored.get(entity_id), after)
    ]
    if changed:
        shown = ", ".join(f"{c['entity']} {c['id']}" for c in changed[:5])
        raise ConflictError(
            f"changed since, so not undone: {shown}"
            + (f" and {len(changed) - 5} more" if len(changed) > 5 else ""),
            field="id",
            code="changed_since",
            details={"changed": changed[:100]},
        )
    batch = WriteBatch(
        nodes=[before for before, _ in nodes.values() if before is not None],
        links=[before for before, _ in links.values() if before is not None],
        delete_links=[i for i, (before, _) in links.items() if before is None],
        delete_nodes=[i for i, (before, _) in nodes.items() if before is None],
        records=list(records),
        context=context,
    )
    return await store.write(batch)


def _same(stored: Mapping[str, Any] | None, recorded: Mapping[str, Any] | None) -> bool:
    if stored is None or recorded is None:
        return stored is None and recorded is None
    return dict(stored) == dict(recorded)
