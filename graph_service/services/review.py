"""The review queue: candidate matches a person judges, and merges of duplicate nodes.

Items come from three places: a duplicate scan over a region (:meth:`ReviewService.scan`),
an import's ambiguous rows (``graph_service.services.imports``) and extraction from an
article (``graph_service.services.articles``). Each is a versioned record (kind
``review``) with its evidence and its candidates side by side; a decision appends the
item's next version, in the same transaction as whatever the decision writes.

Decisions, as nomenklatura judges pairs:

- ``positive``: a duplicate pair is merged (:meth:`ReviewService.merge`); an import row or
  an extracted entity is written, as the candidate chosen or as a new node; an extracted
  link is written between its accepted ends.
- ``negative``: nothing is written; a duplicate pair judged negative is never proposed again
  (an identity record, kind ``identity``, keyed by the pair).
- ``unsure``: the item stays in the queue, marked; the pair is proposed again by no scan
  while the judgement stands.

A merge moves every link of the merged node to the canonical one (a link the canonical node
already has of the same type to the same node takes the merged one's sources instead), adds
the merged node's name, aliases and sources to the canonical one, fills attributes the
canonical node lacks, and deletes the merged node; the merged id keeps resolving to the
canonical node (a ``redirect`` record, read by :meth:`ReviewService.redirects`). All of it
is one transaction, recorded in the edit history; :meth:`ReviewService.undo_merge` undoes it
as one (``graph_service.services.changes``). Merging across counties takes an admin.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from graph_service.access import Caller, check_role
from graph_service.domain import DIVISION_CODE_LENGTHS
from graph_service.errors import ConflictError, InvalidInputError, NotFoundError
from graph_service.models import LinkDoc, NodeDoc, derive_link_id
from graph_service.names import duplicate_pairs
from graph_service.schema import LINK_TYPES
from graph_service.services.changes import (
    all_records,
    change_set_of,
    current_record,
    current_records,
    new_record,
    now,
    undo_change_set,
)
from graph_service.services.graph import write_context
from graph_service.services.resolution import NameResolver, match_json
from graph_service.services.view import GraphView
from graph_service.store.protocol import (
    GraphStore,
    Page,
    RecordDoc,
    RecordQuery,
    WriteBatch,
)

__all__ = [
    "DECISIONS",
    "ITEM_STATUSES",
    "PENDING",
    "Applied",
    "Applier",
    "ReviewService",
    "pair_key",
    "redirects",
    "review_item",
]

Decision = Literal["positive", "negative", "unsure"]
DECISIONS: Final[tuple[str, ...]] = ("positive", "negative", "unsure")
ITEM_STATUSES: Final[tuple[str, ...]] = ("open", "accepted", "rejected", "unsure")
#: What the queue shows by default: not decided, or judged unsure.
PENDING: Final[tuple[str, ...]] = ("open", "unsure")
_STATUS_OF: Final[dict[str, str]] = {
    "positive": "accepted",
    "negative": "rejected",
    "unsure": "unsure",
}
#: Counties: merging nodes of two of them (or a node without a region) takes an admin.
_COUNTY = 6
MAX_SCAN_PAIRS: Final[int] = 1000


def pair_key(a: str, b: str) -> str:
    """The key of an unordered pair of node ids."""
    return "|".join(sorted((a, b)))


def review_item(
    item_type: str,
    origin: Mapping[str, Any],
    subject: Mapping[str, Any],
    evidence: Mapping[str, Any],
    caller: Caller,
    region: str | None,
    item_id: str | None = None,
) -> RecordDoc:
    """The first version of a queue item (``open``)."""
    key = item_id or f"rv_{secrets.token_hex(6)}"
    return new_record(
        "review",
        key,
        "open",
        region,
        item_id=key,
        type=item_type,
        origin=dict(origin),
        subject=dict(subject),
        evidence=dict(evidence),
        created_by=caller.name,
        created_at=now(),
        decision=None,
    )


@dataclass(slots=True)
class Applied:
    """What a positive decision on an import row or an extracted entity writes."""

    nodes: list[NodeDoc] = field(default_factory=list)
    links: list[LinkDoc] = field(default_factory=list)
    #: The node the item now stands for (an extracted entity's link ends use it).
    node_id: str | None = None
    operation: str = "review"


#: Turns a positive decision on an item of one type into writes: (view, caller, item,
#: choice) → what to write. Registered by the import and extraction services.
Applier = Callable[[GraphView, Caller, RecordDoc, Mapping[str, Any]], Awaitable[Applied]]


class ReviewService:
    def __init__(self, store: GraphStore, resolver: NameResolver) -> None:
        self.store = store
        self.resolver = resolver
        self.appliers: dict[str, Applier] = {}

    # ------------------------------------------------------------------ the queue

    async def page(
        self,
        statuses: Sequence[str],
        region: str | None,
        item_type: str | None,
        origin: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page:
        """Items in force with these statuses, oldest first (type and origin filter the
        page's items: the store filters status and region)."""
        query = RecordQuery("review", statuses=list(statuses), region=region, current=True)
        page = await self.store.list_records(query, cursor, limit)
        items = [
            _shown(r)
            for r in page.items
            if (item_type is None or r.get("type") == item_type)
            and (origin is None or (r.get("origin") or {}).get("source") == origin)
        ]
        return Page(items, page.next_cursor)

    async def item(self, item_id: str) -> dict[str, Any]:
        return _shown(await current_record(self.store, "review", item_id, "id"))

    async def decide(
        self,
        view: GraphView,
        caller: Caller,
        item_id: str,
        decision: str,
        choice: Mapping[str, Any],
        request_id: str | None,
    ) -> dict[str, Any]:
        """Judge an item (module docstring); the item's new version and what was written."""
        check_role(caller, "editor", "a review decision")
        if decision not in DECISIONS:
            raise InvalidInputError(f"decision is one of {', '.join(DECISIONS)}", field="decision")
        item = await current_record(self.store, "review", item_id, "id")
        if item["status"] in ("accepted", "rejected"):
            raise ConflictError(
                f"item {item_id} was decided ({item['status']}) by "
                f"{(item.get('decision') or {}).get('by')}",
                field="id",
                code="already_decided",
            )
        verdict = {
            "decision": decision,
            "by": caller.name,
            "at": now(),
            "note": choice.get("note"),
        }
        if item["type"] == "duplicate":
            return await self._decide_pair(
                view, caller, item, decision, choice, verdict, request_id
            )
        records: list[RecordDoc] = []
        applied = Applied()
        if decision == "positive":
            applier = self.appliers.get(str(item["type"]))
            if applier is None:  # pragma: no cover - every item type has an applier
                raise InvalidInputError(f"no way to apply a {item['type']} item", field="id")
            applied = await applier(view, caller, item, choice)
            verdict["node"] = applied.node_id
        records.append(_next(item, _STATUS_OF[decision], decision=verdict))
        result = await self.store.write(
            WriteBatch(
                nodes=applied.nodes,
                links=applied.links,
                records=records,
                context=write_context(caller, f"review.{applied.operation}", request_id),
            )
        )
        return {
            "item": _shown(records[-1]),
            "nodes_written": result.nodes_created + result.nodes_updated,
            "links_written": result.links_created + result.links_updated,
            "node": applied.node_id,
        }

    async def _decide_pair(
        self,
        view: GraphView,
        caller: Caller,
        item: RecordDoc,
        decision: str,
        choice: Mapping[str, Any],
        verdict: dict[str, Any],
        request_id: str | None,
    ) -> dict[str, Any]:
        a, b = item["subject"]["a"]["id"], item["subject"]["b"]["id"]
        if decision == "positive":
            canonical = str(choice.get("canonical") or "") or await self._default_canonical(a, b)
            if canonical not in (a, b):
                raise InvalidInputError(
                    f"canonical is one of the pair: {a} or {b}", field="canonical"
                )
            merged = b if canonical == a else a
            verdict["canonical"] = canonical
            outcome = await self.merge(
                view,
                caller,
                canonical,
                merged,
                request_id,
                item=_next(item, "accepted", decision=verdict),
            )
            return {"item": outcome.pop("item"), "merge": outcome}
        records = [
            _next(item, _STATUS_OF[decision], decision=verdict),
            _identity(a, b, decision, caller, item["key"], item.get("region")),
        ]
        await self.store.write(
            WriteBatch(
                records=records,
                context=write_context(caller, "review.identity", request_id),
            )
        )
        return {"item": _shown(records[0])}

    async def _default_canonical(self, a: str, b: str) -> str:
        """The better connected of the pair (ties: the older id, the smaller)."""
        links = await self.store.links_at_nodes([a, b])
        return a if len(links.get(a, [])) >= len(links.get(b, [])) else b

    # ------------------------------------------------------------------ identity

    async def judged_pairs(self, keys: Sequence[str]) -> dict[str, str]:
        """The identity judgement in force (``negative``, ``unsure``, ``positive``) of each
        pair key that has one."""
        found = await current_records(self.store, "identity", keys)
        return {key: str(record["status"]) for key, record in found.items()}

    async def pending_pairs(self) -> set[str]:
        """Pair keys of duplicate items still in the queue (not proposed twice)."""
        records = await all_records(
            self.store, RecordQuery("review", statuses=list(PENDING), current=True)
        )
        return {
            pair_key(r["subject"]["a"]["id"], r["subject"]["b"]["id"])
            for r in records
            if r.get("type") == "duplicate"
        }

    # ------------------------------------------------------------------ merges

    async def merge(
        self,
        view: GraphView,
        caller: Caller,
        canonical: str,
        merged: str,
        request_id: str | None,
        item: RecordDoc | None = None,
    ) -> dict[str, Any]:
        """Merge ``merged`` into ``canonical`` (module docstring), in one transaction.

        Raises
        ------
        NotFoundError
            Either node is not stored (field ``canonical`` or ``merged``).
        InvalidInputError
            The same node twice, or two labels.
        ForbiddenError
            A merge across counties by a caller below admin, or outside the caller's scope.
        """
        check_role(caller, "editor", "a merge")
        if canonical == merged:
            raise InvalidInputError("a node cannot be merged into itself", field="merged")
        nodes = await self.store.get_nodes([canonical, merged])
        for name, node_id in (("canonical", canonical), ("merged", merged)):
            if node_id not in nodes or not (await view.get_nodes([node_id])):
                raise NotFoundError(f"no node {node_id}", field=name)
        keep, gone = nodes[canonical], nodes[merged]
        if keep["label"] != gone["label"]:
            raise InvalidInputError(
                f"{canonical} is a {keep['label']} and {merged} a {gone['label']}: only nodes "
                "of one label are merged",
                field="merged",
            )
        counties = {str(doc.get("region_code") or "")[:_COUNTY] for doc in (keep, gone)}
        if len(counties) > 1 or "" in counties:
            check_role(caller, "admin", "a merge across counties (or of a node without region)")
        at_both = await self.store.links_at_nodes([canonical, merged])
        links, at_canonical = at_both.get(merged, []), at_both.get(canonical, [])
        moved, updated, deleted = _move_links(links, at_canonical, merged, canonical)
        merge_id = f"mg_{secrets.token_hex(6)}"
        region = keep.get("region_code")
        records = [
            new_record(
                "merge",
                merge_id,
                "done",
                region,
                merge_id=merge_id,
                canonical=canonical,
                merged=merged,
                merged_node=gone,
                by=caller.name,
                item=item["key"] if item else None,
                links_moved=len(moved),
                links_combined=len(updated),
            ),
            new_record("redirect", merged, "active", region, canonical=canonical, merge=merge_id),
            _identity(canonical, merged, "positive", caller, item["key"] if item else None, region),
        ]
        if item is not None:
            records.append(item)
        result = await self.store.write(
            WriteBatch(
                nodes=[_absorb(keep, gone)],
                links=[*moved, *updated],
                delete_links=deleted,
                delete_nodes=[merged],
                records=records,
                context=write_context(caller, "merge", request_id),
            )
        )
        return {
            "merge_id": merge_id,
            "canonical": canonical,
            "merged": merged,
            "links_moved": len(moved),
            "links_combined": len(updated),
            "history_recorded": result.history_recorded,
            "item": _shown(item) if item else None,
        }

    async def undo_merge(
        self, caller: Caller, merge_id: str, request_id: str | None
    ) -> dict[str, Any]:
        """Undo a merge as one unit: the merged node and its links back, the canonical node
        as it was, the redirect withdrawn, the pair's judgement back to ``unsure``."""
        check_role(caller, "editor", "undoing a merge")
        record = await current_record(self.store, "merge", merge_id, "merge_id")
        if record["status"] != "done":
            raise ConflictError(f"merge {merge_id} was undone already", field="merge_id")
        canonical, merged = str(record["canonical"]), str(record["merged"])
        counties = {
            str(record.get("region") or "")[:_COUNTY],
            str((record.get("merged_node") or {}).get("region_code") or "")[:_COUNTY],
        }
        if len(counties) > 1 or "" in counties:
            check_role(caller, "admin", "undoing a merge across counties")
        entries = await change_set_of(self.store, record)
        region = record.get("region")
        records = [
            {
                **new_record("merge", merge_id, "undone", region),
                **_kept(record),
                "undone_by": caller.name,
            },
            new_record("redirect", merged, "withdrawn", region, canonical=None, merge=merge_id),
            _identity(canonical, merged, "unsure", caller, record.get("item"), region),
        ]
        if record.get("item"):
            item = await current_record(self.store, "review", str(record["item"]), "item")
            records.append(
                _next(item, "unsure", decision={**(item.get("decision") or {}), "undone": merge_id})
            )
        result = await undo_change_set(
            self.store, entries, write_context(caller, "merge.undo", request_id), records
        )
        return {
            "merge_id": merge_id,
            "status": "undone",
            "canonical": canonical,
            "merged": merged,
            "history_recorded": result.history_recorded,
        }

    async def merges(self, cursor: str | None, limit: int) -> Page:
        page = await self.store.list_records(
            RecordQuery("merge", current=True, newest_first=True), cursor, limit
        )
        return Page([_merge_shown(r) for r in page.items], page.next_cursor)

    # ------------------------------------------------------------------ duplicate scan

    async def scan(
        self,
        view: GraphView,
        caller: Caller,
        region_code: str,
        label: str | None,
        threshold: float,
        request_id: str | None,
    ) -> dict[str, Any]:
        """Propose the likely duplicates among the nodes under ``region_code`` to the queue:
        pairs judged before (any way) or already queued are left out."""
        check_role(caller, "editor", "a duplicate scan")
        candidates, _ = await self.resolver.scope(view, region_code)
        if label is not None:
            candidates = [c for c in candidates if c.label == label]
        pairs = duplicate_pairs(candidates, threshold=threshold, limit=MAX_SCAN_PAIRS)
        keys = [pair_key(a.id, b.id) for a, b, _ in pairs]
        judged = await self.judged_pairs(keys)
        queued = await self.pending_pairs()
        items = []
        for (a, b, match), key in zip(pairs, keys, strict=True):
            if key in judged or key in queued:
                continue
            subject = {
                "a": match_json_node(a),
                "b": match_json_node(b),
                "match": match_json(match),
            }
            evidence = {"features": dict(match.features), "explanation": list(match.explanation)}
            region = _common_region(a.region_code, b.region_code) or region_code
            origin = {"source": "dedup", "region_code": region_code}
            items.append(review_item("duplicate", origin, subject, evidence, caller, region))
        if items:
            await self.store.write(
                WriteBatch(records=items, context=write_context(caller, "dedup.scan", request_id))
            )
        return {
            "region_code": region_code,
            "scanned": len(candidates),
            "pairs": len(pairs),
            "already_judged": sum(1 for k in keys if k in judged),
            "already_queued": sum(1 for k in keys if k in queued and k not in judged),
            "proposed": len(items),
            "items": [_shown(i) for i in items],
        }


async def redirects(store: GraphStore, ids: Sequence[str]) -> dict[str, str]:
    """Merged id → the canonical node it resolves to now (a chain of merges followed)."""
    found: dict[str, str] = {}
    pending = list(dict.fromkeys(ids))
    for _ in range(16):  # a chain of merges, never a cycle: bounded anyway
        records = await current_records(store, "redirect", pending)
        hops = {k: str(r["canonical"]) for k, r in records.items() if r.get("canonical")}
        if not hops:
            break
        for start in ids:
            end = found.get(start, start)
            if end in hops:
                found[start] = hops[end]
        pending = list(set(hops.values()))
    return found


def match_json_node(candidate: Any) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "name": candidate.name,
        "label": candidate.label,
        "kind": candidate.kind,
        "region_code": candidate.region_code,
        "aliases": list(candidate.aliases),
    }


