"""CSV files for ``neo4j-admin database import full``: a first load of a Neo4j store without
Bolt.

:func:`write_import_csv` writes one node file per registry label and one relationship file per
link type, with the labels, relationship types and properties :class:`~graph_service.store.
neo4j.Neo4jGraphStore` writes itself (``node_properties``, ``link_properties``), plus the
store's ``GraphMeta`` nodes (the graph's version, the version of the search-name fold), and an
``import.args`` file: the ``--nodes=`` / ``--relationships=`` and option lines the import
needs (``scripts/neo4j-local import DIR`` reads it). Constraints and indexes are not in the
files: the store's migrations create them the first time it opens the imported database (no
``SchemaMigration`` node is imported, so every migration runs and checks the data).

CSV dialect (the import tool's defaults): comma separated, ``"`` quotes doubled inside a
field, every string quoted, an absent value an empty unquoted field (no property), arrays
separated by ``;`` (an alias holding ``;`` is refused). Names with a line break (``names_text``
holds one per alias) need ``--multiline-fields=true``, which the args file then says.

References: Neo4j Operations Manual 5, "Import" (``neo4j-admin database import full``) and
"CSV header format".
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import LINK_TYPES, NODE_LABELS
from graph_service.search_text import FOLD_VERSION
from graph_service.store.neo4j import link_properties, node_properties

__all__ = ["ARGS_FILE", "ARRAY_DELIMITER", "ImportManifest", "write_import_csv"]

#: The file of ``neo4j-admin database import full`` arguments, one a line.
ARGS_FILE = "import.args"
ARRAY_DELIMITER = ";"
#: Labels every graph node carries beside its registry label.
_ENTITY = "Entity"
_META = "GraphMeta"
_NODE_COLUMNS = (
    ("id", "id:ID"),
    ("label", "label"),
    ("kind", "kind"),
    ("name", "name"),
    ("region_code", "region_code"),
    ("valid_from", "valid_from"),
    ("valid_to", "valid_to"),
    ("aliases", "aliases:string[]"),
    ("names_text", "names_text"),
    ("doc", "doc"),
)
_LINK_COLUMNS = (
    ("id", "id"),
    ("valid_from", "valid_from"),
    ("valid_to", "valid_to"),
    ("doc", "doc"),
)


@dataclass(slots=True)
class ImportManifest:
    """What :func:`write_import_csv` wrote: counts by label and type, the files, the args."""

    directory: Path
    nodes_by_label: dict[str, int] = field(default_factory=dict)
    links_by_type: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    multiline: bool = False
    args: list[str] = field(default_factory=list)

    @property
    def nodes(self) -> int:
        return sum(self.nodes_by_label.values())

    @property
    def links(self) -> int:
        return sum(self.links_by_type.values())


class _Files:
    """One open CSV writer per label or type, its header written on first use."""

    def __init__(self, directory: Path, prefix: str, header: list[str]) -> None:
        self.directory = directory
        self.prefix = prefix
        self.header = header
        self.open: dict[str, tuple[IO[str], Any]] = {}

    def writer(self, name: str) -> Any:
        if name not in self.open:
            handle = (self.directory / f"{self.prefix}-{name}.csv").open(
                "w", encoding="utf-8", newline=""
            )
            writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            handle.write(",".join(self.header) + "\n")
            self.open[name] = (handle, writer)
        return self.open[name][1]

    def close(self) -> list[Path]:
        paths = []
        for handle, _ in self.open.values():
            handle.close()
            paths.append(Path(handle.name))
        return paths


def _cell(value: Any) -> Any:
    """A property as the import reads it: ``None`` an empty (absent) field, a list joined."""
    if value is None:
        return _Absent.VALUE
    if isinstance(value, list):
        for item in value:
            if ARRAY_DELIMITER in item:
                raise ValueError(f"{item!r} holds the array delimiter {ARRAY_DELIMITER!r}")
        return ARRAY_DELIMITER.join(value)
    return value


class _Absent(float):
    """An empty unquoted field: ``QUOTE_NONNUMERIC`` leaves numbers unquoted, and this
    "number" prints as nothing, which the import reads as no value."""

    VALUE: _Absent

    def __repr__(self) -> str:
        return ""

    __str__ = __repr__


_Absent.VALUE = _Absent(0.0)


def write_import_csv(
    directory: Path,
    docs: Iterable[tuple[Literal["node", "link"], NodeDoc | LinkDoc]],
    graph_version: int = 1,
) -> ImportManifest:
    """Write the import files of ``docs`` (``("node", doc)`` / ``("link", doc)``, as
    ``register.register_graph`` and the generator yield them) into ``directory``.

    ``graph_version`` is the version the imported graph starts at. A link may come before
    the nodes it joins (the import resolves ids once every node file is read). Returns the
    manifest; its ``args`` are also written to :data:`ARGS_FILE`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    manifest = ImportManifest(directory)
    node_files = _Files(directory, "nodes", [h for _, h in _NODE_COLUMNS] + [":LABEL"])
    link_files = _Files(
        directory,
        "relationships",
        [":START_ID", ":END_ID", ":TYPE"] + [h for _, h in _LINK_COLUMNS],
    )
    try:
        for kind, doc in docs:
            if kind == "node":
                _write_node(node_files, doc, manifest)
            else:
                _write_link(link_files, doc, manifest)
    finally:
        node_paths = node_files.close()
        link_paths = link_files.close()
    meta = directory / f"nodes-{_META}.csv"
    with meta.open("w", encoding="utf-8", newline="") as handle:
        # The store's GraphMeta nodes (graph_version.cypher, names_fold_version.cypher).
        handle.write(":ID,key,version:long,fold:long,:LABEL\n")
        handle.write(f'"graph-meta:data","data",{int(graph_version)},,"{_META}"\n')
        handle.write(f'"graph-meta:search","search",,{int(FOLD_VERSION)},"{_META}"\n')
    manifest.files = [*node_paths, meta, *link_paths]
    manifest.args = [f"--nodes={path.resolve()}" for path in [*node_paths, meta]]
    manifest.args += [f"--relationships={path.resolve()}" for path in link_paths]
    manifest.args += [f"--array-delimiter={ARRAY_DELIMITER}", "--id-type=string"]
    if manifest.multiline:
        manifest.args.append("--multiline-fields=true")
    (directory / ARGS_FILE).write_text("\n".join(manifest.args) + "\n", encoding="utf-8")
    return manifest


