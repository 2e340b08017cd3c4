"""One county being generated: its records and the builder every step writes through.

:class:`CountyBuilder` holds a county's random stream, its document block and what the steps
have made so far (towns, villages, firms, cooperatives, institutions), with the helpers the
steps share: unique names, founding dates, link substance, memberships, the latent preference
that picks firms, new firms and joint bodies. The steps themselves are in
:mod:`~graph_service.services.synthetic.units`,
:mod:`~graph_service.services.synthetic.joint_bodies` and
:mod:`~graph_service.services.synthetic.links`;
:func:`~graph_service.services.synthetic.network.generate_network` runs them in order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graph_service.models import NodeDoc
from graph_service.services.synthetic.calibration import (
    FIRST_DAY,
    HORIZON,
    INCOME_PER_MU_YUAN,
    LAST_FOUNDING,
    MEMBERSHIP_END_RATE,
)
from graph_service.services.synthetic.documents import Block, day, round_money
from graph_service.services.synthetic.draws import (
    Uniform,
    gumbel,
    lognormal,
    pick,
    sample,
    stream,
    weighted_index,
)
from graph_service.services.synthetic.names import short_county, short_province
from graph_service.services.synthetic.vocabulary import (
    ACTIVITIES,
    COMPANY_FORMS,
    INDUSTRIES,
    PROVINCE_GROUP,
    RESOURCES,
    ZIHAO,
)

__all__ = ["CountyBuilder", "Firm", "Town", "Village"]


@dataclass(slots=True)
class Town:
    """A town (乡镇/街道) of the county: its committee, main industry and income effect."""

    doc: NodeDoc
    code: str
    name: str
    short: str
    committee: str
    industry: int
    effect: float
    villages: list[Village] = field(default_factory=list)


@dataclass(slots=True)
class Village:
    """An input village with what the generator drew for it (income, weakness, …)."""

    doc: NodeDoc
    id: str
    code: str
    town: Town
    name: str
    community: bool
    industry: int
    income: float
    weak: bool
    org: str
    attributes: dict[str, Any]
    key: bool = False
    coop: str | None = None
    helped: int = 0


@dataclass(slots=True)
class Firm:
    """A generated company, group or cooperative, as pairings and memberships choose it."""

    id: str
    name: str
    kind: str
    industry: int
    town: Town | None
    revenue: float
    party_org: str | None = None
    used: bool = False


class CountyBuilder:
    """Builds one county's documents from its own random stream."""

    def __init__(
        self,
        seed: int,
        source: str,
        by_code: dict[str, NodeDoc],
        code: str,
        villages: list[NodeDoc],
    ) -> None:
        self.rng = stream(seed, code)
        self.u: Uniform = self.rng.random
        self.out = Block(source)
        self.code = code
        self.doc = by_code[code]
        self.region = f"region:{code}"
        self.name = str(self.doc["name"])
        self.short = short_county(self.name)
        self.level = self.name[-1] if self.name[-1] in "县区市旗" else "县"
        self.province_short = short_province(str(by_code[code[:2]]["name"]))
        self.group = PROVINCE_GROUP.get(code[:2], "n")
        self.committee = f"gen:org:{code}"
        self.names: set[str] = set()
        self.villages: list[Village] = []
        self.towns: list[Town] = []
        self.firms: list[Firm] = []
        self.coops: list[Firm] = []
        self.departments: list[str] = []
        self.bank = ""
        self.banks: list[str] = []
        self.n_firms = 0
        self.profile = ""
        self.industries: list[int] = []
        self.industry_cum: tuple[float, ...] = ()
        ordered = sorted(villages, key=lambda v: str(v["region_code"]))
        town_docs: dict[str, list[NodeDoc]] = {}
        for v in ordered:
            town_docs.setdefault(str(v["region_code"])[:9], []).append(v)
        self.town_input = [(by_code[t], vs) for t, vs in town_docs.items()]

    # -------------------------------------------------------------- helpers

    def unique(self, name: str, *fallbacks: str) -> str:
        """``name``, else the first free fallback, else ``name`` numbered (unique per county)."""
        for candidate in (name, *fallbacks):
            if candidate not in self.names:
                self.names.add(candidate)
                return candidate
        n = 2
        while f"{name}{n}" in self.names:
            n += 1
        self.names.add(f"{name}{n}")
        return f"{name}{n}"

    def zihao(self) -> str:
        """A two-character trade name (字号) for a firm."""
        u = self.u
        a = int(u() * len(ZIHAO))
        b = (a + 1 + int(u() * (len(ZIHAO) - 1))) % len(ZIHAO)
        return ZIHAO[a] + ZIHAO[b]

    def founding(self, first: int = FIRST_DAY, last: int = LAST_FOUNDING) -> int:
        """A founding day (ordinal) between ``first`` and ``last``, uniformly."""
        return first + int(self.u() * (last - first + 1))

    def substance(
        self, income: bool = True, median_land: float = 800.0, meetings: float | None = None
    ) -> dict[str, Any]:
        """Link substance: each attribute present with its own probability."""
        u = self.u
        attrs: dict[str, Any] = {}
        r = u()
        if r < 0.75:
            attrs["agreement_signed"] = True
        elif r < 0.85:
            attrs["agreement_signed"] = False
        if meetings is not None and u() < 0.6:
            attrs["meetings_per_year"] = meetings
        if u() < 0.6:
            attrs["activities"] = sample(u, ACTIVITIES, 1 + int(u() * 3))
        if u() < 0.4:
            attrs["resources_from_source"] = sample(u, RESOURCES, 1 + int(u() * 2))
        if u() < 0.3:
            attrs["resources_from_target"] = sample(u, RESOURCES, 1 + int(u() * 2))
        if income:
            land = lognormal(u, median_land, 0.9) if u() < 0.4 else None
            if land is not None:
                attrs["land_area_mu"] = float(round(land))
            if u() < 0.5:
                base = land * INCOME_PER_MU_YUAN if land else lognormal(u, 60_000, 0.8)
                attrs["income_increase_yuan"] = round_money(base * (0.6 + 0.8 * u()))
                if land and u() < 0.4:
                    per_mu = int(attrs["income_increase_yuan"] / land)
                    attrs["outcome"] = f"流转土地{int(land)}亩,亩均增收{per_mu}元"
            if u() < 0.3:
                attrs["jobs"] = int(lognormal(u, 30, 0.8))
            if u() < 0.25:
                attrs["investment_yuan"] = round_money(lognormal(u, 200_000, 0.9))
        return attrs

    def membership(
        self,
        actor: str,
        body: str,
        role: str,
        start: int,
        meetings: float | None,
        end: int | None = None,
        income: bool = True,
    ) -> None:
        """A ``MEMBER_OF`` link of ``actor`` in ``body`` with its role, dates and substance."""
        attrs = self.substance(income=income, meetings=meetings)
        attrs["role"] = role
        self.out.link(
            "MEMBER_OF",
            actor,
            body,
            attrs,
            day(start),
            day(end) if end is not None else None,
        )

    def choose_firm(
        self, firms: Sequence[Firm], industry: int, town: Town | None, fresh: bool = False
    ) -> Firm | None:
        """The firm with the highest latent preference (industry, town, size, noise)."""
        u = self.u
        best: Firm | None = None
        best_score = -math.inf
        for firm in firms:
            if fresh and firm.used:
                continue
            score = 0.5 * math.log(firm.revenue / 20_000_000) + 0.7 * gumbel(u)
            if firm.industry == industry:
                score += 1.0
            if town is not None and firm.town is town:
                score += 0.8
            if score > best_score:
                best, best_score = firm, score
        return best

    def county_industry(self) -> int:
        """One of the county's leading industries, the first weighted most."""
        return self.industries[weighted_index(self.u, self.industry_cum)]

    def new_firm(
        self, industry: int, town: Town | None, chain_leader: bool = False, kind: str = ""
    ) -> Firm:
        """A new company (or 集团) of ``industry`` in ``town``, with its region and industry."""
        out, u = self.out, self.u
        ind = INDUSTRIES[industry]
        if not kind:
            r = u()
            kind = "集团" if r < (0.2 if chain_leader else 0.04) else "公司"
        self.n_firms += 1
        firm_id = f"gen:ent:{self.code}-c{self.n_firms:04d}"
        revenue = lognormal(u, 60_000_000 if chain_leader else 20_000_000, 1.1)
        for _ in range(8):
            zihao = self.zihao()
            r = u()
            place = self.short if r < 0.6 else (self.province_short if r < 0.8 else "")
            word = ind.word if u() < 0.7 else pick(u, ("农业科技", "农业开发", "生态农业"))
            if kind == "集团":
                name = f"{place}{zihao}{word}集团有限公司"
            else:
                form = pick(u, COMPANY_FORMS[: 2 if word.endswith(("开发", "科技")) else 4])
                name = f"{place}{zihao}{word}{form}"
            if name not in self.names:
                break
        name = self.unique(name)
        attrs: dict[str, Any] = {
            "employees": int(lognormal(u, 150 if chain_leader else 60, 0.9)) + 3,
            "annual_revenue_yuan": round_money(revenue),
            "total_assets_yuan": round_money(revenue * (0.8 + 1.7 * u())),
            "chain_leader": chain_leader,
            "products": sample(u, ind.products, 1 + int(u() * 2)),
        }
        region_code = town.code if town is not None else self.code
        out.node(
            firm_id,
            "Enterprise",
            kind,
            name,
            region_code,
            attrs,
            aliases=(f"{zihao}{'集团' if kind == '集团' else '公司'}",),
        )
        out.link("IN_REGION", firm_id, f"region:{region_code}")
        out.link("IN_INDUSTRY", firm_id, f"gen:ind:{ind.slug}")
        firm = Firm(firm_id, name, kind, industry, town, revenue)
        self.firms.append(firm)
        return firm

    def firm_party_org(self, firm: Firm, superior: str) -> str:
        """The party organization of ``firm``, subordinate to ``superior``; returns its id."""
        kind = "党总支" if self.u() < 0.15 else "党支部"
        org = f"gen:org:{firm.id.removeprefix('gen:ent:')}"
        region_code = firm.town.code if firm.town is not None else self.code
        self.out.node(
            org,
            "PartyOrganization",
            kind,
            self.unique(f"{firm.name}{kind}"),
            region_code,
            {"party_members": int(lognormal(self.u, 15, 0.6)) + 3},
        )
        self.out.link("ORGANIZATION_OF", org, firm.id)
        self.out.link("SUBORDINATE_TO", org, superior)
        self.out.link("IN_REGION", org, f"region:{region_code}")
        firm.party_org = org
        return org

    def random_town(self) -> Town:
        """One of the county's towns, uniformly."""
        return self.towns[int(self.u() * len(self.towns))]

    def supply(self, supplier: str, industry: int, town: Town, land: float | None) -> None:
        """A ``SUPPLIES`` link (order farming) from ``supplier`` to the company it prefers."""
        u = self.u
        buyer = self.choose_firm(self.firms, industry, town)
        if buyer is None:
            return
        attrs = self.substance(income=False)
        attrs["products"] = sample(u, INDUSTRIES[industry].products, 1)
        if u() < 0.85:
            attrs["order_farming"] = u() < 0.7
        if u() < 0.5:
            attrs["contract_value_yuan"] = round_money(lognormal(u, 500_000, 1.0))
        if land is not None and u() < 0.6:
            area = float(round(land * (0.3 + 0.7 * u())))
            attrs["land_area_mu"] = area
            increase = area * INCOME_PER_MU_YUAN * (0.6 + 0.8 * u())
            attrs["income_increase_yuan"] = round_money(increase)
            attrs["outcome"] = f"订单种植{int(area)}亩,亩均增收{int(increase / area)}元"
        self.out.link(
            "SUPPLIES", supplier, buyer.id, attrs, day(self.founding(FIRST_DAY, HORIZON - 30))
        )

    # -------------------------------------------------------------- joint bodies

    def body(
        self,
        id_: str,
        kind: str,
        name: str,
        region_code: str,
        superior: str,
        industry: int,
        attributes: dict[str, Any],
        founded: int,
        aliases: Sequence[str] = (),
    ) -> str:
        """A joint body (a PartyOrganization) with its superior, region and industry."""
        out = self.out
        out.node(
            id_,
            "PartyOrganization",
            kind,
            name,
            region_code,
            attributes,
            aliases=aliases,
            valid_from=day(founded),
        )
        out.link("SUBORDINATE_TO", id_, superior)
        out.link("IN_REGION", id_, f"region:{region_code}")
        out.link("IN_INDUSTRY", id_, f"gen:ind:{INDUSTRIES[industry].slug}")
        return id_

    def village_members(
        self,
        body: str,
        members: Sequence[Village],
        founded: int,
        meetings: float,
        lead: Village | None,
        org_share: float,
        moves: dict[str, list[tuple[str, int]]] | None = None,
        town_bodies: Sequence[str] = (),
    ) -> None:
        """Village (organization) memberships; ~8% end, moving to another body if given."""
        u = self.u
        for v in members:
            actor = v.org if (v is lead or u() < org_share) else v.id
            role = "lead" if v is lead else "member"
            start = founded if u() < 0.85 else self.founding(founded, HORIZON - 400)
            end: int | None = None
            if v is not lead and u() < MEMBERSHIP_END_RATE:
                others = [b for b in town_bodies if b != body]
                if moves is None or others:
                    end = start + 90 + int(u() * (HORIZON - start - 120))
                    if moves is not None:
                        moves.setdefault(pick(u, others), []).append((actor, end + 1))
            self.membership(actor, body, role, start, meetings, end)

    def firm_members(self, body: str, firms: Sequence[Firm], founded: int, meetings: float) -> None:
        """Memberships of ``firms`` in ``body``; all but the first may end."""
        u = self.u
        for i, firm in enumerate(firms):
            start = founded if u() < 0.8 else self.founding(founded, HORIZON - 400)
            end = None
            if i > 0 and u() < MEMBERSHIP_END_RATE:
                end = start + 90 + int(u() * (HORIZON - start - 120))
            self.membership(firm.id, body, "member", start, meetings, end)
