"""The steps that build a recommender index's parts from a scope's graph.

:meth:`~graph_service.analysis.recommend.index.RecommenderIndex.build` runs them in order:
the actors (:func:`actor_map`), the candidates, one pass over the links
(:func:`scan_links`), the tie weights and the tie graph, then each candidate's standing,
places, industries, 四项清单 and the programs. Each step returns one part
(:mod:`~graph_service.analysis.recommend.index_parts`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from graph_service.analysis.centrality import CSRGraph, pagerank
from graph_service.analysis.recommend.index_parts import (
    ActorTable,
    BoolArray,
    CandidateTable,
    FloatArray,
    IndustryIndex,
    NeedLists,
    Places,
    Program,
    Standing,
    TieGraph,
)
from graph_service.analysis.recommend.vocabulary import (
    BODY,
    DEFAULT_CAPACITY,
    DEFAULT_MAX_HELPERS,
    LEVELS,
    NEED_KINDS,
    NEED_RESOURCES,
    PARTNER_LINK_TYPES,
    SIZE_METRICS,
    STRENGTH_MIX,
    VILLAGE,
    actor_category,
    code_key,
)
from graph_service.analysis.strength import OUTCOME_METRICS, TIE_LINK_TYPES, link_strengths
from graph_service.analysis.weakness import village_weakness
from graph_service.analysis.wording import Wording, amount, rank_share
from graph_service.schema import NODE_LABELS

__all__ = [
    "LinkScan",
    "actor_map",
    "actor_table",
    "candidate_table",
    "industry_index",
    "need_lists",
    "places",
    "programs",
    "scan_links",
    "standing",
    "tie_graph",
    "tie_weights",
]

#: An actor pair ``(a, b)`` with ``a <= b``.
Pair = tuple[str, str]


def actor_map(G: nx.MultiDiGraph) -> dict[str, str]:
    """Every actor node of ``G`` → its actor: a party organization that is the organization
    (``ORGANIZATION_OF``) of a village, enterprise or institution maps to it, any other
    village, enterprise, institution or party organization to itself.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("v", label="Village")
    >>> G.add_node("o", label="PartyOrganization", kind="党支部")
    >>> _ = G.add_edge("o", "v", key="l", type="ORGANIZATION_OF")
    >>> actor_map(G)
    {'o': 'v', 'v': 'v'}
    """
    unit_of: dict[str, str] = {}
    for org, target, d in sorted(G.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        if d.get("type") != "ORGANIZATION_OF" or str(org) in unit_of:
            continue
        if G.nodes[target].get("label") in ("Village", "Enterprise", "Institution") and (
            G.nodes[org].get("label") == "PartyOrganization"
        ):
            unit_of[str(org)] = str(target)
    for n, d in G.nodes(data=True):
        if d.get("label") in ("Village", "Enterprise", "Institution", "PartyOrganization"):
            unit_of.setdefault(str(n), str(n))
    return dict(sorted(unit_of.items()))


def candidate_table(H: nx.MultiDiGraph, unit_of: Mapping[str, str]) -> CandidateTable:
    """The actors that can be partners, sorted by id, with their documents' columns."""
    ids = sorted({u for u in set(unit_of.values()) if actor_category(H.nodes[u]) is not None})
    n = len(ids)
    docs = [H.nodes[c] for c in ids]
    codes = tuple(str(d.get("region_code") or "") for d in docs)
    return CandidateTable(
        ids=tuple(ids),
        position={c: i for i, c in enumerate(ids)},
        category=np.array([actor_category(d) for d in docs], dtype=np.int64),
        names=tuple(str(d.get("name") or c) for c, d in zip(ids, docs, strict=True)),
        labels=tuple(str(d.get("label")) for d in docs),
        kinds=tuple(d.get("kind") for d in docs),
        codes=codes,
        code_keys=np.array(
            [[code_key(c, length) for c in codes] for length, _ in LEVELS], dtype=np.int64
        ).reshape(len(LEVELS), n),
    )


