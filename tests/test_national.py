"""National batch analyses on Dask (``graph_service.services.national``): every county of a
region computed on a cluster, stored as records, served by the analysis routes while the
store is unchanged.

The store: the seed graph (which holds the register extract) and the generated network of
平凉市 (6208, 7 counties, ``generate_into``), embedded. The cluster: a LocalCluster of two
in-process workers for most tests (fast to start); the command's own LocalCluster of worker
processes once; a running cluster by its address once (``--scheduler``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import distributed
import pytest
from conftest import AUTH, SEED_DIR, make_settings
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service.api.app import create_app
from graph_service.cli import app as cli_app
from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.models import AssignmentIn
from graph_service.services.analysis import AnalysisService
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.changes import all_records
from graph_service.services.loading import load_seed
from graph_service.services.national import (
    BatchPlan,
    NationalReport,
    close_worker_stores,
    plan_counties,
    run_national,
)
from graph_service.services.recommendations import RecommendationService
from graph_service.services.stored_analyses import RECORD_KIND
from graph_service.services.synthetic.into_store import generate_into
from graph_service.services.view import GraphViews
from graph_service.settings import Settings
from graph_service.store.embedded import EmbeddedGraphStore
from graph_service.store.protocol import GraphStore, RecordQuery
from graph_service.visibility import Caller

CITY = "6208"
PROVINCE = "62"
CITY_COUNTIES = ["620802", "620821", "620822", "620823", "620825", "620826", "620881"]
SMALL_COUNTY = "620823"
SEED = 3
PUBLIC = Caller(authenticated=False, name="test")
RULES = SEED_DIR / "rules" / "joint_body_rules.json"

runner = CliRunner()


def store_of(settings: Settings) -> EmbeddedGraphStore:
    return EmbeddedGraphStore(settings.embedded_path)


async def _fill(settings: Settings) -> None:
    store = store_of(settings)
    await store.open()
    try:
        await load_seed(store, SEED_DIR)
        await generate_into(store, [CITY], SEED)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An embedded store of the seed graph and the generated network of 平凉市."""
    settings = make_settings("embedded", tmp_path_factory.mktemp("national") / "data")
    asyncio.run(_fill(settings))
    return settings


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A Dask client of two in-process workers, one thread each."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


async def _run(settings: Settings, region: str, plan: BatchPlan, client: Any) -> NationalReport:
    store = store_of(settings)
    await store.open()
    try:
        return await run_national(settings, store, region, plan, client=client)
    finally:
        await store.close()


async def _stored(settings: Settings, region: str) -> list[dict[str, Any]]:
    store = store_of(settings)
    await store.open()
    try:
        return await all_records(store, RecordQuery(RECORD_KIND, region=region))
    finally:
        await store.close()


async def _direct(store: GraphStore, code: str) -> dict[str, Any]:
    """The four answers of a county computed directly by the services, as the routes do."""
    view = GraphViews(store).view(PUBLIC)
    analysis = AnalysisService(RULES, use_stored=False)
    scope = AnalysisScope("region", code, 2, (), False, None)
    plan = BatchPlan()
    return {
        "centrality": await analysis.centrality(
            view, scope, plan.measures, plan.top, plan.k, plan.seed, plan.exact_max
        ),
        "coverage": await analysis.coverage(view, code, None, plan.strong_threshold),
        "rules": await analysis.rule_check(view, scope),
        "recommendations": await RecommendationService(store).assignment(
            view, AssignmentIn(region=code)
        ),
    }


@pytest.fixture(scope="module")
def national_run(province: Settings, client: Any) -> NationalReport:
    """Every county of province 62 analysed on the in-process cluster and stored."""
    return asyncio.run(_run(province, PROVINCE, BatchPlan(), client))


# ------------------------------------------------------------------------------ planning


def test_plan_lists_every_county_under_a_region(province: Settings) -> None:
    async def plans() -> None:
        store = store_of(province)
        await store.open()
        try:
            assert await plan_counties(store, PROVINCE) == CITY_COUNTIES
            assert await plan_counties(store, CITY) == CITY_COUNTIES
            assert await plan_counties(store, SMALL_COUNTY) == [SMALL_COUNTY]
            everything = await plan_counties(store, None)
            assert set(CITY_COUNTIES) < set(everything)
            assert {"371426", "370302", "370322", "211282"} < set(everything)
            assert all(len(code) == 6 for code in everything)
            with pytest.raises(InvalidInputError):
                await plan_counties(store, "620823001")  # a town
            with pytest.raises(NotFoundError):
                await plan_counties(store, "65")
        finally:
            await store.close()

    asyncio.run(plans())


