"""Static checks of cypher/: parameters only, registry names only, migrations cover the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graph_service.schema import LINK_TYPES, NODE_LABELS
from graph_service.store import cypher

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "cypher").rglob("*.cypher"))


def test_every_statement_file_is_used_by_the_neo4j_store() -> None:
    source = (ROOT / "graph_service" / "store" / "neo4j.py").read_text(encoding="utf-8")
    names = {p.stem for p in (ROOT / "cypher").glob("*.cypher")}
    dynamic = {"neighbours_both", "neighbours_in", "neighbours_out"}  # f"neighbours_{direction}"
    unused = {n for n in names - dynamic if f'"{n}"' not in source}
    assert unused == set()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_only_registry_placeholders_and_parameters(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\{\{(\w+)\}\}", text))
    assert placeholders <= {"label", "type", "union"}
    # No Python formatting slots: values are $parameters.
    stripped = re.sub(r"\{\{\w+\}\}", "", text)
    assert not re.search(
        r"(?<!\{)\{[a-z_]+\}(?!\})", stripped.replace("{id:", "").replace("{key:", "")
    )
    assert "%s" not in text


def test_rendering_refuses_names_outside_the_registry() -> None:
    with pytest.raises(ValueError, match="registry"):
        cypher.for_label("nodes_upsert", "Village) DETACH DELETE (n")
    with pytest.raises(ValueError, match="registry"):
        cypher.for_type("links_upsert", "MEMBER_OF]->() DELETE r //")
    with pytest.raises(ValueError, match="bad statement name"):
        cypher.statement("../etc/passwd")


def test_migrations_cover_every_label_and_type() -> None:
    statements = [s for _, _, group in cypher.migrations() for s in group]
    for label in NODE_LABELS:
        assert any(f"(n:{label}) REQUIRE n.id IS UNIQUE" in s for s in statements), label
    for type_ in LINK_TYPES:
        assert any(f"[r:{type_}]-() REQUIRE r.id IS UNIQUE" in s for s in statements), type_
    assert any("fulltext.analyzer`: 'cjk'" in s for s in statements)
    versions = [v for v, _, _ in cypher.migrations()]
    assert versions == sorted(versions) == list(range(1, len(versions) + 1))
