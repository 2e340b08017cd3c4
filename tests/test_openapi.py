"""The OpenAPI document describes what the server sends.

The document is walked as a whole: every success response is typed (an object with
properties, an array with items, or a non-JSON media type), every error response is
``application/problem+json`` with the ProblemDetails schema, and every parameter is
described. Then real responses, on the seed graph and on a store written through the API,
are checked against the document: their status and media type are documented for the
operation, and their body validates against the route's own response model with no field
the model leaves out.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import AUTH
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import TypeAdapter

from graph_service.api.app import create_app
from graph_service.api.routes import (
    accounts,
    analysis,
    articles,
    dashboard,
    exports,
    graph,
    history,
    imports,
    jobs,
    layout,
    links,
    meta,
    nodes,
    recommendations,
    regions,
    review,
)
from graph_service.api.schemas import ProblemDetails

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
COUNTY, TOWN = "370302", "370302112"
VILLAGE, BRANCH = f"village:{TOWN}001", "org:v1"
HELPER, PROGRAM = "ent:e1", "program:bqbbc"
SEED_VILLAGE, SEED_HELPER = "village:370302112206", "ent:longquan-donghua-shuini"
SEED_BODY = "org:longquan-hongse-xigu"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # The document does not depend on the store: build it without opening one.
    spec: dict[str, Any] = create_app().openapi()
    return spec


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def typed(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An object with properties, an array with items, or a union of such."""
    schema = resolve(document, schema)
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        return all(typed(document, alternative) for alternative in alternatives)
    return bool(schema.get("properties")) or "items" in schema


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


# ---------------------------------------------------------------------------- the document