def test_a_plan_names_only_known_analyses_measures_and_audiences() -> None:
    with pytest.raises(InvalidInputError):
        BatchPlan(analyses=("centrality", "gossip"))
    with pytest.raises(InvalidInputError):
        BatchPlan(measures=("fame",))
    with pytest.raises(InvalidInputError):
        BatchPlan(audiences=("everyone",))


# -------------------------------------------------------------------- computed and stored


def test_every_county_is_computed_and_stored(
    national_run: NationalReport, province: Settings
) -> None:
    assert national_run.counties == len(CITY_COUNTIES)
    assert national_run.errors == []
    assert national_run.answers_stored == len(CITY_COUNTIES) * 4
    records = asyncio.run(_stored(province, PROVINCE))
    runs = [r for r in records if r["run"] == national_run.run]
    assert len(runs) == len(CITY_COUNTIES) * 4
    assert {(r["region"], r["analysis"]) for r in runs} == {
        (code, analysis)
        for code in CITY_COUNTIES
        for analysis in ("centrality", "coverage", "rules", "recommendations")
    }
    assert {r["audience"] for r in runs} == {"public"}


def test_stored_answers_equal_the_services_computed_directly(
    national_run: NationalReport, province: Settings
) -> None:
    records = asyncio.run(_stored(province, PROVINCE))
    stored = {
        (r["region"], r["analysis"]): r["answer"] for r in records if r["run"] == national_run.run
    }

    async def compare() -> None:
        store = store_of(province)
        await store.open()
        try:
            version = await store.version()
            assert {r["version"] for r in records} == {version}
            # The largest county and two small ones (the seed graph's test below compares
            # three more on each store): every county directly would double the test's time.
            for code in ("620802", SMALL_COUNTY, "620881"):
                # JSON both ways: records hold JSON, the services return Python values.
                direct = json.loads(json.dumps(await _direct(store, code), default=str))
                for analysis, answer in direct.items():
                    assert stored[code, analysis] == answer, (code, analysis)
        finally:
            await store.close()

    asyncio.run(compare())
    # The generated county is not empty: the comparison compares something.
    big = stored["620802", "centrality"]
    assert big["scope"]["nodes"] > 500
    assert big["measures"]["pagerank"]["rows"]["items"]
    assert stored["620802", "recommendations"]["pairs"]


# ------------------------------------------------------------------------ served by routes


def test_stored_answers_conform_to_the_document(
    national_run: NationalReport, province: Settings
) -> None:
    """Served from a record, an answer is still the documented shape, ``provenance`` too."""
    from test_openapi import conforms

    from graph_service.api import schemas

    scope = {"scope": f"region:{SMALL_COUNTY}"}
    with TestClient(create_app(province)) as api:
        for path, params, model in (
            ("/v1/analysis/centrality", scope, schemas.Centrality),
            ("/v1/analysis/coverage", {"region": SMALL_COUNTY}, schemas.AnalysisCoverage),
            ("/v1/analysis/rules", scope, schemas.RuleCheck),
        ):
            body = api.get(path, params=params).json()
            assert body["provenance"]["run"] == national_run.run, path
            conforms(model, body)


def test_the_routes_answer_from_the_stored_run_until_a_write(
    national_run: NationalReport, province: Settings
) -> None:
    scope = {"scope": f"region:{SMALL_COUNTY}"}
    with TestClient(create_app(province)) as api:
        centrality = api.get("/v1/analysis/centrality", params=scope)
        assert centrality.status_code == 200, centrality.text
        body = centrality.json()
        assert body["provenance"]["source"] == "stored"
        assert body["provenance"]["run"] == national_run.run
        coverage = api.get("/v1/analysis/coverage", params={"region": SMALL_COUNTY}).json()
        assert coverage["provenance"]["run"] == national_run.run
        rules = api.get("/v1/analysis/rules", params=scope).json()
        assert rules["provenance"]["run"] == national_run.run
        # Other parameters are another question: computed.
        top5 = api.get("/v1/analysis/centrality", params={**scope, "top": 5}).json()
        assert "provenance" not in top5
        # Key holders see people: the public's stored answer is not theirs.
        keyed = api.get("/v1/analysis/centrality", params=scope, headers=AUTH).json()
        assert "provenance" not in keyed
        # A recorded-time read is of the graph as it was, never a stored answer.
        now = dt.datetime.now(dt.UTC)
        then = api.get(
            "/v1/analysis/coverage",
            params={"region": SMALL_COUNTY, "recorded_as_of": f"{now:%Y-%m-%dT%H:%M:%S}Z"},
        )
        assert then.status_code == 200, then.text
        assert "provenance" not in then.json()
        stripped = {k: v for k, v in body.items() if k != "provenance"}

        # A write makes the stored answers stale: computed again, and equal to the stored
        # one but for the scope's size (a node more).
        node = {
            "id": "ent:national-test",
            "label": "Enterprise",
            "kind": "合作社",
            "name": "批量测试合作社",
            "region_code": SMALL_COUNTY,
        }
        written = api.post("/v1/nodes", json=node, headers=AUTH)
        assert written.status_code == 201, written.text
        after = api.get("/v1/analysis/centrality", params=scope).json()
        assert "provenance" not in after
        assert after["scope"]["nodes"] == stripped["scope"]["nodes"] + 1
        assert (
            "provenance"
            not in api.get("/v1/analysis/coverage", params={"region": SMALL_COUNTY}).json()
        )


