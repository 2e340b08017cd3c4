"""Graph operations as the API and CLI see them: validation, provenance stamps, redaction.

The service validates raw input against the registry's models (collecting every error with
its field), fills in provenance for writes that bring none, and hides sensitive labels from
anonymous readers. It talks to any ``GraphStore``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from graph_service.errors import ConflictError, InvalidInputError, NotFoundError
from graph_service.models import (
    LINK_ADAPTER,
    NODE_ADAPTER,
    LinkDoc,
    NodeDoc,
    error_list,
    link_doc,
    node_doc,
)
from graph_service.schema import LINK_TYPES, NODE_LABELS
from graph_service.store.protocol import (
    CoverageReport,
    GraphPath,
    GraphStore,
    LinkQuery,
    NeighbourhoodQuery,
    NodeQuery,
    Page,
    PathQuery,
    SearchHit,
    Subgraph,
    WriteBatch,
    WriteResult,
)

__all__ = ["ANONYMOUS", "SENSITIVE_LABELS", "Caller", "GraphService"]

SENSITIVE_LABELS = frozenset(label for label, spec in NODE_LABELS.items() if spec.sensitive)
SENSITIVE_LINK_TYPES = frozenset(
    t for t, spec in LINK_TYPES.items() if spec.sources <= SENSITIVE_LABELS
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: an authenticated key holder sees sensitive data."""

    authenticated: bool = False
    name: str = "anonymous"


ANONYMOUS = Caller()


def _visible_node(doc: NodeDoc, caller: Caller) -> bool:
    return caller.authenticated or doc["label"] not in SENSITIVE_LABELS


def _visible_link(doc: LinkDoc, caller: Caller, hidden_nodes: set[str] | None = None) -> bool:
    if caller.authenticated:
        return True
    if doc["type"] in SENSITIVE_LINK_TYPES:
        return False
    return not hidden_nodes or (
        doc["source"] not in hidden_nodes and doc["target"] not in hidden_nodes
    )


