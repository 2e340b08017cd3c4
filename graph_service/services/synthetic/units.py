"""A county's own units (steps 2–5): industries, villages, the party hierarchy, county
institutions, firms and cooperatives; and the enriched copies of its input villages."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from graph_service.services.synthetic.calibration import (
    FIRST_DAY,
    HORIZON,
    MEDIAN_COLLECTIVE_INCOME_YUAN,
    SIGMA_COUNTY,
    SIGMA_TOWN,
    SIGMA_VILLAGE,
    WEAK_INCOME_YUAN,
)
from graph_service.services.synthetic.county import CountyBuilder, Firm, Town, Village
from graph_service.services.synthetic.documents import day, round_money
from graph_service.services.synthetic.draws import (
    lognormal,
    normal,
    pick,
    sample,
    weighted_index,
)
from graph_service.services.synthetic.names import short_town, stem
from graph_service.services.synthetic.vocabulary import (
    DEPARTMENTS,
    INDUSTRIES,
    VILLAGE_NEEDS,
    VILLAGE_RESOURCES,
    industry_cumulative,
)

__all__ = [
    "enriched_villages",
    "make_cooperatives",
    "make_firms",
    "make_hierarchy",
    "make_institutions",
    "make_villages",
    "pick_industries",
]


def pick_industries(county: CountyBuilder) -> None:
    """2–4 leading industries of the county, weighted by its province group (step 2)."""
    u = county.u
    cum = list(industry_cumulative(county.group))
    chosen: list[int] = []
    for _ in range(2 + int(u() * 3)):
        i = weighted_index(u, cum)
        chosen.append(i)
        # Without replacement: zero the chosen industry's weight.
        w = cum[i] - (cum[i - 1] if i else 0.0)
        cum = [c - w if j >= i else c for j, c in enumerate(cum)]
    county.industries = chosen
    # The first leading industry counts most.
    county.industry_cum = tuple(
        sum(1.0 / (k + 1) for k in range(j + 1)) for j in range(len(chosen))
    )
    for i in chosen:
        county.out.link("IN_INDUSTRY", county.region, f"gen:ind:{INDUSTRIES[i].slug}")


def make_villages(county: CountyBuilder) -> None:
    """Towns and villages with income, weakness, population, land, needs and resources (step 3)."""
    u = county.u
    county_effect = normal(u)
    names: dict[str, int] = defaultdict(int)
    for _, docs in county.town_input:
        for v in docs:
            names[str(v["name"])] += 1
    for town_doc, docs in county.town_input:
        town_name = str(town_doc["name"])
        town = Town(
            town_doc,
            str(town_doc["region_code"]),
            town_name,
            short_town(town_name),
            f"gen:org:{town_doc['region_code']}",
            county.county_industry(),
            normal(u),
        )
        county.towns.append(town)
        base = SIGMA_COUNTY * county_effect + SIGMA_TOWN * town.effect
        for doc in docs:
            name = str(doc["name"])
            if names[name] > 1:
                name = town.short + name
            community = doc.get("kind") == "社区"
            industry = town.industry if u() < 0.6 else county.county_industry()
            income = round_money(
                MEDIAN_COLLECTIVE_INCOME_YUAN * math.exp(base + SIGMA_VILLAGE * normal(u))
            )
            population = int(lognormal(u, 4000 if community else 1400, 0.6)) + 50
            households = int(population / (2.6 + 0.8 * u()))
            members = max(3, int(population * (0.025 + 0.02 * u())))
            land = population * (0.05 + 0.45 * u() if community else 1.0 + 2.5 * u())
            attrs: dict[str, Any] = {
                "collective_income_yuan": income,
                "population": population,
                "households": households,
                "party_members": members,
                "land_area_mu": float(round(land)),
            }
            given = doc.get("attributes") or {}
            if isinstance(given.get("collective_income_yuan"), int | float):
                income = float(given["collective_income_yuan"])
            weak = income < WEAK_INCOME_YUAN
            if isinstance(given.get("weak"), bool):
                weak = given["weak"]
            if weak and u() < 0.7:
                attrs["needs"] = sample(u, VILLAGE_NEEDS, 1 + int(u() * 3))
            elif not weak and u() < 0.4:
                attrs["resources"] = sample(u, VILLAGE_RESOURCES, 1 + int(u() * 3))
            village = Village(
                doc,
                str(doc["id"]),
                str(doc["region_code"]),
                town,
                name,
                community,
                industry,
                income,
                weak,
                f"gen:org:{doc['region_code']}",
                attrs,
            )
            town.villages.append(village)
            county.villages.append(village)


def make_hierarchy(county: CountyBuilder) -> None:
    """County committee → town committees → one party organization per village (step 4)."""
    out, u = county.out, county.u
    name = county.unique(f"中共{county.name}委员会")
    out.node(
        county.committee,
        "PartyOrganization",
        "党委",
        name,
        county.code,
        aliases=(f"{county.name}委", f"{county.short}{county.level}委"),
    )
    out.link("ORGANIZATION_OF", county.committee, county.region)
    out.link("IN_REGION", county.committee, county.region)
    for town in county.towns:
        street = town.name.endswith(("街道", "街道办事处"))
        kind = "党工委" if street else "党委"
        cname = county.unique(f"{town.name}{kind}")
        out.node(
            town.committee,
            "PartyOrganization",
            kind,
            cname,
            town.code,
            {"party_members": sum(v.attributes["party_members"] for v in town.villages)},
            aliases=(f"{county.name}{town.name}{kind}",),
        )
        region = f"region:{town.code}"
        out.link("ORGANIZATION_OF", town.committee, region)
        out.link("SUBORDINATE_TO", town.committee, county.committee)
        out.link("IN_REGION", town.committee, region)
        out.link("IN_INDUSTRY", region, f"gen:ind:{INDUSTRIES[town.industry].slug}")
    for v in county.villages:
        members = v.attributes["party_members"]
        kind = "党支部"
        if members >= 120 and u() < 0.5:
            kind = "党委"
        elif members >= 60 and u() < 0.6:
            kind = "党总支"
        oname = county.unique(f"{v.name}{kind}", f"{v.town.short}{v.name}{kind}")
        out.node(
            v.org,
            "PartyOrganization",
            kind,
            oname,
            v.town.code,
            {"party_members": members},
            aliases=(f"{v.name}党组织",),
        )
        out.link("ORGANIZATION_OF", v.org, v.id)
        out.link("SUBORDINATE_TO", v.org, v.town.committee)
        out.link("IN_REGION", v.org, f"region:{v.town.code}")
        out.link("IN_INDUSTRY", v.id, f"gen:ind:{INDUSTRIES[v.industry].slug}")


def make_institutions(county: CountyBuilder) -> None:
    """County departments and banks (step 5)."""
    out, u = county.out, county.u
    for suffix, name, alias, kind, p in DEPARTMENTS:
        if u() < p:
            inst = out.node(
                f"gen:inst:{county.code}-{suffix}",
                "Institution",
                kind,
                county.unique(f"{county.name}{name}"),
                county.code,
                {"staff": int(lognormal(u, 40, 0.5))},
                aliases=(f"{county.level}{alias}",),
            )
            county.departments.append(inst)
            out.link("IN_REGION", inst, county.region)
    county.bank = out.node(
        f"gen:inst:{county.code}-nsh",
        "Institution",
        "金融机构",
        county.unique(f"{county.short}农村商业银行", f"{county.name}农村商业银行"),
        county.code,
        {"staff": int(lognormal(u, 300, 0.5)), "resources": ["信贷资金", "金融服务"]},
        aliases=(f"{county.short}农商行", "农商行"),
    )
    out.link("IN_REGION", county.bank, county.region)
    county.banks = [county.bank]
    if u() < 0.4:
        postal = out.node(
            f"gen:inst:{county.code}-yc",
            "Institution",
            "金融机构",
            county.unique(f"中国邮政储蓄银行{county.name}支行"),
            county.code,
            {"staff": int(lognormal(u, 60, 0.5))},
            aliases=("邮储银行",),
        )
        out.link("IN_REGION", postal, county.region)
        county.banks.append(postal)


def make_firms(county: CountyBuilder, count: int) -> None:
    """``count`` companies, the first sixth chain leaders, some with a party organization."""
    u = county.u
    for i in range(count):
        industry = (
            county.county_industry()
            if u() < 0.8
            else weighted_index(u, industry_cumulative(county.group))
        )
        # Villages are spread over towns; firms follow them (a random village's town).
        town = county.villages[int(u() * len(county.villages))].town
        firm = county.new_firm(industry, town, chain_leader=i < max(1, count // 6))
        if u() < 0.3:
            county.firm_party_org(firm, town.committee)


def make_cooperatives(county: CountyBuilder) -> None:
    """Village-led cooperatives, family farms, their ``SUPPLIES``, and town 强村富民公司."""
    u = county.u
    for v in county.villages:
        if u() < 0.4:
            _cooperative(county, v)
        if u() < 0.12:
            _family_farm(county, v)
        elif u() < 0.05:
            county.supply(v.id, v.industry, v.town, None)
    for town in county.towns:
        if len(town.villages) >= 3 and u() < 0.45:
            _town_company(county, town)


def _cooperative(county: CountyBuilder, v: Village) -> None:
    """The cooperative ``v``'s branch leads (党支部领办合作社)."""
    out, u = county.out, county.u
    ind = INDUSTRIES[v.industry]
    village_stem = stem(v.name)
    for _ in range(4):
        term = pick(u, ind.coop_terms)
        r = u()
        if r < 0.5:
            name = f"{village_stem}{term}专业合作社"
        elif r < 0.8:
            name = f"{village_stem}{county.zihao()}{term}专业合作社"
        else:
            name = f"{county.zihao()}园专业合作社"
        if name not in county.names:
            break
    name = county.unique(name, f"{v.town.short}{name}")
    coop_id = f"gen:ent:{v.code}-hzs"
    land = float(round(lognormal(u, 400, 0.8)))
    revenue = lognormal(u, 800_000, 0.9)
    out.node(
        coop_id,
        "Enterprise",
        "合作社",
        name,
        v.town.code,
        {
            "members": int(lognormal(u, 80, 0.8)) + 5,
            "land_area_mu": land,
            "annual_revenue_yuan": round_money(revenue),
            "products": sample(u, ind.products, 1 + int(u() * 2)),
        },
    )
    out.link("IN_REGION", coop_id, f"region:{v.town.code}")
    out.link("IN_INDUSTRY", coop_id, f"gen:ind:{ind.slug}")
    attrs = county.substance(income=False)
    if u() < 0.5:
        attrs["investment_yuan"] = round_money(lognormal(u, 200_000, 0.7))
    attrs["land_area_mu"] = land
    out.link(
        "LEADS_COOPERATIVE",
        v.org,
        coop_id,
        attrs,
        day(county.founding(FIRST_DAY, HORIZON - 60)),
    )
    v.coop = coop_id
    coop = Firm(coop_id, name, "合作社", v.industry, v.town, revenue)
    county.coops.append(coop)
    if u() < 0.5:
        county.supply(coop_id, v.industry, v.town, land)


