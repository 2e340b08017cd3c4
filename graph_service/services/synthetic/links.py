"""联建 links outside joint bodies (step 7): co-building, 以强带弱 pairings, dispatches of
cadres and experts, and finance."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

from graph_service.services.synthetic.calibration import HORIZON, MEMBERSHIP_END_RATE
from graph_service.services.synthetic.county import CountyBuilder, Village
from graph_service.services.synthetic.documents import day, round_money
from graph_service.services.synthetic.draws import gumbel, lognormal, pick, sample
from graph_service.services.synthetic.vocabulary import ACTIVITIES, PROGRAM_CREDIT

__all__ = ["co_builds", "dispatch", "finance", "pair_villages"]


def co_builds(county: CountyBuilder) -> None:
    """``CO_BUILDS``: 毗邻协作 between neighbouring villages, 社区共建, 村企共建."""
    out, u = county.out, county.u
    start = dt.date(2019, 1, 1).toordinal()
    for town in county.towns:
        vs = town.villages
        for a, b in itertools.pairwise(vs):
            if u() < 0.12:
                attrs = county.substance(meetings=4.0)
                attrs["linkage_model"] = "毗邻协作型"
                out.link("CO_BUILDS", a.org, b.org, attrs, day(county.founding(start)))
        rural = [v for v in vs if not v.community]
        for v in vs:
            if v.community and rural and u() < 0.5:
                other = pick(u, rural)
                attrs = county.substance(meetings=4.0)
                attrs["linkage_model"] = "社区共建型"
                out.link("CO_BUILDS", v.org, other.org, attrs, day(county.founding(start)))
    for firm in county.firms:
        if firm.town is not None and u() < 0.2:
            v = pick(u, firm.town.villages)
            attrs = county.substance(meetings=4.0)
            attrs["linkage_model"] = "村企共建型"
            source = firm.party_org or firm.id
            out.link("CO_BUILDS", source, v.org, attrs, day(county.founding(start)))


def pair_villages(county: CountyBuilder) -> None:
    """以强带弱: strong villages help weak ones, chosen by the latent preference."""
    u = county.u
    incomes = sorted(v.income for v in county.villages)
    threshold = incomes[int(len(incomes) * 0.8)]
    strong = [v for v in county.villages if v.income >= threshold and not v.weak]
    if not strong:
        return
    reference = max(threshold, 1.0)
    for w in county.villages:
        if not w.weak or u() >= 0.5:
            continue
        best: Village | None = None
        best_score = -math.inf
        for h in strong:
            if h.helped >= 2:
                continue
            score = 0.6 * math.log(max(h.income, 1.0) / reference) - 0.5 * h.helped
            if h.industry == w.industry:
                score += 1.0
            if h.town is w.town:
                score += 1.5
            score += 0.7 * gumbel(u)
            if score > best_score:
                best, best_score = h, score
        if best is None:
            break
        best.helped += 1
        attrs = county.substance(meetings=4.0)
        start = county.founding(dt.date(2019, 1, 1).toordinal())
        end = None
        if u() < MEMBERSHIP_END_RATE:
            end = day(start + 180 + int(u() * (HORIZON - start - 200)))
        county.out.link("PAIRS_WITH", best.id, w.id, attrs, day(start), end)


def dispatch(county: CountyBuilder, city_institutions: list[tuple[str, str]]) -> None:
    """``DISPATCHES`` of 第一书记 and 驻村干部 to weak villages, and of city experts."""
    u = county.u
    start = dt.date(2021, 1, 1).toordinal()
    for v in county.villages:
        if not v.weak:
            continue
        if u() < 0.5:
            sender = county.departments[0] if u() < 0.4 else pick(u, county.departments)
            first_secretary = u() < 0.6
            attrs: dict[str, Any] = {
                "role": "第一书记" if first_secretary else "驻村干部",
                "people": 1 if first_secretary else 2 + int(u() * 2),
            }
            if u() < 0.5:
                attrs["activities"] = sample(u, ACTIVITIES, 1 + int(u() * 2))
            began = county.founding(start)
            ended = None
            if u() < MEMBERSHIP_END_RATE:
                ended = day(min(began + 730, HORIZON))
            county.out.link("DISPATCHES", sender, v.id, attrs, day(began), ended)
        if city_institutions and u() < 0.06:
            inst, _ = pick(u, city_institutions)
            attrs = county.substance(meetings=4.0)
            attrs["role"] = "专家" if u() < 0.6 else "驻村干部"
            attrs["people"] = 1 + int(u() * 3)
            county.out.link("DISPATCHES", inst, v.id, attrs, day(county.founding(start)))


def finance(county: CountyBuilder) -> None:
    """``FINANCES``: bank loans to firms, cooperatives and a few villages."""
    u = county.u
    start = dt.date(2019, 1, 1).toordinal()
    borrowers = [(f.id, 3_000_000.0, 0.35) for f in county.firms]
    borrowers += [(c.id, 300_000.0, 0.15) for c in county.coops]
    borrowers += [(v.id, 500_000.0, 0.04) for v in county.villages]
    for borrower, median, p in borrowers:
        if u() >= p:
            continue
        bank = county.banks[0] if u() < 0.75 else pick(u, county.banks)
        attrs: dict[str, Any] = {"loan_yuan": round_money(lognormal(u, median, 0.9))}
        if u() < 0.4:
            attrs["program"] = PROGRAM_CREDIT
        if u() < 0.5:
            attrs["agreement_signed"] = True
        county.out.link("FINANCES", bank, borrower, attrs, day(county.founding(start)))
