"""Which villages are weak (薄弱村): one definition for coverage, the recommender and plans.

A village is **weak** when

- it is listed weak (attribute ``weak`` true): ``listed_weak``;
- its collective income a year is below :data:`~graph_service.domain.WEAK_INCOME_YUAN`:
  ``low_income``;
- nothing is recorded of its standing (no ``weak`` flag, no collective income) and it has
  fewer than :data:`~graph_service.domain.WEAK_MIN_TIE_LINKS` 联建 links
  (:data:`~graph_service.domain.TIE_LINK_TYPES`, of the village or its party
  organizations): ``few_links``.

The third test applies only where the first two cannot: a flag or an income figure says how a
village stands, and a village known to be strong is no 薄弱村 for lacking a link — it is a
coverage gap, and it can still lead a weak village (以强带弱). Where neither is recorded (the
register extract of the seed graph has names and codes only), a village no 联建 link reaches
is the one a planner looks at first.

:func:`~graph_service.analysis.coverage.coverage_report` lists the weak villages with these
reasons; :class:`~graph_service.analysis.recommend.RecommenderIndex` marks them (they are
helped, never helpers, in pairings) and :func:`~graph_service.analysis.assignment.plan_region`
plans for them by default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph_service.domain import TIE_LINK_TYPES, WEAK_INCOME_YUAN, WEAK_MIN_TIE_LINKS

__all__ = [
    "VillageWeakness",
    "collective_income",
    "organizations_of",
    "tie_link_count",
    "village_weakness",
    "weak_reasons",
]


@dataclass(frozen=True, slots=True)
class VillageWeakness:
    """What the definition reads of one village, and its verdict."""

    #: ``listed_weak``, ``low_income``, ``few_links`` (in that order); empty when not weak.
    reasons: tuple[str, ...]
    collective_income_yuan: float | None
    #: 联建 links of the village and its party organizations.
    tie_links: int
    #: Whether its standing is recorded (a ``weak`` flag or a collective income).
    known: bool

    @property
    def weak(self) -> bool:
        return bool(self.reasons)


def collective_income(attributes: Mapping[str, Any]) -> float | None:
    """The village's collective income a year (元), ``None`` when not a finite number."""
    value = attributes.get("collective_income_yuan")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def weak_reasons(
    listed: object,
    income: float | None,
    tie_links: int,
    *,
    income_yuan: float = WEAK_INCOME_YUAN,
    min_links: int = WEAK_MIN_TIE_LINKS,
) -> tuple[str, ...]:
    """Why a village is weak (empty: it is not).

    Parameters
    ----------
    listed : object
        The village's ``weak`` attribute (a bool when recorded).
    income : float or None
        Its collective income a year, when recorded.
    tie_links : int
        Its 联建 links (with its party organizations').
    income_yuan, min_links
        The thresholds (defaults from :mod:`graph_service.domain`).

    Examples
    --------
    >>> weak_reasons(True, 50_000.0, 3)
    ('listed_weak', 'low_income')
    >>> weak_reasons(None, None, 0), weak_reasons(False, None, 0), weak_reasons(None, 2e5, 0)
    (('few_links',), (), ())
    """
    why = []
    if listed is True:
        why.append("listed_weak")
    if income is not None and income < income_yuan:
        why.append("low_income")
    if not isinstance(listed, bool) and income is None and tie_links < min_links:
        why.append("few_links")
    return tuple(why)


def organizations_of(H: nx.MultiDiGraph, village: Any) -> list[Any]:
    """The village's party organizations: the sources of its ``ORGANIZATION_OF`` links."""
    return sorted(
        {a for a, _, d in H.in_edges(village, data=True) if d.get("type") == "ORGANIZATION_OF"},
        key=str,
    )


def tie_link_count(H: nx.MultiDiGraph, actors: Iterable[Any]) -> int:
    """Distinct 联建 links (:data:`~graph_service.domain.TIE_LINK_TYPES`) touching any of
    ``actors`` (a village and its organizations: a link between two of them counts once)."""
    keys: set[Any] = set()
    for actor in actors:
        for edges in (
            H.out_edges(actor, keys=True, data=True),
            H.in_edges(actor, keys=True, data=True),
        ):
            keys.update((a, b, k) for a, b, k, d in edges if d.get("type") in TIE_LINK_TYPES)
    return len(keys)


def village_weakness(
    H: nx.MultiDiGraph,
    village: Any,
    organizations: Iterable[Any] | None = None,
    *,
    income_yuan: float = WEAK_INCOME_YUAN,
    min_links: int = WEAK_MIN_TIE_LINKS,
) -> VillageWeakness:
    """Whether ``village`` of ``H`` is weak, and why.

    Parameters
    ----------
    H : networkx.MultiDiGraph
        The graph as the caller reads it (links already filtered to a day, if any).
    village : node
        A ``Village`` node of ``H``.
    organizations : iterable, optional
        Its party organizations, when the caller has them (:func:`organizations_of`).
    income_yuan, min_links
        The thresholds of :func:`weak_reasons`.

    Returns
    -------
    VillageWeakness
    """
    attrs = H.nodes[village].get("attributes") or {}
    listed = attrs.get("weak")
    income = collective_income(attrs)
    orgs = organizations_of(H, village) if organizations is None else list(organizations)
    links = tie_link_count(H, [village, *orgs])
    return VillageWeakness(
        reasons=weak_reasons(listed, income, links, income_yuan=income_yuan, min_links=min_links),
        collective_income_yuan=income,
        tie_links=links,
        known=isinstance(listed, bool) or income is not None,
    )
