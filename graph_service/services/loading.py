"""Bulk paths: load the seed graph, import JSONL/CSV files, export JSONL.

Imports are validated row by row against the registry; rows are written in batches, each
atomic, nodes before links. A batch with any bad row writes nothing and its errors are
reported with line numbers. Re-running an import is harmless: writes are upserts by id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson

from graph_service.domain import MAX_PAGE
from graph_service.errors import GraphServiceError, InvalidInputError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import LINK_TYPES, NODE_LABELS
from graph_service.services.graph import GraphService
from graph_service.services.seed import SeedGraph, build_seed_graph, read_scope
from graph_service.services.view import GraphView
from graph_service.store.protocol import GraphStore, LinkQuery, NodeQuery, WriteBatch, WriteContext
from graph_service.visibility import Caller

__all__ = [
    "ImportProblem",
    "ImportReport",
    "export_jsonl",
    "import_file",
    "load_seed",
    "read_rows",
    "seed_graph",
]

IMPORTER = Caller(authenticated=True, name="importer", role="admin")


@dataclass(frozen=True, slots=True)
class ImportProblem:
    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field or '-'}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    nodes_written: int = 0
    links_written: int = 0
    batches_written: int = 0
    batches_failed: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def seed_graph(seed_dir: Path) -> SeedGraph:
    """The seed graph from ``seed_dir`` (curated files, register extract, documents)."""
    return build_seed_graph(
        sorted((seed_dir / "curated").glob("*.json")),
        seed_dir / "register",
        read_scope(seed_dir / "register" / "counties.txt"),
        seed_dir / "documents",
    )


async def load_seed(store: GraphStore, seed_dir: Path) -> SeedGraph:
    """Write the whole seed graph in one atomic batch (idempotent: upserts by id)."""
    graph = seed_graph(seed_dir)
    if graph.problems:
        raise InvalidInputError(
            f"seed has {len(graph.problems)} problem(s); first: {graph.problems[0]}",
            errors=[{"field": f"{p.file}:{p.field}", "message": p.message} for p in graph.problems],
        )
    context = WriteContext(account="system", operation="seed.load")
    await store.write(
        WriteBatch(
            nodes=list(graph.nodes.values()), links=list(graph.links.values()), context=context
        )
    )
    return graph


# ---------------------------------------------------------------------- reading rows

_CSV_BASE_NODE = ("id", "label", "kind", "name", "aliases", "region_code", "valid_from", "valid_to")
_CSV_BASE_LINK = ("id", "type", "source", "target", "valid_from", "valid_to")
_LIST_SEPARATOR = "|"


def _attribute_types() -> dict[str, str]:
    types: dict[str, str] = {}
    for attrs in [s.attributes for s in NODE_LABELS.values()] + [
        s.attributes for s in LINK_TYPES.values()
    ]:
        for attr in attrs:
            types[attr.name] = attr.type
    return types


_ATTRIBUTE_TYPES = _attribute_types()


def _csv_record(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as a node or link record: ``attr.<name>`` columns become attributes,
    ``aliases`` and list attributes split on ``|``, ``source_document``/``source_quote``
    become one source. Empty cells are absent values."""
    record: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    source: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        value = value.strip()
        if column.startswith("attr."):
            name = column[5:]
            is_list = _ATTRIBUTE_TYPES.get(name) == "list[str]"
            attributes[name] = value.split(_LIST_SEPARATOR) if is_list else value
        elif column == "aliases":
            record["aliases"] = [a for a in value.split(_LIST_SEPARATOR) if a]
        elif column in ("source_document", "source_quote", "source_kind"):
            source[column.removeprefix("source_")] = value
        else:
            record[column] = value
    if attributes:
        record["attributes"] = attributes
    if source:
        record["sources"] = [{"kind": "import", **source}]
    return record


