"""Partner recommendations, region-wide assignment, what-if and the offline evaluation."""

from __future__ import annotations

import json
import random
import time
from functools import cache
from pathlib import Path
from typing import Any, get_args

import networkx as nx
import pytest

from graph_service.analysis.assignment import (
    PLAN_STEPS,
    AssignmentPlan,
    Helper,
    Village,
    assign,
    plan_region,
    what_if,
)
from graph_service.analysis.coverage import coverage_report
from graph_service.analysis.evaluation import METHODS, evaluate, pool
from graph_service.analysis.recommend import (
    COMPONENTS,
    RecommenderIndex,
    RecommendWeights,
    recommend_partners,
    score_candidates,
)
from graph_service.api.schemas import PlanStep as PlanStepOut
from graph_service.register import read_register, register_graph
from graph_service.services.synthetic.network import county_profile, generate_network

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "seed" / "register"

COUNTY, TOWN, TOWN2 = "370302", "370302112", "370302113"
W = f"village:{TOWN}201"  # the weak village
W_ORG = "org:w"
S1 = f"village:{TOWN}202"  # strong, same town, other industry
S2 = f"village:{TOWN2}201"  # strong, other town, same industry
W2 = f"village:{TOWN}203"  # another weak village of the town
A = "ent:a"  # same town, same industry: the answer
B = "ent:b"  # other town, same industry, larger
C = "ent:c"  # same town, other industry
D = "ent:d"  # other town, other industry
BODY = "org:body"


# ---------------------------------------------------------------------------------------
# Hand-made graphs
# ---------------------------------------------------------------------------------------


def add_node(
    G: nx.MultiDiGraph,
    node_id: str,
    label: str,
    kind: str | None = None,
    region_code: str | None = None,
    name: str | None = None,
    **attributes: Any,
) -> None:
    doc: dict[str, Any] = {
        "id": node_id,
        "label": label,
        "kind": kind,
        "name": name or node_id.split(":")[-1],
        "attributes": attributes,
    }
    if region_code is not None:
        doc["region_code"] = region_code
    G.add_node(node_id, **doc)


def add_link(
    G: nx.MultiDiGraph,
    type_: str,
    source: str,
    target: str,
    valid_from: str | None = None,
    **attributes: Any,
) -> str:
    key = f"{type_}:{source}->{target}"
    doc: dict[str, Any] = {
        "id": key,
        "type": type_,
        "source": source,
        "target": target,
        "attributes": attributes,
        "sources": [],
    }
    if valid_from is not None:
        doc["valid_from"] = valid_from
    G.add_edge(source, target, key=key, **doc)
    return key


def county_graph() -> nx.MultiDiGraph:
    """One county, two towns (龙泉镇, 双杨镇), apples and vegetables.

    The weak village W of 龙泉镇 grows apples and needs 冷库 and 资金支持. Enterprise A is
    the only enterprise of 龙泉镇 that grows apples, so it must rank first for W: B grows
    apples too but in 双杨镇, C is in 龙泉镇 but grows vegetables.
    """
    G = nx.MultiDiGraph()
    add_node(G, "region:37", "Region", "省", "37", "山东省")
    add_node(G, "region:3703", "Region", "市", "3703", "淄博市")
    add_node(G, f"region:{COUNTY}", "Region", "县", COUNTY, "淄川区")
    add_node(G, f"region:{TOWN}", "Region", "乡镇", TOWN, "龙泉镇")
    add_node(G, f"region:{TOWN2}", "Region", "乡镇", TOWN2, "双杨镇")
    for ind, name in (("ind:apple", "苹果"), ("ind:veg", "设施蔬菜")):
        add_node(G, ind, "Industry", None, None, name)
    add_node(
        G,
        W,
        "Village",
        "行政村",
        W[8:],
        "台头村",
        collective_income_yuan=50_000.0,
        weak=True,
        needs=["冷库", "资金支持"],
    )
    add_node(G, W_ORG, "PartyOrganization", "党支部", TOWN, "台头村党支部")
    add_link(G, "ORGANIZATION_OF", W_ORG, W)
    add_node(
        G,
        S1,
        "Village",
        "行政村",
        S1[8:],
        "韩庄村",
        collective_income_yuan=900_000.0,
        weak=False,
        resources=["冷库"],
    )
    add_node(
        G, S2, "Village", "行政村", S2[8:], "龙一村", collective_income_yuan=1_200_000.0, weak=False
    )
    add_node(
        G, W2, "Village", "行政村", W2[8:], "龙二村", collective_income_yuan=60_000.0, weak=True
    )
    for ent, town, revenue in ((A, TOWN, 30e6), (B, TOWN2, 50e6), (C, TOWN, 10e6), (D, TOWN2, 5e6)):
        add_node(
            G,
            ent,
            "Enterprise",
            "公司",
            town,
            f"企业{ent[-1].upper()}",
            annual_revenue_yuan=revenue,
        )
    for node, ind in (
        (W, "ind:apple"),
        (S1, "ind:veg"),
        (S2, "ind:apple"),
        (W2, "ind:apple"),
        (A, "ind:apple"),
        (B, "ind:apple"),
        (C, "ind:veg"),
        (D, "ind:veg"),
    ):
        add_link(G, "IN_INDUSTRY", node, ind)
    return G


