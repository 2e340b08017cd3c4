"""Response models: the JSON bodies the routes send, as the OpenAPI document shows them.

Routes build their bodies as plain data and return them as ``ORJSONResponse``; FastAPI sends
a returned ``Response`` as it is, so these models document bodies and never build or
re-validate them (no cost per request). ``tests/test_openapi.py`` validates real bodies
against them and fails on any field a model leaves out.

Nodes and links reuse the registry's models (``graph_service.models``): a stored node or link
is what those models dump. Shapes that carry arbitrary documents (export elements, source
documents, judgements) allow extra fields and say so in the schema.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeAlias, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, create_model
from typing_extensions import TypeAliasType

from graph_service.domain import PLAN_STEP_EXAMPLES
from graph_service.models import (
    NODE_MODELS,
    LinkIn,
    NodeIn,
    StatedFigure,
)

__all__ = [
    "AnalysisCoverage",
    "Assignment",
    "Brokers",
    "Centrality",
    "Change",
    "Communities",
    "CytoscapeExport",
    "Dashboard",
    "DocumentList",
    "DocumentText",
    "EChartsExport",
    "ExtremeLinks",
    "Fragility",
    "Health",
    "HistoryEntry",
    "HistoryPage",
    "Job",
    "JobResult",
    "Judgement",
    "JudgementCreated",
    "JudgementPage",
    "Link",
    "LinkPage",
    "LinkRestored",
    "LinkStrength",
    "Listing",
    "Neighbourhood",
    "Node",
    "NodeLinkExport",
    "NodePage",
    "NodeRef",
    "NodeRestored",
    "Partners",
    "Paths",
    "ProblemDetails",
    "Ready",
    "RegionCoverageReport",
    "RegionSummary",
    "RuleCheck",
    "SavedView",
    "SavedViewList",
    "SchemaDocument",
    "SearchResult",
    "Stats",
    "WhatIf",
    "WriteSummary",
]


#: Every text a person reads comes in Chinese under its plain name and in English beside it
#: under the same name with ``_en`` (``graph_service.analysis.wording``).
EXPLANATION_ZH = (
    "For people, in Chinese: the facts behind the value, with every number's meaning and "
    "unit or scale."
)
EXPLANATION_EN = "The same, in English."


class _Out(BaseModel):
    """A closed response shape: these fields and no others (extra input is ignored, so the
    schema carries no ``additionalProperties: false`` that would break older clients when a
    field is added)."""


class _Open(BaseModel):
    """A response shape that may carry fields beyond those listed."""

    model_config = ConfigDict(extra="allow")


def _at_depth(label: str, model: type[BaseModel]) -> type[BaseModel]:
    depth = (int, Field(ge=0, description="Hops from the centre."))
    return create_model(f"{label}NodeAtDepth", __base__=model, __doc__=model.__doc__, depth=depth)


# Named aliases: the document shows one ``Node`` (``Link`` …) schema that responses refer
# to, rather than repeating the union of every label's model in each of them.
if TYPE_CHECKING:
    Node: TypeAlias = BaseModel
    Link: TypeAlias = BaseModel
    NodeAtDepth: TypeAlias = BaseModel
else:
    #: A node as stored and returned: one model per label, told apart by ``label``.
    Node = TypeAliasType("Node", NodeIn)
    #: A link as stored and returned: one model per type, told apart by ``type``.
    Link = TypeAliasType("Link", LinkIn)
    #: A node of a neighbourhood: as stored, with its distance from the centre.
    NodeAtDepth = TypeAliasType(
        "NodeAtDepth",
        Annotated[
            Union[tuple(_at_depth(label, m) for label, m in NODE_MODELS.items())],  # noqa: UP007
            Field(discriminator="label"),
        ],
    )


# ---------------------------------------------------------------------------------------
# Lists and references (graph_service/services/listing.py)
# ---------------------------------------------------------------------------------------

RowT = TypeVar("RowT")


class More(_Out):
    """How to list what a listing left out."""

    parameter: str = Field(
        description="The parameter to raise: the route's query parameter or body field "
        "(the CLI option of the same name).",
        examples=["limit"],
    )
    maximum: int = Field(description="Its largest value.")


class Listing(_Out, Generic[RowT]):
    """A list the service may cut: the rows shown, how many there are, whether some were
    left out and how to get them. (A list returned whole is a plain array.)"""

    items: list[RowT]
    total: int = Field(ge=0, description="Rows there are, shown or not.")
    truncated: bool = Field(description="items holds fewer than total.")
    more: More | None = Field(description="How to list more; null when nothing was cut.")


class NodeRef(_Out):
    """A node as a person reads it in a list."""

    id: str
    name: str | None
    label: str | None
    kind: str | None
    region_code: str | None
    region_name: str | None = Field(
        description="The region the node lies in: a village's town, a region's parent."
    )


NodePair: TypeAlias = Annotated[list[NodeRef], Field(min_length=2, max_length=2)]


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class FieldProblem(_Out):
    field: str | None = Field(description="Dotted path of the input at fault (nodes.3.name).")
    message: str


class ProblemDetails(_Open):
    """An error (RFC 9457 problem details), sent as ``application/problem+json``."""

    type: str = Field(description="/problems/<code>.", examples=["/problems/not_found"])
    title: str
    status: int = Field(description="The HTTP status, repeated.")
    detail: str = Field(description="What went wrong, for people.")
    code: str = Field(
        description="Stable machine-readable code: not_found, conflict, invalid_input, "
        "ambiguous_reference (422: a name several nodes have; details.candidates lists them), "
        "unauthorized, payload_too_large, store_unavailable, not_acceptable, "
        "method_not_allowed, http_error, internal_error.",
        examples=["invalid_input"],
    )
    field: str | None = Field(
        default=None, description="The input at fault, as a dotted path (nodes.3.region_code)."
    )
    errors: list[FieldProblem] | None = Field(
        default=None, description="Every invalid field (422), not only the first."
    )
    instance: str | None = Field(default=None, description="The request path.")
    details: dict[str, Any] | None = Field(
        default=None, description="More about the error (the link types allowed …)."
    )
    store: str | None = Field(default=None, description="The store that is down (readyz).")


# ---------------------------------------------------------------------------------------
# Meta
# ---------------------------------------------------------------------------------------


class Health(_Out):
    status: Literal["ok"]


class IndexWarmth(_Out):
    """The recommender indexes built off the request path (services/index_warmup.py)."""

    state: Literal["off", "warming", "warm"] = Field(
        description="off: none to warm; warming: being built (not ready unless configured "
        "otherwise); warm: built for the current store version or being rebuilt after a write."
    )
    planned: int = Field(description="(region, audience) indexes kept warm.")
    warm: int = Field(description="Of them, built by the last warm-up round.")
    builds: dict[str, int] = Field(
        description="Index builds since start, by who asked: warm-up or request."
    )
    warmed_in_s: float | None = Field(description="Seconds the start-up warm-up took.")


class Ready(_Out):
    status: Literal["ready"]
    store: str = Field(description="The store backend: embedded or neo4j.")
    indexes: IndexWarmth = Field(description="The recommender indexes' warm-up.")


class AttributeDoc(_Out):
    name: str
    type: Literal["int", "float", "bool", "str", "date", "list[str]"]
    label_zh: str
    description: str | None = None
    unit: str | None = None
    ge: float | None = None
    le: float | None = None
    choices: list[str] | None = None
    personal: bool | None = Field(
        default=None, description="Personal data: only callers allowed to see it get it."
    )


class NodeLabelDoc(_Out):
    label: str
    label_zh: str
    description: str
    kinds: list[str]
    kind_required: bool
    official_code: bool = Field(description="region_code is the node's own division code.")
    sensitive: bool = Field(description="Only API key holders see nodes of this label.")
    attributes: list[AttributeDoc]


class LinkTypeDoc(_Out):
    type: str
    label_zh: str
    description: str
    sources: list[str] = Field(description="Labels a link of this type may start at.")
    targets: list[str] = Field(description="Labels a link of this type may end at.")
    structural: bool
    symmetric: bool
    attributes: list[AttributeDoc]


class SchemaDocument(_Out):
    """The schema registry."""

    node_labels: list[NodeLabelDoc]
    link_types: list[LinkTypeDoc]
    joint_body_kinds: list[str]
    linkage_models: list[str]
    region_levels: dict[str, int] = Field(description="Region kind → digits of its code.")
    source_kinds: list[str]


class Stats(_Out):
    store: str
    nodes: int
    links: int
    nodes_by_label: dict[str, int]
    links_by_type: dict[str, int]
    version: int = Field(description="Changes whenever the data changes.")


class SourceDocument(_Open):
    """A source document the seed graph quotes (curated metadata; more fields may come)."""

    id: str
    title: str | None = None
    publisher: str | None = None
    published: str | None = None
    region_code: str | None = None


class DocumentList(_Out):
    items: list[SourceDocument]


class DocumentText(SourceDocument):
    text: str


# ---------------------------------------------------------------------------------------
# Nodes, links, graph queries
# ---------------------------------------------------------------------------------------


class NodePage(_Out):
    items: list[Node]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null last.")


class LinkPage(_Out):
    items: list[Link]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null last.")


class WriteSummary(_Out):
    nodes_created: int
    nodes_updated: int
    links_created: int
    links_updated: int
    links_deleted: int
    nodes_deleted: int
    version: int = Field(description="The store version after the write.")


class SearchHit(_Out):
    node: Node
    match: Literal["exact", "prefix", "substring"]
    matched: str = Field(description="The name or alias that matched.")
    score: float


class SearchResult(_Out):
    query: str
    items: list[SearchHit]
    truncated: bool = Field(description="More nodes match: raise limit to see them.")


class Neighbourhood(_Out):
    centre: str
    nodes: list[NodeAtDepth]
    links: list[Link]
    truncated: bool = Field(description="The limit cut the neighbourhood short.")


class PathIds(_Out):
    nodes: list[str] = Field(description="Node ids from source to target.")
    links: list[str] = Field(description="Link ids along the path.")


class Paths(_Out):
    source: str
    target: str
    length: int | None = Field(description="Links on a shortest path; null when none.")
    paths: list[PathIds]
    nodes: list[Node] = Field(description="Every node on the paths.")
    links: list[Link] = Field(description="Every link on the paths.")
    truncated: bool


# ---------------------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------------------


class RegionChild(_Out):
    id: str
    name: str
    kind: str | None
    region_code: str


class RegionSummary(_Out):
    region: Node
    parent: Node | None
    children: list[RegionChild]
    nodes_by_label: dict[str, int] = Field(description="Nodes under the region, by label.")


class RegionRef(_Out):
    id: str
    name: str
    region_code: str


class RegionCoverageRow(_Out):
    region_code: str
    name: str
    villages: int
    covered: int
    uncovered: int
    rate: float | None = Field(description="covered / villages; null without villages.")
    uncovered_villages: Listing[NodeRef] = Field(description="Listed up to uncovered_limit.")


class RegionCoverageReport(_Out):
    region: RegionRef
    as_of: dt.date | None
    total: RegionCoverageRow
    children: list[RegionCoverageRow]
    stated_figures: list[StatedFigure] = Field(description="Figures the sources state.")
    definition: str


# ---------------------------------------------------------------------------------------
# Analyses
# ---------------------------------------------------------------------------------------


class ScopeDescription(_Out):
    kind: Literal["all", "region", "body", "neighbourhood"]
    value: str | None = Field(description="Division code or node id; null for all.")
    depth: int | None = Field(description="Hops, for neighbourhood scopes.")
    link_types: list[str] | None
    include_structural: bool
    as_of: dt.date | None


class AnalysisScope(ScopeDescription):
    nodes: int = Field(description="Nodes of the scope's graph.")
    links: int = Field(description="Links of the scope's graph.")


class MethodRecord(_Out):
    method: Literal["exact", "sampled", "csr", "skipped"]
    k: int | None = Field(
        description="Sources sampled (sampled betweenness; drawn by NetworKit when engine is "
        "networkit)."
    )
    seed: int | None
    note: str | None = Field(default=None, description="Why skipped, or what to know.")
    engine: Literal["networkit"] | None = Field(
        default=None,
        description="networkit when NetworKit computed the values; null: the reference "
        "engine (networkx, or the service's own sweep).",
    )
    epsilon: float | None = Field(
        default=None,
        description="Error bound of a sampled measure: every node within epsilon of the exact "
        "value...",
    )
    delta: float | None = Field(default=None, description="...with probability at least 1 - delta.")


class RankedRow(_Out):
    rank: int
    node: str
    name: str | None
    label: str | None
    region_name: str | None = Field(description="The region the node lies in.")
    score: float


class MeasureReport(_Out):
    measure: str
    method: MethodRecord
    rows: Listing[RankedRow] = Field(description="The top rows; total counts the nodes ranked.")


class StoredProvenance(_Out):
    """Where an answer served from a batch run's stored record came from."""

    source: Literal["stored"] = Field(description="Answered from a stored batch run.")
    run: str | None = Field(description="The run's id (graph-service analyse-national).")
    computed_at: str | None = Field(description="When the answer was stored (UTC).")
    version: int = Field(description="The store version it was computed at (the current one).")