def _common_region(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    for length in sorted(DIVISION_CODE_LENGTHS, reverse=True):
        if length <= common:
            return a[:length]
    return None


def _identity(
    a: str, b: str, decision: str, caller: Caller, item: str | None, region: str | None
) -> RecordDoc:
    return new_record(
        "identity",
        pair_key(a, b),
        decision,
        region,
        pair=sorted((a, b)),
        decision=decision,
        by=caller.name,
        item=item,
    )


def _next(record: RecordDoc, status: str, **changes: Any) -> RecordDoc:
    """The next version of ``record`` with ``status`` and ``changes``."""
    return {
        **_kept(record),
        **changes,
        **new_record(str(record["kind"]), str(record["key"]), status, record.get("region")),
    }


def _kept(record: RecordDoc) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("id", "at", "status", "kind", "key")}


def _shown(record: RecordDoc) -> dict[str, Any]:
    """A queue item as the API shows it."""
    return {
        "id": record["key"],
        "type": record.get("type"),
        "status": record["status"],
        "region_code": record.get("region"),
        "origin": record.get("origin"),
        "subject": record.get("subject"),
        "evidence": record.get("evidence"),
        "created_by": record.get("created_by"),
        "created_at": record.get("created_at"),
        "updated_at": record["at"],
        "decision": record.get("decision"),
    }


