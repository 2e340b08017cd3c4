"""The HTTP API end to end: every endpoint, success and failure, on each backend.

``api`` is the app on an empty store, ``seed_client`` the app on the seed graph (read-only).
Writes carry ``KEY``; see ``_accept_key`` for why it may differ from ``conftest.AUTH``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from conftest import AUTH, SEED_DIR
from fastapi.testclient import TestClient

from graph_service.schema import LINK_TYPES, NODE_LABELS
from graph_service.settings import hash_api_key

PROBLEM = "application/problem+json"
# conftest's key is not ASCII, and an HTTP client cannot send it as a header value (see
# test_configured_non_ascii_api_key_is_accepted); the suite then adds an ASCII key of its own.
FALLBACK_KEY = "api-suite-key"
KEY = AUTH if all(v.isascii() for v in AUTH.values()) else {"X-API-Key": FALLBACK_KEY}


def _accept_key(c: TestClient) -> TestClient:
    if KEY is not AUTH:
        settings = c.app.state.settings  # type: ignore[attr-defined]
        hashes = [*settings.api_key_hashes, hash_api_key(FALLBACK_KEY)]
        c.app.state.settings = settings.model_copy(update={"api_key_hashes": hashes})  # type: ignore[attr-defined]
    return c


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return _accept_key(client)


# ---------------------------------------------------------------------------- helpers


def node(id_: str, label: str, name: str, kind: str | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": id_, "label": label, "name": name, **extra}
    if kind is not None:
        doc["kind"] = kind
    return doc


def village(id_: str, name: str, code: str, **extra: Any) -> dict[str, Any]:
    return node(id_, "Village", name, "行政村", region_code=code, **extra)


def org(id_: str, name: str, kind: str = "党支部", **extra: Any) -> dict[str, Any]:
    return node(id_, "PartyOrganization", name, kind, **extra)


def ent(id_: str, name: str, kind: str = "公司", **extra: Any) -> dict[str, Any]:
    return node(id_, "Enterprise", name, kind, **extra)


def link(type_: str, source: str, target: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "source": source, "target": target, **extra}


def write(c: TestClient, nodes: list[dict[str, Any]], links: Sequence[dict[str, Any]] = ()) -> Any:
    r = c.post("/v1/batch", json={"nodes": nodes, "links": list(links)}, headers=KEY)
    assert r.status_code == 200, r.text
    return r.json()


def problem(r: Any, status: int, code: str | None = None, field: str | None = None) -> Any:
    """Assert ``r`` is a problem+json of ``status`` (and ``code`` / ``field``); return body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status
    assert body["type"] == f"/problems/{body['code']}"
    if code is not None:
        assert body["code"] == code
    if field is not None:
        assert body.get("field") == field, body
    return body


def pages(
    c: TestClient, path: str, limit: int, headers: Any = None, **params: Any
) -> Iterator[list]:
    cursor, seen = None, set()
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = c.get(path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= limit
        yield body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return
        assert cursor not in seen, "the cursor went round in a circle"
        seen.add(cursor)


def all_items(c: TestClient, path: str, limit: int = 1000, **params: Any) -> list[dict[str, Any]]:
    return [item for page in pages(c, path, limit, **params) for item in page]


def totals(c: TestClient) -> tuple[int, int]:
    body = c.get("/v1/stats", headers=KEY).json()
    return body["nodes"], body["links"]


# ---------------------------------------------------------------------------- meta


def test_healthz_answers_ok(api: TestClient) -> None:
    r = api.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_reports_the_store_backend(api: TestClient, backend: str) -> None:
    r = api.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["store"]) == ("ready", backend)
    assert body["indexes"]["state"] in ("off", "warm")


def test_schema_lists_every_label_and_link_type_of_the_registry(api: TestClient) -> None:
    body = api.get("/v1/schema").json()
    labels = {entry["label"]: entry for entry in body["node_labels"]}
    types = {entry["type"]: entry for entry in body["link_types"]}
    assert list(labels) == list(NODE_LABELS)
    assert list(types) == list(LINK_TYPES)
    for label, spec in NODE_LABELS.items():
        assert labels[label]["kinds"] == list(spec.kinds)
        assert labels[label]["sensitive"] is spec.sensitive
        assert [a["name"] for a in labels[label]["attributes"]] == [a.name for a in spec.attributes]
    for type_, spec in LINK_TYPES.items():
        assert types[type_]["sources"] == sorted(spec.sources)
        assert types[type_]["targets"] == sorted(spec.targets)
        assert types[type_]["symmetric"] is spec.symmetric


def test_stats_count_nodes_and_links_by_label_and_type(api: TestClient, backend: str) -> None:
    empty = api.get("/v1/stats").json()
    assert (empty["store"], empty["nodes"], empty["links"]) == (backend, 0, 0)
    write(
        api,
        [org("org:a", "甲支部"), org("org:b", "乙联合党委", "联合党委"), ent("ent:c", "丙公司")],
        [link("MEMBER_OF", "org:a", "org:b"), link("MEMBER_OF", "ent:c", "org:b")],
    )
    body = api.get("/v1/stats").json()
    assert body["nodes"] == 3
    assert body["links"] == 2
    assert body["nodes_by_label"] == {"PartyOrganization": 2, "Enterprise": 1}
    assert body["links_by_type"] == {"MEMBER_OF": 2}
    assert body["version"] != empty["version"]


