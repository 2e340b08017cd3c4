"""Fuzzing: schemathesis over every operation of ``/openapi.json``, anonymously and with a key
that may write. CI-sized (a few examples an operation, a fixed seed, :func:`fuzzed`);
``bench/fuzz.py`` runs the same checks (``schemathesis.toml``) at campaign size.

The server is the real one: uvicorn with the service's own HTTP protocol (the h11 parser's
refusals as problem+json), on an ephemeral port, over a throwaway copy of the seed graph's
curated core (:func:`curated_core`) that fuzzed writes may change. A response fails the test
when it is a 5xx or breaks what the document declares for its operation
(``schemathesis.toml`` lists the checks).

Who calls is not fuzzed: the credential headers (``X-API-Key``, ``Authorization``) are taken
out of the document schemathesis generates from, and each run sends its caller's own. Forged
and malformed keys have their own tests (``test_api.py``, ``test_input_text.py``).
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from conftest import _NEO4J_STATE, AUTH, BACKENDS, ROOT, SEED_DIR, make_settings, open_store
from schemathesis import Case
from served import serving

from graph_service.api.app import create_app
from graph_service.services.loading import seed_graph
from graph_service.settings import Settings
from graph_service.store.protocol import WriteBatch

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

#: Links that place a node (in a region, under a region): every village has one.
STRUCTURAL = frozenset({"IN_REGION", "SUBORDINATE_TO"})
#: Header parameters that say who calls: set per run, never generated.
CREDENTIAL_HEADERS = frozenset({"x-api-key", "authorization"})
#: Generated requests per operation and phase: enough to reach every parameter's boundaries
#: (the coverage phase adds its own) in about a minute on two cores.
CI_EXAMPLES = 6


def without_credentials(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the credential header parameters taken out of every operation."""
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if not (p.get("in") == "header" and p["name"].lower() in CREDENTIAL_HEADERS)
                ]
    return document


def curated_core() -> WriteBatch:
    """The seed graph less the register's villages no curated link names: every label and
    link type in 617 nodes and 842 links instead of 5,946 and 6,171, so that an exact
    centrality over everything (what the fuzzer asks for often) costs milliseconds, not
    seconds. ``bench/fuzz.py`` fuzzes the whole seed graph."""
    graph = seed_graph(SEED_DIR)
    named = {
        end
        for link in graph.links.values()
        if link["type"] not in STRUCTURAL
        for end in (link["source"], link["target"])
    }
    nodes = [n for i, n in graph.nodes.items() if n["label"] != "Village" or i in named]
    kept = {n["id"] for n in nodes}
    links = [
        link for link in graph.links.values() if link["source"] in kept and link["target"] in kept
    ]
    return WriteBatch(nodes=nodes, links=links)


async def _load(settings: Settings, batch: WriteBatch) -> None:
    store = open_store(settings)
    await store.open()
    try:
        if settings.neo4j_uri:
            await store.wipe()  # type: ignore[attr-defined]
        await store.write(batch)
    finally:
        await store.close()


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The service on 127.0.0.1 over a throwaway curated core, on each store (Neo4j's test
    database is wiped first and left marked as changed); yields its base URL."""
    settings = make_settings(request.param, tmp_path_factory.mktemp("fuzz") / "data")
    if settings.neo4j_uri:
        _NEO4J_STATE["content"] = "dirty"
    asyncio.run(_load(settings, curated_core()))
    with serving(create_app(settings)) as base_url:
        yield base_url


def fuzzed(*, coverage: bool) -> Any:
    """The service's document, credentials out, with the project's checks and seed, sized
    for CI: :data:`CI_EXAMPLES` generated requests an operation, and the coverage phase
    (every boundary of every parameter, a few hundred requests an operation) only where
    ``coverage`` says and never for the three bodies of many shapes (a node or link of any
    label or type: ten thousand requests each), which ``bench/fuzz.py`` covers. The
    document does not depend on the store: it is built without opening one."""
    with (ROOT / "schemathesis.toml").open("rb") as fh:
        config = tomllib.load(fh)
    config["generation"]["max-examples"] = CI_EXAMPLES
    config["operations"] = [
        {
            "include-method": "POST",
            "include-path-regex": "^/v1/(batch|nodes|links)$",
            "phases": {"coverage": {"enabled": False}},
        }
    ]
    if not coverage:
        config["phases"] = {"coverage": {"enabled": False}}
    document = without_credentials(create_app().openapi())
    return schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(config))


#: The headers of a caller who may write: conftest's key (an admin today). When conftest has
#: an editor account, its headers replace AUTH here: the one line to change.
WRITER: dict[str, str] = AUTH

# Loaded at import, not from a fixture: schemathesis' lazy loader does not run on pytest 9.
# The coverage phase runs anonymously, where the 500s were found; the writer's run
# reaches the write paths with generated data.
anonymous_api = fuzzed(coverage=True)
writer_api = fuzzed(coverage=False)


@anonymous_api.parametrize()
def test_fuzz_anonymous(case: Case, server: str) -> None:
    case.call_and_validate(base_url=server)


@writer_api.parametrize()
def test_fuzz_writer(case: Case, server: str) -> None:
    case.call_and_validate(base_url=server, headers=WRITER)
