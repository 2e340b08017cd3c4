"""The intake commands on a writable copy of the seed graph, on each backend: ``resolve``,
``import-table`` (preview, commit, undo-import, imports; the example 台账 as xlsx and as a
GB18030 CSV), ``extract``, ``review list | show | decide``, ``dedup-scan``, ``merge``,
``undo-merge`` and ``merges``. The same flows through the HTTP API: ``tests/test_intake.py``.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import _NEO4J_STATE, SEED_DIR, open_store
from typer.testing import CliRunner

from graph_service.cli import app
from graph_service.services.loading import load_seed
from graph_service.settings import Settings, get_settings

runner = CliRunner()
EXAMPLES = SEED_DIR / "examples"
LEDGER = EXAMPLES / "平原县党建结对台账.xlsx"
LEDGER_CSV = EXAMPLES / "平原县党建结对台账.csv"
PINGYUAN = "371426"
SENLI = "ent:encheng-senli-pijiu"
DUP = "ent:senli-dup"
ARTICLE = (
    "2023年，平原县王杲铺镇组织森力啤酒饮料有限公司与林庄村党支部结对共建。"
    "镇党委选派3名干部到林庄村驻村。"
)


async def _load(settings: Settings) -> None:
    store = open_store(settings)
    await store.open()
    try:
        await load_seed(store, SEED_DIR)
    finally:
        await store.close()


@pytest.fixture
def cli_seed(empty_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI on a writable copy of the seed graph of each backend."""
    asyncio.run(_load(empty_settings))
    if empty_settings.neo4j_uri:
        _NEO4J_STATE["content"] = "dirty"
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: empty_settings)
    get_settings.cache_clear()
    return empty_settings