class Centrality(_Out):
    scope: AnalysisScope
    nodes: int
    edges: int
    top: int
    measures: dict[str, MeasureReport] = Field(description="Measure name → its top rows.")
    provenance: StoredProvenance | None = Field(
        default=None, description="Present when the answer comes from a stored batch run."
    )


class Community(_Out):
    index: int
    size: int
    labels: dict[str, int] = Field(description="Members by label.")
    members: Listing[NodeRef] = Field(description="Listed up to limit.")


class BodySpread(_Out):
    body: str
    name: str | None
    members: int = Field(description="Members found in the graph.")
    spread: dict[str, int] = Field(description="Community index → members in it.")
    majority: int | None = Field(description="The community holding most members.")
    majority_share: float | None = Field(description="null when no member is placed.")
    missing: int = Field(description="Members not in the analysed graph.")


class CommunityCrossing(_Out):
    community: int
    size: int
    bodies: dict[str, int] = Field(
        description="Body id → its members in the community (names: joint_bodies.bodies)."
    )


class BodyComparison(_Out):
    bodies: list[BodySpread]
    split_bodies: list[BodySpread]
    crossing_communities: list[CommunityCrossing]
    agreement: float | None = Field(description="Purity of the bodies; null without bodies.")
    intact: int = Field(description="Bodies inside one community.")


