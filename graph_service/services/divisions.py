"""Load the national division register (31 provinces … 620k villages) into a store.

Rows are written top-down (provinces first, villages last) in atomic batches, each node
before the containment link to its parent. Writes are upserts by id, so a second run changes
nothing; a checkpoint file records the rows already written so an interrupted load resumes
where it stopped instead of starting over.

On a Neo4j store the load goes through parallel bulk writes (``services.bulk``): loader
processes write batches on their own connections, every node first, then every link, without
the per-entity history a ``WriteBatch`` journals (the register is reference data, reproducible
from its package). Rows the checkpoint proves unwritten are ``CREATE``d, not ``MERGE``d: on a
store that held no region and no village when the load began, every row past the furthest
batch ever submitted (the checkpoint records it before submitting) is unwritten.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from graph_service.models import LinkDoc, NodeDoc
from graph_service.register import read_register, register_graph
from graph_service.services.bulk import BulkWriter, Phase
from graph_service.store.neo4j import Neo4jGraphStore
from graph_service.store.protocol import GraphStore, NodeQuery, WriteBatch, WriteResult

__all__ = ["DivisionsReport", "count_register_rows", "load_divisions"]


@dataclass(frozen=True, slots=True)
class DivisionsReport:
    rows: int
    skipped: int
    nodes: int
    links: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        written = self.nodes + self.links
        return written / self.seconds if self.seconds else 0.0


def count_register_rows(dist: Path) -> int:
    """Rows of the register's five CSV files (for a progress bar)."""
    total = 0
    for name in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv"):
        with (dist / name).open("rb") as fh:
            total += sum(1 for _ in fh) - 1
    return total


def _read_checkpoint(path: Path, dist: Path) -> tuple[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", 0
    if data.get("source") != str(dist.resolve()):
        return "", 0
    return str(data.get("phase", "")), int(data.get("rows", 0))


async def load_divisions(
    store: GraphStore,
    dist: Path,
    checkpoint: Path,
    batch_rows: int = 20_000,
    scope: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    in_flight: int = 1,
    workers: int | None = None,
) -> DivisionsReport:
    """Load the register in ``dist`` (the package's ``dist`` folder) into ``store``.

    ``checkpoint`` is a small JSON file; delete it to force a full pass. ``scope`` limits
    the load to some division codes (their ancestors and descendants).

    With ``in_flight`` > 1 several batches write at once (a server store takes them on
    several connections). That is only safe when no batch needs another's nodes, so the
    load then makes two passes: every node first, then every link.

    A Neo4j store is loaded by ``workers`` loader processes (default: ``in_flight`` when it
    is more than one; 0 writes in this process) through ``Neo4jGraphStore.bulk_write``,
    always in two passes.
    """
    if isinstance(store, Neo4jGraphStore):
        processes = (in_flight if in_flight > 1 else 0) if workers is None else workers
        return await _bulk_load(store, dist, checkpoint, batch_rows, scope, progress, processes)
    started = time.perf_counter()
    phases = ("nodes", "links") if in_flight > 1 else ("all",)
    done_phase, done_rows = _read_checkpoint(checkpoint, dist) if scope is None else ("", 0)
    if done_phase not in phases:
        done_phase, done_rows = phases[0], 0
    counts = {"node": 0, "link": 0}
    total_rows = 0
    skipped = 0
    for phase in phases[phases.index(done_phase) :]:
        skip = done_rows if phase == done_phase else 0
        skipped += skip

        def save(rows_done: int, phase: str = phase) -> None:
            if scope is None:
                checkpoint.parent.mkdir(parents=True, exist_ok=True)
                state = {"source": str(dist.resolve()), "phase": phase, "rows": rows_done}
                checkpoint.write_text(json.dumps(state), encoding="utf-8")

        total_rows = await _pass(
            store, dist, scope, phase, skip, batch_rows, in_flight, counts, save, progress
        )
    return DivisionsReport(
        rows=total_rows,
        skipped=skipped,
        nodes=counts["node"],
        links=counts["link"],
        seconds=time.perf_counter() - started,
    )


async def _pass(
    store: GraphStore,
    dist: Path,
    scope: list[str] | None,
    phase: str,
    skip: int,
    batch_rows: int,
    in_flight: int,
    counts: dict[str, int],
    save: Callable[[int], None],
    progress: Callable[[int], None] | None,
) -> int:
    """One pass over the register writing ``phase`` ("nodes", "links" or "all")."""
    rows = read_register(dist, scope)
    if skip:
        rows = islice(rows, skip, None)
        if progress is not None:
            progress(skip)
    position = skip
    # Batches settle in order, so the checkpoint only covers batches that are all written.
    pending: deque[tuple[asyncio.Task[WriteResult], int]] = deque()

    async def settle_oldest() -> None:
        nonlocal position
        task, size = pending.popleft()
        await task
        position += size
        save(position)
        if progress is not None:
            progress(size)

    try:
        while True:
            chunk = list(islice(rows, batch_rows))
            if not chunk:
                break
            nodes: list[NodeDoc] = []
            links: list[LinkDoc] = []
            for kind, doc in register_graph(chunk):
                if phase == "all" or phase == f"{kind}s":
                    (nodes if kind == "node" else links).append(doc)
            while len(pending) >= in_flight:
                await settle_oldest()
            task = asyncio.ensure_future(store.write(WriteBatch(nodes=nodes, links=links)))
            pending.append((task, len(chunk)))
            counts["node"] += len(nodes)
            counts["link"] += len(links)
        while pending:
            await settle_oldest()
    finally:
        for task, _ in pending:
            task.cancel()
    return position


# ---------------------------------------------------------------------- Neo4j: bulk writes


@dataclass(slots=True)
class _BulkState:
    """The checkpoint of a bulk load: the pass, the rows of it written (every batch before
    them settled), the furthest row ever submitted and whether rows past it may be created
    (the store held no region and no village when the load began)."""

    phase: str = "nodes"
    rows: int = 0
    submitted: int = 0
    create: bool = False

    @classmethod
    def read(cls, path: Path, dist: Path) -> _BulkState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("source") != str(dist.resolve()):
            return None
        if data.get("mode") != "bulk":
            # The checkpoint of a load through WriteBatch: its rows are written, nothing
            # past them is proven unwritten ("all": their nodes and links both).
            phase, rows = str(data.get("phase", "")), int(data.get("rows", 0))
            return cls("nodes" if phase in ("all", "") else phase, rows, rows, create=False)
        return cls(
            str(data["phase"]), int(data["rows"]), int(data["submitted"]), bool(data["create"])
        )

    def save(self, path: Path, dist: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "source": str(dist.resolve()),
            "mode": "bulk",
            "phase": self.phase,
            "rows": self.rows,
            "submitted": self.submitted,
            "create": self.create,
        }
        # Written whole, then renamed: a crash never leaves half a checkpoint.
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(state), encoding="utf-8")
        scratch.replace(path)