def invoke(*args: str, code: int = 0) -> str:
    """Run a command; its stdout and stderr together (asserting the exit code)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def flat(text: str) -> str:
    """Output with its line breaks and runs of spaces as one space (messages on stderr wrap
    at the console's width)."""
    return " ".join(text.split())


def invoke_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def graph_stats(settings: Settings) -> tuple[dict[str, int], dict[str, int]]:
    async def read() -> tuple[dict[str, int], dict[str, int]]:
        store = open_store(settings)
        await store.open()
        try:
            stats = await store.stats()
        finally:
            await store.close()
        return dict(stats.nodes_by_label), dict(stats.links_by_type)

    return asyncio.run(read())


def make_duplicate(tmp_path: Path) -> None:
    """A second 森力 node with a link of its own, as a careless import makes one."""
    rows = [
        {
            "id": DUP,
            "label": "Enterprise",
            "name": "平原县森力啤酒饮料公司",
            "region_code": "371426103",
        },
        {
            "type": "CO_BUILDS",
            "source": DUP,
            "target": "village:371426001268",
            "valid_from": "2022-01-01",
        },
    ]
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert "1 nodes and 1 links written" in invoke("import", str(path))


# ---------------------------------------------------------------------------- resolve


def test_resolve_puts_the_register_town_first(cli_seed: Settings) -> None:
    out = invoke("resolve", "王果铺镇", "--label", "Region", "--region", PINGYUAN)
    rows = [line for line in out.splitlines() if "region:" in line]
    assert rows, out
    assert "王杲铺镇" in rows[0]
    assert "region:371426105" in rows[0]
    assert "1.00" in rows[0]
    answer = invoke_json("resolve", "王果铺镇", "--label", "Region", "--region", PINGYUAN)
    first = answer["candidates"][0]
    assert first["node"]["id"] == "region:371426105"
    assert first["node"]["name"] == "王杲铺镇"
    assert first["explanation"]
    assert answer["query"]["label"] == "Region"


def test_resolve_refuses_what_it_cannot_use(cli_seed: Settings) -> None:
    assert "--label" in invoke("resolve", "林庄", "--label", "Village2", code=2)
    assert "--region" in invoke("resolve", "林庄", "--region", "3714261", code=2)
    out = flat(invoke("resolve", "  ", code=1))
    assert "name: the name is empty" in out


# ---------------------------------------------------------------------------- import-table


def test_a_dry_run_shows_the_preview_and_writes_nothing(cli_seed: Settings) -> None:
    before = graph_stats(cli_seed)
    out = invoke("import-table", str(LEDGER), "--region", PINGYUAN, "--dry-run")
    assert "rows 299: matched" in out
    assert "rejected 4" in out
    assert "header row 2" in out
    assert "links table" in out
    # The mapping, the rejected rows (row number, field, reason) and ambiguous candidates.
    assert re.search(r"村名\s*│\s*name", out), out
    row_63 = next(line for line in out.splitlines() if re.search(r"│\s*63 │", line))
    assert "valid_from" in row_63
    assert "'待定' is not a date" in row_63
    assert re.search(r"│\s*103 │ name", out)
    assert "ambiguous row " in out
    assert "dry run: nothing written" in out
    assert "committed" not in out
    assert graph_stats(cli_seed) == before

    answer = invoke_json("import-table", str(LEDGER), "--region", PINGYUAN, "--dry-run")
    assert answer["committed"] is None
    preview = answer["preview"]
    counts = preview["counts"]
    assert counts["rows"] == 299
    assert counts["matched"] + counts["new"] + counts["ambiguous"] + counts["rejected"] == 299
    rejected = {r["row"]: r for r in preview["rows"] if r["status"] == "rejected"}
    assert set(rejected) == {63, 103, 153, 243}
    assert rejected[63]["errors"][0]["field"] == "valid_from"
    assert graph_stats(cli_seed) == before
    assert "no import yet" in invoke("imports")


def test_an_import_commits_and_undo_import_takes_it_back(cli_seed: Settings) -> None:
    before = graph_stats(cli_seed)
    preview = invoke_json("import-table", str(LEDGER), "--region", PINGYUAN, "--dry-run")
    ambiguous = preview["preview"]["counts"]["ambiguous"]
    out = invoke("import-table", str(LEDGER), "--region", PINGYUAN)
    assert "rows 299: matched" in out
    found = re.search(r"committed (im_[0-9a-f]{12}): nodes (\d+) created", out)
    assert found, out
    import_id = found.group(1)
    assert f"{ambiguous} review item(s): rv_" in out
    assert f"graph-service undo-import {import_id}" in out
    after = graph_stats(cli_seed)
    assert sum(after[1].values()) - sum(before[1].values()) > 200  # links written

    listed = invoke_json("imports")
    assert listed[0]["import_id"] == import_id
    assert listed[0]["status"] == "committed"
    assert listed[0]["counts"]["rows"] == 299
    assert import_id in invoke("imports")
    queued = invoke_json("review", "list", "--origin", "import")
    assert len(queued) == ambiguous
    assert {i["type"] for i in queued} == {"import_row"}
    shown = invoke("review", "show", queued[0]["id"])
    assert "import_row · open" in shown
    assert "candidates" in shown

    out = invoke("undo-import", import_id)
    assert f"undone {import_id}:" in out
    assert graph_stats(cli_seed) == before
    assert invoke_json("imports")[0]["status"] == "undone"
    again = flat(invoke("undo-import", import_id, code=1))
    assert "was undone already" in again


def test_the_gb18030_csv_reads(cli_seed: Settings) -> None:
    out = invoke("import-table", str(LEDGER_CSV), "--region", PINGYUAN, "--dry-run")
    assert "平原县党建结对台账.csv · header row 2 · links table" in out
    assert "rows 299: matched" in out
    preview = invoke_json("import-table", str(LEDGER_CSV), "--region", PINGYUAN, "--dry-run")[
        "preview"
    ]
    assert preview["counts"]["rows"] == 299
    assert preview["mapping"]["columns"]["村名"] == "name"
    rejected = {r["row"] for r in preview["rows"] if r["status"] == "rejected"}
    assert {63, 103, 153, 243} <= rejected


def test_the_gb18030_csv_commits(cli_seed: Settings) -> None:
    # A new partner first named on a row that is not written (row 19: its village is
    # ambiguous) is written with the later rows that name it too.
    out = invoke("import-table", str(LEDGER_CSV), "--region", PINGYUAN)
    assert "committed im_" in out


def test_an_unreadable_file_exits_1_naming_the_field(cli_seed: Settings, tmp_path: Path) -> None:
    before = graph_stats(cli_seed)
    out = flat(invoke("import-table", str(tmp_path / "none.xlsx"), "--region", PINGYUAN, code=1))
    assert "file: cannot read" in out
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 10)
    out = flat(invoke("import-table", str(garbage), "--region", PINGYUAN, code=1))
    assert "file: " in out
    not_a_book = tmp_path / "broken.xlsx"
    not_a_book.write_bytes(b"PK\x03\x04 not a workbook")
    out = flat(invoke("import-table", str(not_a_book), "--region", PINGYUAN, code=1))
    assert "file: cannot read the workbook" in out
    out = flat(invoke("import-table", str(LEDGER), "--region", "3714", code=1))
    assert "region_code: an import goes into a county" in out
    out = flat(
        invoke("import-table", str(LEDGER), "--region", PINGYUAN, "--map", "无此列=name", code=1)
    )
    assert "mapping.无此列: the table has no column" in out
    assert "--map" in invoke(
        "import-table", str(LEDGER), "--region", PINGYUAN, "--map", "x", code=2
    )
    assert graph_stats(cli_seed) == before