def top_ids(rec: Any) -> list[str]:
    return [c.partner_id for c in rec.candidates]


# ---------------------------------------------------------------------------------------
# Recommendations
# ---------------------------------------------------------------------------------------


def test_same_town_same_industry_enterprise_ranks_first_with_reasons() -> None:
    index = RecommenderIndex.build(county_graph())
    rec = recommend_partners(index, W)
    assert rec.target == W
    assert rec.target_label == "Village"
    assert top_ids(rec)[0] == A
    assert W2 not in top_ids(rec)  # a weak village does not lead another (以强带弱)
    first = rec.candidates[0]
    assert [r.name for r in first.reasons] == list(COMPONENTS)
    assert first.reason("industry").explanation == "共同产业: 苹果"
    assert first.reason("proximity").explanation == "同属龙泉镇"
    assert first.reason("needs").explanation == "需求 资金支持 ↔ 公司"
    assert all(r.explanation for c in rec.candidates for r in c.reasons)
    for c in rec.candidates:
        assert 0.0 <= c.score <= 1.0
        assert sum(r.contribution for r in c.reasons) == pytest.approx(c.score)
    scores = [c.score for c in rec.candidates]
    assert scores == sorted(scores, reverse=True)
    # The strong village of the town with a cold store meets the other need.
    s1 = next(c for c in rec.candidates if c.partner_id == S1)
    assert s1.reason("needs").explanation == "需求 冷库 ↔ 资源 冷库"
    json.dumps(rec.as_dict(), ensure_ascii=False)  # plain JSON-ready data


def test_organization_resolves_to_its_village() -> None:
    index = RecommenderIndex.build(county_graph())
    by_org = recommend_partners(index, W_ORG)
    by_village = recommend_partners(index, W)
    assert by_org.asked == W_ORG
    assert by_org.target == W
    assert by_org.candidates == by_village.candidates


def test_existing_partners_are_excluded() -> None:
    G = county_graph()
    add_node(G, "org:a", "PartyOrganization", "党支部", TOWN, "企业A党支部")
    add_link(G, "ORGANIZATION_OF", "org:a", A)
    add_link(G, "CO_BUILDS", "org:a", W_ORG)  # through both organizations
    add_link(G, "PAIRS_WITH", S2, W)
    rec = recommend_partners(RecommenderIndex.build(G), W)
    assert A not in top_ids(rec)
    assert S2 not in top_ids(rec)
    assert rec.excluded_partners == 2


def test_rejected_pairs_are_excluded() -> None:
    index = RecommenderIndex.build(county_graph())
    rec = recommend_partners(index, W, rejected={(A, W_ORG)})
    assert A not in top_ids(rec)
    assert rec.excluded_rejected == 1
    assert top_ids(recommend_partners(index, W, rejected={B}))[0] == A  # bare partner ids
    unrelated = recommend_partners(index, W, rejected={(A, S1)})  # another target's pair
    assert top_ids(unrelated)[0] == A


