"""Recommender indexes off the request path (issue 16): built before /readyz says ready,
kept across writes that do not touch them, rebuilt in the background after those that do.

A small store of two counties: 测试区 (``COUNTY``: two villages, a weak one, an enterprise)
and 别的区 (``OTHER``: a village and an enterprise). The app is restarted on it with the
two counties to warm; builds are counted by who asked (``RecommendationService.index_builds``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest
from conftest import AUTH, make_settings, open_store
from fastapi.testclient import TestClient

from graph_service.analysis.recommend import RecommenderIndex
from graph_service.api.app import create_app
from graph_service.services.analysis_scope import AnalysisScope, ScopedGraphs
from graph_service.services.view import GraphViews
from graph_service.settings import Settings
from graph_service.store.protocol import Scope, WriteBatch

COUNTY, TOWN, OTHER, OTHER_TOWN = "370302", "370302112", "370303", "370303100"
V1, V2, V9 = f"village:{TOWN}001", f"village:{TOWN}002", f"village:{OTHER_TOWN}001"
E1, E9 = "ent:warm-e1", "ent:warm-e9"


def _region(code: str, name: str, kind: str) -> dict[str, Any]:
    return {
        "id": f"region:{code}",
        "label": "Region",
        "kind": kind,
        "name": name,
        "region_code": code,
    }


def _village(id_: str, name: str, weak: bool) -> dict[str, Any]:
    code = id_.split(":")[1]
    return {
        "id": id_,
        "label": "Village",
        "kind": "行政村",
        "name": name,
        "region_code": code,
        "attributes": {"weak": weak},
    }


def _enterprise(id_: str, name: str, code: str) -> dict[str, Any]:
    return {"id": id_, "label": "Enterprise", "kind": "公司", "name": name, "region_code": code}


NODES = [
    _region(COUNTY, "测试区", "县"),
    _region(TOWN, "甲镇", "乡镇"),
    _region(OTHER, "别的区", "县"),
    _region(OTHER_TOWN, "乙镇", "乡镇"),
    _village(V1, "甲一村", True),
    _village(V2, "甲二村", False),
    _village(V9, "乙一村", True),
    _enterprise(E1, "甲公司", TOWN),
    _enterprise(E9, "乙公司", OTHER_TOWN),
]


def _settings(base: Settings, **overrides: Any) -> Settings:
    return base.model_copy(update=overrides)


@pytest.fixture
def warm_settings(empty_settings: Settings) -> Settings:
    """The two counties written (by an app that warms nothing); settings that warm them."""
    with TestClient(create_app(_settings(empty_settings, recommend_warm_max=0))) as client:
        r = client.post("/v1/batch", json={"nodes": NODES, "links": []}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert client.get("/readyz").json()["indexes"]["state"] == "off"
    return _settings(
        empty_settings,
        recommend_warm_regions=[COUNTY, OTHER],
        recommend_warm_max=8,
        recommend_warm_poll_s=0.05,
    )


def _ready(client: TestClient, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get("/readyz")
        if r.status_code == 200:
            body: dict[str, Any] = r.json()
            return body
        assert r.json()["code"] == "indexes_warming", r.text
        time.sleep(0.02)
    raise AssertionError("never ready")


def _builds(client: TestClient) -> dict[str, int]:
    return dict(client.app.state.recommendations.index_builds)  # type: ignore[attr-defined]


def _partners(client: TestClient, target: str, headers: dict[str, str] | None = None) -> Any:
    r = client.get(
        "/v1/recommendations/partners", params={"target": target, "top": 10}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


def _settled(client: TestClient, builds: int, timeout: float = 60) -> None:
    """Wait until ``builds`` index builds happened in all and the warm-up round ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        warmer = client.app.state.warmer  # type: ignore[attr-defined]
        if sum(_builds(client).values()) >= builds and warmer.warm == len(warmer.planned):
            time.sleep(0.2)  # a round that found them built ends
            return
        time.sleep(0.02)
    raise AssertionError(f"builds: {_builds(client)}")


