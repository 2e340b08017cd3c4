"""``graph-service search`` and node references on the command line, on every backend: the
seed graph for search and the issue's ``recommend partners 甜南村``, the hand-made county of
``test_api_recommendations`` for commands that write."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import open_store
from test_api_recommendations import COUNTY, E2, V1, _links, _nodes
from typer.testing import CliRunner

from graph_service.cli import app
from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, link_doc, node_doc
from graph_service.settings import Settings, get_settings
from graph_service.store.protocol import WriteBatch

runner = CliRunner()
TIANNAN = "village:371426105287"  # 甜南村, 平原县
TAITOU = "village:370302112206"  # 台头村, 淄川区


@pytest.fixture
def seed_cli(seed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: seed_settings)
    get_settings.cache_clear()
    return seed_settings


@pytest.fixture
def county_cli(empty_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
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


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_search_prints_a_table_of_hits(seed_cli: Settings) -> None:
    out = invoke("search", "台头")
    for column in ("name", "label", "kind", "region", "id", "match"):
        assert column in out
    first = next(line for line in out.splitlines() if TAITOU in line)
    assert "台头村" in first
    assert "淄博市淄川区龙泉镇" in first
    assert "exact (台头)" in first  # matched the alias 台头
    assert out.index(TAITOU) < out.index("village:370302104223")  # 台头崖村: a prefix


def test_search_by_code_id_traditional_and_invisible_characters(seed_cli: Settings) -> None:
    def first(*args: str) -> dict[str, str]:
        rows: list[dict[str, str]] = json.loads(invoke("search", *args, "--json"))
        return rows[0]

    assert first("371426")["id"] == "region:371426"
    assert (first("371426105287")["id"], first("371426105287")["match"]) == (TIANNAN, "exact")
    assert first(TIANNAN)["matched"] == TIANNAN
    assert first("臺頭村", "--label", "Village")["id"] == TAITOU
    assert first("甜\u200b南\ufeff村")["id"] == TIANNAN
    rows = json.loads(invoke("search", "台头", "--label", "PartyOrganization", "--json"))
    assert {r["label"] for r in rows} == {"PartyOrganization"}
    assert len(json.loads(invoke("search", "村", "--limit", "3", "--json"))) == 3
    assert "no node matches" in invoke("search", "无此名称之村", code=1)
    assert "--label" in invoke("search", "台头", "--label", "Hamlet", code=2)


def test_partners_of_a_village_named_as_a_planner_names_it(seed_cli: Settings) -> None:
    """The issue's report: ``recommend partners 甜南村`` answered ``no node 甜南村``."""
    result = json.loads(invoke("recommend", "partners", "甜南村", "--top", "3"))
    assert result["target"] == TIANNAN
    assert result["target_name"] == "甜南村"
    assert len(result["candidates"]["items"]) == 3
    by_code = json.loads(invoke("recommend", "partners", "371426105287", "--top", "3"))
    assert by_code["candidates"] == result["candidates"]


def test_an_ambiguous_name_lists_the_candidates(seed_cli: Settings) -> None:
    out = invoke("recommend", "partners", "大庄村", code=1)
    assert "ambiguous_reference" in out
    assert "candidates" in out
    assert "village:620825108200" in out  # one of the ten 大庄村
    assert "平凉市庄浪县大庄镇" in out


def test_analyses_and_exports_take_names(seed_cli: Settings) -> None:
    strength = json.loads(
        invoke("analyse", "strength", "--source", "台头村党支部", "--target", "台头村")
    )
    assert (strength["source"], strength["target"]) == ("org:longquan-taitou-dangzhibu", TAITOU)
    brokers = json.loads(invoke("analyse", "fragility", "--scope", "node:台头村"))
    assert brokers["scope"]["value"] == TAITOU
    out = invoke("export-graph", "--scope", "node:臺頭村", "--format", "node-link")
    exported = json.loads(out[: out.rindex("}") + 1])
    assert exported["graph"]["scope"]["value"] == TAITOU
    assert "no node 无此村" in invoke("analyse", "fragility", "--scope", "node:无此村", code=1)


def test_what_if_and_judge_take_names(county_cli: Settings) -> None:
    report = json.loads(
        invoke("recommend", "what-if", "--pair", "乙公司=甲一村党支部", "--region", COUNTY)
    )
    assert [v["id"] for v in report["newly_paired"]] == [V1]
    judged = json.loads(
        invoke("recommend", "judge", "甲一村", "乙公司", "--decision", "reject", "--by", "王科长")
    )
    assert (judged["judgement"]["target"], judged["judgement"]["partner"]) == (V1, E2)
