"""Personal data reaches only callers allowed to see it, on every GET route, on both stores.

The routes are read from the app's own OpenAPI document, so a route added later is called
here without editing this file; a required parameter this file has no value for fails the
test (add the value to ``VALUES``). Values are chosen to reach the parts of the seed graph
where people are: 仓康实党建联合体, whose secretary 曹新民 is a Person node, whose quotes name
him, and whose article names him.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.models import derive_link_id
from graph_service.visibility import NAME_MASK, Visibility
from graph_service.visual.formats import FORMATS
from tests.conftest import AUTH, SEED_DIR

BODY = "org:pingyuan-cangkangshi"  # 仓康实党建联合体: 曹新民 is its secretary
VILLAGE = "village:371426001287"  # a member of it
COUNTY = "371426"  # 平原县
PERSON = "person:cangkangshi-cao-xinmin"
UNKNOWN = "person:nobody-of-that-name"
PERSON_NAME = "曹新民"
UNKNOWN_NAME = "查无此人"

#: A value for each parameter name the routes use. A GET route with a required parameter not
#: listed here fails ``test_every_parameter_has_a_value``.
VALUES: dict[str, Any] = {
    "node_id": BODY,
    "link_id": derive_link_id("MEMBER_OF", VILLAGE, BODY),
    "code": COUNTY,
    "document_id": "000_ebbe741d95becf05.txt",
    "judgement_id": "judgement:20250101T000000000000Z:00000000",
    "job_id": "job-00000000000000000000000000000000",
    "q": "仓康实",
    "scope": f"node:{BODY}",
    "source": BODY,
    "target": VILLAGE,
    "node": BODY,
    "region": COUNTY,
    "from": "2000-01-01",
    "to": "2026-01-01",
    "depth": 2,
    "include_structural": "true",
    "details": "true",
    "name": "平原县委组织部",
    "item_id": "rv_000000000000",
    "import_id": "im_000000000000",
    "merge_id": "mg_000000000000",
    "view_id": "v000000000000",
}
#: Parameters that name a node: the person sweep puts a person's id in them.
NODE_PARAMETERS = ("node_id", "source", "target", "node", "scope")
#: Bounded counts are asked at their maximum, to reach as much as a caller can.
AT_MAXIMUM = ("top", "limit")
#: Operations whose answer to a key holder names a person (proves the values reach them).
MUST_SHOW_PEOPLE_TO_KEY_HOLDERS = {
    "/v1/nodes/{node_id}",
    "/v1/nodes/{node_id}/neighbourhood",
    "/v1/links/{link_id}",
    "/v1/search",
    "/v1/documents/{document_id}",
    "/v1/analysis/centrality",
    "/v1/analysis/communities",
    "/v1/analysis/brokers",
    "/v1/export",
    "/v1/nodes/{node_id}/history",
    "/v1/links/{link_id}/history",
}


def _people() -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    names: set[str] = set()
    for path in sorted((SEED_DIR / "curated").glob("*.json")):
        for node in json.loads(path.read_text(encoding="utf-8"))["nodes"]:
            if node["label"] == "Person":
                ids.add(node["id"])
                names.update([node["name"], *node.get("aliases", [])])
    return ids, names


PERSON_IDS, PERSON_NAMES = _people()


def _get_operations(app: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    document = app.openapi()
    return [
        (path, item["get"].get("parameters", []))
        for path, item in sorted(document["paths"].items())
        if "get" in item
    ]


def _calls(
    path: str, parameters: list[dict[str, Any]], overrides: dict[str, Any] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The URL and query of each call to make of one operation (one per export format)."""
    values = {**VALUES, **(overrides or {})}
    url, query = path, {}
    for param in parameters:
        name, where = param["name"], param["in"]
        if where == "header":
            continue
        schema = param.get("schema", {})
        if name in AT_MAXIMUM:
            bounds = [s.get("maximum") for s in (schema, *schema.get("anyOf", []))]
            value = next((b for b in bounds if b is not None), None)
            if value is not None:
                query[name] = min(int(value), 1000)
            continue
        if name not in values:
            if param.get("required"):
                pytest.fail(f"{path}: no value for required parameter {name!r}; add it to VALUES")
            continue
        if where == "path":
            url = url.replace("{" + name + "}", str(values[name]))
        else:
            query[name] = values[name]
    if any(p["name"] == "format" for p in parameters):
        for fmt in FORMATS:
            yield url, {**query, "format": fmt}
    else:
        yield url, query


