"""``GET /v1/export`` on the seed graph: every format, styling, layout, limits, redaction.

The node-link export is the reference: it must match the neighbourhood endpoint for a node
scope, and every other format must carry exactly its node ids and link ids (GraphML and GEXF
as networkx reads them back).
"""

from __future__ import annotations

import itertools
import json
import re
from io import BytesIO
from typing import Any

import networkx as nx
import pytest
from conftest import AUTH
from fastapi.testclient import TestClient

from graph_service.schema import LINK_TYPES, NODE_LABELS
from graph_service.visual.formats import FORMATS, MAX_EXPORT_NODES, MAX_SIZE, METRICS, MIN_SIZE

BODY = "org:longquan-hongse-xigu"  # “红色硒谷”党建联盟: nine members
BODY_SCOPE = f"node:{BODY}"
PERSON = "person:cangkangshi-cao-xinmin"  # holds a position in 仓康实党建联合体
PERSON_SCOPE = "node:org:pingyuan-cangkangshi"
HEX = re.compile(r"^#[0-9a-f]{6}$")


def export(client: TestClient, scope: str = BODY_SCOPE, **params: Any) -> Any:
    response = client.get("/v1/export", params={"scope": scope, "depth": 1, **params})
    assert response.status_code == 200, response.text
    return response


def reference(client: TestClient, scope: str = BODY_SCOPE) -> nx.MultiDiGraph:
    data = export(client, scope, format="node-link").json()
    G = nx.node_link_graph(data, edges="links")
    assert isinstance(G, nx.MultiDiGraph)
    return G


def link_triples(G: nx.MultiDiGraph) -> set[tuple[str, str, str]]:
    return {(str(u), str(v), str(k)) for u, v, k in G.edges(keys=True)}


# ------------------------------------------------------------------------- node-link


def test_node_link_matches_the_neighbourhood(seed_client: TestClient) -> None:
    G = reference(seed_client)
    hood = seed_client.get(f"/v1/nodes/{BODY}/neighbourhood", params={"depth": 1}).json()
    assert set(G.nodes) == {n["id"] for n in hood["nodes"]}
    assert {k for *_, k in G.edges(keys=True)} == {link["id"] for link in hood["links"]}
    for link in hood["links"]:
        assert G.has_edge(link["source"], link["target"], key=link["id"])
    members = {u for u, v, d in G.edges(data=True) if v == BODY and d["type"] == "MEMBER_OF"}
    assert len(members) == 9
    body = G.nodes[BODY]
    assert body["name"] == "“红色硒谷”党建联盟"
    assert body["label"] == body["name"]
    assert body["node_label"] == "PartyOrganization"
    assert body["label_zh"] == "党组织"
    assert HEX.match(body["color"])
    assert any("红色硒谷" in s["quote"] for s in body["sources"])
    assert G.graph["nodes"] == G.number_of_nodes()
    assert G.graph["links"] == G.number_of_edges()


# ------------------------------------------------------------------------- GraphML, GEXF


def test_graphml_reads_back_with_the_same_nodes_and_links(seed_client: TestClient) -> None:
    G = reference(seed_client)
    response = export(seed_client, format="graphml", metric="degree", layout="true")
    assert response.headers["content-type"].startswith("application/graphml+xml")
    assert response.headers["content-disposition"].endswith('.graphml"')
    H = nx.read_graphml(BytesIO(response.content), force_multigraph=True)
    assert set(H.nodes) == set(G.nodes)
    assert link_triples(H) == link_triples(G)
    for node, data in H.nodes(data=True):
        doc = G.nodes[node]
        for key in ("label", "node_label", "name", "kind", "region_code"):
            if doc.get(key) is not None:
                assert data[key] == doc[key], (node, key)
        assert json.loads(data["sources"]) == doc["sources"]
        assert json.loads(data["attributes"]) == doc["attributes"]
        assert isinstance(data["size"], float)
        assert isinstance(data["x"], float)
        assert (data["r"], data["g"], data["b"]) == tuple(
            int(doc["color"][i : i + 2], 16) for i in (1, 3, 5)
        )
    for u, v, key, data in H.edges(keys=True, data=True):
        assert data["type"] == G.edges[u, v, key]["type"]
        assert isinstance(json.loads(data["sources"]), list)