async def _bulk_load(
    store: Neo4jGraphStore,
    dist: Path,
    checkpoint: Path,
    batch_rows: int,
    scope: list[str] | None,
    progress: Callable[[int], None] | None,
    workers: int,
) -> DivisionsReport:
    started = time.perf_counter()
    state = _BulkState.read(checkpoint, dist) if scope is None else None
    if state is None:
        stored = await store.count_nodes(NodeQuery(labels=["Region", "Village"]))
        state = _BulkState(create=not any(stored.values()))
    counts = {"node": 0, "link": 0}
    skipped = 0
    total_rows = 0
    phases: tuple[Phase, ...] = ("nodes", "links")
    for phase in phases[phases.index(state.phase) :]:
        if phase != state.phase:
            state.phase, state.rows, state.submitted = phase, 0, 0
        skipped += state.rows
        total_rows = await _bulk_pass(
            store, dist, scope, phase, state, batch_rows, workers, counts, checkpoint, progress
        )
    return DivisionsReport(
        rows=total_rows,
        skipped=skipped,
        nodes=counts["node"],
        links=counts["link"],
        seconds=time.perf_counter() - started,
    )


async def _bulk_pass(
    store: Neo4jGraphStore,
    dist: Path,
    scope: list[str] | None,
    phase: Phase,
    state: _BulkState,
    batch_rows: int,
    workers: int,
    counts: dict[str, int],
    checkpoint: Path,
    progress: Callable[[int], None] | None,
) -> int:
    """One pass of a bulk load, resumed at ``state.rows``."""
    rows = read_register(dist, scope)
    if state.rows:
        rows = islice(rows, state.rows, None)
        if progress is not None:
            progress(state.rows)
    position = state.rows

    def settled(size: int, nodes: int, links: int) -> None:
        state.rows += size
        counts["node"] += nodes
        counts["link"] += links
        if scope is None:
            state.save(checkpoint, dist)
        if progress is not None:
            progress(size)

    async with BulkWriter(store, workers, settled) as writer:
        while chunk := list(islice(rows, batch_rows)):
            # Past the furthest row ever submitted nothing of this load is stored.
            create = state.create and position >= state.submitted
            if position + len(chunk) > state.submitted:
                state.submitted = position + len(chunk)
                if scope is None:
                    state.save(checkpoint, dist)
            await writer.submit(chunk, len(chunk), phase, create=create)
            position += len(chunk)
    return position