def test_unknown_route_and_method_are_problems(api: TestClient) -> None:
    problem(api.get("/v1/nowhere"), 404, "not_found")
    problem(api.patch("/v1/nodes/org:a", json={}, headers=KEY), 405, "method_not_allowed")


def test_documents_list_every_curated_document(api: TestClient) -> None:
    items = api.get("/v1/documents").json()["items"]
    expected = {
        json.loads(p.read_text(encoding="utf-8"))["document"]["id"]
        for p in (SEED_DIR / "curated").glob("*.json")
    }
    assert {d["id"] for d in items} == expected
    assert all(d["title"] for d in items)


def test_document_text_contains_a_quoted_sentence(api: TestClient) -> None:
    r = api.get("/v1/documents/000_ebbe741d95becf05.txt")
    assert r.status_code == 200
    body = r.json()
    assert body["region_code"] == "371426"
    assert "目前,平原县共打造联合体62个,覆盖行政村424个,覆盖率100%。" in body["text"]


def test_unknown_document_is_404(api: TestClient) -> None:
    problem(api.get("/v1/documents/999_nope.txt"), 404, "not_found", "document_id")


# ---------------------------------------------------------------------------- nodes


def test_post_node_creates_it_with_location_and_api_provenance(api: TestClient) -> None:
    payload = village("village:370302112206", "台头村", "370302112206", aliases=["台头"])
    r = api.post("/v1/nodes", json=payload, headers=KEY)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/nodes/village:370302112206"
    body = r.json()
    for key, value in payload.items():
        assert body[key] == value
    (source,) = body["sources"]
    assert source["kind"] == "api"
    assert source["recorded_at"]
    assert api.get("/v1/nodes/village:370302112206").json() == body


def test_post_node_keeps_given_sources_attested_by_the_server(api: TestClient) -> None:
    """The given source is kept, stamped with the account and the clock; the write adds its
    own record."""
    sources = [{"kind": "article", "document": "003_55c5f0cdd4cb0f9f.txt", "quote": "台头村"}]
    r = api.post("/v1/nodes", json=org("org:t", "台头村党支部", sources=sources), headers=KEY)
    assert r.status_code == 201
    given, record = r.json()["sources"]
    assert {k: given[k] for k in sources[0]} == sources[0]
    assert given["by"] == record["by"] == "api-key"
    assert given["recorded_at"]
    assert record["kind"] == "api"


def test_post_existing_node_id_is_409_conflict(api: TestClient) -> None:
    assert api.post("/v1/nodes", json=org("org:a", "甲"), headers=KEY).status_code == 201
    problem(api.post("/v1/nodes", json=org("org:a", "乙"), headers=KEY), 409, "conflict", "id")
    assert api.get("/v1/nodes/org:a").json()["name"] == "甲"


def test_put_creates_then_replaces_a_node(api: TestClient) -> None:
    first = org("org:a", "甲支部", attributes={"party_members": 30, "charter_signed": True})
    r = api.put("/v1/nodes/org:a", json=first, headers=KEY)
    assert r.status_code == 201, r.text
    second = org("org:a", "甲村党支部", "党总支", attributes={"party_members": 31})
    r = api.put("/v1/nodes/org:a", json=second, headers=KEY)
    assert r.status_code == 200, r.text
    stored = api.get("/v1/nodes/org:a").json()
    assert (stored["name"], stored["kind"]) == ("甲村党支部", "党总支")
    assert stored["attributes"] == {"party_members": 31}


def test_put_node_without_a_body_id_takes_the_path_id(api: TestClient) -> None:
    payload = org("org:a", "甲支部")
    del payload["id"]
    r = api.put("/v1/nodes/org:a", json=payload, headers=KEY)
    assert r.status_code == 201, r.text
    assert api.get("/v1/nodes/org:a").json()["name"] == "甲支部"


def test_put_with_a_body_id_other_than_the_path_is_422(api: TestClient) -> None:
    r = api.put("/v1/nodes/org:a", json=org("org:b", "乙"), headers=KEY)
    problem(r, 422, "invalid_input", "id")
    problem(api.get("/v1/nodes/org:a"), 404)
    problem(api.get("/v1/nodes/org:b"), 404)


def test_put_changing_the_label_of_a_node_is_409(api: TestClient) -> None:
    api.put("/v1/nodes/x:1", json=org("x:1", "甲"), headers=KEY)
    r = api.put("/v1/nodes/x:1", json=ent("x:1", "甲公司"), headers=KEY)
    problem(r, 409, "conflict", "label")
    assert api.get("/v1/nodes/x:1").json()["label"] == "PartyOrganization"


def test_get_unknown_node_is_404_on_id(api: TestClient) -> None:
    body = problem(api.get("/v1/nodes/org:nope"), 404, "not_found", "id")
    assert body["instance"] == "/v1/nodes/org:nope"


def test_delete_node_then_it_is_gone(api: TestClient) -> None:
    write(api, [org("org:a", "甲")])
    r = api.delete("/v1/nodes/org:a", headers=KEY)
    assert r.status_code == 204
    assert r.content == b""
    problem(api.get("/v1/nodes/org:a"), 404, "not_found", "id")
    problem(api.delete("/v1/nodes/org:a", headers=KEY), 404, "not_found", "id")


