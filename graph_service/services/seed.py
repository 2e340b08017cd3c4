"""Build the seed graph: the register extract for the seed counties plus the curated files.

Curated files (``seed/curated/*.json``, format in ``seed/README.md``) are merged on top of
the register by id. Every problem is collected with its file and position, so a curator sees
all of them at once; the graph is only written when there are none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graph_service.models import (
    LINK_ADAPTER,
    NODE_ADAPTER,
    LinkDoc,
    NodeDoc,
    error_list,
    link_doc,
    node_doc,
)
from graph_service.register import read_register, register_graph
from graph_service.schema import link_allows

__all__ = [
    "SeedGraph",
    "SeedProblem",
    "build_seed_graph",
    "normalise_text",
    "read_scope",
]

_WS = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Whitespace-free text: quotes are compared with articles this way."""
    return _WS.sub("", text)


@dataclass(frozen=True, slots=True)
class SeedProblem:
    file: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field or '-'}: {self.message}"


@dataclass(slots=True)
class SeedGraph:
    nodes: dict[str, NodeDoc] = field(default_factory=dict)
    links: dict[str, LinkDoc] = field(default_factory=dict)
    documents: list[dict[str, Any]] = field(default_factory=list)
    problems: list[SeedProblem] = field(default_factory=list)


def read_scope(path: Path) -> list[str]:
    """Division codes listed one per line (``#`` comments allowed)."""
    codes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        code = line.split("#", 1)[0].strip()
        if code:
            codes.append(code)
    return codes


def _merge_unique(into: list[Any], items: Iterable[Any]) -> None:
    for item in items:
        if item not in into:
            into.append(item)


def _merge_node(base: NodeDoc, extra: NodeDoc) -> None:
    names = [extra["name"]] if extra.get("name") and extra["name"] != base["name"] else []
    _merge_unique(base["aliases"], [*names, *extra.get("aliases", [])])
    base["aliases"] = [a for a in base["aliases"] if a != base["name"]]
    base["attributes"] = {**base.get("attributes", {}), **extra.get("attributes", {})}
    _merge_unique(base["figures"], extra.get("figures", []))
    _merge_unique(base["sources"], extra.get("sources", []))
    for key in ("valid_from", "valid_to", "region_code", "kind"):
        if base.get(key) is None and extra.get(key) is not None:
            base[key] = extra[key]


def _with_defaults(raw: dict[str, Any], document_id: str) -> dict[str, Any]:
    raw = dict(raw)
    raw["sources"] = [
        {"kind": "article", "document": document_id, **s} for s in raw.get("sources", [])
    ]
    if "figures" in raw:
        raw["figures"] = [{"document": document_id, **f} for f in raw["figures"]]
    return raw


def build_seed_graph(
    curated_files: Iterable[Path],
    register_dir: Path,
    scope: Iterable[str],
    documents_dir: Path | None = None,
) -> SeedGraph:
    """Assemble the seed graph; check every quote against ``documents_dir`` when given."""
    graph = SeedGraph()
    for kind, doc in register_graph(read_register(register_dir, scope)):
        (graph.nodes if kind == "node" else graph.links)[doc["id"]] = doc
    register_ids = set(graph.nodes)

    pending_links: list[tuple[str, int, dict[str, Any]]] = []
    for path in sorted(curated_files):
        name = path.name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            graph.problems.append(SeedProblem(name, None, f"cannot read: {exc}"))
            continue
        document = data.get("document") or {}
        document_id = document.get("id")
        if not document_id:
            graph.problems.append(SeedProblem(name, "document.id", "missing"))
            continue
        graph.documents.append(document)
        text = None
        if documents_dir is not None:
            doc_path = documents_dir / document_id
            if doc_path.exists():
                text = normalise_text(doc_path.read_text(encoding="utf-8"))
            else:
                graph.problems.append(SeedProblem(name, "document.id", "no such document"))
        for index, raw in enumerate(data.get("nodes", [])):
            where = f"nodes.{index}"
            raw = _with_defaults(raw, document_id)
            if not raw.get("sources"):
                graph.problems.append(SeedProblem(name, f"{where}.sources", "no source"))
            _check_quotes(graph, name, where, raw, text)
            _add_node(graph, name, where, raw, register_ids)
        for index, raw in enumerate(data.get("links", [])):
            raw = _with_defaults(raw, document_id)
            where = f"links.{index}"
            if not raw.get("sources"):
                graph.problems.append(SeedProblem(name, f"{where}.sources", "no source"))
            _check_quotes(graph, name, where, raw, text)
            pending_links.append((name, index, raw))

    for name, index, raw in pending_links:
        _add_link(graph, name, f"links.{index}", raw)
    return graph