def test_filters_distance_labels_and_errors() -> None:
    index = RecommenderIndex.build(county_graph())
    town = recommend_partners(index, W, max_distance="town")
    assert set(top_ids(town)) == {A, C, S1}
    county = recommend_partners(index, W, max_distance="county")
    assert set(top_ids(county)) == {A, B, C, D, S1, S2}
    villages = recommend_partners(index, W, partner_labels=["Village"])
    assert set(top_ids(villages)) == {S1, S2}
    peers = recommend_partners(index, W, partner_labels=["Village"], relation="co_building")
    assert set(top_ids(peers)) == {S1, S2, W2}  # peers may be weak
    assert len(recommend_partners(index, W, top=2).candidates) == 2
    with pytest.raises(nx.NodeNotFound):
        recommend_partners(index, "village:000000000000")
    with pytest.raises(ValueError, match="cannot be a target"):
        recommend_partners(index, f"region:{COUNTY}")
    with pytest.raises(ValueError, match="max_distance"):
        recommend_partners(index, W, max_distance="village")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="partner labels"):
        recommend_partners(index, W, partner_labels=["Person"])
    with pytest.raises(ValueError, match="unknown weights"):
        recommend_partners(index, W, weights={"size": 1.0})
    with pytest.raises(ValueError, match="non-negative"):
        RecommendWeights(industry=-1.0)


def test_enterprise_target_gets_villages() -> None:
    index = RecommenderIndex.build(county_graph())
    rec = recommend_partners(index, A)
    assert rec.looking_for == ("Village",)
    assert {c.label for c in rec.candidates} == {"Village"}
    assert top_ids(rec)[0] == W  # weak, same town, same industry, needs what A offers
    assert rec.candidates[0].reason("priority").explanation.startswith("薄弱村")


def test_capacity_full_helpers_and_program() -> None:
    G = county_graph()
    add_node(G, "prog:baiqi", "Program", "行动", None, "百企帮百村")
    add_link(G, "PAIRS_WITH", A, W2, program="prog:baiqi")  # A's one place is taken
    index = RecommenderIndex.build(G)
    rec = recommend_partners(index, W)
    assert A not in top_ids(rec)
    full = recommend_partners(index, W, include_full=True)
    a = next(c for c in full.candidates if c.partner_id == A)
    assert a.reason("capacity").value == 0.0
    assert "名额已满" in a.reason("capacity").explanation
    program = recommend_partners(index, W, program="prog:baiqi")
    assert {c.label for c in program.candidates} == {"Enterprise"}  # the program's helpers
    with pytest.raises(ValueError, match="unknown program"):
        recommend_partners(index, W, program="prog:none")


def test_shared_joint_body_is_a_structural_reason() -> None:
    G = county_graph()
    add_node(G, BODY, "PartyOrganization", "党建联合体", TOWN, "龙泉联合体")
    add_link(G, "MEMBER_OF", W_ORG, BODY, role="member")
    add_link(G, "MEMBER_OF", S1, BODY, role="lead")
    index = RecommenderIndex.build(G)
    rec = recommend_partners(index, W)
    s1 = next(c for c in rec.candidates if c.partner_id == S1)
    assert s1.reason("structural").value > 0.5
    assert "同在 龙泉联合体" in s1.reason("structural").explanation
    assert BODY not in top_ids(rec)  # W is already a member
    others = recommend_partners(index, C)  # an enterprise looks at villages only
    assert BODY not in top_ids(others)


def test_weights_change_the_ranking() -> None:
    index = RecommenderIndex.build(county_graph())
    only_strength = {name: 0.0 for name in COMPONENTS} | {"strength": 1.0}
    rec = recommend_partners(index, W, weights=only_strength)
    assert top_ids(rec)[0] in (B, S2)  # the largest enterprise or the richest village
    scored = score_candidates(index, W)
    assert len(scored.index) == len(scored.score) == scored.components.shape[1]


# ---------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------

HAND_SCORES = {
    ("A", "v1"): 0.9,
    ("A", "v2"): 0.7,
    ("B", "v1"): 0.8,
    ("B", "v2"): 0.6,
    ("B", "v3"): 0.5,
    ("C", "v2"): 0.2,
    ("C", "v3"): 0.4,
}


def hand_instance() -> tuple[list[Helper], list[Village]]:
    helpers = [Helper("A", 1), Helper("B", 2), Helper("C", 1)]
    villages = [
        Village("v1", 1, 1),
        Village("v2", 1, 2),
        Village("v3", 1, 1),
        Village("v4", 1, 1),  # nobody scored it
    ]
    return helpers, villages