def test_a_mapping_is_corrected_saved_and_reused(cli_seed: Settings) -> None:
    preview = invoke_json(
        "import-table",
        str(LEDGER),
        "--region",
        PINGYUAN,
        "--map",
        "联系电话=",
        "--map",
        "负责人=-",
        "--dry-run",
    )["preview"]
    assert preview["mapping"]["columns"]["联系电话"] is None
    assert preview["mapping"]["columns"]["负责人"] is None
    out = invoke(
        "import-table", str(LEDGER), "--region", PINGYUAN, "--map", "联系电话=",
        "--save-mapping", "平原结对",
    )  # fmt: skip
    assert "committed im_" in out
    reused = invoke_json(
        "import-table", str(LEDGER), "--region", PINGYUAN, "--mapping", "平原结对", "--dry-run"
    )["preview"]
    assert reused["mapping"]["columns"]["联系电话"] is None
    assert reused["mapping"]["columns"]["负责人"] == "contact_person"


def test_an_import_as_an_account_outside_its_scope_is_refused(cli_seed: Settings) -> None:
    invoke("accounts", "create", "editor-zc", "--role", "editor", "--scope", "370302")
    before = graph_stats(cli_seed)
    out = flat(
        invoke("import-table", str(LEDGER), "--region", PINGYUAN, "--account", "editor-zc", code=1)
    )
    assert "outside_scope" in out
    assert graph_stats(cli_seed) == before
    assert "no account 'nobody'" in flat(
        invoke("import-table", str(LEDGER), "--region", PINGYUAN, "--account", "nobody", code=1)
    )


# ---------------------------------------------------------------------------- extract


def test_extract_proposes_entities_and_links_to_the_queue(
    cli_seed: Settings, tmp_path: Path
) -> None:
    before = graph_stats(cli_seed)
    article = tmp_path / "结对共建.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out = invoke("extract", str(article), "--region", PINGYUAN)
    assert re.search(r"document doc_[0-9a-f]{16} \(结对共建\): \d+ entities and \d+ links", out)
    senli_line = next(line for line in out.splitlines() if "森力啤酒饮料有限公司 ent:" in line)
    assert SENLI in senli_line
    assert "rv_" in senli_line
    assert "结对共建" in senli_line  # the evidence sentence
    assert "镇党委选派3名干部到林庄村驻村" in out
    assert graph_stats(cli_seed) == before  # nothing written before a person accepts

    result = invoke_json("extract", str(article), "--region", PINGYUAN, "--title", "again")
    queued = invoke_json("review", "list", "--origin", "extraction", "--limit", "500")
    assert set(result["review_items"]) <= {i["id"] for i in queued}
    senli = next(e for e in result["entities"] if e["name"] == "森力啤酒饮料有限公司")
    out = invoke("review", "decide", senli["review_item"], "positive", "--node", SENLI)
    assert f"{senli['review_item']}: accepted" in out
    assert f"1 nodes and 0 links written; node {SENLI}" in out
    shown = invoke("review", "show", senli["review_item"])
    assert "entity · accepted" in shown
    assert f"node {SENLI}" in shown


def test_extract_refuses_a_file_that_is_not_utf8_text(cli_seed: Settings, tmp_path: Path) -> None:
    binary = tmp_path / "a.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81bad")
    assert "file: " in flat(invoke("extract", str(binary), code=1))
    assert "file: cannot read" in flat(invoke("extract", str(tmp_path / "missing.txt"), code=1))
    empty = tmp_path / "empty.txt"
    empty.write_text("   ", encoding="utf-8")
    assert "text: the text is empty" in flat(invoke("extract", str(empty), code=1))