@pytest.fixture
def slow_builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Index builds wait until the event is set (to see /readyz while warming)."""
    release = threading.Event()
    build = RecommenderIndex.build.__func__  # type: ignore[attr-defined]

    def held(cls: type[RecommenderIndex], *args: Any, **kwargs: Any) -> RecommenderIndex:
        release.wait(30)
        return build(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(RecommenderIndex, "build", classmethod(held))
    yield release
    release.set()


def test_readyz_waits_for_the_warm_indexes_and_requests_then_build_none(
    warm_settings: Settings, slow_builds: threading.Event
) -> None:
    with TestClient(create_app(warm_settings)) as client:
        warming = client.get("/readyz")
        assert warming.status_code == 503
        assert warming.headers["retry-after"] == "1"
        body = warming.json()
        assert body["code"] == "indexes_warming"
        assert body["indexes"]["state"] == "warming"
        assert body["indexes"]["planned"] == 4  # two counties, two audiences
        slow_builds.set()
        ready = _ready(client)
        assert ready["status"] == "ready"
        assert ready["indexes"]["state"] == "warm"
        assert ready["indexes"]["warm"] == 4
        assert _builds(client) == {"warm-up": 4}
        # The first requests of either audience find their index built.
        assert _partners(client, V1)["candidates"]["items"]
        assert _partners(client, V1, AUTH)["candidates"]["items"]
        assert _partners(client, V9)["candidates"]["items"]
        assert _builds(client) == {"warm-up": 4}


def test_readyz_does_not_wait_when_told_not_to(
    warm_settings: Settings, slow_builds: threading.Event
) -> None:
    with TestClient(create_app(_settings(warm_settings, recommend_warm_wait=False))) as client:
        r = client.get("/readyz")
        assert r.status_code == 200
        assert r.json()["indexes"]["state"] == "warming"
        slow_builds.set()


def test_a_write_elsewhere_keeps_the_index_and_one_inside_rebuilds_it_off_the_path(
    warm_settings: Settings,
) -> None:
    with TestClient(create_app(warm_settings)) as client:
        _ready(client)
        before = _partners(client, V1)
        # A new enterprise in the other county: this county's index is carried over.
        new_elsewhere = _enterprise("ent:warm-e10", "乙二公司", OTHER_TOWN)
        r = client.post("/v1/nodes", json=new_elsewhere, headers=AUTH)
        assert r.status_code == 201, r.text
        assert _partners(client, V1) == before
        _settled(client, 6)  # the other county's two indexes rebuilt, in the background
        assert _builds(client) == {"warm-up": 6}
        assert client.app.state.views.graphs.carried >= 2  # type: ignore[attr-defined]

        # A new enterprise in this county: rebuilt once per audience, by the warm-up.
        new_here = _enterprise("ent:warm-e2", "甲二公司", TOWN)
        r = client.post("/v1/nodes", json=new_here, headers=AUTH)
        assert r.status_code == 201, r.text
        _settled(client, 8)
        assert _builds(client) == {"warm-up": 8}
        after = _partners(client, V1)
        assert "ent:warm-e2" in {c["partner_id"] for c in after["candidates"]["items"]}
        with_key = _partners(client, V1, AUTH)
        assert _builds(client) == {"warm-up": 8}  # no build on the request path

    # The same answers as a fresh build: a restart that warms nothing builds on request.
    with TestClient(create_app(_settings(warm_settings, recommend_warm_max=0))) as fresh:
        assert _partners(fresh, V1) == after
        assert _partners(fresh, V1, AUTH) == with_key
        assert _builds(fresh) == {"request": 2}


def test_a_request_right_after_a_write_joins_the_one_rebuild(warm_settings: Settings) -> None:
    with TestClient(create_app(warm_settings)) as client:
        _ready(client)
        new_here = _enterprise("ent:warm-e3", "甲三公司", TOWN)
        r = client.post("/v1/nodes", json=new_here, headers=AUTH)
        assert r.status_code == 201, r.text
        answer = _partners(client, V1)  # before or during the background rebuild
        assert "ent:warm-e3" in {c["partner_id"] for c in answer["candidates"]["items"]}
        _settled(client, 6)
        assert sum(_builds(client).values()) == 6  # one per audience, whoever asked first


def test_regions_asked_for_are_warmed_at_the_next_start(empty_settings: Settings) -> None:
    settings = _settings(empty_settings, recommend_warm_max=2)
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/batch", json={"nodes": NODES, "links": []}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert _ready(client)["indexes"]["planned"] == 0
        _partners(client, V9)
        _partners(client, V1)
        _partners(client, V1, AUTH)  # over the limit of two: not recorded
        assert _builds(client) == {"request": 3}
    with TestClient(create_app(settings)) as client:
        assert _ready(client)["indexes"]["planned"] == 2
        assert _builds(client) == {"warm-up": 2}
        _partners(client, V1)
        assert _builds(client) == {"warm-up": 2}


# ------------------------------------------------------------------------------ follow


@pytest.mark.anyio
async def test_follow_carries_the_graphs_a_write_does_not_touch(tmp_path: Any) -> None:
    settings = make_settings("embedded", tmp_path / "data")
    store = open_store(settings)
    await store.open()
    try:
        await store.write(WriteBatch(nodes=NODES))
        graphs = ScopedGraphs(store)
        graphs.following = True
        await graphs.follow()
        here, there = AnalysisScope("region", COUNTY), AnalysisScope("region", OTHER)
        county, county_key = await graphs.graph(here, GraphViews.FULL)
        await graphs.graph(there, GraphViews.FULL)
        graphs.derived.setdefault(county_key, {})["marker"] = "kept"

        await store.write(WriteBatch(nodes=[_enterprise("ent:x", "乙三公司", OTHER_TOWN)]))
        assert await graphs.follow() == [(there, "full")]
        carried, key = await graphs.graph(here, GraphViews.FULL)
        assert carried is county
        assert key[1] == await store.version()
        assert graphs.derived[key]["marker"] == "kept"
        assert "ent:x" in (await graphs.graph(there, GraphViews.FULL))[0]

        # A link from outside to a node of the county touches it (its end is there).
        await store.write(
            WriteBatch(links=[{"id": "l1", "type": "PAIRS_WITH", "source": "ent:x", "target": V1}])
        )
        assert await graphs.follow() == [(here, "full"), (there, "full")]
        fresh, _ = await graphs.graph(here, GraphViews.FULL)
        assert fresh is not county
        assert nx.utils.graphs_equal(fresh, await store.export_graph(_scope_of(COUNTY)))
        assert await graphs.follow() == []  # nothing new
    finally:
        await store.close()


def _scope_of(code: str) -> Scope:
    scope = AnalysisScope("region", code, include_structural=True)
    return Scope(region_code=code, link_types=scope.effective_link_types(), include_structural=True)
