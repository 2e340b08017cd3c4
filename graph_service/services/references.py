"""Node references: what a person may give where a route or a command wants a node.

A reference is, tried in this order:

1. a node id (``village:370302112206``); the id of a node merged into another since
   (``graph_service.services.review``) names the node it was merged into;
2. a division code of 2, 4, 6, 9 or 12 digits: the region or village whose own code it is;
3. a name or alias that exactly one node has, compared as search compares names
   (:func:`graph_service.search_text.fold`: ``臺頭村`` is ``台头村``; full-width forms and
   invisible characters count for nothing).

Every lookup goes through the caller's :class:`~graph_service.services.view.GraphView`: a
node the caller may not see (a person, for the public) is found neither by its id nor by
its name, and the answer is the one an unknown reference gets.

A reference that matches nothing is a 404 naming the field (``no node …``). A name that
several nodes have is a 422 with the code ``ambiguous_reference`` and the candidates in
``details.candidates`` (id, name, label, kind, region code and name as ``GraphView.refs``
gives them, and ``region``, the place from the city down), so that the caller can give an
id or a code instead. 422, not 409: nothing stored conflicts with the request; the request is not
precise enough to act on.

Routes and commands resolve references before they call a service, or the service resolves
the references of its request body, and everything after works with the canonical ids: the
answers carry the resolved id, never the name given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from graph_service.domain import MAX_REFERENCE_CANDIDATES, REGION_CODE_LENGTHS, code_ancestors
from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.models import ID_PATTERN, NodeDoc
from graph_service.register import region_id
from graph_service.schema import NODE_LABELS
from graph_service.search_text import clean
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.review import redirects
from graph_service.services.view import GraphView

__all__ = [
    "AMBIGUOUS",
    "region_names",
    "resolve_node",
    "resolve_nodes",
    "resolve_scope",
]

#: The problem code of a name several nodes have.
AMBIGUOUS = "ambiguous_reference"
_ID = re.compile(ID_PATTERN)
#: Where a node is, as a person reads it, starts at the city: a province adds little.
_PLACE_FROM = REGION_CODE_LENGTHS[1]


async def resolve_node(
    view: GraphView, reference: str, field: str, as_of: dt.date | None = None
) -> str:
    """The id of the one node ``reference`` names for this caller (see the module docstring).

    A stored node id is returned as given (a merged one as the node it was merged into):
    what uses it looks it up anyway and
    answers an unknown or hidden one as it always has. Names are matched among the nodes
    valid on ``as_of`` (any day when ``None``).

    Raises
    ------
    NotFoundError
        Nothing the caller may see has this id, code or name.
    InvalidInputError
        Several nodes have this name (code :data:`AMBIGUOUS`, candidates in ``details``).
    """
    text = clean(reference)
    if _ID.fullmatch(text) and ":" in text:
        if await view.store.get_nodes([text]):
            return text
        # Not stored: merged into another node since, perhaps (one more read, only then).
        return (await redirects(view.store, [text])).get(text, text)
    if _ID.fullmatch(text) and not text.isdigit() and await view.get_nodes([text]):
        return text
    # Division codes and names: exact hits of the caller's own search (codes match only
    # the region or village whose code it is).
    hits = await view.search(text, (), MAX_REFERENCE_CANDIDATES + 1, as_of) if text else []
    exact = [hit.node for hit in hits if hit.match == "exact"]
    if len(exact) == 1:
        return str(exact[0]["id"])
    if not exact:
        raise NotFoundError(f"no node {reference}", field=field)
    shown = exact[:MAX_REFERENCE_CANDIDATES]
    count = f"more than {len(shown)}" if len(exact) > len(shown) else str(len(exact))
    # Each as lists name nodes (GraphView.refs), with the whole place beside the region's
    # name: two 大庄村 may lie in two towns of one name.
    refs = await view.refs(doc["id"] for doc in shown)
    places = await region_names(view, shown)
    candidates = [{**refs[doc["id"]], "region": places.get(doc["id"])} for doc in shown]
    raise InvalidInputError(
        f"{reference} names {count} nodes: give the id (or division code) of one",
        field=field,
        code=AMBIGUOUS,
        details={"candidates": candidates},
    )


async def resolve_nodes(
    view: GraphView, references: Sequence[str], field: str, as_of: dt.date | None = None
) -> list[str]:
    """:func:`resolve_node` for each of a list; an error names ``field.<index>``."""
    return [
        await resolve_node(view, reference, f"{field}.{index}", as_of)
        for index, reference in enumerate(references)
    ]


async def resolve_scope(view: GraphView, scope: AnalysisScope) -> AnalysisScope:
    """``scope`` with the node of a ``body:`` or ``node:`` scope given by its id (an error
    names the field ``body`` or ``scope``, as ``GraphView.graph`` does)."""
    if scope.kind not in ("body", "neighbourhood") or scope.value is None:
        return scope
    field = "body" if scope.kind == "body" else "scope"
    node_id = await resolve_node(view, scope.value, field, scope.as_of)
    return dataclasses.replace(scope, value=node_id)


async def region_names(view: GraphView, docs: Iterable[NodeDoc | dict[str, Any]]) -> dict[str, str]:
    """Where each node is, as a person reads it: the names of the regions it lies in from
    the city down (``德州市平原县王杲铺镇`` for a village), by node id; a node without a
    division code is left out."""
    paths: dict[str, list[str]] = {}
    for doc in docs:
        code = doc.get("region_code")
        if not code:
            continue
        codes = [c for c in code_ancestors(code) if len(c) >= _PLACE_FROM]
        # A region's or a village's code is its own; anything else lies in that region.
        if not NODE_LABELS[doc["label"]].official_code and len(code) in REGION_CODE_LENGTHS:
            codes.append(code)
        paths[doc["id"]] = codes
    wanted = sorted({region_id(c) for codes in paths.values() for c in codes})
    regions = await view.get_nodes(wanted)
    names = {doc["region_code"]: doc["name"] for doc in regions.values()}
    return {
        node_id: "".join(names[c] for c in codes if c in names)
        for node_id, codes in paths.items()
        if any(c in names for c in codes)
    }