def _leaks(body: str) -> list[str]:
    return sorted(x for x in PERSON_IDS | PERSON_NAMES if x in body)


@pytest.fixture
def operations(seed_client: TestClient) -> list[tuple[str, list[dict[str, Any]]]]:
    return _get_operations(seed_client.app)


def test_every_parameter_has_a_value(operations: list[tuple[str, list[dict[str, Any]]]]) -> None:
    calls = [c for path, params in operations for c in _calls(path, params)]
    assert len(calls) >= 30


def test_no_person_reaches_anonymous_callers_on_any_get_route(
    seed_client: TestClient, operations: list[tuple[str, list[dict[str, Any]]]]
) -> None:
    leaks: dict[str, list[str]] = {}
    shown_to_key_holders: set[str] = set()
    statuses: dict[str, tuple[int, int]] = {}
    for path, params in operations:
        for url, query in _calls(path, params):
            anonymous = seed_client.get(url, params=query)
            keyed = seed_client.get(url, params=query, headers=AUTH)
            assert anonymous.status_code < 500, (url, query, anonymous.text[:300])
            assert keyed.status_code < 500, (url, query, keyed.text[:300])
            statuses[f"{url} {query}"] = (anonymous.status_code, keyed.status_code)
            if found := _leaks(anonymous.text):
                leaks[f"{url} {query}"] = found
            if _leaks(keyed.text):
                shown_to_key_holders.add(path)
    assert not leaks, leaks
    missing = MUST_SHOW_PEOPLE_TO_KEY_HOLDERS - shown_to_key_holders
    assert not missing, (missing, statuses)


@pytest.mark.parametrize(
    ("hidden", "unknown"), [(PERSON, UNKNOWN), (PERSON_NAME, UNKNOWN_NAME)], ids=["id", "name"]
)
def test_a_hidden_person_answers_as_an_unknown_id_does(
    seed_client: TestClient,
    operations: list[tuple[str, list[dict[str, Any]]]],
    hidden: str,
    unknown: str,
) -> None:
    """Anyone could otherwise test whether a person exists: each route's answer to a
    person's id (or name: routes take names too) equals its answer to an id (a name) that
    does not exist, but for the id (name) itself."""
    compared = 0
    for path, params in operations:
        names = {p["name"] for p in params}
        for name in NODE_PARAMETERS:
            if name not in names:
                continue
            answers = []
            for node in (hidden, unknown):
                value = f"node:{node}" if name == "scope" else node
                calls = list(_calls(path, params, {name: value}))
                url, query = calls[0]
                response = seed_client.get(url, params=query)
                answers.append((response.status_code, response.text.replace(node, "<id>")))
            assert answers[0] == answers[1], (path, name, answers)
            compared += 1
    assert compared >= 10
    assert seed_client.get(f"/v1/nodes/{PERSON}", headers=AUTH).status_code == 200
    assert seed_client.get(f"/v1/nodes/{hidden}", headers=AUTH).json()["id"] == PERSON


def test_no_person_reaches_anonymous_callers_at_a_recorded_moment(
    seed_client: TestClient, operations: list[tuple[str, list[dict[str, Any]]]]
) -> None:
    """The GET routes that read the graph as recorded at a moment (``recorded_as_of``), now:
    the public sees what it sees of the current graph, key holders see people."""
    now = dt.datetime.now(dt.UTC).isoformat()
    taking = [
        (p, params)
        for p, params in operations
        if any(x["name"] == "recorded_as_of" for x in params)
    ]
    assert len(taking) >= 4
    shown_to_key_holders = set()
    for path, params in taking:
        for url, query in _calls(path, params, {"recorded_as_of": now}):
            anonymous = seed_client.get(url, params=query)
            keyed = seed_client.get(url, params=query, headers=AUTH)
            assert anonymous.status_code == 200, (url, anonymous.text[:300])
            assert keyed.status_code == 200, (url, keyed.text[:300])
            assert not _leaks(anonymous.text), url
            if _leaks(keyed.text):
                shown_to_key_holders.add(path)
            for url_now, query_now in _calls(path, params):
                assert seed_client.get(url_now, params=query_now).status_code == 200
    assert {"/v1/nodes/{node_id}", "/v1/nodes/{node_id}/neighbourhood"} <= shown_to_key_holders