class Communities(_Out):
    scope: AnalysisScope
    method: str
    modularity: float | None = Field(description="null for a graph without links.")
    communities: list[Community]
    joint_bodies: BodyComparison


class Broker(_Out):
    node: str
    name: str | None
    label: str | None
    region_name: str | None = Field(description="The region the node lies in.")
    constraint: float = Field(description="Burt's constraint: low is a broker.")
    effective_size: float


class Brokers(_Out):
    scope: AnalysisScope
    brokers: Listing[Broker] = Field(description="Lowest constraint first, up to top.")


class Fragility(_Out):
    scope: AnalysisScope
    bridges: list[NodePair] = Field(
        description="Links whose loss splits the graph, as [source, target]."
    )
    articulation_points: list[NodeRef]
    cut_off: dict[str, list[NodeRef]] = Field(
        description="Articulation point id → the villages its loss cuts off."
    )


class StrengthComponent(_Out):
    name: str
    value: float | None = Field(description="In [0, 1]; null when unavailable.")
    weight: float
    available: bool
    explanation: str = Field(description=EXPLANATION_ZH)
    explanation_en: str = Field(description=EXPLANATION_EN)
    contribution: float


class LinkStrength(_Out):
    source: str
    target: str
    source_name: str | None
    target_name: str | None
    score: float = Field(description="Weighted mean of the available components, in [0, 1].")
    confidence: float = Field(description="Share of the weight that was available.")
    components: list[StrengthComponent]
    link_ids: list[str]
    link_types: list[str]
    documents: list[str] = Field(description="Documents the pair's links cite.")
    as_of: dt.date | None
    evaluated_on: dt.date = Field(description="The day durations run to.")


