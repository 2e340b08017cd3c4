"""``graph-service evaluate`` and the evaluation service behind it."""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import SEED_DIR, open_store
from typer.testing import CliRunner

from graph_service.analysis.evaluation import METHODS, evaluate
from graph_service.cli import app
from graph_service.errors import NotFoundError
from graph_service.register import read_register, register_graph
from graph_service.services import evaluation as ev
from graph_service.services.synthetic.into_store import generate_into
from graph_service.services.synthetic.network import county_profile
from graph_service.services.view import GraphViews
from graph_service.settings import Settings, get_settings
from graph_service.store.protocol import WriteBatch
from graph_service.visibility import Caller

REGISTER = SEED_DIR / "register"
#: 崇信县, the smallest county of the extract (85 villages): fast to generate and evaluate.
SMALL_COUNTY = "620823"
SEED = 3

runner = CliRunner()


@cache
def small_county_result() -> dict[str, Any]:
    return ev.run_evaluation(ev.generated_cases(REGISTER, [SMALL_COUNTY], [SEED]))


def blocks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pooled block of a result: overall, per link type, per profile, per split."""
    out = []
    for split in result["splits"].values():
        out.append(split["overall"])
        out += split["by_type"].values()
        out += split.get("by_profile", {}).values()
    return out


def check_block(block: dict[str, Any], ks: list[int]) -> None:
    rows = block["rows"]
    assert [r["method"] for r in rows] == list(METHODS)
    assert len({r["n"] for r in rows}) == 1  # every method ranks the same queries
    for r in rows:
        hits = [r[f"hits@{k}"] for k in ks]
        assert all(0.0 <= h <= 1.0 for h in hits)
        assert hits == sorted(hits)  # hits@5 <= hits@10
        assert 0.0 <= r["mrr"] <= 1.0
    if rows[0]["n"] == 0:
        assert block["best_baseline"] is None
        assert block["margin"] is None
        return
    baselines = [r for r in rows if r["method"] != "recommender"]
    best = max(baselines, key=lambda r: r["mrr"])
    assert block["best_baseline"] == best["method"]
    assert block["margin"]["mrr"]["difference"] == pytest.approx(rows[0]["mrr"] - best["mrr"])
    if best["mrr"] > 0:
        assert block["margin"]["mrr"]["ratio"] == pytest.approx(rows[0]["mrr"] / best["mrr"])


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["evaluate", *args])


@pytest.fixture
def seed_dir_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with the repository's seed folder and an unused data folder."""
    settings = Settings(data_dir=tmp_path / "data", seed_dir=SEED_DIR)
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: settings)
    get_settings.cache_clear()
    return settings


# ---------------------------------------------------------------------------------------
# Graphs
# ---------------------------------------------------------------------------------------


def test_generated_county_holds_the_register_villages_and_a_network() -> None:
    counties = ev.register_counties(REGISTER)
    assert len(counties) == 20
    assert "371426" in counties
    assert all(len(c) == 6 and c.isdigit() for c in counties)
    graph = ev.generated_county_graph(REGISTER, "371426", SEED)
    villages = [n for n, d in graph.nodes(data=True) if d["label"] == "Village"]
    assert len(villages) == 436  # 平原县 in the extract
    assert all(str(v).startswith("village:371426") for v in villages)
    types = {d["type"] for _, _, d in graph.edges(data=True)}
    assert {"IN_REGION", "PAIRS_WITH", "CO_BUILDS"} <= types
    with pytest.raises(ValueError, match="no village"):
        ev.generated_county_graph(REGISTER, "999999", SEED)


def test_parse_seeds_and_cutoffs() -> None:
    assert ev.parse_seeds("3-7") == (3, 4, 5, 6, 7)
    assert ev.parse_seeds("0,2, 5") == (0, 2, 5)
    assert ev.parse_seeds("0-2,1,9") == (0, 1, 2, 9)
    for bad in ("x", "", "7-3", "-1", "1-", "1.5"):
        with pytest.raises(ValueError, match="seeds"):
            ev.parse_seeds(bad)
    assert ev.parse_cutoffs("10,5,5") == (5, 10)
    for bad in ("0", "a", "", "5,-1"):
        with pytest.raises(ValueError, match="positive"):
            ev.parse_cutoffs(bad)


