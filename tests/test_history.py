"""The edit history over HTTP and the command line, on every backend: what is recorded,
filters and pages, who sees what, restores, and record-time reads (``recorded_as_of``).

The hand-made county (``COUNTY``) is that of ``test_api_recommendations``: in 甲镇 the
villages 甲一村 (with its branch) and 甲二村, 甲公司 and the joint body 甲镇联合党委; 甲三村
in 乙镇; a person, 王书记, who holds a position in the joint body.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from conftest import AUTH
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service.cli import app as cli_app
from graph_service.models import derive_link_id
from graph_service.settings import Settings, get_settings

PROBLEM = "application/problem+json"
COUNTY, TOWN_A, TOWN_B = "370302", "370302112", "370302113"
V1, V2, V3 = f"village:{TOWN_A}001", f"village:{TOWN_A}002", f"village:{TOWN_B}001"
V1_ORG, E1, BODY, PERSON = "org:v1", "ent:e1", "org:body", "person:wang"
PERSON_NAME = "王书记"
ORG_OF = derive_link_id("ORGANIZATION_OF", V1_ORG, V1)
HOLDS = derive_link_id("HOLDS_POSITION", PERSON, BODY)


def _region(code: str, name: str, kind: str) -> dict[str, Any]:
    return {
        "id": f"region:{code}",
        "label": "Region",
        "kind": kind,
        "name": name,
        "region_code": code,
    }


def _village(id_: str, name: str) -> dict[str, Any]:
    code = id_.split(":")[1]
    return {"id": id_, "label": "Village", "kind": "行政村", "name": name, "region_code": code}


NODES: list[dict[str, Any]] = [
    _region(COUNTY, "测试区", "县"),
    _region(TOWN_A, "甲镇", "乡镇"),
    _region(TOWN_B, "乙镇", "乡镇"),
    _village(V1, "甲一村"),
    _village(V2, "甲二村"),
    _village(V3, "甲三村"),
    {"id": V1_ORG, "label": "PartyOrganization", "kind": "党支部", "name": "甲一村党支部"},
    {
        "id": E1,
        "label": "Enterprise",
        "kind": "公司",
        "name": "甲公司",
        "region_code": TOWN_A,
        "attributes": {"contact_person": "赵经理", "employees": 40},
    },
    {
        "id": BODY,
        "label": "PartyOrganization",
        "kind": "联合党委",
        "name": "甲镇联合党委",
        "region_code": TOWN_A,
    },
    {"id": PERSON, "label": "Person", "kind": "书记", "name": PERSON_NAME},
]
LINKS: list[dict[str, Any]] = [
    {"type": "ORGANIZATION_OF", "source": V1_ORG, "target": V1},
    {"type": "HOLDS_POSITION", "source": PERSON, "target": BODY},
]


# ------------------------------------------------------------------------------ helpers


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    if field is not None:
        assert body.get("field") == field, body
    return body


def moment() -> str:
    """Now, between two writes: the writes before it are recorded before it, those after
    it after it."""
    time.sleep(0.002)
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.002)
    return now


def batch(api: TestClient, **body: Any) -> Any:
    return ok(api.post("/v1/batch", json=body, headers=AUTH))


def entries(api: TestClient, headers: dict[str, str] | None = None, **params: Any) -> list[Any]:
    """Every entry matching ``params``, newest first, read a page at a time."""
    found: list[Any] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = ok(api.get("/v1/history", params=query, headers=headers or {}))
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def account_key(api: TestClient, name: str, role: str, scope: str = "") -> dict[str, str]:
    ok(
        api.post("/v1/accounts", json={"name": name, "role": role, "scope": scope}, headers=AUTH),
        201,
    )
    created = ok(api.post(f"/v1/accounts/{name}/keys", headers=AUTH), 201)
    return {"X-API-Key": created["key"]}


@pytest.fixture
def api(client: TestClient) -> TestClient:
    batch(client, nodes=NODES, links=LINKS)
    return client


# ------------------------------------------------------------------- what is recorded


def test_every_kind_of_change_is_recorded_with_who_and_what(api: TestClient) -> None:
    ok(api.post("/v1/nodes", json=_village(f"village:{TOWN_B}002", "乙二村"), headers=AUTH), 201)
    ok(api.put(f"/v1/nodes/{E1}", json={**NODES[7], "name": "甲公司（新）"}, headers=AUTH))
    member = {"type": "MEMBER_OF", "source": V2, "target": BODY}
    ok(api.post("/v1/links", json=member, headers=AUTH), 201)
    member_id = derive_link_id("MEMBER_OF", V2, BODY)
    ok(api.put(f"/v1/links/{member_id}", json={**member, "valid_from": "2020-01-01"}, headers=AUTH))
    assert api.delete(f"/v1/links/{member_id}", headers=AUTH).status_code == 204
    pairs = {"type": "PAIRS_WITH", "source": E1, "target": V3}
    batch(api, links=[pairs])
    # A detach delete records the links it removed too.
    assert api.delete(f"/v1/nodes/{V1}", params={"detach": "true"}, headers=AUTH).status_code == 204
    viewer = account_key(api, "town-b-office", "viewer", TOWN_B)
    key_id = ok(api.get("/v1/accounts/town-b-office/keys", headers=AUTH))["items"][0]["id"]
    ok(api.post(f"/v1/keys/{key_id}/revoke", headers=AUTH))
    judged = {"target": V3, "partner": E1, "decision": "reject", "note": "太远"}
    ok(api.post("/v1/recommendations/judgements", json=judged, headers=AUTH), 201)

    every = entries(api, AUTH)
    recorded = [(e["operation"], e["entity"], e["entity_id"], e["action"]) for e in every]
    judgement = next(e for e in every if e["entity"] == "judgement")
    expected_newest_first = [
        ("judgement", "judgement", judgement["entity_id"], "create"),
        ("key.revoke", "key", key_id, "update"),
        ("key.create", "key", key_id, "create"),
        ("account.create", "account", "town-b-office", "create"),
        ("node.delete", "node", V1, "delete"),
        ("node.delete", "link", ORG_OF, "delete"),
        ("batch", "link", derive_link_id("PAIRS_WITH", E1, V3), "create"),
        ("link.delete", "link", member_id, "delete"),
        ("link.update", "link", member_id, "update"),
        ("link.create", "link", member_id, "create"),
        ("node.update", "node", E1, "update"),
        ("node.create", "node", f"village:{TOWN_B}002", "create"),
    ]
    assert recorded[: len(expected_newest_first)] == expected_newest_first
    # The first batch: every node and link of it, one entry each, one transaction time.
    first = every[len(expected_newest_first) :]
    assert {e["entity_id"] for e in first} == {n["id"] for n in NODES} | {ORG_OF, HOLDS}
    assert {(e["operation"], e["action"], e["at"]) for e in first} == {
        ("batch", "create", first[0]["at"])
    }
    ids = [e["id"] for e in every]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    for entry in every:
        assert entry["account"] == "api-key"
        assert entry["at"].endswith("Z")
        assert entry["request_id"]
    update = next(e for e in every if e["operation"] == "node.update")
    assert update["regions"] == [TOWN_A]
    assert {"field": "name", "before": "甲公司", "after": "甲公司（新）"} in update["changes"]
    # Who and when come from the account and the clock: the update's own provenance record.
    sources = next(c for c in update["changes"] if c["field"] == "sources")
    assert len(sources["after"]) == len(sources["before"]) + 1
    assert sources["after"][-1]["by"] == "api-key"
    key_entry = next(e for e in every if e["operation"] == "key.create")
    assert "hash" not in key_entry["after"]
    assert viewer  # the key the revoke ended


def test_a_request_id_ties_the_entries_of_one_request(api: TestClient) -> None:
    r = api.delete(f"/v1/nodes/{V1}", params={"detach": "true"}, headers=AUTH)
    request_id = r.headers["X-Request-ID"]
    mine = [e for e in entries(api, AUTH) if e["request_id"] == request_id]
    assert {(e["entity"], e["entity_id"]) for e in mine} == {("node", V1), ("link", ORG_OF)}


def test_changes_diff_the_fields_and_each_attribute(api: TestClient) -> None:
    changed = {**NODES[7], "attributes": {"employees": 45, "members": 12}}
    ok(api.put(f"/v1/nodes/{E1}", json=changed, headers=AUTH))
    (latest, created) = ok(api.get(f"/v1/nodes/{E1}/history", headers=AUTH))["items"]
    by_field = {c["field"]: c for c in latest["changes"]}
    assert by_field["attributes.employees"] == {
        "field": "attributes.employees",
        "before": 40,
        "after": 45,
    }
    assert by_field["attributes.members"]["before"] is None
    assert by_field["attributes.contact_person"] == {
        "field": "attributes.contact_person",
        "before": "赵经理",
        "after": None,
    }
    assert "name" not in by_field
    assert latest["before"] == created["after"]
    assert created["action"] == "create"
    assert created["before"] is None


# ----------------------------------------------------------------------- filters, pages


def test_filters_pages_and_newest_first(api: TestClient) -> None:
    start = moment()
    for name in ("甲公司一", "甲公司二", "甲公司三"):
        ok(api.put(f"/v1/nodes/{E1}", json={**NODES[7], "name": name}, headers=AUTH))
    end = moment()
    ok(api.put(f"/v1/nodes/{V3}", json={**NODES[5], "name": "甲三村（新）"}, headers=AUTH))

    mine = entries(api, AUTH, node=E1)
    assert [e["action"] for e in mine] == ["update", "update", "update", "create"]
    assert mine[0]["after"]["name"] == "甲公司三"
    page = ok(api.get("/v1/history", params={"node": E1, "limit": 2}, headers=AUTH))
    rest = ok(
        api.get(
            "/v1/history",
            params={"node": E1, "limit": 2, "cursor": page["next_cursor"]},
            headers=AUTH,
        )
    )
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in mine]
    assert rest["next_cursor"] is None

    between = entries(api, AUTH, since=start, until=end)
    assert [e["after"]["name"] for e in between] == ["甲公司三", "甲公司二", "甲公司一"]
    assert [e["entity_id"] for e in entries(api, AUTH, since=end)] == [V3]
    assert {e["entity_id"] for e in entries(api, AUTH, region=TOWN_B)} == {V3, f"region:{TOWN_B}"}
    assert len(entries(api, AUTH, operation="node.update")) == 4
    assert entries(api, AUTH, account="nobody") == []
    assert len(entries(api, AUTH, account="api-key")) == len(entries(api, AUTH))
    assert [e["entity_id"] for e in entries(api, AUTH, link=ORG_OF)] == [ORG_OF]
    # Another zone, the same moment.
    east = dt.datetime.fromisoformat(end).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert east.isoformat().endswith("+08:00")
    assert entries(api, AUTH, since=east.isoformat()) == entries(api, AUTH, since=end)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2025-01-01T00:00:00"}, "since"),
        ({"until": "2025-01-01"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"node": V1, "link": ORG_OF}, "link"),
        ({"region": "37x"}, "region"),
        ({"operation": "DROP TABLE"}, "operation"),
        ({"limit": 0}, "limit"),
        ({"from": "2025-01-01T00:00:00Z"}, "from"),
    ],
)
def test_bad_history_filters_are_problems_naming_the_field(
    api: TestClient, params: dict[str, Any], field: str
) -> None:
    problem(api.get("/v1/history", params=params), 422, field)


def test_a_timestamp_without_a_zone_is_refused_everywhere_it_is_taken(api: TestClient) -> None:
    naive = "2025-06-01T08:00:00"
    for path in (
        f"/v1/nodes/{V1}",
        f"/v1/nodes/{V1}/neighbourhood",
        f"/v1/regions/{COUNTY}/coverage",
    ):
        found = problem(api.get(path, params={"recorded_as_of": naive}), 422, "recorded_as_of")
        assert "timezone" in found["detail"]
    found = api.get("/v1/analysis/coverage", params={"region": COUNTY, "recorded_as_of": naive})
    problem(found, 422, "recorded_as_of")
    body = {"recorded_as_of": naive}
    problem(api.post(f"/v1/nodes/{V1}/restore", json=body, headers=AUTH), 422, "recorded_as_of")


# ----------------------------------------------------------------- one node's history


def test_a_nodes_history_by_reference_and_after_its_deletion(api: TestClient) -> None:
    by_name = ok(api.get("/v1/nodes/甲公司/history"))["items"]
    assert [e["entity_id"] for e in by_name] == [E1]
    assert api.delete(f"/v1/nodes/{V1}", params={"detach": "true"}, headers=AUTH).status_code == 204
    gone = ok(api.get(f"/v1/nodes/{V1}/history"))["items"]
    assert [e["action"] for e in gone] == ["delete", "create"]
    assert gone[0]["before"]["name"] == "甲一村"
    link = ok(api.get(f"/v1/links/{ORG_OF}/history"))["items"]
    assert [(e["action"], e["operation"]) for e in link] == [
        ("delete", "node.delete"),
        ("create", "batch"),
    ]
    problem(api.get("/v1/nodes/village:370302112999/history"), 404, "id")
    problem(api.get("/v1/links/member_of:0000/history"), 404, "id")


# ------------------------------------------------------------------------ who sees what


def test_the_public_reads_the_history_without_people(api: TestClient) -> None:
    ok(api.put(f"/v1/nodes/{PERSON}", json={**NODES[9], "name": "王新书记"}, headers=AUTH))
    ok(api.put(f"/v1/nodes/{E1}", json={**NODES[7], "name": "甲公司（新）"}, headers=AUTH))
    account_key(api, "town-a-office", "editor", TOWN_A)
    public = entries(api)
    text = str(public)
    for secret in (PERSON, PERSON_NAME, "王新书记", HOLDS, "赵经理", "town-a-office"):
        assert secret not in text, secret
    assert {e["entity"] for e in public} == {"node", "link"}
    update = next(e for e in public if e["operation"] == "node.update")
    assert update["after"]["attributes"] == {"employees": 40}
    assert all(not c["field"].startswith("attributes.contact") for c in update["changes"])
    # A person answers as an unknown node does, by id, by filter and on the node route.
    unknown = "person:nobody"
    hidden, missing = (api.get(f"/v1/nodes/{n}/history") for n in (PERSON, unknown))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace(PERSON, "<id>") == missing.text.replace(unknown, "<id>")
    assert ok(api.get("/v1/history", params={"node": PERSON, "limit": 1})) == {
        "items": [],
        "next_cursor": None,
    }
    problem(api.get(f"/v1/links/{HOLDS}/history"), 404, "id")
    # Key holders read it all; accounts and keys are for admins.
    viewer = account_key(api, "town-b-office", "viewer", TOWN_B)
    seen = entries(api, viewer)
    assert PERSON_NAME in str(seen)
    assert "赵经理" in str(seen)
    assert {e["entity"] for e in seen} == {"node", "link"}
    admin = entries(api, AUTH)
    assert {e["entity"] for e in admin} == {"node", "link", "account", "key"}


# ----------------------------------------------------------------------------- restores


def test_restore_a_node_to_a_version_and_the_restore_is_recorded(api: TestClient) -> None:
    ok(api.put(f"/v1/nodes/{E1}", json={**NODES[7], "name": "改名一"}, headers=AUTH))
    ok(api.put(f"/v1/nodes/{E1}", json={**NODES[7], "name": "改名二"}, headers=AUTH))
    history = ok(api.get(f"/v1/nodes/{E1}/history", headers=AUTH))["items"]
    first = history[-1]
    restored = ok(api.post(f"/v1/nodes/{E1}/restore", json={"version": first["id"]}, headers=AUTH))
    assert restored["changed"] is True
    assert restored["created"] is False
    assert restored["node"] == first["after"]
    assert ok(api.get(f"/v1/nodes/{E1}", headers=AUTH)) == first["after"]
    latest = ok(api.get(f"/v1/nodes/{E1}/history", headers=AUTH))["items"][0]
    assert (latest["operation"], latest["action"], latest["account"]) == (
        "restore",
        "update",
        "api-key",
    )
    assert latest["after"] == first["after"]
    assert latest["before"]["name"] == "改名二"
    # Restoring to what is stored writes nothing.
    again = ok(api.post(f"/v1/nodes/{E1}/restore", json={"version": first["id"]}, headers=AUTH))
    assert again["changed"] is False
    assert len(ok(api.get(f"/v1/nodes/{E1}/history", headers=AUTH))["items"]) == 4


def test_a_deleted_node_comes_back_alone_or_with_its_links(api: TestClient) -> None:
    assert api.delete(f"/v1/nodes/{V1}", params={"detach": "true"}, headers=AUTH).status_code == 204
    created = ok(api.get(f"/v1/nodes/{V1}/history", headers=AUTH))["items"][-1]
    alone = ok(api.post(f"/v1/nodes/{V1}/restore", json={"version": created["id"]}, headers=AUTH))
    assert alone["created"] is True
    assert alone["links"] == []
    assert (
        ok(api.get(f"/v1/links/{ORG_OF}/history", headers=AUTH))["items"][0]["action"] == "delete"
    )
    problem(api.get(f"/v1/links/{ORG_OF}"), 404)

    assert api.delete(f"/v1/nodes/{V1}", headers=AUTH).status_code == 204
    batch(api, links=[{"type": "ORGANIZATION_OF", "source": V1_ORG, "target": V2}])
    org_v2 = derive_link_id("ORGANIZATION_OF", V1_ORG, V2)
    assert api.delete(f"/v1/nodes/{V2}", params={"detach": "true"}, headers=AUTH).status_code == 204
    body = {"version": ok(api.get(f"/v1/nodes/{V2}/history"))["items"][-1]["id"], "links": True}
    both = ok(api.post(f"/v1/nodes/{V2}/restore", json=body, headers=AUTH))
    assert [link["id"] for link in both["links"]] == [org_v2]
    assert ok(api.get(f"/v1/links/{org_v2}"))["target"] == V2
    restore_entries = entries(api, AUTH, operation="restore")
    assert {(e["entity"], e["entity_id"]) for e in restore_entries[:2]} == {
        ("node", V2),
        ("link", org_v2),
    }


def test_restore_a_link_and_one_whose_end_is_gone(api: TestClient) -> None:
    version = ok(api.get(f"/v1/links/{ORG_OF}/history"))["items"][0]["id"]
    assert api.delete(f"/v1/links/{ORG_OF}", headers=AUTH).status_code == 204
    back = ok(api.post(f"/v1/links/{ORG_OF}/restore", json={"version": version}, headers=AUTH))
    assert back["created"] is True
    assert back["link"]["id"] == ORG_OF
    assert api.delete(f"/v1/nodes/{V1}", params={"detach": "true"}, headers=AUTH).status_code == 204
    gone = problem(
        api.post(f"/v1/links/{ORG_OF}/restore", json={"version": version}, headers=AUTH),
        409,
        "version",
    )
    assert V1 in gone["detail"]
    assert gone["details"] == {"link": ORG_OF, "end": "target", "node": V1}


def test_restore_to_a_moment(api: TestClient) -> None:
    before = moment()
    ok(api.put(f"/v1/nodes/{E1}", json={**NODES[7], "name": "后来的名字"}, headers=AUTH))
    body = {"recorded_as_of": before}
    restored = ok(api.post(f"/v1/nodes/{E1}/restore", json=body, headers=AUTH))
    assert restored["node"]["name"] == "甲公司"
    assert restored["recorded_as_of"] == dt.datetime.fromisoformat(before).astimezone(
        dt.UTC
    ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = moment()
    ok(api.post("/v1/nodes", json=_village(f"village:{TOWN_B}009", "新村"), headers=AUTH), 201)
    problem(
        api.post(
            f"/v1/nodes/village:{TOWN_B}009/restore", json={"recorded_as_of": later}, headers=AUTH
        ),
        422,
        "recorded_as_of",
    )


def test_bad_restores_are_problems_and_write_nothing(api: TestClient) -> None:
    node_version = ok(api.get(f"/v1/nodes/{E1}/history"))["items"][0]["id"]
    link_version = ok(api.get(f"/v1/links/{ORG_OF}/history"))["items"][0]["id"]
    count = len(entries(api, AUTH))
    path = f"/v1/nodes/{E1}/restore"
    unknown = "h20200101T000000000000Z-000000-abcdef"
    problem(api.post(path, json={"version": unknown}, headers=AUTH), 404, "version")
    other = problem(api.post(path, json={"version": link_version}, headers=AUTH), 422, "version")
    assert ORG_OF in other["detail"]
    problem(
        api.post(f"/v1/links/{ORG_OF}/restore", json={"version": node_version}, headers=AUTH),
        422,
        "version",
    )
    problem(api.post(path, json={"version": "not a version"}, headers=AUTH), 422, "version")
    problem(api.post(path, json={}, headers=AUTH), 422, "version")
    both = {"version": node_version, "recorded_as_of": "2030-01-01T00:00:00Z"}
    problem(api.post(path, json=both, headers=AUTH), 422, "version")
    problem(api.post(path, json={"version": node_version, "extra": 1}, headers=AUTH), 422, "extra")
    problem(
        api.post(path, json={"recorded_as_of": "2001-01-01T00:00:00Z"}, headers=AUTH),
        422,
        "recorded_as_of",
    )
    problem(
        api.post(path, json={"recorded_as_of": "2999-01-01T00:00:00Z"}, headers=AUTH),
        422,
        "recorded_as_of",
    )
    assert api.delete(f"/v1/nodes/{V3}", headers=AUTH).status_code == 204
    deletion = ok(api.get(f"/v1/nodes/{V3}/history"))["items"][0]["id"]
    problem(
        api.post(f"/v1/nodes/{V3}/restore", json={"version": deletion}, headers=AUTH),
        422,
        "version",
    )
    # Admins only.
    problem(api.post(path, json={"version": node_version}), 401)
    editor = account_key(api, "county-office", "editor", COUNTY)
    problem(api.post(path, json={"version": node_version}, headers=editor), 403)
    written = entries(api, AUTH)
    assert len(written) == count + 3  # the delete, the account and its key: no restore
    assert not [e for e in written if e["operation"] == "restore"]


# ------------------------------------------------------------------- record-time reads

#: What the record-time reads are compared on.
READS: dict[str, tuple[str, dict[str, Any]]] = {
    "node": (f"/v1/nodes/{V3}", {}),
    "neighbourhood": (f"/v1/nodes/{V1}/neighbourhood", {"depth": 3}),
    "body neighbourhood": (f"/v1/nodes/{BODY}/neighbourhood", {"depth": 2, "direction": "in"}),
    "region coverage": (f"/v1/regions/{COUNTY}/coverage", {}),
    "town coverage": (f"/v1/regions/{TOWN_A}/coverage", {}),
    "analysis coverage": ("/v1/analysis/coverage", {"region": COUNTY, "details": "true"}),
    "town analysis": ("/v1/analysis/coverage", {"region": TOWN_A}),
    "coverage on a day": (f"/v1/regions/{COUNTY}/coverage", {"as_of": "2019-06-01"}),
}


def _comparable(body: Any) -> Any:
    """A body with the order of neighbourhood members set aside (the stores walk rings in
    their own order)."""
    if isinstance(body, dict) and "centre" in body:
        return {
            **body,
            "nodes": sorted(body["nodes"], key=lambda n: n["id"]),
            "links": sorted(body["links"], key=lambda k: k["id"]),
        }
    return body


def _snapshot(api: TestClient, headers: dict[str, str], at: str | None = None) -> dict[str, Any]:
    found = {}
    for name, (path, params) in READS.items():
        query = {**params, **({"recorded_as_of": at} if at else {})}
        response = api.get(path, params=query, headers=headers)
        body = response.json() if response.status_code == 200 else response.status_code
        found[name] = _comparable(body)
    return found


def _changes(api: TestClient) -> list[Any]:
    """Four rounds of changes to the county; each a function of the client."""

    def memberships(api: TestClient) -> None:
        batch(
            api,
            links=[
                {"type": "MEMBER_OF", "source": V1_ORG, "target": BODY},
                {"type": "MEMBER_OF", "source": V2, "target": BODY, "valid_from": "2020-01-01"},
                {"type": "PAIRS_WITH", "source": E1, "target": V3},
            ],
        )

    def renames_and_moves(api: TestClient) -> None:
        ok(api.put(f"/v1/nodes/{V3}", json={**NODES[5], "name": "甲三村（改）"}, headers=AUTH))
        moved = {**NODES[8], "region_code": TOWN_B, "name": "乙镇联合党委"}
        ok(api.put(f"/v1/nodes/{BODY}", json=moved, headers=AUTH))
        assert api.delete(f"/v1/links/{ORG_OF}", headers=AUTH).status_code == 204

    def deletions(api: TestClient) -> None:
        assert (
            api.delete(f"/v1/nodes/{PERSON}", params={"detach": "true"}, headers=AUTH).status_code
            == 204
        )
        assert (
            api.delete(f"/v1/nodes/{V3}", params={"detach": "true"}, headers=AUTH).status_code
            == 204
        )
        batch(api, links=[{"type": "ORGANIZATION_OF", "source": V1_ORG, "target": V2}])

    def the_body_goes(api: TestClient) -> None:
        assert (
            api.delete(f"/v1/nodes/{BODY}", params={"detach": "true"}, headers=AUTH).status_code
            == 204
        )
        ok(
            api.post("/v1/nodes", json=_village(f"village:{TOWN_A}003", "甲四村"), headers=AUTH),
            201,
        )

    return [memberships, renames_and_moves, deletions, the_body_goes]


def test_record_time_reads_answer_what_the_graph_said_then(api: TestClient) -> None:
    """Snapshots of node, neighbourhood and coverage reads after each round of changes;
    afterwards each read at each recorded moment answers what its snapshot said, for an
    admin and for the public."""
    viewers = {"admin": AUTH, "public": {}}
    moments: list[str] = []
    snapshots: list[dict[str, Any]] = []
    for change in [None, *_changes(api)]:
        if change is not None:
            change(api)
        moments.append(moment())
        snapshots.append({who: _snapshot(api, headers) for who, headers in viewers.items()})
    assert snapshots[0]["admin"]["region coverage"]["total"]["covered"] == 0
    assert snapshots[1]["admin"]["region coverage"]["total"]["covered"] == 2
    assert snapshots[4]["admin"]["node"] == 404
    for at, then in zip(moments, snapshots, strict=True):
        for who, headers in viewers.items():
            recorded = _snapshot(api, headers, at)
            for name in READS:
                assert recorded[name] == then[who][name], (at, who, name)
    # A person deleted since is still hidden from the public at a moment it was stored.
    public = ok(api.get(f"/v1/nodes/{BODY}/neighbourhood", params={"recorded_as_of": moments[0]}))
    assert PERSON not in str(public)
    assert PERSON_NAME not in str(public)
    keyed = api.get(
        f"/v1/nodes/{BODY}/neighbourhood", params={"recorded_as_of": moments[0]}, headers=AUTH
    )
    assert PERSON_NAME in keyed.text
    hidden = api.get(f"/v1/nodes/{PERSON}", params={"recorded_as_of": moments[0]})
    missing = api.get("/v1/nodes/person:nobody", params={"recorded_as_of": moments[0]})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace(PERSON, "<id>") == missing.text.replace("person:nobody", "<id>")


def test_record_time_and_valid_time_combine(api: TestClient) -> None:
    batch(
        api, links=[{"type": "MEMBER_OF", "source": V2, "target": BODY, "valid_from": "2020-01-01"}]
    )
    then = moment()
    assert (
        api.delete(f"/v1/nodes/{BODY}", params={"detach": "true"}, headers=AUTH).status_code == 204
    )
    path = f"/v1/regions/{TOWN_A}/coverage"
    assert ok(api.get(path, params={"recorded_as_of": then}))["total"]["covered"] == 1
    early = ok(api.get(path, params={"recorded_as_of": then, "as_of": "2019-01-01"}))
    assert early["total"]["covered"] == 0
    assert early["as_of"] == "2019-01-01"
    assert ok(api.get(path))["total"]["covered"] == 0


def test_record_time_reads_refuse_moments_the_history_cannot_answer(api: TestClient) -> None:
    began = entries(api, AUTH)[-1]["at"]
    before = (dt.datetime.fromisoformat(began) - dt.timedelta(seconds=1)).isoformat()
    found = problem(
        api.get(f"/v1/nodes/{V1}", params={"recorded_as_of": before}), 422, "recorded_as_of"
    )
    assert found["details"]["history_began"] == began
    assert "history began" in found["detail"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    problem(api.get(f"/v1/nodes/{V1}", params={"recorded_as_of": later}), 422, "recorded_as_of")
    problem(
        api.get(f"/v1/nodes/{V1}", params={"recorded_as_of": "0001-01-01T00:00:00+08:00"}),
        422,
        "recorded_as_of",
    )
    # At the first entry itself, the first batch is there.
    assert ok(api.get(f"/v1/nodes/{V1}", params={"recorded_as_of": began}))["id"] == V1


def test_a_node_created_later_is_not_there_at_an_earlier_moment(api: TestClient) -> None:
    then = moment()
    new = f"village:{TOWN_B}007"
    ok(api.post("/v1/nodes", json=_village(new, "后建村"), headers=AUTH), 201)
    problem(api.get(f"/v1/nodes/{new}", params={"recorded_as_of": then}), 404, "id")
    ok(api.get(f"/v1/nodes/{new}"))
    problem(api.get(f"/v1/nodes/{new}/neighbourhood", params={"recorded_as_of": then}), 404, "id")


# ------------------------------------------------------------------------ command line

runner = CliRunner()


@pytest.fixture
def cli_api(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The county, with the CLI pointed at the same store."""
    settings: Settings = api.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: settings)
    get_settings.cache_clear()
    return api


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli_app, list(args))
    return result.exit_code, result.output