class ExtremeLinks(_Out):
    scope: AnalysisScope
    links: Listing[LinkStrength] = Field(description="Up to top; total counts linked pairs.")


class CoverageCounts(_Out):
    region_code: str
    name: str | None
    villages: int
    joint_body: int = Field(description="Villages in a joint body.")
    pairing: int = Field(description="Villages with a pairing.")
    both: int
    neither: int
    joint_body_rate: float | None
    pairing_rate: float | None
    any_rate: float | None
    without_joint_body: Listing[NodeRef] = Field(description="Villages, listed up to limit.")
    without_any: Listing[NodeRef] = Field(description="Villages, listed up to limit.")


class VillageCoverage(_Out):
    village_id: str
    name: str
    region_code: str
    region_name: str | None = Field(description="The village's town.")
    organizations: list[NodeRef]
    joint_bodies: list[NodeRef]
    helpers: list[NodeRef]


class PartnerStrength(_Out):
    partner_id: str
    partner_name: str
    via: str
    link_types: list[str]
    score: float
    confidence: float


class WeakVillage(_Out):
    village_id: str
    name: str
    region_code: str
    region_name: str | None = Field(description="The village's town.")
    reasons: list[str] = Field(description="Why weak: listed_weak, low_income …")
    collective_income_yuan: float | None
    links: int
    partners: list[PartnerStrength]
    has_strong_partner: bool
    explanation: str = Field(description=EXPLANATION_ZH)
    explanation_en: str = Field(description=EXPLANATION_EN)


class AnalysisCoverage(_Out):
    scope: AnalysisScope
    region_code: str
    name: str | None
    as_of: dt.date | None
    total: CoverageCounts
    children: list[CoverageCounts]
    villages: list[VillageCoverage] | None = Field(
        default=None, description="Every village's row; only with details=true."
    )
    weak_villages: Listing[WeakVillage] = Field(description="Listed up to limit.")
    weak_without_strong_partner: int
    strong_threshold: float
    stated_figures: list[StatedFigure]
    provenance: StoredProvenance | None = Field(
        default=None, description="Present when the answer comes from a stored batch run."
    )


class RuleOutcome(_Out):
    rule_id: str
    status: Literal["pass", "broken", "unknown"]
    evidence: str = Field(
        description="For people, in Chinese: what was found, what the rule asks, the verdict."
    )
    evidence_en: str = Field(description=EXPLANATION_EN)
    value: bool | int | float | str | None
    members: list[NodeRef] = Field(description="The members counted (every one).")


class BodyRuleReport(_Out):
    body_id: str
    name: str
    kind: str
    region_code: str | None
    outcomes: list[RuleOutcome]
    broken: list[str] = Field(description="Ids of the rules broken.")
    unknown: list[str] = Field(description="Ids of the rules the data cannot decide.")


class RuleSummary(_Out):
    rule_id: str
    description_zh: str
    severity: str
    checked: int
    passed: int
    broken: int
    unknown: int


class RuleCheck(_Out):
    scope: AnalysisScope
    as_of: dt.date | None
    scope_region: str | None
    bodies: list[BodyRuleReport]
    rules: list[RuleSummary]
    bodies_in_breach: int
    breaches: int
    provenance: StoredProvenance | None = Field(
        default=None, description="Present when the answer comes from a stored batch run."
    )


class LinkChange(_Out):
    id: str
    type: str
    source: str
    target: str
    source_name: str | None
    target_name: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None


class NodeChange(_Out):
    id: str
    label: str | None
    kind: str | None
    name: str | None
    region_code: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None


class CoverageChange(_Out):
    region_code: str
    villages_a: int
    covered_a: int
    rate_a: float | None
    paired_a: int
    villages_b: int
    covered_b: int
    rate_b: float | None
    paired_b: int
    newly_covered: list[NodeRef]
    newly_uncovered: list[NodeRef]


