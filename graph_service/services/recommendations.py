"""Recommendations as planners use them: ranked partners, region-wide assignment, what-if,
and the judgements that turn a proposal into a pairing (or keep it out for good).

The ranking, assignment and what-if are pure functions (``graph_service.analysis``); this
service resolves the scope (a county, where pairings are decided), keeps the
:class:`~graph_service.analysis.recommend.RecommenderIndex` beside the cached graph of that
scope and store version, feeds the planners' current rejections back into every proposal,
and records judgements. The service proposes; only an ``accept`` judgement writes a link, in
the same transaction as the judgement itself. Index builds, rankings, plans and what-if runs
are CPU-bound: they run in the worker pool (``view.graphs.pool``), an index once per scope
and store version however many ask for it at the same time.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np

from graph_service.analysis import assignment, recommend
from graph_service.domain import MAX_CANDIDATES
from graph_service.errors import ConflictError, InvalidInputError, NotFoundError
from graph_service.models import (
    AssignmentIn,
    JudgementIn,
    LinkDoc,
    NodeDoc,
    ProposedPair,
    WhatIfIn,
    derive_link_id,
)
from graph_service.schema import link_allows
from graph_service.services.analysis import to_jsonable
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.graph import write_context
from graph_service.services.listing import Limit, listing
from graph_service.services.references import resolve_node, resolve_nodes
from graph_service.services.view import GraphView
from graph_service.store.protocol import (
    GraphStore,
    JudgementDoc,
    JudgementQuery,
    LinkQuery,
    WriteBatch,
)
from graph_service.visibility import Caller

__all__ = ["RecommendationService", "judgement_time", "pair_key"]

#: Judgements read per page when the service gathers a target's or a region's.
_PAGE = 1000


def pair_key(a: str, b: str) -> str:
    """The unordered pair of two actor ids, as stored (``a|b`` with ``a <= b``)."""
    return "|".join(sorted((a, b)))


def judgement_time(moment: dt.datetime) -> str:
    """The stored form of a judgement time: UTC, microseconds, ``Z`` (sorts as text)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_judgement_id(moment: dt.datetime) -> str:
    stamp = moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"judgement:{stamp}:{secrets.token_hex(4)}"


def _message(exc: Exception) -> str:
    # str() of a KeyError quotes its argument; the argument itself reads as written.
    return str(exc.args[0]) if exc.args else str(exc)


def _brief(doc: NodeDoc | None, node_id: str) -> dict[str, Any]:
    if doc is None:
        return {"id": node_id}
    return {
        "id": node_id,
        "name": doc.get("name"),
        "label": doc.get("label"),
        "kind": doc.get("kind"),
        "region_code": doc.get("region_code"),
    }


@dataclass(frozen=True, slots=True)
class _JudgedPair:
    index: recommend.RecommenderIndex
    target: str
    partner: str
    target_category: str
    partner_category: str