def test_the_history_and_restore_commands(cli_api: TestClient) -> None:
    import json

    ok(cli_api.put(f"/v1/nodes/{E1}", json={**NODES[7], "name": "改过的名字"}, headers=AUTH))
    code, out = invoke("history", "--node", E1, "--format", "json")
    assert code == 0, out
    listed = json.loads(out)
    assert [e["action"] for e in listed] == ["update", "create"]
    assert listed == ok(cli_api.get(f"/v1/nodes/{E1}/history", headers=AUTH))["items"]
    code, out = invoke("history", "--region", TOWN_A, "--limit", "2")
    assert code == 0, out
    assert "node.update" in out
    assert "name" in out
    code, out = invoke("history", "--since", "2025-01-01T00:00:00")
    assert code == 2
    assert "time zone" in out
    code, out = invoke("restore", "node", E1, "--version", listed[-1]["id"])
    assert code == 0, out
    assert json.loads(out)["document"]["name"] == "甲公司"
    latest = ok(cli_api.get(f"/v1/nodes/{E1}/history", headers=AUTH))["items"][0]
    assert latest["operation"] == "restore"
    assert latest["account"].startswith("cli:")
    code, out = invoke("restore", "link", ORG_OF, "--version", listed[-1]["id"])
    assert code == 1
    assert "version" in out
    code, out = invoke("restore", "edge", ORG_OF, "--version", listed[-1]["id"])
    assert code == 2


