"""The synthetic network generator: valid documents, determinism, calibration to the articles."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from graph_service.models import (
    LINK_ADAPTER,
    NODE_ADAPTER,
    NodeDoc,
    derive_link_id,
    link_doc,
    node_doc,
)
from graph_service.register import read_register, register_graph
from graph_service.schema import JOINT_BODY_KINDS, link_allows
from graph_service.services.synthetic.calibration import (
    GENERATOR_VERSION,
    KAIYUAN_BODIES_PER_VILLAGE,
    MEDIAN_COLLECTIVE_INCOME_YUAN,
    PINGLIANG_BAIQI_PER_VILLAGE,
    PINGLIANG_CHAINS_PER_VILLAGE,
    PINGLIANG_LIANJIAN_PER_VILLAGE,
    PINGYUAN_BODIES_PER_VILLAGE,
    PROFILES,
)
from graph_service.services.synthetic.documents import generator_source
from graph_service.services.synthetic.network import county_profile, generate_network

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "seed" / "register"
PINGYUAN, ZICHUAN, KONGTONG, JINGCHUAN, KAIYUAN = "371426", "370302", "620802", "620821", "211282"
#: Seeds the calibration checks aggregate over (every seed county under each).
CALIBRATION_SEEDS = (0, 1, 2)
BAIQI = "gen:prog:baiqi-bangbaicun"

Doc = dict[str, Any]
Item = tuple[str, Doc]


@cache
def register_docs(scope: tuple[str, ...] | None) -> tuple[list[NodeDoc], list[NodeDoc]]:
    """(regions, villages) of the committed register extract for ``scope``."""
    rows = read_register(REGISTER, list(scope) if scope is not None else None)
    nodes = [doc for kind, doc in register_graph(rows) if kind == "node"]
    return (
        [n for n in nodes if n["label"] == "Region"],
        [n for n in nodes if n["label"] == "Village"],
    )


def generate(scope: tuple[str, ...] | None, seed: int) -> list[Item]:
    regions, villages = register_docs(scope)
    return list(generate_network(regions, villages, seed))


@cache
def generated(scope: tuple[str, ...] | None, seed: int) -> tuple[Item, ...]:
    return tuple(generate(scope, seed))


def canonical(item: Item) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True)


def digest(items: Iterable[Item]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(canonical(item).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class County:
    """What one county of a generated network looks like, counted by hand-checkable rules."""

    code: str
    profile: str
    villages: list[Doc] = field(default_factory=list)
    bodies: dict[str, Doc] = field(default_factory=dict)
    #: body id -> its MEMBER_OF links
    members: defaultdict[str, list[Doc]] = field(default_factory=lambda: defaultdict(list))
    covered: set[str] = field(default_factory=set)


def counties_of(items: Sequence[Item], seed: int) -> dict[str, County]:
    nodes = {doc["id"]: doc for kind, doc in items if kind == "node"}
    org_of: dict[str, str] = {}
    counties: dict[str, County] = {}
    for kind, doc in items:
        if kind == "node" and doc["label"] == "Village":
            code = doc["region_code"][:6]
            county = counties.setdefault(code, County(code, county_profile(seed, code)))
            county.villages.append(doc)
        elif kind == "link" and doc["type"] == "ORGANIZATION_OF":
            org_of[doc["source"]] = doc["target"]
    for doc in nodes.values():
        if doc["label"] == "PartyOrganization" and doc["kind"] in JOINT_BODY_KINDS:
            counties[doc["region_code"][:6]].bodies[doc["id"]] = doc
    for kind, doc in items:
        if kind == "link" and doc["type"] == "MEMBER_OF" and doc["target"] in nodes:
            body = nodes[doc["target"]]
            if body["kind"] not in JOINT_BODY_KINDS:
                continue
            county = counties[body["region_code"][:6]]
            county.members[body["id"]].append(doc)
            actor = org_of.get(doc["source"], doc["source"])
            if actor is not None and actor.startswith("village:"):
                county.covered.add(actor)
    return counties


@cache
def calibration_counties() -> list[County]:
    out: list[County] = []
    for seed in CALIBRATION_SEEDS:
        out.extend(counties_of(generated(None, seed), seed).values())
    return out


def of_profile(profile: str) -> list[County]:
    counties = [c for c in calibration_counties() if c.profile == profile]
    assert len(counties) >= 5, profile  # enough counties for the rates below to be stable
    return counties


def is_village_actor(node_id: str) -> bool:
    """A village or its party organization (``gen:org:`` + the 12-digit village code)."""
    code = node_id.removeprefix("gen:org:")
    return node_id.startswith("village:") or (
        code != node_id and len(code) == 12 and code.isdigit()
    )


def village_members(county: County, body_id: str) -> int:
    return sum(1 for link in county.members[body_id] if is_village_actor(link["source"]))


# ---------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------


def test_every_document_validates_and_is_canonical() -> None:
    items = generated((PINGYUAN, KONGTONG, KAIYUAN), 7)
    assert len(items) > 5000
    for kind, doc in items:
        if kind == "node":
            assert node_doc(NODE_ADAPTER.validate_python(doc)) == doc, doc["id"]
        else:
            assert kind == "link"
            assert link_doc(LINK_ADAPTER.validate_python(doc)) == doc, doc["id"]


@pytest.mark.parametrize("seed", [3, 11])
def test_links_resolve_in_order_and_follow_the_registry(seed: int) -> None:
    regions, villages = register_docs(None)
    labels = {doc["id"]: doc["label"] for doc in [*regions, *villages]}
    link_ids: set[str] = set()
    generated_ids: set[str] = set()
    for kind, doc in generated(None, seed):
        if kind == "node":
            assert doc["id"] not in generated_ids, doc["id"]
            generated_ids.add(doc["id"])
            labels[doc["id"]] = doc["label"]
            continue
        # Every end is an input node or a node yielded earlier in the stream.
        assert doc["source"] in labels, doc
        assert doc["target"] in labels, doc
        assert link_allows(doc["type"], labels[doc["source"]], labels[doc["target"]]), doc
        assert doc["id"] not in link_ids, doc
        link_ids.add(doc["id"])
        assert doc["id"] == "gen:" + derive_link_id(doc["type"], doc["source"], doc["target"])


def test_generated_ids_sources_and_enriched_village_copies() -> None:
    regions, villages = register_docs((PINGYUAN, KAIYUAN))
    inputs = {doc["id"]: doc for doc in [*regions, *villages]}
    source = {"kind": "generated", "document": f"generator:v{GENERATOR_VERSION} seed=5"}
    assert generator_source(5) == source
    copies = 0
    for kind, doc in generate((PINGYUAN, KAIYUAN), 5):
        if kind == "node" and not doc["id"].startswith("gen:"):
            # The one exception: an enriched copy of an input village.
            original = inputs[doc["id"]]
            assert original["label"] == "Village"
            for key in ("id", "label", "kind", "name", "aliases", "region_code"):
                assert doc[key] == original[key]
            assert doc["sources"] == [*original["sources"], source]
            attrs = doc["attributes"]
            assert attrs["weak"] == (attrs["collective_income_yuan"] < 100_000)
            assert isinstance(attrs["key_village"], bool)
            assert attrs["population"] > attrs["households"] > 0
            copies += 1
        else:
            assert doc["sources"] == [source]
            if kind == "node":
                assert doc["id"].startswith("gen:")
                assert not doc["id"].startswith(("gen:region:", "gen:village:"))
            else:
                assert doc["id"].startswith("gen:")
    assert copies == len(villages)


def test_enriched_copy_keeps_curated_facts() -> None:
    regions, villages = register_docs((PINGYUAN,))
    curated = dict(villages[0])
    curated["aliases"] = [*curated["aliases"], "文章里的名字"]
    curated["attributes"] = {"collective_income_yuan": 50_000.0, "population": 812}
    article = {"kind": "article", "document": "000_ebbe741d95becf05.txt", "quote": "…"}
    curated["sources"] = [*curated["sources"], article]
    items = list(generate_network(regions, [curated, *villages[1:]], 1))
    copy = next(d for k, d in items if k == "node" and d["id"] == curated["id"])
    assert copy["aliases"] == curated["aliases"]
    assert copy["attributes"]["collective_income_yuan"] == 50_000.0
    assert copy["attributes"]["population"] == 812
    assert copy["attributes"]["weak"] is True
    assert copy["sources"][:2] == [*villages[0]["sources"], article]
    assert copy["sources"][-1]["kind"] == "generated"
    assert curated["attributes"] == {"collective_income_yuan": 50_000.0, "population": 812}


def test_never_emits_register_entities_or_industries_outside_gen() -> None:
    for kind, doc in generated((PINGYUAN,), 2):
        if kind == "node" and doc["label"] in ("Region", "Industry", "Program"):
            assert doc["label"] != "Region"
            assert doc["id"].startswith(("gen:ind:", "gen:prog:"))


def test_names_are_unique_within_a_county() -> None:
    names: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for kind, doc in generated(None, 4):
        code = doc.get("region_code") or ""
        if kind == "node" and doc["id"].startswith("gen:") and len(code) >= 6:
            names[doc["region_code"][:6]][doc["name"]] += 1
    assert len(names) == 20
    for code, counter in names.items():
        duplicates = [name for name, n in counter.items() if n > 1]
        assert duplicates == [], code


def test_every_village_has_its_party_organization_under_the_town_committee() -> None:
    items = generated((PINGYUAN,), 8)
    _, villages = register_docs((PINGYUAN,))
    org_of = {
        d["target"]: d["source"] for k, d in items if k == "link" and d["type"] == "ORGANIZATION_OF"
    }
    superior = {
        d["source"]: d["target"] for k, d in items if k == "link" and d["type"] == "SUBORDINATE_TO"
    }
    kinds = {d["id"]: d["kind"] for k, d in items if k == "node"}
    for village in villages:
        org = org_of[village["id"]]
        assert kinds[org] in ("党支部", "党总支", "党委")
        town = village["region_code"][:9]
        assert superior[org] == f"gen:org:{town}"
        assert org_of[f"region:{town}"] == f"gen:org:{town}"
        assert superior[f"gen:org:{town}"] == f"gen:org:{PINGYUAN}"
    assert org_of[f"region:{PINGYUAN}"] == f"gen:org:{PINGYUAN}"


def test_missing_ancestor_region_is_an_error() -> None:
    regions, villages = register_docs((PINGYUAN,))
    towns_dropped = [r for r in regions if r["kind"] != "乡镇"]
    with pytest.raises(ValueError, match="ancestor"):
        list(generate_network(towns_dropped, villages, 1))
    assert list(generate_network(regions, [], 1)) == []


# ---------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------


def test_same_seed_same_output_and_other_seed_differs() -> None:
    first = digest(generate((PINGYUAN, KONGTONG), 42))
    assert digest(generate((PINGYUAN, KONGTONG), 42)) == first
    assert digest(generate((PINGYUAN, KONGTONG), 43)) != first


@pytest.mark.parametrize(
    ("a", "b"),
    [(ZICHUAN, PINGYUAN), (KONGTONG, JINGCHUAN), (KAIYUAN, PINGYUAN)],
    ids=["other-city", "same-city", "other-province"],
)
def test_a_county_alone_is_its_part_of_a_larger_scope(a: str, b: str) -> None:
    alone_a = [canonical(i) for i in generate((a,), 9)]
    alone_b = [canonical(i) for i in generate((b,), 9)]
    both = [canonical(i) for i in generate((a, b), 9)]
    assert len(set(both)) == len(both)
    assert set(both) == set(alone_a) | set(alone_b)
    in_a = set(alone_a)
    assert [c for c in both if c in in_a] == alone_a


def test_output_does_not_depend_on_hash_seed_or_input_order() -> None:
    regions, villages = register_docs((PINGYUAN,))
    expected = digest(generate_network(regions, villages, 21))
    assert digest(generate_network(regions[::-1], villages[::-1], 21)) == expected
    code = (
        "import hashlib, json\n"
        "from pathlib import Path\n"
        "from graph_service.register import read_register, register_graph\n"
        "from graph_service.services.synthetic.network import generate_network\n"
        f"rows = read_register(Path({str(REGISTER)!r}), [{PINGYUAN!r}])\n"
        "nodes = [d for k, d in register_graph(rows) if k == 'node']\n"
        "regions = [n for n in nodes if n['label'] == 'Region']\n"
        "villages = [n for n in nodes if n['label'] == 'Village']\n"
        "h = hashlib.sha256()\n"
        "for item in generate_network(regions, villages, 21):\n"
        "    h.update(json.dumps(item, ensure_ascii=False, sort_keys=True).encode())\n"
        "    h.update(b'\\n')\n"
        "print(h.hexdigest())\n"
    )
    for hash_seed in ("1", "2024"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == expected


# ---------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------


def test_profiles_follow_their_weights() -> None:
    counts = Counter(
        county_profile(seed, f"{code:06d}") for seed in range(3) for code in range(1000)
    )
    assert set(counts) == set(PROFILES)
    assert 0.30 < counts["pingyuan"] / 3000 < 0.40
    assert 0.40 < counts["pingliang"] / 3000 < 0.50
    assert 0.16 < counts["kaiyuan"] / 3000 < 0.24


def test_village_income_is_calibrated_to_the_pingliang_average() -> None:
    incomes = [
        v["attributes"]["collective_income_yuan"]
        for county in calibration_counties()
        for v in county.villages
    ]
    median = statistics.median(incomes)
    assert abs(median - MEDIAN_COLLECTIVE_INCOME_YUAN) / MEDIAN_COLLECTIVE_INCOME_YUAN < 0.30
    assert max(incomes) > 5 * median  # a long tail
    weak = sum(1 for c in calibration_counties() for v in c.villages if v["attributes"]["weak"])
    assert 0.10 <= weak / len(incomes) <= 0.25


def test_pingyuan_profile_covers_every_village_with_62_per_424() -> None:
    counties = of_profile("pingyuan")
    villages = sum(len(c.villages) for c in counties)
    bodies = sum(len(c.bodies) for c in counties)
    assert abs(bodies / villages - PINGYUAN_BODIES_PER_VILLAGE) < 0.2 * PINGYUAN_BODIES_PER_VILLAGE
    for county in counties:
        assert {b["kind"] for b in county.bodies.values()} == {"党建联合体"}
        assert len(county.covered) / len(county.villages) >= 0.95, county.code
    brand = sum(1 for c in counties for b in c.bodies.values() if b["attributes"]["brand"])
    assert 0.3 < brand / bodies < 0.45  # 24 of 62
    key = sum(1 for c in counties for v in c.villages if v["attributes"]["key_village"])
    assert 0.35 < key / villages < 0.60  # 197 of 424


def test_pingyuan_county_itself_gets_about_62_bodies() -> None:
    seed = next(s for s in range(100) if county_profile(s, PINGYUAN) == "pingyuan")
    county = counties_of(generated((PINGYUAN,), seed), seed)[PINGYUAN]
    assert len(county.villages) == 436
    assert 50 <= len(county.bodies) <= 75
    assert len(county.covered) >= 0.95 * 436


def test_pingliang_profile_has_partial_coverage_chains_and_pairings() -> None:
    counties = of_profile("pingliang")
    villages = sum(len(c.villages) for c in counties)
    by_kind = Counter(b["kind"] for c in counties for b in c.bodies.values())
    lianjian = by_kind["联合党委"] + by_kind["联合党总支"] + by_kind["联合党支部"]
    rate = lianjian / villages
    assert abs(rate - PINGLIANG_LIANJIAN_PER_VILLAGE) < 0.3 * PINGLIANG_LIANJIAN_PER_VILLAGE
    chain_rate = by_kind["产业链党委"] / villages
    assert abs(chain_rate - PINGLIANG_CHAINS_PER_VILLAGE) < 0.3 * PINGLIANG_CHAINS_PER_VILLAGE
    covered = sum(len(c.covered) for c in counties)
    assert 0.05 < covered / villages < 0.40  # 197 of 1,559 village organizations
    firms_per_chain = [
        sum(1 for link in c.members[body_id] if link["source"].startswith("gen:ent:"))
        for c in counties
        for body_id, body in c.bodies.items()
        if body["kind"] == "产业链党委"
    ]
    assert 12 <= statistics.mean(firms_per_chain) <= 22  # 926 firms / 54 chains


def test_baiqi_bangbaicun_pairs_enterprises_with_weak_villages() -> None:
    pairs = 0
    villages = 0
    for seed in CALIBRATION_SEEDS:
        items = generated(None, seed)
        weak = {d["id"] for k, d in items if k == "node" and d.get("attributes", {}).get("weak")}
        helpers: Counter[str] = Counter()
        for kind, doc in items:
            program = doc.get("attributes", {}).get("program")
            if kind == "link" and doc["type"] == "PAIRS_WITH" and program == BAIQI:
                assert doc["source"].startswith("gen:ent:")
                assert doc["target"] in weak
                helpers[doc["source"]] += 1
                pairs += 1
        assert all(n == 1 for n in helpers.values())  # 167 firms help 167 villages
        villages += sum(
            len(c.villages) for c in counties_of(items, seed).values() if c.profile == "pingliang"
        )
    assert abs(pairs / villages - PINGLIANG_BAIQI_PER_VILLAGE) < 0.3 * PINGLIANG_BAIQI_PER_VILLAGE


def test_kaiyuan_profile_has_few_large_industry_bodies() -> None:
    counties = of_profile("kaiyuan")
    villages = sum(len(c.villages) for c in counties)
    bodies = sum(len(c.bodies) for c in counties)
    assert {b["kind"] for c in counties for b in c.bodies.values()} == {"产业联合党委"}
    assert 0.5 * KAIYUAN_BODIES_PER_VILLAGE < bodies / villages < 2 * KAIYUAN_BODIES_PER_VILLAGE
    for county in counties:
        assert all(b["attributes"]["meetings_per_year"] == 12 for b in county.bodies.values())
        sizes = [village_members(county, body_id) for body_id in county.bodies]
        assert statistics.mean(sizes) >= 20


def test_every_joint_body_has_exactly_one_lead() -> None:
    for county in calibration_counties():
        for body_id in county.bodies:
            roles = Counter(link["attributes"]["role"] for link in county.members[body_id])
            assert roles["lead"] == 1, body_id


def test_some_memberships_end_so_as_of_queries_differ() -> None:
    links = [link for c in calibration_counties() for ls in c.members.values() for link in ls]
    ended = [link for link in links if "valid_to" in link]
    assert 0.03 < len(ended) / len(links) < 0.15
    assert all(link["valid_from"] <= link["valid_to"] <= "2024-06-30" for link in ended)
    assert all(link["valid_from"] >= "2018-01-01" for link in links)
    # Moves keep 平原-profile counties covered: a village whose membership ended there has
    # another, current one.
    for county in of_profile("pingyuan"):
        own = [link for ls in county.members.values() for link in ls]
        left = {ln["source"] for ln in own if "valid_to" in ln and is_village_actor(ln["source"])}
        current = {ln["source"] for ln in own if "valid_to" not in ln}
        assert left <= current, county.code


def test_some_pingyuan_bodies_break_each_rule() -> None:
    bodies = 0
    breaches: Counter[str] = Counter()
    broken = 0
    for county in of_profile("pingyuan"):
        for body_id, body in county.bodies.items():
            bodies += 1
            links = county.members[body_id]
            rules = {
                "no_enterprise": not any(ln["source"].startswith("gen:ent:") for ln in links),
                "meetings": body["attributes"]["meetings_per_year"] < 12,
                "single_village": village_members(county, body_id) < 2,
            }
            breaches.update(rule for rule, broke in rules.items() if broke)
            broken += any(rules.values())
    assert all(breaches[rule] > 0 for rule in ("no_enterprise", "meetings", "single_village"))
    assert 0.05 < broken / bodies < 0.25


def test_strong_villages_help_weak_ones() -> None:
    for seed in CALIBRATION_SEEDS:
        items = generated(None, seed)
        villages = {d["id"]: d for k, d in items if k == "node" and d["label"] == "Village"}
        # The helpers' pool: non-weak villages of the county's top income quintile.
        by_county: defaultdict[str, list[Doc]] = defaultdict(list)
        for village in villages.values():
            by_county[village["region_code"][:6]].append(village)
        pool: dict[str, list[Doc]] = {}
        for code, members in by_county.items():
            incomes = sorted(v["attributes"]["collective_income_yuan"] for v in members)
            threshold = incomes[int(len(incomes) * 0.8)]
            pool[code] = [
                v
                for v in members
                if v["attributes"]["collective_income_yuan"] >= threshold
                and not v["attributes"]["weak"]
            ]
        helped: Counter[str] = Counter()
        same_town = 0.0
        chance = 0.0
        pairs = 0
        for kind, doc in items:
            if kind == "link" and doc["type"] == "PAIRS_WITH" and doc["source"] in villages:
                helper, weak = villages[doc["source"]], villages[doc["target"]]
                assert weak["attributes"]["weak"]
                assert helper in pool[weak["region_code"][:6]]
                assert (
                    helper["attributes"]["collective_income_yuan"]
                    > weak["attributes"]["collective_income_yuan"]
                )
                helped[helper["id"]] += 1
                town = weak["region_code"][:9]
                same_town += helper["region_code"][:9] == town
                candidates = pool[weak["region_code"][:6]]
                chance += sum(v["region_code"][:9] == town for v in candidates) / len(candidates)
                pairs += 1
        assert pairs > 50
        assert max(helped.values()) <= 2
        # The latent preference favours the same town well above a random choice of helper.
        assert same_town > 2 * chance


def test_all_seed_register_counties_generate() -> None:
    """Throughput smoke: the whole committed extract (20 counties), no timing assertion."""
    items = generate(None, 1)
    kinds = Counter(kind for kind, _ in items)
    assert kinds["node"] > 15_000
    assert kinds["link"] > 40_000
