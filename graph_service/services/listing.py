"""Lists in response bodies: a list that may be cut says so, and how to get the rest.

A list a body returns whole is a JSON array. A list the service may cut (top-N rows, the
villages of a county listed up to a limit, a community's members) is a *listing*::

    {"items": [...], "total": 427, "truncated": true,
     "more": {"parameter": "limit", "maximum": 100000}}

``total`` counts every row there is, ``truncated`` says ``items`` holds fewer, and ``more``
names the parameter that lists more (the query parameter of the route, the CLI option of the
same name, the request body's field) and its largest value; ``null`` when nothing was cut.
Paged routes (``/v1/nodes``, ``/v1/links``, judgements) page with ``next_cursor`` instead.

Nodes a person is meant to read come as references (``GraphView.refs``): id, name, label,
kind, region code and the name of the region the node lies in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Limit", "listing"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Limit:
    """How many rows a list shows at most, and the parameter (up to ``maximum``) that
    raises it."""

    value: int
    parameter: str
    maximum: int


def listing(rows: Sequence[T], limit: Limit, total: int | None = None) -> dict[str, Any]:
    """``rows`` cut at ``limit``, with their total and what was left out.

    ``total`` is ``len(rows)`` unless given: a caller that computed only the first rows
    (a top-N selection) states how many there were.
    """
    count = len(rows) if total is None else total
    items = list(rows[: limit.value])
    truncated = len(items) < count
    return {
        "items": items,
        "total": count,
        "truncated": truncated,
        "more": {"parameter": limit.parameter, "maximum": limit.maximum} if truncated else None,
    }
