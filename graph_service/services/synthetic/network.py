"""The generator's entry point: a scope's documents in order, county after county.

:func:`generate_network` yields the national preamble (industries, programs), then per city
its institutions and per county everything the steps of the model make (see the package
docstring); :func:`county_profile` tells which profile a county gets under a seed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from graph_service.domain import REGION_CODE_LENGTHS
from graph_service.models import NodeDoc
from graph_service.services.synthetic.calibration import PROFILE_CUMULATIVE, PROFILES
from graph_service.services.synthetic.county import CountyBuilder
from graph_service.services.synthetic.documents import Block, generator_source
from graph_service.services.synthetic.draws import lognormal, stream, weighted_index
from graph_service.services.synthetic.joint_bodies import kaiyuan, pingliang, pingyuan
from graph_service.services.synthetic.links import co_builds, dispatch, finance, pair_villages
from graph_service.services.synthetic.names import city_base, strip_suffix
from graph_service.services.synthetic.units import (
    enriched_villages,
    make_cooperatives,
    make_firms,
    make_hierarchy,
    make_institutions,
    make_villages,
    pick_industries,
)
from graph_service.services.synthetic.vocabulary import INDUSTRIES, PROGRAM_BAIQI, PROGRAM_CREDIT

__all__ = ["county_profile", "generate_network"]


def county_profile(seed: int, county_code: str) -> str:
    """The profile (one of :data:`PROFILES`) county ``county_code`` gets under ``seed``."""
    return PROFILES[weighted_index(stream(seed, county_code).random, PROFILE_CUMULATIVE)]


def generate_network(
    regions: Sequence[NodeDoc], villages: Sequence[NodeDoc], seed: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``("node", doc)`` and ``("link", doc)`` documents populating the given regions.

    ``regions`` must hold the province, city, county and town of every village (as
    :func:`graph_service.register.read_register` with a scope yields them); ``villages`` are
    the Village documents as stored. Villages are generated county by county in code order,
    each county from its own random stream, so the documents of a county do not depend on
    what else is in scope. Raises ``ValueError`` when a village's ancestor is missing.
    """
    source = generator_source(seed)["document"]
    by_code: dict[str, NodeDoc] = {}
    for region in regions:
        if region.get("label") == "Region" and region.get("region_code"):
            by_code[str(region["region_code"])] = region
    counties: defaultdict[str, list[NodeDoc]] = defaultdict(list)
    for village in villages:
        code = str(village.get("region_code") or "")
        if village.get("label") != "Village" or len(code) != 12:
            raise ValueError(f"not a register village: {village.get('id')!r}")
        for length in REGION_CODE_LENGTHS:
            if code[:length] not in by_code:
                raise ValueError(
                    f"region {code[:length]} (ancestor of village {code}) is not among the regions"
                )
        counties[code[:6]].append(village)
    if not counties:
        return
    yield from preamble(source).emit()
    city_code = ""
    city_institutions: list[tuple[str, str]] = []
    for county_code in sorted(counties):
        if county_code[:4] != city_code:
            city_code = county_code[:4]
            city_out, city_institutions = city_block(seed, source, by_code, city_code)
            yield from city_out.emit()
        builder = CountyBuilder(seed, source, by_code, county_code, counties[county_code])
        yield from county_block(builder, city_institutions).emit()


def preamble(source: str) -> Block:
    """The national industries and programs every generated network starts with."""
    out = Block(source)
    for ind in INDUSTRIES:
        out.node(f"gen:ind:{ind.slug}", "Industry", None, ind.name, None, aliases=ind.aliases)
    out.node(PROGRAM_BAIQI, "Program", "行动", "百企帮百村", None, aliases=("“百企帮百村”行动",))
    out.node(PROGRAM_CREDIT, "Program", "金融产品", "党建引领信用贷", None, aliases=("党建贷",))
    return out


def city_block(
    seed: int, source: str, by_code: dict[str, NodeDoc], city_code: str
) -> tuple[Block, list[tuple[str, str]]]:
    """City-level institutions that dispatch experts: (id, kind) pairs."""
    out = Block(source)
    u = stream(seed, "city", city_code).random
    base = city_base(by_code[city_code], by_code[city_code[:2]])
    region = f"region:{city_code}"
    found: list[tuple[str, str]] = []
    if u() < 0.55:
        inst = out.node(
            f"gen:inst:{city_code}-nky",
            "Institution",
            "科研院所",
            f"{base}农业科学研究院",
            city_code,
            {"staff": int(lognormal(u, 120, 0.5))},
            aliases=(f"{strip_suffix(base, ('市', '省', '地区', '盟', '自治州'))}农科院",),
        )
        found.append((inst, "科研院所"))
    if u() < 0.35:
        short = strip_suffix(base, ("市", "省", "地区", "盟", "自治州"))
        name = f"{short}农业职业技术学院" if u() < 0.5 else f"{short}职业技术学院"
        inst = out.node(
            f"gen:inst:{city_code}-gx",
            "Institution",
            "高校",
            name,
            city_code,
            {"staff": int(lognormal(u, 600, 0.4))},
        )
        found.append((inst, "高校"))
    for inst, _ in found:
        out.link("IN_REGION", inst, region)
    return out, found


def county_block(county: CountyBuilder, city_institutions: list[tuple[str, str]]) -> Block:
    """Run the steps of the model on ``county``, in the order its random stream is drawn."""
    u = county.u
    profile = PROFILES[weighted_index(u, PROFILE_CUMULATIVE)]
    county.profile = profile
    pick_industries(county)
    make_villages(county)
    make_hierarchy(county)
    make_institutions(county)
    make_firms(county, max(2, round(len(county.villages) * (0.03 + 0.02 * u()))))
    make_cooperatives(county)
    if profile == "pingyuan":
        pingyuan(county)
    elif profile == "pingliang":
        pingliang(county)
    else:
        kaiyuan(county, city_institutions)
    co_builds(county)
    pair_villages(county)
    dispatch(county, city_institutions)
    finance(county)
    enriched_villages(county)
    return county.out