def test_delete_node_with_links_needs_detach(api: TestClient) -> None:
    write(
        api,
        [org("org:a", "甲"), org("org:hub", "联合党委", "联合党委"), ent("ent:c", "丙")],
        [link("MEMBER_OF", "org:a", "org:hub"), link("MEMBER_OF", "ent:c", "org:hub")],
    )
    body = problem(api.delete("/v1/nodes/org:hub", headers=KEY), 409, "conflict", "id")
    assert body["details"]["links"] == 2
    assert len(api.get("/v1/links", params={"node": "org:hub"}).json()["items"]) == 2
    assert (
        api.delete("/v1/nodes/org:hub", params={"detach": "true"}, headers=KEY).status_code == 204
    )
    problem(api.get("/v1/nodes/org:hub"), 404)
    assert api.get("/v1/links", params={"node": "org:hub"}).json()["items"] == []
    assert api.get("/v1/stats").json()["links"] == 0
    assert api.get("/v1/nodes/org:a").status_code == 200


def _list_fixture(api: TestClient) -> None:
    write(
        api,
        [node(f"ind:{i:02d}", "Industry", f"产业{i}") for i in range(23)]
        + [
            village("v:1", "甲村", "370302112201"),
            village("v:2", "乙村", "370302112202"),
            village("v:3", "丙村", "371426001001"),
            org("o:1", "甲支部", region_code="370302112"),
            org("o:2", "联合党委", "联合党委", region_code="371426"),
        ],
    )


def test_list_nodes_walks_every_page_in_id_order(api: TestClient) -> None:
    _list_fixture(api)
    seen = [n["id"] for page in pages(api, "/v1/nodes", 4) for n in page]
    assert len(seen) == 28
    assert len(set(seen)) == len(seen)
    assert seen == sorted(seen)
    industries = [n["id"] for page in pages(api, "/v1/nodes", 5, label="Industry") for n in page]
    assert industries == [f"ind:{i:02d}" for i in range(23)]


def test_list_nodes_filters_by_label_kind_and_region_code(api: TestClient) -> None:
    _list_fixture(api)

    def ids(**params: Any) -> list[str]:
        return [n["id"] for n in api.get("/v1/nodes", params=params).json()["items"]]

    assert ids(label="Village") == ["v:1", "v:2", "v:3"]
    assert ids(label=["Village", "PartyOrganization"]) == ["o:1", "o:2", "v:1", "v:2", "v:3"]
    assert ids(label="PartyOrganization", kind="联合党委") == ["o:2"]
    assert ids(region_code="370302") == ["o:1", "v:1", "v:2"]
    assert ids(region_code="371426", label="Village") == ["v:3"]
    assert ids(label="Program") == []


def test_node_as_of_inside_and_outside_its_validity(api: TestClient) -> None:
    write(api, [org("org:old", "旧支部", valid_from="2020-01-01", valid_to="2020-12-31")])
    assert api.get("/v1/nodes/org:old", params={"as_of": "2020-06-01"}).status_code == 200
    assert api.get("/v1/nodes/org:old", params={"as_of": "2020-12-31"}).status_code == 200
    problem(api.get("/v1/nodes/org:old", params={"as_of": "2021-01-01"}), 404, field="id")
    problem(api.get("/v1/nodes/org:old", params={"as_of": "2019-12-31"}), 404, field="id")
    listed = api.get("/v1/nodes", params={"as_of": "2021-01-01"}).json()["items"]
    assert listed == []
    assert len(api.get("/v1/nodes", params={"as_of": "2020-01-01"}).json()["items"]) == 1
    found = api.get("/v1/search", params={"q": "旧支部", "as_of": "2021-01-01"}).json()["items"]
    assert found == []
    assert api.get("/v1/nodes/org:old").status_code == 200


# ---------------------------------------------------------------------------- links


@pytest.fixture
def trio(api: TestClient) -> TestClient:
    write(
        api,
        [
            org("org:a", "甲支部"),
            org("org:hub", "联合党委", "联合党委"),
            village("v:1", "甲村", "370302112201"),
            ent("ent:c", "丙公司"),
            node("region:370302112", "Region", "龙泉镇", "乡镇", region_code="370302112"),
        ],
    )
    return api


def test_post_link_derives_its_id_and_a_repeat_is_409(trio: TestClient) -> None:
    payload = link("MEMBER_OF", "org:a", "org:hub", attributes={"role": "member"})
    r = trio.post("/v1/links", json=payload, headers=KEY)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"].startswith("member_of:")
    assert r.headers["location"] == f"/v1/links/{body['id']}"
    assert (body["source"], body["target"], body["attributes"]) == (
        "org:a",
        "org:hub",
        {"role": "member"},
    )
    assert body["sources"][0]["kind"] == "api"
    assert trio.get(f"/v1/links/{body['id']}").json() == body
    again = trio.post("/v1/links", json=payload, headers=KEY)
    problem(again, 409, "conflict", "id")


