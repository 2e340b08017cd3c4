"""A planner's own data, end to end on each store: name resolution, spreadsheet import
(preview, commit, undo), the review queue, duplicate scans, merges and their undoing, and
extraction from a new article. Hand-checked against the seed graph and the example 台账.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from conftest import _NEO4J_STATE, AUTH, SEED_DIR, account_headers, open_store
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.services.loading import load_seed
from graph_service.settings import Settings

LEDGER = SEED_DIR / "examples" / "平原县党建结对台账.xlsx"
PINGYUAN = "371426"


async def _load(settings: Settings) -> None:
    store = open_store(settings)
    await store.open()
    try:
        await load_seed(store, SEED_DIR)
    finally:
        await store.close()


@pytest.fixture
def api(empty_settings: Settings) -> Iterator[TestClient]:
    """The app on a writable copy of the seed graph."""
    asyncio.run(_load(empty_settings))
    if empty_settings.neo4j_uri:
        _NEO4J_STATE["content"] = "dirty"
    with TestClient(create_app(empty_settings), raise_server_exceptions=False) as client:
        yield client


def _xlsx(rows: list[list[Any]], title: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "台账"
    if title:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(
    client: TestClient,
    data: bytes,
    name: str = "台账.xlsx",
    headers: dict[str, str] = AUTH,
    **form: Any,
) -> Any:
    fields = {
        "region_code": PINGYUAN,
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
    }
    return client.post("/v1/imports", files={"file": (name, data)}, data=fields, headers=headers)


# ---------------------------------------------------------------------------- resolution


def test_a_misspelt_town_resolves_to_the_register_town_first(api: TestClient) -> None:
    answer = api.get(
        "/v1/resolve", params={"name": "王果铺镇", "label": "Region", "region": PINGYUAN}
    )
    assert answer.status_code == 200, answer.text
    first = answer.json()["candidates"][0]
    assert first["node"]["name"] == "王杲铺镇"
    assert first["node"]["id"] == "region:371426105"
    assert first["explanation"]


def test_a_company_written_without_its_legal_form_finds_the_company(api: TestClient) -> None:
    answer = api.get("/v1/resolve", params={"name": "森力啤酒饮料公司", "region": PINGYUAN}).json()
    first = answer["candidates"][0]
    assert first["node"]["name"] == "森力啤酒饮料有限公司"
    assert first["score"] == pytest.approx(0.95)
    assert first["features"]["same_core"] is True
    assert answer["query"]["core"] == "森力啤酒饮料"


def test_resolve_refuses_what_it_cannot_use(api: TestClient) -> None:
    assert api.get("/v1/resolve", params={"name": "  "}).json()["field"] == "name"
    wrong = api.get("/v1/resolve", params={"name": "林庄", "region": "3714261"})
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "region"


# ---------------------------------------------------------------------------- imports


def test_the_example_ledger_previews_commits_and_undoes_as_one_unit(api: TestClient) -> None:
    data = LEDGER.read_bytes()
    before = api.get("/v1/stats").json()
    preview = _upload(api, data, LEDGER.name)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["table_kind"] == "links"
    assert plan["header_row"] == 2
    assert plan["mapping"]["columns"]["村名"] == "name"
    counts = plan["counts"]
    assert counts["rows"] == 299
    assert counts["matched"] + counts["new"] + counts["ambiguous"] + counts["rejected"] == 299
    rejected = {r["row"]: r for r in plan["rows"] if r["status"] == "rejected"}
    assert {63, 103, 153, 243} <= set(rejected)
    assert rejected[63]["errors"][0]["field"] == "valid_from"
    # A preview writes nothing.
    assert api.get("/v1/stats").json() == before

    committed = _upload(api, data, LEDGER.name, commit=True, plan_digest=plan["plan_digest"])
    assert committed.status_code == 201, committed.text
    result = committed.json()
    assert result["links_created"] > 200
    assert len(result["review_items"]) == counts["ambiguous"]
    # Provenance: file, sheet, row.
    link_id = next(r["link"] for r in plan["rows"] if r["status"] == "matched" and r.get("link"))
    links = api.get("/v1/links", params={"node": link_id["target"], "limit": 200}).json()
    imported = [s for link in links["items"] for s in link["sources"] if s["kind"] == "import"]
    assert imported
    assert imported[0]["document"] == LEDGER.name
    assert "第" in imported[0]["quote"]
    listed = api.get("/v1/imports", headers=AUTH).json()["items"]
    assert listed[0]["import_id"] == result["import_id"]

    undone = api.post(f"/v1/imports/{result['import_id']}/undo", headers=AUTH)
    assert undone.status_code == 200, undone.text
    assert undone.json()["links_deleted"] == result["links_created"]
    assert api.get("/v1/stats").json()["links_by_type"] == before["links_by_type"]
    again = api.post(f"/v1/imports/{result['import_id']}/undo", headers=AUTH)
    assert again.status_code == 409


def test_a_commit_refuses_a_plan_that_changed_since_the_preview(api: TestClient) -> None:
    data = _xlsx(
        [
            ["村名", "所属乡镇", "结对单位", "单位类型", "联建类型"],
            ["林庄村", "龙门街道", "平原县新创科技有限公司", "企业", "结对帮扶"],
        ]
    )
    plan = _upload(api, data).json()
    assert plan["counts"] == {"rows": 1, "matched": 0, "new": 1, "ambiguous": 0, "rejected": 0}
    first = _upload(api, data, commit=True, plan_digest=plan["plan_digest"])
    assert first.status_code == 201, first.text
    # The partner exists now: the same preview no longer describes the commit.
    stale = _upload(api, data, commit=True, plan_digest=plan["plan_digest"])
    assert stale.status_code == 409
    assert stale.json()["code"] == "plan_changed"


def test_rows_written_several_ways_make_one_new_node(api: TestClient) -> None:
    data = _xlsx(
        [
            ["村名", "所属乡镇", "结对单位", "单位类型", "联建类型", "签约时间"],
            ["林庄村", "龙门街道", "平原县鑫源农业科技有限公司", "企业", "结对帮扶", "2021年3月"],
            ["康庄", "龙门街道", "鑫源农业科技公司", "企业", "结对帮扶", "2021.03.15"],
            ["光明社区", "龙门", "鑫源農業科技有限公司", "企业", "结对帮扶", 44270],
        ]
    )
    plan = _upload(api, data).json()
    partners = {r["partner"]["node"]["id"] for r in plan["rows"]}
    assert len(partners) == 1, plan["rows"]
    committed = _upload(api, data, commit=True).json()
    assert committed["nodes_created"] == 1
    assert committed["links_created"] == 3
    dates = sorted(
        link["valid_from"]
        for link in api.get("/v1/links", params={"node": partners.pop()}).json()["items"]
    )
    assert dates == ["2021-03-01", "2021-03-15", "2021-03-15"]


def test_bad_sheets_are_refused_naming_the_field_and_write_nothing(api: TestClient) -> None:
    before = api.get("/v1/stats").json()
    no_name = _upload(api, _xlsx([["备注", "金额"], ["x", 1]]), commit=True)
    assert no_name.status_code == 422
    assert no_name.json()["code"] == "no_name_column"
    garbage = _upload(api, bytes(range(256)) * 10, "x.csv")
    assert garbage.status_code == 422
    assert garbage.json()["field"] == "file"
    bad_map = _upload(api, _xlsx([["村名"], ["林庄村"]]), mapping='{"村名": "nonsense"}')
    assert bad_map.status_code == 422
    assert bad_map.json()["field"].startswith("mapping")
    not_json = _upload(api, _xlsx([["村名"], ["林庄村"]]), mapping="{")
    assert not_json.json()["field"] == "mapping"
    wrong_region = _upload(api, _xlsx([["村名"], ["林庄村"]]), region_code="999999")
    assert wrong_region.status_code == 404
    assert api.get("/v1/stats").json() == before


def test_an_upload_over_the_limit_is_refused_before_it_is_read(api: TestClient) -> None:
    limit = api.app.state.settings.max_import_bytes  # type: ignore[attr-defined]
    answer = _upload(api, b"a" * (limit + 1), "big.csv")
    assert answer.status_code == 413


def test_imports_take_an_editor_in_their_region(api: TestClient) -> None:
    data = _xlsx([["村名", "结对单位", "单位类型"], ["林庄村", "某某有限公司", "企业"]])
    assert _upload(api, data, headers={}).status_code == 401
    viewer = account_headers(api, "viewer-py", "viewer", PINGYUAN)
    assert _upload(api, data, headers=viewer).status_code == 403
    other = account_headers(api, "editor-zc", "editor", "370302")
    refused = _upload(api, data, headers=other, commit=True)
    assert refused.status_code == 403
    assert refused.json()["code"] == "outside_scope"


def test_a_mapping_is_corrected_saved_and_reused_by_name(api: TestClient) -> None:
    data = _xlsx([["村庄", "帮扶企业名单", "类别"], ["林庄村", "德润农业有限公司", "企业"]])
    saved = api.put(
        "/v1/imports/mappings/平原结对",
        json={"村庄": "name", "帮扶企业名单": "partner", "类别": "partner_label"},
        headers=AUTH,
    )
    assert saved.status_code == 200, saved.text
    plan = _upload(api, data, mapping_name="平原结对").json()
    assert plan["mapping"]["columns"]["帮扶企业名单"] == "partner"
    assert plan["counts"]["new"] == 1
    names = [m["name"] for m in api.get("/v1/imports/mappings", headers=AUTH).json()["items"]]
    assert names == ["平原结对"]
    assert api.get("/v1/imports/mappings/无此名", headers=AUTH).status_code == 404


# ---------------------------------------------------------------------------- review, merges


def _duplicate(api: TestClient) -> str:
    """A second 森力 node, as a careless import would make it; its id."""
    node = {
        "id": "ent:senli-dup",
        "label": "Enterprise",
        "name": "平原县森力啤酒饮料公司",
        "region_code": "371426103",
    }
    assert api.post("/v1/nodes", json=node, headers=AUTH).status_code == 201
    link = {
        "type": "CO_BUILDS",
        "source": "ent:senli-dup",
        "target": "village:371426001268",
        "valid_from": "2022-01-01",
    }
    assert api.post("/v1/links", json=link, headers=AUTH).status_code == 201
    return "ent:senli-dup"


def test_a_scan_proposes_a_duplicate_and_a_positive_judgement_merges_it(api: TestClient) -> None:
    dup = _duplicate(api)
    scan = api.post(
        "/v1/dedup/scan", params={"region": PINGYUAN, "label": "Enterprise"}, headers=AUTH
    )
    assert scan.status_code == 200, scan.text
    items = [
        i for i in scan.json()["items"] if dup in (i["subject"]["a"]["id"], i["subject"]["b"]["id"])
    ]
    assert len(items) == 1
    item = items[0]
    assert api.get("/v1/review", headers=AUTH).status_code == 200
    assert api.get("/v1/review").status_code == 401
    decided = api.post(
        f"/v1/review/{item['id']}/decision",
        json={"decision": "positive", "canonical": "ent:encheng-senli-pijiu"},
        headers=AUTH,
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["item"]["status"] == "accepted"
    assert body["merge"]["links_moved"] == 1
    # The merged id resolves to the canonical node; its link moved; its name is an alias.
    node = api.get(f"/v1/nodes/{dup}").json()
    assert node["id"] == "ent:encheng-senli-pijiu"
    assert "平原县森力啤酒饮料公司" in node["aliases"]
    links = api.get("/v1/links", params={"node": "ent:encheng-senli-pijiu", "limit": 500}).json()
    assert any(
        link["target"] == "village:371426001268" and link.get("valid_from") == "2022-01-01"
        for link in links["items"]
    )
    history = api.get("/v1/history", params={"operation": "merge"}, headers=AUTH).json()
    assert {e["entity_id"] for e in history["items"]} >= {dup, "ent:encheng-senli-pijiu"}
    # A second decision is a conflict; the pair is not proposed again.
    again = api.post(
        f"/v1/review/{item['id']}/decision", json={"decision": "negative"}, headers=AUTH
    )
    assert again.status_code == 409

    merge_id = body["merge"]["merge_id"]
    undone = api.post(f"/v1/merges/{merge_id}/undo", headers=AUTH)
    assert undone.status_code == 200, undone.text
    assert api.get(f"/v1/nodes/{dup}").json()["id"] == dup
    canonical = api.get("/v1/nodes/ent:encheng-senli-pijiu").json()
    assert "平原县森力啤酒饮料公司" not in canonical["aliases"]
    assert api.post(f"/v1/merges/{merge_id}/undo", headers=AUTH).status_code == 409
    assert api.get(f"/v1/review/{item['id']}", headers=AUTH).json()["status"] == "unsure"


def test_a_negative_pair_is_never_proposed_again(api: TestClient) -> None:
    dup = _duplicate(api)
    params = {"region": PINGYUAN, "label": "Enterprise"}
    item = next(
        i
        for i in api.post("/v1/dedup/scan", params=params, headers=AUTH).json()["items"]
        if dup in (i["subject"]["a"]["id"], i["subject"]["b"]["id"])
    )
    answer = api.post(
        f"/v1/review/{item['id']}/decision", json={"decision": "negative"}, headers=AUTH
    )
    assert answer.json()["item"]["status"] == "rejected"
    rescan = api.post("/v1/dedup/scan", params=params, headers=AUTH).json()
    assert all(
        dup not in (i["subject"]["a"]["id"], i["subject"]["b"]["id"]) for i in rescan["items"]
    )
    assert rescan["already_judged"] >= 1


def test_a_merge_across_counties_takes_an_admin(api: TestClient) -> None:
    editor = account_headers(api, "editor-all", "editor", "37")
    body = {"canonical": "ent:encheng-senli-pijiu", "merged": "village:370302112206"}
    labels = api.post("/v1/merges", json=body, headers=editor)
    assert labels.status_code == 422  # an enterprise and a village
    node = {"id": "ent:zc-copy", "label": "Enterprise", "name": "森力啤酒", "region_code": "370302"}
    assert api.post("/v1/nodes", json=node, headers=AUTH).status_code == 201
    body = {"canonical": "ent:encheng-senli-pijiu", "merged": "ent:zc-copy"}
    refused = api.post("/v1/merges", json=body, headers=editor)
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_required"
    assert api.post("/v1/merges", json=body, headers=AUTH).status_code == 201


def test_an_undo_refuses_when_the_merged_result_changed_since(api: TestClient) -> None:
    dup = _duplicate(api)
    merged = api.post(
        "/v1/merges", json={"canonical": "ent:encheng-senli-pijiu", "merged": dup}, headers=AUTH
    ).json()
    node = api.get("/v1/nodes/ent:encheng-senli-pijiu").json()
    node["attributes"] = {**(node.get("attributes") or {}), "employees": 321}
    node.pop("sources", None)
    assert api.put(f"/v1/nodes/{node['id']}", json=node, headers=AUTH).status_code == 200
    refused = api.post(f"/v1/merges/{merged['merge_id']}/undo", headers=AUTH)
    assert refused.status_code == 409
    assert refused.json()["code"] == "changed_since"


def test_an_ambiguous_row_is_queued_and_accepting_it_writes_the_row(api: TestClient) -> None:
    # Two 森力 companies: the ledger's 森力公司 could be either.
    node = {
        "id": "ent:senli-2",
        "label": "Enterprise",
        "name": "森力饮料有限公司",
        "region_code": "371426",
    }
    assert api.post("/v1/nodes", json=node, headers=AUTH).status_code == 201
    data = _xlsx(
        [
            ["村名", "结对单位", "单位类型", "联建类型"],
            ["林庄村", "森力有限公司", "企业", "村企共建"],
        ]
    )
    plan = _upload(api, data).json()
    assert plan["counts"]["ambiguous"] == 1, plan["rows"]
    committed = _upload(api, data, commit=True).json()
    (item_id,) = committed["review_items"]
    item = api.get(f"/v1/review/{item_id}", headers=AUTH).json()
    assert item["type"] == "import_row"
    candidates = [c["node"]["id"] for c in item["subject"]["candidates"]]
    assert "ent:senli-2" in candidates
    bad = api.post(
        f"/v1/review/{item_id}/decision",
        json={"decision": "positive", "node": "village:370302112206"},
        headers=AUTH,
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "node"
    accepted = api.post(
        f"/v1/review/{item_id}/decision",
        json={"decision": "positive", "node": "ent:senli-2"},
        headers=AUTH,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["links_written"] == 1
    links = api.get("/v1/links", params={"node": "ent:senli-2"}).json()["items"]
    assert [(link["type"], link["target"]) for link in links] == [
        ("CO_BUILDS", "village:371426001268")
    ] or [(link["type"], link["source"]) for link in links] == [
        ("CO_BUILDS", "village:371426001268")
    ]


# ---------------------------------------------------------------------------- articles

ARTICLE = (
    "2023年，平原县王杲铺镇组织森力啤酒饮料有限公司与林庄村党支部结对共建。"
    "镇党委选派3名干部到林庄村驻村。"
)


def test_an_article_becomes_review_items_and_accepting_writes_with_provenance(
    api: TestClient,
) -> None:
    made = api.post("/v1/documents", json={"text": ARTICLE, "region_code": PINGYUAN}, headers=AUTH)
    assert made.status_code == 201, made.text
    body = made.json()
    names = {e["name"]: e for e in body["entities"]}
    assert "森力啤酒饮料有限公司" in names
    senli = names["森力啤酒饮料有限公司"]
    assert (
        ARTICLE[senli["evidence"]["start"] : senli["evidence"]["end"]]
        == senli["evidence"]["sentence"]
    )
    assert senli["candidates"][0]["node"]["id"] == "ent:encheng-senli-pijiu"
    queued = api.get("/v1/review", params={"origin": "extraction"}, headers=AUTH).json()
    assert {i["id"] for i in queued["items"]} == set(body["review_items"])
    # Nothing is written before a person accepts.
    assert (
        api.get("/v1/nodes/ent:encheng-senli-pijiu").json()["sources"]
        == api.get("/v1/nodes/ent:encheng-senli-pijiu").json()["sources"]
    )
    accepted = api.post(
        f"/v1/review/{senli['review_item']}/decision",
        json={"decision": "positive", "node": "ent:encheng-senli-pijiu"},
        headers=AUTH,
    )
    assert accepted.status_code == 200, accepted.text
    sources = api.get("/v1/nodes/ent:encheng-senli-pijiu").json()["sources"]
    assert any(s["kind"] == "article" and s["document"] == body["document_id"] for s in sources)


def test_a_link_is_written_only_once_its_ends_are_accepted(api: TestClient) -> None:
    body = api.post(
        "/v1/documents", json={"text": ARTICLE, "region_code": PINGYUAN}, headers=AUTH
    ).json()
    assert body["links"], body
    link = body["links"][0]
    early = api.post(
        f"/v1/review/{link['review_item']}/decision", json={"decision": "positive"}, headers=AUTH
    )
    assert early.status_code == 409
    assert early.json()["code"] == "ends_not_accepted"
    for entity in body["entities"]:
        if entity["key"] in (link["source"], link["target"]):
            choice = entity["candidates"][0]["node"]["id"] if entity["candidates"] else "new"
            answer = api.post(
                f"/v1/review/{entity['review_item']}/decision",
                json={"decision": "positive", "node": choice},
                headers=AUTH,
            )
            assert answer.status_code == 200, answer.text
    done = api.post(
        f"/v1/review/{link['review_item']}/decision", json={"decision": "positive"}, headers=AUTH
    )
    assert done.status_code == 200, done.text
    assert done.json()["links_written"] == 1


def test_a_text_without_entities_proposes_nothing(api: TestClient) -> None:
    answer = api.post("/v1/documents", json={"text": "今天天气很好。"}, headers=AUTH)
    assert answer.status_code == 201
    assert answer.json()["entities"] == []
    assert answer.json()["review_items"] == []
    assert api.post("/v1/documents", json={"text": "   "}, headers=AUTH).status_code == 422


def test_a_sheet_of_nodes_makes_new_ones_and_fills_what_matched_ones_lack(
    api: TestClient,
) -> None:
    data = _xlsx(
        [
            ["单位名称", "类型", "所属乡镇", "统一社会信用代码", "联系人"],
            ["平原县丰禾农机专业合作社", "合作社", "王杲铺镇", "91371426MA3C5XKP0U", "张某某"],
            ["林庄村", "村", "龙门街道", None, "李某某"],
            ["无名之地", "外星机构x", None, None, None],
        ]
    )
    plan = _upload(api, data).json()
    assert plan["table_kind"] == "nodes"
    rows = {r["row"]: r for r in plan["rows"]}
    assert rows[2]["status"] == "new"
    assert rows[3]["status"] == "matched"
    assert rows[3]["node"]["node"]["id"] == "village:371426001268"
    assert rows[4]["status"] == "rejected"
    assert rows[4]["errors"][0]["field"] == "label"
    committed = _upload(api, data, commit=True, plan_digest=plan["plan_digest"])
    assert committed.status_code == 201, committed.text
    assert committed.json()["nodes_created"] == 1
    village = api.get("/v1/nodes/village:371426001268", headers=AUTH).json()
    assert village["attributes"]["contact_person"] == "李某某"
    # Personal fields reach key holders only.
    assert "contact_person" not in (
        api.get("/v1/nodes/village:371426001268").json()["attributes"] or {}
    )
    made = api.get("/v1/resolve", params={"name": "丰禾农机合作社", "region": PINGYUAN}).json()
    assert made["candidates"][0]["node"]["name"] == "平原县丰禾农机专业合作社"