def _write_node(files: _Files, doc: NodeDoc, manifest: ImportManifest) -> None:
    label = doc["label"]
    if label not in NODE_LABELS:
        raise ValueError(f"{label!r} is not a registry label")
    props = node_properties(doc)
    manifest.multiline = manifest.multiline or _has_break(props)
    row = [_cell(props.get(name)) for name, _ in _NODE_COLUMNS]
    files.writer(label).writerow([*row, f"{_ENTITY};{label}"])
    manifest.nodes_by_label[label] = manifest.nodes_by_label.get(label, 0) + 1


def _write_link(files: _Files, doc: LinkDoc, manifest: ImportManifest) -> None:
    type_ = doc["type"]
    if type_ not in LINK_TYPES:
        raise ValueError(f"{type_!r} is not a registry link type")
    props = link_properties(doc)
    manifest.multiline = manifest.multiline or _has_break(props)
    row = [_cell(props.get(name)) for name, _ in _LINK_COLUMNS]
    files.writer(type_).writerow([doc["source"], doc["target"], type_, *row])
    manifest.links_by_type[type_] = manifest.links_by_type.get(type_, 0) + 1


def _has_break(props: Mapping[str, Any]) -> bool:
    return any(isinstance(v, str) and ("\n" in v or "\r" in v) for v in props.values())
