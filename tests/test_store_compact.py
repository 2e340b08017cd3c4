"""The embedded store's lean in-memory graph (graph_service.store.compact), and the store's
reads that now come from it and SQLite on demand."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from graph_service.store.compact import CompactGraph
from graph_service.store.embedded import EmbeddedGraphStore
from graph_service.store.protocol import NeighbourhoodQuery, Scope, WriteBatch


def node(node_id: str, name: str, label: str = "Enterprise", **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "label": label, "name": name, **extra}


def link(link_id: str, source: str, target: str, kind: str = "PAIRS_WITH", **extra: Any) -> Any:
    return {"id": link_id, "type": kind, "source": source, "target": target, **extra}


@pytest.fixture
def graph() -> CompactGraph:
    g = CompactGraph()
    for n in (node("a", "甲公司"), node("b", "乙村", "Village"), node("c", "丙合作社")):
        g.put_node(n)
    g.put_link(link("l1", "a", "b"))
    g.put_link(link("l2", "b", "c", valid_to="2020-12-31"))
    g.rebuild_rows()
    g.put_link(link("l3", "c", "a"))  # after the rows: in the overflow
    return g


def test_incident_reads_rows_and_overflow(graph: CompactGraph) -> None:
    assert sorted(graph.incident("a")) == ["l1", "l3"]
    assert graph.incident("a", "out") == ["l1"]
    assert graph.incident("a", "in") == ["l3"]
    assert graph.incident("nobody") == []


def test_incident_heads_filter_by_type_and_day_and_sort(graph: CompactGraph) -> None:
    assert graph.incident_heads("b", "both", (), None) == [
        ("l1", "PAIRS_WITH", "a"),
        ("l2", "PAIRS_WITH", "c"),
    ]
    assert graph.incident_heads("b", "both", (), "2021-01-01") == [("l1", "PAIRS_WITH", "a")]
    assert graph.incident_heads("b", "both", ("SUPPLIES",), None) == []


def test_a_dropped_link_is_gone_from_rows_and_counts(graph: CompactGraph) -> None:
    assert graph.drop_link("l1")
    assert not graph.drop_link("l1")
    assert graph.incident("a") == ["l3"]
    assert graph.type_counts() == {"PAIRS_WITH": 2}
    graph.rebuild_rows()
    assert graph.incident("b") == ["l2"]


def test_a_node_update_keeps_its_links_and_moves_its_names(graph: CompactGraph) -> None:
    graph.put_node(node("a", "丁公司"))
    assert sorted(graph.incident("a")) == ["l1", "l3"]
    assert graph.name_candidates("丁", (), None) == ["a"]
    # The old name's characters are still indexed, but no current name holds them.
    assert graph.name_candidates("甲", (), None) == []
    assert graph.nodes_named("甲公司") == []
    assert graph.label_counts() == {"Enterprise": 2, "Village": 1}


def test_name_candidates_need_every_character_in_one_name(graph: CompactGraph) -> None:
    graph.put_node(node("d", "戊公司", aliases=["己村"]))
    assert sorted(graph.name_candidates("公司", (), None)) == ["a", "d"]
    assert graph.name_candidates("己村", (), None) == ["d"]
    assert graph.name_candidates("公村", (), None) == []  # in two names, not in one
    assert graph.name_candidates("公司", ("Village",), None) == []


def test_dropped_node_is_not_found_and_comes_back_in_its_place(graph: CompactGraph) -> None:
    assert graph.drop_node("c")
    assert "c" not in graph
    assert graph.name_candidates("丙", (), None) == []
    assert graph.label_counts() == {"Enterprise": 1, "Village": 1}
    graph.put_node(node("c", "丙合作社"))
    assert "c" in graph
    assert graph.label_counts() == {"Enterprise": 2, "Village": 1}


def test_codes_find_their_nodes(graph: CompactGraph) -> None:
    graph.put_node(node("v", "某村", "Village", region_code="371426001001"))
    assert graph.nodes_coded("371426001001") == ["v"]
    graph.put_node(node("v", "某村", "Village", region_code="371426001002"))
    assert graph.nodes_coded("371426001001") == []
    assert graph.nodes_coded("371426001002") == ["v"]


def test_self_loop_is_one_incident_head() -> None:
    g = CompactGraph()
    g.put_node(node("a", "甲"))
    g.put_link(link("x", "a", "a"))
    assert g.incident_heads("a", "both", (), None) == [("x", "PAIRS_WITH", "a")]
    assert len(g.incident("a", "both")) == 2  # once out, once in: as count_links counts


def test_link_with_an_unknown_end_is_refused() -> None:
    g = CompactGraph()
    g.put_node(node("a", "甲"))
    with pytest.raises(KeyError):
        g.put_link(link("x", "a", "missing"))


def test_overflow_is_folded_into_rows_past_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    from graph_service.store import compact

    monkeypatch.setattr(compact, "_OVERFLOW_MIN", 3)
    g = CompactGraph()
    for i in range(10):
        g.put_node(node(f"n{i}", f"名{i}"))
    for i in range(9):
        g.put_link(link(f"l{i}", f"n{i}", f"n{i + 1}"))
    assert g._out.extra_count <= 3
    assert [sorted(g.incident(f"n{i}")) for i in (0, 5, 9)] == [
        ["l0"],
        ["l4", "l5"],
        ["l8"],
    ]


# ---------------------------------------------------------------- the store around it


def _batch(nodes: list[Any] = (), links: list[Any] = ()) -> WriteBatch:  # type: ignore[assignment]
    return WriteBatch(nodes=list(nodes), links=list(links))


def test_another_process_updating_a_node_keeps_its_links_here(tmp_path: Path) -> None:
    """Replaying the change log updates a node in place (it once dropped its adjacency)."""

    async def scenario() -> None:
        path = tmp_path / "graph.sqlite3"
        here, there = EmbeddedGraphStore(path), EmbeddedGraphStore(path)
        await here.open()
        await there.open()
        try:
            await here.write(_batch([node("a", "甲公司"), node("b", "乙村", "Village")]))
            await here.write(_batch(links=[link("l1", "a", "b")]))
            before = await here.neighbourhood(NeighbourhoodQuery(node_id="a", depth=1))
            await there.write(_batch([node("a", "甲公司（新）")]))
            after = await here.neighbourhood(NeighbourhoodQuery(node_id="a", depth=1))
            assert [x["id"] for x in before.links] == [x["id"] for x in after.links] == ["l1"]
            assert (await here.get_nodes(["a"]))["a"]["name"] == "甲公司（新）"
            hits = await here.search("新")
            assert [h.node["id"] for h in hits] == ["a"]
        finally:
            await here.close()
            await there.close()

    asyncio.run(scenario())


def test_reads_take_documents_from_sqlite_and_validity_from_memory(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = EmbeddedGraphStore(tmp_path / "graph.sqlite3")
        await store.open()
        try:
            await store.write(
                _batch(
                    [
                        node("a", "甲公司", industry="果品"),
                        node("b", "乙村", "Village", valid_to="2019-12-31"),
                    ],
                    [link("l1", "a", "b", note="2018年结对")],
                )
            )
            # Reopen: nothing decoded is kept, the documents come back whole.
            await store.close()
            await store.open()
            assert (await store.get_nodes(["a"]))["a"]["industry"] == "果品"
            assert (await store.get_links(["l1"]))["l1"]["note"] == "2018年结对"
            assert await store.get_nodes(["b"], as_of=dt.date(2020, 1, 1)) == {}
            assert await store.get_links(["l1"], as_of=dt.date(2019, 1, 1)) != {}
            exported = await store.export_graph(Scope())
            assert exported.nodes["a"]["industry"] == "果品"
            assert exported.edges["a", "b", "l1"]["note"] == "2018年结对"
            stats = await store.stats()
            assert stats.nodes_by_label == {"Enterprise": 1, "Village": 1}
            assert stats.links_by_type == {"PAIRS_WITH": 1}
        finally:
            await store.close()

    asyncio.run(scenario())


def test_a_neighbourhood_with_no_room_left_reads_only_what_it_keeps(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = EmbeddedGraphStore(tmp_path / "graph.sqlite3")
        await store.open()
        try:
            hub = node("hub", "中心公司")
            spokes = [node(f"v{i:03}", f"村{i}", "Village") for i in range(300)]
            links = [link(f"l{i:03}", "hub", f"v{i:03}") for i in range(300)]
            await store.write(_batch([hub, *spokes], links))
            await store.close()
            await store.open()
            sub = await store.neighbourhood(NeighbourhoodQuery(node_id="hub", depth=1, limit=50))
            assert sub.truncated
            assert len(sub.nodes) == 50
            assert all("name" in n for n in sub.nodes)  # whole documents, not stubs
            # The spokes it had no room for were not read from SQLite.
            assert len(store._node_cache) <= 51
        finally:
            await store.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("direction", ["both", "out"])
def test_links_among_the_outer_ring_reach_a_hub_from_the_joined_side(
    tmp_path: Path, direction: str
) -> None:
    """A hub in the outermost ring (300 links, far more than the walk holds) is looked at
    from the joined nodes' side; the answer is the same as looking at the hub's links."""

    async def scenario() -> None:
        store = EmbeddedGraphStore(tmp_path / "graph.sqlite3")
        await store.open()
        try:
            nodes = [node("c", "中心"), node("b1", "甲"), node("b2", "乙"), node("h", "枢纽")]
            nodes += [node(f"s{i:03}", f"辐{i}") for i in range(300)]
            links = [link("c-b1", "c", "b1"), link("c-b2", "c", "b2")]
            links += [link("b1-h", "b1", "h"), link("b2-h", "b2", "h")]
            links += [link(f"b1-s{i}", "b1", f"s{i:03}") for i in range(5)]
            links += [link(f"h-s{i:03}", "h", f"s{i:03}") for i in range(300)]
            await store.write(_batch(nodes, links))
            query = NeighbourhoodQuery(node_id="c", depth=2, limit=1000, direction=direction)
            sub = await store.neighbourhood(query)
            found = {x["id"] for x in sub.links}
            expected = {"c-b1", "c-b2", "b1-h", "b2-h"} | {f"b1-s{i}" for i in range(5)}
            expected |= {f"h-s{i:03}" for i in range(5)}  # the hub to the joined spokes
            assert found == expected
            assert {n["id"] for n in sub.nodes} == {"c", "b1", "b2", "h"} | {
                f"s{i:03}" for i in range(5)
            }
            assert not sub.truncated
        finally:
            await store.close()

    asyncio.run(scenario())