def test_symmetric_link_id_ignores_direction(trio: TestClient) -> None:
    r = trio.post("/v1/links", json=link("CO_BUILDS", "org:a", "ent:c"), headers=KEY)
    assert r.status_code == 201
    problem(trio.post("/v1/links", json=link("CO_BUILDS", "ent:c", "org:a"), headers=KEY), 409)


@pytest.mark.parametrize("end", ["source", "target"])
def test_link_to_an_unknown_node_is_404_on_that_end(trio: TestClient, end: str) -> None:
    payload = link("MEMBER_OF", "org:a", "org:hub")
    payload[end] = "org:ghost"
    problem(trio.post("/v1/links", json=payload, headers=KEY), 404, "not_found", end)


def test_link_type_not_allowed_between_labels_is_422_on_type(trio: TestClient) -> None:
    r = trio.post("/v1/links", json=link("IN_REGION", "v:1", "ent:c"), headers=KEY)
    body = problem(r, 422, "invalid_input", "type")
    assert body["details"]["allowed"]["targets"] == ["Region"]
    allowed = link("IN_REGION", "v:1", "region:370302112")
    assert trio.post("/v1/links", json=allowed, headers=KEY).status_code == 201


def test_self_loop_is_422_on_target(trio: TestClient) -> None:
    problem(
        trio.post("/v1/links", json=link("CO_BUILDS", "org:a", "org:a"), headers=KEY),
        422,
        "invalid_input",
        "target",
    )


def test_put_get_delete_a_link(trio: TestClient) -> None:
    first = link("PAIRS_WITH", "ent:c", "v:1", id="pair:1", attributes={"jobs": 3})
    r = trio.put("/v1/links/pair:1", json=first, headers=KEY)
    assert r.status_code == 201, r.text
    r = trio.put("/v1/links/pair:1", json={**first, "attributes": {"jobs": 5}}, headers=KEY)
    assert r.status_code == 200
    assert trio.get("/v1/links/pair:1").json()["attributes"] == {"jobs": 5}
    problem(
        trio.put("/v1/links/pair:1", json={**first, "id": "pair:2"}, headers=KEY), 422, field="id"
    )
    moved = {**first, "target": "org:a"}
    problem(trio.put("/v1/links/pair:1", json=moved, headers=KEY), 409, "conflict", "id")
    assert trio.delete("/v1/links/pair:1", headers=KEY).status_code == 204
    problem(trio.get("/v1/links/pair:1"), 404, "not_found", "id")
    problem(trio.delete("/v1/links/pair:1", headers=KEY), 404, "not_found", "id")
    r = trio.put("/v1/links/pair:3", json=link("PAIRS_WITH", "ent:c", "org:a"), headers=KEY)
    assert (r.status_code, r.json()["id"]) == (201, "pair:3")


def test_list_links_filters_by_type_source_target_and_node(trio: TestClient) -> None:
    write(
        trio,
        [],
        [
            link("MEMBER_OF", "org:a", "org:hub", id="l:1"),
            link("MEMBER_OF", "ent:c", "org:hub", id="l:2"),
            link("ORGANIZATION_OF", "org:a", "v:1", id="l:3"),
            link("IN_REGION", "v:1", "region:370302112", id="l:4", valid_to="2019-12-31"),
        ],
    )

    def ids(**params: Any) -> list[str]:
        return [x["id"] for x in trio.get("/v1/links", params=params).json()["items"]]

    assert ids() == ["l:1", "l:2", "l:3", "l:4"]
    assert ids(type="MEMBER_OF") == ["l:1", "l:2"]
    assert ids(type=["ORGANIZATION_OF", "IN_REGION"]) == ["l:3", "l:4"]
    assert ids(source="org:a") == ["l:1", "l:3"]
    assert ids(target="org:hub") == ["l:1", "l:2"]
    assert ids(node="v:1") == ["l:3", "l:4"]
    assert ids(source="org:a", type="MEMBER_OF") == ["l:1"]
    assert ids(as_of="2020-01-01") == ["l:1", "l:2", "l:3"]
    assert [x["id"] for page in pages(trio, "/v1/links", 1) for x in page] == ids()
    problem(trio.get("/v1/links/l:4", params={"as_of": "2020-01-01"}), 404, field="id")
    assert trio.get("/v1/links/l:4", params={"as_of": "2019-01-01"}).status_code == 200


# ---------------------------------------------------------------------------- batch


def test_batch_with_a_bad_last_link_writes_nothing(api: TestClient) -> None:
    body = {
        "nodes": [org("org:a", "甲"), org("org:hub", "联合党委", "联合党委")],
        "links": [link("MEMBER_OF", "org:a", "org:hub"), link("MEMBER_OF", "org:ghost", "org:hub")],
    }
    problem(api.post("/v1/batch", json=body, headers=KEY), 404, "not_found", "links.1.source")
    for node_id in ("org:a", "org:hub"):
        problem(api.get(f"/v1/nodes/{node_id}"), 404)
    assert totals(api) == (0, 0)


def test_batch_with_an_invalid_node_names_its_index_and_writes_nothing(api: TestClient) -> None:
    body = {"nodes": [org("org:a", "甲"), village("v:1", "甲村", "3703")]}
    problem(
        api.post("/v1/batch", json=body, headers=KEY), 422, "invalid_input", "nodes.1.region_code"
    )
    dup = {"nodes": [org("org:a", "甲"), org("org:a", "乙")]}
    problem(api.post("/v1/batch", json=dup, headers=KEY), 422, "invalid_input", "nodes.1.id")
    assert totals(api) == (0, 0)


