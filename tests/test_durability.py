"""Acknowledged writes, and their history, survive ``kill -9`` of the writing process
(embedded store)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

from graph_service.store.embedded import EmbeddedGraphStore
from graph_service.store.protocol import HistoryQuery

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from graph_service.store.embedded import EmbeddedGraphStore
    from graph_service.store.protocol import WriteBatch, WriteContext

    async def main(path):
        store = EmbeddedGraphStore(path)
        await store.open()
        i = 0
        while True:
            nodes = [
                {"id": f"ent:{i}-{j}", "label": "Enterprise", "kind": None, "name": f"企业{i}-{j}",
                 "aliases": [], "attributes": {}, "figures": [], "sources": []}
                for j in range(20)
            ]
            links = [
                {"id": f"s:{i}-{j}", "type": "SUPPLIES", "source": f"ent:{i}-{j}",
                 "target": f"ent:{i}-{j + 1}", "attributes": {}, "sources": []}
                for j in range(19)
            ]
            context = WriteContext(account="平原县委组织部", operation="batch", request_id=f"r{i}")
            await store.write(WriteBatch(nodes=nodes, links=links, context=context))
            print(i, flush=True)  # acknowledged
            i += 1

    asyncio.run(main(sys.argv[1]))
    """
)


def test_acknowledged_batches_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    acknowledged = []
    assert proc.stdout is not None
    for line in proc.stdout:
        acknowledged.append(int(line))
        if len(acknowledged) >= 40:
            break
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the writer is inside its next batch
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    async def reopen() -> None:
        store = EmbeddedGraphStore(path)
        await store.open()
        try:
            last = acknowledged[-1]
            found = await store.get_nodes([f"ent:{i}-{j}" for i in acknowledged for j in range(20)])
            assert len(found) == 20 * len(acknowledged)
            links = await store.get_links([f"s:{last}-{j}" for j in range(19)])
            assert len(links) == 19
            # Batches are atomic: any batch present beyond the acknowledged ones is whole.
            stats = await store.stats()
            assert stats.nodes_by_label["Enterprise"] % 20 == 0
            assert stats.links_by_type["SUPPLIES"] % 19 == 0
            assert stats.nodes_by_label["Enterprise"] // 20 == stats.links_by_type["SUPPLIES"] // 19
            # Each acknowledged batch's history is there, whole: 20 nodes and 19 links.
            entries = []
            cursor = None
            while True:
                page = await store.list_history(
                    HistoryQuery(account="平原县委组织部"), cursor, 1000
                )
                entries += page.items
                if (cursor := page.next_cursor) is None:
                    break
            by_request = Counter(e["request_id"] for e in entries)
            assert all(by_request[f"r{i}"] == 39 for i in acknowledged)
            assert set(by_request.values()) == {39}
            assert len(by_request) == stats.nodes_by_label["Enterprise"] // 20
        finally:
            await store.close()

    asyncio.run(reopen())
    import sqlite3

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_second_process_sees_writes_of_the_first(tmp_path: Path) -> None:
    """The in-memory graph catches up with writes another process committed."""
    path = tmp_path / "graph.sqlite3"

    async def scenario() -> None:
        reader = EmbeddedGraphStore(path)
        await reader.open()
        try:
            assert (await reader.stats()).nodes_by_label == {}
            code = WRITER.replace("while True:", "for _ in range(3):")
            subprocess.run(
                [sys.executable, "-c", code, str(path)],
                check=True,
                capture_output=True,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
            )
            assert (await reader.stats()).nodes_by_label == {"Enterprise": 60}
            hits = await reader.search("企业2-1")
            assert hits[0].node["id"] == "ent:2-1"
        finally:
            await reader.close()

    asyncio.run(scenario())