# ---------------------------------------------------------------------------------------
# Runner
# ---------------------------------------------------------------------------------------


def test_runner_on_a_generated_county() -> None:
    result = small_county_result()
    assert result["source"] == "generated"
    assert result["graphs"] == [SMALL_COUNTY]
    assert result["parameters"]["seeds"] == [SEED]
    assert list(result["splits"]) == ["random", "time"]
    for block in blocks(result):
        check_block(block, [5, 10])
    graph = ev.generated_county_graph(REGISTER, SMALL_COUNTY, SEED)
    for split, out in result["splits"].items():
        # One graph, one seed: the pooled rows are that report's rows.
        report = evaluate(graph, seed=SEED, split=split)
        assert out["counts"]["evaluated"] == report.evaluated > 0
        assert out["counts"]["eligible"] == report.eligible
        assert out["counts"]["held_out"] == report.held_out
        assert out["counts"]["graphs"] == 1
        assert [(r["hits@5"], r["hits@10"], r["mrr"], r["n"]) for r in out["overall"]["rows"]] == [
            (*r.hits, r.mrr, r.n) for r in report.rows
        ]
        assert set(out["by_type"]) == set(report.by_type)
        assert list(out["by_profile"]) == [county_profile(SEED, SMALL_COUNTY)]
        assert (
            out["by_profile"][county_profile(SEED, SMALL_COUNTY)]["rows"] == out["overall"]["rows"]
        )
        assert sum(b["rows"][0]["n"] for b in out["by_type"].values()) == report.evaluated
    # Deterministic, and plain JSON.
    again = ev.run_evaluation(ev.generated_cases(REGISTER, [SMALL_COUNTY], [SEED]))
    assert orjson.dumps(again) == orjson.dumps(result)
    json.loads(orjson.dumps(result))


def test_runner_options_and_bad_parameters() -> None:
    cases = ev.generated_cases(REGISTER, [SMALL_COUNTY], [SEED])
    result = ev.run_evaluation(cases, splits=["random"], k=(1, 3, 20), tie_weight="count")
    assert list(result["splits"]) == ["random"]
    assert result["parameters"]["tie_weight"] == "count"
    for block in blocks(result):
        check_block(block, [1, 3, 20])
    with pytest.raises(ValueError, match="splits"):
        ev.run_evaluation(cases, splits=["sideways"])
    with pytest.raises(ValueError, match="holdout"):
        ev.run_evaluation(cases, holdout=0.0)
    with pytest.raises(ValueError, match="cut-offs"):
        ev.run_evaluation(cases, k=(0,))
    with pytest.raises(ValueError, match="no graph"):
        ev.run_evaluation([])


def test_markdown_rendering() -> None:
    text = ev.render_markdown(small_county_result())
    assert "| method | hits@5 | hits@10 | MRR | n |" in text
    assert "## random split" in text
    assert "## time split" in text
    assert "`PAIRS_WITH` only" in text
    assert "Recommender MRR" in text
    lines = [line for line in text.splitlines() if line.startswith("| recommender |")]
    # Overall, two link types and one profile, per split.
    assert len(lines) == 8


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------


