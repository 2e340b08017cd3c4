"""The joint bodies (联建组织) of each county profile (step 6).

``pingyuan`` (平原县, 000): 党建联合体 covering (almost) every village of a town, a share of
them brand bodies, with rule breaches; ``pingliang`` (平凉市, 001): small 联建 party
organizations of neighbouring villages, 产业链党委 with their firms, and 百企帮百村 pairings;
``kaiyuan`` (开原市, 004): a few large 产业联合党委 over neighbouring towns. The rates are in
:mod:`~graph_service.services.synthetic.calibration`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from graph_service.services.synthetic.calibration import (
    BAIQI_INVESTMENT_PER_PAIR_YUAN,
    HORIZON,
    KAIYUAN_BODIES_PER_VILLAGE,
    PINGLIANG_BAIQI_PER_VILLAGE,
    PINGLIANG_BANK_PAIRING,
    PINGLIANG_CHAINS_PER_VILLAGE,
    PINGLIANG_FIRMS_PER_CHAIN,
    PINGLIANG_LIANJIAN_PER_VILLAGE,
    PINGLIANG_PARTY_ORG_SHARE,
    PINGYUAN_BODIES_PER_VILLAGE,
    PINGYUAN_BRAND_SHARE,
    PINGYUAN_BREACH_RATE,
    PINGYUAN_UNCOVERED_RATE,
)
from graph_service.services.synthetic.county import CountyBuilder, Firm, Town, Village
from graph_service.services.synthetic.documents import day, round_money
from graph_service.services.synthetic.draws import lognormal, pick, sample, weighted_index
from graph_service.services.synthetic.names import stem
from graph_service.services.synthetic.vocabulary import (
    ACTIVITIES,
    DIRECTIONS,
    INDUSTRIES,
    PINGLIANG_MODEL_CUMULATIVE,
    PINGLIANG_MODELS,
    PINGYUAN_MODELS,
    PROGRAM_BAIQI,
    PROJECTS,
    SLOGANS,
    industry_cumulative,
)

__all__ = ["kaiyuan", "pingliang", "pingyuan"]


def pingyuan(county: CountyBuilder) -> None:
    """党建联合体 covering (almost) every village, a third of them brand bodies."""
    u = county.u
    rate = PINGYUAN_BODIES_PER_VILLAGE * (0.9 + 0.2 * u())
    groups = [
        (town, group, breach)
        for town in county.towns
        for group, breach in _pingyuan_town_groups(county, town, rate)
    ]
    scores = sorted(
        ((-len(g) * (0.7 + 0.6 * u()), i) for i, (_, g, _) in enumerate(groups)),
    )
    brand = {i for _, i in scores[: round(len(groups) * PINGYUAN_BRAND_SHARE)]}
    ids = [f"gen:org:{county.code}-lht{i + 1:03d}" for i in range(len(groups))]
    by_town: dict[str, list[str]] = defaultdict(list)
    for (town, _, _), body_id in zip(groups, ids, strict=True):
        by_town[town.code].append(body_id)
    moves: dict[str, list[tuple[str, int]]] = {}
    founded_by_body: dict[str, int] = {}
    meetings_by_body: dict[str, float] = {}
    for i, ((town, group, breach), body_id) in enumerate(zip(groups, ids, strict=True)):
        founded, meetings = _pingyuan_body(
            county, body_id, town, group, breach, i in brand, moves, by_town[town.code]
        )
        founded_by_body[body_id] = founded
        meetings_by_body[body_id] = meetings
    for body_id, moved in moves.items():
        for actor, start in moved:
            begin = max(start, founded_by_body[body_id])
            county.membership(actor, body_id, "member", begin, meetings_by_body[body_id])


def _pingyuan_town_groups(
    county: CountyBuilder, town: Town, rate: float
) -> list[tuple[list[Village], str]]:
    """A town's villages cut into runs of neighbours, one per body, each with the rule it
    breaks (``"single"`` village, ``"no_enterprise"``, too few ``"meetings"``, or ``""``)."""
    u = county.u
    n = len(town.villages)
    k = max(1, round(n * rate))
    avg = n / k
    cuts = [0]
    for i in range(1, k):
        cut = round(i * avg + (u() - 0.5) * 0.6 * avg)
        cuts.append(min(max(cut, cuts[-1] + 1), n - (k - i)))
    cuts.append(n)
    town_groups = [town.villages[a:b] for a, b in itertools.pairwise(cuts)]
    breaches = []
    for j, group in enumerate(town_groups):
        r = u()
        breach = ""
        if r < PINGYUAN_BREACH_RATE * 0.35:
            breach = "single"
        elif r < PINGYUAN_BREACH_RATE * 0.7:
            breach = "no_enterprise"
        elif r < PINGYUAN_BREACH_RATE:
            breach = "meetings"
        if breach == "single" and len(group) >= 2 and len(town_groups) > 1:
            # The rest of the group joins the neighbouring body of the town.
            other = town_groups[j + 1] if j + 1 < len(town_groups) else town_groups[j - 1]
            other.extend(group[1:])
            other.sort(key=lambda v: v.code)
            del group[1:]
        elif breach == "single":
            breach = "meetings"
        breaches.append(breach)
    return [(g, b) for g, b in zip(town_groups, breaches, strict=True) if g]


def _pingyuan_body(
    county: CountyBuilder,
    body_id: str,
    town: Town,
    group: list[Village],
    breach: str,
    is_brand: bool,
    moves: dict[str, list[tuple[str, int]]],
    town_bodies: Sequence[str],
) -> tuple[int, float]:
    """One 党建联合体 over ``group`` with its members; returns (founding day, meetings)."""
    u = county.u
    lead = max(group, key=lambda v: v.income)
    industry = lead.industry
    name = _joint_name(county, town, group, lead)
    founded = county.founding(dt.date(2019, 1, 1).toordinal())
    meetings = 12.0 if breach != "meetings" else float(pick(u, (2, 4, 6)))
    attrs: dict[str, Any] = {
        "brand": is_brand,
        "linkage_model": pick(u, PINGYUAN_MODELS),
        "meetings_per_year": meetings,
        "charter_signed": is_brand or u() < 0.85,
        "talents_returned_per_year": (
            10 + int(lognormal(u, 4, 0.8)) if u() >= 0.05 else 3 + int(u() * 7)
        ),
        "college_graduates": 1 + int(u() * 4) if u() >= 0.04 else 0,
        "party_members": sum(v.attributes["party_members"] for v in group),
        "activities": sample(u, ACTIVITIES, 2 + int(u() * 3)),
    }
    if u() < 0.5:
        attrs["projects"] = sample(u, PROJECTS, 1 + int(u() * 2))
    county.body(
        body_id,
        "党建联合体",
        name,
        town.code,
        town.committee,
        industry,
        attrs,
        founded,
        aliases=(f"{town.name}{name}",),
    )
    members = [v for v in group if v is lead or u() >= PINGYUAN_UNCOVERED_RATE]
    for v in group:
        v.key = v.key or is_brand
    county.village_members(body_id, members, founded, meetings, lead, 0.8, moves, town_bodies)
    if breach != "no_enterprise":
        chosen: list[Firm] = []
        r = u()
        for _ in range(1 if r < 0.7 else (2 if r < 0.95 else 3)):
            firm = county.choose_firm([f for f in county.firms if f not in chosen], industry, town)
            if firm is not None:
                chosen.append(firm)
        county.firm_members(body_id, chosen, founded, meetings)
        if chosen and u() < 0.3:
            county.supply(body_id, industry, town, lognormal(u, 2000, 0.8))
        led = [v.coop for v in group if v.coop is not None]
        if led and u() < 0.3:
            county.membership(pick(u, led), body_id, "member", founded, meetings)
    if u() < 0.15 and county.departments:
        inst = pick(u, [*county.departments, county.bank])
        county.membership(inst, body_id, "member", founded, meetings, income=False)
    return founded, meetings


def _joint_name(county: CountyBuilder, town: Town, group: Sequence[Village], lead: Village) -> str:
    u = county.u
    stems = [stem(v.name) for v in group]
    r = u()
    if r < 0.45 and len(group) >= 3:
        name = "".join(s[0] for s in stems[:3]) + "党建联合体"
    elif r < 0.75:
        name = f"{stem(lead.name)}区域党建联合体"
    else:
        name = f"{pick(u, SLOGANS)}{town.short}党建联合体"
    return county.unique(name, f"{town.short}{name}", f"{town.name}{name}")


def pingliang(county: CountyBuilder) -> None:
    """联建 party organizations, 产业链党委 with their firms, 百企帮百村."""
    u = county.u
    n_villages = len(county.villages)
    # 联建 organizations: 2–6 neighbouring village organizations of a town.
    free = {v.id for v in county.villages}
    target = round(n_villages * PINGLIANG_LIANJIAN_PER_VILLAGE * (0.85 + 0.3 * u()))
    made = 0
    for _attempt in range(target * 4):
        if made >= target:
            break
        size = (2, 2, 2, 3, 3, 3, 4, 4, 5, 6)[int(u() * 10)]
        town = county.villages[int(u() * n_villages)].town
        start = int(u() * len(town.villages))
        group = [v for v in town.villages[start:] if v.id in free][:size]
        if len(group) < 2:
            continue
        made += 1
        for v in group:
            free.discard(v.id)
        _lianjian_body(county, town, group, made)
    # 产业链党委 with ≈17 firms each, ≈7 of them with a party organization.
    chains = max(1, round(n_villages * PINGLIANG_CHAINS_PER_VILLAGE * (0.85 + 0.3 * u())))
    named: set[int] = set()
    for c in range(chains):
        _industry_chain(county, c, named)
    _baiqi(county)


def _industry_chain(county: CountyBuilder, number: int, named: set[int]) -> None:
    """产业链党委 ``number`` (from 0) with its firms; the first of an industry (not yet in
    ``named``) is the county's, the others a town's 产业链联合党委."""
    u = county.u
    industry = county.industries[number % len(county.industries)]
    ind = INDUSTRIES[industry]
    body_id = f"gen:org:{county.code}-cyl{number + 1:02d}"
    if industry not in named:
        named.add(industry)
        name = county.unique(f"{county.name}{ind.name}产业链党委")
        region_code, superior = county.code, county.committee
    else:
        town = county.random_town()
        name = county.unique(f"{town.name}{ind.name}产业链联合党委")
        region_code, superior = town.code, county.committee
    founded = county.founding(dt.date(2020, 1, 1).toordinal())
    r = u()
    meetings = 4.0 if r < 0.5 else (12.0 if r < 0.8 else 2.0)
    attrs = {
        "brand": False,
        "linkage_model": "产业链接型" if u() < 0.6 else "龙头带动型",
        "meetings_per_year": meetings,
        "charter_signed": u() < 0.8,
        "activities": sample(u, ACTIVITIES, 2 + int(u() * 3)),
    }
    county.body(
        body_id,
        "产业链党委",
        name,
        region_code,
        superior,
        industry,
        attrs,
        founded,
        aliases=(f"{ind.name}产业链党委",),
    )
    n_firms = max(5, round(PINGLIANG_FIRMS_PER_CHAIN * (0.6 + 0.8 * u())))
    firms = [county.new_firm(industry, county.random_town(), chain_leader=True)]
    for _ in range(n_firms - 1):
        firm_industry = (
            industry if u() < 0.85 else weighted_index(u, industry_cumulative(county.group))
        )
        firms.append(county.new_firm(firm_industry, county.random_town()))
    county.membership(firms[0].id, body_id, "lead", founded, meetings)
    county.firm_members(body_id, firms[1:], founded, meetings)
    for firm in firms:
        if u() < PINGLIANG_PARTY_ORG_SHARE:
            org = county.firm_party_org(firm, body_id)
            if u() < PINGLIANG_BANK_PAIRING:
                county.out.link(
                    "CO_BUILDS",
                    county.bank,
                    org,
                    {"activities": ["金融结对"], "agreement_signed": True},
                    day(county.founding(founded, HORIZON - 30)),
                )
    for firm in firms[1:]:
        if u() < 0.3:
            attrs2 = county.substance(income=False)
            attrs2["products"] = sample(u, INDUSTRIES[firm.industry].products, 1)
            county.out.link("SUPPLIES", firm.id, firms[0].id, attrs2)
    same = [c for c in county.coops if c.industry == industry]
    for coop in sample(u, same, int(u() * 4)):
        county.membership(coop.id, body_id, "member", founded, meetings)


def _lianjian_body(county: CountyBuilder, town: Town, group: list[Village], number: int) -> None:
    u = county.u
    stems = [stem(v.name) for v in group]
    if len(group) == 2:
        base = "".join(stems)
        kind = ("联合党支部", "联合党总支", "联合党委")[weighted_index(u, (0.3, 0.8, 1.0))]
    else:
        base = "".join(s[0] for s in stems)
        kind = "联合党委" if len(group) >= 4 and u() < 0.6 else "联合党总支"
    name = county.unique(f"{base}{kind}", f"{town.short}{base}{kind}")
    if any(v.community for v in group):
        model = "社区共建型"
    else:
        model = PINGLIANG_MODELS[weighted_index(u, PINGLIANG_MODEL_CUMULATIVE)]
    lead_village = max(group, key=lambda v: v.income)
    r = u()
    meetings = 12.0 if r < 0.6 else (4.0 if r < 0.9 else 2.0)
    founded = county.founding(dt.date(2019, 1, 1).toordinal())
    body_id = f"gen:org:{county.code}-lj{number:03d}"
    attrs = {
        "brand": False,
        "linkage_model": model,
        "meetings_per_year": meetings,
        "charter_signed": u() < 0.8,
        "party_members": sum(v.attributes["party_members"] for v in group),
        "activities": sample(u, ACTIVITIES[:4], 2 + int(u() * 3)),
    }
    if u() < 0.4:
        attrs["projects"] = sample(u, PROJECTS, 1 + int(u() * 2))
    county.body(
        body_id, kind, name, town.code, town.committee, lead_village.industry, attrs, founded
    )
    firm = None
    if model in ("龙头带动型", "产业链接型") or u() < 0.4:
        firm = county.choose_firm(county.firms, lead_village.industry, town)
    firm_leads = firm is not None and model == "龙头带动型"
    county.village_members(
        body_id, group, founded, meetings, None if firm_leads else lead_village, 0.95
    )
    if firm is not None:
        role = "lead" if firm_leads else "member"
        county.membership(firm.id, body_id, role, founded, meetings)


def _baiqi(county: CountyBuilder) -> None:
    """百企帮百村: each enterprise helps one weak village (latent preference)."""
    u = county.u
    pairs = round(len(county.villages) * PINGLIANG_BAIQI_PER_VILLAGE * (0.85 + 0.3 * u()))
    weak = sorted(
        (v for v in county.villages if v.weak), key=lambda v: v.income * (0.8 + 0.4 * u())
    )
    if not weak or not pairs:
        return
    county.out.link("PART_OF_PROGRAM", county.region, PROGRAM_BAIQI)
    companies = [f for f in county.firms if f.kind in ("公司", "集团")]
    for v in weak[:pairs]:
        firm = county.choose_firm(companies, v.industry, v.town, fresh=True)
        if firm is None:
            break
        firm.used = True
        attrs = county.substance(meetings=4.0)
        attrs["program"] = PROGRAM_BAIQI
        attrs["investment_yuan"] = round_money(lognormal(u, BAIQI_INVESTMENT_PER_PAIR_YUAN, 0.6))
        start = county.founding(dt.date(2020, 1, 1).toordinal())
        county.out.link("PAIRS_WITH", firm.id, v.id, attrs, day(start))
        county.out.link("PART_OF_PROGRAM", firm.id, PROGRAM_BAIQI, None, day(start))


def kaiyuan(county: CountyBuilder, city_institutions: list[tuple[str, str]]) -> None:
    """A few large 产业联合党委, each over neighbouring towns of one industry."""
    u = county.u
    n = max(1, round(len(county.villages) * KAIYUAN_BODIES_PER_VILLAGE * (0.8 + 0.4 * u())))
    n = min(n, len(county.towns))
    per = len(county.towns) / n
    universities = [i for i, kind in city_institutions if kind == "高校"]
    organisation_dept = county.departments[0]
    for b in range(n):
        towns = county.towns[round(b * per) : round((b + 1) * per)]
        _industry_union(county, b, towns, universities, organisation_dept)


def _industry_union(
    county: CountyBuilder,
    number: int,
    towns: Sequence[Town],
    universities: Sequence[str],
    organisation_dept: str,
) -> None:
    """产业联合党委 ``number`` (from 0) over ``towns``, in their most common industry."""
    u = county.u
    counts: dict[int, int] = defaultdict(int)
    for town in towns:
        for v in town.villages:
            counts[v.industry] += 1
    industry = max(counts, key=lambda i: (counts[i], -i))
    ind = INDUSTRIES[industry]
    if len(towns) == 1:
        name = f"{towns[0].name}{ind.name}产业联合党委"
        region_code, superior = towns[0].code, towns[0].committee
    elif len(towns) == 2:
        name = f"{towns[0].name}和{towns[1].name}{ind.name}产业联合党委"
        region_code, superior = county.code, county.committee
    else:
        name = f"{county.name}{DIRECTIONS[number % len(DIRECTIONS)]}片区{ind.name}产业联合党委"
        region_code, superior = county.code, county.committee
    name = county.unique(name)
    body_id = f"gen:org:{county.code}-cylh{number + 1:02d}"
    founded = county.founding(dt.date(2021, 6, 1).toordinal(), dt.date(2022, 12, 31).toordinal())
    attrs = {
        "brand": False,
        "linkage_model": "产业抱团型" if u() < 0.5 else "产业带动型",
        "meetings_per_year": 12.0,
        "charter_signed": True,
        "activities": [
            "联席会议",
            "协调联动",
            "调研考察",
            "跟踪评估",
            "统购统销",
            "助销行动",
        ],
    }
    county.body(
        body_id,
        "产业联合党委",
        name,
        region_code,
        superior,
        industry,
        attrs,
        founded,
        aliases=(f"{ind.name}产业联合党委",),
    )
    candidates = [v for town in towns for v in town.villages]
    lead = max(candidates, key=lambda v: v.income)
    members = [v for v in candidates if v is lead or u() < 0.9]
    county.village_members(body_id, members, founded, 12.0, lead, 0.95)
    firms = [f for f in county.firms if f.industry == industry]
    county.firm_members(body_id, sample(u, firms, 1 + int(u() * 3)), founded, 12.0)
    coops = [c for c in county.coops if c.industry == industry]
    for coop in sample(u, coops, int(u() * 4)):
        county.membership(coop.id, body_id, "member", founded, 12.0)
    county.out.link(
        "DISPATCHES",
        organisation_dept,
        body_id,
        {
            "role": "列席联合党委联席会议",
            "meetings_per_year": 1.0,
            "activities": ["品种选择", "生产准备", "渠道对接"],
        },
        day(founded),
    )
    if universities and u() < 0.5:
        attrs2 = county.substance(income=False)
        attrs2.update(role="专家", people=1 + int(u() * 3))
        county.out.link("DISPATCHES", universities[0], body_id, attrs2, day(founded))
