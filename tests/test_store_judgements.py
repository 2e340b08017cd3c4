"""Judgement records in the store contract, on every backend: append-only, atomic with the
links they accompany, filtered and paged in id (time) order, apart from the graph."""

from __future__ import annotations

from typing import Any

import pytest

from graph_service.errors import ConflictError, NotFoundError
from graph_service.models import LINK_ADAPTER, NODE_ADAPTER, link_doc, node_doc
from graph_service.store.protocol import GraphStore, JudgementQuery, NodeQuery, WriteBatch

pytestmark = pytest.mark.anyio


def ent(id_: str) -> dict[str, Any]:
    return node_doc(NODE_ADAPTER.validate_python({"id": id_, "label": "Enterprise", "name": id_}))


def judgement(
    n: int, target: str, partner: str, decision: str, by: str = "王科长", **extra: Any
) -> dict[str, Any]:
    stamp = f"2026-11-{n // 60 + 1:02d}T10:{n % 60:02d}:00.000000Z"
    return {
        "id": f"judgement:2026110{n // 60 + 1}T10{n % 60:02d}00000000Z:{n:08x}",
        "pair": "|".join(sorted((target, partner))),
        "target": target,
        "partner": partner,
        "decision": decision,
        "decided_by": by,
        "decided_at": stamp,
        "note": f"第{n}条",
        **extra,
    }


async def ids(store: GraphStore, query: JudgementQuery, limit: int = 100) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        page = await store.list_judgements(query, cursor, limit)
        found += [j["id"] for j in page.items]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


async def test_judgements_are_appended_listed_and_kept_out_of_the_graph(store: GraphStore) -> None:
    await store.write(WriteBatch(nodes=[ent("ent:a"), ent("ent:b")]))
    version = await store.version()
    docs = [
        judgement(1, "ent:a", "ent:b", "reject"),
        judgement(2, "ent:b", "ent:c", "unsure", by="李书记"),
        judgement(3, "ent:b", "ent:a", "accept"),
    ]
    result = await store.write(WriteBatch(judgements=docs))
    assert result.judgements_created == 3
    # Records about the graph, not the graph: the version (and every cache) stays.
    assert result.version == version == await store.version()
    assert (await store.stats()).nodes_by_label == {"Enterprise": 2}
    assert await store.count_nodes(NodeQuery()) == {"Enterprise": 2}

    page = await store.list_judgements(JudgementQuery(), None, 10)
    assert page.items == docs  # stored and returned whole, oldest first
    assert await ids(store, JudgementQuery(node="ent:a")) == [docs[0]["id"], docs[2]["id"]]
    assert await ids(store, JudgementQuery(target="ent:b")) == [docs[1]["id"], docs[2]["id"]]
    assert await ids(store, JudgementQuery(partner="ent:c")) == [docs[1]["id"]]
    assert await ids(store, JudgementQuery(decided_by="李书记")) == [docs[1]["id"]]
    assert await ids(store, JudgementQuery(decisions=["reject", "unsure"])) == [
        docs[0]["id"],
        docs[1]["id"],
    ]
    assert await ids(store, JudgementQuery(ids=[docs[2]["id"], "judgement:none"])) == [
        docs[2]["id"]
    ]
    since, until = docs[1]["decided_at"], docs[2]["decided_at"]
    assert await ids(store, JudgementQuery(since=since)) == [docs[1]["id"], docs[2]["id"]]
    assert await ids(store, JudgementQuery(until=since)) == [docs[0]["id"], docs[1]["id"]]
    assert await ids(store, JudgementQuery(since=since, until=until)) == [
        docs[1]["id"],
        docs[2]["id"],
    ]


async def test_current_keeps_the_latest_judgement_of_each_pair(store: GraphStore) -> None:
    docs = [
        judgement(1, "v", "e1", "reject"),
        judgement(2, "v", "e2", "reject"),
        judgement(3, "e1", "v", "unsure"),  # same pair, either order: supersedes the reject
        judgement(4, "v", "e3", "accept"),
    ]
    await store.write(WriteBatch(judgements=docs))
    current = JudgementQuery(current=True)
    assert await ids(store, current) == [docs[1]["id"], docs[2]["id"], docs[3]["id"]]
    rejected_now = JudgementQuery(decisions=["reject"], current=True, node="v")
    assert await ids(store, rejected_now) == [docs[1]["id"]]
    # Without `current` the superseded reject is still there: the trail is never rewritten.
    assert await ids(store, JudgementQuery(decisions=["reject"])) == [
        docs[0]["id"],
        docs[1]["id"],
    ]


async def test_pages_cover_every_judgement_once(store: GraphStore) -> None:
    docs = [judgement(n, f"v{n % 7}", f"e{n % 5}", "reject") for n in range(1, 120)]
    await store.write(WriteBatch(judgements=docs))
    assert await ids(store, JudgementQuery(), limit=17) == [d["id"] for d in docs]
    latest: dict[str, str] = {}
    for d in docs:
        latest[d["pair"]] = d["id"]
    assert await ids(store, JudgementQuery(current=True), limit=4) == sorted(latest.values())


async def test_a_judgement_is_never_rewritten_and_its_batch_writes_nothing(
    store: GraphStore,
) -> None:
    await store.write(WriteBatch(nodes=[ent("ent:a"), ent("ent:b")]))
    first = judgement(1, "ent:a", "ent:b", "reject")
    await store.write(WriteBatch(judgements=[first]))
    pairing = link_doc(
        LINK_ADAPTER.validate_python({"type": "PAIRS_WITH", "source": "ent:a", "target": "ent:b"})
    )
    again = {**first, "decision": "accept"}
    with pytest.raises(ConflictError) as err:
        await store.write(WriteBatch(links=[pairing], judgements=[again]))
    assert err.value.field == "judgements.0.id"
    assert await store.get_links([pairing["id"]]) == {}
    assert (await store.list_judgements(JudgementQuery(), None, 10)).items == [first]


async def test_an_accepted_link_and_its_judgement_land_together(store: GraphStore) -> None:
    await store.write(WriteBatch(nodes=[ent("ent:a"), ent("ent:b")]))
    before = await store.version()
    pairing = link_doc(
        LINK_ADAPTER.validate_python(
            {
                "type": "PAIRS_WITH",
                "source": "ent:a",
                "target": "ent:b",
                "sources": [{"kind": "planner_decision", "document": "judgement:x", "by": "王"}],
            }
        )
    )
    doc = judgement(1, "ent:b", "ent:a", "accept", link_id=pairing["id"])
    result = await store.write(WriteBatch(links=[pairing], judgements=[doc]))
    assert (result.links_created, result.judgements_created) == (1, 1)
    assert result.version != before
    assert set(await store.get_links([pairing["id"]])) == {pairing["id"]}
    # A failing link takes its judgement with it.
    ghost = link_doc(
        LINK_ADAPTER.validate_python(
            {"type": "PAIRS_WITH", "source": "ent:a", "target": "ent:ghost"}
        )
    )
    with pytest.raises(NotFoundError):
        await store.write(
            WriteBatch(links=[ghost], judgements=[judgement(2, "ent:ghost", "ent:a", "accept")])
        )
    assert await ids(store, JudgementQuery()) == [doc["id"]]