def test_every_success_response_has_a_typed_body(document: dict[str, Any]) -> None:
    untyped = []
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            content = response.get("content", {})
            if status == "204":
                assert not content, f"{method} {path}: 204 has a body"
                continue
            if not content:
                untyped.append(f"{method} {path} {status}: no content")
            for media_type, body in content.items():
                if is_json(media_type) and not typed(document, body.get("schema", {})):
                    untyped.append(f"{method} {path} {status} {media_type}")
    assert not untyped, untyped


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in operations(document):
        statuses = [s for s in operation["responses"] if s[0] in "45"]
        takes_input = operation.get("parameters") or operation.get("requestBody")
        if takes_input and "422" not in statuses:
            wrong.append(f"{method} {path}: no 422")
        for status in statuses:
            content = operation["responses"][status].get("content", {})
            if list(content) != [PROBLEM] or content[PROBLEM]["schema"] != {"$ref": PROBLEM_REF}:
                wrong.append(f"{method} {path} {status}: {content}")
    assert not wrong, wrong
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    problem = schemas["ProblemDetails"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert {"field", "errors", "instance", "details"} <= set(problem["properties"])


def test_writes_and_store_reads_document_their_statuses(document: dict[str, Any]) -> None:
    responses = {(m, p): set(op["responses"]) for m, p, op in operations(document)}
    assert {"400", "401", "409", "413", "422", "503"} <= responses[("post", "/v1/nodes")]
    assert {"401", "404", "409"} <= responses[("delete", "/v1/nodes/{node_id}")]
    assert {"401", "404", "406", "413", "422", "503"} <= responses[("get", "/v1/export")]
    assert responses[("get", "/healthz")] == {"200"}
    assert responses[("get", "/readyz")] == {"200", "503"}


def test_every_parameter_is_described(document: dict[str, Any]) -> None:
    bare = [
        f"{method} {path} {parameter['in']}:{parameter['name']}"
        for method, path, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description", "").strip()
    ]
    assert not bare, bare


def test_the_export_documents_its_xml_media_types(document: dict[str, Any]) -> None:
    content = document["paths"]["/v1/export"]["get"]["responses"]["200"]["content"]
    assert set(content) == {
        "application/json",
        "application/graphml+xml",
        "application/gexf+xml",
    }
    formats = resolve(document, content["application/json"]["schema"])["anyOf"]
    assert len(formats) == 3


# ------------------------------------------------------------------- responses vs. document


def undocumented(body: Any, dumped: Any, path: str = "$") -> list[str]:
    """Paths of ``body``'s keys that validation dropped: fields the model leaves out."""
    if isinstance(body, dict) and isinstance(dumped, dict):
        found = []
        for key, value in body.items():
            if key not in dumped:
                found.append(f"{path}.{key}")
            else:
                found += undocumented(value, dumped[key], f"{path}.{key}")
        return found
    if isinstance(body, list) and isinstance(dumped, list):
        return [
            p
            for i, (a, b) in enumerate(zip(body, dumped, strict=True))
            for p in undocumented(a, b, f"{path}[{i}]")
        ]
    return []


def conforms(model: Any, body: Any) -> None:
    """``body`` validates against ``model`` and every field of it is documented."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    value = adapter.validate_python(body)
    dumped = adapter.dump_python(value, mode="json", by_alias=True, exclude_unset=True)
    missing = undocumented(body, dumped)
    assert not missing, f"fields the model leaves out: {missing[:20]}"


ROUTES: dict[tuple[str, str], APIRoute] = {
    (method.lower(), route.path): route
    for module in (
        accounts,
        analysis,
        articles,
        dashboard,
        exports,
        graph,
        history,
        imports,
        jobs,
        layout,
        links,
        meta,
        nodes,
        recommendations,
        regions,
        review,
    )
    for route in module.router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
}


def test_the_routes_checked_here_are_the_documented_ones(document: dict[str, Any]) -> None:
    assert {(method, path) for method, path, _ in operations(document)} == set(ROUTES)


def model_of(template: str, method: str, status: int) -> Any:
    route = ROUTES[method.lower(), template]
    if status == (route.status_code or 200):
        return route.response_model
    return route.responses[status]["model"]


def check(
    client: TestClient,
    method: str,
    template: str,
    url: str | None = None,
    expect: int | None = None,
    **request: Any,
) -> Any:
    """Send a request; assert its status and media type are documented for the operation
    and its body conforms to the documented model; return the body."""
    response: Response = client.request(method, url or template, **request)
    if expect is not None:
        assert response.status_code == expect, response.text
    operation = client.app.openapi()["paths"][template][method.lower()]  # type: ignore[attr-defined]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {template}: {status} undocumented"
    if response.status_code == 204:
        assert not response.content
        return None
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in operation["responses"][status]["content"], media_type
    if media_type == PROBLEM:
        conforms(ProblemDetails, response.json())
        return response.json()
    if not is_json(media_type):
        return response.content
    conforms(model_of(template, method, response.status_code), response.json())
    return response.json()


SEED_READS: list[tuple[str, dict[str, Any]]] = [
    ("/healthz", {}),
    ("/readyz", {}),
    ("/v1/schema", {}),
    ("/v1/stats", {}),
    ("/v1/documents", {}),
    ("/v1/nodes", {"limit": 50}),
    ("/v1/links", {"limit": 50}),
    ("/v1/search", {"q": "台头"}),
    ("/v1/paths", {"source": SEED_VILLAGE, "target": SEED_HELPER}),
    ("/v1/analysis/centrality", {"scope": "region:370302"}),
    ("/v1/analysis/communities", {"scope": "region:370302"}),
    ("/v1/analysis/brokers", {"scope": "region:370302"}),
    ("/v1/analysis/fragility", {"scope": "region:370302"}),
    (
        "/v1/analysis/link-strength",
        {"source": "org:wanggaopu-tianshangtian", "target": "ent:yihai-jiali"},
    ),
    ("/v1/analysis/links/strongest", {"scope": "region:370302", "top": 5}),
    ("/v1/analysis/links/weakest", {"scope": "region:370302", "top": 5}),
    ("/v1/analysis/coverage", {"region": "370302112", "details": "true"}),
    ("/v1/analysis/rules", {"scope": "region:371426"}),
    ("/v1/analysis/change", {"scope": "region:370302", "from": "2019-01-01", "to": "2021-01-01"}),
    ("/v1/recommendations/partners", {"target": SEED_VILLAGE, "top": 3}),
    ("/v1/recommendations/partners", {"target": SEED_HELPER, "relation": "co_building"}),
    ("/v1/recommendations/judgements", {}),
    ("/v1/history", {"limit": 50}),
    ("/v1/dashboard", {"region": "370302", "since": "2019-06-01", "pairings": 3}),
    ("/v1/dashboard", {"region": "37", "pairings": 0}),
    ("/v1/dashboard/report.xlsx", {"region": "370302", "pairings": 3}),
    ("/v1/history", {"region": "371426", "since": "2000-01-01T00:00:00Z", "limit": 20}),
    ("/v1/export", {"scope": f"body:{SEED_BODY}", "metric": "pagerank", "layout": "true"}),
    ("/v1/export", {"scope": f"body:{SEED_BODY}", "format": "echarts", "strength": "true"}),
    ("/v1/export", {"scope": f"body:{SEED_BODY}", "format": "node-link", "layout": "true"}),
    ("/v1/export", {"scope": f"body:{SEED_BODY}", "format": "graphml"}),
    ("/v1/export", {"scope": f"body:{SEED_BODY}", "format": "gexf"}),
]


@pytest.mark.parametrize("headers", [AUTH, {}], ids=["key holder", "anonymous"])
def test_seed_responses_conform_to_the_document(
    seed_client: TestClient, headers: dict[str, str]
) -> None:
    for template, params in SEED_READS:
        check(seed_client, "GET", template, expect=200, params=params, headers=headers)
    templated = [
        ("/v1/nodes/{node_id}", f"/v1/nodes/{SEED_VILLAGE}", {}),
        ("/v1/nodes/{node_id}/neighbourhood", f"/v1/nodes/{SEED_VILLAGE}/neighbourhood", {}),
        ("/v1/regions/{code}", f"/v1/regions/{COUNTY}", {}),
        ("/v1/regions/{code}", f"/v1/regions/{TOWN}", {}),
        ("/v1/regions/{code}/nodes", f"/v1/regions/{TOWN}/nodes", {"limit": 50}),
        ("/v1/regions/{code}/coverage", "/v1/regions/371426/coverage", {}),
        ("/v1/nodes/{node_id}/history", f"/v1/nodes/{SEED_BODY}/history", {}),
    ]
    for template, url, params in templated:
        check(seed_client, "GET", template, url, 200, params=params, headers=headers)
    (document, *_) = check(seed_client, "GET", "/v1/documents", headers=headers)["items"]
    url = f"/v1/documents/{document['id']}"
    check(seed_client, "GET", "/v1/documents/{document_id}", url, 200, headers=headers)
    (link, *_) = check(seed_client, "GET", "/v1/links", params={"limit": 1})["items"]
    check(seed_client, "GET", "/v1/links/{link_id}", f"/v1/links/{link['id']}", 200)
    body = {"region": COUNTY, "top_candidates": 5}
    check(seed_client, "POST", "/v1/recommendations/assignment", expect=200, json=body)
    body = {"proposed": [{"helper": SEED_HELPER, "village": SEED_VILLAGE}]}
    check(seed_client, "POST", "/v1/recommendations/what-if", expect=200, json=body, headers=AUTH)


def test_seed_problems_conform_to_the_document(seed_client: TestClient) -> None:
    bad_key = {"X-API-Key": "not-a-key"}
    check(seed_client, "GET", "/v1/stats", expect=401, headers=bad_key)
    check(seed_client, "GET", "/v1/nodes/{node_id}", "/v1/nodes/nope", 404)
    check(seed_client, "GET", "/v1/regions/{code}", "/v1/regions/12a", 422)
    check(seed_client, "GET", "/v1/analysis/rules", expect=404, params={"scope": "body:nope"})
    check(seed_client, "GET", "/v1/analysis/centrality", expect=422, params={"measure": "fame"})
    check(seed_client, "GET", "/v1/export", expect=406, headers={"Accept": "text/csv"})
    check(seed_client, "GET", "/v1/export", expect=413, params={"max_nodes": 5})
    url = "/v1/recommendations/judgements/judgement:nope"
    check(seed_client, "GET", "/v1/recommendations/judgements/{judgement_id}", url, 404)


def _nodes() -> list[dict[str, Any]]:
    return [
        {"id": f"region:{COUNTY}", "label": "Region", "kind": "县", "name": "测试区"},
        {"id": f"region:{TOWN}", "label": "Region", "kind": "乡镇", "name": "甲镇"},
        {
            "id": VILLAGE,
            "label": "Village",
            "kind": "行政村",
            "name": "甲一村",
            "region_code": VILLAGE.split(":")[1],
            "attributes": {"weak": True, "collective_income_yuan": 50_000},
        },
        {"id": BRANCH, "label": "PartyOrganization", "kind": "党支部", "name": "甲一村党支部"},
        {"id": PROGRAM, "label": "Program", "kind": "行动", "name": "百企帮百村"},
    ]


def test_writes_conform_to_the_document(client: TestClient) -> None:
    nodes = _nodes()
    for node in nodes[:2]:
        node["region_code"] = node["id"].split(":")[1]
    body = {
        "nodes": nodes,
        "links": [{"type": "ORGANIZATION_OF", "source": BRANCH, "target": VILLAGE}],
    }
    check(client, "POST", "/v1/batch", expect=200, json=body, headers=AUTH)
    helper = {
        "id": HELPER,
        "label": "Enterprise",
        "kind": "公司",
        "name": "甲公司",
        "region_code": TOWN,
    }
    check(client, "POST", "/v1/nodes", expect=201, json=helper, headers=AUTH)
    check(client, "POST", "/v1/nodes", expect=409, json=helper, headers=AUTH)
    check(client, "POST", "/v1/nodes", expect=401, json=helper)
    check(client, "POST", "/v1/nodes", expect=422, json={**helper, "id": ""}, headers=AUTH)
    raw = {"content": b'{"id": "\xff"}', "headers": {**AUTH, "content-type": "application/json"}}
    check(client, "POST", "/v1/nodes", expect=400, **raw)
    url = f"/v1/nodes/{HELPER}"
    check(client, "PUT", "/v1/nodes/{node_id}", url, 200, json=helper, headers=AUTH)
    url = "/v1/nodes/ent:e2"
    check(
        client, "PUT", "/v1/nodes/{node_id}", url, 201, json=helper | {"id": "ent:e2"}, headers=AUTH
    )
    link = {"type": "PART_OF_PROGRAM", "source": HELPER, "target": PROGRAM}
    created = check(client, "POST", "/v1/links", expect=201, json=link, headers=AUTH)
    url = f"/v1/links/{created['id']}"
    check(client, "PUT", "/v1/links/{link_id}", url, 200, json=link, headers=AUTH)
    check(client, "POST", "/v1/links", expect=404, json={**link, "source": "ent:x"}, headers=AUTH)
    check(client, "DELETE", "/v1/nodes/{node_id}", f"/v1/nodes/{HELPER}", 409, headers=AUTH)
    check(client, "DELETE", "/v1/links/{link_id}", url, 204, headers=AUTH)
    check(client, "DELETE", "/v1/nodes/{node_id}", "/v1/nodes/ent:e2", 204, headers=AUTH)
    judgement = {"target": VILLAGE, "partner": HELPER, "decision": "accept", "note": "对口"}
    accepted = check(
        client, "POST", "/v1/recommendations/judgements", expect=201, json=judgement, headers=AUTH
    )
    assert accepted["link"] is not None
    rejected = {"target": VILLAGE, "partner": HELPER, "decision": "reject"}
    check(
        client, "POST", "/v1/recommendations/judgements", expect=409, json=judgement, headers=AUTH
    )
    check(client, "POST", "/v1/recommendations/judgements", expect=201, json=rejected, headers=AUTH)
    url = f"/v1/recommendations/judgements/{accepted['judgement']['id']}"
    for headers in (AUTH, {}):
        check(client, "GET", "/v1/recommendations/judgements", expect=200, headers=headers)
        template = "/v1/recommendations/judgements/{judgement_id}"
        check(client, "GET", template, url, 200, headers=headers)
    # Analyses of a county of a few nodes: the empty and undefined cases (no communities to
    # speak of, no joint bodies, rates of nothing) are documented too.
    for template, params in SEED_READS:
        if template.startswith("/v1/analysis/") and "scope" in params:
            check(
                client, "GET", template, expect=200, params={**params, "scope": f"region:{COUNTY}"}
            )
    check(client, "GET", "/v1/analysis/coverage", expect=200, params={"region": COUNTY})
    check(client, "GET", "/v1/recommendations/partners", expect=200, params={"target": BRANCH})
    check(client, "POST", "/v1/recommendations/assignment", expect=200, json={"region": COUNTY})
    body = {"proposed": [{"helper": HELPER, "village": VILLAGE}], "region": COUNTY}
    check(client, "POST", "/v1/recommendations/what-if", expect=200, json=body, headers=AUTH)
    check(client, "GET", "/v1/dashboard", expect=200, params={"region": COUNTY})
    _check_views(client)
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    big = {"nodes": [], "padding": "x" * limit}
    check(client, "POST", "/v1/batch", expect=413, json=big, headers=AUTH)
    _check_history(client)


def _check_views(client: TestClient) -> None:
    view = {"name": "县情", "region": COUNTY, "filters": {"top": 5}}
    check(client, "POST", "/v1/views", expect=401, json=view)
    check(client, "POST", "/v1/views", expect=422, json={**view, "region": "x"}, headers=AUTH)
    saved = check(client, "POST", "/v1/views", expect=201, json=view, headers=AUTH)
    url = f"/v1/views/{saved['id']}"
    check(client, "GET", "/v1/views", expect=200, headers=AUTH)
    check(client, "GET", "/v1/views", expect=401)
    check(client, "GET", "/v1/views/{view_id}", url, 200)
    check(client, "PUT", "/v1/views/{view_id}", url, 200, json=view, headers=AUTH)
    check(client, "DELETE", "/v1/views/{view_id}", url, 204, headers=AUTH)
    check(client, "GET", "/v1/views/{view_id}", url, 404)
    check(client, "DELETE", "/v1/views/{view_id}", url, 404, headers=AUTH)


def _check_history(client: TestClient) -> None:
    """The history, restores and record-time reads of the store the writes above made."""
    for headers in (AUTH, {}):
        check(client, "GET", "/v1/history", expect=200, headers=headers)
    check(client, "GET", "/v1/history", expect=422, params={"since": "2025-01-01T00:00:00"})
    node_history = "/v1/nodes/{node_id}/history"
    (latest, *_) = check(client, "GET", node_history, f"/v1/nodes/{VILLAGE}/history", 200)["items"]
    check(client, "GET", node_history, "/v1/nodes/ent:e2/history", 200)
    check(client, "GET", node_history, "/v1/nodes/ent:nothing/history", 404)
    (link, *_) = check(client, "GET", "/v1/history", params={"operation": "link.delete"})["items"]
    link_history = "/v1/links/{link_id}/history"
    url = f"/v1/links/{link['entity_id']}/history"
    (deleted, existed, *_) = check(client, "GET", link_history, url, 200)["items"]
    assert deleted["id"] == link["id"]
    restore = "/v1/nodes/{node_id}/restore"
    url = f"/v1/nodes/{VILLAGE}/restore"
    body = {"version": latest["id"]}
    check(client, "POST", restore, url, 200, json=body, headers=AUTH)
    check(client, "POST", restore, url, 401, json=body)
    check(client, "POST", restore, url, 422, json={"version": link["id"]}, headers=AUTH)
    unknown = {"version": "h20200101T000000000000Z-000000-abcdef"}
    check(client, "POST", restore, url, 404, json=unknown, headers=AUTH)
    restore = "/v1/links/{link_id}/restore"
    url = f"/v1/links/{link['entity_id']}/restore"
    check(client, "POST", restore, url, 200, json={"version": existed["id"]}, headers=AUTH)
    check(
        client,
        "DELETE",
        "/v1/nodes/{node_id}",
        "/v1/nodes/program:bqbbc",
        204,
        headers=AUTH,
        params={"detach": "true"},
    )
    check(client, "POST", restore, url, 409, json={"version": existed["id"]}, headers=AUTH)
    at = {"recorded_as_of": latest["at"]}
    for template, url, params in (
        ("/v1/nodes/{node_id}", f"/v1/nodes/{VILLAGE}", at),
        ("/v1/nodes/{node_id}/neighbourhood", f"/v1/nodes/{VILLAGE}/neighbourhood", at),
        ("/v1/regions/{code}/coverage", f"/v1/regions/{COUNTY}/coverage", at),
        ("/v1/analysis/coverage", "/v1/analysis/coverage", {**at, "region": COUNTY}),
    ):
        check(client, "GET", template, url, 200, params=params)
        early = {**params, "recorded_as_of": "2001-01-01T00:00:00Z"}
        check(client, "GET", template, url, 422, params=early)
