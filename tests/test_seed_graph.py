"""Facts from the five articles, checked on the seed graph in every backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph_service.schema import JOINT_BODY_KINDS
from graph_service.services.loading import seed_graph
from graph_service.services.seed import normalise_text
from graph_service.store.protocol import GraphStore, LinkQuery, NeighbourhoodQuery, NodeQuery

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed"


def test_seed_builds_without_problems() -> None:
    graph = seed_graph(SEED)
    assert graph.problems == []
    curated = [n for n in graph.nodes.values() if any(s["kind"] == "article" for s in n["sources"])]
    assert len(curated) >= 250  # several hundred curated nodes
    assert sum(1 for link in graph.links.values() if link["sources"][0]["kind"] == "article") >= 300


def test_every_quote_is_verbatim_in_its_document() -> None:
    graph = seed_graph(SEED)
    texts = {
        p.name: normalise_text(p.read_text(encoding="utf-8"))
        for p in (SEED / "documents").iterdir()
    }
    checked = 0
    for item in [*graph.nodes.values(), *graph.links.values()]:
        for source in item["sources"]:
            if source["kind"] == "article":
                assert source.get("quote"), item["id"]
                assert normalise_text(source["quote"]) in texts[source["document"]], item["id"]
                checked += 1
    assert checked > 500


def test_seed_register_names_resolved_with_article_spelling_as_alias() -> None:
    graph = seed_graph(SEED)
    wanggaopu = graph.nodes["region:371426105"]
    assert wanggaopu["name"] == "王杲铺镇"
    assert "王果铺镇" in wanggaopu["aliases"]
    linzhuang = graph.nodes["village:371426001268"]
    assert linzhuang["name"] == "林庄村"
    assert "许铺社区林庄村民委员会" in linzhuang["aliases"]


def test_seed_register_extract_is_reproducible(tmp_path: Path) -> None:
    """The committed extract is what the extract script makes from the package rows."""
    counties = (SEED / "register" / "counties.txt").read_text(encoding="utf-8")
    assert "371426" in counties
    villages = (SEED / "register" / "villages.csv").read_text(encoding="utf-8").splitlines()
    assert villages[0] == "code,name,streetCode,provinceCode,cityCode,areaCode"
    assert any(line.startswith("370302112206,") for line in villages)


pytestmark_anyio = pytest.mark.anyio


@pytest.mark.anyio
async def test_taitou_village_code(seeded: GraphStore) -> None:
    hits = await seeded.search("台头")
    assert hits[0].node["label"] == "Village"
    assert hits[0].node["region_code"] == "370302112206"
    assert hits[0].node["name"] == "台头村"


@pytest.mark.anyio
async def test_hongse_xigu_has_nine_members_with_quotes(seeded: GraphStore) -> None:
    (hit,) = [h for h in await seeded.search("红色硒谷") if h.node["label"] == "PartyOrganization"]
    assert hit.node["kind"] in JOINT_BODY_KINDS
    sub = await seeded.neighbourhood(
        NeighbourhoodQuery(hit.node["id"], link_types=["MEMBER_OF"], direction="in")
    )
    members = [n for n in sub.nodes if n["depth"] == 1]
    names = {n["name"] for n in members}
    assert len(members) == 9
    assert "久润合作社党支部" in names
    for village in ("韩庄", "大土屋", "韩圣", "龙四", "龙三", "龙二", "龙一", "台头"):
        assert any(name.startswith(village) for name in names), village
    for link in sub.links:
        assert any("红色硒谷" in (s.get("quote") or "") for s in link["sources"])


@pytest.mark.anyio
async def test_tianshangtian_links_yihai_kerry_and_ingredion(seeded: GraphStore) -> None:
    (body,) = [h.node for h in await seeded.search("甜上甜党建联合体")]
    sub = await seeded.neighbourhood(NeighbourhoodQuery(body["id"], link_types=["SUPPLIES"]))
    names = {n["name"] for n in sub.nodes}
    assert {"益海嘉里", "宜瑞安"} <= names


@pytest.mark.anyio
async def test_pingyuan_figures_are_stated_apart_from_counts(seeded: GraphStore) -> None:
    county = (await seeded.get_nodes(["region:371426"]))["region:371426"]
    figures = {f["metric"]: f["value"] for f in county["figures"]}
    assert figures["joint_bodies"] == 62
    assert figures["villages_covered"] == 424
    assert figures["village_coverage_rate"] == 100
    report = await seeded.coverage("371426")
    # The register lists 436 villages in 平原县; the graph knows the few named bodies only.
    assert report.total.villages == 436
    assert 0 < report.total.covered < report.total.villages
    assert {c.name for c in report.children} >= {"恩城镇", "王杲铺镇", "龙门街道"}


@pytest.mark.anyio
async def test_seed_counts_by_label(seeded: GraphStore) -> None:
    stats = await seeded.stats()
    assert stats.nodes_by_label["Village"] >= 5000
    assert stats.nodes_by_label["PartyOrganization"] >= 50
    joint = await seeded.list_nodes(NodeQuery(kinds=list(JOINT_BODY_KINDS)), None, 1000)
    assert len(joint.items) >= 20
    pairs = await seeded.list_links(LinkQuery(types=["PAIRS_WITH"]), None, 1000)
    assert len(pairs.items) >= 5


def test_curated_files_name_their_documents() -> None:
    for path in (SEED / "curated").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert (SEED / "documents" / data["document"]["id"]).exists()
        assert data["document"]["title"]


@pytest.mark.parametrize(
    ("register_name", "short"),
    [
        ("台头村委会", "台头村"),
        ("许铺社区林庄村民委员会", "林庄村"),
        ("产芝湖社区村村民委员会", "产芝湖社区村"),
        ("银闸社区居委会", "银闸社区"),
        ("社区居委会", "社区"),
        ("英山村村民委员会", "英山村"),
    ],
)
def test_short_village_names(register_name: str, short: str) -> None:
    from graph_service.register import short_village_name

    assert short_village_name(register_name) == short
