"""Domain constants, each defined once: division levels and codes, measure names, limits.

Everything that would otherwise be spelled in several places (a route's bounds, the CLI's
options, an analysis' default, the explorer's payloads) is defined here and imported. The
schema registry (``graph_service.schema``) holds the vocabulary of labels and link types;
this module holds the numbers and names around them.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CENTRALITY_MEASURES",
    "REGION_CODE_LENGTHS",
    "REGION_LEVELS",
    "VILLAGE_CODE_LENGTH",
    "child_code_length",
    "code_ancestors",
    "is_region_code",
    "parent_code",
]

# ---------------------------------------------------------------------------------------
# Administrative divisions (the national statistical division codes)
# ---------------------------------------------------------------------------------------

#: Region kinds and the length of their official division code.
REGION_LEVELS: Final[dict[str, int]] = {"省": 2, "市": 4, "县": 6, "乡镇": 9}
#: Villages (行政村, 社区) carry a 12-digit code.
VILLAGE_CODE_LENGTH: Final[int] = 12
#: The code lengths of regions, top down.
REGION_CODE_LENGTHS: Final[tuple[int, ...]] = tuple(REGION_LEVELS.values())
#: Every code length of the register, regions and villages.
DIVISION_CODE_LENGTHS: Final[tuple[int, ...]] = (*REGION_CODE_LENGTHS, VILLAGE_CODE_LENGTH)
#: A county's code length: pairings and recommendations are decided per county.
COUNTY_CODE_LENGTH: Final[int] = REGION_LEVELS["县"]
#: Pattern of a region code in a request (2, 4, 6 or 9 digits).
REGION_CODE_PATTERN: Final[str] = (
    "^(" + "|".join(f"[0-9]{{{n}}}" for n in REGION_CODE_LENGTHS) + ")$"
)


def is_region_code(code: str) -> bool:
    """Whether ``code`` is a region's division code (2, 4, 6 or 9 digits)."""
    return code.isdigit() and len(code) in REGION_CODE_LENGTHS


def child_code_length(code: str) -> int | None:
    """The code length of a division's children (a town's are villages); ``None`` for a
    village or a code of no level."""
    lengths = DIVISION_CODE_LENGTHS
    if len(code) not in lengths[:-1]:
        return None
    return lengths[lengths.index(len(code)) + 1]


def parent_code(code: str) -> str | None:
    """The code of the division above ``code``; ``None`` for a province or no level."""
    lengths = DIVISION_CODE_LENGTHS
    if len(code) not in lengths[1:]:
        return None
    return code[: lengths[lengths.index(len(code)) - 1]]


def code_ancestors(code: str) -> list[str]:
    """The codes of every division above ``code``, top down."""
    return [code[:n] for n in REGION_CODE_LENGTHS if n < len(code)]


# ---------------------------------------------------------------------------------------
# Analyses
# ---------------------------------------------------------------------------------------

#: Centrality measures the service computes, in the order reports list them.
CENTRALITY_MEASURES: Final[tuple[str, ...]] = (
    "degree",
    "weighted_degree",
    "betweenness",
    "closeness",
    "harmonic",
    "eigenvector",
    "pagerank",
)