def read_rows(path: Path, fmt: str | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, record)`` for every row of a JSONL or CSV file.

    A JSONL line that does not parse yields an ``InvalidInputError`` in place of the record,
    so the caller reports it with its line number and goes on.
    """
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if fmt == "csv":
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, _csv_record(row)
        else:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield number, InvalidInputError(f"not JSON: {exc}")


def _batches(rows: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def import_file(
    service: GraphService,
    path: Path,
    fmt: str | None = None,
    batch_size: int = 1000,
    keep_going: bool = False,
    progress: Callable[[int], None] | None = None,
    account: str = IMPORTER.name,
) -> ImportReport:
    """Import ``path``; see the module docstring for the guarantees. The history records
    each batch as an ``import`` by ``account``, with the file's name as its request."""
    report = ImportReport()
    context = WriteContext(account=account, operation="import", request_id=f"file:{path.name}")
    for batch in _batches(read_rows(path, fmt), batch_size):
        report.rows += len(batch)
        problems, (nodes, node_lines), (links, link_lines) = _validate_batch(service, batch)
        if not problems:
            try:
                await service.store.write(WriteBatch(nodes=nodes, links=links, context=context))
            except GraphServiceError as exc:
                problems.append(_locate(exc, batch[0][0], node_lines, link_lines))
        if problems:
            report.problems += problems
            report.batches_failed += 1
            if not keep_going:
                break
        else:
            report.nodes_written += len(nodes)
            report.links_written += len(links)
            report.batches_written += 1
        if progress is not None:
            progress(len(batch))
    return report


def _validate_batch(
    service: GraphService, batch: list[tuple[int, Any]]
) -> tuple[list[ImportProblem], tuple[list[NodeDoc], list[int]], tuple[list[LinkDoc], list[int]]]:
    problems: list[ImportProblem] = []
    nodes: list[NodeDoc] = []
    links: list[LinkDoc] = []
    node_lines: list[int] = []
    link_lines: list[int] = []
    for line, record in batch:
        if isinstance(record, InvalidInputError):
            problems.append(ImportProblem(line, None, record.message))
            continue
        if not isinstance(record, dict) or ("label" in record) == ("type" in record):
            problems.append(
                ImportProblem(line, None, "a row is a node (with label) or a link (with type)")
            )
            continue
        try:
            if "label" in record:
                nodes += service.validate_nodes([record], IMPORTER, source_kind="import")
                node_lines.append(line)
            else:
                links += service.validate_links([record], IMPORTER, source_kind="import")
                link_lines.append(line)
        except InvalidInputError as exc:
            for err in exc.errors:
                field_name = (err["field"] or "").split(".", 2)
                problems.append(
                    ImportProblem(
                        line, field_name[2] if len(field_name) == 3 else None, err["message"]
                    )
                )
    return problems, (nodes, node_lines), (links, link_lines)


def _locate(
    exc: GraphServiceError, first_line: int, node_lines: list[int], link_lines: list[int]
) -> ImportProblem:
    """Turn a store error on ``links.3.source`` into the file line of that link."""
    field_name = exc.field or ""
    parts = field_name.split(".", 2)
    if len(parts) >= 2 and parts[0] in ("nodes", "links") and parts[1].isdigit():
        lines = node_lines if parts[0] == "nodes" else link_lines
        index = int(parts[1])
        if index < len(lines):
            return ImportProblem(lines[index], parts[2] if len(parts) == 3 else None, exc.message)
    return ImportProblem(first_line, field_name or None, exc.message)


async def _all(view: GraphView, kind: str) -> AsyncIterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        if kind == "nodes":
            page = await view.list_nodes(NodeQuery(), cursor, MAX_PAGE)
        else:
            page = await view.list_links(LinkQuery(), cursor, MAX_PAGE)
        for item in page.items:
            yield item
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def export_jsonl(view: GraphView, out: TextIO | io.BufferedIOBase) -> tuple[int, int]:
    """Every node, then every link the view shows, one JSON document a line. Re-importable
    as is (the public view's export leaves people and personal fields out)."""
    counts = [0, 0]
    for index, kind in enumerate(("nodes", "links")):
        async for doc in _all(view, kind):
            line = orjson.dumps(doc) + b"\n"
            if isinstance(out, io.TextIOBase):
                out.write(line.decode())
            else:
                out.write(line)  # type: ignore[arg-type]
            counts[index] += 1
    return counts[0], counts[1]