class CentralityMove(_Out):
    node_id: str
    name: str | None
    region_name: str | None = Field(description="The region the node lies in.")
    rank_a: int
    rank_b: int
    score_a: float
    score_b: float
    rank_change: int


class Change(_Out):
    scope: AnalysisScope
    date_a: dt.date
    date_b: dt.date
    link_types: list[str] | None
    new_links: list[LinkChange]
    lost_links: list[LinkChange]
    new_nodes: list[NodeChange]
    lost_nodes: list[NodeChange]
    coverage: CoverageChange | None = Field(description="For region scopes only.")
    risers: Listing[CentralityMove] = Field(description="PageRank risers, up to top.")
    fallers: Listing[CentralityMove] = Field(description="PageRank fallers, up to top.")


# ---------------------------------------------------------------------------------------
# Recommendations
# ---------------------------------------------------------------------------------------

Relation = Literal["pairing", "co_building"]
Decision = Literal["accept", "reject", "unsure"]


class Reason(_Out):
    name: str
    value: float = Field(description="In [0, 1].")
    weight: float
    explanation: str = Field(description=EXPLANATION_ZH)
    explanation_en: str = Field(description=EXPLANATION_EN)
    contribution: float


class PartnerRef(_Out):
    id: str
    name: str | None
    label: str | None
    kind: str | None


class JudgementMark(_Out):
    id: str
    decision: Decision
    decided_at: dt.datetime


class Candidate(_Out):
    rank: int
    partner_id: str
    name: str
    label: str
    kind: str | None
    region_code: str | None
    region_name: str | None = Field(description="The region the partner lies in.")
    score: float = Field(description="Sum of the contributions, in [0, 1].")
    reasons: list[Reason]
    partner: PartnerRef
    judgement: JudgementMark | None = Field(description="An unsure judgement of the pair.")


class Partners(_Out):
    scope: AnalysisScope
    target: str = Field(description="The node ranked for (a village, not its branch).")
    asked: str = Field(description="The id given.")
    target_name: str
    target_label: str
    looking_for: list[str]
    relation: Relation
    candidates: Listing[Candidate] = Field(description="Best first, up to top.")
    considered: int
    excluded_partners: int
    excluded_rejected: int
    weights: dict[str, float]
    as_of: dt.date | None


class AssignmentParameters(_Out):
    region: str
    program: str | None
    k: int | None
    m: int
    min_helpers: int
    top_candidates: int
    max_distance: Literal["town", "county", "city", "province"] | None
    as_of: dt.date | None


class AssignedPair(_Out):
    helper: PartnerRef
    village: PartnerRef
    score: float


class Unassigned(_Out):
    village: PartnerRef
    reason: str = Field(description="no_candidates, too_few_candidates or capacity_exhausted.")
    explanation: str = Field(description=EXPLANATION_ZH)
    explanation_en: str = Field(description=EXPLANATION_EN)


class PlanStep(_Out):
    step: Literal[
        "villages_listed",
        "weak",
        "not_paired",
        "helpers_listed",
        "can_help",
        "has_places",
        "has_candidates",
        "within_limits",
        "not_rejected",
        "assigned",
    ] = Field(description="The filter; steps come in this order, those that apply.")
    label: str = Field(description="The step in Chinese (薄弱村, 有空余帮扶名额 …).")
    subject: Literal["villages", "helpers"]
    count_in: int = Field(description="Villages (or helpers) the step was given.")
    count_out: int = Field(description="Those it let through, to the next step of its subject.")
    removed_examples: list[PartnerRef] = Field(
        description=f"The first few it removed, in id order (at most {PLAN_STEP_EXAMPLES})."
    )


class Assignment(_Out):
    scope: AnalysisScope
    parameters: AssignmentParameters
    method: str
    total_score: float
    villages: int = Field(description="Villages planned for (the last village step's input).")
    helpers: int = Field(description="Helpers that can help and have a place.")
    candidate_pairs: int
    covered: int
    excluded_rejected_pairs: int
    pairs: list[AssignedPair]
    unassigned: list[Unassigned]
    funnel: list[PlanStep] = Field(
        description="From the region to the plan: villages chosen (listed, or weak and not "
        "yet paired), helpers that can help and have a place, then villages with a candidate "
        "helper, within program and distance, after rejections, and assigned. An empty plan "
        "says here which step removed whom."
    )


class CoverageSnapshot(_Out):
    villages: int
    paired: int
    joint_body: int
    covered: int
    paired_rate: float | None
    covered_rate: float | None


class CentralityShift(_Out):
    node_id: str
    name: str
    region_name: str | None = Field(description="The region the node lies in.")
    rank_before: int
    rank_after: int
    score_before: float
    score_after: float


