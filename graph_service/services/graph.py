"""Writes to the graph as the API and CLI make them: validation and provenance stamps.

The service validates raw input against the registry's models (collecting every error with
its field) and fills in provenance for writes that bring none. It talks to any
``GraphStore``. Reads go through ``graph_service.services.view.GraphView``, which knows the
caller and what it may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
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
from graph_service.store.protocol import GraphStore, WriteBatch, WriteResult
from graph_service.visibility import Caller

__all__ = ["GraphService"]


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