# ------------------------------------------------------------- the seed graph, as of now

SEED_BODY = "org:pingyuan-cangkangshi"
SEED_READS: list[tuple[str, dict[str, Any]]] = [
    (f"/v1/nodes/{SEED_BODY}", {}),
    ("/v1/nodes/平原县", {}),
    (f"/v1/nodes/{SEED_BODY}/neighbourhood", {"depth": 3, "limit": 5000}),
    ("/v1/nodes/region:371426001/neighbourhood", {"depth": 2, "limit": 5000}),
    ("/v1/nodes/village:370302112206/neighbourhood", {"depth": 3, "limit": 5000}),
    (f"/v1/nodes/{SEED_BODY}/neighbourhood", {"direction": "in", "link_type": "MEMBER_OF"}),
    ("/v1/regions/371426/coverage", {}),
    ("/v1/regions/37/coverage", {"uncovered_limit": 10_000}),
    ("/v1/regions/370302112/coverage", {"as_of": "2019-01-01"}),
    ("/v1/analysis/coverage", {"region": "371426", "details": "true"}),
    ("/v1/analysis/coverage", {"region": "370302", "as_of": "2020-06-01"}),
]


@pytest.mark.parametrize("headers", [AUTH, {}], ids=["key holder", "anonymous"])
def test_the_seed_recorded_now_reads_as_it_is(
    seed_client: TestClient, headers: dict[str, str]
) -> None:
    """Nothing changed since the seed was loaded: each record-time read at this moment
    answers what the current read does (the record-time walk, region graph and coverage
    against each store's own)."""
    now = moment()
    for path, params in SEED_READS:
        current = ok(seed_client.get(path, params=params, headers=headers))
        recorded = seed_client.get(path, params={**params, "recorded_as_of": now}, headers=headers)
        assert _comparable(ok(recorded)) == _comparable(current), path
        if "centre" in current:
            assert not current["truncated"]