class WhatIf(_Out):
    scope: AnalysisScope
    written: Literal[False] = Field(description="Always false: nothing is written.")
    proposed: list[NodePair] = Field(description="The pairs applied, as [helper, village].")
    region_code: str | None
    coverage_before: CoverageSnapshot
    coverage_after: CoverageSnapshot
    newly_paired: list[NodeRef]
    newly_covered: list[NodeRef]
    actors: int
    components_before: int
    components_after: int
    largest_share_before: float
    largest_share_after: float
    risers: Listing[CentralityShift] = Field(description="PageRank risers, up to top.")
    proposal_shifts: list[CentralityShift]
    summary: str = Field(
        description="For people, in Chinese: the pairs, coverage and connectivity before → after."
    )
    summary_en: str = Field(description=EXPLANATION_EN)


class AskedPair(_Out):
    target: str
    partner: str


class RecommendationSnapshot(_Out):
    score: float
    rank: int | None = Field(description="Among the candidates shown; null if not shown.")
    considered: int
    components: dict[str, float]
    weights: dict[str, float]
    index_as_of: dt.date | None


class Judgement(_Open):
    """A planner's judgement of a recommended pair (an append-only record).

    ``decided_by``, ``recorded_by`` and ``note`` are null for readers without an API key.
    """

    id: str
    pair: str = Field(description="The two actor ids, sorted, joined by |.")
    target: str
    partner: str
    asked: AskedPair = Field(description="The ids as given.")
    decision: Decision
    relation: Relation
    program: str | None
    note: str | None
    decided_by: str | None
    recorded_by: str | None
    decided_at: dt.datetime
    link_id: str | None = Field(description="The link an acceptance wrote.")
    supersedes: str | None = Field(description="The judgement of the pair this replaces.")
    already_partners: bool
    recommendation: RecommendationSnapshot | None = Field(
        description="What the recommender said of the pair when it was judged."
    )


class NodeBrief(_Out):
    """A node in brief; only its id when the node is gone."""

    id: str
    name: str | None = None
    label: str | None = None
    kind: str | None = None
    region_code: str | None = None


class JudgementListed(Judgement):
    target_node: NodeBrief
    partner_node: NodeBrief


class JudgementPage(_Out):
    items: list[JudgementListed]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null last.")


class JudgementCreated(_Out):
    judgement: Judgement
    link: Link | None = Field(description="The link an acceptance wrote.")
    version: int


# ---------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------


class ExportMeta(_Out):
    title: str
    scope: ScopeDescription
    format: Literal["cytoscape", "echarts", "node-link"]
    redacted: bool = Field(description="Sensitive nodes and links were left out.")
    metric: str | None
    strength: bool
    layout_seed: int | None
    nodes: int
    links: int


class _NodeStyle(_Open):
    """A node's document (id, name, kind, attributes …) and its styling."""

    id: str
    label: str = Field(description="What a viewer shows: the node's name.")
    node_label: str = Field(description="The node's type: Village, Enterprise …")
    label_zh: str
    color: str
    size: float
    score: float | None = Field(default=None, description="With metric.")
    x: float | None = Field(default=None, description="With layout.")
    y: float | None = Field(default=None, description="With layout.")


class _LinkStyle(_Open):
    """A link's document (id, type, attributes …) and its styling."""

    id: str
    type: str
    source: str
    target: str
    label: str = Field(description="What a viewer shows: the link's type in Chinese.")
    label_zh: str
    color: str
    strength: float | None = Field(description="With strength.")
    width: float


class CytoscapeNodeData(_NodeStyle):
    pass


class CytoscapeEdgeData(_LinkStyle):
    pass


class Position(_Out):
    x: float
    y: float


class CytoscapeNode(_Out):
    data: CytoscapeNodeData
    position: Position | None = Field(default=None, description="With layout.")
    classes: str


class CytoscapeEdge(_Out):
    data: CytoscapeEdgeData
    classes: str


class CytoscapeElements(_Out):
    nodes: list[CytoscapeNode]
    edges: list[CytoscapeEdge]


class CytoscapeExport(_Out):
    """format=cytoscape: Cytoscape.js elements."""

    data: ExportMeta
    elements: CytoscapeElements


class Colour(_Out):
    color: str


class EChartsCategory(_Out):
    name: str
    node_label: str
    item_style: Colour = Field(alias="itemStyle")


class EChartsNode(_Out):
    id: str
    name: str
    category: int
    symbol_size: float = Field(alias="symbolSize")
    value: float | None
    item_style: Colour = Field(alias="itemStyle")
    kind: str | None
    region_code: str | None
    x: float | None = None
    y: float | None = None


class LineStyle(_Out):
    width: float
    color: str


class EChartsLink(_Out):
    id: str
    source: int = Field(description="Index into nodes.")
    target: int = Field(description="Index into nodes.")
    value: float | None
    type: str
    label_zh: str
    line_style: LineStyle = Field(alias="lineStyle")


class EChartsLabel(_Out):
    show: bool
    position: str
    formatter: str


class EChartsEmphasis(_Out):
    focus: str


class EChartsForce(_Out):
    repulsion: float
    edge_length: list[float] = Field(alias="edgeLength")
    gravity: float


