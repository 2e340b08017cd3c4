"""The edit history as people read it, and restores to an earlier version.

Every write journals what it changed in its own transaction (``graph_service.store.batch``):
one entry per changed entity, with the account, the UTC transaction time, the request, the
operation and the whole document before and after. This module reads those entries for a
caller and shows each with its ``changes`` (:func:`changes`: the before and after of every
field that differs, attributes one by one).

Who sees what. The history of the graph (nodes, links) and of judgements is read like the
graph itself: by anyone who may read, through the caller's
:class:`~graph_service.services.view.GraphView` policy. For the public, entries of personal
nodes (people) and personal links are left out, a person's history answers as an unknown
node's does, personal attributes are dropped from ``before``/``after`` (so from ``changes``)
and people's names are masked in text. Entries of accounts and keys describe who may change
the service, not the graph: admins only. The accounts that made changes (departments) are
shown to everyone.

Restores (admins): a node or link is written back to what it was after a history entry
(``version``) or at a moment (``recorded_as_of``), as one write recorded in the history with
operation ``restore``. The document is restored exactly as it was (its sources included): the
history entry of the restore says who restored it and when. A node deleted with its links
(``detach``) comes back alone unless ``links`` is asked for: then the links its deletion
removed come back too, those that do not exist again since.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from pydantic import ValidationError

from graph_service.access import check_role
from graph_service.domain import MAX_PAGE
from graph_service.errors import ConflictError, InvalidInputError, NotFoundError
from graph_service.models import (
    ID_PATTERN,
    LINK_ADAPTER,
    NODE_ADAPTER,
    error_list,
    link_doc,
    node_doc,
)
from graph_service.schema import LINK_TYPES
from graph_service.search_text import clean
from graph_service.services.graph import write_context
from graph_service.services.references import resolve_node
from graph_service.services.view import GraphView
from graph_service.store.protocol import (
    GraphStore,
    HistoryDoc,
    HistoryQuery,
    Page,
    WriteBatch,
)
from graph_service.visibility import Caller, Visibility

__all__ = [
    "ACCESS_ENTITIES",
    "Entity",
    "HistoryService",
    "changes",
    "check_recorded_time",
    "first_recorded",
    "parse_recorded_time",
    "recorded_time",
    "resolve_history_node",
    "state_at",
]

Entity = Literal["node", "link"]
#: Entities whose entries only admins read: who may change the service, not the graph.
ACCESS_ENTITIES: Final[frozenset[str]] = frozenset({"account", "key"})
#: The fields of an entry shown as they are (``before``, ``after`` and ``changes`` follow).
_ENTRY_FIELDS: Final[tuple[str, ...]] = (
    "id",
    "at",
    "account",
    "request_id",
    "operation",
    "entity",
    "entity_id",
    "action",
    "regions",
)
#: A history entry id begins with its transaction time (``batch.Journal``):
#: ``h20250601T081500123456Z-…`` was recorded at ``2025-06-01T08:15:00.123456Z``.
_ENTRY_TIME = re.compile(r"^h(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{6})Z-")
_ID = re.compile(ID_PATTERN)


# ---------------------------------------------------------------------------------- time


def recorded_time(moment: dt.datetime, field: str) -> str:
    """``moment`` in the history's stored form (UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``).

    A moment without a time zone is refused (422 naming ``field``): the history is kept in
    UTC and a bare local time could mean any of them.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInputError(
            f"{field} needs a time zone (2025-06-01T08:00:00+08:00 or …Z)", field=field
        )
    try:
        utc = moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise InvalidInputError(f"{field} is out of range", field=field) from exc
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_recorded_time(text: str, field: str) -> str:
    """:func:`recorded_time` of an ISO 8601 timestamp given as text (the CLI's options)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInputError(
            f"{field} is a timestamp with a time zone (2025-06-01T08:00:00+08:00), not {text!r}",
            field=field,
        ) from exc
    return recorded_time(moment, field)


def _now() -> str:
    return recorded_time(dt.datetime.now(dt.UTC), "now")


async def first_recorded(store: GraphStore) -> str | None:
    """When the history began: the time of the store's first entry (``None``: no entry)."""
    page = await store.list_history(HistoryQuery(), None, 1)
    return str(page.items[0]["at"]) if page.items else None


