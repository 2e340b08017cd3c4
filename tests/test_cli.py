"""The command line: load-seed, import (JSONL and CSV), export, stats, hash-key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph_service.cli import app
from graph_service.settings import Settings, get_settings, hash_api_key

runner = CliRunner()


@pytest.fixture
def cli_env(empty_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI's settings at the test store of each backend."""
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: empty_settings)
    get_settings.cache_clear()
    return empty_settings


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


NODES = [
    {"id": "ent:a", "label": "Enterprise", "kind": "公司", "name": "甲公司"},
    {
        "id": "ent:b",
        "label": "Enterprise",
        "kind": "合作社",
        "name": "乙合作社",
        "aliases": ["乙社"],
    },
]
LINK = {
    "type": "SUPPLIES",
    "source": "ent:b",
    "target": "ent:a",
    "attributes": {"order_farming": True},
}


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def test_import_jsonl_then_export_round_trips(cli_env: Settings, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [*NODES, LINK])
    code, out = invoke("import", str(source))
    assert code == 0, out
    assert "2 nodes and 1 links written" in out
    # Idempotent: the same file again changes nothing.
    code, out = invoke("import", str(source))
    assert code == 0, out
    exported = tmp_path / "out.jsonl"
    code, out = invoke("export", "--out", str(exported))
    assert code == 0, out
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows if "label" in r] == ["ent:a", "ent:b"]
    (link,) = [r for r in rows if "type" in r]
    assert link["attributes"] == {"order_farming": True}
    assert link["sources"][0]["kind"] == "import"
    # The export imports back as is.
    code, out = invoke("import", str(exported))
    assert code == 0, out


def test_import_reports_bad_rows_with_line_numbers_and_writes_nothing(
    cli_env: Settings, tmp_path: Path
) -> None:
    rows: list[object] = [
        NODES[0],
        {"id": "v:1", "label": "Village", "name": "无码村"},  # line 2: no region_code
        {"id": "ent:c", "label": "Enterprise", "name": "丙", "attributes": {"employees": -3}},
        LINK,
    ]
    source = write_jsonl(tmp_path / "bad.jsonl", rows)
    with source.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    code, out = invoke("import", str(source))
    assert code == 1
    assert "line 2: region_code" in out
    assert "line 3: attributes.employees" in out
    assert "line 5" in out
    code, out = invoke("stats")
    assert "Enterprise" not in out  # the failing batch wrote nothing


def test_import_unknown_link_end_points_at_its_line(cli_env: Settings, tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [NODES[0], {"type": "SUPPLIES", "source": "ent:a", "target": "ghost"}],
    )
    code, out = invoke("import", str(source))
    assert code == 1
    assert "line 2: target: no node ghost" in out


def test_import_batches_commit_independently(cli_env: Settings, tmp_path: Path) -> None:
    rows = [{"id": f"ent:{i}", "label": "Enterprise", "name": f"企业{i}"} for i in range(5)]
    rows.insert(3, {"id": "bad id!", "label": "Enterprise", "name": "x"})
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    code, out = invoke("import", str(source), "--batch-size", "2", "--keep-going")
    assert code == 1
    assert "line 4: id" in out
    assert "4 nodes" in out
    assert "1 batch(es) failed" in out


