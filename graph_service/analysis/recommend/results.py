"""What the recommender returns: ranked :class:`Candidate` s with their :class:`Reason` s in a
:class:`Recommendation`, and the unranked :class:`ScoredCandidates` that ranking, evaluation
and assignment start from."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from graph_service.analysis.recommend.index_parts import FloatArray, IntArray

__all__ = ["Candidate", "Reason", "Recommendation", "ScoredCandidates"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One component of a candidate's score: ``contribution = weight · value / Σ weights``.

    ``explanation`` says in Chinese which facts gave the value and on what scale;
    ``explanation_en`` says it in English.
    """

    name: str
    value: float
    weight: float
    explanation: str
    explanation_en: str
    contribution: float = 0.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A recommended partner: ``score`` in ``[0, 1]`` is the sum of the contributions."""

    rank: int
    partner_id: str
    name: str
    label: str
    kind: str | None
    region_code: str | None
    score: float
    reasons: tuple[Reason, ...]

    def reason(self, name: str) -> Reason:
        """The reason called ``name``; ``KeyError`` if there is none."""
        for r in self.reasons:
            if r.name == name:
                return r
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Ranked partners for one target.

    ``target`` is the node ranked for (a village, enterprise, institution or joint body);
    ``asked`` is the id given, which may be the target's party organization. ``considered``
    counts the candidates scored after the filters; ``excluded_partners`` and
    ``excluded_rejected`` count those left out as existing partners and rejected pairs.
    """

    target: str
    asked: str
    target_name: str
    target_label: str
    looking_for: tuple[str, ...]
    relation: str
    candidates: tuple[Candidate, ...]
    considered: int
    excluded_partners: int
    excluded_rejected: int
    weights: dict[str, float]
    as_of: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True, eq=False)
class ScoredCandidates:
    """Every candidate of one query with its components (what ranking and evaluation use).

    ``index`` holds positions in :attr:`RecommenderIndex.ids`; ``components`` has one row per
    name of :data:`COMPONENTS`; ``score`` is the weighted mean.
    """

    target: str
    index: IntArray
    components: FloatArray
    score: FloatArray
    excluded_partners: int
    excluded_rejected: int
