"""The edit history is append-only: no route changes or deletes an entry, on every backend,
and the embedded store's file refuses it too.

Every path of the app's OpenAPI document is called with every method, as an admin (the most
a key may do), with bodies that make the writes happen where the route writes; after each
call the history, read through a store of its own (not through the routes under test), still
holds every entry it held, unchanged, and only new ones besides. A route added later is
walked here without editing this file.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AUTH, ROOT, make_settings, open_store
from fastapi.testclient import TestClient
from test_history import BODY, COUNTY, E1, LINKS, NODES, ORG_OF, V2, V3, account_key, batch, ok

from graph_service.api.app import create_app
from graph_service.settings import Settings
from graph_service.store.protocol import GraphStore, HistoryQuery

METHODS = ("get", "put", "post", "delete", "patch")
ACCOUNT = "walk-office"


class HistoryReader:
    """The whole history, read through a store of its own on its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.store: GraphStore = open_store(settings)
        self.loop.run_until_complete(self.store.open())

    def entries(self) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            found: dict[str, Any] = {}
            cursor = None
            while True:
                page = await self.store.list_history(HistoryQuery(), cursor, 1000)
                found.update((e["id"], e) for e in page.items)
                cursor = page.next_cursor
                if cursor is None:
                    return found

        return self.loop.run_until_complete(read())

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.fixture
def county(client: TestClient) -> Iterator[tuple[TestClient, HistoryReader]]:
    batch(client, nodes=NODES, links=LINKS)
    reader = HistoryReader(client.app.state.settings)  # type: ignore[attr-defined]
    try:
        yield client, reader
    finally:
        reader.close()


def _values(api: TestClient) -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    """Path and query values, and bodies by (method, path), that reach the county."""
    account_key(api, ACCOUNT, "viewer", COUNTY)
    key_id = ok(api.get(f"/v1/accounts/{ACCOUNT}/keys", headers=AUTH))["items"][0]["id"]
    judged = {"target": V3, "partner": E1, "decision": "unsure"}
    judgement = ok(api.post("/v1/recommendations/judgements", json=judged, headers=AUTH), 201)
    node_version = ok(api.get(f"/v1/nodes/{E1}/history"))["items"][-1]["id"]
    link_version = ok(api.get(f"/v1/links/{ORG_OF}/history"))["items"][-1]["id"]
    values = {
        "node_id": E1,
        "link_id": ORG_OF,
        "code": COUNTY,
        "name": ACCOUNT,
        "key_id": key_id,
        "document_id": "000_ebbe741d95becf05.txt",
        "judgement_id": judgement["judgement"]["id"],
        "q": "甲",
        "scope": f"region:{COUNTY}",
        "region": COUNTY,
        "source": E1,
        "target": V3,
        "from": "2000-01-01",
        "to": "2030-01-01",
        "detach": "true",
    }
    company = {**NODES[7], "name": "甲公司（走查）"}
    bodies = {
        ("post", "/v1/nodes"): {**company, "id": "ent:walk"},
        ("put", "/v1/nodes/{node_id}"): company,
        ("post", "/v1/links"): {"type": "MEMBER_OF", "source": V2, "target": BODY},
        ("put", "/v1/links/{link_id}"): {**LINKS[0], "valid_from": "2020-01-01"},
        ("post", "/v1/batch"): {
            "nodes": [{**company, "id": "ent:walk2"}],
            "links": [{"type": "PAIRS_WITH", "source": "ent:walk2", "target": V3}],
        },
        ("post", "/v1/recommendations/judgements"): {**judged, "decision": "reject"},
        ("post", "/v1/recommendations/what-if"): {"proposed": [{"helper": E1, "village": V3}]},
        ("post", "/v1/recommendations/assignment"): {"region": COUNTY},
        ("post", "/v1/accounts"): {"name": "walk-two", "role": "editor", "scope": COUNTY},
        ("patch", "/v1/accounts/{name}"): {"role": "planner"},
        ("post", "/v1/accounts/{name}/keys"): {},
        ("post", "/v1/nodes/{node_id}/restore"): {"version": node_version},
        ("post", "/v1/links/{link_id}/restore"): {"version": link_version},
    }
    return values, bodies