def test_assignment_by_hand() -> None:
    # Every plan covering v1, v2 and v3, by A's village:
    #   A→v1 (0.9): B→v2, B→v3, C→v2 = 2.2 (best with A→v1; greedy takes this)
    #   A→v2 (0.7): B→v1, B→v2, C→v3 = 0.7 + 0.8 + 0.6 + 0.4 = 2.5  ← optimal, unique
    #               B→v1, B→v3, C→v2 = 2.2
    #   A unused:   B→v1, B→v2, C→v3 = 1.8
    # v4 has no candidate.
    helpers, villages = hand_instance()
    plan = assign(helpers, villages, HAND_SCORES)
    assert plan.pairs == (("B", "v1", 0.8), ("A", "v2", 0.7), ("B", "v2", 0.6), ("C", "v3", 0.4))
    assert plan.total_score == pytest.approx(2.5)
    assert plan.unassigned == (("v4", "no_candidates"),)
    assert plan.covered == 3
    assert plan.method == "ssp"
    assert assign(helpers, villages, HAND_SCORES, method="network_simplex").pairs == plan.pairs
    json.dumps(plan.as_dict())


def test_assignment_capacity_and_minimums() -> None:
    # One place for two villages: the better pair wins, the other is reported.
    plan = assign(
        [Helper("X", 1)], [Village("p"), Village("q")], {("X", "p"): 0.3, ("X", "q"): 0.6}
    )
    assert plan.pairs == (("X", "q", 0.6),)
    assert plan.unassigned == (("p", "capacity_exhausted"),)
    assert [w.zh for w in plan.unassigned_explanations] == [
        "有空余名额的帮扶方候选 1 个, 但其名额分给了使整个方案总分更高的其他村; "
        "该村分到 0 个, 至少需要 1 个"
    ]
    # Coverage before score: r can only take X, so p gets Y though X scores more with p.
    plan = assign(
        [Helper("X", 1), Helper("Y", 1)],
        [Village("p"), Village("r")],
        {("X", "p"): 0.9, ("Y", "p"): 0.1, ("X", "r"): 0.2},
    )
    assert plan.pairs == (("Y", "p", 0.1), ("X", "r", 0.2))
    assert plan.unassigned == ()
    # A minimum of two: both candidates are used; a third is not needed but adds score.
    plan = assign(
        [Helper("X", 1), Helper("Y", 1), Helper("Z", 1)],
        [Village("p", 2, 2), Village("q", 2, 3)],
        {("X", "p"): 0.1, ("Y", "p"): 0.2, ("Z", "q"): 0.9},
    )
    assert {(h, v) for h, v, _ in plan.pairs} == {("X", "p"), ("Y", "p"), ("Z", "q")}
    assert plan.unassigned == (("q", "too_few_candidates"),)
    assert [w.zh for w in plan.unassigned_explanations] == [
        "有空余名额的帮扶方候选只有 1 个, 少于该村至少需要的 2 个"
    ]
    # Beyond the minimum only pairs with a positive score are added.
    plan = assign(
        [Helper("X", 1), Helper("Y", 1)], [Village("p", 1, 2)], {("X", "p"): 0.5, ("Y", "p"): 0.0}
    )
    assert plan.pairs == (("X", "p", 0.5),)
    # A helper without places takes nobody.
    plan = assign([Helper("X", 0)], [Village("p")], {("X", "p"): 1.0})
    assert plan.pairs == ()
    assert plan.unassigned == (("p", "no_candidates"),)
    assert plan.unassigned_explanations[0].zh == (
        "没有可用的帮扶方候选 (有空余名额的候选 0 个), 该村至少需要 1 个"
    )


def test_assignment_is_deterministic_with_ties_by_id() -> None:
    plan = assign(
        [Helper("Y", 1), Helper("X", 1)], [Village("p")], {("Y", "p"): 0.5, ("X", "p"): 0.5}
    )
    assert plan.pairs == (("X", "p", 0.5),)
    helpers, villages = hand_instance()
    rng = random.Random(7)
    first = assign(helpers, villages, HAND_SCORES)
    for _ in range(5):
        rng.shuffle(helpers)
        rng.shuffle(villages)
        items = list(HAND_SCORES.items())
        rng.shuffle(items)
        assert assign(helpers, villages, dict(items)) == first


