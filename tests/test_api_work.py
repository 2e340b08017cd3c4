"""Limits of CPU-bound work over HTTP, on every store: answers cached per store version and
audience, computed once for identical concurrent requests, within a time budget; caps below
admin; jobs (start, poll, fetch, fail; readable by whom).

The centrality set is wrapped to count its calls (and, where a test needs time to pass, to
sleep in the worker thread): the count is how the tests see what was computed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AUTH, account_headers, make_settings
from fastapi.testclient import TestClient

from graph_service.analysis import centrality
from graph_service.api.app import create_app
from graph_service.settings import Settings

PROBLEM = "application/problem+json"
COUNTY, TOWN = "370302", "370302112"
V1, V2, V3 = (f"village:{TOWN}00{i}" for i in (1, 2, 3))
E1 = "ent:e1"
HEAVY = {"scope": "all", "include_structural": "true"}
CENTRALITY = "/v1/analysis/centrality"


def _graph() -> dict[str, Any]:
    def region(code: str, kind: str) -> dict[str, Any]:
        name = {"县": "测试区", "乡镇": "甲镇"}[kind]
        return {"id": f"region:{code}", "label": "Region", "kind": kind, "name": name,
                "region_code": code}  # fmt: skip

    def village(id_: str, name: str) -> dict[str, Any]:
        return {"id": id_, "label": "Village", "kind": "行政村", "name": name,
                "region_code": id_.split(":")[1], "attributes": {"weak": True}}  # fmt: skip

    nodes = [
        region(COUNTY, "县"),
        region(TOWN, "乡镇"),
        village(V1, "甲一村"),
        village(V2, "甲二村"),
        village(V3, "甲三村"),
        {"id": E1, "label": "Enterprise", "kind": "公司", "name": "甲公司", "region_code": TOWN},
    ]
    links = [
        {"type": "PAIRS_WITH", "source": E1, "target": V1},
        {"type": "CO_BUILDS", "source": V1, "target": V2},
    ]
    return {"nodes": nodes, "links": links}


class Counted:
    """``centrality.centrality_set`` counting its calls, sleeping ``delay`` s in each."""

    def __init__(self) -> None:
        self.calls = 0
        self.delay = 0.0
        self._lock = threading.Lock()
        self._real = centrality.centrality_set

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        return self._real(*args, **kwargs)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counted:
    wrapper = Counted()
    monkeypatch.setattr(centrality, "centrality_set", wrapper)
    return wrapper


def _client(settings: Settings, **overrides: Any) -> TestClient:
    # A generous budget unless a test sets one: a loaded machine must not turn answers busy.
    update = {"request_budget_seconds": 60.0, **overrides}
    return TestClient(create_app(settings.model_copy(update=update)), raise_server_exceptions=False)


@pytest.fixture
def api(empty_settings: Settings) -> Iterator[TestClient]:
    with _client(empty_settings) as c:
        r = c.post("/v1/batch", json=_graph(), headers=AUTH)
        assert r.status_code == 200, r.text
        yield c


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    if field is not None:
        assert body["field"] == field, body
    return body


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# ---------------------------------------------------------------------------- the cache


def test_a_repeated_analysis_comes_from_the_cache_until_a_write(
    api: TestClient, counted: Counted
) -> None:
    first = api.get(CENTRALITY, params=HEAVY)
    second = api.get(CENTRALITY, params=HEAVY)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert counted.calls == 1
    # Another audience is another answer; another parameter is another answer.
    ok(api.get(CENTRALITY, params=HEAVY, headers=AUTH))
    ok(api.get(CENTRALITY, params={**HEAVY, "top": 3}))
    assert counted.calls == 3
    # A write moves the store version: nothing computed before it is served after it.
    node = {"id": "ent:e2", "label": "Enterprise", "kind": "公司", "name": "乙公司"}
    assert api.post("/v1/nodes", json=node, headers=AUTH).status_code == 201
    third = ok(api.get(CENTRALITY, params=HEAVY))
    assert counted.calls == 4
    assert third["scope"]["nodes"] == first.json()["scope"]["nodes"] + 1
    work = api.app.state.work  # type: ignore[attr-defined]
    assert len(work.results) == 1  # the answers of the old version were dropped


def test_identical_concurrent_requests_compute_once(api: TestClient, counted: Counted) -> None:
    counted.delay = 0.5
    answers: list[Any] = []

    def ask() -> None:
        answers.append(api.get(CENTRALITY, params={**HEAVY, "seed": 7}))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.content for a in answers}) == 1
    assert counted.calls == 1


# ---------------------------------------------------------------------------- caps


def test_caps_hold_below_admin_and_name_the_field(api: TestClient, counted: Counted) -> None:
    body = problem(api.get(CENTRALITY, params={**HEAVY, "exact_max": 5001}), 422, "exact_max")
    assert body["code"] == "above_cap"
    assert body["details"]["cap"] == 5000
    assert body["details"]["value"] == 5001
    assert "admin key" in body["detail"]
    assert "POST /v1/jobs" in body["detail"]
    problem(api.get(CENTRALITY, params={**HEAVY, "k": 1001}), 422, "k")
    assert counted.calls == 0
    # The cap is the caller's: an admin key lifts it, and the route's own bound still holds.
    ok(api.get(CENTRALITY, params={**HEAVY, "exact_max": 200_000, "k": 5000}, headers=AUTH))
    problem(api.get(CENTRALITY, params={"exact_max": 200_001}, headers=AUTH), 422, "exact_max")
    ok(api.get(CENTRALITY, params={**HEAVY, "exact_max": 5000, "k": 1000}))


def test_assignment_and_what_if_sizes_are_capped_below_admin(api: TestClient) -> None:
    url = "/v1/recommendations/assignment"
    body = problem(api.post(url, json={"region": COUNTY, "k": 51}), 422, "k")
    assert body["details"]["cap"] == 50
    problem(api.post(url, json={"region": COUNTY, "top_candidates": 201}), 422, "top_candidates")
    ok(api.post(url, json={"region": COUNTY, "k": 51}, headers=AUTH))
    pairs = [{"helper": E1, "village": V2}] * 501
    url = "/v1/recommendations/what-if"
    planner = account_headers(api, "规划员", "planner")
    problem(api.post(url, json={"proposed": pairs}, headers=planner), 422, "proposed")


def test_a_scope_above_the_callers_cap_is_refused_before_it_is_exported(
    empty_settings: Settings,
) -> None:
    with _client(empty_settings, cap_scope_nodes=5) as api:
        assert api.post("/v1/batch", json=_graph(), headers=AUTH).status_code == 200
        body = problem(api.get(CENTRALITY, params=HEAVY), 422, "scope")
        assert body["details"] == {
            "cap": 5,
            "value": 6,
            "lifted_by": ["admin key", "POST /v1/jobs"],
        }
        problem(api.get("/v1/export", params={"scope": "all"}), 422, "scope")
        problem(api.get("/v1/analysis/coverage", params={"region": COUNTY}), 422, "region")
        # A region inside the cap, and anything for an admin.
        ok(api.get(CENTRALITY, params={"scope": f"region:{TOWN}"}))
        ok(api.get(CENTRALITY, params=HEAVY, headers=AUTH))


# ---------------------------------------------------------------------------- the budget


def test_past_the_budget_the_answer_is_503_with_retry_after_and_lands_in_the_cache(
    empty_settings: Settings, counted: Counted
) -> None:
    # The budget leaves room for the scope graph's export, the answer's first step (a
    # loaded CI machine took over 0.2 s), and the analysis sleeps well past it.
    with _client(empty_settings, request_budget_seconds=0.5) as api:
        assert api.post("/v1/batch", json=_graph(), headers=AUTH).status_code == 200
        counted.delay = 2.0
        late = api.get(CENTRALITY, params={**HEAVY, "top": 5})
        body = problem(late, 503)
        assert body["code"] == "busy"
        assert int(late.headers["Retry-After"]) >= 1
        assert "start a job" in body["detail"]
        job = body["details"]["job"]
        assert job == {
            "operation": "analysis/centrality",
            "parameters": {"scope": "all", "include_structural": "true", "top": "5"},
        }
        assert body["details"]["computing"] is True
        counted.delay = 0
        deadline = time.monotonic() + 60
        while (again := api.get(CENTRALITY, params={**HEAVY, "top": 5})).status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        ok(again)
        assert counted.calls == 1  # the late computation was not wasted
        # The hint is a job body as it stands.
        started = ok(api.post("/v1/jobs", json=job), 202)
        assert started["state"] in ("queued", "running", "done")


# ---------------------------------------------------------------------------- jobs


def _finished(api: TestClient, url: str, headers: dict[str, str] | None = None) -> Any:
    deadline = time.monotonic() + 30
    while True:
        job = ok(api.get(url, headers=headers or {}))
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_a_job_runs_uncapped_in_the_background_and_its_result_is_the_routes(
    api: TestClient, counted: Counted
) -> None:
    counted.delay = 0.5
    parameters = {"scope": "all", "include_structural": True, "exact_max": 200_000}
    body = {"operation": "analysis/centrality", "parameters": parameters}
    response = api.post("/v1/jobs", json=body)
    started = ok(response, 202)
    location = response.headers["Location"]
    assert location == f"/v1/jobs/{started['id']}"
    assert started["state"] in ("queued", "running")
    assert started["account"] == "anonymous"
    assert started["public"] is True
    assert started["created_at"].endswith("Z")
    assert started["parameters"] == parameters
    assert started["result_url"] is None
    busy = problem(api.get(f"{location}/result"), 409, "job_id")
    assert busy["code"] == "job_not_done"
    job = _finished(api, location)
    assert job["state"] == "done", job
    assert job["progress"] == 1.0
    assert job["started_at"] <= job["finished_at"]
    assert job["result_url"] == f"{location}/result"
    result = api.get(job["result_url"])
    assert result.status_code == 200
    assert result.headers["content-type"] == "application/json"
    assert result.json()["measures"]["betweenness"]["method"]["method"] == "exact"
    assert counted.calls == 1


def test_a_job_result_is_the_cached_answer_of_the_same_request(
    api: TestClient, counted: Counted
) -> None:
    parameters = {"scope": "all", "include_structural": "true", "top": "4"}
    body = {"operation": "analysis/centrality", "parameters": parameters}
    started = ok(api.post("/v1/jobs", json=body, headers=AUTH), 202)
    job = _finished(api, f"/v1/jobs/{started['id']}", AUTH)
    assert job["state"] == "done"
    assert job["public"] is False
    direct = api.get(CENTRALITY, params=parameters, headers=AUTH)
    assert direct.content == api.get(job["result_url"], headers=AUTH).content
    assert counted.calls == 1


def test_a_key_holders_job_is_not_readable_anonymously(api: TestClient) -> None:
    body = {"operation": "analysis/brokers", "parameters": {"scope": "all"}}
    started = ok(api.post("/v1/jobs", json=body, headers=AUTH), 202)
    url = f"/v1/jobs/{started['id']}"
    job = _finished(api, url, AUTH)
    assert job["state"] == "done"
    unknown = problem(api.get("/v1/jobs/job-00000000000000000000000000000000"), 404, "job_id")
    hidden = problem(api.get(url), 404, "job_id")
    assert hidden["detail"].replace(started["id"], "<id>") == unknown["detail"].replace(
        "job-00000000000000000000000000000000", "<id>"
    )
    problem(api.get(f"{url}/result"), 404, "job_id")
    ok(api.get(f"{url}/result", headers=AUTH))


def test_a_failing_job_says_why(api: TestClient) -> None:
    body = {
        "operation": "analysis/change",
        "parameters": {"scope": "all", "from": "2024-01-01", "to": "2020-01-01"},
    }
    started = ok(api.post("/v1/jobs", json=body), 202)
    job = _finished(api, f"/v1/jobs/{started['id']}")
    assert job["state"] == "failed"
    assert job["error"] == {"code": "invalid_input", "detail": "to is before from", "field": "to"}
    failed = problem(api.get(f"/v1/jobs/{started['id']}/result"), 409, "job_id")
    assert failed["code"] == "job_failed"
    # A node id is looked up when the work starts: an unknown one fails the job.
    body = {"operation": "analysis/brokers", "parameters": {"scope": "node:village:nowhere"}}
    started = ok(api.post("/v1/jobs", json=body), 202)
    job = _finished(api, f"/v1/jobs/{started['id']}")
    assert job["state"] == "failed"
    assert job["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("parameters", "status", "field"),
    [
        ({"exact_max": 5}, 422, "parameters.exact_max"),
        ({"exact_mx": 5000}, 422, "parameters.exact_mx"),
        ({"scope": "node:查无此村"}, 404, "parameters.scope"),
        ({"measure": "fame"}, 422, "parameters.measure"),
    ],
)
def test_job_parameters_are_checked_as_the_route_checks_them(
    api: TestClient, parameters: dict[str, Any], status: int, field: str
) -> None:
    body = {"operation": "analysis/centrality", "parameters": parameters}
    problem(api.post("/v1/jobs", json=body), status, field)


def test_a_job_body_names_a_known_operation(api: TestClient) -> None:
    problem(api.post("/v1/jobs", json={"operation": "nodes"}), 422, "operation")
    problem(api.post("/v1/jobs", json={"operation": "export", "extra": 1}), 422, "extra")
    # An answer the route gives without computing is the job request's answer.
    body = {"operation": "export", "parameters": {}}
    assert api.post("/v1/jobs", json=body, headers={"Accept": "text/csv"}).status_code == 202


def test_an_export_job_keeps_the_media_type_and_headers(api: TestClient) -> None:
    body = {"operation": "export", "parameters": {"scope": "all", "format": "graphml"}}
    started = ok(api.post("/v1/jobs", json=body), 202)
    job = _finished(api, f"/v1/jobs/{started['id']}")
    result = api.get(job["result_url"])
    assert result.status_code == 200
    assert result.headers["content-type"] == "application/graphml+xml"
    assert result.headers["content-disposition"].endswith('graph-all.graphml"')
    assert result.content.startswith(b"<?xml")


def test_one_caller_may_have_only_so_many_jobs_active(
    empty_settings: Settings, counted: Counted
) -> None:
    with _client(empty_settings, job_max_active_per_caller=1) as api:
        assert api.post("/v1/batch", json=_graph(), headers=AUTH).status_code == 200
        counted.delay = 1.0
        body = {"operation": "analysis/centrality", "parameters": {"scope": "all"}}
        first = ok(api.post("/v1/jobs", json=body), 202)
        again = {**body, "parameters": {"scope": "all", "seed": 1}}
        refused = problem(api.post("/v1/jobs", json=again), 429)
        assert refused["code"] == "rate_limited"
        # Another caller is not held up by this one.
        ok(api.post("/v1/jobs", json=again, headers=AUTH), 202)
        assert _finished(api, f"/v1/jobs/{first['id']}")["state"] == "done"


def test_every_server_process_answers_for_a_job(tmp_path: Path, backend: str) -> None:
    """Two apps on one data directory, as ``serve --workers 2`` runs them: a job started on
    one is polled and fetched on the other."""
    if backend != "embedded":
        pytest.skip("the processes of one embedded store share its data directory")
    settings = make_settings(backend, tmp_path / "data")
    with _client(settings) as first, _client(settings) as second:
        assert first.post("/v1/batch", json=_graph(), headers=AUTH).status_code == 200
        body = {"operation": "analysis/fragility", "parameters": {"scope": "all"}}
        started = ok(first.post("/v1/jobs", json=body), 202)
        job = _finished(second, f"/v1/jobs/{started['id']}")
        assert job["state"] == "done"
        assert "bridges" in ok(second.get(job["result_url"]))
