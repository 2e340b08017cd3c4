"""Weights of the score's components: :class:`RecommendWeights`, per relation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from graph_service.analysis.recommend.vocabulary import (
    CO_BUILDING_WEIGHTS,
    COMPONENTS,
    RELATIONS,
)
from graph_service.analysis.strength import check_weights

__all__ = ["RecommendWeights"]


@dataclass(frozen=True, slots=True)
class RecommendWeights:
    """Weights of the components (non-negative, finite, not all zero).

    The defaults (relation ``pairing``, 结对帮扶) put what makes a pairing work in practice
    first — a shared industry, the same town, a strong partner (1.0 each) — and give the
    supporting evidence half weight: free capacity, structural closeness in the existing
    network and matched 四项清单 (0.5 each). ``strength`` weighs the partner's strength for
    a village target and the village's priority (how weak it is) for a helper target.

    For ``co_building`` (联建共建: 毗邻协作, 村企共建, 产业链) see :meth:`defaults`: partners
    are peers, so strength and capacity do not count (0), and neighbourhood — proximity (2)
    and the existing network (1) — leads, with industry (1) and 四项清单 (0.5).
    """

    industry: float = 1.0
    proximity: float = 1.0
    capacity: float = 0.5
    structural: float = 0.5
    strength: float = 1.0
    needs: float = 0.5

    def __post_init__(self) -> None:
        check_weights({name: getattr(self, name) for name in COMPONENTS})

    @classmethod
    def defaults(cls, relation: str = "pairing") -> RecommendWeights:
        """The default weights of ``relation`` (see :data:`RELATIONS`)."""
        if relation not in RELATIONS:
            raise ValueError(f"relation must be one of {list(RELATIONS)}, got {relation!r}")
        return cls() if relation == "pairing" else cls(**CO_BUILDING_WEIGHTS)

    @classmethod
    def coerce(
        cls,
        weights: RecommendWeights | Mapping[str, float] | None,
        relation: str = "pairing",
    ) -> RecommendWeights:
        """``weights`` as :class:`RecommendWeights`: the defaults of ``relation`` for
        ``None``; a mapping overrides the named defaults (unknown names raise
        ``ValueError``)."""
        base = cls.defaults(relation)
        if weights is None:
            return base
        if isinstance(weights, RecommendWeights):
            return weights
        unknown = sorted(set(weights) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown weights {unknown}; known: {list(COMPONENTS)}")
        return dataclasses.replace(base, **{k: float(v) for k, v in weights.items()})

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in COMPONENTS}

    @property
    def total(self) -> float:
        return sum(self.as_dict().values())
