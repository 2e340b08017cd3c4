"""Who may see personal data, and what everyone else sees instead: the visibility policy.

Which labels and which attributes are personal is declared in the schema registry
(``NodeLabelSpec.sensitive``, ``AttributeSpec.personal``); this module turns that declaration
into the one policy every read applies, whatever carries the data: a node or link document,
an exported graph that analyses and exports run on, or free text (source quotes, article
text, judgement notes) that may name a person.

A caller who may not see personal data gets

- no node of a personal label, and no link that ends at one or is of a type that only
  personal labels can start (``HOLDS_POSITION``);
- no personal attribute (``contact_person`` …) on the nodes and links it does get;
- every known person's name and alias replaced by :data:`NAME_MASK` in free text.

The services apply this through :class:`graph_service.services.view.GraphView`, the one object
routes and CLI commands read the graph through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import networkx as nx
import orjson

from graph_service.access import ANONYMOUS, Caller
from graph_service.schema import LINK_TYPES, NODE_LABELS

__all__ = [
    "ANONYMOUS",
    "NAME_MASK",
    "PERSONAL_ATTRIBUTES",
    "PERSONAL_JUDGEMENT_FIELDS",
    "PERSONAL_LABELS",
    "PERSONAL_LINK_TYPES",
    "Caller",
    "Visibility",
]

#: Labels whose nodes are personal data (people).
PERSONAL_LABELS: Final[frozenset[str]] = frozenset(
    label for label, spec in NODE_LABELS.items() if spec.sensitive
)
#: Link types that only a personal node can start: the link itself says something of a person.
PERSONAL_LINK_TYPES: Final[frozenset[str]] = frozenset(
    t for t, spec in LINK_TYPES.items() if spec.sources <= PERSONAL_LABELS
)
#: Personal attribute names, per node label and link type.
PERSONAL_ATTRIBUTES: Final[dict[str, frozenset[str]]] = {
    owner: names
    for owner, attrs in (
        *((label, spec.attributes) for label, spec in NODE_LABELS.items()),
        *((type_, spec.attributes) for type_, spec in LINK_TYPES.items()),
    )
    if (names := frozenset(a.name for a in attrs if a.personal))
}
#: Fields of a planner's judgement that name people or hold their words: who decided,
#: whose key recorded it, the note.
PERSONAL_JUDGEMENT_FIELDS: Final[frozenset[str]] = frozenset({"decided_by", "recorded_by", "note"})
#: Redacted documents a public policy keeps (it lives for one store version).
_REDACTED_CACHE: Final[int] = 200_000
#: What a person's name becomes in text a caller may not read it in.
NAME_MASK: Final[str] = "某某"


@dataclass(frozen=True, slots=True)
class Visibility:
    """The policy for one audience: everything (``full``) or the public view.

    ``names`` are the names and aliases of the personal nodes in the store, masked in free
    text; the view that builds a ``Visibility`` keeps them current per store version.
    """

    full: bool
    names: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _done: dict[tuple[Any, ...], dict[str, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Longest first, so that 曹新民 is masked whole before a shorter alias could match.
        names = sorted({n for n in self.names if n}, key=lambda n: (-len(n), n))
        if names and not self.full:
            pattern = re.compile("|".join(map(re.escape, names)))
            object.__setattr__(self, "_pattern", pattern)

    @property
    def audience(self) -> str:
        """A short key for caches: what one audience sees differs from the other's."""
        return "full" if self.full else "public"

    # ------------------------------------------------------------------ judgements

    def node_visible(self, doc: Mapping[str, Any]) -> bool:
        return self.full or doc.get("label") not in PERSONAL_LABELS

    def link_visible(self, doc: Mapping[str, Any], hidden_nodes: Iterable[str] = ()) -> bool:
        if self.full:
            return True
        if doc.get("type") in PERSONAL_LINK_TYPES:
            return False
        hidden = hidden_nodes if isinstance(hidden_nodes, (set, frozenset)) else set(hidden_nodes)
        return doc.get("source") not in hidden and doc.get("target") not in hidden

    def labels(self, requested: Iterable[str] = ()) -> list[str]:
        """The requested labels (all when none are) this audience may see. Empty means
        "nothing may be seen", never "no filter"."""
        return [
            x for x in (list(requested) or NODE_LABELS) if self.full or x not in PERSONAL_LABELS
        ]

    def link_types(self, requested: Iterable[str] = ()) -> list[str]:
        """As :meth:`labels`, for link types."""
        every = list(requested) or list(LINK_TYPES)
        return [t for t in every if self.full or t not in PERSONAL_LINK_TYPES]

    # ------------------------------------------------------------------ redaction

    def text(self, value: str) -> str:
        """``value`` with every known person's name masked (unchanged for ``full``)."""
        if self._pattern is None:
            return value
        return self._pattern.sub(NAME_MASK, value)

    def value(self, value: Any) -> Any:
        """Any JSON-like value with its strings masked (a new value; the input is kept)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def doc(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """A node or link document as this audience sees it: personal attributes dropped,
        names masked in its text (quotes, outcomes …). The input is never changed."""
        if self.full:
            return dict(doc)
        # A document is the same all through one store version, and so is this policy (it
        # is made per version): redact each once. Depth sets neighbourhood members apart.
        key = (doc.get("label") or doc.get("type"), doc.get("id"), doc.get("depth"))
        done = self._done.get(key) if key[1] is not None else None
        if done is None:
            done = self._redact(doc)
            if key[1] is not None:
                if len(self._done) >= _REDACTED_CACHE:
                    self._done.clear()
                self._done[key] = done
        return dict(done)

    def _redact(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        owner = doc.get("label") or doc.get("type")
        personal = PERSONAL_ATTRIBUTES.get(str(owner), frozenset())
        out = dict(doc)
        attributes = doc.get("attributes")
        if personal and isinstance(attributes, Mapping):
            out["attributes"] = {k: v for k, v in attributes.items() if k not in personal}
        if self._pattern is not None:
            keys = [k for k in ("name", "aliases", "sources", "figures", "attributes") if k in out]
            # One C-speed serialisation and one search decide whether any string needs the
            # walk: most documents name nobody (measured: the walk was 76% of an anonymous
            # 2-hop read).
            text = orjson.dumps([out[k] for k in keys], default=str).decode()
            if self._pattern.search(text):
                for key in keys:
                    out[key] = self.value(out[key])
        return out

    @staticmethod
    def _personal_in(graph: nx.MultiDiGraph) -> bool:
        """Whether any node or link of ``graph`` carries a personal attribute or type."""
        for _, data in graph.nodes(data=True):
            personal = PERSONAL_ATTRIBUTES.get(str(data.get("label")))
            if personal and personal.intersection(data.get("attributes") or ()):
                return True
        for _, _, data in graph.edges(data=True):
            if data.get("type") in PERSONAL_LINK_TYPES:
                return True
            personal = PERSONAL_ATTRIBUTES.get(str(data.get("type")))
            if personal and personal.intersection(data.get("attributes") or ()):
                return True
        return False

    def judgement(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """A judgement record as this audience sees it: who decided and why only in full."""
        if self.full:
            return dict(doc)
        return {k: (None if k in PERSONAL_JUDGEMENT_FIELDS else v) for k, v in doc.items()}

    def docs(self, docs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The visible documents of ``docs``, redacted (nodes or links, not mixed)."""
        return [self.doc(d) for d in docs if self.node_visible(d) and self.link_visible(d)]

    def graph(self, graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
        """A copy of an exported graph without what this audience may not see; node and
        link attributes redacted as documents are. ``full`` returns the graph itself."""
        if self.full:
            return graph
        hidden = {n for n, data in graph.nodes(data=True) if not self.node_visible(data)}
        if not hidden and self._pattern is None and not self._personal_in(graph):
            # Nothing to hide (a store without people, e.g. a generated network): no copy.
            return graph
        out = nx.MultiDiGraph()
        out.graph.update(graph.graph)
        out.add_nodes_from(
            (n, self.doc(data)) for n, data in graph.nodes(data=True) if n not in hidden
        )
        out.add_edges_from(
            (u, v, k, self.doc(data))
            for u, v, k, data in graph.edges(keys=True, data=True)
            if self.link_visible(data, hidden)
        )
        return out