def test_batch_counts_creates_updates_and_deletes(api: TestClient) -> None:
    nodes = [org("org:a", "甲"), org("org:hub", "联合党委", "联合党委"), ent("ent:c", "丙")]
    links = [
        link("MEMBER_OF", "org:a", "org:hub", id="l:1"),
        link("MEMBER_OF", "ent:c", "org:hub", id="l:2"),
    ]
    first = write(api, nodes, links)
    assert {k: first[k] for k in first if k != "version"} == {
        "nodes_created": 3, "nodes_updated": 0, "links_created": 2,
        "links_updated": 0, "links_deleted": 0, "nodes_deleted": 0,
    }  # fmt: skip
    again = write(api, nodes, links)
    assert (again["nodes_created"], again["nodes_updated"]) == (0, 3)
    assert (again["links_created"], again["links_updated"]) == (0, 2)
    assert again["version"] != first["version"]
    r = api.post(
        "/v1/batch", json={"delete_links": ["l:1"], "delete_nodes": ["org:a"]}, headers=KEY
    )
    assert r.status_code == 200, r.text
    assert (r.json()["links_deleted"], r.json()["nodes_deleted"]) == (1, 1)
    assert totals(api) == (2, 1)


def test_batch_delete_of_a_linked_node_needs_detach(api: TestClient) -> None:
    write(
        api,
        [org("org:a", "甲"), org("org:hub", "联", "联合党委")],
        [link("MEMBER_OF", "org:a", "org:hub")],
    )
    body = problem(
        api.post("/v1/batch", json={"delete_nodes": ["org:hub"]}, headers=KEY),
        409,
        "conflict",
        "delete_nodes.0",
    )
    assert body["details"]["links"] == 1
    r = api.post("/v1/batch", json={"delete_nodes": ["org:hub"], "detach": True}, headers=KEY)
    assert r.status_code == 200
    assert (r.json()["nodes_deleted"], r.json()["links_deleted"]) == (1, 1)
    problem(
        api.post("/v1/batch", json={"delete_links": ["l:nope"]}, headers=KEY),
        404,
        field="delete_links.0",
    )
    assert totals(api) == (1, 0)


# ---------------------------------------------------------------------------- sensitive data


@pytest.fixture
def secret(api: TestClient) -> TestClient:
    write(
        api,
        [
            org("org:hub", "龙泉镇联合党委", "联合党委"),
            org("org:a", "甲支部"),
            node("person:li", "Person", "李书记", "书记", attributes={"title": "书记"}),
            node("prog:x", "Program", "支部领办合作社", "行动"),
        ],
        [
            link("MEMBER_OF", "org:a", "org:hub"),
            link("HOLDS_POSITION", "person:li", "org:hub", id="hp:1"),
            link("PART_OF_PROGRAM", "person:li", "prog:x", id="pp:1"),
        ],
    )
    return api


def test_person_is_hidden_from_anonymous_point_reads(secret: TestClient) -> None:
    problem(secret.get("/v1/nodes/person:li"), 404, "not_found", "id")
    problem(secret.get("/v1/links/hp:1"), 404, "not_found", "id")
    problem(secret.get("/v1/nodes/person:li/neighbourhood"), 404)
    problem(
        secret.get("/v1/paths", params={"source": "person:li", "target": "org:a"}),
        404,
        field="source",
    )
    assert secret.get("/v1/nodes/person:li", headers=KEY).json()["name"] == "李书记"
    assert secret.get("/v1/links/hp:1", headers=KEY).json()["type"] == "HOLDS_POSITION"


def test_person_is_hidden_from_anonymous_search_lists_and_neighbourhoods(
    secret: TestClient,
) -> None:
    def names(headers: Any = None) -> list[str]:
        items = secret.get("/v1/search", params={"q": "李书记"}, headers=headers).json()["items"]
        return [h["node"]["name"] for h in items]

    assert names() == []
    assert names(KEY) == ["李书记"]
    assert secret.get("/v1/nodes", params={"label": "Person"}).json()["items"] == []
    assert [n["id"] for n in secret.get("/v1/nodes").json()["items"]] == [
        "org:a",
        "org:hub",
        "prog:x",
    ]
    assert secret.get("/v1/links", params={"type": "HOLDS_POSITION"}).json()["items"] == []
    assert (
        len(secret.get("/v1/links", params={"node": "org:hub"}, headers=KEY).json()["items"]) == 2
    )

    anonymous = secret.get("/v1/nodes/org:hub/neighbourhood").json()
    assert {n["id"] for n in anonymous["nodes"]} == {"org:hub", "org:a"}
    assert {x["type"] for x in anonymous["links"]} == {"MEMBER_OF"}
    keyed = secret.get("/v1/nodes/org:hub/neighbourhood", headers=KEY).json()
    assert {n["id"] for n in keyed["nodes"]} == {"org:hub", "org:a", "person:li"}
    assert {x["type"] for x in keyed["links"]} == {"MEMBER_OF", "HOLDS_POSITION"}