# ---------------------------------------------------------------------------- dedup, merges


def test_a_scan_proposes_the_duplicate_and_a_positive_decision_merges_it(
    cli_seed: Settings, tmp_path: Path
) -> None:
    make_duplicate(tmp_path)
    out = invoke("dedup-scan", "--region", PINGYUAN, "--label", "Enterprise")
    assert re.search(r"\d+ nodes scanned under 371426: \d+ likely pairs", out)
    item_line = next(line for line in out.splitlines() if DUP in line)
    item_id = re.search(r"rv_[0-9a-f]{12}", item_line).group(0)  # type: ignore[union-attr]
    assert SENLI in item_line
    # Scanned again: the pair is queued already, not proposed twice.
    again = invoke_json("dedup-scan", "--region", PINGYUAN, "--label", "Enterprise")
    assert again["already_queued"] >= 1
    assert all(
        DUP not in (i["subject"]["a"]["id"], i["subject"]["b"]["id"]) for i in again["items"]
    )

    listed = invoke("review", "list", "--item-type", "duplicate")
    assert item_id in listed
    shown = invoke("review", "show", item_id)
    assert "duplicate · open" in shown
    assert DUP in shown
    assert SENLI in shown

    out = invoke("review", "decide", item_id, "positive", "--canonical", SENLI, "--note", "同一家")
    assert f"{item_id}: accepted" in out
    found = re.search(rf"merged {DUP} into {SENLI} \((mg_[0-9a-f]{{12}})\): 1 links moved", out)
    assert found, out
    merge_id = found.group(1)
    nodes, _ = graph_stats(cli_seed)
    assert "平原县森力啤酒饮料公司" in invoke("search", "平原县森力啤酒饮料公司")  # an alias now
    assert nodes["Enterprise"] == 30  # the seed's, the duplicate gone
    assert "already_decided" in flat(invoke("review", "decide", item_id, "negative", code=1))
    assert invoke_json("merges")[0]["merge_id"] == merge_id

    out = invoke("undo-merge", merge_id)
    assert f"undone {merge_id}: {DUP} is back beside {SENLI}" in out
    assert graph_stats(cli_seed)[0]["Enterprise"] == 31
    assert "duplicate · unsure" in invoke("review", "show", item_id)
    assert "undone already" in flat(invoke("undo-merge", merge_id, code=1))
    # Unsure after the undo: judged again, negative this time, and never proposed again.
    assert f"{item_id}: rejected" in invoke("review", "decide", item_id, "negative")
    rescan = invoke_json("dedup-scan", "--region", PINGYUAN, "--label", "Enterprise")
    assert rescan["proposed"] == 0
    assert rescan["already_judged"] >= 1


def test_a_merge_by_name_and_its_undo_leave_the_pair_judged(
    cli_seed: Settings, tmp_path: Path
) -> None:
    make_duplicate(tmp_path)
    out = invoke("merge", "森力啤酒饮料有限公司", DUP)
    assert f"merged {DUP} into {SENLI}" in out
    listed = invoke("merges")
    assert DUP in listed
    assert "done" in listed
    assert "no node" in flat(invoke("merge", SENLI, "ent:nothing-here", code=1))
    assert "merged: ent:encheng-senli-pijiu is a Enterprise" in flat(
        invoke("merge", SENLI, "village:371426001268", code=1)
    )
    merge_id = invoke_json("merges")[0]["merge_id"]
    invoke("undo-merge", merge_id)

    scan = invoke_json("dedup-scan", "--region", PINGYUAN, "--label", "Enterprise")
    # The merge judged the pair; undoing it left the judgement unsure: not proposed again.
    assert all(DUP not in (i["subject"]["a"]["id"], i["subject"]["b"]["id"]) for i in scan["items"])
    assert scan["already_judged"] >= 1


def test_review_options_are_checked(cli_seed: Settings) -> None:
    assert "--status" in invoke("review", "list", "--status", "done", code=2)
    assert "--item-type" in invoke("review", "list", "--item-type", "pair", code=2)
    assert "--origin" in invoke("review", "list", "--origin", "mail", code=2)
    assert "decision is one of" in invoke("review", "decide", "rv_x", "maybe", code=2)
    assert "no review rv_missing" in flat(invoke("review", "show", "rv_missing", code=1))
    assert "no review item matches" in invoke("review", "list")
    assert "no merge yet" in invoke("merges")
