"""Partner recommendations: whom a weak village (or a helper) should pair with, and why.

A planner asks "for this weak village, which enterprise, institution or strong village should
it pair with, and why?" — or, from the other side, "which villages should this enterprise
help?". :func:`recommend_partners` answers with ranked candidates, each with a score in
``[0, 1]`` and the reasons behind it as components:

============ ===========================================================================
industry     shared industries (1) or complementary ones (0.5), via ``IN_INDUSTRY``
proximity    same town 1, same county 0.4, same city 0.15, same province 0.05, else 0
capacity     the partner's free places: ``(capacity − load) / capacity``
structural   common neighbours on the weighted tie graph, as Adamic–Adar and resource
             allocation, and shared joint bodies: ``1 − exp(−AA_w − RA_w) · 0.5^bodies``
strength     for a village target: the partner's strength (economic size, PageRank,
             recorded outcomes); for a helper target it is called ``priority`` and measures
             how much the village needs help (weak, low collective income)
needs        the 四项清单: the share of the village's needs the partner's resources meet
============ ===========================================================================

The score is the weighted mean ``Σ wᵢ·vᵢ / Σ wᵢ`` (weights :class:`RecommendWeights`,
configurable); each reason carries its value, weight, contribution and a short explanation
("同属龙泉镇", "共同产业: 苹果", "需求 冷库 ↔ 资源 冷库").

The *relation* sought sets the defaults. ``pairing`` (结对帮扶, helper → helped) leaves out
weak villages, and villages of unknown standing, as helpers (以强带弱) and helpers without a
free place, and weighs strength;
``co_building`` (联建共建 between peers: 毗邻协作, 村企共建) keeps every candidate and weighs
proximity and the existing network instead (:meth:`RecommendWeights.defaults`). Existing
partners (``PAIRS_WITH``, ``CO_BUILDS``, ``MEMBER_OF``, and ``LEADS_COOPERATIVE``: a
cooperative the village's branch leads) and rejected pairs are never candidates.

Everything that does not depend on the target is computed once per scope by
:meth:`RecommenderIndex.build`; a query then costs a few milliseconds for a thousand
candidates.

Modules
-------
``vocabulary``    relations, components, categories, distances, default capacities,
                  complementary industries, the 四项清单 terms
``weights``       :class:`RecommendWeights`
``results``       :class:`Candidate`, :class:`Reason`, :class:`Recommendation`,
                  :class:`ScoredCandidates`
``index``         :class:`RecommenderIndex`, made of the parts in ``index_parts``
``index_parts``   the index's parts: candidates, actors, industries, tie graph, places,
                  standing, 四项清单, programs
``index_build``   the steps that build each part from a scope's graph; :func:`actor_map`
``scoring``       :func:`score_candidates`: filters, the six components, the score
``explanations``  the text behind each component
``ranking``       :func:`recommend_partners`

References
----------
.. [1] D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social networks",
   Journal of the American Society for Information Science and Technology 58(7),
   1019–1031, 2007. https://doi.org/10.1002/asi.20591
.. [2] L. A. Adamic and E. Adar, "Friends and neighbors on the Web", Social Networks 25(3),
   211–230, 2003. https://doi.org/10.1016/S0378-8733(03)00009-1
.. [3] T. Zhou, L. Lü and Y.-C. Zhang, "Predicting missing links via local information",
   The European Physical Journal B 71(4), 623–630, 2009.
   https://doi.org/10.1140/epjb/e2009-00335-8
.. [4] L. Lü and T. Zhou, "Link prediction in weighted networks: The role of weak ties",
   Europhysics Letters 89(1), 18001, 2010. https://doi.org/10.1209/0295-5075/89/18001
.. [5] L. Page, S. Brin, R. Motwani and T. Winograd, "The PageRank citation ranking: bringing
   order to the Web", Stanford InfoLab technical report 1999-66, 1999.
"""

from __future__ import annotations

from graph_service.analysis.recommend.index import RecommenderIndex
from graph_service.analysis.recommend.index_build import actor_map
from graph_service.analysis.recommend.ranking import recommend_partners
from graph_service.analysis.recommend.results import (
    Candidate,
    Reason,
    Recommendation,
    ScoredCandidates,
)
from graph_service.analysis.recommend.scoring import score_candidates
from graph_service.analysis.recommend.vocabulary import (
    CATEGORIES,
    COMPLEMENTARY_INDUSTRIES,
    COMPONENTS,
    DEFAULT_CAPACITY,
    DEFAULT_MAX_HELPERS,
    DISTANCES,
    NEED_KINDS,
    NEED_RESOURCES,
    PARTNER_LINK_TYPES,
    PROXIMITY_SCALE,
    RELATIONS,
    candidate_category,
    looks_for,
)
from graph_service.analysis.recommend.weights import RecommendWeights

__all__ = [
    "CATEGORIES",
    "COMPLEMENTARY_INDUSTRIES",
    "COMPONENTS",
    "DEFAULT_CAPACITY",
    "DEFAULT_MAX_HELPERS",
    "DISTANCES",
    "NEED_KINDS",
    "NEED_RESOURCES",
    "PARTNER_LINK_TYPES",
    "PROXIMITY_SCALE",
    "RELATIONS",
    "Candidate",
    "Reason",
    "RecommendWeights",
    "Recommendation",
    "RecommenderIndex",
    "ScoredCandidates",
    "actor_map",
    "candidate_category",
    "looks_for",
    "recommend_partners",
    "score_candidates",
]