# --------------------------------------------------------------- the store's adjacency


@pytest.mark.anyio
async def test_links_at_nodes_are_every_link_at_each_node_in_id_order(store: Any) -> None:
    from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, link_doc, node_doc
    from graph_service.store.protocol import WriteBatch

    nodes = [node_doc(NODE_ADAPTER.validate_python(n)) for n in NODES]
    links = [
        link_doc(LINK_ADAPTER.validate_python(k))
        for k in (
            *LINKS,
            {"type": "MEMBER_OF", "source": V1_ORG, "target": BODY, "valid_to": "2001-01-01"},
            {"type": "PAIRS_WITH", "source": E1, "target": V1},
        )
    ]
    await store.write(WriteBatch(nodes=nodes, links=links))
    found = await store.links_at_nodes([V1_ORG, V1, E1, V3, "ent:nothing"])
    by_id = {k["id"]: k for k in links}
    expected = {
        node_id: sorted(
            (k for k in links if node_id in (k["source"], k["target"])), key=lambda k: k["id"]
        )
        for node_id in (V1_ORG, V1, E1, V3, "ent:nothing")
    }
    assert found == expected
    assert len(found[V1]) == 2
    assert found[V3] == found["ent:nothing"] == []
    assert all(k == by_id[k["id"]] for at in found.values() for k in at)


def test_coverage_of_a_region_deleted_since(api: TestClient) -> None:
    batch(api, links=[{"type": "MEMBER_OF", "source": V2, "target": BODY}])
    path = f"/v1/regions/{TOWN_A}/coverage"
    then_body = ok(api.get(path))
    assert then_body["total"]["covered"] == 1
    then = moment()
    assert api.delete(f"/v1/nodes/region:{TOWN_A}", headers=AUTH).status_code == 204
    problem(api.get(path), 404, "code")
    assert ok(api.get(path, params={"recorded_as_of": then})) == then_body
    county = ok(api.get(f"/v1/regions/{COUNTY}/coverage", params={"recorded_as_of": then}))
    assert [c["region_code"] for c in county["children"]] == [TOWN_A, TOWN_B]
    assert [
        c["region_code"] for c in ok(api.get(f"/v1/regions/{COUNTY}/coverage"))["children"]
    ] == [TOWN_B]
