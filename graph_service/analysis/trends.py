"""Summaries of a scope for a situation page: links in force year by year, and the
distribution of link strength.

Both are pure functions over what the other analyses already compute: a scope's
``networkx.MultiDiGraph`` (links carry ``type``, ``valid_from`` and ``valid_to`` as ISO dates)
and a list of strength scores in [0, 1].
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from graph_service.analysis.graphs import valid_on
from graph_service.schema import STRUCTURAL_LINK_TYPES

__all__ = ["Histogram", "YearCounts", "links_by_year", "strength_histogram", "year_span"]


@dataclass(frozen=True, slots=True)
class YearCounts:
    """Links in force on the last day of each year, per link type."""

    years: list[int]
    #: Link type → one count per year of ``years``; types with no link in any year left out.
    counts: dict[str, list[int]]
    #: Link type → how many of its counted links have no start date (in force every year
    #: before their end, as the as-of analyses read them).
    undated: dict[str, int]


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of values in equal bins over [0, 1]; the last bin includes 1."""

    edges: list[float]
    counts: list[int]
    total: int
    median: float | None


def year_span(G: nx.MultiDiGraph, until: dt.date, earliest: int | None = None) -> list[int]:
    """The years from the year before the first year a link of ``G`` starts in (so the line
    starts before its first link; or ``earliest``, if later) to the year of ``until``; only
    ``until``'s year when no link has a start date.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The scope; link attributes ``valid_from`` are ISO dates (or absent).
    until : datetime.date
        The last day of interest.
    earliest : int, optional
        A floor on the first year (old founding dates would stretch the axis for nothing).
    """
    starts = [
        int(str(d["valid_from"])[:4])
        for _, _, d in G.edges(data=True)
        if d.get("valid_from") and str(d["valid_from"])[:4].isdigit()
    ]
    first = min(starts) - 1 if starts else until.year
    if earliest is not None:
        first = max(first, earliest)
    return list(range(min(first, until.year), until.year + 1))


def links_by_year(
    G: nx.MultiDiGraph,
    years: Sequence[int],
    until: dt.date,
    link_types: Iterable[str] | None = None,
) -> YearCounts:
    """Count the links of each type in force on 31 December of each year.

    A link is in force on a day when the day lies within its ``valid_from`` … ``valid_to``
    (either bound may be missing), exactly as the as-of analyses read it, so the last point
    agrees with an analysis ``as_of`` the same day. The year of ``until`` is counted on
    ``until`` itself (the year is not over).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        The scope; each link's ``type`` attribute is its link type.
    years : sequence of int
        The years to count, ascending.
    until : datetime.date
        The day the current year is counted on; years after it are not counted.
    link_types : iterable of str, optional
        The types to count; every non-structural type by default.

    Returns
    -------
    YearCounts

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_edge("a", "b", type="PAIRS_WITH", valid_from="2020-03-01", valid_to="2021-06-30")
    0
    >>> links_by_year(G, [2019, 2020, 2021], dt.date(2021, 12, 31)).counts
    {'PAIRS_WITH': [0, 1, 0]}
    """
    wanted = set(link_types) if link_types is not None else None
    days = [min(dt.date(year, 12, 31), until) for year in years if year <= until.year]
    counts: dict[str, list[int]] = {}
    undated: dict[str, int] = {}
    for _, _, data in G.edges(data=True):
        type_ = str(data.get("type"))
        if (wanted is None and type_ in STRUCTURAL_LINK_TYPES) or (
            wanted is not None and type_ not in wanted
        ):
            continue
        row = counts.setdefault(type_, [0] * len(days))
        if not data.get("valid_from"):
            undated[type_] = undated.get(type_, 0) + 1
        for index, day in enumerate(days):
            if valid_on(data, day):
                row[index] += 1
    kept = {t: row for t, row in sorted(counts.items()) if any(row)}
    return YearCounts(list(years[: len(days)]), kept, {t: undated.get(t, 0) for t in kept})


def strength_histogram(scores: Iterable[float], bins: int = 10) -> Histogram:
    """Count ``scores`` (each in [0, 1]) in ``bins`` equal bins; a score equal to a bin's upper
    edge falls in the next bin, and 1.0 in the last.

    Parameters
    ----------
    scores : iterable of float
        Link strength scores (``analysis.strength``), each in [0, 1].
    bins : int
        How many bins (at least 1).

    Returns
    -------
    Histogram
        ``edges`` has ``bins + 1`` values from 0 to 1; ``median`` is ``None`` without scores.

    Raises
    ------
    ValueError
        When ``bins`` < 1 or a score lies outside [0, 1] (or is not a number).

    Examples
    --------
    >>> strength_histogram([0.05, 0.1, 0.95, 1.0], bins=2).counts
    [2, 2]
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    values = [float(s) for s in scores]
    counts = [0] * bins
    for value in values:
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"a strength score lies outside [0, 1]: {value}")
        # Rounded first so 0.3 (0.299999… × 10) lands in the bin that starts at 0.3.
        counts[min(int(round(value * bins, 9)), bins - 1)] += 1
    edges = [round(i / bins, 9) for i in range(bins + 1)]
    median = statistics.median(values) if values else None
    return Histogram(edges, counts, len(values), median)
