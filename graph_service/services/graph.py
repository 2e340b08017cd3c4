"""Writes to the graph as the API and CLI make them: validation, attested provenance, and
the context the edit history records.

The service validates raw input against the registry's models (collecting every error with
its field). Provenance is the server's to attest (:meth:`GraphService.attest`): who and when
come from the account and the clock, never from the body; an ``article`` source's quote must
occur in its document; an update keeps the sources it does not change and adds its own
record. Every write carries a ``WriteContext`` (:func:`write_context`): the account, its
region scope and the request, which the store checks and journals in the transaction.
Reads go through ``graph_service.services.view.GraphView``, which knows the caller and what
it may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from graph_service.access import SYSTEM
from graph_service.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from graph_service.models import (
    LINK_ADAPTER,
    NODE_ADAPTER,
    LinkDoc,
    NodeDoc,
    error_list,
    link_doc,
    node_doc,
)
from graph_service.services.documents import SourceDocuments
from graph_service.store.protocol import GraphStore, WriteBatch, WriteContext, WriteResult
from graph_service.visibility import Caller

__all__ = ["GraphService", "write_context"]

#: Fields of a source only the server writes.
_ATTESTED = ("by", "recorded_at")


def write_context(caller: Caller, operation: str, request_id: str | None = None) -> WriteContext:
    """The history's record of who writes, and the region it may write in (everywhere for
    an admin: ``None``)."""
    scope = None if caller.is_admin else caller.write_scope
    return WriteContext(
        account=caller.name, operation=operation, request_id=request_id, scope=scope
    )


class GraphService:
    def __init__(self, store: GraphStore, documents: SourceDocuments | None = None) -> None:
        self.store = store
        self.documents = documents

    # ------------------------------------------------------------------ provenance

    def attest(
        self,
        raw: Any,
        caller: Caller,
        stored: Mapping[str, Any] | None,
        field: str | None,
        operation: str,
    ) -> Any:
        """``raw`` with the provenance the server attests (see the module docstring).

        Sources sent back exactly as stored are kept as they are; new ones may not carry
        ``by`` or ``recorded_at`` and are stamped with the account and the time; the write
        adds one record of its own (kind ``api``). Errors name ``sources.N.<field>``.
        """
        if not isinstance(raw, Mapping):
            return raw
        prefix = f"{field}." if field else ""
        sent = raw.get("sources") or []
        if not isinstance(sent, list):
            return raw  # the model refuses it, naming the field
        kept: list[Any] = list((stored or {}).get("sources") or [])
        now = dt.datetime.now(dt.UTC).isoformat()
        errors: list[dict[str, Any]] = []
        for index, source in enumerate(sent):
            if source in kept or not isinstance(source, Mapping):
                if not isinstance(source, Mapping):
                    kept.append(source)  # the model refuses it, naming the field
                continue
            where = f"{prefix}sources.{index}"
            errors += self._source_problems(source, where)
            kept.append({**source, "by": caller.name, "recorded_at": now})
        _raise_if(errors)
        record = {"kind": "api", "by": caller.name, "recorded_at": now}
        return {**raw, "sources": [*kept, record]}

    def _source_problems(self, source: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
        problems = [
            {"field": f"{where}.{name}", "message": "set by the server (the account, the clock)"}
            for name in _ATTESTED
            if source.get(name) is not None
        ]
        kind = source.get("kind", "article")
        if kind == "planner_decision":
            problems.append(
                {
                    "field": f"{where}.kind",
                    "message": "planner_decision sources are written by judgements "
                    "(POST /v1/recommendations/judgements)",
                }
            )
        if kind == "article" and self.documents is not None:
            document, quote = source.get("document"), source.get("quote")
            if not isinstance(document, str) or self.documents.text(document) is None:
                problems.append(
                    {
                        "field": f"{where}.document",
                        "message": f"an article source names a document of /v1/documents, "
                        f"not {document!r}",
                    }
                )
            elif isinstance(quote, str) and not self.documents.quotes(document, quote):
                problems.append(
                    {"field": f"{where}.quote", "message": f"the quote is not in {document}"}
                )
        return problems

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
        request_id: str | None = None,
    ) -> WriteResult:
        """A batch from the API: attested, validated, then written all-or-nothing."""
        stored_nodes = await self.store.get_nodes(_ids(nodes))
        stored_links = await self.store.get_links(_ids(links))
        nodes = [
            self.attest(raw, caller, stored_nodes.get(_id_of(raw) or ""), f"nodes.{i}", "batch")
            for i, raw in enumerate(nodes)
        ]
        links = [
            self.attest(raw, caller, stored_links.get(_id_of(raw) or ""), f"links.{i}", "batch")
            for i, raw in enumerate(links)
        ]
        batch = WriteBatch(
            nodes=self.validate_nodes(nodes, caller),
            links=self.validate_links(links, caller),
            delete_links=list(delete_links),
            delete_nodes=list(delete_nodes),
            detach=detach,
            context=write_context(caller, "batch", request_id),
        )
        return await self.store.write(batch)

    async def create_node(self, caller: Caller, raw: Any, request_id: str | None = None) -> NodeDoc:
        return await self._create("node", caller, raw, request_id)

    async def put_node(
        self, caller: Caller, node_id: str, raw: Any, request_id: str | None = None
    ) -> tuple[NodeDoc, bool]:
        return await self._put("node", caller, node_id, raw, request_id)

    async def create_link(self, caller: Caller, raw: Any, request_id: str | None = None) -> LinkDoc:
        return await self._create("link", caller, raw, request_id)

    async def put_link(
        self, caller: Caller, link_id: str, raw: Any, request_id: str | None = None
    ) -> tuple[LinkDoc, bool]:
        return await self._put("link", caller, link_id, raw, request_id)

    def _validate_one(self, what: str, caller: Caller, raw: Any) -> dict[str, Any]:
        validate = self.validate_nodes if what == "node" else self.validate_links
        (doc,) = validate([raw], caller, field=None)
        return doc

    async def _stored(self, what: str, item_id: str) -> dict[str, Any] | None:
        get = self.store.get_nodes if what == "node" else self.store.get_links
        return (await get([item_id])).get(item_id)

    async def _create(
        self, what: str, caller: Caller, raw: Any, request_id: str | None
    ) -> dict[str, Any]:
        doc = self._validate_one(what, caller, self.attest(raw, caller, None, None, "create"))
        if await self._stored(what, doc["id"]) is not None:
            raise ConflictError(f"{what} {doc['id']} exists; PUT replaces it", field="id")
        await self._write_one(what, doc, write_context(caller, f"{what}.create", request_id))
        return doc

    async def _put(
        self, what: str, caller: Caller, item_id: str, raw: Any, request_id: str | None
    ) -> tuple[dict[str, Any], bool]:
        if isinstance(raw, Mapping) and raw.get("id", item_id) != item_id:
            raise InvalidInputError("id in the body differs from the path", field="id")
        raw = {**raw, "id": item_id} if isinstance(raw, Mapping) else raw
        stored = await self._stored(what, item_id)
        operation = f"{what}.{'update' if stored is not None else 'create'}"
        doc = self._validate_one(what, caller, self.attest(raw, caller, stored, None, operation))
        context = write_context(caller, operation, request_id)
        result = await self._write_one(what, doc, context)
        created = result.nodes_created if what == "node" else result.links_created
        return doc, created == 1

    async def _write_one(
        self, what: str, doc: dict[str, Any], context: WriteContext
    ) -> WriteResult:
        if what == "node":
            batch = WriteBatch(nodes=[doc], context=context)
        else:
            batch = WriteBatch(links=[doc], context=context)
        try:
            return await self.store.write(batch)
        except (ConflictError, InvalidInputError, NotFoundError, ForbiddenError) as exc:
            raise _single(exc) from exc

    async def delete_node(
        self,
        node_id: str,
        detach: bool = False,
        caller: Caller | None = None,
        request_id: str | None = None,
    ) -> WriteResult:
        context = write_context(caller or SYSTEM, "node.delete", request_id)
        try:
            return await self.store.write(
                WriteBatch(delete_nodes=[node_id], detach=detach, context=context)
            )
        except (ConflictError, NotFoundError, ForbiddenError) as exc:
            raise type(exc)(exc.message, field="id", code=exc.code, details=exc.details) from exc

    async def delete_link(
        self, link_id: str, caller: Caller | None = None, request_id: str | None = None
    ) -> WriteResult:
        context = write_context(caller or SYSTEM, "link.delete", request_id)
        try:
            return await self.store.write(WriteBatch(delete_links=[link_id], context=context))
        except (NotFoundError, ForbiddenError) as exc:
            raise type(exc)(exc.message, field="id", code=exc.code, details=exc.details) from exc


def _id_of(raw: Any) -> str | None:
    found = raw.get("id") if isinstance(raw, Mapping) else None
    return found if isinstance(found, str) else None


def _ids(raws: Sequence[Any]) -> list[str]:
    return [i for raw in raws if (i := _id_of(raw)) is not None]


def _raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        first = errors[0]
        raise InvalidInputError(
            f"{len(errors)} invalid field(s): {first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )


def _single(exc: ConflictError | InvalidInputError | NotFoundError | ForbiddenError) -> Exception:
    """Re-point a batch error (``nodes.0.label``) at the single-item body (``label``)."""
    field = exc.field
    if field and field.split(".", 2)[0] in ("nodes", "links"):
        parts = field.split(".", 2)
        field = parts[2] if len(parts) == 3 else None
    return type(exc)(exc.message, field=field, code=exc.code, details=exc.details)
