"""Shared fixtures. Every store-facing fixture is parametrised over the backends, so the
contract, API and seed suites are written once and run on each store.

The Neo4j backend runs when ``NEO4J_TEST_URI`` points at a server (``scripts/neo4j-local
start`` gives one). ``GRAPH_SERVICE_REQUIRE_NEO4J=1`` (set by CI) turns its absence into a
failure instead of a skip.

Neo4j Community has one user database, so the suite tracks what is in it: tests that need an
empty store wipe it; tests that read the seed graph reload it only when something else was
there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.services.loading import load_seed
from graph_service.settings import Settings, hash_api_key
from graph_service.store.embedded import EmbeddedGraphStore
from graph_service.store.protocol import GraphStore

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "seed"
API_KEY = "test-key-dangjian"
AUTH = {"X-API-Key": API_KEY}
BACKENDS = ["embedded", "neo4j"]
_NEO4J_STATE: dict[str, str] = {"content": "unknown"}


def neo4j_conf() -> dict[str, str]:
    uri = os.environ.get("NEO4J_TEST_URI")
    if not uri:
        if os.environ.get("GRAPH_SERVICE_REQUIRE_NEO4J") == "1":
            pytest.fail("NEO4J_TEST_URI is not set but GRAPH_SERVICE_REQUIRE_NEO4J=1")
        pytest.skip("NEO4J_TEST_URI not set")
    return {
        "neo4j_uri": uri,
        "neo4j_user": os.environ.get("NEO4J_TEST_USER", "neo4j"),
        "neo4j_password": os.environ.get("NEO4J_TEST_PASSWORD", "graph-service-test"),
        "neo4j_database": os.environ.get("NEO4J_TEST_DATABASE", "neo4j"),
    }


def make_settings(backend: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "seed_dir": SEED_DIR,
        "api_key_hashes": [hash_api_key(API_KEY)],
        # A test waits for its answer: the 5 s budget of a shared 2-core machine would make
        # slow CI runs flaky. Tests of the budget set their own.
        "request_budget_seconds": 60.0,
        # Tests read analyses right after their writes: exact, not the served second of
        # staleness (tests/test_workers.py tests the bound itself).
        "scope_graph_max_stale_s": 0.0,
        # No index warm-up: /readyz is ready at once, and the regions asked for are not
        # recorded in a shared data directory (tests/test_recommend_warm.py warms).
        "recommend_warm_max": 0,
        # Nor any page warm-up (tests/test_dashboard.py warms).
        "dashboard_warm_max": 0,
    }
    if backend == "neo4j":
        conf = neo4j_conf()
        values.update(
            NEO4J_URI=conf["neo4j_uri"],
            NEO4J_USER=conf["neo4j_user"],
            NEO4J_PASSWORD=conf["neo4j_password"],
            NEO4J_DATABASE=conf["neo4j_database"],
            # The test server on a loaded 2-core CI machine once paused past the 2 s probe
            # and a test's setup failed as "Neo4j unavailable"; tests of outages
            # (tests/test_neo4j_outage.py) set the production value back.
            neo4j_probe_timeout_seconds=10.0,
        )
    values.update(overrides)
    return Settings(**values)


def open_store(settings: Settings) -> GraphStore:
    """A store for ``settings`` (not yet opened)."""
    from graph_service.store.factory import create_store

    return create_store(settings)


async def _prepare(backend: str, data_dir: Path, content: str) -> None:
    """Make the backend's data hold ``content`` ('empty' or 'seed')."""
    if backend == "embedded":
        if content == "seed" and not (data_dir / "graph.sqlite3").exists():
            store = EmbeddedGraphStore(data_dir / "graph.sqlite3")
            await store.open()
            await load_seed(store, SEED_DIR)
            await store.close()
        return
    if content == "seed" and _NEO4J_STATE["content"] == "seed":
        return
    store = open_store(make_settings(backend, data_dir))
    await store.open()
    try:
        await store.wipe()  # type: ignore[attr-defined]
        if content == "seed":
            await load_seed(store, SEED_DIR)
    finally:
        await store.close()
    _NEO4J_STATE["content"] = content


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def empty_settings(backend: str, tmp_path: Path) -> Settings:
    """Settings of an empty store of each backend."""
    settings = make_settings(backend, tmp_path / "data")
    asyncio.run(_prepare(backend, settings.data_dir, "empty"))
    return settings


@pytest.fixture(scope="session")
def seed_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seed") / "data"


@pytest.fixture
def seed_settings(backend: str, seed_data_dir: Path) -> Settings:
    """Settings of the seed graph in each backend. Read-only: tests must not write."""
    settings = make_settings(backend, seed_data_dir)
    asyncio.run(_prepare(backend, seed_data_dir, "seed"))
    return settings


@pytest.fixture
async def store(empty_settings: Settings) -> AsyncIterator[GraphStore]:
    """An open, empty store (async tests, ``@pytest.mark.anyio``)."""
    the_store = open_store(empty_settings)
    await the_store.open()
    if empty_settings.neo4j_uri:
        _NEO4J_STATE["content"] = "dirty"
    try:
        yield the_store
    finally:
        await the_store.close()


@pytest.fixture
async def seeded(seed_settings: Settings) -> AsyncIterator[GraphStore]:
    """An open store holding the seed graph (read-only)."""
    the_store = open_store(seed_settings)
    await the_store.open()
    try:
        yield the_store
    finally:
        await the_store.close()


@pytest.fixture
def client(empty_settings: Settings) -> Iterator[TestClient]:
    """The app on an empty store of each backend; the app opens the store itself."""
    if empty_settings.neo4j_uri:
        _NEO4J_STATE["content"] = "dirty"
    with TestClient(create_app(empty_settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def seed_client(seed_settings: Settings) -> Iterator[TestClient]:
    """The app on the seed graph of each backend (read-only)."""
    with TestClient(create_app(seed_settings), raise_server_exceptions=False) as c:
        yield c


def account_headers(client: TestClient, name: str, role: str, scope: str = "") -> dict[str, str]:
    """Make an account (as the bootstrap admin of ``AUTH``) and a key of it; its headers."""
    made = client.post(
        "/v1/accounts", json={"name": name, "role": role, "scope": scope}, headers=AUTH
    )
    assert made.status_code == 201, made.text
    key = client.post(f"/v1/accounts/{name}/keys", headers=AUTH)
    assert key.status_code == 201, key.text
    return {"X-API-Key": key.json()["key"]}
