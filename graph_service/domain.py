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
    "COUNTY_CODE_LENGTH",
    "DEFAULT_NEIGHBOURHOOD",
    "DIVISION_CODE_LENGTHS",
    "EXPORT_METRICS",
    "MAX_CANDIDATES",
    "MAX_DEPTH",
    "MAX_EXPORT_NODES",
    "MAX_LISTED",
    "MAX_LISTED_MEMBERS",
    "MAX_LISTED_UNCOVERED",
    "MAX_NEIGHBOURHOOD",
    "MAX_PAGE",
    "MAX_PATHS",
    "MAX_RECORDED_CHANGES",
    "MAX_REFERENCE_CANDIDATES",
    "MAX_TOP",
    "MEASURE_LABELS_ZH",
    "MEMBERSHIP_LINK_TYPES",
    "MIN_BETWEENNESS_SAMPLE",
    "PAIRING_LINK_TYPES",
    "PLAN_STEP_EXAMPLES",
    "REGION_CODE_LENGTHS",
    "REGION_CODE_PATTERN",
    "REGION_LEVELS",
    "STRONG_LINK_THRESHOLD",
    "TIE_LINK_TYPES",
    "VILLAGE_CODE_LENGTH",
    "WEAK_INCOME_YUAN",
    "WEAK_MIN_TIE_LINKS",
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
# Link-type families
# ---------------------------------------------------------------------------------------

#: The 联建 relations between actors: non-structural links that are not a category tag
#: (``IN_INDUSTRY``, ``PART_OF_PROGRAM``) or a person's post (``HOLDS_POSITION``). Link
#: strength's overlap graph and the strongest/weakest links read these.
TIE_LINK_TYPES: Final[frozenset[str]] = frozenset(
    {
        "MEMBER_OF",
        "CO_BUILDS",
        "PAIRS_WITH",
        "LEADS_COOPERATIVE",
        "SUPPLIES",
        "FINANCES",
        "DISPATCHES",
    }
)
#: Pairings between two actors that planners decide (结对帮扶, 联建共建): what the
#: recommender proposes and its evaluation hides.
PAIRING_LINK_TYPES: Final[tuple[str, ...]] = ("PAIRS_WITH", "CO_BUILDS")
#: How a village belongs to a joint body: through its party organization (``ORGANIZATION_OF``)
#: being a member (``MEMBER_OF``).
MEMBERSHIP_LINK_TYPES: Final[tuple[str, ...]] = ("MEMBER_OF", "ORGANIZATION_OF")

# ---------------------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------------------

#: A village earning less than this collective income a year counts as weak (the
#: generator's threshold; 平凉 reports 联建 villages at 村均22.8万元).
WEAK_INCOME_YUAN: Final[float] = 100_000.0
#: A village of unknown standing (no ``weak`` flag, no collective income) with fewer 联建
#: links than this counts as weak: 1 flags the isolated ones
#: (:mod:`graph_service.analysis.weakness`).
WEAK_MIN_TIE_LINKS: Final[int] = 1
#: A link at least this strong (0..1) counts as a strong tie in coverage.
STRONG_LINK_THRESHOLD: Final[float] = 0.5

# ---------------------------------------------------------------------------------------
# Limits: what one request may ask for
# ---------------------------------------------------------------------------------------

#: Hops of a neighbourhood or a node scope.
MAX_DEPTH: Final[int] = 3
#: Items per page of a list.
MAX_PAGE: Final[int] = 1000
#: Nodes of one neighbourhood answer.
MAX_NEIGHBOURHOOD: Final[int] = 5000
#: Nodes of a neighbourhood when the caller names no limit (the route's and the explorer's).
DEFAULT_NEIGHBOURHOOD: Final[int] = 500
#: Shortest paths in one answer.
MAX_PATHS: Final[int] = 50
#: Rows of a top-N analysis.
MAX_TOP: Final[int] = 500
#: Candidates of one partner recommendation, and PageRank risers of one what-if.
MAX_CANDIDATES: Final[int] = 100
#: Villages a coverage analysis lists per list (weak villages, villages without a body).
MAX_LISTED: Final[int] = 100_000
#: Uncovered villages the region coverage roll-up lists per row.
MAX_LISTED_UNCOVERED: Final[int] = 10_000
#: Members a community analysis lists per community.
MAX_LISTED_MEMBERS: Final[int] = 10_000
#: Nodes of one export.
MAX_EXPORT_NODES: Final[int] = 20_000
#: Examples of what a step of a plan's funnel removed, per step.
PLAN_STEP_EXAMPLES: Final[int] = 5
#: Nodes an ambiguous node reference (a name several nodes have) lists as candidates.
MAX_REFERENCE_CANDIDATES: Final[int] = 20
#: History entries one record-time read (``recorded_as_of``) replays at most: the changes
#: to nodes and links since the moment asked for.
MAX_RECORDED_CHANGES: Final[int] = 500_000

# ---------------------------------------------------------------------------------------
# Analyses
# ---------------------------------------------------------------------------------------

#: Fewest sampled sources of an estimated betweenness: one source ranks nothing (its own
#: shortest-path tree), and the estimate divides by k - 1.
MIN_BETWEENNESS_SAMPLE: Final[int] = 2
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
#: The measures' names as a planner reads them (the explorer's 节点大小 and badges).
MEASURE_LABELS_ZH: Final[dict[str, str]] = {
    "degree": "度中心性",
    "weighted_degree": "加权度",
    "betweenness": "中介中心性",
    "closeness": "接近中心性",
    "harmonic": "调和中心性",
    "eigenvector": "特征向量中心性",
    "pagerank": "PageRank",
}

#: Node scores an export can size nodes by.
EXPORT_METRICS: Final[tuple[str, ...]] = (
    "degree",
    "weighted_degree",
    "pagerank",
    "betweenness",
    "strength",
)