class GraphService:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _stamp(raw: Mapping[str, Any], caller: Caller, kind: str) -> dict[str, Any]:
        data = dict(raw)
        if not data.get("sources"):
            data["sources"] = [
                {
                    "kind": kind,
                    "by": caller.name,
                    "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
                }
            ]
        return data

    def validate_nodes(
        self,
        raws: Sequence[Any],
        caller: Caller,
        field: str | None = "nodes",
        source_kind: str = "api",
    ) -> list[NodeDoc]:
        """Validate nodes; errors name ``nodes.3.region_code`` (``region_code`` when
        ``field`` is ``None``: a single body)."""
        return self._validate(raws, caller, field, source_kind, NODE_ADAPTER, node_doc)

    def validate_links(
        self,
        raws: Sequence[Any],
        caller: Caller,
        field: str | None = "links",
        source_kind: str = "api",
    ) -> list[LinkDoc]:
        """Validate links; errors are named as in ``validate_nodes``."""
        return self._validate(raws, caller, field, source_kind, LINK_ADAPTER, link_doc)

    def _validate(
        self,
        raws: Sequence[Any],
        caller: Caller,
        field: str | None,
        source_kind: str,
        adapter: Any,
        to_doc: Callable[[Any], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        docs, errors = [], []
        for index, raw in enumerate(raws):
            prefix: tuple[str | int, ...] = (field, index) if field is not None else ()
            if not isinstance(raw, Mapping):
                where = ".".join(map(str, prefix)) or None
                errors.append({"field": where, "message": "must be an object"})
                continue
            try:
                docs.append(to_doc(adapter.validate_python(self._stamp(raw, caller, source_kind))))
            except ValidationError as exc:
                errors += error_list(exc, prefix)
        _raise_if(errors)
        return docs

    # ------------------------------------------------------------------ writes

    async def write(
        self,
        caller: Caller,
        nodes: Sequence[Any] = (),
        links: Sequence[Any] = (),
        delete_links: Sequence[str] = (),
        delete_nodes: Sequence[str] = (),
        detach: bool = False,
    ) -> WriteResult:
        batch = WriteBatch(
            nodes=self.validate_nodes(nodes, caller),
            links=self.validate_links(links, caller),
            delete_links=list(delete_links),
            delete_nodes=list(delete_nodes),
            detach=detach,
        )
        return await self.store.write(batch)

    async def create_node(self, caller: Caller, raw: Any) -> NodeDoc:
        return await self._create("node", caller, raw)

    async def put_node(self, caller: Caller, node_id: str, raw: Any) -> tuple[NodeDoc, bool]:
        return await self._put("node", caller, node_id, raw)

    async def create_link(self, caller: Caller, raw: Any) -> LinkDoc:
        return await self._create("link", caller, raw)

    async def put_link(self, caller: Caller, link_id: str, raw: Any) -> tuple[LinkDoc, bool]:
        return await self._put("link", caller, link_id, raw)

    def _validate_one(self, what: str, caller: Caller, raw: Any) -> dict[str, Any]:
        validate = self.validate_nodes if what == "node" else self.validate_links
        (doc,) = validate([raw], caller, field=None)
        return doc

    async def _create(self, what: str, caller: Caller, raw: Any) -> dict[str, Any]:
        doc = self._validate_one(what, caller, raw)
        get = self.store.get_nodes if what == "node" else self.store.get_links
        if await get([doc["id"]]):
            raise ConflictError(f"{what} {doc['id']} exists; PUT replaces it", field="id")
        await self._write_one(what, doc)
        return doc

    async def _put(
        self, what: str, caller: Caller, item_id: str, raw: Any
    ) -> tuple[dict[str, Any], bool]:
        if isinstance(raw, Mapping) and raw.get("id", item_id) != item_id:
            raise InvalidInputError("id in the body differs from the path", field="id")
        raw = {**raw, "id": item_id} if isinstance(raw, Mapping) else raw
        doc = self._validate_one(what, caller, raw)
        result = await self._write_one(what, doc)
        created = result.nodes_created if what == "node" else result.links_created
        return doc, created == 1

    async def _write_one(self, what: str, doc: dict[str, Any]) -> WriteResult:
        batch = WriteBatch(nodes=[doc]) if what == "node" else WriteBatch(links=[doc])
        try:
            return await self.store.write(batch)
        except (ConflictError, InvalidInputError, NotFoundError) as exc:
            raise _single(exc) from exc

    async def delete_node(self, node_id: str, detach: bool = False) -> WriteResult:
        try:
            return await self.store.write(WriteBatch(delete_nodes=[node_id], detach=detach))
        except (ConflictError, NotFoundError) as exc:
            raise type(exc)(exc.message, field="id", details=exc.details) from exc

    async def delete_link(self, link_id: str) -> WriteResult:
        try:
            return await self.store.write(WriteBatch(delete_links=[link_id]))
        except NotFoundError as exc:
            raise NotFoundError(exc.message, field="id") from exc

    # ------------------------------------------------------------------ reads

    async def get_node(self, caller: Caller, node_id: str, as_of: dt.date | None = None) -> NodeDoc:
        doc = (await self.store.get_nodes([node_id], as_of)).get(node_id)
        if doc is None or not _visible_node(doc, caller):
            raise NotFoundError(
                f"no node {node_id}" + (f" on {as_of}" if as_of else ""), field="id"
            )
        return doc

    async def get_link(self, caller: Caller, link_id: str, as_of: dt.date | None = None) -> LinkDoc:
        doc = (await self.store.get_links([link_id], as_of)).get(link_id)
        if doc is None or not _visible_link(doc, caller):
            raise NotFoundError(
                f"no link {link_id}" + (f" on {as_of}" if as_of else ""), field="id"
            )
        if not caller.authenticated:
            ends = await self.store.get_nodes([doc["source"], doc["target"]])
            if any(not _visible_node(n, caller) for n in ends.values()):
                raise NotFoundError(f"no link {link_id}", field="id")
        return doc

    async def list_nodes(
        self, caller: Caller, query: NodeQuery, cursor: str | None, limit: int
    ) -> Page:
        if not caller.authenticated:
            labels = _visible_only(query.labels, NODE_LABELS, SENSITIVE_LABELS)
            if not labels:
                return Page([], None)
            query = NodeQuery(labels, query.kinds, query.region_code, query.as_of)
        return await self.store.list_nodes(query, cursor, limit)

    async def list_links(
        self, caller: Caller, query: LinkQuery, cursor: str | None, limit: int
    ) -> Page:
        if caller.authenticated:
            return await self.store.list_links(query, cursor, limit)
        types = _visible_only(query.types, LINK_TYPES, SENSITIVE_LINK_TYPES)
        if not types:
            return Page([], None)
        page = await self.store.list_links(
            LinkQuery(types, query.source, query.target, query.node, query.as_of), cursor, limit
        )
        # A link of a visible type may still end at a hidden node (a person in a program).
        ends = await self.store.get_nodes(
            sorted({e for link in page.items for e in (link["source"], link["target"])})
        )
        hidden = {i for i, doc in ends.items() if not _visible_node(doc, caller)}
        items = [
            lk for lk in page.items if lk["source"] not in hidden and lk["target"] not in hidden
        ]
        return Page(items, page.next_cursor)

    async def search(
        self,
        caller: Caller,
        text: str,
        labels: Sequence[str] = (),
        limit: int = 20,
        as_of: dt.date | None = None,
    ) -> list[SearchHit]:
        if not caller.authenticated:
            labels = _visible_only(labels, NODE_LABELS, SENSITIVE_LABELS)
            if not labels:
                return []
        return await self.store.search(text, labels, limit, as_of)

    async def neighbourhood(self, caller: Caller, query: NeighbourhoodQuery) -> Subgraph:
        if caller.authenticated:
            return await self.store.neighbourhood(query)
        await self.get_node(caller, query.node_id, query.as_of)  # a hidden centre is a 404
        labels = _visible_only(query.node_labels, NODE_LABELS, SENSITIVE_LABELS)
        types = _visible_only(query.link_types, LINK_TYPES, SENSITIVE_LINK_TYPES)
        depth = query.depth if labels and types else 0
        return await self.store.neighbourhood(
            NeighbourhoodQuery(
                node_id=query.node_id,
                depth=depth,
                link_types=types,
                node_labels=labels,
                direction=query.direction,
                limit=query.limit,
                as_of=query.as_of,
            )
        )

    async def shortest_paths(
        self, caller: Caller, query: PathQuery
    ) -> tuple[list[GraphPath], Subgraph]:
        for field, node_id in (("source", query.source), ("target", query.target)):
            try:
                await self.get_node(caller, node_id, query.as_of)
            except NotFoundError as exc:
                raise NotFoundError(exc.message, field=field) from exc
        paths = await self.store.shortest_paths(query)
        if not caller.authenticated:
            # Paths through hidden nodes are dropped rather than shown with holes.
            nodes = await self.store.get_nodes(sorted({n for p in paths for n in p.node_ids}))
            hidden = {i for i, doc in nodes.items() if not _visible_node(doc, caller)}
            paths = [p for p in paths if not hidden.intersection(p.node_ids)]
        node_ids = sorted({n for p in paths for n in p.node_ids})
        link_ids = sorted({link for p in paths for link in p.link_ids})
        nodes = await self.store.get_nodes(node_ids)
        links = await self.store.get_links(link_ids)
        return paths, Subgraph(list(nodes.values()), list(links.values()))

    async def coverage(self, region_code: str, as_of: dt.date | None = None) -> CoverageReport:
        return await self.store.coverage(region_code, as_of)

    async def region_summary(self, caller: Caller, region_code: str) -> dict[str, Any]:
        region = await self.get_node(caller, f"region:{region_code}")
        if region["label"] != "Region":
            raise NotFoundError(f"no region with code {region_code}", field="code")
        children = await self.store.list_nodes(
            NodeQuery(labels=["Region"], region_code=region_code), None, 10_000
        )
        child_len = {2: 4, 4: 6, 6: 9}.get(len(region_code))
        counts = await self.store.count_nodes(NodeQuery(region_code=region_code))
        if not caller.authenticated:
            counts = {k: v for k, v in counts.items() if k not in SENSITIVE_LABELS}
        parent = None
        if len(region_code) > 2:
            parent_code = region_code[: {4: 2, 6: 4, 9: 6}[len(region_code)]]
            parent = (await self.store.get_nodes([f"region:{parent_code}"])).get(
                f"region:{parent_code}"
            )
        return {
            "region": region,
            "parent": parent,
            "children": [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "kind": c["kind"],
                    "region_code": c["region_code"],
                }
                for c in children.items
                if child_len is not None and len(c["region_code"]) == child_len
            ],
            "nodes_by_label": counts,
        }

    def redact_subgraph(self, subgraph: Subgraph, caller: Caller) -> Subgraph:
        if caller.authenticated:
            return subgraph
        hidden = {n["id"] for n in subgraph.nodes if not _visible_node(n, caller)}
        return Subgraph(
            [n for n in subgraph.nodes if n["id"] not in hidden],
            [link for link in subgraph.links if _visible_link(link, caller, hidden)],
            subgraph.truncated,
        )


def _visible_only(
    requested: Sequence[str], every: Mapping[str, Any], hidden: frozenset[str]
) -> list[str]:
    """The requested names (all of them when none are requested) less the hidden ones.

    An empty answer means "nothing may be seen", never "no filter".
    """
    return [name for name in (requested or every) if name not in hidden]


def _raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        first = errors[0]
        raise InvalidInputError(
            f"{len(errors)} invalid field(s): {first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )


def _single(exc: ConflictError | InvalidInputError | NotFoundError) -> Exception:
    """Re-point a batch error (``nodes.0.label``) at the single-item body (``label``)."""
    field = exc.field
    if field and field.split(".", 2)[0] in ("nodes", "links"):
        parts = field.split(".", 2)
        field = parts[2] if len(parts) == 3 else None
    return type(exc)(exc.message, field=field, details=exc.details)
