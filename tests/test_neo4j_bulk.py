"""Fast Neo4j loads: the neo4j-admin import files and the parallel bulk loader.

The import test runs ``scripts/neo4j-local import`` into a scratch server home of its own (its
own port), so it needs Java and the Neo4j jars ``scripts/neo4j-local`` fetches: it runs
wherever the Neo4j tests run (``NEO4J_TEST_URI``, as ``tests/conftest.py`` decides; the
server of ``scripts/test`` leaves the jars in the default cache). The loader tests write into
the ``NEO4J_TEST_URI`` server.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import _NEO4J_STATE, ROOT, SEED_DIR, neo4j_conf

from graph_service.errors import NotFoundError
from graph_service.services import bulk
from graph_service.services.bulk import register_documents, write_neo4j_csv
from graph_service.services.divisions import load_divisions
from graph_service.services.loading import load_seed, seed_graph
from graph_service.store.embedded import EmbeddedGraphStore
from graph_service.store.neo4j import Neo4jGraphStore
from graph_service.store.neo4j_bulk import ARGS_FILE
from graph_service.store.protocol import (
    GraphStore,
    LinkQuery,
    NeighbourhoodQuery,
    NodeQuery,
    WriteBatch,
)

REGISTER = SEED_DIR / "register"
NEO4J_LOCAL = ROOT / "scripts" / "neo4j-local"


# --------------------------------------------------------------------------- helpers


async def everything(store: GraphStore) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every node and link document the store reads back, by id."""
    docs: list[dict[str, Any]] = [{}, {}]
    for index in (0, 1):
        cursor = None
        while True:
            if index == 0:
                page = await store.list_nodes(NodeQuery(), cursor, 1000)
            else:
                page = await store.list_links(LinkQuery(), cursor, 1000)
            docs[index].update((item["id"], item) for item in page.items)
            if (cursor := page.next_cursor) is None:
                break
    return docs[0], docs[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- CSV files


def test_csv_files_carry_the_stores_properties(tmp_path: Path) -> None:
    docs = list(register_documents(REGISTER, ["371426"]))
    manifest = write_neo4j_csv(tmp_path, docs)
    nodes = [d for k, d in docs if k == "node"]
    assert manifest.nodes == len(nodes)
    assert manifest.links == len(docs) - len(nodes)
    assert manifest.nodes_by_label == {"Region": 1 + 1 + 1 + 12, "Village": 436}
    with (tmp_path / "nodes-Village.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "id:ID",
        "label",
        "kind",
        "name",
        "region_code",
        "valid_from",
        "valid_to",
        "aliases:string[]",
        "names_text",
        "doc",
        ":LABEL",
    ]
    first = dict(zip(rows[0], rows[1], strict=True))
    doc = json.loads(first["doc"])
    assert first["id:ID"] == doc["id"]
    assert first[":LABEL"] == "Entity;Village"
    assert first["valid_from"] == ""  # absent: no property
    with (tmp_path / "relationships-IN_REGION.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [":START_ID", ":END_ID", ":TYPE", "id", "valid_from", "valid_to", "doc"]
    args = (tmp_path / ARGS_FILE).read_text(encoding="utf-8").split()
    assert f"--nodes={(tmp_path / 'nodes-GraphMeta.csv').resolve()}" in args
    # Villages with an alias have two lines of names_text.
    assert "--multiline-fields=true" in args
    assert (tmp_path / "nodes-GraphMeta.csv").read_text(encoding="utf-8").splitlines()[1] == (
        '"graph-meta:data","data",1,,"GraphMeta"'
    )


def test_an_alias_holding_the_array_delimiter_is_refused(tmp_path: Path) -> None:
    node = dict(seed_graph(SEED_DIR).nodes["village:370302112206"], aliases=["a;b"])
    with pytest.raises(ValueError, match="delimiter"):
        write_neo4j_csv(tmp_path, [("node", node)])


# --------------------------------------------------------------------------- neo4j-admin import


@pytest.fixture
def scratch_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a scratch ``scripts/neo4j-local`` home; stopped at the end."""
    neo4j_conf()  # skips (or fails in CI) as every Neo4j test does
    env = {
        **os.environ,
        "NEO4J_LOCAL_HOME": str(tmp_path / "neo4j-home"),
        "NEO4J_LOCAL_BOLT_PORT": str(_free_port()),
        "NEO4J_LOCAL_PASSWORD": "scratch-password",
        "NEO4J_LOCAL_HEAP_MAX": "512m",
        "NEO4J_LOCAL_PAGECACHE": "64m",
    }
    try:
        yield env
    finally:
        subprocess.run([NEO4J_LOCAL, "stop"], env=env, check=False, capture_output=True)


@pytest.mark.neo4j
def test_imported_seed_reads_like_the_embedded_store(
    tmp_path: Path, scratch_home: dict[str, str]
) -> None:
    graph = seed_graph(SEED_DIR)
    docs = [("node", d) for d in graph.nodes.values()] + [("link", d) for d in graph.links.values()]
    write_neo4j_csv(tmp_path / "csv", docs)
    for command in (["import", str(tmp_path / "csv")], ["start"]):
        done = subprocess.run(
            [NEO4J_LOCAL, *command], env=scratch_home, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr

    async def compare() -> None:
        uri = f"bolt://127.0.0.1:{scratch_home['NEO4J_LOCAL_BOLT_PORT']}"
        imported = Neo4jGraphStore(uri, "neo4j", "scratch-password")
        embedded = EmbeddedGraphStore(tmp_path / "graph.sqlite3")
        await imported.open()  # runs every migration: constraints and indexes on the data
        await embedded.open()
        try:
            await load_seed(embedded, SEED_DIR)
            assert await everything(imported) == await everything(embedded)
            query = NeighbourhoodQuery("org:longquan-hongse-xigu", depth=2)
            around = [await s.neighbourhood(query) for s in (imported, embedded)]
            assert sorted(n["id"] for n in around[0].nodes) == sorted(
                n["id"] for n in around[1].nodes
            )
            assert sorted(lk["id"] for lk in around[0].links) == sorted(
                lk["id"] for lk in around[1].links
            )
            hits = await imported.search("台头")
            assert hits[0].node["id"] == "village:370302112206"
            assert await imported.version() == 1
            # It takes writes as any store does.
            await imported.write(WriteBatch(nodes=[dict(graph.nodes["region:37"], name="山东")]))
            assert (await imported.get_nodes(["region:37"]))["region:37"]["name"] == "山东"
        finally:
            await imported.close()
            await embedded.close()

    asyncio.run(compare())


# --------------------------------------------------------------------------- the bulk loader


@pytest.fixture
async def neo4j_store() -> AsyncIterator[Neo4jGraphStore]:
    conf = neo4j_conf()
    store = Neo4jGraphStore(
        conf["neo4j_uri"], conf["neo4j_user"], conf["neo4j_password"], conf["neo4j_database"]
    )
    await store.open()
    await store.wipe()
    _NEO4J_STATE["content"] = "dirty"
    try:
        yield store
    finally:
        await store.close()


async def _written_by_batches(store: Neo4jGraphStore) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the write path (``WriteBatch``, one batch at a time) stores for the register."""
    docs = list(register_documents(REGISTER))
    for start in range(0, len(docs), 2000):
        part = docs[start : start + 2000]
        await store.write(
            WriteBatch(
                nodes=[d for k, d in part if k == "node"],
                links=[d for k, d in part if k == "link"],
            )
        )
    return await everything(store)


class _InterruptedError(Exception):
    pass


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_bulk_loader_writes_what_the_write_path_writes(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    expected = await _written_by_batches(neo4j_store)
    assert len(expected[0]) == 5722
    assert len(expected[1]) == 5718
    await neo4j_store.wipe()
    report = await load_divisions(neo4j_store, REGISTER, tmp_path / "cp.json", batch_rows=700)
    assert (report.nodes, report.links) == (5722, 5718)
    assert await everything(neo4j_store) == expected
    state = json.loads((tmp_path / "cp.json").read_text(encoding="utf-8"))
    assert state["create"] is True  # an empty store: every row created, none merged
    # Done: a second run writes nothing; without the checkpoint it merges the same rows.
    again = await load_divisions(neo4j_store, REGISTER, tmp_path / "cp.json", batch_rows=700)
    assert (again.skipped, again.nodes, again.links) == (5722, 0, 0)
    (tmp_path / "cp.json").unlink()
    forced = await load_divisions(neo4j_store, REGISTER, tmp_path / "cp.json", batch_rows=2000)
    assert (forced.nodes, forced.links) == (5722, 5718)
    assert json.loads((tmp_path / "cp.json").read_text(encoding="utf-8"))["create"] is False
    assert await everything(neo4j_store) == expected


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_interrupted_bulk_load_resumes_in_loader_processes(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "cp.json"
    settled = 0

    def progress(rows: int) -> None:
        nonlocal settled
        settled += 1
        if settled == 4:  # the fourth batch of nodes is written, others in flight
            raise _InterruptedError

    with pytest.raises(_InterruptedError):
        await load_divisions(
            neo4j_store, REGISTER, checkpoint, batch_rows=1000, progress=progress, in_flight=2
        )
    state = json.loads(checkpoint.read_text(encoding="utf-8"))
    assert (state["phase"], state["rows"], state["create"]) == ("nodes", 4000, True)
    assert state["submitted"] > state["rows"]  # batches in flight may have been written
    resumed = await load_divisions(
        neo4j_store, REGISTER, checkpoint, batch_rows=1000, in_flight=2, workers=2
    )
    assert resumed.skipped == 4000
    assert resumed.links == 5718
    stats = await neo4j_store.stats()
    assert stats.nodes_by_label == {"Region": 348, "Village": 5374}
    assert stats.links_by_type == {"IN_REGION": 5718}


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_load_documents_in_processes(neo4j_store: Neo4jGraphStore) -> None:
    docs = list(register_documents(REGISTER, ["370302"]))
    nodes, links = await bulk.load_documents(neo4j_store, docs, batch_size=300, workers=2)
    assert nodes == sum(1 for k, _ in docs if k == "node")
    assert links == len(docs) - nodes
    stored = await everything(neo4j_store)
    assert stored[0] == {d["id"]: d for k, d in docs if k == "node"}
    assert stored[1] == {d["id"]: d for k, d in docs if k == "link"}
    # Again: merged, nothing doubled.
    await bulk.load_documents(neo4j_store, docs, batch_size=300, workers=0)
    assert await everything(neo4j_store) == stored
    # A link to a node that is not stored fails its batch, as a WriteBatch does.
    dangling = dict(stored[1][next(iter(stored[1]))], id="in_region:dangling", target="region:99")
    with pytest.raises(NotFoundError):
        await neo4j_store.bulk_write([], [dangling], create=True)
    assert "in_region:dangling" not in (await everything(neo4j_store))[1]
