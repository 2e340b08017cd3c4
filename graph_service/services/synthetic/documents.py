"""The documents of one block (the preamble, a city, a county), their ids and their source.

Output
------
Every generated node id starts with ``gen:`` and every document carries the source
``{"kind": "generated", "document": "generator:v1 seed=<seed>"}``. Link ids are
``"gen:" + derive_link_id(type, source, target)``: stable, unique per (type, ends), and never
equal to the id of a curated link between the same nodes. The one exception to "new nodes
only" is the **enriched village copy**: for each input village a ``("node", doc)`` with the
same id, label, kind, name, aliases, region code and sources (the generated source appended)
and the generated attributes added; attributes already on the input win. Nodes come before
the links that reference them: the national industries and programs first, then per city its
institutions, then per county all its nodes followed by all its links.

"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import LINK_TYPES
from graph_service.services.synthetic.calibration import GENERATOR_VERSION

__all__ = ["Block", "day", "generator_source", "link_id", "round_money"]


def generator_source(seed: int) -> dict[str, str]:
    """The source every generated document carries."""
    return {"kind": "generated", "document": f"generator:v{GENERATOR_VERSION} seed={seed}"}


_SYMMETRIC: Final = frozenset(t for t, spec in LINK_TYPES.items() if spec.symmetric)
_blake2b = hashlib.blake2b


def link_id(type_: str, source: str, target: str) -> str:
    """``"gen:" + derive_link_id(type_, source, target)``, inlined for speed."""
    if type_ in _SYMMETRIC and target < source:
        source, target = target, source
    key = f"{type_}\x1f{source}\x1f{target}".encode()
    return f"gen:{type_.lower()}:{_blake2b(key, digest_size=10).hexdigest()}"


def day(ordinal: int) -> str:
    """The ISO date of a day ordinal."""
    return dt.date.fromordinal(ordinal).isoformat()


def round_money(value: float) -> float:
    """An amount of money as reported: to the hundred from 1,000 元 on, else to the yuan."""
    return float(round(value, -2)) if value >= 1000 else float(round(value))


@dataclass(slots=True)
class Block:
    """The documents of one block (city or county): nodes first when yielded."""

    source: str
    nodes: list[NodeDoc] = field(default_factory=list)
    links: list[LinkDoc] = field(default_factory=list)
    link_ids: set[str] = field(default_factory=set)

    def src(self) -> list[dict[str, Any]]:
        """The ``sources`` of a document of this block (a fresh list each time)."""
        return [{"kind": "generated", "document": self.source}]

    def node(
        self,
        id_: str,
        label: str,
        kind: str | None,
        name: str,
        region_code: str | None,
        attributes: dict[str, Any] | None = None,
        aliases: Sequence[str] = (),
        valid_from: str | None = None,
    ) -> str:
        """Add a node document; returns its id."""
        doc: NodeDoc = {
            "id": id_,
            "label": label,
            "kind": kind,
            "name": name,
            "aliases": list(aliases),
            "attributes": attributes or {},
            "figures": [],
            "sources": self.src(),
        }
        if region_code is not None:
            doc["region_code"] = region_code
        if valid_from is not None:
            doc["valid_from"] = valid_from
        self.nodes.append(doc)
        return id_

    def link(
        self,
        type_: str,
        source: str,
        target: str,
        attributes: dict[str, Any] | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
    ) -> bool:
        """Add a link document unless one with the same id is there; returns whether added."""
        id_ = link_id(type_, source, target)
        if id_ in self.link_ids:
            return False
        self.link_ids.add(id_)
        doc: LinkDoc = {
            "id": id_,
            "type": type_,
            "source": source,
            "target": target,
            "attributes": attributes or {},
            "sources": self.src(),
        }
        if valid_from is not None:
            doc["valid_from"] = valid_from
        if valid_to is not None:
            doc["valid_to"] = valid_to
        self.links.append(doc)
        return True

    def emit(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The block's ``("node", doc)`` items, then its ``("link", doc)`` items."""
        for doc in self.nodes:
            yield "node", doc
        for doc in self.links:
            yield "link", doc