def test_person_is_left_out_of_anonymous_stats(secret: TestClient) -> None:
    anonymous = secret.get("/v1/stats").json()
    assert "Person" not in anonymous["nodes_by_label"]
    assert anonymous["nodes"] == 3
    keyed = secret.get("/v1/stats", headers=KEY).json()
    assert keyed["nodes_by_label"]["Person"] == 1
    assert keyed["nodes"] == 4


def test_sensitive_link_types_are_left_out_of_anonymous_stats(secret: TestClient) -> None:
    anonymous = secret.get("/v1/stats").json()
    assert "HOLDS_POSITION" not in anonymous["links_by_type"], anonymous
    assert anonymous["links"] == sum(anonymous["links_by_type"].values())
    assert secret.get("/v1/stats", headers=KEY).json()["links_by_type"]["HOLDS_POSITION"] == 1


def test_anonymous_search_cannot_ask_for_persons_by_label(secret: TestClient) -> None:
    r = secret.get("/v1/search", params={"q": "李书记", "label": "Person"})
    assert r.status_code == 200
    assert r.json()["items"] == [], r.json()


def test_anonymous_neighbourhood_cannot_ask_for_persons_by_filter(secret: TestClient) -> None:
    nodes, links, _ = _around(secret, "prog:x", label="Person")
    assert (nodes, links) == ({"prog:x": 0}, set())
    # Asking for the hidden link type alone must not widen the query to every type.
    nodes, links, _ = _around(secret, "org:hub", link_type="HOLDS_POSITION")
    assert (nodes, links) == ({"org:hub": 0}, set())


def test_anonymous_link_lists_hide_links_of_persons(secret: TestClient) -> None:
    assert secret.get("/v1/links", params={"node": "person:li"}).json()["items"] == []
    for x in secret.get("/v1/links").json()["items"]:
        assert "person:li" not in (x["source"], x["target"]), x
    keyed = secret.get("/v1/links", params={"node": "person:li"}, headers=KEY).json()["items"]
    assert {x["id"] for x in keyed} == {"hp:1", "pp:1"}


# ---------------------------------------------------------------------------- search


@pytest.fixture
def taitou(api: TestClient) -> TestClient:
    write(
        api,
        [
            village("v:taitou", "台头村", "370302112206"),
            village("v:taitouya", "台头崖村", "370302112299"),
            org("org:taitou", "龙泉镇台头村党支部"),
            ent("ent:fcy", "芳草园专业合作社", "合作社", aliases=["芳草园合作社", "FCY Coop"]),
        ],
    )
    return api


def _hits(c: TestClient, **params: Any) -> list[tuple[str, str, str]]:
    r = c.get("/v1/search", params=params)
    assert r.status_code == 200, r.text
    assert r.json()["query"] == params["q"]
    return [(h["node"]["name"], h["match"], h["matched"]) for h in r.json()["items"]]


def test_search_ranks_exact_before_prefix_before_substring(taitou: TestClient) -> None:
    assert _hits(taitou, q="台头村") == [
        ("台头村", "exact", "台头村"),
        ("龙泉镇台头村党支部", "substring", "龙泉镇台头村党支部"),
    ]
    assert _hits(taitou, q="台头") == [
        ("台头村", "prefix", "台头村"),
        ("台头崖村", "prefix", "台头崖村"),
        ("龙泉镇台头村党支部", "substring", "龙泉镇台头村党支部"),
    ]
    scores = [h["score"] for h in taitou.get("/v1/search", params={"q": "台头"}).json()["items"]]
    assert scores == sorted(scores, reverse=True)


def test_search_matches_aliases_case_insensitively(taitou: TestClient) -> None:
    assert _hits(taitou, q="芳草园合作社") == [("芳草园专业合作社", "exact", "芳草园合作社")]
    assert _hits(taitou, q="fcy coop") == [("芳草园专业合作社", "exact", "FCY Coop")]


def test_search_label_filter_and_limit(taitou: TestClient) -> None:
    assert [h[0] for h in _hits(taitou, q="台头", label="PartyOrganization")] == [
        "龙泉镇台头村党支部"
    ]
    assert [h[0] for h in _hits(taitou, q="台头", label=["Village", "Enterprise"])] == [
        "台头村",
        "台头崖村",
    ]
    assert [h[0] for h in _hits(taitou, q="台头", limit=1)] == ["台头村"]
    assert _hits(taitou, q="不存在的名字") == []


# ---------------------------------------------------------------------------- neighbourhood


@pytest.fixture
def star(api: TestClient) -> TestClient:
    """hub ← a, b, c (MEMBER_OF); a → d (ORGANIZATION_OF); c → e (IN_INDUSTRY).
    The b → hub membership ended on 2020-12-31."""
    write(
        api,
        [
            org("hub", "联合党委", "联合党委"),
            org("a", "甲支部"),
            org("b", "乙支部"),
            ent("c", "丙公司"),
            village("d", "甲村", "370302112201"),
            node("e", "Industry", "水泥"),
        ],
        [
            link("MEMBER_OF", "a", "hub", id="a-hub"),
            link("MEMBER_OF", "b", "hub", id="b-hub", valid_to="2020-12-31"),
            link("MEMBER_OF", "c", "hub", id="c-hub"),
            link("ORGANIZATION_OF", "a", "d", id="a-d"),
            link("IN_INDUSTRY", "c", "e", id="c-e"),
        ],
    )
    return api