# ------------------------------------------------------------------------------ the command


def test_the_command_runs_on_a_scheduler_by_address(
    province: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: province)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        result = runner.invoke(
            cli_app,
            [
                "analyse-national",
                "--region",
                SMALL_COUNTY,
                "--scheduler",
                cluster.scheduler_address,
                "--analysis",
                "centrality",
                "--measure",
                "pagerank",
                "--measure",
                "degree",
                "--people",
            ],
        )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scheduler"] == cluster.scheduler_address
    assert report["counties"] == 1
    # Both audiences, one analysis.
    assert report["answers_stored"] == 2
    assert report["errors"] == []
    with TestClient(create_app(province)) as api:
        params = [
            ("scope", f"region:{SMALL_COUNTY}"),
            ("measure", "pagerank"),
            ("measure", "degree"),
        ]
        public = api.get("/v1/analysis/centrality", params=params).json()
        keyed = api.get("/v1/analysis/centrality", params=params, headers=AUTH).json()
    assert public["provenance"]["run"] == report["run"]
    assert keyed["provenance"]["run"] == report["run"]


def test_the_command_starts_worker_processes(
    province: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default: a LocalCluster of worker processes, each opening the store itself."""
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: province)
    result = runner.invoke(
        cli_app,
        ["analyse-national", "--region", "37", "--workers", "2", "--analysis", "coverage"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scheduler"] == "local"
    assert report["counties"] == 3
    assert report["answers_stored"] == 3
    with TestClient(create_app(province)) as api:
        coverage = api.get("/v1/analysis/coverage", params={"region": "371426"}).json()
    assert coverage["provenance"]["run"] == report["run"]
    # The article's figure (436 villages of 平原县) is in the stored answer.
    assert coverage["total"]["villages"] == 436


def test_the_command_refuses_bad_options() -> None:
    for args in (
        ["--region", "620823001"],
        ["--region", "6x"],
        ["--analysis", "gossip"],
        ["--measure", "fame"],
    ):
        result = runner.invoke(cli_app, ["analyse-national", *args])
        assert result.exit_code == 2, (args, result.output)


def test_worker_stores_close(province: Settings, client: Any) -> None:
    """Stores opened for tasks are closed at the end of a run on every worker."""
    asyncio.run(_run(province, SMALL_COUNTY, BatchPlan(analyses=("rules",)), client))
    assert close_worker_stores() == 0


# ------------------------------------------------------------------------- on each store


def test_the_seed_graph_on_each_store(empty_settings: Settings, client: Any) -> None:
    """Shandong's three seed counties on each backend (workers open Neo4j themselves too):
    stored answers equal the services' answers, and the store's routes serve them."""
    from conftest import open_store

    async def run_and_compare() -> NationalReport:
        store = open_store(empty_settings)
        await store.open()
        try:
            await load_seed(store, SEED_DIR)
            report = await run_national(empty_settings, store, "37", BatchPlan(), client=client)
            records = await all_records(store, RecordQuery(RECORD_KIND, region="37"))
            stored = {(r["region"], r["analysis"]): r["answer"] for r in records}
            assert len(stored) == 3 * 4
            for code in ("370302", "370322", "371426"):
                direct = json.loads(json.dumps(await _direct(store, code), default=str))
                for analysis, answer in direct.items():
                    assert stored[code, analysis] == answer, (code, analysis)
            return report
        finally:
            await store.close()

    report = asyncio.run(run_and_compare())
    assert report.errors == []
    with TestClient(create_app(empty_settings)) as api:
        rules = api.get("/v1/analysis/rules", params={"scope": "region:371426"}).json()
    assert rules["provenance"]["run"] == report.run
    assert rules["bodies"]
