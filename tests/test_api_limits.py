"""What the HTTP API refuses: malformed and hostile input, oversized bodies and batches,
closed reads, an unavailable store. Helpers and key handling come from ``test_api``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import AUTH, make_settings
from fastapi.testclient import TestClient
from test_api import (
    KEY,
    _accept_key,
    link,
    node,
    org,
    problem,
    totals,
    village,
    write,
)

from graph_service.api.app import create_app
from graph_service.errors import StoreUnavailableError
from graph_service.store.embedded import EmbeddedGraphStore


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return _accept_key(client)


@pytest.fixture
def hub(api: TestClient) -> TestClient:
    write(
        api,
        [
            org("org:a", "甲支部"),
            org("org:hub", "红色联合党委", "联合党委"),
            node("ind:1", "Industry", "水泥"),
        ],
        [link("MEMBER_OF", "org:a", "org:hub")],
    )
    return api


def _assert_intact(c: TestClient) -> None:
    assert totals(c) == (3, 1)
    assert c.get("/v1/nodes/org:hub").json()["name"] == "红色联合党委"


def _configure(c: TestClient, **overrides: Any) -> TestClient:
    """Settings the routes read per request (not the body limit, fixed at app creation)."""
    c.app.state.settings = c.app.state.settings.model_copy(update=overrides)  # type: ignore[attr-defined]
    return c


# ---------------------------------------------------------------------------- validation

INVALID_NODES = [
    ({"id": "x:1", "label": "Hamlet", "name": "甲"}, "label"),
    (org("x:1", "甲", "党小组"), "kind"),
    ({"id": "x:1", "label": "PartyOrganization", "name": "甲"}, "kind"),
    (node("x:1", "Region", "淄川区", "县", region_code="3703"), "region_code"),
    (node("x:1", "Village", "甲村", "行政村"), "region_code"),
    (
        village("x:1", "甲村", "370302112206", attributes={"collective_income_yuan": "lots"}),
        "attributes.collective_income_yuan",
    ),
    (village("x:1", "甲村", "370302112206", attributes={"gdp": 1}), "attributes.gdp"),
    (org("x:1", "甲", attributes={"linkage_model": "xx"}), "attributes.linkage_model"),
    (org("x:1", "甲", valid_from="2021-01-01", valid_to="2020-01-01"), "valid_to"),
    (org("x 1", "甲"), "id"),
    (org("x:1", "甲" * 201), "name"),
    (org("x:1", "   "), "name"),
    (org("x:1", "甲", valid_from="2020-02-30"), "valid_from"),
    (org("x:1", "甲", extra_field=1), "extra_field"),
    ({"label": "Industry", "name": "甲"}, "id"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "field"), INVALID_NODES, ids=[f for _, f in INVALID_NODES])
def test_invalid_node_is_422_naming_the_field(api: TestClient, payload: dict, field: str) -> None:
    body = problem(api.post("/v1/nodes", json=payload, headers=KEY), 422, "invalid_input", field)
    assert body["errors"][0]["field"] == field
    assert body["instance"] == "/v1/nodes"
    assert totals(api) == (0, 0)


def test_malformed_json_body_is_422_not_500(api: TestClient) -> None:
    r = api.post(
        "/v1/nodes",
        content=b'{"id": "x:1", "label": ',
        headers={**KEY, "content-type": "application/json"},
    )
    problem(r, 422, "invalid_input")


def test_malformed_json_body_does_not_report_a_character_offset_as_field(api: TestClient) -> None:
    r = api.post("/v1/nodes", content=b"{bad", headers={**KEY, "content-type": "application/json"})
    body = problem(r, 422, "invalid_input")
    assert body.get("field") in (None, "body"), body


def test_non_json_content_is_rejected(api: TestClient) -> None:
    r = api.post(
        "/v1/nodes", content=b"id=x:1&label=Industry", headers={**KEY, "content-type": "text/plain"}
    )
    assert r.status_code in (415, 422), r.text
    problem(r, r.status_code)
    assert totals(api) == (0, 0)


def test_non_finite_numbers_are_rejected_not_stored_as_null(api: TestClient) -> None:
    raw = (
        b'{"id": "v:1", "label": "Village", "name": "\\u7532", "region_code": "370302112206",'
        b' "attributes": {"collective_income_yuan": Infinity}}'
    )
    r = api.post("/v1/nodes", content=raw, headers={**KEY, "content-type": "application/json"})
    problem(r, 422, "invalid_input", "attributes.collective_income_yuan")


def test_integer_beyond_64_bits_is_422_not_500(api: TestClient) -> None:
    payload = village("v:1", "甲村", "370302112206", attributes={"population": 10**30})
    problem(
        api.post("/v1/nodes", json=payload, headers=KEY),
        422,
        "invalid_input",
        "attributes.population",
    )


QUERY_PROBLEMS = [
    ("/v1/nodes/org:a/neighbourhood", {"depth": 4}, "depth"),
    ("/v1/nodes/org:a/neighbourhood", {"direction": "sideways"}, "direction"),
    ("/v1/nodes", {"limit": 0}, "limit"),
    ("/v1/links", {"limit": 1001}, "limit"),
    ("/v1/nodes", {"as_of": "2020-13-45"}, "as_of"),
    ("/v1/nodes/org:a", {"as_of": "yesterday"}, "as_of"),
    ("/v1/nodes", {"label": "Hamlet"}, "label"),
    ("/v1/search", {"q": "甲", "label": "Hamlet"}, "label"),
    ("/v1/links", {"type": "KNOWS"}, "type"),
    ("/v1/nodes", {"cursor": "_w"}, "cursor"),
    ("/v1/links", {"cursor": "!!!"}, "cursor"),
    ("/v1/search", {"q": "   "}, "q"),
    ("/v1/search", {}, "q"),
    ("/v1/search", {"q": "甲", "limit": 201}, "limit"),
    ("/v1/paths", {"source": "org:a"}, "target"),
    ("/v1/paths", {"source": "org:a", "target": "org:b", "max_depth": 9}, "max_depth"),
    ("/v1/nodes", {"region_code": "12a"}, "region_code"),
]


@pytest.mark.parametrize(("path", "params", "field"), QUERY_PROBLEMS, ids=lambda v: str(v)[:24])
def test_bad_query_parameter_is_422_naming_it(
    api: TestClient, path: str, params: dict, field: str
) -> None:
    write(api, [org("org:a", "甲"), org("org:b", "乙")])
    body = problem(api.get(path, params=params), 422, "invalid_input")
    # A list parameter names its item (label.0); the parameter itself must come first.
    assert body["field"].split(".")[0] == field, body


# ---------------------------------------------------------------------------- hostile input

HOSTILE_BODIES: list[Any] = [
    None,
    42,
    "Village",
    [],
    [{"id": "x:1"}],
    {},
    {"id": None, "label": None, "name": None, "type": None, "source": None, "target": None},
    {"id": "x') DETACH DELETE n //", "label": "Industry", "name": "x", "type": "MEMBER_OF"},
    {"label": "Village; MATCH (n) DETACH DELETE n", "id": "x:1", "name": "甲"},
    {"type": "MEMBER_OF] ->() DETACH DELETE n //", "source": "org:a", "target": "org:hub"},
    {"id": "x:1", "label": "Industry", "name": "名" * 100_000},
    {"id": "x:1", "label": {"$ne": 1}, "name": ["a"], "attributes": {"a": {"b": [[[[]]]]}}},
    {"nodes": 5, "links": "all"},
    {"nodes": [1, "x", None, [[]]], "links": [{"source": {"id": 1}}]},
    {"nodes": [{"id": "org:a", "label": "PartyOrganization", "name": "改", "kind": "DETACH"}]},
    {"delete_nodes": ["org:a') DETACH DELETE n //"], "delete_links": [None]},
    {"delete_nodes": ["org:hub"], "detach": "yes please"},
    {"source": "org:a", "target": "org:hub", "type": "MEMBER_OF", "id": "\u202e\u0000"},
    {"id": "x:1", "label": "Industry", "name": "\U0001f600\u0301\ufeff", "aliases": ["\x00"] * 60},
]
WRITE_PATHS = ["/v1/nodes", "/v1/links", "/v1/batch"]


@pytest.mark.parametrize("path", WRITE_PATHS)
@pytest.mark.parametrize("payload", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_body_never_500_and_keeps_data(hub: TestClient, path: str, payload: Any) -> None:
    r = hub.post(path, json=payload, headers=KEY)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        problem(r, r.status_code)
    _assert_intact(hub)


HOSTILE_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("/v1/search", {"q": "x') DETACH DELETE n //"}),
    ("/v1/search", {"q": "' OR 1=1 --"}),
    ("/v1/search", {"q": "%_*"}),
    ("/v1/search", {"q": "名" * 101}),
    ("/v1/search", {"q": "\x00"}),
    ("/v1/search", {"q": "甲", "label": "Village; MATCH (n) DETACH DELETE n"}),
    ("/v1/search", {"q": "甲", "limit": "ten"}),
    ("/v1/nodes/org:hub')%20DETACH%20DELETE%20n%20%2F%2F/neighbourhood", {}),
    ("/v1/nodes/org:hub/neighbourhood", {"link_type": "MEMBER_OF]-() DETACH DELETE n //"}),
    ("/v1/nodes/org:hub/neighbourhood", {"depth": "-1"}),
    ("/v1/nodes/org:hub/neighbourhood", {"depth": "1e9"}),
    ("/v1/nodes/org:hub/neighbourhood", {"limit": 10**20}),
    ("/v1/nodes/" + "a" * 500 + "/neighbourhood", {}),
    ("/v1/paths", {"source": "org:a", "target": "x') DETACH DELETE n //"}),
    ("/v1/paths", {"source": "org:a", "target": "org:hub", "link_type": "* DELETE"}),
    ("/v1/paths", {"source": "", "target": ""}),
    ("/v1/nodes", {"kind": "x') DETACH DELETE n //", "region_code": "37' OR '1'='1"}),
    ("/v1/nodes", {"cursor": "A" * 601}),
    ("/v1/nodes", {"cursor": "J30gREVUQUNIIERFTEVURSBuIC8v"}),
    ("/v1/links", {"source": "org:a' OR 1=1", "node": "\u202e"}),
    ("/v1/regions/37/nodes", {"label": "Person", "cursor": "!!"}),
    ("/v1/regions/37'/coverage", {}),
]


@pytest.mark.parametrize(("path", "params"), HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
def test_hostile_query_never_500_and_keeps_data(hub: TestClient, path: str, params: dict) -> None:
    r = hub.get(path, params=params)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        problem(r, r.status_code)
    _assert_intact(hub)


# ---------------------------------------------------------------------------- body size

BODY_LIMIT = 2000


@pytest.fixture
def small_body(api: TestClient) -> Iterator[TestClient]:
    """A second app on the same store whose body limit is 2000 bytes."""
    settings = api.app.state.settings.model_copy(update={"max_body_bytes": BODY_LIMIT})  # type: ignore[attr-defined]
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def _sized(size: int) -> bytes:
    """A valid node body of exactly ``size`` bytes."""

    def body(pad: int) -> bytes:
        doc = org("org:big", "大", attributes={"resources": ["x" * pad]})
        return json.dumps(doc, ensure_ascii=False).encode()

    raw = body(size - len(body(0)))
    assert len(raw) == size
    return raw


def _chunks(raw: bytes, size: int = 500) -> Iterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


JSON = {**KEY, "content-type": "application/json"}


def test_body_at_the_limit_is_accepted(small_body: TestClient) -> None:
    r = small_body.post("/v1/nodes", content=_sized(BODY_LIMIT), headers=JSON)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("path", ["/v1/nodes", "/v1/batch", "/v1/links"])
def test_body_over_the_limit_is_413(small_body: TestClient, path: str) -> None:
    r = small_body.post(path, content=_sized(BODY_LIMIT + 1), headers=JSON)
    body = problem(r, 413, "payload_too_large")
    assert body["instance"] == path
    problem(small_body.get("/v1/nodes/org:big"), 404)


def test_streamed_body_under_the_limit_is_accepted(small_body: TestClient) -> None:
    r = small_body.post("/v1/nodes", content=_chunks(_sized(BODY_LIMIT)), headers=JSON)
    assert r.status_code == 201, r.text


def test_streamed_body_over_the_limit_is_413(small_body: TestClient) -> None:
    r = small_body.post("/v1/nodes", content=_chunks(_sized(BODY_LIMIT + 600)), headers=JSON)
    problem(r, 413, "payload_too_large")
    problem(small_body.get("/v1/nodes/org:big"), 404)


# ---------------------------------------------------------------------------- batch size


def _ids(n: int) -> list[str]:
    return [f"ind:{i}" for i in range(n)]


def test_batch_over_max_batch_size_is_422_and_writes_nothing(api: TestClient) -> None:
    _configure(api, max_batch_size=3)
    four = [node(i, "Industry", i) for i in _ids(4)]
    problem(api.post("/v1/batch", json={"nodes": four}, headers=KEY), 422, "invalid_input", "nodes")
    assert totals(api) == (0, 0)
    for name in ("delete_nodes", "delete_links"):
        r = api.post("/v1/batch", json={name: _ids(4)}, headers=KEY)
        problem(r, 422, "invalid_input", name)
    links = [link("IN_INDUSTRY", "x", i) for i in _ids(4)]
    problem(api.post("/v1/batch", json={"links": links}, headers=KEY), 422, field="links")
    r = api.post("/v1/batch", json={"nodes": four[:3]}, headers=KEY)
    assert r.status_code == 200, r.text
    assert r.json()["nodes_created"] == 3


# ---------------------------------------------------------------------------- auth settings


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/v1/nodes", org("org:z", "甲")),
        ("PUT", "/v1/nodes/org:z", org("org:z", "甲")),
        ("DELETE", "/v1/nodes/org:a", None),
        ("POST", "/v1/links", link("MEMBER_OF", "org:a", "org:hub")),
        ("PUT", "/v1/links/l:1", link("MEMBER_OF", "org:a", "org:hub")),
        ("DELETE", "/v1/links/l:1", None),
        ("POST", "/v1/batch", {"delete_nodes": ["org:a"], "detach": True}),
    ],
)
def test_writes_without_a_valid_key_are_401(
    hub: TestClient, method: str, path: str, payload: Any
) -> None:
    for headers in (
        {},
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic x"},
    ):
        r = hub.request(method, path, json=payload, headers=headers)
        body = problem(r, 401, "unauthorized")
        assert "X-API-Key" in r.headers["www-authenticate"]
        # A key in the wrong form of Authorization is named as such.
        wrong_scheme = headers.get("Authorization", "").startswith("Basic")
        assert body["field"] == ("Authorization" if wrong_scheme else "X-API-Key")
    _assert_intact(hub)


def test_bearer_token_is_accepted_for_writes(api: TestClient) -> None:
    headers = {"Authorization": f"Bearer {KEY['X-API-Key']}"}
    assert api.post("/v1/nodes", json=org("org:a", "甲"), headers=headers).status_code == 201


def test_reads_are_open_but_a_wrong_key_is_still_401(hub: TestClient) -> None:
    assert hub.get("/v1/nodes/org:a").status_code == 200
    assert hub.get("/v1/search", params={"q": "甲"}).status_code == 200
    problem(hub.get("/v1/nodes/org:a", headers={"X-API-Key": "wrong"}), 401, "unauthorized")


READS: Sequence[tuple[str, dict[str, Any]]] = [
    ("/v1/nodes", {}),
    ("/v1/nodes/org:a", {}),
    ("/v1/nodes/org:hub/neighbourhood", {}),
    ("/v1/links", {}),
    ("/v1/search", {"q": "甲"}),
    ("/v1/paths", {"source": "org:a", "target": "org:hub"}),
    ("/v1/stats", {}),
    ("/v1/documents", {}),
    ("/v1/documents/000_ebbe741d95becf05.txt", {}),
    ("/v1/regions/37", {}),
    ("/v1/regions/37/coverage", {}),
]


@pytest.mark.parametrize(("path", "params"), READS, ids=[p for p, _ in READS])
def test_closed_reads_need_a_key(hub: TestClient, path: str, params: dict) -> None:
    assert hub.get(path, params=params).status_code != 401
    _configure(hub, read_requires_key=True)
    r = hub.get(path, params=params)
    problem(r, 401, "unauthorized")
    assert "X-API-Key" in r.headers["www-authenticate"]
    assert hub.get(path, params=params, headers=KEY).status_code in (200, 404)


def test_probes_stay_open_when_reads_are_closed(hub: TestClient) -> None:
    _configure(hub, read_requires_key=True)
    assert hub.get("/healthz").status_code == 200
    assert hub.get("/readyz").status_code == 200


def test_configured_api_key_is_accepted_as_header_bytes(client: TestClient) -> None:
    """The configured key works however the client encodes the header."""
    headers = {name: value.encode() for name, value in AUTH.items()}
    r = client.post("/v1/nodes", json=org("org:a", "甲"), headers=headers)
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------------------- store outage


class _DownStore(EmbeddedGraphStore):
    async def ping(self) -> None:
        raise StoreUnavailableError("store is down")

    async def get_nodes(self, ids: Sequence[str], as_of: Any = None) -> dict[str, Any]:
        raise StoreUnavailableError("store is down")


def test_store_outage_is_503_with_retry_after(tmp_path: Path) -> None:
    settings = make_settings("embedded", tmp_path / "data")
    store = _DownStore(settings.embedded_path)
    try:
        with TestClient(create_app(settings, store=store), raise_server_exceptions=False) as c:
            assert c.get("/healthz").status_code == 200
            r = c.get("/readyz")
            assert problem(r, 503, "store_unavailable")["store"] == "embedded"
            assert r.headers["retry-after"] == "5"
            r = c.get("/v1/nodes/org:a")
            problem(r, 503, "store_unavailable")
            assert r.headers["retry-after"] == "5"
    finally:
        asyncio.run(store.close())
