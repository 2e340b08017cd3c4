"""Several workers on one embedded store (``graph-service serve --workers N``).

A real server with two worker processes on a fresh data directory; the client holds a few
keep-alive connections and knows, from the operating system, which worker accepted each one,
so that it can read through every worker on purpose (a new connection lands on whichever
worker accepts it first). Then:

* a write through one worker is seen by every read through every worker from the moment it
  is acknowledged (the issue asks for "within a second": every read of the second after the
  acknowledgement must see it, not only the last);
* a revoked key fails on every worker, likewise: keys live in the store and every request
  looks its key up there (``graph-service keys revoke`` writes the revocation);
* the seed graph is loaded once, by the parent, before any worker starts; and processes that
  open one new SQLite file at the same moment all succeed (SQLite refuses the switch to WAL
  without waiting: ``embedded._enter_wal``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import multiprocessing
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psutil
import pytest
from test_live_server import VENV_BIN, _env, _free_port, _wait_ready

from graph_service.models import NodeDoc
from graph_service.services.analysis_scope import AnalysisScope, ScopedGraphs
from graph_service.settings import hash_api_key
from graph_service.store.embedded import EmbeddedGraphStore
from graph_service.store.protocol import Scope, WriteBatch
from graph_service.visibility import Visibility

WORKERS = 2
#: The issue's bound on how long a write (or a revocation) may take to reach every worker.
VISIBLE_WITHIN_S = 1.0
ADMIN_KEY = "workers-test-admin-key"
#: What uvicorn logs when a worker's app has started (the store open, its graph in memory).
STARTED = "Application startup complete"


@dataclass
class Connection:
    """A keep-alive connection and the pid of the worker that accepted it."""

    http: http.client.HTTPConnection
    worker: int

    def request(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any]:
        headers = {"content-type": "application/json"} if body is not None else {}
        if key is not None:
            headers["X-API-Key"] = key
        payload = json.dumps(body).encode() if body is not None else None
        self.http.request(method, path, body=payload, headers=headers)
        response = self.http.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None


@dataclass
class Workers:
    port: int
    work: Path
    env: dict[str, str]
    pids: list[int]
    log: Path


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """``graph-service serve --seed --workers 2`` on a free port over a fresh data directory,
    with one admin key from settings (what may bootstrap the first admin)."""
    work = tmp_path_factory.mktemp("workers")
    env = _env(work / "data")
    env["GRAPH_SERVICE_API_KEY_HASHES"] = json.dumps([f"admin={hash_api_key(ADMIN_KEY)}"])
    # The reads poll each worker as fast as they can, far above one address's rate limit.
    env["GRAPH_SERVICE_RATE_LIMIT_ENABLED"] = "false"
    port = _free_port()
    log_path = work / "server.log"
    command = ["serve", "--seed", "--workers", str(WORKERS), "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "graph-service"), *command],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process, log_path)
            _wait_every_worker_started(log_path)
            yield Workers(port, work, env, _worker_pids(process.pid), log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_every_worker_started(log_path: Path) -> None:
    """One worker answers /readyz while another may still be starting."""
    deadline = time.monotonic() + 120
    while log_path.read_text(errors="replace").count(STARTED) < WORKERS:
        assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
        time.sleep(0.1)


def _worker_pids(parent: int) -> list[int]:
    """The serving processes under uvicorn's supervisor (not multiprocessing's tracker)."""
    deadline = time.monotonic() + 30
    while True:
        pids = [
            child.pid
            for child in psutil.Process(parent).children()
            if "spawn_main" in " ".join(child.cmdline())
        ]
        if len(pids) == WORKERS or time.monotonic() > deadline:
            assert len(pids) == WORKERS, f"expected {WORKERS} workers, found {pids}"
            return pids
        time.sleep(0.1)


def _accepted_by(client_port: int, pids: list[int]) -> int | None:
    """Which worker holds the server end of the connection from ``client_port``."""
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == client_port:
                return pid
    return None


@contextlib.contextmanager
def _connections_to_every_worker(server: Workers, each: int = 2) -> Iterator[list[Connection]]:
    """Open connections until every worker holds at least ``each`` of them."""
    opened: list[Connection] = []
    try:
        for _ in range(200):
            if all(sum(c.worker == pid for c in opened) >= each for pid in server.pids):
                break
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/healthz")  # accepted and answered: the server end exists
            conn.getresponse().read()
            assert conn.sock is not None
            worker = _accepted_by(conn.sock.getsockname()[1], server.pids)
            assert worker is not None, "no worker holds the connection"
            opened.append(Connection(conn, worker))
        else:
            pytest.fail(f"200 connections did not reach every worker: {opened}")
        yield opened
    finally:
        for c in opened:
            c.http.close()


def _every_read_sees(
    connections: list[Connection], path: str, expect: Any, key: str | None = None
) -> int:
    """Read ``path`` through every connection, round after round, for ``VISIBLE_WITHIN_S``
    seconds; every answer must be what ``expect`` (a callable of status and body) accepts.
    Returns how many reads were made."""
    reads = 0
    deadline = time.monotonic() + VISIBLE_WITHIN_S
    while time.monotonic() < deadline:
        for conn in connections:
            status, body = conn.request("GET", path, key=key)
            reads += 1
            assert expect(status, body), (
                f"read {reads} through worker {conn.worker}: {status} {body}"
            )
    return reads


def _node(node_id: str, name: str) -> dict[str, Any]:
    return {"id": node_id, "label": "Enterprise", "kind": "合作社", "name": name}


def test_the_workers_are_separate_processes(workers: Workers) -> None:
    assert len(set(workers.pids)) == WORKERS
    log = workers.log.read_text(encoding="utf-8", errors="replace")
    assert log.count(STARTED) == WORKERS


def test_the_seed_graph_is_loaded_once_before_the_workers_start(workers: Workers) -> None:
    log = workers.log.read_text(encoding="utf-8", errors="replace")
    assert log.count("seed graph loaded") == 1
    assert log.index("seed graph loaded") < log.index("Started server process")


def test_a_write_on_one_worker_is_read_on_every_worker(workers: Workers) -> None:
    node_id = f"ent:workers-{uuid.uuid4().hex[:8]}"
    with _connections_to_every_worker(workers) as connections:
        first, other = (
            connections[0],
            next(c for c in connections if c.worker != connections[0].worker),
        )

        status, _ = first.request("POST", "/v1/nodes", _node(node_id, "多进程合作社"), ADMIN_KEY)
        assert status == 201
        reads = _every_read_sees(
            connections,
            f"/v1/nodes/{node_id}",
            lambda status, body: status == 200 and body["name"] == "多进程合作社",
        )
        assert reads >= len(connections)

        # A change through the other worker, then a delete through the first.
        status, _ = other.request(
            "PUT", f"/v1/nodes/{node_id}", _node(node_id, "改名合作社"), ADMIN_KEY
        )
        assert status == 200
        _every_read_sees(
            connections,
            f"/v1/nodes/{node_id}",
            lambda status, body: status == 200 and body["name"] == "改名合作社",
        )
        status, _ = first.request("DELETE", f"/v1/nodes/{node_id}", key=ADMIN_KEY)
        assert status == 204
        _every_read_sees(connections, f"/v1/nodes/{node_id}", lambda status, _: status == 404)


def test_a_search_on_every_worker_finds_a_node_written_on_one(workers: Workers) -> None:
    """The search index of every worker takes the write too (not only the node table)."""
    node_id = f"ent:workers-{uuid.uuid4().hex[:8]}"
    name = f"检索{uuid.uuid4().hex[:6]}合作社"
    with _connections_to_every_worker(workers) as connections:
        status, _ = connections[0].request("POST", "/v1/nodes", _node(node_id, name), ADMIN_KEY)
        assert status == 201
        _every_read_sees(
            connections,
            "/v1/search?q=" + "".join(f"%{b:02X}" for b in name.encode()),
            lambda status, body: status == 200 and body["items"][0]["node"]["id"] == node_id,
        )


def _cli(server: Workers, *args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "graph-service"), *args],
        env=server.env,
        cwd=server.work,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _create_key(server: Workers, name: str) -> str:
    """A new viewer account ``name`` and a key of it, made as an operator makes them."""
    _cli(server, "accounts", "create", name, "--role", "viewer")
    return _cli(server, "keys", "create", "--account", name)


def _revoke_key(server: Workers, name: str) -> None:
    """Revoke every key of ``name``, as an operator does (by the keys' ids)."""
    keys = json.loads(_cli(server, "keys", "list", "--account", name, "--json"))
    assert keys, name
    for key in keys:
        _cli(server, "keys", "revoke", key["id"])


def test_a_revoked_key_fails_on_every_worker(workers: Workers) -> None:
    name = f"county-{uuid.uuid4().hex[:6]}"
    key = _create_key(workers, name)
    with _connections_to_every_worker(workers) as connections:
        _every_read_sees(connections, "/v1/stats", lambda status, _: status == 200, key=key)
        _revoke_key(workers, name)
        _every_read_sees(
            connections,
            "/v1/stats",
            lambda status, body: status == 401 and body["field"] == "X-API-Key",
            key=key,
        )


# ------------------------------------------------------------------------- start-up


def _open_at_once(paths: list[str], barrier: Barrier, failures: Queue[str]) -> None:
    """Open each new store file at the same moment as the other processes (run in each)."""
    for path in paths:
        barrier.wait()
        store = EmbeddedGraphStore(path)
        try:
            store.open_sync()
        except Exception as exc:  # the test reports whatever it is
            failures.put(repr(exc))
        finally:
            asyncio.run(store.close())
    failures.put("done")


def test_processes_opening_one_new_store_file_at_once_all_succeed(tmp_path: Path) -> None:
    """Before ``_enter_wal``, about one round in four failed with 'database is locked'."""
    processes, rounds = 4, 12
    paths = [str(tmp_path / f"graph-{i}.sqlite3") for i in range(rounds)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes, timeout=60)
    failures: Queue[str] = context.Queue()
    started = [
        context.Process(target=_open_at_once, args=(paths, barrier, failures))
        for _ in range(processes)
    ]
    for process in started:
        process.start()
    reported, done = [], 0
    while done < processes:
        message = failures.get(timeout=120)
        done += message == "done"
        if message != "done":
            reported.append(message)
    for process in started:
        process.join(timeout=30)
    assert reported == []
    assert all(process.exitcode == 0 for process in started)


# ------------------------------------------------------------------------- one snapshot


def _enterprise(node_id: str) -> NodeDoc:
    return {
        "id": node_id,
        "label": "Enterprise",
        "kind": "合作社",
        "name": node_id,
        "region_code": "371426",
    }


def test_a_region_read_agrees_with_memory_while_another_process_commits(
    tmp_path: Path,
) -> None:
    """A region's export and coverage list its nodes in SQL and read them from memory. A
    commit by another connection between the reader's catch-up and that query (another
    worker writing at that moment: the load benchmark hit it as 500s) must not make the
    query name a node memory lacks."""
    path = tmp_path / "graph.sqlite3"
    reader, writer = EmbeddedGraphStore(path), EmbeddedGraphStore(path)
    reader.open_sync()
    writer.open_sync()
    try:
        county: NodeDoc = {
            "id": "region:371426",
            "label": "Region",
            "kind": "县",
            "name": "平原县",
            "region_code": "371426",
        }
        writer.write_sync(WriteBatch(nodes=[county, _enterprise("ent:first")]))
        catch_up = reader._catch_up
        late = iter(["ent:late-1", "ent:late-2"])

        def catch_up_then_another_commit(conn: sqlite3.Connection) -> None:
            catch_up(conn)
            with contextlib.suppress(StopIteration):
                writer.write_sync(WriteBatch(nodes=[_enterprise(next(late))]))

        reader._catch_up = catch_up_then_another_commit  # type: ignore[method-assign]
        graph = asyncio.run(reader.export_graph(Scope(region_code="371426")))
        assert "ent:first" in graph
        assert "ent:late-1" not in graph  # committed after the snapshot: the next read's
        asyncio.run(reader.coverage("371426"))
        graph = asyncio.run(reader.export_graph(Scope(region_code="371426")))
        assert {"ent:late-1", "ent:late-2"} <= set(graph)
    finally:
        asyncio.run(reader.close())
        asyncio.run(writer.close())


def test_a_write_committed_right_after_this_process_wrote_is_not_lost(tmp_path: Path) -> None:
    """Between this process's commit and the moment it takes its own batch into memory,
    another process commits: that write must still reach this process's memory (taking the
    log's end as this batch's position skipped it for good)."""
    path = tmp_path / "graph.sqlite3"
    this, other = EmbeddedGraphStore(path), EmbeddedGraphStore(path)
    this.open_sync()
    other.open_sync()
    try:
        apply_committed = this._apply_committed

        def another_commit_first(batch: Any) -> None:
            other.write_sync(WriteBatch(nodes=[_enterprise("ent:other")]))
            apply_committed(batch)

        this._apply_committed = another_commit_first  # type: ignore[method-assign]
        this.write_sync(WriteBatch(nodes=[_enterprise("ent:this")]))
        found = asyncio.run(this.get_nodes(["ent:this", "ent:other"]))
        assert set(found) == {"ent:this", "ent:other"}
        assert asyncio.run(this.version()) == asyncio.run(other.version())
    finally:
        asyncio.run(this.close())
        asyncio.run(other.close())


# ------------------------------------------------------------------------- bounded staleness


@pytest.mark.parametrize("max_stale_s", [0.0, 60.0])
def test_scope_graphs_follow_writes_within_the_configured_bound(
    tmp_path: Path, max_stale_s: float
) -> None:
    """0 (exact): a write makes the next request export the scope again. A bound (1 s by
    default): the graph built before the write serves until it is that old, except to an
    ``exact`` read (judgements, exports), which always sees the write."""
    store = EmbeddedGraphStore(tmp_path / "graph.sqlite3")
    store.open_sync()
    try:
        store.write_sync(WriteBatch(nodes=[_enterprise("ent:before")]))
        graphs = ScopedGraphs(store, max_stale_s=max_stale_s)
        scope = AnalysisScope("all")
        full = Visibility(full=True)
        _first, first_key = asyncio.run(graphs.graph(scope, full))
        store.write_sync(WriteBatch(nodes=[_enterprise("ent:after")]))
        second, second_key = asyncio.run(graphs.graph(scope, full))
        if max_stale_s:
            assert second_key == first_key
            assert "ent:after" not in second
            exact, exact_key = asyncio.run(graphs.graph(scope, full, exact=True))
            assert exact_key != first_key
            assert "ent:after" in exact
            graphs._latest = {
                k: (key, built - max_stale_s) for k, (key, built) in graphs._latest.items()
            }
            third, _ = asyncio.run(graphs.graph(scope, full))
            assert "ent:after" in third
        else:
            assert second_key != first_key
            assert "ent:after" in second
    finally:
        asyncio.run(store.close())


def test_writes_during_a_rebuild_join_it_instead_of_starting_more(tmp_path: Path) -> None:
    """Past the bound, the first request exports the scope again; requests that come while
    it is under way, after more writes, wait for that export rather than start one each
    (with writes every few ms, one each kept the pool rebuilding one county)."""
    store = EmbeddedGraphStore(tmp_path / "graph.sqlite3")
    store.open_sync()
    try:
        store.write_sync(WriteBatch(nodes=[_enterprise("ent:first")]))
        # A bound well above a write's time (10 ms on a busy disk): the requests after the
        # export under way find its graph within the bound, whatever the disk does.
        graphs = ScopedGraphs(store, max_stale_s=0.5)
        scope = AnalysisScope("all")
        full = Visibility(full=True)
        exports = 0
        real_export = graphs._export

        async def slow_export(scope: AnalysisScope, policy: Visibility) -> Any:
            nonlocal exports
            exports += 1
            await asyncio.sleep(0.2)
            return await real_export(scope, policy)

        graphs._export = slow_export  # type: ignore[method-assign]

        async def run() -> list[tuple[Any, ...]]:
            await graphs.graph(scope, full)
            await asyncio.sleep(0.6)  # past the bound, and a write: the next exports again
            await store.write(WriteBatch(nodes=[_enterprise("ent:second")]))
            started = asyncio.create_task(graphs.graph(scope, full))
            await asyncio.sleep(0.05)  # the export is under way
            keys = []
            for i in range(3):
                await store.write(WriteBatch(nodes=[_enterprise(f"ent:during{i}")]))
                keys.append((await graphs.graph(scope, full))[1])
            keys.append((await started)[1])
            exact, exact_key = await graphs.graph(scope, full, exact=True)
            assert "ent:during2" in exact
            keys.append(exact_key)
            return keys

        keys = asyncio.run(run())
        assert len(set(keys[:4])) == 1, keys  # the three joined the one under way
        assert keys[4] != keys[0]  # an exact read builds the current version itself
        assert exports == 3  # the first, the rebuild past the bound, the exact read
    finally:
        asyncio.run(store.close())
