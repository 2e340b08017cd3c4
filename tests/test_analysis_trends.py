"""analysis.trends: links in force year by year and the strength histogram, hand-computed."""

from __future__ import annotations

import datetime as dt
import doctest

import networkx as nx
import pytest

from graph_service.analysis import trends
from graph_service.analysis.trends import links_by_year, strength_histogram, year_span


def _graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    # A pairing from March 2020 to June 2022; another since 2021; a membership without dates;
    # a structural link (never counted by default); a supply that ended on 31 Dec 2020.
    G.add_edge("e1", "v1", type="PAIRS_WITH", valid_from="2020-03-01", valid_to="2022-06-30")
    G.add_edge("e2", "v2", type="PAIRS_WITH", valid_from="2021-01-01")
    G.add_edge("o1", "b1", type="MEMBER_OF")
    G.add_edge("v1", "r1", type="IN_REGION", valid_from="2001-01-01")
    G.add_edge("c1", "e1", type="SUPPLIES", valid_from="2019-05-01", valid_to="2020-12-31")
    return G


def test_links_are_counted_on_the_last_day_of_each_year() -> None:
    found = links_by_year(_graph(), [2019, 2020, 2021, 2022, 2023], dt.date(2023, 12, 31))
    assert found.years == [2019, 2020, 2021, 2022, 2023]
    assert found.counts == {
        # 2020: the first pairing; 2021: both; 2022: the first ended on 30 June.
        "PAIRS_WITH": [0, 1, 2, 1, 1],
        # No dates: in force on every day, as the as-of analyses read it.
        "MEMBER_OF": [1, 1, 1, 1, 1],
        # 31 Dec 2020 is its last day, so it counts in 2020 (valid_to is inclusive).
        "SUPPLIES": [1, 1, 0, 0, 0],
    }
    assert found.undated == {"MEMBER_OF": 1, "PAIRS_WITH": 0, "SUPPLIES": 0}


def test_the_current_year_is_counted_on_the_day_asked() -> None:
    # On 1 Feb 2022 the first pairing still runs (it ends on 30 June).
    found = links_by_year(_graph(), [2021, 2022], dt.date(2022, 2, 1))
    assert found.counts["PAIRS_WITH"] == [2, 2]
    # Years after the day asked are not counted at all.
    later = links_by_year(_graph(), [2021, 2022, 2023], dt.date(2022, 2, 1))
    assert later.years == [2021, 2022]


def test_types_can_be_chosen_and_structural_ones_asked_for() -> None:
    found = links_by_year(_graph(), [2020], dt.date(2020, 12, 31), link_types=["IN_REGION"])
    assert found.counts == {"IN_REGION": [1]}
    none = links_by_year(_graph(), [2018], dt.date(2018, 12, 31), link_types=["PAIRS_WITH"])
    assert none.counts == {}  # a type with no link in force in any year is left out


def test_the_span_starts_the_year_before_the_first_dated_link() -> None:
    G = _graph()
    # The structural IN_REGION of 2001 starts earliest: 2000 …
    assert year_span(G, dt.date(2003, 6, 1)) == [2000, 2001, 2002, 2003]
    # … unless a floor cuts the axis.
    assert year_span(G, dt.date(2023, 6, 1), earliest=2019) == [2019, 2020, 2021, 2022, 2023]
    undated = nx.MultiDiGraph()
    undated.add_edge("a", "b", type="MEMBER_OF")
    assert year_span(undated, dt.date(2024, 1, 1)) == [2024]


def test_the_histogram_puts_edges_in_the_upper_bin_and_one_in_the_last() -> None:
    found = strength_histogram([0.0, 0.05, 0.1, 0.3, 0.35, 0.99, 1.0], bins=10)
    #          0.0,0.05 | 0.1 | . | 0.3,0.35 | … | 0.99,1.0
    assert found.counts == [2, 1, 0, 2, 0, 0, 0, 0, 0, 2]
    assert found.edges[0] == 0.0
    assert found.edges[-1] == 1.0
    assert len(found.edges) == 11
    assert found.edges[3] == 0.3  # rounded: not 0.30000000000000004
    assert found.total == 7
    assert found.median == 0.3


def test_the_histogram_of_nothing_has_no_median() -> None:
    found = strength_histogram([], bins=4)
    assert found.counts == [0, 0, 0, 0]
    assert found.median is None
    assert found.total == 0


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan")])
def test_scores_outside_the_unit_interval_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        strength_histogram([0.5, bad])


def test_bins_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bins"):
        strength_histogram([0.5], bins=0)


def test_the_docstring_examples_hold() -> None:
    failures, tested = doctest.testmod(trends)
    assert tested > 0
    assert failures == 0