def test_gexf_reads_back_with_the_same_nodes_and_links(seed_client: TestClient) -> None:
    G = reference(seed_client)
    response = export(seed_client, format="gexf", metric="pagerank", layout="true")
    assert response.headers["content-type"].startswith("application/gexf+xml")
    H = nx.read_gexf(BytesIO(response.content))
    assert set(H.nodes) == set(G.nodes)
    read = {(str(u), str(v), str(d["id"])) for u, v, d in H.edges(data=True)}
    assert read == link_triples(G)
    for node, data in H.nodes(data=True):
        doc = G.nodes[node]
        # GEXF's own label is what Gephi shows: the name; the schema label is node_label.
        assert data["label"] == doc["name"]
        assert data["node_label"] == doc["node_label"]
        assert data["label_zh"] == NODE_LABELS[doc["node_label"]].label_zh
        assert set(data["viz"]) >= {"color", "size", "position"}
        assert json.loads(data["sources"])
    types = {str(key): d["type"] for _, _, key, d in G.edges(keys=True, data=True)}
    assert isinstance(H, nx.MultiDiGraph)
    assert {str(k) for *_, k in H.edges(keys=True)} == set(types)
    for _, _, data in H.edges(data=True):
        assert data["link_type"] == types[data["id"]]
        assert data["label"] == data["label_zh"]


# ------------------------------------------------------------------------- what a viewer shows


