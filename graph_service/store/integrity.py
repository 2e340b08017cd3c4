"""Write rules every backend enforces inside its write transaction.

The functions take what the backend read in that transaction (labels of existing nodes,
existing links) and raise the domain error for the first batch entry at fault, naming it as
``nodes.3.label`` / ``links.0.source`` so the edge can point at the field. The order in which
they run is :func:`graph_service.store.batch.apply_batch`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from graph_service.access import region_within, scope_label
from graph_service.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import LINK_TYPES, link_allows
from graph_service.store.protocol import WriteBatch

__all__ = [
    "check_batch_ids",
    "check_deletable",
    "check_duplicates",
    "check_links",
    "check_new_judgements",
    "check_node_labels",
    "check_scope",
    "check_stored",
]


def check_batch_ids(batch: WriteBatch) -> None:
    """Each node and link at most once a batch; checked before a transaction is opened."""
    check_duplicates([n["id"] for n in batch.nodes], "nodes")
    check_duplicates([link["id"] for link in batch.links], "links")


def check_duplicates(batch_ids: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for index, item_id in enumerate(batch_ids):
        if item_id in seen:
            raise InvalidInputError(
                f"{item_id} appears twice in one batch", field=f"{what}.{index}.id"
            )
        seen.add(item_id)


def check_node_labels(nodes: Sequence[NodeDoc], stored_labels: Mapping[str, str]) -> None:
    """A node keeps its label for life: its links were checked against it."""
    for index, node in enumerate(nodes):
        stored = stored_labels.get(node["id"])
        if stored is not None and stored != node["label"]:
            raise ConflictError(
                f"node {node['id']} exists with label {stored}; delete it to change its label",
                field=f"nodes.{index}.label",
            )


def check_links(
    links: Sequence[LinkDoc],
    labels: Mapping[str, str],
    stored_links: Mapping[str, Mapping[str, Any]],
) -> None:
    """Endpoints exist, the registry allows the pair, and a stored link keeps its shape.

    ``labels`` maps node ids (stored or written in the same batch) to labels;
    ``stored_links`` maps ids of links already stored to their type, source and target.
    """
    for index, link in enumerate(links):
        for end in ("source", "target"):
            if link[end] not in labels:
                raise NotFoundError(f"no node {link[end]}", field=f"links.{index}.{end}")
        if link["type"] not in LINK_TYPES:
            raise InvalidInputError(
                f"unknown link type {link['type']}", field=f"links.{index}.type"
            )
        source_label, target_label = labels[link["source"]], labels[link["target"]]
        if not link_allows(link["type"], source_label, target_label):
            raise InvalidInputError(
                f"{link['type']} cannot join a {source_label} to a {target_label}",
                field=f"links.{index}.type",
                details={"allowed": _allowed(link["type"])},
            )
        stored = stored_links.get(link["id"])
        if stored is not None and (
            stored["type"] != link["type"]
            or stored["source"] != link["source"]
            or stored["target"] != link["target"]
        ):
            raise ConflictError(
                f"link {link['id']} exists as {stored['type']} {stored['source']} → "
                f"{stored['target']}; delete it to change its type or ends",
                field=f"links.{index}.id",
            )


def check_stored(item_id: str, stored: Collection[str], noun: str, field: str) -> None:
    """What a batch deletes is stored: ``noun`` names the thing, ``field`` the batch entry."""
    if item_id not in stored:
        raise NotFoundError(f"no {noun} {item_id}", field=field)


def check_deletable(index: int, node_id: str, links: Sequence[str], detach: bool) -> None:
    """A node with links goes only with ``detach``: deleting it deletes them too."""
    if links and not detach:
        raise ConflictError(
            f"node {node_id} still has {len(links)} link(s); delete them first "
            "or delete with detach",
            field=f"delete_nodes.{index}",
            details={"links": len(links)},
        )


def check_new_judgements(ids: Sequence[str], stored: Collection[str]) -> None:
    """Judgements are appended, never rewritten: a stored id is a conflict."""
    for index, judgement_id in enumerate(ids):
        if judgement_id in stored:
            raise ConflictError(
                f"judgement {judgement_id} exists; judgements are never rewritten",
                field=f"judgements.{index}.id",
            )


def check_scope(
    scope: str | None,
    account: str,
    field: str,
    regions: Sequence[str | None],
    any_end: bool = False,
) -> None:
    """The account's write scope covers the region(s) an entry writes
    (``graph_service.access``).

    ``regions`` are a node's region codes (stored and new: both must be inside) or, with
    ``any_end``, a link's ends' (one inside is enough). ``scope`` ``None`` writes everywhere.
    """
    if scope is None:
        return
    inside = [region_within(code, scope) for code in regions]
    if any(inside) if any_end else all(inside):
        return
    outside = next(code for code, ok in zip(regions, inside, strict=True) if not ok) or ""
    what = "neither end of the link is" if any_end else "the region is"
    raise ForbiddenError(
        f"{what} inside the account's scope: region {scope_label(outside)}, account "
        f"{account!r} writes in {scope_label(scope)}",
        field=field,
        code="outside_scope",
        details={"region": outside or None, "scope": scope, "account": account},
    )


def _allowed(type_: str) -> dict[str, list[str]]:
    spec = LINK_TYPES[type_]
    return {"sources": sorted(spec.sources), "targets": sorted(spec.targets)}