def _add_node(
    graph: SeedGraph, name: str, where: str, raw: dict[str, Any], register_ids: set[str]
) -> None:
    """Add a curated node, completing a register node's fields or merging a repeat."""
    node_id = str(raw.get("id"))
    if node_id in register_ids:
        base = graph.nodes[node_id]
        if raw.get("label", base["label"]) != base["label"]:
            graph.problems.append(SeedProblem(name, f"{where}.label", "differs from register"))
            return
        raw = {**raw, "name": raw.get("name") or base["name"], "label": base["label"]}
        raw["kind"] = raw.get("kind") or base["kind"]
        raw["region_code"] = base["region_code"]
    try:
        doc = node_doc(NODE_ADAPTER.validate_python(raw))
    except ValidationError as exc:
        for err in error_list(exc, (where,)):
            graph.problems.append(SeedProblem(name, err["field"], err["message"]))
        return
    if node_id in graph.nodes:
        if graph.nodes[node_id]["label"] != doc["label"]:
            graph.problems.append(
                SeedProblem(name, f"{where}.label", f"{node_id} has another label elsewhere")
            )
            return
        _merge_node(graph.nodes[node_id], doc)
    else:
        graph.nodes[node_id] = doc


def _add_link(graph: SeedGraph, name: str, where: str, raw: dict[str, Any]) -> None:
    """Add a curated link once every node is known; a repeat merges into the first."""
    try:
        doc = link_doc(LINK_ADAPTER.validate_python(raw))
    except ValidationError as exc:
        for err in error_list(exc, (where,)):
            graph.problems.append(SeedProblem(name, err["field"], err["message"]))
        return
    source, target = graph.nodes.get(doc["source"]), graph.nodes.get(doc["target"])
    if source is None or target is None:
        end = "source" if source is None else "target"
        graph.problems.append(SeedProblem(name, f"{where}.{end}", f"unknown node {doc[end]}"))
        return
    if not link_allows(doc["type"], source["label"], target["label"]):
        graph.problems.append(
            SeedProblem(
                name,
                f"{where}.type",
                f"{doc['type']} cannot join {source['label']} to {target['label']}",
            )
        )
        return
    if doc["id"] in graph.links:
        existing = graph.links[doc["id"]]
        existing["attributes"] = {**existing["attributes"], **doc["attributes"]}
        _merge_unique(existing["sources"], doc["sources"])
        for key in ("valid_from", "valid_to"):
            if existing.get(key) is None and doc.get(key) is not None:
                existing[key] = doc[key]
    else:
        graph.links[doc["id"]] = doc


def _check_quotes(
    graph: SeedGraph, file: str, where: str, raw: dict[str, Any], text: str | None
) -> None:
    if text is None:
        return
    quoted = [(f"{where}.sources.{i}.quote", s.get("quote")) for i, s in enumerate(raw["sources"])]
    quoted += [
        (f"{where}.figures.{i}.quote", f.get("quote")) for i, f in enumerate(raw.get("figures", []))
    ]
    for field_name, quote in quoted:
        if quote and normalise_text(quote) not in text:
            graph.problems.append(SeedProblem(file, field_name, f"quote not in document: {quote}"))