def _merge_shown(record: RecordDoc) -> dict[str, Any]:
    return {
        "merge_id": record["key"],
        "status": record["status"],
        "canonical": record.get("canonical"),
        "merged": record.get("merged"),
        "merged_name": (record.get("merged_node") or {}).get("name"),
        "by": record.get("by"),
        "at": record["at"],
        "links_moved": record.get("links_moved"),
        "links_combined": record.get("links_combined"),
        "item": record.get("item"),
    }


def _absorb(keep: NodeDoc, gone: NodeDoc) -> NodeDoc:
    """``keep`` with ``gone``'s names as aliases, its sources and figures added, and the
    attributes ``keep`` lacks."""
    names = [gone["name"], *(gone.get("aliases") or ())]
    aliases = list(keep.get("aliases") or ())
    for name in names:
        if name != keep["name"] and name not in aliases:
            aliases.append(name)
    doc = dict(keep)
    doc["aliases"] = aliases[:50]
    for key in ("sources", "figures"):
        combined = list(keep.get(key) or ())
        combined += [s for s in gone.get(key) or () if s not in combined]
        doc[key] = combined[:100] if key == "sources" else combined[:200]
    attributes = dict(gone.get("attributes") or {})
    attributes.update({k: v for k, v in (keep.get("attributes") or {}).items() if v is not None})
    doc["attributes"] = attributes
    for key in ("kind", "region_code", "valid_from", "valid_to"):
        if doc.get(key) is None and gone.get(key) is not None:
            doc[key] = gone[key]
    return doc