def test_import_csv_nodes_and_links(cli_env: Settings, tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(
        "id,label,kind,name,aliases,region_code,attr.collective_income_yuan,attr.needs,"
        "source_document,source_quote\n"
        "village:370302112206,Village,行政村,台头村,台头|台头村委会,370302112206,228000,"
        "冷库|销路,000.txt,台头村党支部领办芳草园专业合作社\n"
        "ent:f,Enterprise,合作社,芳草园专业合作社,,,,,,\n",
        encoding="utf-8",
    )
    links = tmp_path / "links.csv"
    links.write_text(
        "type,source,target,valid_from,attr.meetings_per_year\n"
        "LEADS_COOPERATIVE,village:370302112206,ent:f,2020-05-01,12\n",
        encoding="utf-8",
    )
    assert invoke("import", str(nodes))[0] == 0
    code, out = invoke("import", str(links))
    assert code == 0, out
    exported = tmp_path / "out.jsonl"
    invoke("export", "-o", str(exported))
    rows = {r["id"]: r for r in map(json.loads, exported.read_text(encoding="utf-8").splitlines())}
    village = rows["village:370302112206"]
    assert village["aliases"] == ["台头", "台头村委会"]
    assert village["attributes"] == {"collective_income_yuan": 228000.0, "needs": ["冷库", "销路"]}
    assert village["sources"][0] == {
        "kind": "import",
        "document": "000.txt",
        "quote": "台头村党支部领办芳草园专业合作社",
    }
    (link,) = [r for r in rows.values() if r.get("type") == "LEADS_COOPERATIVE"]
    assert link["attributes"] == {"meetings_per_year": 12.0}
    assert link["valid_from"] == "2020-05-01"


def test_load_seed_and_stats(cli_env: Settings) -> None:
    code, out = invoke("load-seed")
    assert code == 0, out
    assert "seed graph loaded" in out
    code, out = invoke("stats")
    assert code == 0
    assert "Village" in out
    assert "MEMBER_OF" in out


def test_bad_format_option(cli_env: Settings, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", NODES)
    code, _ = invoke("import", str(source), "--format", "xml")
    assert code == 2


def test_hash_key_refuses_keys_headers_cannot_carry() -> None:
    assert invoke("hash-key", "密钥密钥密钥密钥")[0] == 2
    assert invoke("hash-key", "short")[0] == 2


def test_hash_key_matches_settings() -> None:
    code, out = invoke("hash-key", "s3cret-key")
    assert code == 0
    assert out.strip() == hash_api_key("s3cret-key")
    assert Settings(api_key_hashes=[out.strip()]).key_is_valid("s3cret-key")
    assert not Settings(api_key_hashes=[out.strip()]).key_is_valid("other")


def test_generate_populates_a_county_and_keeps_curated_facts(cli_env: Settings) -> None:
    assert invoke("load-seed")[0] == 0
    code, out = invoke("generate", "--regions", "370302", "--seed", "3")
    assert code == 0, out
    assert "generated for" in out

    async def check() -> None:
        from graph_service.store.factory import create_store
        from graph_service.store.protocol import NodeQuery

        store = create_store(cli_env)
        await store.open()
        try:
            taitou = (await store.get_nodes(["village:370302112206"]))["village:370302112206"]
            kinds = [s["kind"] for s in taitou["sources"]]
            assert kinds[0] == "register"
            assert "article" in kinds
            assert kinds[-1] == "generated"
            assert "collective_income_yuan" in taitou["attributes"]
            orgs = await store.list_nodes(
                NodeQuery(labels=["PartyOrganization"], region_code="370302"), None, 1000
            )
            generated = [n for n in orgs.items if n["id"].startswith("gen:")]
            assert generated
            assert all(n["sources"][0]["kind"] == "generated" for n in generated)
            report = await store.coverage("370302")
            assert report.total.covered > 9  # the curated alliance alone covers 8 villages
        finally:
            await store.close()

    import asyncio

    asyncio.run(check())


def test_generate_rejects_bad_codes_and_unknown_regions(cli_env: Settings) -> None:
    assert invoke("generate", "--regions", "37a", "--seed", "1")[0] == 2
    code, out = invoke("generate", "--regions", "999999", "--seed", "1")
    assert code == 1
    assert "no region with code 999999" in out


def test_generate_takes_region_as_every_command_does(cli_env: Settings) -> None:
    code, out = invoke("generate", "--region", "37a", "--seed", "1")
    assert code == 2
    assert "--region '37a' is not a division code" in out
    code, out = invoke("generate", "--region", "999999", "--seed", "1")
    assert code == 1
    assert "no region with code 999999" in out


def test_analyse_commands_print_json(cli_env: Settings) -> None:
    assert invoke("load-seed")[0] == 0
    code, out = invoke(
        "analyse",
        "centrality",
        "--scope",
        "body:org:longquan-hongse-xigu",
        "--measure",
        "degree",
        "--top",
        "2",
    )
    assert code == 0, out
    report = json.loads(out[out.index("{") :])
    assert report["measures"]["degree"]["rows"]["items"][0]["node"] == "org:longquan-hongse-xigu"
    code, out = invoke("analyse", "coverage", "--region", "371426")
    assert code == 0, out
    assert json.loads(out[out.index("{") :])["total"]["villages"] == 436
    # The option a cut list names in ``more`` is the command's own.
    code, out = invoke("analyse", "coverage", "--region", "371426", "--limit", "5")
    assert code == 0, out
    weak = json.loads(out[out.index("{") :])["weak_villages"]
    assert (weak["total"], len(weak["items"]), weak["truncated"]) == (427, 5, True)
    assert weak["more"]["parameter"] == "limit"
    code, out = invoke("analyse", "rules", "--scope", "bogus")
    assert code == 2


def test_public_export_leaves_people_and_personal_fields_out(
    cli_env: Settings, tmp_path: Path
) -> None:
    rows = [
        {
            "id": "org:x",
            "label": "PartyOrganization",
            "kind": "党支部",
            "name": "某村党支部",
            "attributes": {"contact_person": "赵大", "contact_phone": "13900000000"},
            "sources": [{"kind": "article", "quote": "书记赵大带领群众"}],
        },
        {"id": "person:zhao-da", "label": "Person", "kind": "书记", "name": "赵大"},
        {"type": "HOLDS_POSITION", "source": "person:zhao-da", "target": "org:x"},
    ]
    code, out = invoke("import", str(write_jsonl(tmp_path / "in.jsonl", rows)))
    assert code == 0, out
    full, public = tmp_path / "full.jsonl", tmp_path / "public.jsonl"
    assert invoke("export", "-o", str(full))[0] == 0
    assert invoke("export", "--public", "-o", str(public))[0] == 0
    assert "赵大" in full.read_text(encoding="utf-8")
    text = public.read_text(encoding="utf-8")
    assert "赵大" not in text
    assert "13900000000" not in text
    assert "person:zhao-da" not in text
    (org,) = [json.loads(line) for line in text.splitlines()]
    assert org["sources"][0]["quote"] == "书记某某带领群众"
