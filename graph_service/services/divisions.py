"""Load the national division register (31 provinces … 620k villages) into a store.

Rows are written top-down (provinces first, villages last) in atomic batches, each node
before the containment link to its parent. Writes are upserts by id, so a second run changes
nothing; a checkpoint file records the rows already written so an interrupted load resumes
where it stopped instead of starting over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from graph_service.models import LinkDoc, NodeDoc
from graph_service.register import read_register, register_graph
from graph_service.store.protocol import GraphStore, WriteBatch

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


def _checkpoint_rows(path: Path, dist: Path) -> int:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    return int(data.get("rows", 0)) if data.get("source") == str(dist.resolve()) else 0


async def load_divisions(
    store: GraphStore,
    dist: Path,
    checkpoint: Path,
    batch_rows: int = 20_000,
    scope: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DivisionsReport:
    """Load the register in ``dist`` (the package's ``dist`` folder) into ``store``.

    ``checkpoint`` is a small JSON file; delete it to force a full pass. ``scope`` limits
    the load to some division codes (their ancestors and descendants).
    """
    started = time.perf_counter()
    done = _checkpoint_rows(checkpoint, dist) if scope is None else 0
    rows = read_register(dist, scope)
    if done:
        rows = islice(rows, done, None)
        if progress is not None:
            progress(done)
    nodes_written = links_written = 0
    position = done
    while True:
        chunk = list(islice(rows, batch_rows))
        if not chunk:
            break
        nodes: list[NodeDoc] = []
        links: list[LinkDoc] = []
        for kind, doc in register_graph(chunk):
            (nodes if kind == "node" else links).append(doc)
        await store.write(WriteBatch(nodes=nodes, links=links))
        nodes_written += len(nodes)
        links_written += len(links)
        position += len(chunk)
        if scope is None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            checkpoint.write_text(
                json.dumps({"source": str(dist.resolve()), "rows": position}), encoding="utf-8"
            )
        if progress is not None:
            progress(len(chunk))
    return DivisionsReport(
        rows=position,
        skipped=done,
        nodes=nodes_written,
        links=links_written,
        seconds=time.perf_counter() - started,
    )