def _shown(fmt: str, content: bytes) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Per node: (the text a viewer of ``fmt`` shows, its type attribute); per link id: the
    text shown on it (none for ECharts, whose link label is a style object)."""
    if fmt in ("graphml", "gexf"):
        if fmt == "graphml":
            H = nx.read_graphml(BytesIO(content), force_multigraph=True)
            link_text = {str(k): d["label"] for _, _, k, d in H.edges(keys=True, data=True)}
        else:
            H = nx.read_gexf(BytesIO(content))
            link_text = {str(d["id"]): d["label"] for _, _, d in H.edges(data=True)}
        nodes = {str(n): (d["label"], d["node_label"]) for n, d in H.nodes(data=True)}
        return nodes, link_text
    doc = json.loads(content)
    if fmt == "echarts":
        categories = doc["categories"]
        return {
            n["id"]: (n["name"], categories[n["category"]]["node_label"]) for n in doc["nodes"]
        }, {}
    if fmt == "cytoscape":
        node_data = [n["data"] for n in doc["elements"]["nodes"]]
        link_data = [e["data"] for e in doc["elements"]["edges"]]
    else:
        node_data, link_data = doc["nodes"], doc["links"]
    return (
        {d["id"]: (d["label"], d["node_label"]) for d in node_data},
        {d["id"]: d["label"] for d in link_data},
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_labels_nodes_by_name(seed_client: TestClient, fmt: str) -> None:
    """Gephi, Cytoscape.js and D3 show a node's ``label``: it is the Chinese name, and the
    node's type (Village, Enterprise …) is an attribute of its own; a link shows its type in
    Chinese."""
    hood = seed_client.get(f"/v1/nodes/{BODY}/neighbourhood", params={"depth": 1}).json()
    expected = {n["id"]: (n["name"], n["label"]) for n in hood["nodes"]}
    nodes, links = _shown(fmt, export(seed_client, format=fmt).content)
    assert nodes == expected
    if fmt != "echarts":
        assert links == {link["id"]: LINK_TYPES[link["type"]].label_zh for link in hood["links"]}


# ------------------------------------------------------------------------- JSON shapes


def test_cytoscape_elements_shape(seed_client: TestClient) -> None:
    G = reference(seed_client)
    doc = export(seed_client, format="cytoscape").json()
    assert set(doc) == {"data", "elements"}
    nodes, edges = doc["elements"]["nodes"], doc["elements"]["edges"]
    assert {n["data"]["id"] for n in nodes} == set(G.nodes)
    assert {(e["data"]["source"], e["data"]["target"], e["data"]["id"]) for e in edges} == (
        link_triples(G)
    )
    for node in nodes:
        data = node["data"]
        assert {"id", "name", "label", "label_zh", "color", "size"} <= set(data)
        assert HEX.match(data["color"])
        assert data["size"] > 0
        assert data["node_label"] in node["classes"].split()
        assert "position" not in node  # no layout asked for
    body = next(n for n in nodes if n["data"]["id"] == BODY)
    assert "joint-body" in body["classes"].split()
    for edge in edges:
        assert {"id", "source", "target", "type", "label_zh", "width", "color"} <= set(edge["data"])
        assert edge["classes"] == edge["data"]["type"]
    assert doc["data"]["nodes"] == len(nodes)


def test_echarts_series_shape(seed_client: TestClient) -> None:
    G = reference(seed_client)
    series = export(seed_client, format="echarts", metric="degree").json()
    assert series["type"] == "graph"
    assert series["layout"] == "force"
    categories, nodes, links = series["categories"], series["nodes"], series["links"]
    labels_zh = {spec.label_zh for spec in NODE_LABELS.values()}
    assert categories
    assert all(c["name"] in labels_zh for c in categories)
    assert len({c["name"] for c in categories}) == len(categories)
    assert {n["id"] for n in nodes} == set(G.nodes)
    for node in nodes:
        category = categories[node["category"]]
        assert category["node_label"] == G.nodes[node["id"]]["node_label"]
        assert node["name"] == G.nodes[node["id"]]["name"]
        assert MIN_SIZE <= node["symbolSize"] <= MAX_SIZE
        assert HEX.match(node["itemStyle"]["color"])
    ids = [n["id"] for n in nodes]
    triples = set()
    for link in links:
        assert 0 <= link["source"] < len(nodes)
        assert 0 <= link["target"] < len(nodes)
        assert link["lineStyle"]["width"] >= 1
        triples.add((ids[link["source"]], ids[link["target"]], link["id"]))
    assert triples == link_triples(G)


def test_echarts_with_layout_fixes_positions(seed_client: TestClient) -> None:
    series = export(seed_client, format="echarts", layout="true").json()
    assert series["layout"] == "none"
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in series["nodes"])


# ------------------------------------------------------------------------- styling


@pytest.mark.parametrize("metric", METRICS)
def test_sizes_are_ordered_like_the_metric(seed_client: TestClient, metric: str) -> None:
    data = export(seed_client, format="node-link", metric=metric).json()
    rows = [(n["score"], n["size"]) for n in data["nodes"]]
    assert all(score is not None for score, _ in rows)
    for (s1, z1), (s2, z2) in itertools.combinations(rows, 2):
        if s1 < s2:
            assert z1 <= z2
        elif s1 > s2:
            assert z1 >= z2
        else:
            assert z1 == z2
    scores = [s for s, _ in rows]
    if max(scores) > min(scores):
        assert max(z for _, z in rows) == MAX_SIZE
        assert min(z for _, z in rows) == MIN_SIZE
    body = next(n for n in data["nodes"] if n["id"] == BODY)
    assert body["score"] == max(scores)  # the body is the hub of its neighbourhood


def test_degree_metric_counts_distinct_neighbours(seed_client: TestClient) -> None:
    G = reference(seed_client)
    data = export(seed_client, format="node-link", metric="degree").json()
    simple = nx.Graph(G.to_undirected())
    for node in data["nodes"]:
        assert node["score"] == simple.degree(node["id"])


def test_link_width_follows_strength(seed_client: TestClient) -> None:
    data = export(seed_client, format="cytoscape", strength="true").json()
    scored = [e["data"] for e in data["elements"]["edges"] if e["data"]["strength"] is not None]
    assert scored, "the body's MEMBER_OF links have a strength"
    for edge in scored:
        assert 0 <= edge["strength"] <= 1
        assert edge["width"] == pytest.approx(1 + 7 * edge["strength"], abs=1e-3)
    members = [e for e in scored if e["type"] == "MEMBER_OF"]
    assert len(members) == 9
    unscored = [e["data"] for e in data["elements"]["edges"] if e["data"]["strength"] is None]
    assert all(e["width"] == 1.0 for e in unscored)


def test_layout_is_deterministic_for_a_seed(seed_client: TestClient) -> None:
    def positions(seed: int, scope: str = BODY_SCOPE) -> dict[str, tuple[float, float]]:
        doc = export(seed_client, scope, format="cytoscape", layout="true", seed=seed).json()
        return {
            n["data"]["id"]: (n["position"]["x"], n["position"]["y"])
            for n in doc["elements"]["nodes"]
        }

    first, again, other = positions(0), positions(0), positions(7)
    assert first == again
    assert first != other
    assert len({xy for xy in first.values()}) == len(first)  # no two nodes on one spot
    assert all(abs(c) <= 1000.0 for xy in first.values() for c in xy)
    assert max(abs(c) for xy in first.values() for c in xy) == pytest.approx(1000.0)


def test_large_scope_layout_is_deterministic(seed_client: TestClient) -> None:
    """A county (hundreds of villages) takes the sampled layout; still seeded."""
    scope = "region:370302"
    a = export(seed_client, scope, format="node-link", layout="true", seed=3).json()
    b = export(seed_client, scope, format="node-link", layout="true", seed=3).json()
    assert len(a["nodes"]) > 500
    assert [(n["x"], n["y"]) for n in a["nodes"]] == [(n["x"], n["y"]) for n in b["nodes"]]


# ------------------------------------------------------------------------- errors, limits


def test_too_large_scope_is_a_clear_problem(seed_client: TestClient) -> None:
    response = seed_client.get("/v1/export", params={"scope": "all", "max_nodes": 50})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert problem["field"] == "scope"
    assert "at most 50 nodes" in problem["detail"]
    assert problem["details"]["max_nodes"] == 50
    assert problem["details"]["nodes"] > 50

    response = seed_client.get("/v1/export", params={"max_nodes": MAX_EXPORT_NODES + 1})
    assert response.status_code == 422
    assert response.json()["field"] == "max_nodes"


def test_unknown_format_and_metric_are_422(seed_client: TestClient) -> None:
    response = seed_client.get("/v1/export", params={"scope": BODY_SCOPE, "format": "svg"})
    assert response.status_code == 422
    assert response.json()["field"] == "format"
    assert "cytoscape" in response.json()["detail"]
    response = seed_client.get("/v1/export", params={"scope": BODY_SCOPE, "metric": "fame"})
    assert response.status_code == 422
    assert response.json()["field"] == "metric"
    response = seed_client.get("/v1/export", params={"scope": "nowhere"})
    assert response.status_code == 422
    assert response.json()["field"] == "scope"


def test_unknown_node_scope_is_404(seed_client: TestClient) -> None:
    response = seed_client.get("/v1/export", params={"scope": "node:org:no-such-body"})
    assert response.status_code == 404


# ------------------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("accept", "media_type", "check"),
    [
        ("application/graphml+xml", "application/graphml+xml", b"<graphml"),
        ("application/gexf+xml", "application/gexf+xml", b"<gexf"),
        ("application/vnd.graph-service.echarts+json", "application/json", b'"type":"graph"'),
        ("application/vnd.graph-service.node-link+json", "application/json", b'"multigraph"'),
        ("application/json", "application/json", b'"elements"'),
        ("text/csv;q=1, application/gexf+xml;q=0.5", "application/gexf+xml", b"<gexf"),
        ("application/gexf+xml;q=0.2, application/graphml+xml", "application/graphml+xml", b"<g"),
    ],
)
def test_accept_header_picks_the_format(
    seed_client: TestClient, accept: str, media_type: str, check: bytes
) -> None:
    response = seed_client.get(
        "/v1/export", params={"scope": BODY_SCOPE, "depth": 1}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert check in response.content[:4000]
    assert response.headers["vary"] == "Accept"


def test_unservable_accept_is_406_and_format_wins(seed_client: TestClient) -> None:
    params = {"scope": BODY_SCOPE, "depth": 1}
    response = seed_client.get("/v1/export", params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
    response = seed_client.get(
        "/v1/export", params={**params, "format": "gexf"}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b"<?xml")


def test_download_names_the_file(seed_client: TestClient) -> None:
    response = export(seed_client, format="echarts", download="true")
    assert response.headers["content-disposition"] == (
        'attachment; filename="graph-node_org_longquan-hongse-xigu.echarts.json"'
    )


# ------------------------------------------------------------------------- redaction


@pytest.mark.parametrize("fmt", ["cytoscape", "echarts", "node-link", "graphml", "gexf"])
def test_anonymous_exports_hide_people(seed_client: TestClient, fmt: str) -> None:
    params = {"scope": PERSON_SCOPE, "depth": 1, "format": fmt}
    anonymous = seed_client.get("/v1/export", params=params)
    holder = seed_client.get("/v1/export", params=params, headers=AUTH)
    assert anonymous.status_code == holder.status_code == 200
    assert PERSON.encode() in holder.content
    assert b"HOLDS_POSITION" in holder.content
    assert PERSON.encode() not in anonymous.content
    assert b"HOLDS_POSITION" not in anonymous.content
    assert b"Person" not in anonymous.content
    assert int(anonymous.headers["x-export-nodes"]) < int(holder.headers["x-export-nodes"])


def test_anonymous_cannot_centre_an_export_on_a_person(seed_client: TestClient) -> None:
    response = seed_client.get("/v1/export", params={"scope": f"node:{PERSON}", "depth": 1})
    assert response.status_code == 404
    response = seed_client.get(
        "/v1/export", params={"scope": f"node:{PERSON}", "depth": 1}, headers=AUTH
    )
    assert response.status_code == 200


# ------------------------------------------------------------------------- CLI


def test_cli_export_graph_writes_each_format(
    seed_settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """``graph-service export-graph`` writes the same formats from the same module."""
    from typer.testing import CliRunner

    from graph_service.cli import app
    from graph_service.settings import get_settings

    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: seed_settings)
    get_settings.cache_clear()
    runner = CliRunner()
    scope = ["--scope", PERSON_SCOPE, "--depth", "1"]
    out = tmp_path / "graph.gexf"
    result = runner.invoke(app, ["export-graph", *scope, "-f", "gexf", "-o", str(out)])
    assert result.exit_code == 0, result.output
    G = nx.read_gexf(out)
    assert PERSON not in G  # people stay out unless asked for
    out = tmp_path / "graph.graphml"
    args = ["export-graph", *scope, "-f", "graphml", "-o", str(out), "--people", "--layout"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    H = nx.read_graphml(out, force_multigraph=True)
    assert PERSON in H
    assert set(G) < set(H)
    result = runner.invoke(app, ["export-graph", *scope, "-f", "echarts", "--metric", "degree"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["type"] == "graph"
    result = runner.invoke(app, ["export-graph", "--scope", "all", "--max-nodes", "10"])
    assert result.exit_code == 1
    assert "payload_too_large" in result.output
    result = runner.invoke(app, ["export-graph", "-f", "svg"])
    assert result.exit_code == 2
