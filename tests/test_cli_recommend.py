"""``graph-service recommend …`` on every backend, on the hand-made county of
``test_api_recommendations``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from conftest import open_store
from test_api_recommendations import COUNTY, E1, E2, V1, V1_ORG, V2, _links, _nodes
from test_explanations import CJK
from typer.testing import CliRunner

from graph_service.cli import app
from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, link_doc, node_doc
from graph_service.settings import Settings, get_settings
from graph_service.store.protocol import LinkQuery, WriteBatch

runner = CliRunner()


@pytest.fixture
def county(empty_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: empty_settings)
    get_settings.cache_clear()

    async def load() -> None:
        store = open_store(empty_settings)
        await store.open()
        try:
            await store.write(
                WriteBatch(
                    nodes=[node_doc(NODE_ADAPTER.validate_python(n)) for n in _nodes()],
                    links=[link_doc(LINK_ADAPTER.validate_python(x)) for x in _links()],
                )
            )
        finally:
            await store.close()

    asyncio.run(load())
    return empty_settings


def run(*args: str, code: int = 0) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["recommend", *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else {"output": result.output}


def pairings(settings: Settings) -> list[dict]:  # type: ignore[type-arg]
    async def read() -> list[dict]:  # type: ignore[type-arg]
        store = open_store(settings)
        await store.open()
        try:
            return (await store.list_links(LinkQuery(types=["PAIRS_WITH"]), None, 100)).items
        finally:
            await store.close()

    return asyncio.run(read())


def test_partners_judge_and_the_audit_trail(county: Settings) -> None:
    offered = run("partners", V1_ORG, "--top", "10")
    assert offered["target"] == V1
    assert E1 in {c["partner_id"] for c in offered["candidates"]["items"]}
    reasons = [r for c in offered["candidates"]["items"] for r in c["reasons"]]
    assert all(CJK.search(r["explanation"]) and r["explanation_en"] for r in reasons)

    rejected = run("judge", V1, E1, "--decision", "reject", "--by", "王科长", "--note", "太远")
    assert rejected["judgement"]["decided_by"] == "王科长"
    assert rejected["judgement"]["recorded_by"].startswith("cli:")
    assert E1 not in {c["partner_id"] for c in run("partners", V1)["candidates"]["items"]}

    accepted = run("judge", V1, E2, "--decision", "accept", "--by", "王科长")
    link = accepted["link"]
    assert (link["type"], link["source"], link["target"]) == ("PAIRS_WITH", E2, V1)
    (stored,) = pairings(county)
    assert stored["sources"][0]["kind"] == "planner_decision"

    trail = run("judgements", "--node", V1)
    assert [j["decision"] for j in trail["items"]] == ["reject", "accept"]
    assert trail["items"][0]["note"] == "太远"
    assert [j["decision"] for j in run("judgements", "--decision", "accept")["items"]] == ["accept"]


def test_judgements_by_the_vocabulary_s_decided_by(county: Settings) -> None:
    """--decided-by (the API's decided_by) records and filters; --by, its former name, too."""
    run("judge", V1, E1, "--decision", "unsure", "--decided-by", "王科长")
    run("judge", V1, E2, "--decision", "unsure", "--by", "李干事")
    mine = run("judgements", "--decided-by", "王科长")["items"]
    assert [(j["partner"], j["decided_by"]) for j in mine] == [(E1, "王科长")]
    assert [j["partner"] for j in run("judgements", "--by", "李干事")["items"]] == [E2]


def test_assign_then_what_if_of_the_plan(county: Settings, tmp_path: Path) -> None:
    plan = run("assign", "--region", COUNTY, "-k", "1", "-m", "1")
    assert {p["village"]["id"] for p in plan["pairs"]} == {V1, V2}
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    report = run("what-if", "--plan", str(saved))
    assert sorted(v["id"] for v in report["newly_paired"]) == [V1, V2]
    assert report["written"] is False
    assert report["summary"].startswith("拟新增结对 2 对 (仅模拟, 不写入数据)")
    assert pairings(county) == []  # nothing written
    by_pair = run("what-if", "--pair", f"{E2}={V1_ORG}", "--region", COUNTY)
    assert [v["id"] for v in by_pair["newly_paired"]] == [V1]


@pytest.fixture
def seed_cli(seed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: seed_settings)
    get_settings.cache_clear()
    return seed_settings


def test_assign_a_seed_county_prints_a_plan_and_its_funnel(seed_cli: Settings) -> None:
    result = runner.invoke(app, ["recommend", "assign", "--region", "371426"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["villages"] == 427
    assert len(plan["pairs"]) == plan["helpers"] > 0
    assert "[村] 薄弱村: 436 → 427" in result.stderr
    assert f"分配方案: {len(plan['pairs'])} 对" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("judge", V1, E1, "--decision", "maybe", "--by", "王"), 2, "decision"),
        (("judge", V1, "ent:ghost", "--decision", "reject", "--by", "王"), 1, "not_found"),
        (("assign", "--region", "12"), 2, "region"),
        (("assign", "--region", COUNTY, "--village", "ent:e1"), 1, "villages.0"),
        (("what-if", "--pair", "no-equals-sign"), 2, "HELPER=VILLAGE"),
        (("partners", V1, "--relation", "sideways"), 2, "relation"),
        (("judgements", "--since", "yesterday"), 2, "--since"),
    ],
)
def test_bad_input_exits_with_a_message(
    county: Settings, args: tuple[str, ...], code: int, message: str
) -> None:
    output = run(*args, code=code)["output"]
    assert message in output
    assert "Traceback" not in output