def test_cli_on_the_seed_graph(seed_dir_settings: Settings) -> None:
    result = invoke("--graph", "seed", "--seeds", "0-1")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "seed"
    assert data["parameters"]["seeds"] == [0, 1]
    random_split, time_split = data["splits"]["random"], data["splits"]["time"]
    assert random_split["counts"]["reports"] == 2
    assert random_split["counts"]["evaluated"] > 0
    check_block(random_split["overall"], [5, 10])
    assert "by_profile" not in random_split
    # The seed graph's ties carry no dates: a time split evaluates nothing.
    assert time_split["counts"]["evaluated"] == 0
    assert time_split["counts"]["skipped"]["undated"] == time_split["counts"]["eligible"]
    assert time_split["overall"]["best_baseline"] is None
    text = ev.render_markdown(data)
    assert text.count("| method | hits@5 | hits@10 | MRR | n |") == 1 + len(random_split["by_type"])
    assert "Nothing evaluated" in text.split("\n## time split\n")[1]


def test_cli_markdown_on_a_generated_county(seed_dir_settings: Settings) -> None:
    result = invoke(
        "--county", SMALL_COUNTY, "--seeds", str(SEED), "--split", "random", "--format", "markdown"
    )
    assert result.exit_code == 0, result.output
    assert "| method | hits@5 | hits@10 | MRR | n |" in result.stdout
    assert "## time split" not in result.stdout
    assert "1 evaluation(s) of 1 graph(s)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "sideways"], "--split"),
        (["--seeds", "x"], "--seeds"),
        (["--seeds", "7-3"], "--seeds"),
        (["--k", "0"], "--k"),
        (["--holdout", "1.5"], "--holdout"),
        (["--graph", "mine"], "--graph"),
        (["--format", "xml"], "--format"),
        (["--tie-weight", "none"], "--tie-weight"),
        (["--county", "999999"], "no village"),
        (["--graph", "seed", "--county", SMALL_COUNTY], "--county"),
        (["--graph", "store"], "--region"),
        (["--graph", "store", "--region", "37a"], "--region"),
        (["--region", "371426"], "--region"),
    ],
)
def test_cli_rejects_bad_options(
    seed_dir_settings: Settings, args: list[str], message: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert message in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------
# A store's own data
# ---------------------------------------------------------------------------------------


@pytest.fixture
def generated_store(empty_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A store of each backend holding the small county's register and generated network."""

    async def fill() -> None:
        store = open_store(empty_settings)
        await store.open()
        try:
            items = list(register_graph(read_register(REGISTER, [SMALL_COUNTY])))
            await store.write(
                WriteBatch(
                    nodes=[d for kind, d in items if kind == "node"],
                    links=[d for kind, d in items if kind == "link"],
                )
            )
            await generate_into(store, [SMALL_COUNTY], SEED)
        finally:
            await store.close()

    asyncio.run(fill())
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: empty_settings)
    get_settings.cache_clear()
    return empty_settings


def test_store_region_evaluates_like_the_generated_graph(generated_store: Settings) -> None:
    result = invoke("--graph", "store", "--region", SMALL_COUNTY, "--seeds", str(SEED))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "store"
    assert data["graphs"] == [SMALL_COUNTY]
    expected = small_county_result()
    for split, out in data["splits"].items():
        want = expected["splits"][split]
        assert out["counts"] == want["counts"]
        assert "by_profile" not in out
        for got_block, want_block in [
            (out["overall"], want["overall"]),
            *((out["by_type"][t], want["by_type"][t]) for t in want["by_type"]),
        ]:
            assert got_block["best_baseline"] == want_block["best_baseline"]
            for got, row in zip(got_block["rows"], want_block["rows"], strict=True):
                assert got == pytest.approx(row, abs=1e-12)

    async def missing() -> None:
        store = open_store(generated_store)
        await store.open()
        try:
            view = GraphViews(store).view(Caller(authenticated=True, name="test"))
            assert (await ev.region_graph(view, SMALL_COUNTY)).number_of_edges() > 0
            with pytest.raises(NotFoundError, match="999999"):
                await ev.region_graph(view, "999999")
        finally:
            await store.close()

    asyncio.run(missing())
    # A region the store lacks is a failed look-up (as for `generate`), not a usage error.
    result = invoke("--graph", "store", "--region", "999999", "--seeds", "0")
    assert result.exit_code == 1
    assert "no region with code 999999" in result.stderr