def _move_links(
    links: Sequence[LinkDoc], at_canonical: Sequence[LinkDoc], merged: str, canonical: str
) -> tuple[list[LinkDoc], list[LinkDoc], list[str]]:
    """The links of ``merged`` moved to ``canonical``: (new links, canonical's links that
    absorb a parallel one, ids to delete)."""
    existing: dict[tuple[str, str, str], LinkDoc] = {}
    for link in at_canonical:
        existing[_shape(link)] = link
    moved: dict[str, LinkDoc] = {}
    updated: dict[str, LinkDoc] = {}
    deleted: list[str] = []
    for link in links:
        deleted.append(link["id"])
        source = canonical if link["source"] == merged else link["source"]
        target = canonical if link["target"] == merged else link["target"]
        if source == target:  # a link between the pair itself
            continue
        new = {**link, "source": source, "target": target}
        shape = _shape(new)
        twin = existing.get(shape) or moved.get(derive_link_id(new["type"], source, target))
        if twin is not None:
            sources = list(twin.get("sources") or ())
            sources += [s for s in link.get("sources") or () if s not in sources]
            combined = {**twin, "sources": sources[:100]}
            (updated if twin["id"] in {x["id"] for x in at_canonical} else moved)[twin["id"]] = (
                combined
            )
            existing[shape] = combined
            continue
        new["id"] = derive_link_id(new["type"], source, target)
        if new["id"] in deleted:
            new["id"] = f"{new['id']}-{secrets.token_hex(3)}"
        moved[new["id"]] = new
        existing[shape] = new
    return list(moved.values()), list(updated.values()), deleted


def _shape(link: LinkDoc) -> tuple[str, str, str]:
    ends = (link["source"], link["target"])
    if LINK_TYPES[link["type"]].symmetric:
        ends = (min(ends), max(ends))
    return (link["type"], *ends)