def _around(c: TestClient, centre: str, **params: Any) -> tuple[dict[str, int], set[str], bool]:
    r = c.get(f"/v1/nodes/{centre}/neighbourhood", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["centre"] == centre
    return (
        {n["id"]: n["depth"] for n in body["nodes"]},
        {x["id"] for x in body["links"]},
        body["truncated"],
    )


def test_neighbourhood_depth_one_and_two(star: TestClient) -> None:
    nodes, links, truncated = _around(star, "hub")
    assert nodes == {"hub": 0, "a": 1, "b": 1, "c": 1}
    assert links == {"a-hub", "b-hub", "c-hub"}
    assert truncated is False
    nodes, links, _ = _around(star, "hub", depth=2)
    assert nodes == {"hub": 0, "a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    assert links == {"a-hub", "b-hub", "c-hub", "a-d", "c-e"}


def test_neighbourhood_link_type_and_label_filters(star: TestClient) -> None:
    nodes, links, _ = _around(star, "hub", depth=2, link_type="MEMBER_OF")
    assert set(nodes) == {"hub", "a", "b", "c"}
    assert links == {"a-hub", "b-hub", "c-hub"}
    nodes, _, _ = _around(star, "hub", depth=2, link_type=["MEMBER_OF", "IN_INDUSTRY"])
    assert set(nodes) == {"hub", "a", "b", "c", "e"}
    nodes, links, _ = _around(star, "hub", label="Enterprise")
    assert nodes == {"hub": 0, "c": 1}
    assert links == {"c-hub"}


def test_neighbourhood_direction(star: TestClient) -> None:
    assert set(_around(star, "hub", direction="out")[0]) == {"hub"}
    assert set(_around(star, "hub", direction="in")[0]) == {"hub", "a", "b", "c"}
    assert set(_around(star, "a", direction="out")[0]) == {"a", "hub", "d"}
    assert set(_around(star, "a", direction="in")[0]) == {"a"}


def test_neighbourhood_limit_truncates(star: TestClient) -> None:
    nodes, _, truncated = _around(star, "hub", limit=2)
    assert len(nodes) == 2
    assert nodes["hub"] == 0
    assert truncated is True
    assert _around(star, "hub", limit=4)[2] is False


def test_neighbourhood_as_of_hides_an_expired_link(star: TestClient) -> None:
    nodes, links, _ = _around(star, "hub", as_of="2021-06-01")
    assert set(nodes) == {"hub", "a", "c"}
    assert "b-hub" not in links
    assert set(_around(star, "hub", as_of="2020-06-01")[0]) == {"hub", "a", "b", "c"}


def test_neighbourhood_of_unknown_node_is_404(star: TestClient) -> None:
    problem(star.get("/v1/nodes/ghost/neighbourhood"), 404, "not_found", "id")


# ---------------------------------------------------------------------------- paths


@pytest.fixture
def diamond(api: TestClient) -> TestClient:
    """s -CO_BUILDS- m1 -CO_BUILDS- t and s -PAIRS_WITH-> m2 -PAIRS_WITH-> t; x is alone."""
    write(
        api,
        [org(i, f"支部{i}") for i in ("s", "m1", "m2", "t", "x")],
        [
            link("CO_BUILDS", "s", "m1", id="s-m1"),
            link("CO_BUILDS", "m1", "t", id="m1-t"),
            link("PAIRS_WITH", "s", "m2", id="s-m2"),
            link("PAIRS_WITH", "m2", "t", id="m2-t"),
        ],
    )
    return api


def _paths(c: TestClient, **params: Any) -> Any:
    r = c.get("/v1/paths", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_paths_finds_every_shortest_path(diamond: TestClient) -> None:
    body = _paths(diamond, source="s", target="t")
    assert body["length"] == 2
    assert sorted((p["nodes"], p["links"]) for p in body["paths"]) == [
        (["s", "m1", "t"], ["s-m1", "m1-t"]),
        (["s", "m2", "t"], ["s-m2", "m2-t"]),
    ]
    assert {n["id"] for n in body["nodes"]} == {"s", "m1", "m2", "t"}
    assert {x["id"] for x in body["links"]} == {"s-m1", "m1-t", "s-m2", "m2-t"}


def test_paths_link_type_filter_changes_the_answer(diamond: TestClient) -> None:
    body = _paths(diamond, source="s", target="t", link_type="CO_BUILDS")
    assert [p["nodes"] for p in body["paths"]] == [["s", "m1", "t"]]
    body = _paths(diamond, source="t", target="s", link_type="PAIRS_WITH")
    assert [p["nodes"] for p in body["paths"]] == [["t", "m2", "s"]]
    assert _paths(diamond, source="s", target="t", limit=1)["length"] == 2
    assert len(_paths(diamond, source="s", target="t", limit=1)["paths"]) == 1


def test_no_path_is_empty_with_null_length(diamond: TestClient) -> None:
    for params in ({"source": "s", "target": "x"}, {"source": "s", "target": "t", "max_depth": 1}):
        body = _paths(diamond, **params)
        assert (body["paths"], body["length"], body["nodes"], body["links"]) == ([], None, [], [])


@pytest.mark.parametrize("end", ["source", "target"])
def test_paths_from_an_unknown_node_is_404_on_that_end(diamond: TestClient, end: str) -> None:
    params = {"source": "s", "target": "t", end: "ghost"}
    problem(diamond.get("/v1/paths", params=params), 404, "not_found", end)


# ---------------------------------------------------------------------------- seed graph


def test_region_summary_of_longquan(seed_client: TestClient) -> None:
    r = seed_client.get("/v1/regions/370302112")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["region"]["name"], body["region"]["kind"]) == ("龙泉镇", "乡镇")
    assert body["parent"]["name"] == "淄川区"
    assert body["parent"]["region_code"] == "370302"
    assert body["nodes_by_label"]["Village"] > 0
    assert "Person" not in body["nodes_by_label"]
    villages = all_items(seed_client, "/v1/regions/370302112/nodes", label="Village")
    assert body["nodes_by_label"]["Village"] == len(villages)
    county = seed_client.get("/v1/regions/370302").json()
    assert "370302112" in {c["region_code"] for c in county["children"]}


def test_coverage_of_pingyuan_agrees_with_its_villages(seed_client: TestClient) -> None:
    r = seed_client.get("/v1/regions/371426/coverage")
    assert r.status_code == 200, r.text
    body = r.json()
    total = body["total"]
    villages = all_items(seed_client, "/v1/regions/371426/nodes", limit=100, label="Village")
    assert len({v["id"] for v in villages}) == len(villages)
    assert total["villages"] == len(villages)
    assert 0 <= total["covered"] <= total["villages"]
    assert total["uncovered"] == total["villages"] - total["covered"]
    assert total["rate"] == round(total["covered"] / total["villages"], 4)
    uncovered = total["uncovered_villages"]
    assert len(uncovered["items"]) == min(100, total["uncovered"])
    assert uncovered["total"] == total["uncovered"]
    assert {v["id"] for v in uncovered["items"]} <= {v["id"] for v in villages}
    before = seed_client.get("/v1/regions/371426/coverage", params={"as_of": "2019-01-01"}).json()
    assert before["as_of"] == "2019-01-01"
    assert before["total"]["covered"] <= total["covered"]
    assert sum(c["villages"] for c in body["children"]) == total["villages"]
    assert sum(c["covered"] for c in body["children"]) == total["covered"]
    curated = json.loads((SEED_DIR / "curated" / "000_pingyuan.json").read_text(encoding="utf-8"))
    (county,) = [n for n in curated["nodes"] if n["id"] == "region:371426"]
    stated = {(f["metric"], f["value"]) for f in body["stated_figures"]}
    assert {(f["metric"], f["value"]) for f in county["figures"]} <= stated
    assert ("villages_covered", 424) in stated


def test_region_errors(seed_client: TestClient) -> None:
    problem(seed_client.get("/v1/regions/99/coverage"), 404, "not_found", "code")
    problem(seed_client.get("/v1/regions/99"), 404, "not_found")
    problem(seed_client.get("/v1/regions/99/nodes"), 404, "not_found")
    problem(seed_client.get("/v1/regions/12a"), 422, "invalid_input", "code")
    problem(seed_client.get("/v1/regions/12a/coverage"), 422, "invalid_input", "code")


def test_seed_search_taitou_finds_the_village_first(seed_client: TestClient) -> None:
    items = seed_client.get("/v1/search", params={"q": "台头"}).json()["items"]
    assert items[0]["node"]["label"] == "Village"
    assert items[0]["node"]["region_code"] == "370302112206"


@pytest.mark.parametrize(
    ("q", "matched"),
    [
        ("370302112206", "370302112206"),  # its division code
        ("village:370302112206", "village:370302112206"),  # its id
        ("臺頭村", "台头村"),  # traditional characters
        ("台\u200b头\u200d村\u2060", "台头村"),  # zero-width and invisible characters
        ("\ufeff台头村\u00ad", "台头村"),  # a byte-order mark and a soft hyphen
    ],
)
def test_seed_search_finds_taitou_as_people_type_it(
    seed_client: TestClient, q: str, matched: str
) -> None:
    (first, *_) = seed_client.get("/v1/search", params={"q": q}).json()["items"]
    assert first["node"]["id"] == "village:370302112206"
    assert (first["match"], first["matched"]) == ("exact", matched)


def test_seed_hongse_xigu_has_nine_quoted_members(seed_client: TestClient) -> None:
    (hit, *_) = seed_client.get("/v1/search", params={"q": "红色硒谷"}).json()["items"]
    centre = hit["node"]["id"]
    r = seed_client.get(f"/v1/nodes/{centre}/neighbourhood", params={"link_type": "MEMBER_OF"})
    body = r.json()
    members = {n["name"] for n in body["nodes"] if n["id"] != centre}
    villages = ("韩庄", "大土屋", "韩圣", "龙四", "龙三", "龙二", "龙一", "台头")
    assert members == {"久润合作社党支部"} | {f"{v}村党支部" for v in villages}
    assert len(body["links"]) == 9
    for x in body["links"]:
        assert (x["type"], x["target"]) == ("MEMBER_OF", centre)
        assert any("红色硒谷" in (s.get("quote") or "") for s in x["sources"]), x
