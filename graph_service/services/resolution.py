"""Name resolution against the graph: one service for the API, import, extraction and review.

A name is resolved among the nodes of a region scope (a town or a county, or anything under
a division code), as the caller may see them, by :func:`graph_service.names.rank_names`:
ranked candidates, each with a score, the features behind it and a planner's explanation.
Without a region, candidates come from the store's name search (the name and its core, the
name without its organisation suffix), across the country.

Candidate sets are cached per scope, label, store version and visibility (a county's few
thousand nodes are read once per change of the graph, not once per row of an import).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graph_service.domain import REGION_CODE_LENGTHS, code_ancestors
from graph_service.errors import InvalidInputError
from graph_service.names import NameCandidate, NameMatch, name_form, normalise, rank_names
from graph_service.register import region_id
from graph_service.schema import NODE_LABELS
from graph_service.search_text import clean
from graph_service.services.view import GraphView
from graph_service.store.protocol import NodeQuery

__all__ = [
    "MAX_SCOPE_NODES",
    "NameResolver",
    "Resolution",
    "candidate_of",
    "match_json",
]

#: A scope larger than this is refused: name resolution is for a town or a county.
MAX_SCOPE_NODES = 50_000
_PAGE = 5_000
_CACHED_SCOPES = 32
#: Without a region: search hits read per form of the name.
_SEARCH_HITS = 200


@dataclass(frozen=True, slots=True)
class Resolution:
    """The ranked candidates for one name."""

    name: str
    normalised: str
    core: str
    label: str | None
    region_code: str | None
    matches: list[NameMatch]

    def shown(self) -> dict[str, Any]:
        """The query as compared and the candidates, as the API and the CLI show them."""
        return {
            "query": {
                "name": self.name,
                "normalised": self.normalised,
                "core": self.core,
                "label": self.label,
                "region_code": self.region_code,
            },
            "candidates": [match_json(m) for m in self.matches],
        }


def candidate_of(doc: dict[str, Any]) -> NameCandidate:
    """A node document as :mod:`graph_service.names` compares it."""
    attributes = doc.get("attributes") or {}
    return NameCandidate(
        id=str(doc["id"]),
        name=str(doc["name"]),
        label=str(doc["label"]),
        aliases=tuple(doc.get("aliases") or ()),
        kind=doc.get("kind"),
        region_code=doc.get("region_code"),
        credit_code=attributes.get("credit_code"),
    )


def match_json(match: NameMatch) -> dict[str, Any]:
    """A match as the API and the review queue show it."""
    candidate = match.candidate
    return {
        "node": {
            "id": candidate.id,
            "name": candidate.name,
            "label": candidate.label,
            "kind": candidate.kind,
            "region_code": candidate.region_code,
        },
        "score": match.score,
        "matched": match.matched,
        "features": dict(match.features),
        "explanation": list(match.explanation),
    }


class NameResolver:
    """Resolves names for one process (shared by every request)."""

    def __init__(self) -> None:
        self._scopes: OrderedDict[tuple[Any, ...], tuple[list[NameCandidate], list[str]]] = (
            OrderedDict()
        )

    async def resolve(
        self,
        view: GraphView,
        name: str,
        *,
        label: str | None = None,
        region_code: str | None = None,
        credit_code: str | None = None,
        limit: int = 10,
        min_score: float = 0.5,
    ) -> Resolution:
        """Rank the nodes ``name`` may mean (see the module docstring).

        Raises
        ------
        InvalidInputError
            An unknown label (field ``label``), a region code of no division level or a
            scope over :data:`MAX_SCOPE_NODES` nodes (field ``region``), an empty name.
        """
        text = clean(name)
        if not normalise(text):
            raise InvalidInputError("the name is empty", field="name")
        if label is not None and label not in NODE_LABELS:
            raise InvalidInputError(
                f"unknown label {label}; one of {', '.join(NODE_LABELS)}", field="label"
            )
        if region_code is not None:
            candidates, region_names = await self.scope(view, region_code)
        else:
            candidates, region_names = await self._searched(view, text, label), []
        matches = rank_names(
            text,
            candidates,
            label=label,
            credit_code=credit_code,
            region_names=region_names,
            limit=limit,
            min_score=min_score,
        )
        form = name_form(text, region_names, label)
        return Resolution(text, form.text, form.core, label, region_code, matches)

    async def scope(
        self, view: GraphView, region_code: str
    ) -> tuple[list[NameCandidate], list[str]]:
        """The nodes under ``region_code`` this caller may see, and the names of the region
        and the regions above it (prefixes a name may carry: ``平原县森力啤酒有限公司``)."""
        code = clean(region_code)
        if not code.isdigit() or len(code) not in REGION_CODE_LENGTHS:
            raise InvalidInputError(
                f"region_code {region_code!r} is not a division code (2, 4, 6, 9 or 12 digits)",
                field="region",
            )
        policy = await view.policy()
        key = (code, await view.store.version(), policy.full)
        cached = self._scopes.get(key)
        if cached is not None:
            self._scopes.move_to_end(key)
            return cached
        candidates: list[NameCandidate] = []
        cursor: str | None = None
        while True:
            page = await view.list_nodes(NodeQuery(region_code=code), cursor, _PAGE)
            candidates.extend(candidate_of(doc) for doc in page.items)
            if len(candidates) > MAX_SCOPE_NODES:
                raise InvalidInputError(
                    f"region {code} holds more than {MAX_SCOPE_NODES} nodes: resolve names "
                    "within a county or a town",
                    field="region",
                    code="above_cap",
                )
            cursor = page.next_cursor
            if cursor is None:
                break
        regions = await view.get_nodes([region_id(c) for c in [*code_ancestors(code), code]])
        region_names = sorted(
            {form for doc in regions.values() for form in _region_forms(str(doc["name"]))},
            key=len,
            reverse=True,
        )
        self._scopes[key] = (candidates, region_names)
        while len(self._scopes) > _CACHED_SCOPES:
            self._scopes.popitem(last=False)
        return candidates, region_names

    @staticmethod
    async def _searched(view: GraphView, text: str, label: str | None) -> list[NameCandidate]:
        labels = [label] if label else []
        forms = dict.fromkeys([text, name_form(text, (), label).core])
        found: dict[str, NameCandidate] = {}
        for form in forms:
            if len(form) < 2 and not form.isascii():
                continue
            for hit in await view.search(form, labels, _SEARCH_HITS):
                found.setdefault(str(hit.node["id"]), candidate_of(hit.node))
        return list(found.values())


def _region_forms(name: str) -> list[str]:
    """A region's name with and without its suffix (平原县, 平原)."""
    form = name_form(name, (), "Region")
    return [name] if form.core == form.text else [name, form.core]
