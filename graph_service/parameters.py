"""The parameter vocabulary: one name per idea, meaning the same in every route and command.

``region`` is always a division code standing for that region and everything under it,
``top`` always how many of the best rows of a ranking, ``limit`` always a cap on a list
(a page, hits, paths), ``as_of`` always the day the graph is read on. The HTTP routes'
query parameters and the CLI's options use these names; the README's parameter table says
the same (``tests/test_parameters.py`` holds the three together).

``formerly`` are names this vocabulary retired: a route may still accept one as a deprecated
alias, no route or command may take it under its own name again. ``instead`` are the words
people reach for when they mean this one (``limit`` for ``top``, ``date`` for ``as_of``):
when a request names a query parameter a route does not take, the problem it gets back
suggests the route's own name for it (``graph_service.api.query``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["PARAMETERS", "Parameter", "by_name"]


@dataclass(frozen=True)
class Parameter:
    """One idea and its one name."""

    #: The query parameter (and, with dashes, the CLI option).
    name: str
    #: What it means wherever it is taken.
    meaning: str
    #: The CLI option; empty when no command takes it.
    cli: str = ""
    #: Retired names of the same idea (deprecated aliases at most).
    formerly: tuple[str, ...] = ()
    #: Words people use for it; suggested against, never taken.
    instead: tuple[str, ...] = ()


PARAMETERS: Final[tuple[Parameter, ...]] = (
    Parameter(
        "region",
        "a division code (2/4/6/9 digits): that region and everything under it",
        cli="--region",
        formerly=("region_code", "regions"),
        instead=("code", "county", "town", "division", "district", "area", "scope"),
    ),
    Parameter(
        "scope",
        "what an analysis or export covers: all, region:CODE, body:ID (a joint body) or "
        "node:ID (with depth hops around it)",
        cli="--scope",
        instead=("region", "body", "area", "county"),
    ),
    Parameter(
        "top",
        "how many of the best rows of a ranking (analyses, partners) to return",
        cli="--top",
        instead=("limit", "n", "count", "size", "max", "first", "best"),
    ),
    Parameter(
        "limit",
        "at most this many items of a list: a page (with cursor), search hits, paths, "
        "neighbourhood nodes, a list cut short",
        cli="--limit",
        instead=("top", "n", "count", "size", "max", "page_size", "per_page", "max_results"),
    ),
    Parameter(
        "cursor",
        "next_cursor of the previous page",
        instead=("page", "offset", "after", "next", "next_cursor", "skip"),
    ),
    Parameter(
        "as_of",
        "only nodes and links valid on this day (YYYY-MM-DD)",
        cli="--as-of",
        instead=("date", "asof", "day", "on", "at", "valid_on", "when"),
    ),
    Parameter(
        "from",
        "with to: the two days a change is measured between (YYYY-MM-DD)",
        cli="--from",
        instead=("date_from", "start", "begin", "since"),
    ),
    Parameter(
        "to",
        "the later day of a change (YYYY-MM-DD)",
        cli="--to",
        instead=("date_to", "end", "until"),
    ),
    Parameter(
        "link_type",
        "only links of these types (repeatable)",
        cli="--link-type",
        formerly=("type",),
        instead=("link_types", "types", "edge_type", "rel"),
    ),
    Parameter(
        "label",
        "only nodes of these labels (repeatable)",
        instead=("labels", "node_label", "node_type"),
    ),
    Parameter(
        "q",
        "search text: a name or an alias",
        instead=("query", "name", "text", "search", "keyword", "term"),
    ),
    Parameter(
        "recorded_as_of",
        "what the graph said at this moment, as the edit history recorded it (a timestamp "
        "with a time zone), back to the store's first history entry",
        cli="--recorded-as-of",
        instead=("recorded_at", "recorded", "as_recorded", "transaction_time", "system_time"),
    ),
    Parameter(
        "since",
        "history entries recorded at or after this moment (a timestamp with a time zone)",
        cli="--since",
        instead=("from", "after", "start", "begin"),
    ),
    Parameter(
        "until",
        "history entries recorded at or before this moment (a timestamp with a time zone)",
        cli="--until",
        instead=("to", "before", "end"),
    ),
    Parameter(
        "account",
        "an account's name: who made a change (the history), whose keys (keys)",
        cli="--account",
        instead=("user", "author", "by", "who"),
    ),
    Parameter(
        "decided_by",
        "the planner who made a judgement",
        cli="--decided-by",
        formerly=("by",),
        instead=("planner", "user", "who"),
    ),
)


def by_name() -> dict[str, Parameter]:
    """The vocabulary by name."""
    return {parameter.name: parameter for parameter in PARAMETERS}
