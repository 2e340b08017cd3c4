"""Coverage per region, rule checks from the rules file, change between two dates."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graph_service.analysis.change import compare_dates
from graph_service.analysis.coverage import coverage_report, village_coverage
from graph_service.analysis.rules import (
    CHECK_TYPES,
    RuleFileError,
    check_rules,
    load_rules,
    parse_rules,
)
from graph_service.analysis.strength import COMPONENTS, StrengthWeights
from graph_service.register import read_register, register_graph
from graph_service.services.synthetic.network import county_profile, generate_network

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "seed" / "rules" / "joint_body_rules.json"
DOCUMENTS = ROOT / "seed" / "documents"
PINGYUAN = "371426"
AS_OF = dt.date(2023, 1, 1)


def add_node(
    G: nx.MultiDiGraph,
    node_id: str,
    label: str,
    kind: str | None = None,
    region_code: str | None = None,
    valid_from: str | None = None,
    valid_to: str | None = None,
    figures: list[dict[str, Any]] | None = None,
    **attributes: Any,
) -> None:
    doc: dict[str, Any] = {
        "id": node_id,
        "label": label,
        "kind": kind,
        "name": node_id.split(":")[-1],
        "attributes": attributes,
        "figures": figures or [],
    }
    for key, value in (
        ("region_code", region_code),
        ("valid_from", valid_from),
        ("valid_to", valid_to),
    ):
        if value is not None:
            doc[key] = value
    G.add_node(node_id, **doc)


def add_link(
    G: nx.MultiDiGraph,
    link_id: str,
    type_: str,
    source: str,
    target: str,
    valid_from: str | None = None,
    valid_to: str | None = None,
    **attributes: Any,
) -> None:
    doc: dict[str, Any] = {
        "id": link_id,
        "type": type_,
        "source": source,
        "target": target,
        "attributes": attributes,
        "sources": [],
    }
    if valid_from is not None:
        doc["valid_from"] = valid_from
    if valid_to is not None:
        doc["valid_to"] = valid_to
    G.add_edge(source, target, key=link_id, **doc)


# ---------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------

T1, T2, T3 = "371426001", "371426002", "371426003"


def coverage_graph() -> nx.MultiDiGraph:
    """Six villages in two towns (a third town has none).

    T1: v1 in 联合体 j1 directly; v2 only in an ordinary 党委 (no coverage); v3 through its
    党支部 o3, which the enterprise e also pairs with; v4 (listed weak) co-builds weakly with b.
    T2: v5 (low income) paired strongly by e; v6 left j1 on 2022-06-30.
    """
    G = nx.MultiDiGraph()
    stated = [{"metric": "villages_covered", "label": "联合体覆盖行政村数", "value": 424}]
    add_node(G, "region:371426", "Region", "县", PINGYUAN, figures=stated)
    G.nodes["region:371426"]["name"] = "平原县"
    for code, name in ((T1, "龙门街道"), (T2, "桃园街道"), (T3, "德原街道")):
        add_node(G, f"region:{code}", "Region", "乡镇", code)
        G.nodes[f"region:{code}"]["name"] = name
    add_node(G, "village:v1", "Village", "行政村", f"{T1}201")
    add_node(G, "village:v2", "Village", "行政村", f"{T1}202", collective_income_yuan=500_000)
    add_node(G, "village:v3", "Village", "行政村", f"{T1}203")
    add_node(G, "village:v4", "Village", "行政村", f"{T1}204", weak=True)
    add_node(G, "village:v5", "Village", "行政村", f"{T2}205", collective_income_yuan=50_000)
    add_node(G, "village:v6", "Village", "行政村", f"{T2}206")
    add_node(G, "org:j1", "PartyOrganization", "党建联合体", T1)
    add_node(G, "org:p", "PartyOrganization", "党委", T1)
    add_node(G, "org:o3", "PartyOrganization", "党支部", f"{T1}203")
    add_node(G, "org:b", "PartyOrganization", "党支部", T1)
    add_node(G, "ent:e", "Enterprise", "公司", PINGYUAN)
    add_link(G, "m1", "MEMBER_OF", "village:v1", "org:j1", "2021-01-01")
    add_link(G, "m2", "MEMBER_OF", "village:v2", "org:p", "2021-01-01")
    add_link(G, "o3", "ORGANIZATION_OF", "org:o3", "village:v3")
    add_link(G, "m3", "MEMBER_OF", "org:o3", "org:j1", "2021-01-01")
    add_link(G, "p3", "PAIRS_WITH", "ent:e", "org:o3", "2021-01-01")
    add_link(
        G, "c4", "CO_BUILDS", "org:b", "village:v4", agreement_signed=False, meetings_per_year=3
    )
    add_link(
        G,
        "p5",
        "PAIRS_WITH",
        "ent:e",
        "village:v5",
        "2022-03-01",
        agreement_signed=True,
        meetings_per_year=12,
    )
    add_link(G, "m6", "MEMBER_OF", "village:v6", "org:j1", "2021-01-01", "2022-06-30")
    return G


#: Only intensity and formality count, so partner strengths are easy to check.
TWO = StrengthWeights(**{**dict.fromkeys(COMPONENTS, 0.0), "intensity": 1.0, "formality": 1.0})


def test_coverage_counts_and_rates_per_child_region() -> None:
    report = coverage_report(coverage_graph(), PINGYUAN, as_of=AS_OF, weights=TWO)
    assert report.name == "平原县"
    total = report.total
    # joint body {v1, v3 (via o3)}; pairing {v3 (via o3), v5}; both {v3}; neither {v2, v4, v6}
    assert (total.villages, total.joint_body, total.pairing, total.both, total.neither) == (
        6,
        2,
        2,
        1,
        3,
    )
    assert total.joint_body_rate == pytest.approx(2 / 6)
    assert total.pairing_rate == pytest.approx(2 / 6)
    assert total.any_rate == pytest.approx(3 / 6)
    assert total.without_joint_body == ("village:v2", "village:v4", "village:v5", "village:v6")
    assert total.without_any == ("village:v2", "village:v4", "village:v6")
    rows = {c.region_code: c for c in report.children}
    assert list(rows) == [T1, T2, T3]
    # T1: 4 villages, joint {v1, v3} = 2/4, pairing {v3} = 1/4, both 1, neither {v2, v4}
    t1 = rows[T1]
    assert (t1.name, t1.villages, t1.joint_body, t1.pairing, t1.both, t1.neither) == (
        "龙门街道",
        4,
        2,
        1,
        1,
        2,
    )
    assert (t1.joint_body_rate, t1.pairing_rate, t1.any_rate) == (0.5, 0.25, 0.5)
    # T2: 2 villages, v6's membership ended: joint 0/2, pairing {v5} 1/2, neither {v6}
    t2 = rows[T2]
    assert (t2.villages, t2.joint_body, t2.pairing, t2.both, t2.neither) == (2, 0, 1, 0, 1)
    assert (t2.joint_body_rate, t2.pairing_rate, t2.any_rate) == (0.0, 0.5, 0.5)
    # T3 has no villages: no rates
    t3 = rows[T3]
    assert (t3.villages, t3.joint_body_rate, t3.any_rate) == (0, None, None)
    # stated figures pass through for comparison
    assert report.stated("villages_covered") == 424
    assert report.stated("joint_bodies") is None


def test_village_covered_through_its_organization() -> None:
    by_id = {v.village_id: v for v in village_coverage(coverage_graph(), T1, as_of=AS_OF)}
    v3 = by_id["village:v3"]
    assert v3.organizations == ("org:o3",)
    assert v3.joint_bodies == ("org:j1",)
    assert v3.helpers == ("ent:e",)
    # an ordinary 党委 is no joint body
    assert by_id["village:v2"].joint_bodies == ()
    # Before v6 left (2022-01-01), j1 covered it: T2 joint 1/2.
    early = coverage_report(coverage_graph(), T2, as_of=dt.date(2022, 1, 1), include_weak=False)
    assert (early.total.villages, early.total.joint_body) == (2, 1)
    assert early.children == ()  # a town has no child regions
    assert early.weak_villages == ()


def test_weak_villages_without_strong_partner() -> None:
    G = coverage_graph()
    report = coverage_report(G, PINGYUAN, as_of=AS_OF, weights=TWO)
    weak = {w.village_id: w for w in report.weak_villages}
    # v4 listed weak; v5 income 50,000 < 100,000; v6 has no 联建 link left (0 < 1).
    # v2 (500,000, one MEMBER_OF link) and v1/v3 (linked, no income recorded) are not weak.
    assert list(weak) == ["village:v4", "village:v5", "village:v6"]
    assert weak["village:v4"].reasons == ("listed_weak",)
    assert weak["village:v5"].reasons == ("low_income",)
    assert weak["village:v6"].reasons == ("few_links",)
    assert weak["village:v5"].collective_income_yuan == 50_000
    # v5 ← e PAIRS_WITH: intensity 12/12 = 1, formality 1 → (1 + 1) / 2 = 1.0 ≥ 0.5
    (p5,) = weak["village:v5"].partners
    assert (p5.partner_id, p5.via, p5.link_types) == ("ent:e", "village:v5", ("PAIRS_WITH",))
    assert p5.score == pytest.approx(1.0)
    assert weak["village:v5"].has_strong_partner
    # v4 — b CO_BUILDS: intensity 3/12 = 0.25, formality 0 → (0.25 + 0) / 2 = 0.125 < 0.5
    (p4,) = weak["village:v4"].partners
    assert (p4.partner_id, p4.link_types) == ("org:b", ("CO_BUILDS",))
    assert p4.score == pytest.approx(0.125)
    assert not weak["village:v4"].has_strong_partner
    assert weak["village:v6"].partners == ()
    assert report.weak_without_strong_partner == 2  # v4, v6
    # The same facts in words, with their units and the bar they are held against.
    assert weak["village:v4"].explanation == (
        "被列为薄弱村; 结对/共建伙伴 1 个, 最强的联系强度 0.12 (0–1 分, 达到 0.5 为强), 尚无强伙伴"
    )
    assert weak["village:v5"].explanation == (
        "村集体收入 5.0万元, 低于薄弱村标准 10.0万元; "
        "结对/共建伙伴 1 个, 最强的联系强度 1.00 (0–1 分, 达到 0.5 为强), 有强伙伴"
    )
    assert weak["village:v6"].explanation == "联建联系 0 条, 少于 1 条; 没有结对帮扶或联建共建伙伴"
    assert weak["village:v5"].explanation_en == (
        "collective income 5.0万元 below 10.0万元; 1 partner(s), strongest tie 1.00 (strong at 0.5)"
    )
    # a lower bar makes b strong enough for v4
    lenient = coverage_report(G, PINGYUAN, as_of=AS_OF, strong_threshold=0.1, weights=TWO)
    assert lenient.weak_without_strong_partner == 1  # v6
    # a higher income threshold and link minimum flag more villages
    strict = coverage_report(
        G, PINGYUAN, as_of=AS_OF, weights=TWO, weak_income_yuan=600_000, min_links=2
    )
    assert "low_income" in {r for w in strict.weak_villages for r in w.reasons}
    assert "village:v2" in {w.village_id for w in strict.weak_villages}


@pytest.mark.parametrize("code", ["37142", "abc", ""])
def test_coverage_rejects_bad_codes(code: str) -> None:
    with pytest.raises(ValueError, match="region_code"):
        coverage_report(coverage_graph(), code)


def test_coverage_rejects_bad_threshold() -> None:
    with pytest.raises(ValueError, match="strong_threshold"):
        coverage_report(coverage_graph(), PINGYUAN, strong_threshold=1.5)


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------


def test_rules_file_loads_with_sources_from_the_articles() -> None:
    rules = load_rules(RULES)
    assert [r.id for r in rules] == [
        "000-enterprise",
        "000-talents",
        "000-graduate",
        "000-monthly",
        "000-agreement",
        "two-villages",
    ]
    by_id = {r.id: r for r in rules}
    assert by_id["000-talents"].check.attribute == "talents_returned_per_year"
    assert by_id["000-talents"].check.minimum == 10
    assert by_id["000-graduate"].check.minimum == 1
    assert by_id["000-monthly"].check.minimum == 12
    enterprise = by_id["000-enterprise"].check
    assert (enterprise.type, enterprise.labels) == ("min_linked", ("Enterprise",))
    assert "SUPPLIES" in enterprise.link_types  # 对接: an order contract links a firm too
    assert by_id["two-villages"].check.count == 2
    assert {r.check.type for r in rules} <= set(CHECK_TYPES)
    for rule in rules:
        text = (DOCUMENTS / rule.source.document).read_text(encoding="utf-8")
        assert rule.source.quote in text, rule.id  # verbatim from the article


def rules_graph() -> nx.MultiDiGraph:
    """Three 联合体 (ok, bad, unknown), a 联合党委 and an ordinary 党委."""
    G = nx.MultiDiGraph()
    for i in range(1, 8):
        add_node(G, f"village:v{i}", "Village", "行政村", f"{T1}20{i}")
    add_node(G, "org:o2", "PartyOrganization", "党支部", f"{T1}202")
    add_node(G, "ent:c", "Enterprise", "公司", PINGYUAN)
    add_node(G, "ent:c2", "Enterprise", "集团", PINGYUAN)
    add_node(G, "org:oc", "PartyOrganization", "党支部", PINGYUAN)
    add_node(G, "ent:coop", "Enterprise", "合作社", T1)
    add_node(G, "ent:buyer", "Enterprise", "公司", PINGYUAN)
    add_node(
        G,
        "org:ok",
        "PartyOrganization",
        "党建联合体",
        T1,
        talents_returned_per_year=12,
        college_graduates=1,
        meetings_per_year=12,
        charter_signed=True,
        linkage_model="以强带弱型",
    )
    add_node(
        G,
        "org:bad",
        "PartyOrganization",
        "党建联合体",
        T2,
        talents_returned_per_year=3,
        college_graduates=0,
        meetings_per_year=4,
        charter_signed=False,
    )
    add_node(G, "org:unknown", "PartyOrganization", "党建联合体", T1)
    add_node(G, "org:lh", "PartyOrganization", "联合党委", T1)
    add_node(G, "org:plain", "PartyOrganization", "党委", T1)
    # ok: v1 directly, v2 through its 党支部 o2, the company c, a cooperative
    add_link(G, "o2", "ORGANIZATION_OF", "org:o2", "village:v2")
    for i, member in enumerate(["village:v1", "org:o2", "ent:c", "ent:coop"]):
        add_link(G, f"ok{i}", "MEMBER_OF", member, "org:ok")
    # bad: one village and a cooperative (no company)
    add_link(G, "bad1", "MEMBER_OF", "village:v3", "org:bad")
    add_link(G, "bad2", "MEMBER_OF", "ent:coop", "org:bad")
    # unknown: two villages (v5 only until 2022-06-30), the group c2 through its 党支部 oc,
    # and a supply contract with the company buyer
    add_link(G, "oc", "ORGANIZATION_OF", "org:oc", "ent:c2")
    add_link(G, "u1", "MEMBER_OF", "village:v4", "org:unknown")
    add_link(G, "u2", "MEMBER_OF", "village:v5", "org:unknown", valid_to="2022-06-30")
    add_link(G, "u3", "MEMBER_OF", "org:oc", "org:unknown")
    add_link(G, "u4", "SUPPLIES", "org:unknown", "ent:buyer")
    # 联合党委 with two villages; 党委 with none (no rule applies to it)
    add_link(G, "lh1", "MEMBER_OF", "village:v6", "org:lh")
    add_link(G, "lh2", "MEMBER_OF", "village:v7", "org:lh")
    return G


def outcome(report: Any, body: str, rule: str) -> Any:
    (b,) = [x for x in report.bodies if x.body_id == body]
    (o,) = [x for x in b.outcomes if x.rule_id == rule]
    return o


def test_rule_outcomes_with_evidence() -> None:
    rules = load_rules(RULES)
    report = check_rules(rules_graph(), rules, as_of=AS_OF)
    assert [b.body_id for b in report.bodies] == ["org:bad", "org:lh", "org:ok", "org:unknown"]
    # min_linked: Enterprise of kind 公司/集团 joined by a 联建 link
    ok = outcome(report, "org:ok", "000-enterprise")
    assert (ok.status, ok.value, ok.members) == ("pass", 1, ("ent:c",))  # the 合作社 is no 企业
    bad = outcome(report, "org:bad", "000-enterprise")
    assert (bad.status, bad.value, bad.members) == ("broken", 0, ())
    assert bad.evidence_en == "0 公司/集团 linked < 1"
    assert bad.evidence == (
        "经加入联建组织、联建共建、结对帮扶、供销/订单、金融支持联系对接的公司/集团 0 个, "
        "规则要求至少 1 个, 不符合规则"
    )
    # the group c2 through its 党支部 oc (MEMBER_OF), the company buyer through SUPPLIES
    linked = outcome(report, "org:unknown", "000-enterprise")
    assert (linked.status, linked.members) == ("pass", ("ent:buyer", "ent:c2"))
    assert linked.evidence_en == "2 公司/集团 linked ≥ 1: buyer、c2"
    assert linked.evidence.endswith("公司/集团 2 个, 规则要求至少 1 个, 符合规则: buyer、c2")
    # min_members, Village ≥ 2: ok has v1 and v2 (through o2); bad only v3
    two = outcome(report, "org:ok", "two-villages")
    assert (two.status, two.members) == ("pass", ("village:v1", "village:v2"))
    one = outcome(report, "org:bad", "two-villages")
    assert (one.status, one.value) == ("broken", 1)
    assert one.evidence_en == "1 Village member(s) < 2: v3"
    assert one.evidence == "成员中有村/社区 1 个, 规则要求至少 2 个, 不符合规则: v3"
    # v5 left org:unknown on 2022-06-30: one village on AS_OF, two a year before
    assert outcome(report, "org:unknown", "two-villages").status == "broken"
    earlier = check_rules(rules_graph(), rules, as_of=dt.date(2022, 1, 1))
    assert outcome(earlier, "org:unknown", "two-villages").status == "pass"
    # min_attribute: 12 ≥ 10 passes, 3 < 10 breaks, missing is unknown (not broken)
    assert (
        outcome(report, "org:ok", "000-talents").evidence_en
        == "talents_returned_per_year = 12 ≥ 10"
    )
    assert outcome(report, "org:ok", "000-talents").evidence == (
        "年回引人才 (talents_returned_per_year) 12人, 达到规则要求的至少 10人, 符合规则"
    )
    talents = outcome(report, "org:bad", "000-talents")
    assert (talents.status, talents.value, talents.evidence_en) == (
        "broken",
        3,
        "talents_returned_per_year = 3 < 10",
    )
    missing = outcome(report, "org:unknown", "000-talents")
    assert missing.evidence == "未记录年回引人才 (talents_returned_per_year), 无法判断"
    assert (missing.status, missing.value, missing.evidence_en) == (
        "unknown",
        None,
        "talents_returned_per_year missing",
    )
    assert outcome(report, "org:bad", "000-graduate").status == "broken"  # 0 < 1
    assert outcome(report, "org:bad", "000-monthly").evidence_en == "meetings_per_year = 4 < 12"
    assert outcome(report, "org:bad", "000-monthly").evidence == (
        "年会议次数 (meetings_per_year) 4次/年, 低于规则要求的至少 12次/年, 不符合规则"
    )
    # attribute_equals: True passes, False breaks, missing unknown
    assert outcome(report, "org:ok", "000-agreement").status == "pass"
    assert outcome(report, "org:bad", "000-agreement").status == "broken"
    assert outcome(report, "org:unknown", "000-agreement").status == "unknown"
    # the 联合党委 is checked only against the rule that names its kind
    (lh,) = [b for b in report.bodies if b.body_id == "org:lh"]
    assert [o.rule_id for o in lh.outcomes] == ["two-villages"]
    assert lh.broken == ()
    assert lh.unknown == ()
    # per body
    (bad_body,) = report.breaking("000-talents")
    assert bad_body.body_id == "org:bad"
    assert bad_body.broken == (
        "000-enterprise",
        "000-talents",
        "000-graduate",
        "000-monthly",
        "000-agreement",
        "two-villages",
    )
    (unknown_body,) = [b for b in report.bodies if b.body_id == "org:unknown"]
    assert unknown_body.broken == ("two-villages",)
    assert unknown_body.unknown == (
        "000-talents",
        "000-graduate",
        "000-monthly",
        "000-agreement",
    )
    # per rule: 000 rules checked on 3 联合体, two-villages on 4 bodies
    summary = {s.rule_id: s for s in report.rules}
    assert (summary["000-talents"].checked, summary["000-talents"].passed) == (3, 1)
    assert (summary["000-talents"].broken, summary["000-talents"].unknown) == (1, 1)
    assert (summary["000-enterprise"].passed, summary["000-enterprise"].broken) == (2, 1)
    tv = summary["two-villages"]
    assert (tv.checked, tv.passed, tv.broken, tv.unknown) == (4, 2, 2, 0)  # ok, lh | bad, unknown
    # breaches: bad 6 + unknown 1 = 7, in 2 bodies
    assert (report.breaches, report.bodies_in_breach) == (7, 2)
    # scope: only bodies under town T2 (org:bad)
    scoped = check_rules(rules_graph(), rules, as_of=AS_OF, scope_region=T2)
    assert [b.body_id for b in scoped.bodies] == ["org:bad"]


def test_has_attribute_and_through_organization_rules() -> None:
    source = {"document": "000_ebbe741d95becf05.txt", "quote": "…"}
    rules = parse_rules(
        {
            "rules": [
                {
                    "id": "model",
                    "description_zh": "明确联建模式",
                    "applies_to": ["党建联合体"],
                    "check": {"type": "has_attribute", "attribute": "linkage_model"},
                    "severity": "info",
                    "source": source,
                },
                {
                    "id": "direct-firm",
                    "description_zh": "企业直接加入",
                    "applies_to": ["党建联合体"],
                    "check": {
                        "type": "min_members",
                        "labels": ["Enterprise"],
                        "count": 1,
                        "through_organization": False,
                    },
                    "source": source,
                },
            ]
        }
    )
    assert rules[1].severity == "error"  # the default
    report = check_rules(rules_graph(), rules, as_of=AS_OF)
    assert outcome(report, "org:ok", "model").status == "pass"
    # has_attribute: a missing attribute breaks it (the rule is about having it)
    assert outcome(report, "org:bad", "model").status == "broken"
    assert outcome(report, "org:bad", "model").evidence_en == "linkage_model missing"
    assert (
        outcome(report, "org:bad", "model").evidence == "未记录联建模式 (linkage_model), 不符合规则"
    )
    # without organizations, the group behind 党支部 oc does not count, nor does the buyer
    # (a supplier, not a member); the 合作社 does
    assert outcome(report, "org:unknown", "direct-firm").status == "broken"
    assert outcome(report, "org:bad", "direct-firm").members == ("ent:coop",)


def rule(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "000-talents",
        "description_zh": "每个联合体每年至少回引10名在外能人",
        "applies_to": ["党建联合体"],
        "check": {"type": "min_attribute", "attribute": "talents_returned_per_year", "min": 10},
        "severity": "error",
        "source": {"document": "000_ebbe741d95becf05.txt", "quote": "…"},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (
            rule(check={"type": "min_attribute", "attribute": "talents_returned_per_year"}),
            "check.min",
        ),
        (
            rule(
                check={
                    "type": "min_attribute",
                    "attribute": "talents_returned_per_year",
                    "min": "ten",
                }
            ),
            "check.min",
        ),
        (rule(check={"type": "max_members", "count": 1}), "check.type"),
        (rule(check={"type": "min_attribute", "attribute": "talent", "min": 1}), "check.attribute"),
        (
            rule(check={"type": "min_attribute", "attribute": "linkage_model", "min": 1}),
            "check.attribute",
        ),
        (rule(check={"type": "min_members", "labels": ["Firm"], "count": 1}), "check.labels"),
        (
            rule(
                check={
                    "type": "min_members",
                    "labels": ["Enterprise"],
                    "kinds": ["党支部"],
                    "count": 1,
                }
            ),
            "check.kinds",
        ),
        (rule(check={"type": "min_members", "labels": ["Village"], "count": -1}), "check.count"),
        (
            rule(check={"type": "min_linked", "labels": ["Village"], "count": 1}),
            "check.link_types",
        ),
        (
            rule(
                check={
                    "type": "min_linked",
                    "labels": ["Village"],
                    "count": 1,
                    "link_types": ["IN_REGION"],
                }
            ),
            "check.link_types",
        ),
        (rule(check={"type": "has_attribute", "attribute": "brand", "min": 1}), "check.min"),
        (
            rule(check={"type": "attribute_equals", "attribute": "charter_signed", "value": "yes"}),
            "check.value",
        ),
        (rule(applies_to=["联合体"]), "applies_to"),
        (rule(applies_to=[]), "applies_to"),
        (rule(severity="fatal"), "severity"),
        (rule(source={"document": "000_ebbe741d95becf05.txt"}), "source.quote"),
        (rule(description_zh=""), "description_zh"),
        (rule(threshold=3), "threshold"),
    ],
)
def test_bad_rules_file_names_rule_and_field(
    tmp_path: Path, bad: dict[str, Any], field: str
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"version": 1, "rules": [bad]}, ensure_ascii=False), "utf-8")
    with pytest.raises(RuleFileError) as info:
        load_rules(path)
    message = str(info.value)
    assert "'000-talents'" in message
    assert f"'{field}'" in message
    assert str(path) in message


def test_bad_rules_file_structure(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text("{not json", "utf-8")
    with pytest.raises(RuleFileError, match="not valid JSON"):
        load_rules(path)
    with pytest.raises(RuleFileError, match="'rules' list"):
        parse_rules({"rule": []})
    with pytest.raises(RuleFileError, match="duplicate rule id"):
        parse_rules({"rules": [rule(), rule()]})
    with pytest.raises(RuleFileError, match=r"rules\[0\].*'id'"):
        parse_rules({"rules": [rule(id="bad id!")]})
    assert isinstance(RuleFileError("x"), ValueError)


# ---------------------------------------------------------------------------------------
# Change between dates
# ---------------------------------------------------------------------------------------


def test_compare_dates_links_nodes_and_coverage() -> None:
    G = coverage_graph()
    add_node(G, "ent:new", "Enterprise", "公司", PINGYUAN, valid_from="2022-05-01")
    add_link(G, "s-new", "SUPPLIES", "village:v1", "ent:new", "2022-05-01")
    add_node(G, "ent:old", "Enterprise", "公司", PINGYUAN, valid_to="2022-02-01")
    add_link(G, "s-old", "SUPPLIES", "village:v2", "ent:old")  # undated: goes with its node
    a, b = dt.date(2022, 1, 1), dt.date(2023, 1, 1)
    report = compare_dates(G, a, b, region_code=PINGYUAN)
    # new on b: p5 (from 2022-03-01), s-new (2022-05-01); lost: m6 (to 2022-06-30), s-old
    assert [link.id for link in report.new_links] == ["p5", "s-new"]
    assert [link.id for link in report.lost_links] == ["m6", "s-old"]
    assert report.lost_links[0].valid_to == "2022-06-30"
    assert [n.id for n in report.new_nodes] == ["ent:new"]
    assert [n.id for n in report.lost_nodes] == ["ent:old"]
    cov = report.coverage
    assert cov is not None
    # a: joint body {v1, v3, v6} = 3/6, paired {v3}; b: {v1, v3} = 2/6, paired {v3, v5}
    assert (cov.villages_a, cov.covered_a, cov.paired_a) == (6, 3, 1)
    assert (cov.villages_b, cov.covered_b, cov.paired_b) == (6, 2, 2)
    assert cov.rate_a == pytest.approx(0.5)
    assert cov.rate_b == pytest.approx(2 / 6)
    assert cov.newly_uncovered == ("village:v6",)
    assert cov.newly_covered == ()
    # swapping the days swaps new and lost
    back = compare_dates(G, b, a)
    assert [link.id for link in back.new_links] == ["m6", "s-old"]
    assert back.coverage is None
    # only pairings
    pairs = compare_dates(G, a, b, link_types=["PAIRS_WITH"])
    assert [link.id for link in pairs.new_links] == ["p5"]
    assert pairs.lost_links == ()
    with pytest.raises(ValueError, match="unknown link types"):
        compare_dates(G, a, b, link_types=["KNOWS"])


def test_compare_dates_centrality_movers() -> None:
    G = nx.MultiDiGraph()
    for n in "pqrs":
        add_node(G, n, "Enterprise", "公司")
    add_link(G, "pq", "CO_BUILDS", "p", "q")
    add_link(G, "pr", "CO_BUILDS", "p", "r", valid_to="2022-06-30")
    add_link(G, "ps", "CO_BUILDS", "p", "s", valid_to="2022-06-30")
    add_link(G, "rs", "CO_BUILDS", "r", "s", valid_from="2022-07-01")
    add_link(G, "qr", "CO_BUILDS", "q", "r", valid_from="2022-07-01")
    add_link(G, "qs", "CO_BUILDS", "q", "s", valid_from="2022-07-01")

    def degree(S: nx.Graph) -> dict[Any, float]:
        return {n: float(d) for n, d in S.degree()}

    report = compare_dates(G, dt.date(2022, 1, 1), dt.date(2023, 1, 1), centrality=degree)
    # a: p 3, q r s 1 → ranks p 1, q r s 2 (ties share the best rank)
    # b: q 3, r 2, s 2, p 1 → ranks q 1, r s 2, p 4
    # q rose 2 → 1 (+1); p fell 1 → 4 (−3); r and s stayed at 2
    assert [(m.node_id, m.rank_a, m.rank_b, m.rank_change) for m in report.risers] == [
        ("q", 2, 1, 1)
    ]
    assert [(m.node_id, m.rank_a, m.rank_b, m.rank_change) for m in report.fallers] == [
        ("p", 1, 4, -3)
    ]
    assert (report.fallers[0].score_a, report.fallers[0].score_b) == (3.0, 1.0)
    assert [link.id for link in report.new_links] == ["qr", "qs", "rs"]
    assert [link.id for link in report.lost_links] == ["pr", "ps"]


# ---------------------------------------------------------------------------------------
# A generated 平原-profile county
# ---------------------------------------------------------------------------------------


@cache
def generated_pingyuan() -> tuple[int, nx.MultiDiGraph]:
    """平原县 under the first seed that gives it the 平原 profile, as the store exports it."""
    seed = next(s for s in range(100) if county_profile(s, PINGYUAN) == "pingyuan")
    items = list(register_graph(read_register(ROOT / "seed" / "register", [PINGYUAN])))
    nodes = [doc for kind, doc in items if kind == "node"]
    regions = [n for n in nodes if n["label"] == "Region"]
    villages = [n for n in nodes if n["label"] == "Village"]
    items += generate_network(regions, villages, seed)
    G = nx.MultiDiGraph()
    for kind, doc in items:  # enriched village copies replace the register's
        if kind == "node":
            G.add_node(doc["id"], **doc)
    for kind, doc in items:
        if kind == "link":
            G.add_edge(doc["source"], doc["target"], key=doc["id"], **doc)
    return seed, G


def test_generated_county_coverage_and_rules() -> None:
    _, G = generated_pingyuan()
    as_of = dt.date(2024, 1, 1)
    report = coverage_report(G, PINGYUAN, as_of=as_of)
    total = report.total
    assert total.villages > 300  # 平原县 has some 430 villages in the register
    assert total.joint_body_rate is not None
    assert total.joint_body_rate >= 0.9  # 000: 100%
    assert len(report.children) >= 10  # its towns and 街道
    assert all(c.joint_body_rate is None or c.joint_body_rate >= 0.8 for c in report.children)
    assert 0 < len(report.weak_villages) < total.villages
    assert 0 <= report.weak_without_strong_partner <= len(report.weak_villages)
    rules = load_rules(RULES)
    checked = check_rules(G, rules, as_of=as_of, scope_region=PINGYUAN)
    assert len(checked.bodies) >= 40  # 62 联合体 for 424 villages
    assert checked.breaches >= 1  # the generator breaks rules in about a tenth of bodies
    assert checked.bodies_in_breach < len(checked.bodies) / 2
    for summary in checked.rules:
        assert summary.checked > 0
        assert summary.passed > summary.broken
        assert summary.unknown == 0  # the generator states every attribute the rules read