def test_assignment_matches_network_simplex_on_random_instances() -> None:
    for trial in range(60):
        rng = random.Random(trial)
        helpers = [Helper(f"h{i}", rng.randint(0, 3)) for i in range(rng.randint(1, 8))]
        villages = []
        for i in range(rng.randint(1, 8)):
            top = rng.randint(0, 3)
            villages.append(Village(f"v{i}", rng.randint(0, top), top))
        scores = {
            (h.id, v.id): rng.choice([0.0, 0.25, 0.5, 1.0, round(rng.random(), 2)])
            for h in helpers
            for v in villages
            if rng.random() < 0.5
        }
        a = assign(helpers, villages, scores)
        b = assign(helpers, villages, scores, method="network_simplex")
        assert len(a.unassigned) == len(b.unassigned), trial
        assert a.total_score == pytest.approx(b.total_score, abs=1e-9), trial


def test_assignment_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="duplicate helper"):
        assign([Helper("X"), Helper("X")], [Village("p")], {})
    with pytest.raises(ValueError, match="min_helpers > max_helpers"):
        assign([Helper("X")], [Village("p", 2, 1)], {})
    with pytest.raises(ValueError, match="unknown village"):
        assign([Helper("X")], [Village("p")], {("X", "q"): 1.0})
    with pytest.raises(ValueError, match="not finite"):
        assign([Helper("X")], [Village("p")], {("X", "p"): float("nan")})
    with pytest.raises(ValueError, match="capacity"):
        assign([Helper("X", -1)], [Village("p")], {})


def test_assignment_of_a_thousand_by_a_thousand_is_fast() -> None:
    rng = random.Random(0)
    helpers = [Helper(f"h{i:04d}", 2) for i in range(1000)]
    villages = [Village(f"v{i:04d}", 1, 2) for i in range(1000)]
    scores = {
        (f"h{h:04d}", v.id): round(rng.random(), 3)
        for v in villages
        for h in rng.sample(range(1000), 50)
    }
    start = time.process_time()
    plan = assign(helpers, villages, scores)
    assert time.process_time() - start < 5.0  # CPU seconds; about 2.5 on one core
    assert plan.covered == 1000
    assert len(plan.pairs) == 2000


def test_plan_region_scores_with_the_recommender() -> None:
    index = RecommenderIndex.build(county_graph())
    plan = plan_region(index, None, None, k=1, m=1)
    # The weak villages W and W2 both want A (same town, apples); one gets it.
    assert {v for _, v, _ in plan.pairs} == {W, W2}
    assert A in {h for h, _, _ in plan.pairs}
    assert plan.unassigned == ()
    only_a = plan_region(index, [W_ORG, W2], [A], k=1, m=1)
    assert len(only_a.pairs) == 1
    assert only_a.unassigned[0][1] == "capacity_exhausted"
    assert isinstance(only_a, AssignmentPlan)


def funnel(plan: AssignmentPlan) -> list[tuple[str, int, int, tuple[str, ...]]]:
    return [(s.step, s.count_in, s.count_out, s.removed) for s in plan.funnel]


def test_plan_region_default_villages_are_the_weak_ones_coverage_lists() -> None:
    """One definition of weak: listed or low income, or — standing unknown — no 联建 link."""
    G = county_graph()
    W3 = f"village:{TOWN2}202"  # nothing recorded, no link: weak (few_links)
    add_node(G, W3, "Village", "行政村", W3[8:], "龙三村")
    add_link(G, "PAIRS_WITH", S2, W2)  # W2 is weak but paired already
    index = RecommenderIndex.build(G)
    plan = plan_region(index, None, None, k=1, m=1)
    # 4 + 1 villages; S1, S2 are known strong (income, flag) though neither has a 联建 link
    # W2 and S2 now have one; W, W3 are left. Helpers: every village, enterprise and
    # institution (8 + W3) less the weak W, W2, W3 → S1, S2, A, B, C, D.
    assert funnel(plan) == [
        ("weak", 5, 3, (S1, S2)),
        ("not_paired", 3, 2, (W2,)),
        ("can_help", 9, 6, (W, W2, W3)),
        ("has_places", 6, 6, ()),
        ("has_candidates", 2, 2, ()),
        ("within_limits", 2, 2, ()),
        ("not_rejected", 2, 2, ()),
        ("assigned", 2, 2, ()),
    ]
    assert {v for _, v, _ in plan.pairs} == {W, W3}
    assert [s.label for s in plan.funnel][:2] == ["薄弱村", "尚无结对帮扶方"]
    weak = {c for i, c in enumerate(index.ids) if index.weak[i]}
    covered = coverage_report(G, COUNTY)
    assert weak == {w.village_id for w in covered.weak_villages} == {W, W2, W3}
    reasons = {w.village_id: w.reasons for w in covered.weak_villages}
    assert reasons[W3] == ("few_links",) == index.standing.weak_reasons[index.position[W3]]
    assert reasons[W] == ("listed_weak", "low_income")


