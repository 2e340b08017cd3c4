"""Records beside the graph (review items, identity judgements, merges, imports) in the store
contract, on every backend, and change sets undone as one unit."""

from __future__ import annotations

from typing import Any

import pytest

from graph_service.errors import ConflictError
from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, link_doc, node_doc
from graph_service.services.changes import (
    all_records,
    change_set_of,
    current_records,
    new_record,
    undo_change_set,
)
from graph_service.store.protocol import (
    GraphStore,
    HistoryQuery,
    RecordQuery,
    WriteBatch,
    WriteContext,
)

pytestmark = pytest.mark.anyio


def ent(id_: str, name: str | None = None, region: str = "371426") -> dict[str, Any]:
    return node_doc(
        NODE_ADAPTER.validate_python(
            {"id": id_, "label": "Enterprise", "name": name or id_, "region_code": region}
        )
    )


def co_builds(source: str, target: str) -> dict[str, Any]:
    return link_doc(
        LINK_ADAPTER.validate_python({"type": "CO_BUILDS", "source": source, "target": target})
    )


def record(n: int, key: str, status: str, region: str | None = None) -> dict[str, Any]:
    return {
        "id": f"r20261203T1000{n:02d}000000Z-{n:08x}",
        "kind": "review",
        "key": key,
        "at": f"2026-12-03T10:00:{n:02d}.000000Z",
        "status": status,
        "region": region,
        "note": f"第{n}版",
    }


async def test_records_are_versions_of_a_key_listed_apart_from_the_graph(
    store: GraphStore,
) -> None:
    await store.write(WriteBatch(nodes=[ent("ent:a")]))
    version = await store.version()
    docs = [
        record(1, "rv_1", "open", "371426001"),
        record(2, "rv_2", "open", "370302"),
        record(3, "rv_1", "accepted", "371426001"),
    ]
    result = await store.write(WriteBatch(records=docs))
    assert result.records_created == 3
    assert result.version == version == await store.version()
    assert (await store.stats()).nodes_by_label == {"Enterprise": 1}

    page = await store.list_records(RecordQuery("review"), None, 10)
    assert page.items == docs
    current = await all_records(store, RecordQuery("review", current=True))
    assert [d["id"] for d in current] == [docs[1]["id"], docs[2]["id"]]
    # ``current`` applies before the status filter: rv_1 is no longer open.
    still_open = await all_records(store, RecordQuery("review", statuses=["open"], current=True))
    assert [d["key"] for d in still_open] == ["rv_2"]
    assert [d["key"] for d in await all_records(store, RecordQuery("review", region="3714"))] == [
        "rv_1",
        "rv_1",
    ]
    newest = await store.list_records(RecordQuery("review", newest_first=True), None, 2)
    assert [d["id"] for d in newest.items] == [docs[2]["id"], docs[1]["id"]]
    rest = await store.list_records(RecordQuery("review", newest_first=True), newest.next_cursor, 2)
    assert [d["id"] for d in rest.items] == [docs[0]["id"]]
    assert await store.list_records(RecordQuery("merge"), None, 10) == type(page)([], None)
    assert set(await current_records(store, "review", ["rv_1", "rv_9"])) == {"rv_1"}


async def test_a_record_is_never_rewritten_and_a_batch_with_one_writes_nothing(
    store: GraphStore,
) -> None:
    await store.write(WriteBatch(records=[record(1, "rv_1", "open")]))
    with pytest.raises(ConflictError) as raised:
        await store.write(WriteBatch(nodes=[ent("ent:a")], records=[record(1, "rv_1", "open")]))
    assert raised.value.field == "records.0.id"
    assert await store.get_nodes(["ent:a"]) == {}


async def test_records_are_in_the_edit_history_of_their_transaction(store: GraphStore) -> None:
    made = new_record("merge", "mg_1", "done", "371426", canonical="ent:a")
    result = await store.write(
        WriteBatch(
            nodes=[ent("ent:a")],
            records=[made],
            context=WriteContext(account="王科长", operation="merge"),
        )
    )
    assert result.recorded_at is not None
    entries = await change_set_of(store, made)
    assert {(e["entity"], e["entity_id"]) for e in entries} == {
        ("node", "ent:a"),
        ("record", "merge:mg_1"),
    }
    assert {e["at"] for e in entries} == {result.recorded_at}
    page = await store.list_history(HistoryQuery(entity="record"), None, 10)
    assert page.items[0]["after"] == made


async def test_a_change_set_is_undone_as_one_unit_and_not_over_a_later_edit(
    store: GraphStore,
) -> None:
    await store.write(WriteBatch(nodes=[ent("ent:a", "甲公司"), ent("ent:b")]))
    marker = new_record("import", "im_1", "committed", "371426")
    renamed = {**ent("ent:a", "甲有限公司")}
    await store.write(
        WriteBatch(
            nodes=[renamed, ent("ent:c")],
            links=[co_builds("ent:c", "ent:b")],
            records=[marker],
            context=WriteContext(account="王科长", operation="import"),
        )
    )
    entries = await change_set_of(store, marker)
    undone = await undo_change_set(store, entries, WriteContext(operation="import.undo"))
    assert undone.nodes_deleted == 1
    assert undone.links_deleted == 1
    assert (await store.get_nodes(["ent:a"]))["ent:a"]["name"] == "甲公司"
    assert set(await store.get_nodes(["ent:a", "ent:b", "ent:c"])) == {"ent:a", "ent:b"}

    # Again, with a later edit of what the change set wrote: refused, nothing undone.
    marker = new_record("import", "im_2", "committed", "371426")
    await store.write(WriteBatch(nodes=[ent("ent:d")], records=[marker]))
    await store.write(WriteBatch(nodes=[ent("ent:d", "丁公司")]))
    entries = await change_set_of(store, marker)
    with pytest.raises(ConflictError) as raised:
        await undo_change_set(store, entries, WriteContext(operation="import.undo"))
    assert raised.value.code == "changed_since"
    assert raised.value.details["changed"] == [{"entity": "node", "id": "ent:d"}]
    assert "ent:d" in await store.get_nodes(["ent:d"])