def _family_farm(county: CountyBuilder, v: Village) -> None:
    """A family farm (家庭农场) in ``v``."""
    out, u = county.out, county.u
    ind = INDUSTRIES[v.industry]
    farm = f"gen:ent:{v.code}-jtnc"
    land = float(round(lognormal(u, 150, 0.7)))
    name = county.unique(
        f"{stem(v.name)}{county.zihao()}家庭农场",
        f"{v.town.short}{stem(v.name)}{county.zihao()}家庭农场",
    )
    out.node(
        farm,
        "Enterprise",
        "家庭农场",
        name,
        v.town.code,
        {
            "land_area_mu": land,
            "employees": 2 + int(u() * 8),
            "products": [pick(u, ind.products)],
        },
    )
    out.link("IN_REGION", farm, f"region:{v.town.code}")
    out.link("IN_INDUSTRY", farm, f"gen:ind:{ind.slug}")
    if u() < 0.4:
        county.supply(farm, v.industry, v.town, land)


def _town_company(county: CountyBuilder, town: Town) -> None:
    """A town's 强村富民公司, which villages of the town lead together."""
    out, u = county.out, county.u
    company = f"gen:ent:{town.code}-qcfm"
    out.node(
        company,
        "Enterprise",
        "强村富民公司",
        county.unique(f"{town.short}强村富民有限公司", f"{town.name}强村富民有限公司"),
        town.code,
        {"employees": 5 + int(u() * 40)},
        aliases=(f"{town.name}强村富民公司",),
    )
    out.link("IN_REGION", company, f"region:{town.code}")
    for v in sample(u, town.villages, 2 + int(u() * 4)):
        attrs = {"investment_yuan": round_money(lognormal(u, 300_000, 0.6))}
        out.link("LEADS_COOPERATIVE", v.org, company, attrs)


def enriched_villages(county: CountyBuilder) -> None:
    """The input villages again, with the generated attributes added (input attributes win)."""
    source = county.out.src()[0]
    for v in county.villages:
        doc = dict(v.doc)
        attrs = v.attributes
        attrs["weak"] = v.weak
        attrs["key_village"] = v.key
        given = doc.get("attributes") or {}
        attrs.update(given)
        doc["attributes"] = attrs
        doc["aliases"] = list(doc.get("aliases") or [])
        doc["figures"] = list(doc.get("figures") or [])
        sources = list(doc.get("sources") or [])
        if source not in sources:
            sources.append(source)
        doc["sources"] = sources
        county.out.nodes.append(doc)
