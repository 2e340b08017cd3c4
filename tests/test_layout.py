"""Server-side positions for big views: the layout function (hand-checkable cases) and
``GET /v1/layout`` (cache per version and audience, invalidated by a write, visibility)."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import AUTH, SEED_DIR, make_settings
from fastapi.testclient import TestClient
from scipy.spatial import cKDTree

from graph_service.analysis.layout import PACKING_MARGIN, layout_positions
from graph_service.api.app import create_app
from graph_service.services.loading import load_seed
from graph_service.store.embedded import EmbeddedGraphStore

COUNTY = "371426"  # 平原县: 仓康实党建联合体, whose secretary 曹新民 is a Person node
PERSON = "person:cangkangshi-cao-xinmin"
PERSON_NAME = "曹新民"
BODY = "org:pingyuan-cangkangshi"


# ------------------------------------------------------------------------- the function


def test_empty_graph_has_no_positions() -> None:
    layout = layout_positions(nx.Graph())
    assert layout.positions == {}
    assert layout.components == 0


def test_a_lone_node_sits_at_the_packing_margin() -> None:
    graph = nx.Graph()
    graph.add_node("a")
    layout = layout_positions(graph, edge_length=10.0)
    assert layout.positions == {"a": (PACKING_MARGIN * 10, PACKING_MARGIN * 10)}
    assert layout.components == 1
    assert layout.width == layout.height == 2 * PACKING_MARGIN * 10


def test_a_path_lies_on_a_line_one_edge_length_apart() -> None:
    # Path distances 1, 1, 2 are Euclidean in one dimension: classical scaling gives them
    # back exactly, and nothing is close enough to be pushed apart.
    layout = layout_positions(nx.path_graph(["a", "b", "c"]), edge_length=60.0)
    a, b, c = (np.array(layout.positions[n]) for n in "abc")
    assert np.linalg.norm(a - b) == pytest.approx(60.0)
    assert np.linalg.norm(b - c) == pytest.approx(60.0)
    assert np.linalg.norm(a - c) == pytest.approx(120.0)
    assert (a[1], b[1], c[1]) == pytest.approx((a[1], a[1], a[1]))  # one horizontal line


def test_a_square_keeps_its_sides_and_diagonals() -> None:
    # The 4-cycle's distances (1 for sides, 2 for diagonals) are not Euclidean; classical
    # scaling gives the square with sides √2·… : all four sides equal, diagonals equal.
    layout = layout_positions(nx.cycle_graph(4))
    p = [np.array(layout.positions[i]) for i in range(4)]
    sides = [np.linalg.norm(p[i] - p[(i + 1) % 4]) for i in range(4)]
    diagonals = [np.linalg.norm(p[0] - p[2]), np.linalg.norm(p[1] - p[3])]
    assert max(sides) == pytest.approx(min(sides))
    assert diagonals[0] == pytest.approx(diagonals[1])
    assert diagonals[0] == pytest.approx(sides[0] * math.sqrt(2))


def test_leaves_of_one_hub_do_not_coincide() -> None:
    # Every leaf of a star has the same distances to all pivots: scaling alone puts them
    # on one point; overlap removal must separate them.
    layout = layout_positions(nx.star_graph(30), separation=0.6)
    points = np.array(list(layout.positions.values()))
    assert len(cKDTree(points).query_pairs(0.3)) == 0


def test_components_are_packed_without_overlap() -> None:
    graph = nx.disjoint_union_all(
        [nx.path_graph(5), nx.star_graph(6), nx.cycle_graph(7), nx.empty_graph(3)]
    )
    layout = layout_positions(graph)
    assert layout.components == 6
    boxes = []
    for component in nx.connected_components(graph):
        points = np.array([layout.positions[n] for n in component])
        boxes.append((points.min(axis=0), points.max(axis=0)))
    for (lo1, hi1), (lo2, hi2) in itertools.combinations(boxes, 2):
        apart = (hi1 < lo2).any() or (hi2 < lo1).any()
        assert apart, "two components' bounding boxes overlap"
    points = np.array(list(layout.positions.values()))
    assert (points >= 0).all()
    assert (points[:, 0] <= layout.width).all()
    assert (points[:, 1] <= layout.height).all()


def test_deterministic_and_independent_of_insertion_order() -> None:
    graph = nx.barabasi_albert_graph(400, 2, seed=3)
    graph.add_edges_from([(400, 401), (402, 403)])
    shuffled = nx.Graph()
    order = list(graph.nodes)
    np.random.default_rng(7).shuffle(order)
    shuffled.add_nodes_from(order)
    edges = list(graph.edges)
    np.random.default_rng(8).shuffle(edges)
    shuffled.add_edges_from(edges)
    first = layout_positions(graph)
    assert layout_positions(graph) == first
    assert layout_positions(shuffled).positions == first.positions


def test_directed_multigraphs_with_loops_are_taken_undirected() -> None:
    graph = nx.MultiDiGraph()
    graph.add_edges_from([("a", "b"), ("b", "a"), ("a", "b"), ("b", "c"), ("c", "c")])
    layout = layout_positions(graph)
    plain = layout_positions(nx.path_graph(["a", "b", "c"]))
    assert layout.positions == plain.positions


def test_positions_are_finite_on_a_county_sized_graph() -> None:
    graph = nx.barabasi_albert_graph(3000, 2, seed=1)
    graph.add_nodes_from(range(3000, 3100))  # isolated nodes, packed beside it
    layout = layout_positions(graph)
    points = np.array(list(layout.positions.values()))
    assert len(points) == 3100
    assert np.isfinite(points).all()
    assert layout.components == 101


# ------------------------------------------------------------------------- the route


def test_layout_is_computed_once_per_version_and_audience(seed_client: TestClient) -> None:
    first = seed_client.get("/v1/layout", params={"region": COUNTY})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["cached"] is False
    assert body["region"] == COUNTY
    assert body["nodes"]
    assert body["links"]
    again = seed_client.get("/v1/layout", params={"region": COUNTY}).json()
    assert again["cached"] is True
    assert again["nodes"] == body["nodes"]
    # Another audience has its own layout (it sees other nodes).
    keyed = seed_client.get("/v1/layout", params={"region": COUNTY}, headers=AUTH).json()
    assert keyed["cached"] is False
    ids = {n["id"] for n in body["nodes"]}
    for link in body["links"]:
        assert {link["source"], link["target"]} <= ids
    for node in body["nodes"]:
        assert 0 <= node["x"] <= body["width"]
        assert 0 <= node["y"] <= body["height"]


def test_anonymous_callers_get_no_position_for_a_person(seed_client: TestClient) -> None:
    anonymous = seed_client.get("/v1/layout", params={"region": COUNTY})
    assert anonymous.status_code == 200
    assert PERSON not in anonymous.text
    assert PERSON_NAME not in anonymous.text
    assert all(n["label"] != "Person" for n in anonymous.json()["nodes"])
    keyed = seed_client.get("/v1/layout", params={"region": COUNTY}, headers=AUTH).json()
    ids = {n["id"] for n in keyed["nodes"]}
    assert PERSON in ids
    assert BODY in ids


def test_unknown_and_bad_regions(seed_client: TestClient) -> None:
    missing = seed_client.get("/v1/layout", params={"region": "999999"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert seed_client.get("/v1/layout", params={"region": "12345"}).status_code == 422
    assert seed_client.get("/v1/layout").status_code == 422
    assert seed_client.get("/v1/layout", params={"region_code": COUNTY}).status_code == 422


def test_as_of_is_a_layout_of_its_own(seed_client: TestClient) -> None:
    today = seed_client.get("/v1/layout", params={"region": COUNTY}).json()
    before = seed_client.get("/v1/layout", params={"region": COUNTY, "as_of": "2000-01-01"})
    assert before.status_code == 200
    assert before.json()["as_of"] == "2000-01-01"
    assert before.json()["cached"] is False
    assert len(before.json()["nodes"]) <= len(today["nodes"])


@pytest.fixture
def writable_client(tmp_path: Path) -> Iterator[TestClient]:
    """The app over its own writable copy of the seed graph (embedded store)."""
    settings = make_settings("embedded", tmp_path / "data")
    settings.data_dir.mkdir(parents=True)

    async def fill() -> None:
        store = EmbeddedGraphStore(settings.embedded_path)
        await store.open()
        try:
            await load_seed(store, SEED_DIR)
        finally:
            await store.close()

    asyncio.run(fill())
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_a_write_makes_a_new_layout(writable_client: TestClient) -> None:
    first = writable_client.get("/v1/layout", params={"region": COUNTY}).json()
    assert writable_client.get("/v1/layout", params={"region": COUNTY}).json()["cached"]
    made = writable_client.post(
        "/v1/nodes",
        json={
            "id": "ent:layout-demo",
            "label": "Enterprise",
            "kind": "合作社",
            "name": "布局示范合作社",
            "region_code": COUNTY,
        },
        headers=AUTH,
    )
    assert made.status_code == 201, made.text
    after = writable_client.get("/v1/layout", params={"region": COUNTY}).json()
    assert after["cached"] is False
    assert after["version"] != first["version"]
    placed = {n["id"]: n for n in after["nodes"]}
    assert "ent:layout-demo" in placed
    assert len(placed) == len(first["nodes"]) + 1