class EChartsExport(_Out):
    """format=echarts: an ECharts series item of type graph."""

    type: Literal["graph"]
    name: str
    layout: Literal["none", "force"]
    roam: bool
    draggable: bool
    edge_symbol: list[str] = Field(alias="edgeSymbol")
    edge_symbol_size: int = Field(alias="edgeSymbolSize")
    label: EChartsLabel
    emphasis: EChartsEmphasis
    force: EChartsForce
    categories: list[EChartsCategory]
    nodes: list[EChartsNode]
    links: list[EChartsLink]
    meta: ExportMeta


class NodeLinkNode(_NodeStyle):
    pass


class NodeLinkLink(_LinkStyle):
    key: str


class NodeLinkExport(_Out):
    """format=node-link: node-link JSON (D3, force-graph)."""

    directed: bool
    multigraph: bool
    graph: ExportMeta
    nodes: list[NodeLinkNode]
    links: list[NodeLinkLink]


if TYPE_CHECKING:
    JsonExport: TypeAlias = BaseModel
else:
    #: The JSON formats of ``GET /v1/export``.
    JsonExport = TypeAliasType("JsonExport", CytoscapeExport | EChartsExport | NodeLinkExport)


# ---------------------------------------------------------------------- accounts


class Account(_Out):
    name: str
    role: Literal["viewer", "planner", "editor", "admin"]
    scope: str = Field(description="Region code the account writes in; empty: national.")
    disabled: bool = False
    created_at: str | None = None
    created_by: str | None = None
    bootstrap: bool = Field(
        default=False, description="An admin from settings (GRAPH_SERVICE_API_KEY_HASHES)."
    )


class AccountList(_Out):
    items: list[Account]


class ApiKey(_Out):
    id: str = Field(description="The key's public id (key_…); the key itself is never shown again.")
    account: str
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None


class ApiKeyList(_Out):
    items: list[ApiKey]


class NewApiKey(ApiKey):
    key: str = Field(description="The key: shown only in this answer, stored only as a hash.")


# ---------------------------------------------------------------------- edit history


class HistoryChange(_Out):
    field: str = Field(
        description="A field of the document, or attributes.<name> for one attribute."
    )
    before: Any = Field(default=None, description="Its value before; null: absent.")
    after: Any = Field(default=None, description="Its value after; null: absent.")


class HistoryEntry(_Out):
    """One change to one entity, recorded in the transaction that made it."""

    id: str = Field(description="The entry's id (time-ordered): a restore's version.")
    at: dt.datetime = Field(description="Transaction time, UTC.")
    account: str = Field(description="The account that made the change.")
    request_id: str | None = Field(description="The request (X-Request-ID) that made it.")
    operation: str = Field(description="What was done: node.update, batch, restore …")
    entity: Literal["node", "link", "judgement", "account", "key", "record"]
    entity_id: str
    action: Literal["create", "update", "delete"]
    regions: list[str] = Field(description="Division codes the change touches.")
    before: dict[str, Any] | None = Field(description="The whole document before; null: none.")
    after: dict[str, Any] | None = Field(description="The whole document after; null: none.")
    changes: list[HistoryChange] = Field(description="Each field that differs.")


class HistoryPage(_Out):
    items: list[HistoryEntry]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null last.")


class _Restored(_Out):
    id: str
    version: str | None = Field(description="The history entry restored to.")
    recorded_as_of: dt.datetime | None = Field(description="The moment restored to.")
    created: bool = Field(description="It was not stored: the restore created it again.")
    changed: bool = Field(description="Something was written (and recorded as a restore).")
    store_version: int = Field(description="The store version after the restore.")


class NodeRestored(_Restored):
    node: Node
    links: list[Link] = Field(description="Links the node's deletion removed, restored too.")


class LinkRestored(_Restored):
    link: Link


# ---------------------------------------------------------------------------------------
# Jobs (graph_service/services/jobs.py)
# ---------------------------------------------------------------------------------------


class JobError(_Out):
    """Why a job failed: the problem its route would have answered."""

    code: str = Field(description="The problem code (not_found, invalid_input, job_lost …).")
    detail: str
    field: str | None = Field(description="The parameter at fault, if one is.")


class Job(_Out):
    """A job: long work in the background, polled until done, then fetched."""

    id: str = Field(examples=["job-6f1c0a9d3b2e4f5a8c7d6e5f4a3b2c1d"])
    operation: str = Field(description="The route it runs: GET /v1/<operation>.")
    parameters: dict[str, Any] = Field(description="The route's query parameters, as given.")
    state: Literal["queued", "running", "done", "failed"]
    progress: float | None = Field(
        ge=0,
        le=1,
        description="Share of the work done, where the work reports it (betweenness "
        "sweeps do); 1 when done; null when unknown.",
    )
    created_at: str = Field(description="UTC, ISO 8601.")
    started_at: str | None
    finished_at: str | None
    account: str = Field(description="Who started it: an account, or anonymous.")
    public: bool = Field(
        description="Started without a key: computed on the public view, readable by anyone "
        "with its id. Otherwise only its account and admins read it."
    )
    error: JobError | None
    result_url: str | None = Field(description="Where the result is, once done.")