def _request(
    method: str, path: str, operation: dict[str, Any], values: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    url = path
    query = {}
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if name not in values or parameter["in"] == "header":
            continue
        if parameter["in"] == "path":
            url = url.replace("{" + name + "}", str(values[name]))
        elif parameter.get("required") or method == "delete":
            query[name] = values[name]
    return re.sub(r"\{[^}]+\}", "x", url), query


def test_no_route_changes_or_deletes_a_history_entry(
    county: tuple[TestClient, HistoryReader],
) -> None:
    api, reader = county
    values, bodies = _values(api)
    document = api.app.openapi()  # type: ignore[attr-defined]
    calls = [
        (method, path, document["paths"][path].get(method, {}))
        for path in sorted(document["paths"])
        for method in METHODS
    ]
    # Deletions last, so that the writes before them find what they write to.
    calls.sort(key=lambda call: call[0] == "delete")
    held = reader.entries()
    statuses: dict[str, int] = {}
    added: dict[str, int] = {}
    for method, path, operation in calls:
        url, query = _request(method, path, operation, values)
        body = bodies.get((method, path))
        response = api.request(
            method.upper(), url, params=query, headers=AUTH, json=body if body is not None else None
        )
        assert response.status_code < 500, (method, url, response.text[:300])
        statuses[f"{method} {path}"] = response.status_code
        now = reader.entries()
        changed = [i for i, entry in held.items() if now.get(i) != entry]
        assert changed == [], (method, path, changed[:3])
        new = set(now) - set(held)
        assert len(now) == len(held) + len(new)
        added[f"{method} {path}"] = len(new)
        held = now
    # The walk wrote through every kind of write route, and each write was recorded.
    writes = {
        "post /v1/nodes",
        "put /v1/nodes/{node_id}",
        "post /v1/links",
        "put /v1/links/{link_id}",
        "post /v1/batch",
        "post /v1/recommendations/judgements",
        "post /v1/accounts",
        "patch /v1/accounts/{name}",
        "post /v1/accounts/{name}/keys",
        "post /v1/keys/{key_id}/revoke",
        "post /v1/nodes/{node_id}/restore",
        "delete /v1/links/{link_id}",
        "delete /v1/nodes/{node_id}",
    }
    assert {call: added[call] > 0 for call in writes} == dict.fromkeys(writes, True), statuses
    # Reads write nothing.
    assert {call: n for call, n in added.items() if call.startswith("get ") and n} == {}
    # Nothing the history routes answer to but reads.
    for path in ("/v1/history", "/v1/nodes/{node_id}/history", "/v1/links/{link_id}/history"):
        for method in ("put", "post", "delete", "patch"):
            assert statuses[f"{method} {path}"] == 405


def test_the_embedded_file_refuses_to_change_or_delete_history(tmp_path: Path) -> None:
    settings = make_settings("embedded", tmp_path / "data")
    with TestClient(create_app(settings)) as api:
        batch(api, nodes=NODES[:3])
    connection = sqlite3.connect(settings.data_dir / "graph.sqlite3")
    try:
        (count,) = connection.execute("SELECT count(*) FROM history").fetchone()
        assert count == 3
        for statement in (
            "UPDATE history SET account = 'someone else'",
            "DELETE FROM history",
            "DELETE FROM history WHERE id = (SELECT min(id) FROM history)",
            "UPDATE history SET doc = x'' WHERE id = (SELECT max(id) FROM history)",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                connection.execute(statement)
        connection.rollback()
        assert connection.execute("SELECT count(*) FROM history").fetchone() == (3,)
    finally:
        connection.close()


def test_no_cypher_statement_changes_a_history_entry() -> None:
    """Neo4j has no triggers: no statement the service runs sets, removes, merges or deletes
    a :HistoryEntry. The one that writes them creates them; the tests' wipe (which empties
    the database between tests) is called by no module of the service but the store's own."""
    for path in sorted((ROOT / "cypher").rglob("*.cypher")):
        text = re.sub(r"//.*", "", path.read_text(encoding="utf-8"))
        if "HistoryEntry" not in text:
            continue
        if path.name == "history_append.cypher":
            assert re.search(r"\bCREATE \(h:HistoryEntry\)", text)
            assert not re.search(r"\b(MERGE|DELETE|REMOVE|MATCH)\b", text)
            continue
        assert not re.search(r"\b(SET|DELETE|REMOVE|MERGE|CREATE (?!CONSTRAINT|INDEX))\b", text), (
            path
        )
    callers = [
        path
        for path in (ROOT / "graph_service").rglob("*.py")
        if ".wipe(" in path.read_text(encoding="utf-8")
    ]
    assert callers == []