def actor_table(H: nx.MultiDiGraph, unit_of: dict[str, str]) -> ActorTable:
    """Every actor's name, label, code and kind; the other nodes; the regions' names."""
    actors = sorted(set(unit_of.values()))
    return ActorTable(
        unit_of=unit_of,
        names={u: str(H.nodes[u].get("name") or u) for u in actors},
        labels={u: str(H.nodes[u].get("label")) for u in actors},
        codes={u: str(H.nodes[u].get("region_code") or "") for u in actors},
        kinds={u: H.nodes[u].get("kind") for u in actors},
        others=frozenset(str(n) for n in H if str(n) not in unit_of),
        region_names={
            str(d.get("region_code")): str(d.get("name"))
            for _, d in H.nodes(data=True)
            if d.get("label") == "Region" and d.get("region_code")
        },
    )


def _sets() -> defaultdict[str, set[str]]:
    return defaultdict(set)


@dataclass(slots=True)
class LinkScan:
    """What one pass over the scope's links collects, by actor."""

    #: Actor → names of its industries (``IN_INDUSTRY``).
    industries: defaultdict[str, set[str]] = field(default_factory=_sets)
    #: Actor → its partners (:data:`PARTNER_LINK_TYPES`).
    partners: defaultdict[str, set[str]] = field(default_factory=_sets)
    #: Actor → the joint bodies it is a member of.
    bodies_of: defaultdict[str, set[str]] = field(default_factory=_sets)
    #: Helper → the actors it pairs with (``PAIRS_WITH``), and helped → its helpers.
    helped: defaultdict[str, set[str]] = field(default_factory=_sets)
    helpers: defaultdict[str, set[str]] = field(default_factory=_sets)
    #: Actor pair → the raw (source, target) node pairs of its tie links.
    tie_pairs: defaultdict[Pair, list[tuple[Any, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: Actor → outcome metric → total over its ties.
    outcome_totals: defaultdict[str, dict[str, float]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    #: Program → participants (``PART_OF_PROGRAM``), and the categories of the helpers and
    #: the helped of pairings that name it.
    program_members: defaultdict[str, set[str]] = field(default_factory=_sets)
    program_helpers: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    program_helped: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


def scan_links(H: nx.MultiDiGraph, unit_of: Mapping[str, str]) -> LinkScan:
    """One pass over the links of ``H``, between actors (organizations merged)."""
    scan = LinkScan()
    for a, b, d in H.edges(data=True):
        type_ = d.get("type")
        if type_ == "IN_INDUSTRY":
            ua = unit_of.get(str(a))
            if ua is not None:
                scan.industries[ua].add(str(H.nodes[b].get("name") or b))
            continue
        if type_ == "PART_OF_PROGRAM":
            ua = unit_of.get(str(a))
            if ua is not None:
                scan.program_members[str(b)].add(ua)
            continue
        if type_ not in TIE_LINK_TYPES:
            continue
        ua, ub = unit_of.get(str(a)), unit_of.get(str(b))
        if ua is None or ub is None or ua == ub:
            continue
        scan.tie_pairs[(ua, ub) if ua <= ub else (ub, ua)].append((a, b))
        attrs = d.get("attributes") or {}
        for metric in OUTCOME_METRICS:
            value = _number(attrs.get(metric))
            if value is not None and value > 0:
                for u in (ua, ub):
                    totals = scan.outcome_totals[u]
                    totals[metric] = totals.get(metric, 0.0) + value
        if type_ in PARTNER_LINK_TYPES:
            scan.partners[ua].add(ub)
            scan.partners[ub].add(ua)
        if type_ == "MEMBER_OF" and actor_category(H.nodes[ub]) == BODY:
            scan.bodies_of[ua].add(ub)
        if type_ == "PAIRS_WITH":
            scan.helped[ua].add(ub)
            scan.helpers[ub].add(ua)
            program = attrs.get("program")
            if isinstance(program, str) and program:
                cat_a, cat_b = actor_category(H.nodes[ua]), actor_category(H.nodes[ub])
                if cat_a is not None:
                    scan.program_helpers[program].add(cat_a)
                if cat_b is not None:
                    scan.program_helped[program].add(cat_b)
    return scan


def tie_weights(
    H: nx.MultiDiGraph, scan: LinkScan, as_of: dt.date | None, tie_weight: str
) -> dict[Pair, float]:
    """The weight of each tie: its explained link strength floored at 0.05, or 1 (``count``)."""
    if tie_weight != "strength" or not scan.tie_pairs:
        return dict.fromkeys(scan.tie_pairs, 1.0)
    # One representative raw pair per actor pair; the strength model reads all the pair's
    # links and merges organizations with their units for shared bodies.
    reps = {key: pairs[0] for key, pairs in scan.tie_pairs.items()}
    results = link_strengths(H, list(reps.values()), as_of=as_of)
    return {
        key: max(0.05, min(1.0, result.score)) for key, result in zip(reps, results, strict=True)
    }


def tie_graph(scan: LinkScan, weights: Mapping[Pair, float]) -> TieGraph:
    """The weighted tie graph, with each actor's joint bodies and partners."""
    adjacency: defaultdict[str, dict[str, float]] = defaultdict(dict)
    for (ua, ub), w in weights.items():
        adjacency[ua][ub] = w
        adjacency[ub][ua] = w
    return TieGraph(
        adjacency=dict(adjacency),
        degree={u: len(nb) for u, nb in adjacency.items()},
        bodies_of={u: frozenset(s) for u, s in scan.bodies_of.items()},
        partners={u: frozenset(s) for u, s in scan.partners.items()},
    )


def standing(
    H: nx.MultiDiGraph,
    candidates: CandidateTable,
    unit_of: Mapping[str, str],
    scan: LinkScan,
    ties: TieGraph,
    weights: Mapping[Pair, float],
) -> Standing:
    """Size, PageRank and outcome percentiles, their strength mix, and the villages'
    weakness and priority."""
    size_pct, size_text, size_known = _sizes(H, candidates, ties)
    pagerank_pct = _pagerank_percentiles(unit_of, weights, candidates.ids)
    outcome, outcome_recorded = _outcomes(scan, candidates.ids)
    s_size, s_pr, s_out = STRENGTH_MIX
    n = len(candidates.ids)
    weak = np.zeros(n, dtype=np.bool_)
    known = np.zeros(n, dtype=np.bool_)
    reasons: list[tuple[str, ...]] = [()] * n
    priority = np.zeros(n)
    for i, c in enumerate(candidates.ids):
        if candidates.category[i] != VILLAGE:
            continue
        # The one definition coverage and plans use (graph_service.analysis.weakness).
        weakness = village_weakness(H, c)
        reasons[i] = weakness.reasons
        weak[i] = weakness.weak
        known[i] = weakness.known
        priority[i] = (
            0.5 + 0.5 * float(weak[i])
            if weakness.collective_income_yuan is None
            else (0.5 * float(weak[i]) + 0.5 * (1.0 - size_pct[i]))
        )
    return Standing(
        size_pct=size_pct,
        size_text=tuple(size_text),
        size_known=size_known,
        pagerank_pct=pagerank_pct,
        outcome=outcome,
        outcome_recorded=outcome_recorded,
        strength=s_size * size_pct + s_pr * pagerank_pct + s_out * outcome,
        priority=priority,
        weak=weak,
        weak_reasons=tuple(reasons),
        known=known,
    )


def _pagerank_percentiles(
    unit_of: Mapping[str, str], weights: Mapping[Pair, float], ids: tuple[str, ...]
) -> FloatArray:
    """Percentile of each candidate's PageRank on the weighted tie graph of all actors."""
    T = nx.Graph()
    T.add_nodes_from(sorted(set(unit_of.values())))
    T.add_weighted_edges_from((a, b, w) for (a, b), w in sorted(weights.items()))
    pr = pagerank(CSRGraph.from_graph(T)) if len(T) else {}
    values = [float(pr.get(c, 0.0)) for c in ids]
    return np.array(_percentiles(values) if ids else [], dtype=np.float64)


def _outcomes(scan: LinkScan, ids: tuple[str, ...]) -> tuple[FloatArray, BoolArray]:
    """Each candidate's outcome totals, each metric against the p90 of all actors' totals,
    and whether it has any outcome recorded."""
    refs: dict[str, float] = {}
    for metric in OUTCOME_METRICS:
        values = sorted(t[metric] for t in scan.outcome_totals.values() if metric in t)
        if values:
            refs[metric] = values[min(len(values) - 1, int(0.9 * (len(values) - 1) + 0.5))]
    outcome = np.zeros(len(ids))
    recorded = np.zeros(len(ids), dtype=np.bool_)
    for i, c in enumerate(ids):
        totals = scan.outcome_totals.get(c)
        if totals:
            outcome[i] = float(np.mean([min(1.0, totals[m] / refs[m]) for m in totals]))
            recorded[i] = True
    return outcome, recorded


def _sizes(
    H: nx.MultiDiGraph, candidates: CandidateTable, ties: TieGraph
) -> tuple[FloatArray, list[Wording], BoolArray]:
    """Size percentile within the label (of the first size metric a node has; a joint body's
    size is its member count), the size as explanations quote it, with where it ranks, and
    whether a size is recorded."""
    n = len(candidates.ids)
    size_pct = np.full(n, 0.5)
    size_text = [_size_unknown(label) for label in candidates.labels]
    facts: dict[int, Wording] = {}
    groups: defaultdict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    peers: dict[tuple[str, str], Wording] = {}
    for i, c in enumerate(candidates.ids):
        d = H.nodes[c]
        attrs = d.get("attributes") or {}
        label = str(d.get("label"))
        if candidates.category[i] == BODY:
            count = sum(
                1 for p in ties.partners.get(c, ()) if c in ties.bodies_of.get(p, frozenset())
            )
            key = ("PartyOrganization", "members")
            groups[key].append((i, float(count)))
            facts[i] = Wording(f"联建组织有成员单位 {count} 个", f"{count} member(s)")
            peers[key] = Wording("本区域的联建组织", "joint bodies")
            continue
        for metric, name, unit_name in SIZE_METRICS.get(label, ()):
            value = _number(attrs.get(metric))
            if value is not None:
                key = (label, metric)
                groups[key].append((i, value))
                facts[i] = Wording(
                    f"{name} {amount(value, unit_name)}", f"{metric} {amount(value, unit_name)}"
                )
                label_zh = NODE_LABELS[label].label_zh if label in NODE_LABELS else label
                peers[key] = Wording(f"本区域有{name}记录的{label_zh}", f"{label} with {metric}")
                break
    size_known = np.zeros(n, dtype=np.bool_)
    for key, group in groups.items():
        for (i, _), p in zip(group, _percentiles([v for _, v in group]), strict=True):
            size_pct[i] = p
            size_known[i] = True
            share = rank_share(p)
            size_text[i] = Wording(
                f"{facts[i].zh}, 在{peers[key].zh}中居{share.zh}",
                f"{facts[i].en} ({share.en} of {peers[key].en})",
            )
    return size_pct, size_text, size_known


def _size_unknown(label: str) -> Wording:
    """The size of a candidate without a size metric: what is missing, and how it counts."""
    names = "、".join(name for _, name, _ in SIZE_METRICS.get(label, ()))
    missing = f"未记录{names}" if names else "规模未记录"
    return Wording(f"{missing}, 按同类中位 (百分位 0.50) 计", "size not recorded (the median)")


def places(H: nx.MultiDiGraph, candidates: CandidateTable, scan: LinkScan) -> Places:
    """Each candidate's places as a helper (capacity, load) and as a helped village."""
    n = len(candidates.ids)
    capacity = np.zeros(n)
    load = np.zeros(n)
    helpers_of = np.zeros(n)
    max_helpers = np.zeros(n)
    for i, c in enumerate(candidates.ids):
        doc = H.nodes[c]
        capacity[i] = _capacity_of(doc)
        load[i] = len(scan.helped.get(c, ()))
        helpers_of[i] = len(scan.helpers.get(c, ()))
        if candidates.category[i] == VILLAGE:
            given = _number((doc.get("attributes") or {}).get("max_helpers"))
            max_helpers[i] = given if given is not None and given >= 0 else DEFAULT_MAX_HELPERS
    return Places(capacity=capacity, load=load, helpers_of=helpers_of, max_helpers=max_helpers)


def industry_index(scan: LinkScan, candidates: CandidateTable) -> IndustryIndex:
    """Industries by actor, and the candidates of each industry."""
    position = candidates.position
    return IndustryIndex(
        of_actor={u: frozenset(s) for u, s in scan.industries.items()},
        members={
            name: np.array(sorted(position[u] for u in us if u in position), dtype=np.int64)
            for name, us in _invert(scan.industries).items()
        },
    )


def need_lists(
    H: nx.MultiDiGraph, unit_of: Mapping[str, str], candidates: CandidateTable
) -> NeedLists:
    """The 四项清单: every actor's needs and offers (resources, products), and for each need
    term the candidates that meet it by an offer or by their kind."""
    needs: dict[str, frozenset[str]] = {}
    offers: dict[str, frozenset[str]] = {}
    for u in sorted(set(unit_of.values())):
        attrs = H.nodes[u].get("attributes") or {}
        nd = _strings(attrs.get("needs"))
        of = _strings(attrs.get("resources")) | _strings(attrs.get("products"))
        if nd:
            needs[u] = nd
        if of:
            offers[u] = of
    need_met = {}
    for term in sorted({t for nd in needs.values() for t in nd}):
        met = np.zeros(len(candidates.ids), dtype=np.bool_)
        good = NEED_RESOURCES.get(term, frozenset()) | {term}
        by_kind = NEED_KINDS.get(term, frozenset())
        for i, c in enumerate(candidates.ids):
            met[i] = bool(offers.get(c, frozenset()) & good) or candidates.kinds[i] in by_kind
        need_met[term] = met
    return NeedLists(needs=needs, offers=offers, need_met=need_met)


def programs(H: nx.MultiDiGraph, scan: LinkScan) -> dict[str, Program]:
    """Every program of the scope: its participants and the categories its pairings use."""
    found = {
        p: Program(
            participants=frozenset(scan.program_members.get(p, ())),
            helper_categories=frozenset(scan.program_helpers.get(p, ())),
            helped_categories=frozenset(scan.program_helped.get(p, ())),
        )
        for p in sorted(set(scan.program_members) | set(scan.program_helpers))
    }
    for p, d in H.nodes(data=True):
        if d.get("label") == "Program" and str(p) not in found:
            found[str(p)] = Program(frozenset(), frozenset(), frozenset())
    return found


# ---------------------------------------------------------------------------------------
# Reading attributes
# ---------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite number, else ``None`` (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _strings(value: Any) -> frozenset[str]:
    """The non-empty strings of a list or tuple attribute."""
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value if isinstance(v, str) and v)
    return frozenset()


def _capacity_of(doc: Mapping[str, Any]) -> float:
    """The places a helper offers: its ``pairing_capacity``, else :data:`DEFAULT_CAPACITY`."""
    attrs = doc.get("attributes") or {}
    given = _number(attrs.get("pairing_capacity"))
    if given is not None and given >= 0:
        return given
    label = str(doc.get("label"))
    return DEFAULT_CAPACITY.get(f"{label}/{doc.get('kind')}", DEFAULT_CAPACITY.get(label, 1.0))


def _percentiles(values: list[float]) -> list[float]:
    """Mid-rank percentiles in (0, 1): ``(below + equal / 2) / n``."""
    n = len(values)
    order = sorted(range(n), key=lambda i: values[i])
    out = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[order[j + 1]] == values[order[i]]:
            j += 1
        p = (i + (j - i + 1) / 2) / n
        for t in range(i, j + 1):
            out[order[t]] = p
        i = j + 1
    return out


def _invert(mapping: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    out: defaultdict[str, set[str]] = defaultdict(set)
    for key, values in mapping.items():
        for v in values:
            out[v].add(key)
    return dict(out)