def test_an_empty_plan_says_which_step_removed_whom() -> None:
    index = RecommenderIndex.build(county_graph())
    # Only helpers of 双杨镇, but the plan keeps to the villages' own town (龙泉镇).
    far = plan_region(index, None, [B, D, S2, B], k=1, m=1, max_distance="town")
    assert far.pairs == ()
    assert funnel(far) == [
        ("weak", 4, 2, (S1, S2)),
        ("not_paired", 2, 2, ()),
        ("helpers_listed", 4, 3, ()),
        ("can_help", 3, 3, ()),
        ("has_places", 3, 3, ()),
        ("has_candidates", 2, 2, ()),
        ("within_limits", 2, 0, (W, W2)),
        ("not_rejected", 0, 0, ()),
        ("assigned", 0, 0, ()),
    ]
    assert far.unassigned == ((W, "no_candidates"), (W2, "no_candidates"))
    # No places: every helper is full in this round.
    full = plan_region(index, None, None, k=0, m=1)
    assert funnel(full)[2:5] == [
        ("can_help", 8, 6, (W, W2)),
        ("has_places", 6, 0, (A, B, C, D, S1)),
        ("has_candidates", 2, 0, (W, W2)),
    ]
    assert (full.pairs, full.helpers, full.candidate_pairs) == ((), 0, 0)
    # A weak village cannot help (以强带弱), and a rejected pair is never proposed.
    mine = plan_region(index, [W_ORG], [W2, A], k=1, m=1, rejected=[(A, W_ORG)])
    assert funnel(mine) == [
        ("villages_listed", 1, 1, ()),
        ("helpers_listed", 2, 2, ()),
        ("can_help", 2, 1, (W2,)),
        ("has_places", 1, 1, ()),
        ("has_candidates", 1, 1, ()),
        ("within_limits", 1, 1, ()),
        ("not_rejected", 1, 0, (W,)),
        ("assigned", 0, 0, ()),
    ]
    # Capacity: both want A, one gets it; the other is the step's example.
    one = plan_region(index, None, [A], k=1, m=1)
    assert funnel(one)[-1] == ("assigned", 2, 1, (W2,))
    assert one.unassigned == ((W2, "capacity_exhausted"),)
    # The response model documents exactly these steps, in this order.
    assert get_args(PlanStepOut.model_fields["step"].annotation) == tuple(PLAN_STEPS)


# ---------------------------------------------------------------------------------------
# What-if
# ---------------------------------------------------------------------------------------