if TYPE_CHECKING:
    JobResult: TypeAlias = BaseModel
else:
    #: What a job's result is: the answer of the route it ran.
    JobResult = TypeAliasType(
        "JobResult",
        Centrality
        | Communities
        | Brokers
        | Fragility
        | LinkStrength
        | ExtremeLinks
        | AnalysisCoverage
        | RuleCheck
        | Change
        | JsonExport,
    )


# ---------------------------------------------------------------------------------------
# The situation page (docs/dashboard.md)
# ---------------------------------------------------------------------------------------


class DashboardRegionRef(_Out):
    code: str
    name: str
    level: str | None = Field(description="省, 市, 县, 乡镇 … as the register names it.")


class DashboardRegion(DashboardRegionRef):
    path: list[DashboardRegionRef] = Field(description="The region's ancestors, top first.")
    children: list[DashboardRegionRef] = Field(description="The regions under it, by code.")


class DashboardCard(_Out):
    key: Literal["villages", "joint_bodies", "coverage", "weak_villages", "rule_breaches"]
    label: str = Field(description="The card's title, in Chinese.")
    unit: str
    value: float | None
    previous: float | None = Field(description="The value on since; null without since.")
    change: float | None = Field(description="value − previous; null without since.")


class TownCoverage(_Out):
    code: str
    name: str | None
    villages: int
    covered: int = Field(description="Villages in a joint body (directly or by their branch).")
    rate: float | None = Field(description="covered / villages in %, one decimal.")


class LinkSeries(_Out):
    type: str
    label: str = Field(description="The link type's Chinese name.")
    counts: list[int] = Field(description="Links in force on 31 December of each year.")
    undated: int = Field(
        description="Of them, links without a start date: counted in every year, as the "
        "as-of analyses read them."
    )


class LinksByYear(_Out):
    years: list[int]
    series: list[LinkSeries]


class StrengthBin(_Out):
    from_: float = Field(alias="from", description="Lower edge (included).")
    to: float = Field(description="Upper edge (excluded, but for the last bin).")
    count: int


class StrengthHistogram(_Out):
    bins: list[StrengthBin]
    links: int = Field(description="Linked pairs scored.")
    median: float | None


class CentralityBar(_Out):
    rank: int
    node: str
    name: str | None
    label: str | None
    score: float


class DashboardCentrality(_Out):
    measure: str
    label: str = Field(description="The measure's Chinese name.")
    total: int = Field(description="Nodes ranked (every node of the region's graph).")
    truncated: bool = Field(description="rows holds fewer than total (top cuts them).")
    rows: list[CentralityBar]


class SankeyNode(_Out):
    id: str = Field(description="A joint body's id, or community:<index>.")
    name: str
    kind: Literal["body", "community"]
    members: Listing[NodeRef] | None = Field(
        default=None, description="A community's members (up to limit listed)."
    )


class SankeyLink(_Out):
    source: str
    target: str
    value: int = Field(description="Members of the body in the community.")


class Sankey(_Out):
    nodes: list[SankeyNode]
    links: list[SankeyLink]


class DashboardCommunities(_Out):
    method: str
    modularity: float | None
    count: int
    sankey: Sankey


class WeakVillageRow(_Out):
    id: str
    name: str | None
    region_name: str | None
    reasons: list[str]
    explanation: str = Field(description=EXPLANATION_ZH)
    explanation_en: str = Field(description=EXPLANATION_EN)


class ProposedPairing(_Out):
    village: PartnerRef
    partner: PartnerRef
    score: float
    reasons: list[Reason]


class MemberRef(_Out):
    id: str
    name: str | None


class BodyRef(_Out):
    id: str
    name: str | None
    kind: str | None


class Breach(_Out):
    body: BodyRef
    rule_id: str
    description: str | None
    severity: str | None
    evidence: str = Field(description="The sentence that shows the breach, in Chinese.")
    members: list[MemberRef]


class Dashboard(_Out):
    """A region's situation page: cards, charts and action lists (docs/dashboard.md)."""

    region: DashboardRegion
    as_of: dt.date
    since: dt.date | None
    cards: list[DashboardCard]
    coverage_by_town: list[TownCoverage]
    links_by_year: LinksByYear
    strength_histogram: StrengthHistogram
    centrality: DashboardCentrality
    communities: DashboardCommunities
    unpartnered_weak: Listing[WeakVillageRow]
    pairings: list[ProposedPairing]
    breaches: list[Breach]


class ViewFiltersOut(_Out):
    measure: str
    top: int
    pairings: int


class SavedView(_Out):
    """A saved view: its parameters, its owner and the URLs that open it."""

    id: str
    owner: str
    saved_at: dt.datetime
    name: str
    region: str
    as_of: dt.date | None
    since: dt.date | None
    filters: ViewFiltersOut
    url: str = Field(description="The page opening this view: /dashboard#view=<id>.")
    parameters_url: str = Field(description="The page with the same parameters, unsaved.")


class SavedViewList(_Out):
    items: list[SavedView]
