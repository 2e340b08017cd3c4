"""Entity and link extraction (``graph_service.extraction``) against the curated seed graph.

    .venv/bin/python bench/extraction_eval.py [--seed-dir seed] [--json]

For each of the five seed articles the gold standard is what the curators took from it:
the nodes of ``seed/curated/<article>.json`` and its links. Scope, so that the scores
measure what an extractor can find in the text:

- a gold entity is in scope when one of its names or aliases is written in the article
  (folded, quotes and whitespace ignored), or when it is the party branch of an entity in
  scope and its quote names that entity with 党组织/党支部 (台头村党支部 from "韩庄、…、台头
  等8个村党组织"); other curated entities the article only implies are counted apart as
  ``implied``;
- a gold link is in scope when both its ends are, and its type is not one of the
  administrative-frame types ``IN_REGION`` and ``SUBORDINATE_TO`` (derived from the
  register and the hierarchy, not stated by the text);
- register regions and villages the article does not mention are not gold.

Matching: an extracted entity matches a gold one of the same label when their names agree
after folding, without quotes, with one suffix of a family of ``vocabulary`` removed (台头村
≡ 台头; 芳草园合作社 ≡ 芳草园专业合作社) and without a leading region name (龙门街道仓康实
党建联合体 ≡ 仓康实党建联合体), or when the extraction resolved the gold node's id. A link
matches when its type and both ends match (either direction for symmetric types).
Matching is one to one: a gold item counts once, and a second proposal of the same gold
entity (or link) is a false positive. Precision counts every proposal; recall the in-scope
gold items found.

Leave-one-document-out: the gazetteer for an article is the register extract
(``seed/register``: provinces, cities, counties, towns, villages, as Region / Village with
their code) plus the curated entities of the other four articles, never those curated from
the article itself. The ``register only`` rows use the register extract alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph_service.extraction import Gazetteer, GazetteerEntry, extract  # noqa: E402
from graph_service.register import read_register, register_graph  # noqa: E402
from graph_service.schema import LINK_TYPES  # noqa: E402
from graph_service.search_text import fold  # noqa: E402
from graph_service.services.seed import read_scope  # noqa: E402
from graph_service.vocabulary import ORGANISATION_SUFFIXES, REGION_SUFFIXES  # noqa: E402

__all__ = ["Score", "evaluate", "main"]

#: Link types that describe the administrative frame, not a relation the article states.
OUT_OF_SCOPE_LINKS = frozenset({"IN_REGION", "SUBORDINATE_TO"})
_QUOTES = "“”\"‘’'「」『』"
_SUFFIXES = sorted(
    {s for family in ORGANISATION_SUFFIXES.values() for s in family} | {"党组织"},
    key=len,
    reverse=True,
)


@dataclass(slots=True)
class Score:
    """Counts for precision and recall."""

    proposed: int = 0
    correct: int = 0
    gold: int = 0
    found: int = 0

    def add(self, other: Score) -> None:
        self.proposed += other.proposed
        self.correct += other.correct
        self.gold += other.gold
        self.found += other.found

    def as_dict(self) -> dict[str, Any]:
        p = self.correct / self.proposed if self.proposed else 0.0
        r = self.found / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "proposed": self.proposed,
            "correct": self.correct,
            "gold": self.gold,
            "found": self.found,
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f, 3),
        }


def _register_nodes(seed_dir: Path) -> list[dict[str, Any]]:
    register = seed_dir / "register"
    rows = read_register(register, read_scope(register / "counties.txt"))
    return [doc for kind, doc in register_graph(rows) if kind == "node"]


def _curated(seed_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((seed_dir / "curated").glob("*.json"))
    ]


def _entry(node: dict[str, Any]) -> GazetteerEntry:
    return GazetteerEntry(
        name=node.get("name") or "",
        label=node["label"],
        node_id=node["id"],
        kind=node.get("kind"),
        region_code=node.get("region_code"),
        aliases=tuple(node.get("aliases") or ()),
    )


def _clean(name: str) -> str:
    return "".join(ch for ch in fold(name) if ch not in _QUOTES and not ch.isspace())


class _Keys:
    """The comparison forms of names (see the module docstring)."""

    def __init__(self, region_names: Iterable[str]) -> None:
        self.regions = sorted(
            {_clean(r) for r in region_names if len(r) >= 2}, key=len, reverse=True
        )

    def __call__(self, name: str, label: str) -> set[str]:
        base = _clean(name)
        forms = {base}
        stripped = base
        changed = True
        while changed:
            changed = False
            for region in self.regions:
                if stripped.startswith(region) and len(stripped) - len(region) >= 3:
                    stripped = stripped[len(region) :]
                    forms.add(stripped)
                    changed = True
                    break
        suffixes = REGION_SUFFIXES if label == "Region" else _SUFFIXES
        for form in list(forms):
            for suffix in suffixes:
                if form.endswith(suffix) and len(form) >= len(suffix) + 2:
                    forms.add(form[: -len(suffix)])
                    break
        return {f for f in forms if len(f) >= 2}


def _names(node: dict[str, Any], register: dict[str, dict[str, Any]]) -> list[str]:
    names = [node.get("name") or register.get(node["id"], {}).get("name") or ""]
    names.extend(node.get("aliases") or ())
    names.extend(register.get(node["id"], {}).get("aliases") or ())
    return [n for n in names if n]


def _match_entities(
    entities: Iterable[Any], gold: dict[str, tuple[str, set[str]]], keys: _Keys
) -> tuple[dict[str, str], set[str]]:
    """Match proposals to gold entities one to one.

    A proposal that resolved a gold node's id matches it first; the others match by name
    key, preferring a gold entity not matched yet. Each gold entity counts once: a second
    proposal of it is a false positive (its key still maps to the gold id, so that a link
    through it can be compared; links are matched one to one as well).

    Returns the map proposal key → gold id and the set of gold ids matched.
    """
    mapping: dict[str, str] = {}
    found: set[str] = set()
    rest: list[Any] = []
    for entity in entities:
        if entity.node_id in gold and entity.node_id not in found:
            mapping[entity.key] = entity.node_id
            found.add(entity.node_id)
        else:
            rest.append(entity)
    for entity in rest:
        if entity.node_id in gold:
            mapping[entity.key] = entity.node_id
            continue
        ekeys = keys(entity.name, entity.label)
        hits = [
            gid for gid, (label, gkeys) in gold.items() if label == entity.label and ekeys & gkeys
        ]
        if not hits:
            continue
        fresh = [gid for gid in hits if gid not in found]
        match = (fresh or hits)[0]
        mapping[entity.key] = match
        found.add(match)
    return mapping, found


def evaluate(seed_dir: Path, register_only: bool = False) -> dict[str, Any]:
    """Score the extraction of each seed article.

    Parameters
    ----------
    seed_dir : Path
        The ``seed`` folder (``documents``, ``curated``, ``register``).
    register_only : bool
        Use the register extract alone as the gazetteer (else leave-one-document-out).

    Returns
    -------
    dict
        ``articles`` (per article: entity and link scores, implied counts) and ``micro``.
    """
    register_nodes = _register_nodes(seed_dir)
    register = {n["id"]: n for n in register_nodes}
    curated = _curated(seed_dir)
    keys = _Keys(n["name"] for n in register_nodes if n["label"] == "Region")
    result: dict[str, Any] = {"articles": [], "micro": {}}
    micro_e, micro_l = Score(), Score()
    for doc in curated:
        doc_id = doc["document"]["id"]
        own = {n["id"] for n in doc["nodes"]}
        entries = [_entry(n) for n in register_nodes]
        if not register_only:
            seen: set[str] = set()
            for other in curated:
                if other is doc:
                    continue
                for node in other["nodes"]:
                    if node["id"] in own or node["id"] in register or node["id"] in seen:
                        continue
                    seen.add(node["id"])
                    entries.append(_entry(node))
        gazetteer = Gazetteer(entries)
        text = (seed_dir / "documents" / doc_id).read_text(encoding="utf-8")
        flat = _clean(text)
        extraction = extract(text, gazetteer)

        gold: dict[str, tuple[str, set[str]]] = {}
        implied = 0
        for node in doc["nodes"]:
            names = _names(node, register)
            label = node.get("label") or register[node["id"]]["label"]
            if not any(_clean(n) in flat for n in names):
                implied += 1
                continue
            gold[node["id"]] = (label, set().union(*(keys(n, label) for n in names)))
        # A branch the article names only through a list (韩庄、台头等8个村党组织) is in
        # scope when its owner is and its quote names the owner with a party word.
        owners = {
            link["source"]: link["target"]
            for link in doc["links"]
            if link["type"] == "ORGANIZATION_OF"
        }
        for node in doc["nodes"]:
            owner = owners.get(node["id"])
            if node["id"] in gold or owner not in gold or node.get("label") != "PartyOrganization":
                continue
            stems = {k for k in gold[owner][1] if len(k) >= 2}
            quotes = [_clean(s.get("quote", "")) for s in node.get("sources", [])]
            if any(
                any(st in q for st in stems) and ("党组织" in q or "党支部" in q) for q in quotes
            ):
                names = _names(node, register)
                gold[node["id"]] = (
                    "PartyOrganization",
                    set().union(*(keys(n, "PartyOrganization") for n in names)),
                )
                implied -= 1
        e_score = Score(gold=len(gold), proposed=len(extraction.entities))
        mapping, found = _match_entities(extraction.entities, gold, keys)
        e_score.correct = e_score.found = len(found)

        gold_links: set[tuple[str, str, str]] = set()
        out_links = 0
        for link in doc["links"]:
            if (
                link["type"] in OUT_OF_SCOPE_LINKS
                or link["source"] not in gold
                or link["target"] not in gold
            ):
                out_links += 1
                continue
            gold_links.add((link["type"], link["source"], link["target"]))
        l_score = Score(gold=len(gold_links), proposed=len(extraction.links))
        hit: set[tuple[str, str, str]] = set()
        for link in extraction.links:
            src, tgt = mapping.get(link.source), mapping.get(link.target)
            if src is None or tgt is None:
                continue
            candidates = [(link.type, src, tgt)]
            if LINK_TYPES[link.type].symmetric:
                candidates.append((link.type, tgt, src))
            # One-to-one: a gold link already found makes another proposal of it wrong.
            for cand in candidates:
                if cand in gold_links and cand not in hit:
                    hit.add(cand)
                    break
        l_score.correct = l_score.found = len(hit)
        micro_e.add(e_score)
        micro_l.add(l_score)
        result["articles"].append(
            {
                "document": doc_id,
                "entities": e_score.as_dict(),
                "links": l_score.as_dict(),
                "implied_entities": implied,
                "out_of_scope_links": out_links,
                "sentences": extraction.sentences,
            }
        )
    result["micro"] = {"entities": micro_e.as_dict(), "links": micro_l.as_dict()}
    return result


def _row(name: str, e: dict[str, Any], l_: dict[str, Any]) -> str:
    return (
        f"| {name} | {e['gold']} | {e['proposed']} | {e['precision']:.2f} | {e['recall']:.2f} "
        f"| {e['f1']:.2f} | {l_['gold']} | {l_['proposed']} | {l_['precision']:.2f} "
        f"| {l_['recall']:.2f} | {l_['f1']:.2f} |"
    )


def markdown(loo: dict[str, Any], reg: dict[str, Any]) -> str:
    """The Markdown table of both evaluations."""
    lines = [
        "| article | gold ent. | proposed | P | R | F1 | gold links | proposed | P | R | F1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for article in loo["articles"]:
        lines.append(_row(article["document"][:3], article["entities"], article["links"]))
    lines.append(_row("**micro (leave-one-out)**", loo["micro"]["entities"], loo["micro"]["links"]))
    lines.append(_row("**micro (register only)**", reg["micro"]["entities"], reg["micro"]["links"]))
    implied = sum(a["implied_entities"] for a in loo["articles"])
    dropped = sum(a["out_of_scope_links"] for a in loo["articles"])
    lines.append("")
    lines.append(
        f"Out of scope: {implied} curated entities not written in their article; "
        f"{dropped} curated links of type IN_REGION/SUBORDINATE_TO or with an end out of scope."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run both evaluations and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-dir", type=Path, default=ROOT / "seed")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = parser.parse_args(argv)
    loo = evaluate(args.seed_dir)
    reg = evaluate(args.seed_dir, register_only=True)
    if args.json:
        print(
            json.dumps({"leave_one_out": loo, "register_only": reg}, ensure_ascii=False, indent=2)
        )
    else:
        print(markdown(loo, reg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