def test_what_if_counts_new_coverage_and_writes_nothing() -> None:
    G = county_graph()
    add_link(G, "PAIRS_WITH", S2, W)  # W is already paired
    edges, nodes = G.number_of_edges(), G.number_of_nodes()
    report = what_if(G, [(A, W_ORG), (C, W2), (B, W2)], region_code=COUNTY)
    assert G.number_of_edges() == edges
    assert G.number_of_nodes() == nodes
    assert not any(str(k).startswith("whatif:") for _, _, k in G.edges(keys=True))
    assert report.coverage_before.villages == 4
    assert report.coverage_before.paired == 1
    assert report.coverage_after.paired == 2  # W was paired already; W2 is new
    assert report.newly_paired == (W2,)
    assert report.newly_covered == (W2,)
    assert report.proposed == ((A, W), (C, W2), (B, W2))
    # Linking isolated actors joins components.
    assert report.components_after < report.components_before
    assert report.largest_share_after > report.largest_share_before
    assert {s.node_id for s in report.proposal_shifts} == {A, B, C, W, W2}
    assert all(s.rank_after <= s.rank_before for s in report.risers)
    # The same figures in words: 8 actors, 7 → 4 components, largest 2 → 3 of 8.
    assert report.summary == (
        "拟新增结对 3 对 (仅模拟, 不写入数据): 企业A → 台头村、企业C → 龙二村、企业B → 龙二村; "
        "本区域 4 个村中, 有结对的村 1 → 2 个 (25% → 50%), "
        "有结对或在联建组织中的村 1 → 2 个 (25% → 50%); "
        "新增结对村 1 个 (龙二村), 新覆盖村 1 个 (龙二村); "
        "联建网络 8 个主体的连通片 7 → 4 个 (越少越连成一体), 最大连通片占全部主体 25% → 38%"
    )
    assert report.summary_en.startswith("3 proposed pairing(s), simulated, nothing written")
    json.dumps(report.as_dict(), ensure_ascii=False)


def test_what_if_rejects_bad_proposals() -> None:
    G = county_graph()
    with pytest.raises(nx.NodeNotFound):
        what_if(G, [(A, "village:000000000000")])
    with pytest.raises(ValueError, match="not a village"):
        what_if(G, [(A, B)])
    with pytest.raises(ValueError, match="itself"):
        what_if(G, [(W_ORG, W)])


# ---------------------------------------------------------------------------------------
# Evaluation on a generated county
# ---------------------------------------------------------------------------------------

#: 崇信县 (85 villages) under the first seed that gives it the 平凉 profile, so it has both
#: kinds of pairing (以强带弱 and 百企帮百村).
SMALL_COUNTY = "620823"


@cache
def generated_county() -> nx.MultiDiGraph:
    seed = next(s for s in range(100) if county_profile(s, SMALL_COUNTY) == "pingliang")
    items = list(register_graph(read_register(REGISTER, [SMALL_COUNTY])))
    nodes = [doc for kind, doc in items if kind == "node"]
    regions = [n for n in nodes if n["label"] == "Region"]
    villages = [n for n in nodes if n["label"] == "Village"]
    items += generate_network(regions, villages, seed)
    G = nx.MultiDiGraph()
    for kind, doc in items:
        if kind == "node":
            G.add_node(doc["id"], **doc)
    for kind, doc in items:
        if kind == "link":
            G.add_edge(doc["source"], doc["target"], key=doc["id"], **doc)
    return G


@pytest.mark.parametrize("split", ["random", "time"])
def test_evaluation_reports_every_method(split: str) -> None:
    G = generated_county()
    report = evaluate(G, seed=1, holdout=0.2, split=split)  # type: ignore[arg-type]
    assert [r.method for r in report.rows] == list(METHODS)
    assert report.evaluated > 0
    assert report.held_out >= report.evaluated
    for row in report.rows:
        assert row.n == report.evaluated
        assert all(0.0 <= h <= 1.0 for h in row.hits)
        assert row.hits[0] <= row.hits[1]  # hits@5 <= hits@10
        assert 0.0 <= row.mrr <= 1.0
    assert set(report.by_type) <= {"PAIRS_WITH", "CO_BUILDS"}
    assert (report.cutoff is not None) == (split == "time")
    pooled = pool([report, report])
    assert [r.n for r in pooled] == [2 * report.evaluated] * len(METHODS)
    assert evaluate(G, seed=1, split=split) == report  # type: ignore[arg-type]
    json.dumps(report.as_dict())


def test_evaluation_rejects_bad_arguments() -> None:
    G = county_graph()
    with pytest.raises(ValueError, match="holdout"):
        evaluate(G, holdout=1.0)
    with pytest.raises(ValueError, match="split"):
        evaluate(G, split="future")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cut-offs"):
        evaluate(G, k=(0,))


def test_one_village_top_ten_in_a_county_is_fast() -> None:
    index = RecommenderIndex.build(generated_county())
    weak = [c for i, c in enumerate(index.ids) if index.weak[i]]
    start = time.perf_counter()
    for village in weak[:10]:
        recommend_partners(index, village)
    assert (time.perf_counter() - start) / 10 < 0.2