async def check_recorded_time(store: GraphStore, at: str, field: str = "recorded_as_of") -> None:
    """Refuse a record time the history cannot answer for (422 naming ``field``): one before
    the store's first entry (what was stored before the history began was never recorded)
    or one still to come."""
    began = await first_recorded(store)
    if began is None:
        raise InvalidInputError(f"{field}: this store has recorded no history yet", field=field)
    if at < began:
        raise InvalidInputError(
            f"{field} {at} is before the history began ({began}): record-time reads reach "
            "back to the store's first history entry",
            field=field,
            details={"history_began": began},
        )
    if at > _now():
        raise InvalidInputError(f"{field} {at} is still to come", field=field)


async def state_at(store: GraphStore, entity: Entity, entity_id: str, at: str) -> Any:
    """The document of a node or link as stored at ``at`` (``None``: there was none): the
    ``before`` of its first entry after ``at``, or what is stored now when nothing changed
    it since."""
    cursor: str | None = None
    query = HistoryQuery(entity=entity, entity_id=entity_id, since=at)
    while True:
        page = await store.list_history(query, cursor, MAX_PAGE)
        for entry in page.items:
            if entry["at"] > at:
                return entry["before"]
        cursor = page.next_cursor
        if cursor is None:
            break
    get = store.get_nodes if entity == "node" else store.get_links
    return (await get([entity_id])).get(entity_id)


# ------------------------------------------------------------------------------- changes


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Any]:
    """The fields that differ between two versions of a document, in the order the newer
    one lists them: ``{"field", "before", "after"}`` each, ``None`` for a field absent on one
    side. ``attributes`` are compared one by one (``attributes.collective_income_yuan``);
    the other fields whole (a source list that gained a record is one change)."""
    old, new = before or {}, after or {}
    found: list[Any] = []
    for key in dict.fromkeys([*new, *old]):
        was, now = old.get(key), new.get(key)
        if (
            key == "attributes"
            and isinstance(was or {}, Mapping)
            and isinstance(now or {}, Mapping)
        ):
            was, now = was or {}, now or {}
            for name in dict.fromkeys([*now, *was]):
                if was.get(name) != now.get(name):
                    found.append(
                        {
                            "field": f"attributes.{name}",
                            "before": was.get(name),
                            "after": now.get(name),
                        }
                    )
        elif was != now:
            found.append({"field": key, "before": was, "after": now})
    return found


def _shown(entry: HistoryDoc, before: Any, after: Any) -> dict[str, Any]:
    return {
        **{name: entry.get(name) for name in _ENTRY_FIELDS},
        "before": before,
        "after": after,
        "changes": changes(before, after),
    }