class RecommendationService:
    """Reads go through the caller's ``GraphView`` (graphs, indexes and node lookups are the
    caller's); judgements are written to and listed from the store."""

    def __init__(
        self,
        store: GraphStore,
        tie_weight: Literal["strength", "count"] = "strength",
    ) -> None:
        self.store = store
        self.tie_weight: Literal["strength", "count"] = tie_weight
        #: Index builds so far, by who asked: ``request`` (on a request's path) or
        #: ``warm-up`` (``services.index_warmup``). Tests and /readyz read it.
        self.index_builds: Counter[str] = Counter()
        self._builds_lock = threading.Lock()
        #: Hears of each (region, audience) an index of today's graph was asked for: the
        #: warm-up records them to warm at the next start.
        self.on_index: Callable[[str, str], None] | None = None

    # ------------------------------------------------------------------ scopes

    def _build(
        self, origin: str, graph: nx.MultiDiGraph, as_of: dt.date | None
    ) -> recommend.RecommenderIndex:
        with self._builds_lock:
            self.index_builds[origin] += 1
        return recommend.RecommenderIndex.build(graph, as_of, tie_weight=self.tie_weight)

    async def _index(
        self,
        view: GraphView,
        region_code: str,
        as_of: dt.date | None,
        field: str = "region",
        exact: bool = False,
        origin: str = "request",
    ) -> tuple[recommend.RecommenderIndex, dict[str, Any]]:
        scope = AnalysisScope("region", region_code, 2, (), True, as_of)
        # After a write: carry the indexes it did not touch over to the new version, so
        # that this request finds them instead of rebuilding (``ScopedGraphs.follow``).
        await view.graphs.follow()
        try:
            graph, key = await view.graph(scope, exact)
        except NotFoundError as exc:
            raise NotFoundError(exc.message, field=field) from exc
        index = await view.graphs.derive(key, "recommender", self._build, origin, graph, as_of)
        if self.on_index is not None and as_of is None:
            self.on_index(region_code, key[2])
        return index, self._scope_info(view, scope, key, graph)

    async def warm(self, view: GraphView, region_code: str) -> tuple[int, int]:
        """Build (or find) the recommender index of ``region_code`` for the view's
        audience, of the current store version; its scope's node and link counts."""
        _, info = await self._index(view, region_code, None, exact=True, origin="warm-up")
        return info["nodes"], info["links"]

    @staticmethod
    async def _node(
        view: GraphView, node_id: str, field: str, as_of: dt.date | None = None
    ) -> NodeDoc:
        # Not found says nothing of the date: the node may exist on another day.
        try:
            return await view.node(node_id, as_of, field=field)
        except NotFoundError as exc:
            raise NotFoundError(f"no node {node_id}", field=field) from exc

    async def _county_of(self, view: GraphView, node: NodeDoc, field: str) -> str:
        """The county (6-digit code) a node's pairings are decided in: its own code's, or,
        for a party organization without one, that of the village or enterprise it is the
        organization of."""
        code = node.get("region_code")
        if (not code or len(code) < 6) and node.get("label") == "PartyOrganization":
            codes = sorted(str(u.get("region_code") or "") for u in await self._units(view, node))
            code = next((c for c in codes if len(c) >= 6), None)
        if not code or len(code) < 6:
            raise InvalidInputError(f"{node['id']} has no county-level division code", field=field)
        return str(code[:6])

    @staticmethod
    def _scope_info(
        view: GraphView, scope: AnalysisScope, key: tuple[Any, ...], graph: nx.MultiDiGraph
    ) -> dict[str, Any]:
        nodes, links = view.graphs.counts(key, graph)
        return {**scope.describe(), "nodes": nodes, "links": links}

    async def _current(self, query: JudgementQuery) -> list[JudgementDoc]:
        """Every judgement in force matching ``query`` (all pages)."""
        found: list[JudgementDoc] = []
        cursor: str | None = None
        while True:
            page = await self.store.list_judgements(query, cursor, _PAGE)
            found += page.items
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    # ------------------------------------------------------------------ partners

    async def partners(
        self,
        view: GraphView,
        target: str,
        top: int,
        partner_labels: Sequence[str],
        max_distance: str | None,
        program: str | None,
        as_of: dt.date | None,
        relation: str = "pairing",
        include_full: bool = False,
    ) -> dict[str, Any]:
        """Ranked partners for a village, its party organization or a helper, scored over
        the target's county (where pairings are decided); the pairs planners rejected are
        left out, those they marked ``unsure`` carry that mark. ``target`` and ``program``
        are ids, division codes or names (``services.references``)."""
        target = await resolve_node(view, target, "target", as_of)
        if program is not None:
            program = await resolve_node(view, program, "program", as_of)
        node = await self._node(view, target, "target", as_of)
        index, info = await self._index(view, await self._county_of(view, node, "target"), as_of)
        try:
            actor = index.resolve(target)
        except (nx.NodeNotFound, ValueError) as exc:
            raise InvalidInputError(_message(exc), field="target") from exc
        if program is not None and program not in index.programs:
            raise InvalidInputError(f"no program {program} in the target's county", field="program")
        judged = await self._current(JudgementQuery(node=actor, current=True))
        rejected = [(j["target"], j["partner"]) for j in judged if j["decision"] == "reject"]
        marks = {
            (j["partner"] if j["target"] == actor else j["target"]): j
            for j in judged
            if j["decision"] == "unsure"
        }
        try:
            result = await view.graphs.pool.run(
                recommend.recommend_partners,
                index,
                actor,
                top=top,
                partner_labels=list(partner_labels) or None,
                max_distance=max_distance,  # type: ignore[arg-type]
                program=program,
                rejected=rejected,
                relation=relation,  # type: ignore[arg-type]
                include_full=include_full,
            )
        except ValueError as exc:
            raise InvalidInputError(_message(exc), field="target") from exc
        data: dict[str, Any] = await view.graphs.pool.run(to_jsonable, result)
        refs = await view.refs(row["partner_id"] for row in data["candidates"])
        for row in data["candidates"]:
            row["region_name"] = refs.get(row["partner_id"], {}).get("region_name")
            row["partner"] = {
                "id": row["partner_id"],
                "name": row["name"],
                "label": row["label"],
                "kind": row["kind"],
            }
            mark = marks.get(row["partner_id"])
            row["judgement"] = (
                {"id": mark["id"], "decision": mark["decision"], "decided_at": mark["decided_at"]}
                if mark
                else None
            )
        # Every candidate left after the filters was scored: ``considered`` of them.
        data["candidates"] = listing(
            data["candidates"], Limit(top, "top", MAX_CANDIDATES), data["considered"]
        )
        return {"scope": info, **data}

    # ------------------------------------------------------------------ assignment

    async def assignment(self, view: GraphView, request: AssignmentIn) -> dict[str, Any]:
        """A deterministic region-wide plan: helpers to villages under capacities, by
        min-cost flow over the recommender's scores; rejected pairs never assigned. Its
        ``funnel`` counts what each filter kept, so an empty plan says why."""
        request = await self._resolved_assignment(view, request)
        index, info = await self._index(view, request.region, request.as_of)
        if request.program is not None and request.program not in index.programs:
            raise InvalidInputError(f"no program {request.program} in the region", field="program")
        villages = self._actors(index, request.villages, "villages", ("Village",))
        helpers = self._actors(
            index, request.helpers, "helpers", ("Village", "Enterprise", "Institution")
        )
        rejected = [
            (j["target"], j["partner"])
            for j in await self._current(JudgementQuery(decisions=["reject"], current=True))
        ]
        plan = await view.graphs.pool.run(
            assignment.plan_region,
            index,
            villages,
            helpers,
            k=request.k,
            m=request.m,
            top_candidates=request.top_candidates,
            min_helpers=request.min_helpers,
            program=request.program,
            max_distance=request.max_distance,
            rejected=rejected,
        )
        docs = {
            actor: (index.names[i], index.labels[i], index.kinds[i])
            for i, actor in enumerate(index.ids)
        }

        def who(actor: str) -> dict[str, Any]:
            name, label, kind = docs.get(actor, (index.actor_names.get(actor), None, None))
            return {"id": actor, "name": name, "label": label, "kind": kind}

        return {
            "scope": info,
            "parameters": request.model_dump(mode="json", exclude={"villages", "helpers"}),
            "method": plan.method,
            "total_score": plan.total_score,
            "villages": plan.villages,
            "helpers": plan.helpers,
            "candidate_pairs": plan.candidate_pairs,
            "covered": plan.covered,
            "excluded_rejected_pairs": len(rejected),
            "pairs": [
                {"helper": who(h), "village": who(v), "score": score} for h, v, score in plan.pairs
            ],
            "unassigned": [
                {
                    "village": who(v),
                    "reason": reason,
                    "explanation": said.zh,
                    "explanation_en": said.en,
                }
                for (v, reason), said in zip(
                    plan.unassigned, plan.unassigned_explanations, strict=True
                )
            ],
            "funnel": [
                {
                    "step": step.step,
                    "label": step.label,
                    "subject": step.subject,
                    "count_in": step.count_in,
                    "count_out": step.count_out,
                    "removed_examples": [who(x) for x in step.removed],
                }
                for step in plan.funnel
            ],
        }

    @staticmethod
    async def _resolved_assignment(view: GraphView, request: AssignmentIn) -> AssignmentIn:
        """The request with its program, villages and helpers given by id."""
        day = request.as_of
        update: dict[str, Any] = {}
        if request.program is not None:
            update["program"] = await resolve_node(view, request.program, "program", day)
        for field in ("villages", "helpers"):
            given = getattr(request, field)
            if given is not None:
                update[field] = await resolve_nodes(view, given, field, day)
        return request.model_copy(update=update)

    @staticmethod
    def _actors(
        index: recommend.RecommenderIndex,
        given: Sequence[str] | None,
        field: str,
        categories: Sequence[str],
    ) -> list[str] | None:
        if given is None:
            return None
        actors = []
        for i, node in enumerate(given):
            try:
                actor = index.resolve(node)
            except nx.NodeNotFound as exc:
                raise NotFoundError(f"{node} is not in the region", field=f"{field}.{i}") from exc
            except ValueError as exc:
                raise InvalidInputError(str(exc), field=f"{field}.{i}") from exc
            category = index.category_of(actor)
            if category is None or recommend.CATEGORIES[category] not in categories:
                raise InvalidInputError(
                    f"{node} is a {index.actor_labels.get(actor)}; {field} are "
                    + " / ".join(categories),
                    field=f"{field}.{i}",
                )
            actors.append(actor)
        return actors

    # ------------------------------------------------------------------ what-if

    async def what_if(self, view: GraphView, request: WhatIfIn) -> dict[str, Any]:
        """Proposed pairings applied to a copy of the region's graph; nothing is written."""
        request = await self._resolved_what_if(view, request)
        region = request.region
        if region is None:
            first = await self._node(view, request.proposed[0].village, "proposed.0.village")
            region = await self._county_of(view, first, "proposed.0.village")
        scope = AnalysisScope("region", region, 2, (), True, request.as_of)
        try:
            graph, key = await view.graph(scope)
        except NotFoundError as exc:
            raise NotFoundError(exc.message, field="region") from exc
        unit_of = await view.graphs.derive(key, "actors", recommend.actor_map, graph)
        for i, pair in enumerate(request.proposed):
            for end in ("helper", "village"):
                node = getattr(pair, end)
                if node not in graph:
                    raise NotFoundError(
                        f"{node} is not in region {region} (or not valid on as_of)",
                        field=f"proposed.{i}.{end}",
                    )
            village = unit_of.get(pair.village)
            if village is None or graph.nodes[village].get("label") != "Village":
                raise InvalidInputError(
                    f"{pair.village} is not a village or a village's party organization",
                    field=f"proposed.{i}.village",
                )
            helper = unit_of.get(pair.helper)
            if helper is None:
                raise InvalidInputError(
                    f"{pair.helper} cannot help (a region, an industry …)",
                    field=f"proposed.{i}.helper",
                )
            if helper == village:
                raise InvalidInputError(
                    "a village cannot pair with itself", field=f"proposed.{i}.helper"
                )
        report = await view.graphs.pool.run(
            assignment.what_if,
            graph,
            [(p.helper, p.village) for p in request.proposed],
            region_code=region,
            as_of=request.as_of,
            # Every riser, to count them; the answer lists the first ``top``.
            top=graph.number_of_nodes(),
            program=request.program,
        )
        data: dict[str, Any] = await view.graphs.pool.run(to_jsonable, report)
        shifts = [*data["risers"][: request.top], *data["proposal_shifts"]]
        refs = await view.refs(
            [
                *(n for pair in data["proposed"] for n in pair),
                *data["newly_paired"],
                *data["newly_covered"],
                *(s["node_id"] for s in shifts),
            ],
            graph,
        )
        data["proposed"] = [[refs[n] for n in pair] for pair in data["proposed"]]
        for villages in ("newly_paired", "newly_covered"):
            data[villages] = [refs[v] for v in data[villages] if v in refs]
        for shift in shifts:
            shift["region_name"] = refs.get(shift["node_id"], {}).get("region_name")
        data["risers"] = listing(data["risers"], Limit(request.top, "top", MAX_CANDIDATES))
        info = self._scope_info(view, scope, key, graph)
        return {"scope": info, "written": False, **data}

    @staticmethod
    async def _resolved_what_if(view: GraphView, request: WhatIfIn) -> WhatIfIn:
        """The request with its program and proposed pairs given by id."""
        day = request.as_of
        proposed = [
            ProposedPair(
                helper=await resolve_node(view, pair.helper, f"proposed.{i}.helper", day),
                village=await resolve_node(view, pair.village, f"proposed.{i}.village", day),
            )
            for i, pair in enumerate(request.proposed)
        ]
        program = request.program
        if program is not None:
            program = await resolve_node(view, program, "program", day)
        return request.model_copy(update={"proposed": proposed, "program": program})

    # ------------------------------------------------------------------ judgements

    async def judge(
        self, view: GraphView, request: JudgementIn, request_id: str | None = None
    ) -> dict[str, Any]:
        """Record a planner's judgement; ``accept`` writes the link in the same transaction.

        The record keeps who decided (the stated planner and the API key's name), when, and
        what the recommender said of the pair at that moment (score, rank, components), so
        a decision can be audited against the proposal it answered.
        """
        caller = view.caller
        asked = {"target": request.target, "partner": request.partner}
        request = await self._resolved_judgement(view, request)
        pair_of = await self._judged_pair(view, request)
        index, target, partner = pair_of.index, pair_of.target, pair_of.partner
        target_category, partner_category = pair_of.target_category, pair_of.partner_category
        already = partner in index.partners.get(target, frozenset())
        if request.decision == "accept" and already:
            raise ConflictError(f"{target} and {partner} are partners already", field="partner")
        pair = pair_key(target, partner)
        in_force = await self._current(JudgementQuery(node=target, current=True))
        previous = [j for j in in_force if j["pair"] == pair]
        rejected = [
            (j["target"], j["partner"])
            for j in in_force
            if j["decision"] == "reject" and j["pair"] != pair
        ]
        now = dt.datetime.now(dt.UTC)
        judgement_id = _new_judgement_id(now)
        link = None
        if request.decision == "accept":
            link = await self._decision_link(
                view,
                request,
                index,
                target,
                partner,
                target_category,
                partner_category,
                judgement_id,
                caller,
                now,
            )
        doc: JudgementDoc = {
            "id": judgement_id,
            "pair": pair,
            "target": target,
            "partner": partner,
            "asked": asked,
            "decision": request.decision,
            "relation": request.relation,
            "program": request.program,
            "note": request.note,
            "decided_by": request.decided_by or caller.name,
            "recorded_by": caller.name,
            "decided_at": judgement_time(now),
            "link_id": link["id"] if link else None,
            "supersedes": previous[0]["id"] if previous else None,
            "already_partners": already,
            "recommendation": self._snapshot(index, target, partner, request, rejected),
        }
        context = write_context(caller, "judgement", request_id)
        batch = WriteBatch(links=[link] if link else (), judgements=[doc], context=context)
        result = await self.store.write(batch)
        return {
            "judgement": doc,
            "link": link,
            "version": result.version,
        }

    @staticmethod
    async def _resolved_judgement(view: GraphView, request: JudgementIn) -> JudgementIn:
        """The request with its target, partner and program given by id."""
        update = {
            "target": await resolve_node(view, request.target, "target"),
            "partner": await resolve_node(view, request.partner, "partner"),
        }
        if request.program is not None:
            update["program"] = await resolve_node(view, request.program, "program")
        return request.model_copy(update=update)

    async def _judged_pair(self, view: GraphView, request: JudgementIn) -> _JudgedPair:
        """The actors a judgement is about, in the target's county index, with their
        candidate categories; a pair the recommender could never propose is refused."""
        target_doc = await self._node(view, request.target, "target")
        partner_doc = await self._node(view, request.partner, "partner")
        if request.program is not None:
            program = await self._node(view, request.program, "program")
            if program.get("label") != "Program":
                raise InvalidInputError(f"{request.program} is not a program", field="program")
        # A judgement is a write: it decides on the graph as it is, not as it was a second ago.
        county = await self._county_of(view, target_doc, "target")
        index, _ = await self._index(view, county, None, exact=True)
        try:
            target = index.resolve(request.target)
        except (nx.NodeNotFound, ValueError) as exc:
            raise InvalidInputError(_message(exc), field="target") from exc
        partner = await self._actor(view, index, partner_doc)
        if partner == target:
            raise InvalidInputError("a target cannot pair with itself", field="partner")
        target_category = recommend.candidate_category(
            {"label": index.actor_labels.get(target), "kind": index.actor_kinds.get(target)}
        )
        if target_category is None:
            # A party committee that is no joint body, a region, a program: nothing the
            # recommender proposes partners for.
            raise InvalidInputError(
                f"{request.target} cannot be a target (a village, an enterprise, an "
                "institution or a joint body can)",
                field="target",
            )
        partner_category = recommend.candidate_category(await self._doc(view, index, partner))
        if partner_category is None:
            raise InvalidInputError(
                f"{request.partner} cannot be a partner (a village, an enterprise, an "
                "institution or a joint body can)",
                field="partner",
            )
        if partner_category not in recommend.looks_for(target_category):
            raise InvalidInputError(
                f"a {target_category} is paired with "
                + " / ".join(recommend.looks_for(target_category)),
                field="partner",
            )
        return _JudgedPair(index, target, partner, target_category, partner_category)

    async def _doc(
        self, view: GraphView, index: recommend.RecommenderIndex, actor: str
    ) -> dict[str, Any]:
        if actor in index.actor_labels:
            return {"label": index.actor_labels[actor], "kind": index.actor_kinds.get(actor)}
        return await self._node(view, actor, "partner")

    async def _actor(self, view: GraphView, index: recommend.RecommenderIndex, doc: NodeDoc) -> str:
        """The actor of a node: its village or enterprise for a party organization that is
        theirs — from the index when the node is in the target's county, else the store."""
        node_id: str = doc["id"]
        if node_id in index.unit_of:
            return index.unit_of[node_id]
        units = sorted(str(u["id"]) for u in await self._units(view, doc))
        return units[0] if units else node_id

    @staticmethod
    async def _units(view: GraphView, doc: NodeDoc) -> list[NodeDoc]:
        """The villages, enterprises and institutions a party organization is the
        organization of (``ORGANIZATION_OF``), read from the store; none for other nodes."""
        if doc.get("label") != "PartyOrganization":
            return []
        page = await view.list_links(
            LinkQuery(types=["ORGANIZATION_OF"], source=doc["id"]), None, 10
        )
        units = await view.get_nodes([link["target"] for link in page.items])
        return [
            u for u in units.values() if u.get("label") in ("Village", "Enterprise", "Institution")
        ]

    @staticmethod
    def _snapshot(
        index: recommend.RecommenderIndex,
        target: str,
        partner: str,
        request: JudgementIn,
        rejected: Sequence[tuple[str, str]],
    ) -> dict[str, Any] | None:
        """What the recommender says of the pair now: score, components, and its rank among
        the candidates a planner would have been shown (``None`` if not among them)."""
        if partner not in index.position:
            return None
        relation: Any = request.relation
        pair_scores = recommend.score_candidates(
            index, target, relation=relation, include_full=True, within=[partner]
        )
        if not len(pair_scores.index):
            return None
        shown = recommend.score_candidates(index, target, rejected=rejected, relation=relation)
        pos = index.position[partner]
        hits = np.flatnonzero(shown.index == pos)
        score = float(pair_scores.score[0])
        rank = int((shown.score > shown.score[hits[0]]).sum()) + 1 if len(hits) else None
        weights = recommend.RecommendWeights.defaults(request.relation).as_dict()
        return {
            "score": score,
            "rank": rank,
            "considered": len(shown.index),
            "components": {
                name: float(pair_scores.components[c, 0])
                for c, name in enumerate(recommend.COMPONENTS)
            },
            "weights": weights,
            "index_as_of": index.as_of,
        }

    async def _decision_link(
        self,
        view: GraphView,
        request: JudgementIn,
        index: recommend.RecommenderIndex,
        target: str,
        partner: str,
        target_category: str,
        partner_category: str,
        judgement_id: str,
        caller: Caller,
        now: dt.datetime,
    ) -> LinkDoc:
        """The link an acceptance writes: joining a joint body (``MEMBER_OF``, from the
        village's party organization where it has one), a pairing (``PAIRS_WITH`` helper →
        helped) or co-building (``CO_BUILDS``)."""
        if "PartyOrganization" in (target_category, partner_category):
            body = target if target_category == "PartyOrganization" else partner
            member = partner if body == target else target
            organizations = sorted(
                o for o, u in index.unit_of.items() if u == member and o != member
            )
            source = organizations[0] if organizations else member
            type_, dest = "MEMBER_OF", body
        elif request.relation == "co_building":
            type_, source, dest = "CO_BUILDS", target, partner
        elif target_category == "Village":
            type_, source, dest = "PAIRS_WITH", partner, target
        else:
            type_, source, dest = "PAIRS_WITH", target, partner
        labels = {
            n: (index.actor_labels.get(n) or (await self._node(view, n, "partner"))["label"])
            for n in (source, dest)
        }
        if not link_allows(type_, labels[source], labels[dest]):
            raise InvalidInputError(
                f"a {type_} link cannot join {labels[source]} to {labels[dest]}", field="partner"
            )
        link_id = derive_link_id(type_, source, dest)
        if await self.store.get_links([link_id]):
            raise ConflictError(f"link {link_id} exists already", field="partner")
        attributes: dict[str, Any] = {}
        if request.program is not None and type_ == "PAIRS_WITH":
            attributes["program"] = request.program
        day = request.valid_from or now.date()
        provenance = {
            "kind": "planner_decision",
            "document": judgement_id,
            # Who recorded it is the account (attested); whom it names is in the judgement.
            "by": caller.name,
            "recorded_at": now.isoformat(),
        }
        if request.note:
            provenance["quote"] = request.note
        return {
            "id": link_id,
            "type": type_,
            "source": source,
            "target": dest,
            "valid_from": day.isoformat(),
            "attributes": attributes,
            "sources": [provenance],
        }

    async def judgements(
        self,
        view: GraphView,
        query: JudgementQuery,
        cursor: str | None,
        limit: int,
    ) -> dict[str, Any]:
        """A page of judgements, oldest first; names and notes only for key holders."""
        page = await self.store.list_judgements(query, cursor, limit)
        policy = await view.policy()
        items = [policy.judgement(j) for j in page.items]
        ids = sorted({n for j in items for n in (j["target"], j["partner"])})
        nodes = await view.get_nodes(ids)
        for j in items:
            j["target_node"] = _brief(nodes.get(j["target"]), j["target"])
            j["partner_node"] = _brief(nodes.get(j["partner"]), j["partner"])
        return {"items": items, "next_cursor": page.next_cursor}

    async def judgement(self, view: GraphView, judgement_id: str) -> dict[str, Any]:
        page = await self.store.list_judgements(JudgementQuery(ids=[judgement_id]), None, 1)
        if not page.items:
            raise NotFoundError(f"no judgement {judgement_id}", field="judgement_id")
        return (await view.policy()).judgement(page.items[0])
