"""Query and path parameter types shared by the routes; choices come from the registry.

Names follow the one vocabulary of :mod:`graph_service.parameters`; a retired name a route
still accepts is declared ``deprecated`` beside the new one and merged by :func:`renamed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias, TypeVar

from fastapi import Path, Query

from graph_service import domain
from graph_service.errors import InvalidInputError
from graph_service.models import IsoDate
from graph_service.schema import LINK_TYPES, NODE_LABELS

__all__ = [
    "MAX_NEIGHBOURHOOD",
    "MAX_PAGE",
    "MAX_PATHS",
    "NODE_REFERENCE",
    "AsOf",
    "Cursor",
    "LinkId",
    "LinkType",
    "NodeId",
    "NodeLabel",
    "NodeRefPath",
    "PageLimit",
    "RegionCodePath",
    "RegionPrefix",
    "renamed",
]

_T = TypeVar("_T")
MAX_PAGE = domain.MAX_PAGE
MAX_NEIGHBOURHOOD = domain.MAX_NEIGHBOURHOOD
MAX_PATHS = domain.MAX_PATHS

if TYPE_CHECKING:
    NodeLabel: TypeAlias = str
    LinkType: TypeAlias = str
else:
    NodeLabel = Literal[tuple(NODE_LABELS)]
    LinkType = Literal[tuple(LINK_TYPES)]

AsOf = Annotated[
    IsoDate | None,
    Query(description="Only nodes and links valid on this date (YYYY-MM-DD)."),
]
Cursor = Annotated[
    str | None, Query(max_length=600, description="next_cursor of the previous page.")
]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page at most.")]
NodeId = Annotated[str, Path(min_length=1, max_length=128, description="Node id.")]
#: Where a node is read: its id, a division code, or a name or alias only one node has.
NODE_REFERENCE = "Node id, division code (2–12 digits) or a name only one node has."
NodeRefPath = Annotated[str, Path(min_length=1, max_length=128, description=NODE_REFERENCE)]
LinkId = Annotated[str, Path(min_length=1, max_length=128, description="Link id.")]
RegionCodePath = Annotated[
    str, Path(pattern=r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9})$", description="Division code.")
]
#: A division-code prefix filter on a list: the region and everything under it.
RegionPrefix = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{2,12}$",
        description="Division code: the region and everything under it (a prefix of "
        "2 to 12 digits).",
    ),
]


def renamed(name: str, value: _T | None, former: str, former_value: _T | None) -> _T | None:
    """The value of parameter ``name``, or of its retired name ``former`` (a deprecated
    alias); both given with different values is a 422."""
    if value is not None and former_value is not None and value != former_value:
        raise InvalidInputError(
            f"{former} is the former name of {name}: give {name} only", field=former
        )
    return value if value is not None else former_value
