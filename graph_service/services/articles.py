"""New articles into the review queue: extraction, proposals, and what accepting one writes.

:func:`graph_service.extraction.extract` reads the text with a gazetteer of the graph's own
names (every node the caller may see: regions and villages of the register, organisations,
programs …; villages only under ``region_code`` when one is given, so that a national store
does not put 620k village names in the dictionary). Every proposed entity and link becomes a
review item with its evidence sentence and character offsets; an entity also carries the
graph's candidates for its name (:class:`~graph_service.services.resolution.NameResolver`).
Nothing is written to the graph until a person accepts:

- an entity, as the candidate chosen (the node gets the article as a source) or as a new
  node (villages and regions are never made: they come from the register);
- a link, once both its ends are accepted, between the nodes they were accepted as.

The document itself is kept as a record (kind ``document``): its id is its text's digest,
so a report read twice is one document.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from typing import Any, Final

from pydantic import ValidationError

from graph_service.access import Caller, check_role
from graph_service.errors import ConflictError, InvalidInputError
from graph_service.extraction import Extraction, Gazetteer, GazetteerEntry, extract
from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, derive_link_id, link_doc, node_doc
from graph_service.names import name_form
from graph_service.schema import NODE_LABELS
from graph_service.services.changes import current_records, new_record, now
from graph_service.services.graph import write_context
from graph_service.services.resolution import NameResolver, match_json
from graph_service.services.review import Applied, ReviewService, review_item
from graph_service.services.view import GraphView
from graph_service.store.protocol import GraphStore, NodeQuery, RecordDoc, WriteBatch

__all__ = ["MAX_TEXT", "ArticleService"]

#: Characters of one article at most (a long report is ~20k).
MAX_TEXT: Final[int] = 200_000
_PAGE = 5_000
_QUOTE = 4000
_CANDIDATES = 5


class ArticleService:
    def __init__(self, store: GraphStore, resolver: NameResolver, review: ReviewService) -> None:
        self.store = store
        self.resolver = resolver
        self.review = review
        self._gazetteers: dict[tuple[Any, ...], Gazetteer] = {}
        review.appliers["entity"] = self._apply_entity
        review.appliers["link"] = self._apply_link

    async def gazetteer(self, view: GraphView, region_code: str | None) -> Gazetteer:
        """The graph's names as the caller may see them (cached per store version)."""
        policy = await view.policy()
        key = (await self.store.version(), policy.full, region_code)
        found = self._gazetteers.get(key)
        if found is not None:
            return found
        entries: list[GazetteerEntry] = []
        labels = [label for label in NODE_LABELS if label != "Village"]
        for query in (
            NodeQuery(labels=labels),
            NodeQuery(labels=["Village"], region_code=region_code),
        ):
            cursor: str | None = None
            while True:
                page = await view.list_nodes(query, cursor, _PAGE)
                entries += [_entry(doc) for doc in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
        gazetteer = await asyncio.to_thread(Gazetteer, entries)
        self._gazetteers = {key: gazetteer}
        return gazetteer

    async def propose(
        self,
        view: GraphView,
        caller: Caller,
        text: str,
        title: str | None,
        region_code: str | None,
        request_id: str | None,
    ) -> dict[str, Any]:
        """Extract from ``text`` and queue every proposal (module docstring)."""
        check_role(caller, "editor", "proposing from a document")
        if not text.strip():
            raise InvalidInputError("the text is empty", field="text")
        if len(text) > MAX_TEXT:
            raise InvalidInputError(f"the text is over {MAX_TEXT} characters", field="text")
        gazetteer = await self.gazetteer(view, region_code)
        found: Extraction = await asyncio.to_thread(extract, text, gazetteer)
        document_id = "doc_" + hashlib.sha256(text.encode()).hexdigest()[:16]
        origin = {"source": "extraction", "document_id": document_id, "title": title}
        items: dict[str, RecordDoc] = {}
        entities = []
        for proposal in found.entities:
            shown = _entity_shown(proposal)
            candidates = await self._candidates(view, proposal, region_code)
            subject = {"document_id": document_id, "proposal": shown, "candidates": candidates}
            region = proposal.region_code or region_code
            item = review_item(
                "entity", origin, subject, _evidence(document_id, proposal.evidence), caller, region
            )
            items[proposal.key] = item
            entities.append({**shown, "review_item": item["key"], "candidates": candidates})
        links = []
        names = {p.key: p.name for p in found.entities}
        for link in found.links:
            shown = _link_shown(link, names)
            subject = {
                "document_id": document_id,
                "proposal": shown,
                "source_item": items[link.source]["key"],
                "target_item": items[link.target]["key"],
            }
            region = items[link.source].get("region") or items[link.target].get("region")
            item = review_item(
                "link", origin, subject, _evidence(document_id, link.evidence), caller, region
            )
            items[link.key] = item
            links.append({**shown, "review_item": item["key"]})
        document = new_record(
            "document",
            document_id,
            "read",
            region_code,
            title=title,
            text=text,
            by=caller.name,
            entities=len(entities),
            links=len(links),
        )
        await self.store.write(
            WriteBatch(
                records=[document, *items.values()],
                context=write_context(caller, "extraction", request_id),
            )
        )
        return {
            "document_id": document_id,
            "title": title,
            "sentences": found.sentences,
            "entities": entities,
            "links": links,
            "review_items": [i["key"] for i in items.values()],
        }

    async def _candidates(
        self, view: GraphView, proposal: Any, region_code: str | None
    ) -> list[dict[str, Any]]:
        scope = _county(proposal.region_code) or _county(region_code)
        result = await self.resolver.resolve(
            view,
            proposal.name,
            label=proposal.label,
            region_code=scope,
            limit=_CANDIDATES,
            min_score=0.6,
        )
        matches = [match_json(m) for m in result.matches]
        if proposal.node_id and all(m["node"]["id"] != proposal.node_id for m in matches):
            stored = (await view.get_nodes([proposal.node_id])).get(proposal.node_id)
            if stored is not None:
                matches.insert(
                    0,
                    {
                        "node": {k: stored.get(k) for k in ("id", "name", "label", "kind")}
                        | {"region_code": stored.get("region_code")},
                        "score": 1.0,
                        "matched": proposal.name,
                        "features": {"gazetteer": True},
                        "explanation": ["词典命中"],
                    },
                )
        return matches

    # ------------------------------------------------------------------ accepting

    async def _apply_entity(
        self, view: GraphView, caller: Caller, item: RecordDoc, choice: Mapping[str, Any]
    ) -> Applied:
        subject, proposal = item["subject"], item["subject"]["proposal"]
        source = _source(subject["document_id"], item["evidence"], caller)
        chosen = str(choice.get("node") or "")
        if not chosen:
            chosen = proposal.get("node_id") or "new"
        allowed = {c["node"]["id"] for c in subject.get("candidates") or ()}
        if chosen != "new":
            if chosen not in allowed:
                raise InvalidInputError(
                    "node is one of the candidates' ids, or new",
                    field="node",
                    details={"candidates": sorted(allowed)},
                )
            stored = (await view.get_nodes([chosen])).get(chosen)
            if stored is None:
                raise ConflictError(f"node {chosen} is gone", field="node")
            sources = list(stored.get("sources") or ())
            updated = dict(stored)
            if source not in sources:
                updated["sources"] = [*sources, source][-100:]
            return Applied(nodes=[_valid_node(updated)], node_id=chosen, operation="entity")
        label = str(proposal["label"])
        if label in ("Village", "Region"):
            raise InvalidInputError(
                f"{proposal['name']} is a {label}: villages and regions come from the register; "
                "choose a candidate",
                field="node",
            )
        spec = NODE_LABELS[label]
        region = proposal.get("region_code") or item.get("region")
        digest = hashlib.blake2b(
            f"{label}|{region}|{name_form(proposal['name'], (), label).core}".encode(),
            digest_size=8,
        )
        doc: dict[str, Any] = {
            "id": f"ext:{label.lower()}:{digest.hexdigest()}",
            "label": label,
            "name": proposal["name"],
            "sources": [source],
        }
        if region:
            doc["region_code"] = region
        if proposal.get("kind") in spec.kinds:
            doc["kind"] = proposal["kind"]
        elif spec.kind_required:
            doc["kind"] = spec.kinds[0]
        return Applied(nodes=[_valid_node(doc)], node_id=doc["id"], operation="entity")

    async def _apply_link(
        self, view: GraphView, caller: Caller, item: RecordDoc, choice: Mapping[str, Any]
    ) -> Applied:
        subject, proposal = item["subject"], item["subject"]["proposal"]
        ends = await current_records(
            self.store, "review", [subject["source_item"], subject["target_item"]]
        )
        nodes = []
        for end in ("source_item", "target_item"):
            record = ends.get(subject[end])
            node = (record or {}).get("decision") or {}
            if record is None or record["status"] != "accepted" or not node.get("node"):
                raise ConflictError(
                    f"accept the link's ends first: {subject[end]} is "
                    f"{record['status'] if record else 'gone'}",
                    field="id",
                    code="ends_not_accepted",
                    details={"item": subject[end]},
                )
            nodes.append(str(node["node"]))
        source, target = nodes
        doc: dict[str, Any] = {
            "id": derive_link_id(proposal["type"], source, target),
            "type": proposal["type"],
            "source": source,
            "target": target,
            "sources": [_source(subject["document_id"], item["evidence"], caller)],
        }
        if proposal.get("valid_from"):
            doc["valid_from"] = proposal["valid_from"]
        stored = (await self.store.get_links([doc["id"]])).get(doc["id"])
        if stored is not None:
            sources = list(stored.get("sources") or ())
            doc = {
                **stored,
                "sources": [*sources, *[s for s in doc["sources"] if s not in sources]],
            }
        try:
            written = link_doc(LINK_ADAPTER.validate_python(doc))
        except ValidationError as exc:
            raise InvalidInputError(
                f"the link cannot be written: {exc.errors()[0]['msg']}", field="id"
            ) from exc
        return Applied(links=[written], operation="link")


def _county(code: str | None) -> str | None:
    return code[:6] if code and len(code) >= 6 else None


def _entry(doc: Mapping[str, Any]) -> GazetteerEntry:
    return GazetteerEntry(
        name=str(doc["name"]),
        label=str(doc["label"]),
        node_id=str(doc["id"]),
        kind=doc.get("kind"),
        region_code=doc.get("region_code"),
        aliases=tuple(doc.get("aliases") or ()),
    )


def _evidence(document_id: str, evidence: Any) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "sentence": evidence.sentence,
        "start": evidence.start,
        "end": evidence.end,
    }