def _redacted(policy: Visibility, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A node or link version as ``policy``'s audience sees it.

    ``Visibility.doc`` keeps one redaction per (label, id) for a store version: right for the
    stored document, wrong for an older version of it. A document without its id is
    redacted afresh; the id goes back on after.
    """
    bare = {k: v for k, v in doc.items() if k != "id"}
    redacted = policy.doc(bare)
    return {"id": doc["id"], **redacted} if "id" in doc else redacted


async def resolve_history_node(view: GraphView, reference: str, field: str = "id") -> str:
    """The node a history route names, as the node routes resolve it (id, division code or a
    name only one node has); a node deleted since is still known to its history by its id."""
    try:
        return await resolve_node(view, reference, field)
    except NotFoundError:
        text = clean(reference)
        if _ID.fullmatch(text):
            return text
        raise


# ------------------------------------------------------------------------------ service


class HistoryService:
    """The history as one caller's view may read it, and restores (admins)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    # ------------------------------------------------------------------ reads

    async def page(
        self, view: GraphView, query: HistoryQuery, cursor: str | None, limit: int
    ) -> Page:
        """A page of entries matching ``query``, as the caller may see them (hidden ones are
        left out: a page may hold fewer than ``limit`` and still have a next one)."""
        named = query.entity_id is not None and query.entity in ("node", "link")
        if named and await self._entity_hidden(view, str(query.entity), str(query.entity_id)):
            # As for an id nothing was recorded of: no page, not even a cursor.
            return Page([], None)
        page = await self.store.list_history(query, cursor, limit)
        return Page(await self._visible(view, page.items), page.next_cursor)

    async def entity_page(
        self, view: GraphView, entity: Entity, entity_id: str, cursor: str | None, limit: int
    ) -> Page:
        """The entries of one node or link, newest first. A node or link nothing was
        recorded of and that is not stored, or one the caller may not see, is a 404."""
        missing = NotFoundError(f"no {entity} {entity_id}", field="id")
        if await self._entity_hidden(view, entity, entity_id):
            raise missing
        query = HistoryQuery(entity=entity, entity_id=entity_id, newest_first=True)
        page = await self.store.list_history(query, cursor, limit)
        if not page.items and cursor is None and await self._stored(entity, entity_id) is None:
            raise missing
        return Page(await self._visible(view, page.items), page.next_cursor)

    async def _visible(self, view: GraphView, entries: Sequence[HistoryDoc]) -> list[Any]:
        """``entries`` as the caller may see them (see the module docstring), with their
        changes."""
        policy = await view.policy()
        if not view.caller.is_admin:
            entries = [e for e in entries if e["entity"] not in ACCESS_ENTITIES]
        if policy.full:
            return [_shown(e, e["before"], e["after"]) for e in entries]
        hidden = await self._hidden_nodes(policy, entries)
        shown = []
        for entry in entries:
            if not _hides(policy, entry, hidden):
                entity = entry["entity"]
                before = _public_version(policy, entity, entry["before"])
                shown.append(_shown(entry, before, _public_version(policy, entity, entry["after"])))
        return shown

    async def _hidden_nodes(self, policy: Visibility, entries: Sequence[HistoryDoc]) -> set[str]:
        """The nodes ``policy`` hides among the ends of the links and judgements of
        ``entries`` (only ends a link's type allows a hidden label at are looked up)."""
        ends: set[str] = set()
        for entry in entries:
            for doc in (entry["before"], entry["after"]):
                if doc is None:
                    continue
                if entry["entity"] == "judgement":
                    ends.update(str(doc[end]) for end in ("target", "partner") if doc.get(end))
                elif entry["entity"] == "link" and _may_end_hidden(policy, doc.get("type")):
                    ends.update((doc["source"], doc["target"]))
        labels = await self._labels(sorted(ends))
        return {i for i, label in labels.items() if not policy.node_visible({"label": label})}

    async def _labels(self, node_ids: Sequence[str]) -> dict[str, str]:
        """The label of each node: as stored, or as last recorded for one deleted since."""
        found = {i: str(d["label"]) for i, d in (await self.store.get_nodes(node_ids)).items()}
        for node_id in node_ids:
            if node_id not in found:
                last = await self._last_recorded("node", node_id)
                if last is not None:
                    found[node_id] = str(last["label"])
        return found

    async def _last_version(self, entity: Entity, entity_id: str) -> dict[str, Any] | None:
        """The document as stored, or as last recorded (a deleted one)."""
        stored = await self._stored(entity, entity_id)
        return stored if stored is not None else await self._last_recorded(entity, entity_id)

    async def _last_recorded(self, entity: Entity, entity_id: str) -> dict[str, Any] | None:
        """The document as its latest entry left it, or before it when that deleted it."""
        query = HistoryQuery(entity=entity, entity_id=entity_id, newest_first=True)
        page = await self.store.list_history(query, None, 1)
        if not page.items:
            return None
        last = page.items[0]
        doc: dict[str, Any] | None = last["after"] or last["before"]
        return doc

    async def _stored(self, entity: Entity, entity_id: str) -> dict[str, Any] | None:
        get = self.store.get_nodes if entity == "node" else self.store.get_links
        doc: dict[str, Any] | None = (await get([entity_id])).get(entity_id)
        return doc

    async def _entity_hidden(self, view: GraphView, entity: str, entity_id: str) -> bool:
        """Whether the caller may not see this node or link (a person, a person's link)."""
        policy = await view.policy()
        if policy.full or entity not in ("node", "link"):
            return False
        kind: Entity = "node" if entity == "node" else "link"
        doc = await self._last_version(kind, entity_id)
        if doc is None:
            return False
        if kind == "node":
            return not policy.node_visible(doc)
        if not policy.link_visible(doc):
            return True
        if not _may_end_hidden(policy, doc.get("type")):
            return False
        labels = await self._labels([doc["source"], doc["target"]])
        return not all(policy.node_visible({"label": label}) for label in labels.values())

    # ------------------------------------------------------------------ restores

    async def restore(
        self,
        caller: Caller,
        entity: Entity,
        entity_id: str,
        version: str | None = None,
        recorded_as_of: str | None = None,
        links: bool = False,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Write a node or link back to what it was after the entry ``version`` (or at the
        moment ``recorded_as_of``, stored form); see the module docstring.

        Returns ``entity``, ``id``, ``version``, ``recorded_as_of``, ``created`` (it was
        deleted), ``changed`` (something was written), ``document``, ``links`` (those
        restored with a node) and ``store_version``.

        Raises
        ------
        NotFoundError
            ``version`` names no history entry.
        InvalidInputError
            ``version`` records another entity or a deletion; neither or both of
            ``version`` and ``recorded_as_of``; the entity did not exist then.
        ConflictError
            An end of the link (or of a link restored with a node) does not exist now.
        """
        check_role(caller, "admin", f"restoring a {entity}")
        target = await self._target(entity, entity_id, version, recorded_as_of)
        stored = await self._stored(entity, entity_id)
        restored_links: list[dict[str, Any]] = []
        if entity == "link":
            await self._check_ends(target, entity_id, "version" if version else "recorded_as_of")
        elif links and stored is None:
            restored_links = await self._deleted_with(entity_id)
            for link in restored_links:
                await self._check_ends(link, link["id"], "links", restoring=entity_id)
        changed = target != stored or bool(restored_links)
        store_version = await self.store.version()
        if changed:
            nodes = [target] if entity == "node" else []
            batch = WriteBatch(
                nodes=nodes,
                links=[target] if entity == "link" else restored_links,
                context=write_context(caller, "restore", request_id),
            )
            try:
                store_version = (await self.store.write(batch)).version
            except (ConflictError, NotFoundError, InvalidInputError) as exc:
                field = "version" if version else "recorded_as_of"
                raise type(exc)(
                    exc.message, field=field, code=exc.code, details=exc.details
                ) from exc
        return {
            "entity": entity,
            "id": entity_id,
            "version": version,
            "recorded_as_of": recorded_as_of,
            "created": stored is None,
            "changed": changed,
            "document": target,
            "links": restored_links,
            "store_version": store_version,
        }

    async def _target(
        self, entity: Entity, entity_id: str, version: str | None, recorded_as_of: str | None
    ) -> dict[str, Any]:
        """The document to write back, validated against today's registry."""
        if (version is None) == (recorded_as_of is None):
            raise InvalidInputError(
                "give version (a history entry id) or recorded_as_of (a moment), one of them",
                field="version",
            )
        if version is not None:
            field = "version"
            entry = await self._version_entry(entity, entity_id, version)
            doc = entry["after"]
            if doc is None:
                raise InvalidInputError(
                    f"version {version} records the deletion of {entity} {entity_id}: "
                    "restore a version it existed in (or delete it)",
                    field=field,
                )
        else:
            assert recorded_as_of is not None  # one of the two, checked above
            field = "recorded_as_of"
            await check_recorded_time(self.store, recorded_as_of, field)
            doc = await state_at(self.store, entity, entity_id, recorded_as_of)
            if doc is None:
                raise InvalidInputError(
                    f"{entity} {entity_id} was not stored at {recorded_as_of}", field=field
                )
        adapter, to_doc = (NODE_ADAPTER, node_doc) if entity == "node" else (LINK_ADAPTER, link_doc)
        try:
            valid: dict[str, Any] = to_doc(adapter.validate_python(doc))
        except ValidationError as exc:
            errors = error_list(exc, (field,))
            raise InvalidInputError(
                f"the {entity} as it was then is not valid today: {errors[0]['message']}",
                field=field,
                errors=errors,
            ) from exc
        return valid

    async def _version_entry(self, entity: Entity, entity_id: str, version: str) -> HistoryDoc:
        """The entry ``version`` of this entity (its own entries are read newest first)."""
        query = HistoryQuery(entity=entity, entity_id=entity_id, newest_first=True)
        found = await self._find(query, version)
        if found is not None:
            return found
        other = await self._entry(version)
        if other is not None:
            raise InvalidInputError(
                f"version {version} records {other['entity']} {other['entity_id']}, "
                f"not {entity} {entity_id}",
                field="version",
            )
        raise NotFoundError(f"no history entry {version}", field="version")

    async def _entry(self, entry_id: str) -> HistoryDoc | None:
        """Any entry by its id, among those of its transaction time."""
        match = _ENTRY_TIME.match(entry_id)
        if match is None:
            return None
        year, month, day, hour, minute, second, micro = match.groups()
        at = f"{year}-{month}-{day}T{hour}:{minute}:{second}.{micro}Z"
        return await self._find(HistoryQuery(since=at, until=at), entry_id)

    async def _find(self, query: HistoryQuery, entry_id: str) -> HistoryDoc | None:
        """The entry ``entry_id`` among those ``query`` selects, page by page."""
        cursor: str | None = None
        while True:
            page = await self.store.list_history(query, cursor, MAX_PAGE)
            for entry in page.items:
                if entry["id"] == entry_id:
                    return entry
            cursor = page.next_cursor
            if cursor is None:
                return None

    async def _deleted_with(self, node_id: str) -> list[dict[str, Any]]:
        """The links the node's last deletion removed (its ``detach``), as they were then,
        but for those stored again since."""
        query = HistoryQuery(entity="node", entity_id=node_id, newest_first=True)
        last = (await self.store.list_history(query, None, 1)).items
        if not last or last[0]["action"] != "delete":
            return []
        deletion = last[0]
        # The entries of one transaction share its time, account, request and operation.
        same = ("at", "account", "request_id", "operation")
        links: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        at = deletion["at"]
        while True:
            page = await self.store.list_history(
                HistoryQuery(entity="link", since=at, until=at), cursor, MAX_PAGE
            )
            for entry in page.items:
                before = entry["before"]
                if (
                    entry["action"] == "delete"
                    and all(entry[k] == deletion[k] for k in same)
                    and node_id in (before["source"], before["target"])
                ):
                    links[entry["entity_id"]] = before
            cursor = page.next_cursor
            if cursor is None:
                break
        again = await self.store.get_links(sorted(links))
        return [
            link_doc(LINK_ADAPTER.validate_python(links[i]))
            for i in sorted(links)
            if i not in again
        ]

    async def _check_ends(
        self,
        link: Mapping[str, Any],
        link_id: str,
        field: str,
        restoring: str | None = None,
    ) -> None:
        """409 when an end of ``link`` is not stored now (``restoring`` comes back with it)."""
        ends = [link["source"], link["target"]]
        stored = await self.store.get_nodes([e for e in ends if e != restoring])
        for name, end in zip(("source", "target"), ends, strict=True):
            if end != restoring and end not in stored:
                raise ConflictError(
                    f"link {link_id} ends at node {end} ({name}), which is not stored now: "
                    "restore that node first",
                    field=field,
                    details={"link": link_id, "end": name, "node": end},
                )


def _hides(policy: Visibility, entry: HistoryDoc, hidden: set[str]) -> bool:
    """Whether ``policy`` leaves the entry out: a hidden node's, a hidden link's (of a
    personal type, or at a hidden node), a judgement of a hidden node."""
    versions = [d for d in (entry["before"], entry["after"]) if d is not None]
    entity = entry["entity"]
    if entity == "node":
        return not all(policy.node_visible(d) for d in versions)
    if entity == "link":
        return not all(policy.link_visible(d, hidden) for d in versions)
    if entity == "judgement":
        return any(d.get(end) in hidden for d in versions for end in ("target", "partner"))
    # Records (review items, imports, merges) carry rows and proposals as people typed them,
    # personal fields among them: only callers who see personal data see their history.
    return bool(entity == "record")


def _public_version(policy: Visibility, entity: str, doc: Mapping[str, Any] | None) -> Any:
    """One side of an entry as ``policy``'s audience sees it."""
    if doc is None:
        return None
    if entity in ("node", "link"):
        return _redacted(policy, doc)
    if entity == "judgement":
        return policy.judgement(doc)
    return doc


def _may_end_hidden(policy: Visibility, link_type: Any) -> bool:
    """Whether a link of this type may end at a node ``policy`` hides (so its ends need a
    look)."""
    spec = LINK_TYPES.get(str(link_type))
    if spec is None:
        return True
    return not all(policy.node_visible({"label": label}) for label in spec.sources | spec.targets)