def test_the_reported_centrality_call_returns_no_person(seed_client: TestClient) -> None:
    """The issue's reproduction: anonymous degree centrality over everything."""
    query = {"scope": "all", "measure": "degree", "top": 500}
    anonymous = seed_client.get("/v1/analysis/centrality", params=query)
    assert anonymous.status_code == 200
    rows = anonymous.json()["measures"]["degree"]["rows"]["items"]
    assert rows
    assert not any(r["node"] in PERSON_IDS for r in rows)
    assert not _leaks(anonymous.text)
    keyed = seed_client.get("/v1/analysis/centrality", params=query, headers=AUTH).json()
    keyed_rows = keyed["measures"]["degree"]["rows"]["items"]
    assert any(r["node"] in PERSON_IDS for r in keyed_rows)
    # Counts do not single people out either: the public scope has fewer nodes.
    assert anonymous.json()["scope"]["nodes"] == keyed["scope"]["nodes"] - len(PERSON_IDS)


def test_personal_attributes_are_key_holders_only(client: TestClient) -> None:
    node = {
        "id": "ent:visibility-demo",
        "label": "Enterprise",
        "kind": "合作社",
        "name": "示范合作社",
        "attributes": {"contact_person": "王某人", "contact_phone": "13800000000", "members": 30},
    }
    assert client.post("/v1/nodes", json=node, headers=AUTH).status_code == 201
    public = client.get("/v1/nodes/ent:visibility-demo").json()
    assert public["attributes"] == {"members": 30}
    full = client.get("/v1/nodes/ent:visibility-demo", headers=AUTH).json()
    assert full["attributes"]["contact_person"] == "王某人"
    listed = client.get("/v1/nodes", params={"label": "Enterprise"}).text
    assert "13800000000" not in listed
    assert "王某人" not in listed


# ---------------------------------------------------------------------------------------
# The policy itself, by hand
# ---------------------------------------------------------------------------------------


def test_policy_masks_names_longest_first_and_leaves_full_alone() -> None:
    public = Visibility(full=False, names=("曹新民", "曹新"))
    assert public.text("党委书记曹新民介绍") == f"党委书记{NAME_MASK}介绍"
    full = Visibility(full=True, names=("曹新民",))
    assert full.text("曹新民") == "曹新民"


def test_policy_redacts_documents_without_changing_them() -> None:
    public = Visibility(full=False, names=("曹新民",))
    doc = {
        "id": "org:x",
        "label": "PartyOrganization",
        "name": "仓康实党建联合体",
        "attributes": {"contact_person": "曹新民", "party_members": 12},
        "sources": [{"kind": "article", "quote": "书记曹新民说"}],
    }
    out = public.doc(doc)
    assert out["attributes"] == {"party_members": 12}
    assert out["sources"][0]["quote"] == f"书记{NAME_MASK}说"
    assert doc["sources"][0]["quote"] == "书记曹新民说"
    assert doc["attributes"]["contact_person"] == "曹新民"


def test_policy_hides_people_and_their_links_from_graphs() -> None:
    import networkx as nx

    G = nx.MultiDiGraph()
    G.add_node("person:a", label="Person", name="甲")
    G.add_node("org:b", label="PartyOrganization", name="乙党委")
    G.add_node("village:c", label="Village", name="丙村")
    G.add_edge("person:a", "org:b", key="l1", type="HOLDS_POSITION")
    G.add_edge("village:c", "org:b", key="l2", type="MEMBER_OF")
    public = Visibility(full=False, names=("甲",)).graph(G)
    assert sorted(public) == ["org:b", "village:c"]
    assert [k for _, _, k in public.edges(keys=True)] == ["l2"]
    assert Visibility(full=True).graph(G) is G
    # A graph with nothing personal in it is served as is, not copied.
    G.remove_node("person:a")
    assert Visibility(full=False).graph(G) is G
    G.nodes["org:b"]["attributes"] = {"contact_phone": "1"}
    assert "contact_phone" not in Visibility(full=False).graph(G).nodes["org:b"]["attributes"]
    assert Visibility(full=False).labels(["Person", "Village"]) == ["Village"]
    assert Visibility(full=False).labels(["Person"]) == []


def test_tests_read_the_seed_people() -> None:
    assert PERSON in PERSON_IDS
    assert "曹新民" in PERSON_NAMES
    assert Path(SEED_DIR).is_dir()