def _source(document_id: str, evidence: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    return {
        "kind": "article",
        "document": document_id,
        "quote": str(evidence.get("sentence") or "")[:_QUOTE],
        "by": caller.name,
        "recorded_at": now(),
    }


def _valid_node(doc: dict[str, Any]) -> dict[str, Any]:
    try:
        return node_doc(NODE_ADAPTER.validate_python(doc))
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidInputError(
            f"the node cannot be written: {error['msg']}", field="node"
        ) from exc


def _entity_shown(proposal: Any) -> dict[str, Any]:
    return {
        "key": proposal.key,
        "name": proposal.name,
        "label": proposal.label,
        "kind": proposal.kind,
        "region_code": proposal.region_code,
        "node_id": proposal.node_id,
        "mentions": [list(m) for m in proposal.mentions],
        "evidence": {
            "sentence": proposal.evidence.sentence,
            "start": proposal.evidence.start,
            "end": proposal.evidence.end,
        },
        "confidence": proposal.confidence,
    }


def _link_shown(link: Any, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "key": link.key,
        "type": link.type,
        "source": link.source,
        "target": link.target,
        "source_name": names.get(link.source),
        "target_name": names.get(link.target),
        "phrase": link.phrase,
        "valid_from": link.valid_from,
        "figures": [dict(f) for f in link.figures],
        "evidence": {
            "sentence": link.evidence.sentence,
            "start": link.evidence.start,
            "end": link.evidence.end,
        },
        "confidence": link.confidence,
    }
