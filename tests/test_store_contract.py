"""The store contract, run unchanged on every backend (see ``conftest.backend``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import networkx as nx
import pytest

from graph_service.errors import ConflictError, InvalidInputError, NotFoundError
from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, link_doc, node_doc
from graph_service.settings import Settings
from graph_service.store.protocol import (
    GraphStore,
    LinkQuery,
    NeighbourhoodQuery,
    NodeQuery,
    PathQuery,
    Scope,
    WriteBatch,
)
from tests.conftest import _NEO4J_STATE, open_store

pytestmark = pytest.mark.anyio


def node(
    id_: str, label: str = "Enterprise", name: str | None = None, **extra: Any
) -> dict[str, Any]:
    raw = {"id": id_, "label": label, "name": name or id_, **extra}
    if label == "PartyOrganization":
        raw.setdefault("kind", "党支部")
    return node_doc(NODE_ADAPTER.validate_python(raw))


def village(code: str, name: str, **extra: Any) -> dict[str, Any]:
    return node(f"village:{code}", "Village", name, region_code=code, kind="行政村", **extra)


def region(code: str, name: str, kind: str) -> dict[str, Any]:
    return node(f"region:{code}", "Region", name, region_code=code, kind=kind)


def link(type_: str, source: str, target: str, **extra: Any) -> dict[str, Any]:
    return link_doc(
        LINK_ADAPTER.validate_python({"type": type_, "source": source, "target": target, **extra})
    )


async def write(store: GraphStore, nodes: Any = (), links: Any = (), **kw: Any) -> Any:
    return await store.write(WriteBatch(nodes=list(nodes), links=list(links), **kw))


# ---------------------------------------------------------------------- writes


async def test_upsert_creates_then_updates(store: GraphStore) -> None:
    first = await write(store, [node("ent:a", name="甲公司")])
    assert (first.nodes_created, first.nodes_updated) == (1, 0)
    second = await write(store, [node("ent:a", name="甲集团", aliases=["甲"])])
    assert (second.nodes_created, second.nodes_updated) == (0, 1)
    got = (await store.get_nodes(["ent:a"]))["ent:a"]
    assert got["name"] == "甲集团"
    assert got["aliases"] == ["甲"]
    assert second.version > first.version


async def test_batch_is_atomic_when_a_link_end_is_missing(store: GraphStore) -> None:
    await write(store, [node("ent:keep")])
    with pytest.raises(NotFoundError) as err:
        await write(
            store,
            [node("ent:new1"), node("ent:new2")],
            [link("SUPPLIES", "ent:new1", "ent:new2"), link("SUPPLIES", "ent:new1", "ent:ghost")],
        )
    assert err.value.field == "links.1.target"
    assert await store.get_nodes(["ent:new1", "ent:new2"]) == {}
    assert set(await store.get_nodes(["ent:keep"])) == {"ent:keep"}
    assert (await store.stats()).links_by_type == {}


async def test_link_rules_from_the_registry(store: GraphStore) -> None:
    await write(store, [node("ent:a"), village("370302112206", "台头村")])
    with pytest.raises(InvalidInputError) as err:
        await write(store, links=[link("IN_REGION", "village:370302112206", "ent:a")])
    assert err.value.field == "links.0.type"
    # Symmetric types accept either direction.
    org = node("org:a", "PartyOrganization")
    await write(store, [org], [link("CO_BUILDS", "village:370302112206", "org:a")])


async def test_label_is_fixed_for_life(store: GraphStore) -> None:
    await write(store, [node("x:1", "Enterprise")])
    with pytest.raises(ConflictError) as err:
        await write(store, [node("x:1", "Institution")])
    assert err.value.field == "nodes.0.label"
    assert (await store.get_nodes(["x:1"]))["x:1"]["label"] == "Enterprise"


async def test_link_keeps_its_ends(store: GraphStore) -> None:
    await write(store, [node("ent:a"), node("ent:b"), node("ent:c")])
    first = link("SUPPLIES", "ent:a", "ent:b", id="supply:1")
    await write(store, links=[first])
    with pytest.raises(ConflictError):
        await write(store, links=[link("SUPPLIES", "ent:a", "ent:c", id="supply:1")])


async def test_duplicate_ids_in_one_batch_are_rejected(store: GraphStore) -> None:
    with pytest.raises(InvalidInputError) as err:
        await write(store, [node("ent:a"), node("ent:a")])
    assert err.value.field == "nodes.1.id"


async def test_delete_node_needs_detach_when_linked(store: GraphStore) -> None:
    await write(store, [node("ent:a"), node("ent:b")], [link("SUPPLIES", "ent:a", "ent:b")])
    with pytest.raises(ConflictError) as err:
        await write(store, delete_nodes=["ent:a"])
    assert err.value.details == {"links": 1}
    result = await write(store, delete_nodes=["ent:a"], detach=True)
    assert (result.nodes_deleted, result.links_deleted) == (1, 1)
    assert await store.get_nodes(["ent:a"]) == {}
    assert await store.count_links("ent:b") == 0


async def test_delete_missing_is_not_found(store: GraphStore) -> None:
    with pytest.raises(NotFoundError):
        await write(store, delete_nodes=["nope"])
    with pytest.raises(NotFoundError):
        await write(store, delete_links=["nope"])


async def test_delete_link(store: GraphStore) -> None:
    supply = link("SUPPLIES", "ent:a", "ent:b")
    await write(store, [node("ent:a"), node("ent:b")], [supply])
    result = await write(store, delete_links=[supply["id"]])
    assert result.links_deleted == 1
    assert await store.get_links([supply["id"]]) == {}


async def test_documents_round_trip(store: GraphStore) -> None:
    doc = node(
        "org:a",
        "PartyOrganization",
        "红色硒谷党建联盟",
        kind="党建联盟",
        aliases=["红色硒谷"],
        region_code="370302112",
        valid_from="2020-04-28",
        attributes={"meetings_per_year": 4, "charter_signed": True, "resources": ["富硒土壤"]},
        figures=[{"metric": "members", "label": "成员数", "value": 9, "unit": "个"}],
        sources=[{"kind": "article", "document": "003.txt", "quote": "成立了…党建联盟"}],
    )
    await write(store, [doc])
    assert (await store.get_nodes(["org:a"]))["org:a"] == doc
    page = await store.list_nodes(NodeQuery(labels=["PartyOrganization"]), None, 10)
    assert page.items == [doc]


# ---------------------------------------------------------------------- lists


async def test_list_filters_and_cursor_pagination(store: GraphStore) -> None:
    villages = [village(f"3703021122{i:02d}", f"村{i}") for i in range(1, 24)]
    await write(store, [*villages, region("370302112", "龙泉镇", "乡镇"), node("ent:x")])
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_nodes(NodeQuery(labels=["Village"]), cursor, 5)
        seen += [n["id"] for n in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(v["id"] for v in villages)
    under = await store.list_nodes(NodeQuery(region_code="370302112"), None, 100)
    assert len(under.items) == 24  # 23 villages and the town itself
    by_kind = await store.list_nodes(NodeQuery(kinds=["乡镇"]), None, 100)
    assert [n["id"] for n in by_kind.items] == ["region:370302112"]
    assert await store.count_nodes(NodeQuery(region_code="370302112")) == {
        "Village": 23,
        "Region": 1,
    }


async def test_list_links_filters(store: GraphStore) -> None:
    a, b, c = node("ent:a"), node("ent:b"), node("ent:c")
    await write(
        store,
        [a, b, c],
        [
            link("SUPPLIES", "ent:a", "ent:b"),
            link("FINANCES", "ent:c", "ent:a"),
            link("SUPPLIES", "ent:b", "ent:c"),
        ],
    )
    assert len((await store.list_links(LinkQuery(types=["SUPPLIES"]), None, 10)).items) == 2
    assert len((await store.list_links(LinkQuery(node="ent:a"), None, 10)).items) == 2
    assert len((await store.list_links(LinkQuery(source="ent:b"), None, 10)).items) == 1
    assert len((await store.list_links(LinkQuery(target="ent:a"), None, 10)).items) == 1


async def test_malformed_cursor(store: GraphStore) -> None:
    with pytest.raises(InvalidInputError) as err:
        await store.list_nodes(NodeQuery(), "%%%not-a-cursor", 10)
    assert err.value.field == "cursor"


# ---------------------------------------------------------------------- dates


async def test_as_of_filters_every_read(store: GraphStore) -> None:
    await write(
        store,
        [node("ent:a"), node("ent:b"), node("ent:old", valid_to="2019-12-31")],
        [
            link("SUPPLIES", "ent:a", "ent:b", valid_from="2021-01-01", valid_to="2022-12-31"),
            link("SUPPLIES", "ent:a", "ent:old"),
        ],
    )
    before, during, after = dt.date(2020, 6, 1), dt.date(2022, 12, 31), dt.date(2023, 1, 1)
    assert set(await store.get_nodes(["ent:old"], as_of=dt.date(2019, 12, 31))) == {"ent:old"}
    assert await store.get_nodes(["ent:old"], as_of=before) == {}
    for day, expected in ((before, set()), (during, {"ent:b"}), (after, set())):
        sub = await store.neighbourhood(NeighbourhoodQuery("ent:a", as_of=day))
        assert {n["id"] for n in sub.nodes} - {"ent:a"} == expected
    assert len((await store.list_links(LinkQuery(as_of=during), None, 10)).items) == 2
    assert len((await store.list_links(LinkQuery(as_of=after), None, 10)).items) == 1
    assert len((await store.list_nodes(NodeQuery(as_of=after), None, 10)).items) == 2
    assert [h.node["id"] for h in await store.search("ent:old", as_of=after)] == []


# ---------------------------------------------------------------------- search


async def test_search_ranks_exact_prefix_substring(store: GraphStore) -> None:
    await write(
        store,
        [
            village("370302112206", "台头村", aliases=["台头村委会"]),
            village("370302104223", "台头崖村"),
            node("org:t", "PartyOrganization", "龙泉镇台头村党支部"),
            node("ent:x", name="无关公司"),
        ],
    )
    hits = await store.search("台头村")
    assert [(h.node["id"], h.match) for h in hits] == [
        ("village:370302112206", "exact"),
        ("org:t", "substring"),
    ]
    hits = await store.search("台头")
    assert [h.match for h in hits] == ["prefix", "prefix", "substring"]
    assert hits[0].node["id"] == "village:370302112206"  # shorter name ranks first
    alias = await store.search("村委会")
    assert alias[0].matched == "台头村委会"
    assert await store.search("台头", labels=["PartyOrganization"], limit=5) == [hits[2]]
    assert len(await store.search("台头", limit=1)) == 1
    assert await store.search("不存在的名字") == []


async def _taitou(store: GraphStore) -> None:
    await write(
        store,
        [
            region("370302112", "龙泉镇", "乡镇"),
            village("370302112206", "台头村", aliases=["台头村委会"]),
            node("org:t", "PartyOrganization", "台头村党支部", region_code="370302112206"),
            node("ent:hk", name="臺灣鳳梨公司"),
            node("ent:fw", name="ＡＢＣ合作社"),
            node("ent:zw", name="西\u200b河\ufeff村"),
        ],
    )


async def test_search_finds_a_node_by_its_division_code_and_its_id(store: GraphStore) -> None:
    await _taitou(store)
    hits = await store.search("370302112206")
    # The village whose own code it is; not the branch that merely sits there.
    assert [(h.node["id"], h.match, h.matched) for h in hits] == [
        ("village:370302112206", "exact", "370302112206")
    ]
    assert [h.node["id"] for h in await store.search("370302112")] == ["region:370302112"]
    hits = await store.search(" village:370302112206 ")
    assert [(h.node["id"], h.match, h.matched) for h in hits] == [
        ("village:370302112206", "exact", "village:370302112206")
    ]
    assert hits[0].score == (await store.search("台头村"))[0].score
    assert [h.node["id"] for h in await store.search("ORG:T")] == ["org:t"]
    assert await store.search("370302112206", labels=["Region"]) == []
    assert await store.search("370302999999") == []


async def test_search_folds_traditional_width_and_invisible_characters(
    store: GraphStore,
) -> None:
    await _taitou(store)

    async def found(text: str) -> list[tuple[str, str]]:
        return [(h.node["id"], h.match) for h in await store.search(text)]

    # Traditional query, simplified name; and a traditional name found by simplified text.
    assert (await found("臺頭村"))[0] == ("village:370302112206", "exact")
    assert await found("台湾凤梨") == [("ent:hk", "prefix")]
    assert (await store.search("台湾凤梨"))[0].matched == "臺灣鳳梨公司"
    # Full-width letters are the half-width ones, in the name and in the query.
    assert await found("abc合作社") == [("ent:fw", "exact")]
    assert await found("ＡＢＣ") == [("ent:fw", "prefix")]
    # Zero-width and other invisible characters count for nothing on either side.
    assert await found("西河村") == [("ent:zw", "exact")]
    assert (await found("台\u200b头\u2060村\u00ad"))[0] == ("village:370302112206", "exact")
    assert (await found("\ufeff臺頭\u200d"))[0] == ("village:370302112206", "prefix")
    assert await store.search("\u200b\u200c") == []


async def test_neo4j_folds_names_stored_before_folding_again(empty_settings: Settings) -> None:
    if not empty_settings.neo4j_uri:
        pytest.skip("the embedded store folds every name when it opens")
    _NEO4J_STATE["content"] = "dirty"
    store: Any = open_store(empty_settings)
    await store.open()
    try:
        await write(store, [node("ent:hk", name="臺灣鳳梨公司")])
        # As the store kept names before folding: lower-cased only, no fold version noted.
        await store._driver.execute_query(
            "MATCH (n:Entity) SET n.names_text = toLower(n.name) "
            "WITH count(*) AS c MATCH (m:GraphMeta {key: 'search'}) DELETE m"
        )
        assert await store.search("台湾凤梨") == []
    finally:
        await store.close()
    reopened = open_store(empty_settings)
    await reopened.open()
    try:
        assert [h.node["id"] for h in await reopened.search("台湾凤梨")] == ["ent:hk"]
    finally:
        await reopened.close()


# ---------------------------------------------------------------------- traversal


async def _chain(store: GraphStore) -> None:
    # a - b - c - d - e, plus a - x (FINANCES) and a hub h with 5 spokes off b.
    names = ["a", "b", "c", "d", "e", "x", "h"] + [f"s{i}" for i in range(5)]
    links = [link("SUPPLIES", f"ent:{s}", f"ent:{t}") for s, t in ("ab", "bc", "cd", "de")]
    links.append(link("FINANCES", "ent:x", "ent:a"))
    links.append(link("SUPPLIES", "ent:b", "ent:h"))
    links += [link("SUPPLIES", "ent:h", f"ent:s{i}") for i in range(5)]
    await write(store, [node(f"ent:{n}") for n in names], links)


async def test_neighbourhood_depths_and_filters(store: GraphStore) -> None:
    await _chain(store)

    async def ids(**kw: Any) -> dict[str, int]:
        sub = await store.neighbourhood(NeighbourhoodQuery("ent:a", **kw))
        return {n["id"].removeprefix("ent:"): n["depth"] for n in sub.nodes}

    assert await ids(depth=1) == {"a": 0, "b": 1, "x": 1}
    assert await ids(depth=2) == {"a": 0, "b": 1, "x": 1, "c": 2, "h": 2}
    assert len(await ids(depth=3)) == 5 + 1 + 5
    assert await ids(depth=2, link_types=["SUPPLIES"]) == {"a": 0, "b": 1, "c": 2, "h": 2}
    assert await ids(depth=1, direction="out") == {"a": 0, "b": 1}
    assert await ids(depth=1, direction="in") == {"a": 0, "x": 1}
    sub = await store.neighbourhood(NeighbourhoodQuery("ent:a", depth=3, limit=4))
    assert sub.truncated
    assert len(sub.nodes) == 4
    sub = await store.neighbourhood(NeighbourhoodQuery("ent:a", depth=2))
    assert {(lk["source"], lk["target"]) for lk in sub.links} == {
        ("ent:a", "ent:b"),
        ("ent:x", "ent:a"),
        ("ent:b", "ent:c"),
        ("ent:b", "ent:h"),
    }


async def test_neighbourhood_label_filter_and_missing_centre(store: GraphStore) -> None:
    await write(
        store,
        [
            node("org:j", "PartyOrganization", kind="联合党委"),
            node("org:p", "PartyOrganization"),
            node("ent:e"),
        ],
        [link("MEMBER_OF", "org:p", "org:j"), link("MEMBER_OF", "ent:e", "org:j")],
    )
    sub = await store.neighbourhood(NeighbourhoodQuery("org:j", node_labels=["Enterprise"]))
    assert {n["id"] for n in sub.nodes} == {"org:j", "ent:e"}
    with pytest.raises(NotFoundError):
        await store.neighbourhood(NeighbourhoodQuery("nope"))


async def test_shortest_paths(store: GraphStore) -> None:
    # Diamond a-b-d, a-c-d and a long way a-e-f-d.
    edges = ["ab", "ac", "bd", "cd", "ae", "ef", "fd"]
    await write(
        store,
        [node(f"ent:{n}") for n in "abcdef"] + [node("ent:lonely")],
        [link("SUPPLIES", f"ent:{s}", f"ent:{t}") for s, t in edges],
    )
    paths = await store.shortest_paths(PathQuery("ent:a", "ent:d"))
    assert sorted(tuple(p.node_ids) for p in paths) == [
        ("ent:a", "ent:b", "ent:d"),
        ("ent:a", "ent:c", "ent:d"),
    ]
    assert all(len(p.link_ids) == 2 for p in paths)
    assert len(await store.shortest_paths(PathQuery("ent:a", "ent:d", limit=1))) == 1
    # Direction is ignored: d back to a.
    assert len(await store.shortest_paths(PathQuery("ent:d", "ent:a"))) == 2
    assert await store.shortest_paths(PathQuery("ent:a", "ent:lonely")) == []
    assert await store.shortest_paths(PathQuery("ent:a", "ent:d", max_depth=1)) == []
    with pytest.raises(NotFoundError) as err:
        await store.shortest_paths(PathQuery("ent:a", "nope"))
    assert err.value.field == "target"


# ---------------------------------------------------------------------- regions


async def test_coverage_counts_villages_through_their_party_organization(store: GraphStore) -> None:
    county, town1, town2 = (
        region("370302", "淄川区", "县"),
        region("370302112", "龙泉镇", "乡镇"),
        region("370302104", "另一镇", "乡镇"),
    )
    v1, v2, v3, v4 = (
        village("370302112206", "台头村"),
        village("370302112213", "大土屋村"),
        village("370302112214", "韩庄村"),
        village("370302104223", "台头崖村"),
    )
    body = node("org:j", "PartyOrganization", "红色硒谷党建联盟", kind="党建联盟")
    ordinary = node("org:o", "PartyOrganization", "龙泉镇党委", kind="党委")
    branch1 = node("org:b1", "PartyOrganization", "台头村党支部")
    branch3 = node("org:b3", "PartyOrganization", "韩庄村党支部")
    await write(
        store,
        [county, town1, town2, v1, v2, v3, v4, body, ordinary, branch1, branch3],
        [
            link("ORGANIZATION_OF", "org:b1", v1["id"]),
            link("MEMBER_OF", "org:b1", "org:j"),
            link("MEMBER_OF", v2["id"], "org:j", valid_to="2021-12-31"),
            # Membership of an ordinary organization is no joint-body coverage.
            link("ORGANIZATION_OF", "org:b3", v3["id"]),
            link("MEMBER_OF", "org:b3", "org:o"),
        ],
    )
    report = await store.coverage("370302")
    assert (report.total.villages, report.total.covered) == (4, 2)
    assert report.total.uncovered_village_ids == sorted([v3["id"], v4["id"]])
    rows = {c.region_code: (c.villages, c.covered) for c in report.children}
    assert rows == {"370302104": (1, 0), "370302112": (3, 2)}
    later = await store.coverage("370302", as_of=dt.date(2022, 1, 1))
    assert later.total.covered == 1
    with pytest.raises(NotFoundError):
        await store.coverage("99")


# ---------------------------------------------------------------------- export


async def test_export_scope_as_networkx(store: GraphStore) -> None:
    town = region("370302112", "龙泉镇", "乡镇")
    v1 = village("370302112206", "台头村")
    outside = village("371426001268", "林庄村")
    body = node("org:j", "PartyOrganization", "联盟", kind="党建联盟", region_code="370302112")
    industry = node("ind:x", "Industry", "富硒农业")
    await write(
        store,
        [town, v1, outside, body, industry],
        [
            link("MEMBER_OF", v1["id"], "org:j"),
            link("IN_REGION", v1["id"], town["id"]),
            link("IN_INDUSTRY", "org:j", "ind:x"),
            link("PAIRS_WITH", outside["id"], v1["id"]),
        ],
    )
    graph = await store.export_graph(Scope(region_code="370302112"))
    assert isinstance(graph, nx.MultiDiGraph)
    assert set(graph) == {town["id"], v1["id"], body["id"], "ind:x"}
    assert {(s, t) for s, t in graph.edges()} == {(v1["id"], "org:j"), ("org:j", "ind:x")}
    assert graph.nodes[v1["id"]]["name"] == "台头村"
    structural = await store.export_graph(Scope(region_code="370302112", include_structural=True))
    assert structural.number_of_edges() == 3
    everything = await store.export_graph(Scope())
    assert everything.number_of_nodes() == 5
    only = await store.export_graph(Scope(node_ids=[v1["id"], outside["id"]]))
    assert next(iter(only.edges(keys=True)))[2].startswith("pairs_with:")


async def test_stats_and_version(store: GraphStore) -> None:
    v0 = await store.version()
    await write(store, [node("ent:a"), node("ent:b")], [link("SUPPLIES", "ent:a", "ent:b")])
    stats = await store.stats()
    assert stats.nodes_by_label == {"Enterprise": 2}
    assert stats.links_by_type == {"SUPPLIES": 1}
    assert await store.version() > v0
    await store.ping()
