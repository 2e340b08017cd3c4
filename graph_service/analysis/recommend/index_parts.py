"""The parts a :class:`~graph_service.analysis.recommend.index.RecommenderIndex` is made of.

Each part is a frozen, typed structure that one step of the build
(:mod:`~graph_service.analysis.recommend.index_build`) fills. Arrays are aligned with
:attr:`CandidateTable.ids`: position ``i`` of every array is candidate ``ids[i]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from graph_service.analysis.wording import Wording

__all__ = [
    "ActorTable",
    "BoolArray",
    "CandidateTable",
    "FloatArray",
    "IndustryIndex",
    "IntArray",
    "NeedLists",
    "Places",
    "Program",
    "Standing",
    "TieGraph",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class CandidateTable:
    """The actors that can be partners (villages, enterprises, institutions, joint bodies).

    Attributes
    ----------
    ids : tuple of str
        Candidate ids, sorted; every array of the index is aligned with them.
    position : dict
        Candidate id → its position in ``ids``.
    category : numpy.ndarray
        Position in :data:`~graph_service.analysis.recommend.vocabulary.CATEGORIES`.
    names, labels, kinds, codes : tuple
        The candidate's name, label, kind and region code (``""`` when unknown).
    code_keys : numpy.ndarray
        Shape ``(levels, candidates)``: the code prefix of each level of
        :data:`~graph_service.analysis.recommend.vocabulary.LEVELS` (town, county, city,
        province) as an integer, ``-1`` when the code is too short.
    """

    ids: tuple[str, ...]
    position: dict[str, int]
    category: IntArray
    names: tuple[str, ...]
    labels: tuple[str, ...]
    kinds: tuple[str | None, ...]
    codes: tuple[str, ...]
    code_keys: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class ActorTable:
    """Every actor of the scope: the candidates and the party organizations that only carry
    ties (town and county committees); a party organization that is the organization of a
    village, enterprise or institution is merged into it.

    Attributes
    ----------
    unit_of : dict
        Any actor node of the scope → its actor (a party organization → its village …).
    names, labels, codes, kinds : dict
        Actor id → its name, label, region code (``""`` when unknown) and kind.
    others : frozenset of str
        Nodes of the scope that are not actors (regions, industries, programs, people).
    region_names : dict
        Region code → region name, for explanations ("同属龙泉镇").
    """

    unit_of: dict[str, str]
    names: dict[str, str]
    labels: dict[str, str]
    codes: dict[str, str]
    kinds: dict[str, str | None]
    others: frozenset[str]
    region_names: dict[str, str]


@dataclass(frozen=True, slots=True, eq=False)
class IndustryIndex:
    """Industries (``IN_INDUSTRY``) by actor, and the candidates of each industry."""

    #: Actor id → the names of its industries.
    of_actor: dict[str, frozenset[str]]
    #: Industry name → positions of the candidates in it, ascending.
    members: dict[str, IntArray]


@dataclass(frozen=True, slots=True, eq=False)
class TieGraph:
    """The weighted tie graph between actors and the relations read off it.

    Attributes
    ----------
    adjacency : dict
        ``actor -> {neighbour: weight}`` over the tie links
        (:data:`graph_service.analysis.strength.TIE_LINK_TYPES`), weights in ``(0, 1]``.
    degree : dict
        Actor → its number of neighbours.
    bodies_of : dict
        Actor → the joint bodies it is a member of (``MEMBER_OF``).
    partners : dict
        Actor → its current partners
        (:data:`~graph_service.analysis.recommend.vocabulary.PARTNER_LINK_TYPES`).
    """

    adjacency: dict[str, dict[str, float]]
    degree: dict[str, int]
    bodies_of: dict[str, frozenset[str]]
    partners: dict[str, frozenset[str]]


@dataclass(frozen=True, slots=True, eq=False)
class Places:
    """Free places on both sides of a pairing, per candidate.

    A helper offers ``capacity`` places and uses ``load`` of them (villages it helps); a
    village takes at most ``max_helpers`` helpers and has ``helpers_of``.
    """

    capacity: FloatArray
    load: FloatArray
    helpers_of: FloatArray
    max_helpers: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class Standing:
    """How strong each candidate is, and for villages how much help they need.

    Attributes
    ----------
    size_pct : numpy.ndarray
        Percentile of the candidate's size within its label (0.5 when unknown).
    size_text : tuple of Wording
        The size as explanations quote it, with where it ranks among its peers
        ("村集体收入 22.8万元, 在本区域有村集体收入记录的村/社区中居后 30%").
    size_known : numpy.ndarray
        Candidates with a size recorded (for villages: a collective income).
    pagerank_pct : numpy.ndarray
        Percentile of PageRank on the tie graph.
    outcome : numpy.ndarray
        Recorded outcomes of the candidate's ties, each metric against the p90.
    outcome_recorded : numpy.ndarray
        Candidates with any outcome recorded on their ties (``outcome`` is 0 without).
    strength : numpy.ndarray
        The mix of size, PageRank and outcomes
        (:data:`~graph_service.analysis.recommend.vocabulary.STRENGTH_MIX`).
    priority : numpy.ndarray
        For villages: how much help the village needs (weak, low collective income).
    weak : numpy.ndarray
        Weak villages (:mod:`graph_service.analysis.weakness`: listed weak, earning less than
        the weak threshold, or of unknown standing and without a 联建 link).
    weak_reasons : tuple
        Why each village is weak (``listed_weak``, ``low_income``, ``few_links``); empty for
        the others and for non-villages.
    known : numpy.ndarray
        Villages whose standing is known (a collective income or a ``weak`` flag).
    """

    size_pct: FloatArray
    size_text: tuple[Wording, ...]
    size_known: BoolArray
    pagerank_pct: FloatArray
    outcome: FloatArray
    outcome_recorded: BoolArray
    strength: FloatArray
    priority: FloatArray
    weak: BoolArray
    weak_reasons: tuple[tuple[str, ...], ...]
    known: BoolArray


@dataclass(frozen=True, slots=True, eq=False)
class NeedLists:
    """The 四项清单: what actors need, what they offer, and which candidates meet each need.

    Attributes
    ----------
    needs : dict
        Actor → its needs (需求清单).
    offers : dict
        Actor → its resources and products (资源清单).
    need_met : dict
        Need term → which candidates meet it, by an offer or by their kind.
    """

    needs: dict[str, frozenset[str]]
    offers: dict[str, frozenset[str]]
    need_met: dict[str, BoolArray]


class Program(NamedTuple):
    """A program (百企帮百村 …) as the index knows it."""

    #: Actors that take part (``PART_OF_PROGRAM``).
    participants: frozenset[str]
    #: Categories of the helpers of the program's pairings.
    helper_categories: frozenset[int]
    #: Categories of the villages (or others) those pairings help.
    helped_categories: frozenset[int]
