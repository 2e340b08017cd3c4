"""Offline evaluation of the partner recommender over whole graphs, pooled into tables.

:func:`graph_service.analysis.evaluation.evaluate` scores one graph under one seed. This
module supplies the graphs and does the bookkeeping around it:

- **generated** counties: the register extract of one county (``seed/register``) populated by
  the generator (:func:`graph_service.services.synthetic.network.generate_network`) under a seed;
  each (county, seed) is its own graph, evaluated with that same seed;
- the **seed** graph (curated files, register extract, documents), one graph evaluated
  under many seeds (the seed only changes which ties are hidden);
- a **store** region: a planner's own data, exported with its structural links.

:func:`run_evaluation` evaluates graph cases (:class:`EvaluationCase`) for the requested
splits, pools the reports (micro-average over queries, :func:`~graph_service.analysis.
evaluation.pool`) overall, per link type and per county profile, and returns plain JSON-ready
data; :func:`render_markdown` renders it as the tables of ``docs/recommendations.md``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import networkx as nx

from graph_service.analysis.evaluation import (
    EVALUATED_LINK_TYPES,
    METHODS,
    EvaluationReport,
    EvaluationRow,
    evaluate,
    pool,
)
from graph_service.register import read_register, register_graph
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.loading import seed_graph
from graph_service.services.synthetic.network import county_profile, generate_network
from graph_service.services.view import GraphView

__all__ = [
    "DEFAULT_SEEDS",
    "GRAPH_SOURCES",
    "SPLITS",
    "EvaluationCase",
    "generated_cases",
    "generated_county_graph",
    "graph_from_items",
    "parse_cutoffs",
    "parse_seeds",
    "region_graph",
    "register_counties",
    "render_markdown",
    "run_evaluation",
    "seed_cases",
    "seed_network",
    "store_cases",
]

GraphSource = Literal["generated", "seed", "store"]
Split = Literal["random", "time"]

#: Where the evaluated graphs come from.
GRAPH_SOURCES: Final[tuple[str, ...]] = ("generated", "seed", "store")
#: The splits of :func:`graph_service.analysis.evaluation.evaluate`, in reporting order.
SPLITS: Final[tuple[str, ...]] = ("random", "time")
#: Seeds evaluated by default, per graph source (those of ``docs/recommendations.md``).
DEFAULT_SEEDS: Final[Mapping[str, tuple[int, ...]]] = {
    "generated": tuple(range(3, 8)),
    "seed": tuple(range(20)),
    "store": tuple(range(5)),
}


# ---------------------------------------------------------------------------------------
# Graphs
# ---------------------------------------------------------------------------------------


def graph_from_items(items: Iterable[tuple[str, Mapping[str, Any]]]) -> nx.MultiDiGraph:
    """A MultiDiGraph of ``("node", doc)`` / ``("link", doc)`` items, as a store exports it.

    Nodes carry their documents as attributes; links are keyed by their id. Every node is
    added before any link, so links may come before the nodes they join.
    """
    materialised = list(items)
    graph = nx.MultiDiGraph()
    for kind, doc in materialised:
        if kind == "node":
            graph.add_node(doc["id"], **doc)
    for kind, doc in materialised:
        if kind == "link":
            graph.add_edge(doc["source"], doc["target"], key=doc["id"], **doc)
    return graph


def register_counties(register_dir: Path) -> list[str]:
    """The counties of a register extract: 6-digit prefixes of its 12-digit village codes."""
    return sorted({r.code[:6] for r in read_register(register_dir, None) if len(r.code) == 12})


def generated_county_graph(register_dir: Path, county: str, seed: int) -> nx.MultiDiGraph:
    """One county of the register extract populated by the generator under ``seed``.

    The graph holds the county's regions (with its province and city) and villages from the
    extract in ``register_dir`` and the generated network; it is what a store holds after
    loading the register and running ``graph-service generate`` on the county alone.
    Raises ``ValueError`` when the extract has no village in ``county``.
    """
    items: list[tuple[str, Mapping[str, Any]]] = list(
        register_graph(read_register(register_dir, [county]))
    )
    nodes = [doc for kind, doc in items if kind == "node"]
    regions: list[Any] = [n for n in nodes if n["label"] == "Region"]
    villages: list[Any] = [n for n in nodes if n["label"] == "Village"]
    if not villages:
        raise ValueError(f"the register extract has no village in county {county}")
    items += generate_network(regions, villages, seed)
    return graph_from_items(items)


def seed_network(seed_dir: Path) -> nx.MultiDiGraph:
    """The seed graph of ``seed_dir`` (curated files, register extract, documents)."""
    seed = seed_graph(seed_dir)
    items: list[tuple[str, Mapping[str, Any]]] = [("node", d) for d in seed.nodes.values()]
    items += [("link", d) for d in seed.links.values()]
    return graph_from_items(items)


async def region_graph(view: GraphView, region_code: str) -> nx.MultiDiGraph:
    """The region ``region_code`` as ``view`` shows it, with its structural links
    (``NotFoundError`` when the store has no such region)."""
    graph, _ = await view.graph(AnalysisScope("region", region_code, include_structural=True))
    return graph


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvaluationCase:
    """One graph and the seeds it is evaluated with.

    ``build`` is called once per case (and the graph dropped after its reports), so cases of
    many generated counties do not sit in memory together. ``profile`` is the generator's
    county profile (:func:`graph_service.services.synthetic.network.county_profile`) of a generated
    county, ``None`` otherwise.
    """

    source: str
    name: str
    seeds: tuple[int, ...]
    build: Callable[[], nx.MultiDiGraph]
    profile: str | None = None


def generated_cases(
    register_dir: Path, counties: Sequence[str], seeds: Sequence[int]
) -> list[EvaluationCase]:
    """A case per (county, seed): the county generated and evaluated with that seed."""

    def builder(county: str, seed: int) -> Callable[[], nx.MultiDiGraph]:
        return lambda: generated_county_graph(register_dir, county, seed)

    return [
        EvaluationCase(
            source="generated",
            name=county,
            seeds=(seed,),
            build=builder(county, seed),
            profile=county_profile(seed, county),
        )
        for seed in seeds
        for county in counties
    ]


def seed_cases(seed_dir: Path, seeds: Sequence[int]) -> list[EvaluationCase]:
    """One case: the seed graph, evaluated under every seed."""
    return [
        EvaluationCase(
            source="seed", name="seed", seeds=tuple(seeds), build=lambda: seed_network(seed_dir)
        )
    ]


def store_cases(
    graphs: Mapping[str, nx.MultiDiGraph], seeds: Sequence[int]
) -> list[EvaluationCase]:
    """A case per exported store region (region code → graph of :func:`region_graph`)."""

    def builder(graph: nx.MultiDiGraph) -> Callable[[], nx.MultiDiGraph]:
        return lambda: graph

    return [
        EvaluationCase(source="store", name=code, seeds=tuple(seeds), build=builder(graph))
        for code, graph in graphs.items()
    ]


# ---------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from ``"3-7"``, ``"0,2,5"`` or a mix (``"0-2,9"``); ``ValueError`` otherwise.

    Seeds are non-negative integers (NumPy's generators refuse negative ones); duplicates are
    dropped and the order kept.
    """
    seeds: list[int] = []
    for part in text.split(","):
        item = part.strip()
        low, dash, high = item.partition("-")
        try:
            if dash:
                first, last = int(low), int(high)
                if not low.strip().isdigit() or not high.strip().isdigit() or last < first:
                    raise ValueError
                seeds.extend(range(first, last + 1))
            else:
                if not item.isdigit():
                    raise ValueError
                seeds.append(int(item))
        except ValueError:
            raise ValueError(
                f"seeds are non-negative integers or ranges like 3-7, comma-separated; got {text!r}"
            ) from None
    return tuple(dict.fromkeys(seeds))


def parse_cutoffs(text: str) -> tuple[int, ...]:
    """The cut-offs of hits@k from ``"5,10"`` (sorted, distinct, positive)."""
    try:
        ks = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise ValueError(
            f"k is a comma-separated list of positive integers; got {text!r}"
        ) from None
    if not ks or ks[0] < 1:
        raise ValueError(f"k is a comma-separated list of positive integers; got {text!r}")
    return tuple(ks)


# ---------------------------------------------------------------------------------------
# Running and pooling
# ---------------------------------------------------------------------------------------


def _row_dict(row: EvaluationRow, ks: Sequence[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"method": row.method}
    for k, hits in zip(ks, row.hits, strict=True):
        out[f"hits@{k}"] = hits
    out["mrr"] = row.mrr
    out["n"] = row.n
    return out


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _block(reports: Sequence[EvaluationReport], ks: Sequence[int]) -> dict[str, Any]:
    """Pooled rows of ``reports`` with the best baseline by MRR and the recommender's margin."""
    rows = pool(reports)
    by_method = {r.method: r for r in rows}
    recommender = by_method.get("recommender")
    baselines = [r for r in rows if r.method != "recommender"]
    best = None
    margin = None
    if recommender is not None and baselines and recommender.n > 0:
        # Ties go to the earlier method of METHODS (the order is fixed, so runs agree).
        best = max(baselines, key=lambda r: (r.mrr, -METHODS.index(r.method)))
        margin = {
            "mrr": {
                "difference": recommender.mrr - best.mrr,
                "ratio": _ratio(recommender.mrr, best.mrr),
            }
        }
        for i, k in enumerate(ks):
            margin[f"hits@{k}"] = {
                "difference": recommender.hits[i] - best.hits[i],
                "ratio": _ratio(recommender.hits[i], best.hits[i]),
            }
    return {
        "rows": [_row_dict(r, ks) for r in rows],
        "best_baseline": best.method if best is not None else None,
        "margin": margin,
    }


def _counts(cases: int, reports: Sequence[EvaluationReport]) -> dict[str, Any]:
    skipped: Counter[str] = Counter()
    for r in reports:
        skipped.update(r.skipped)
    return {
        "graphs": cases,
        "reports": len(reports),
        "eligible": sum(r.eligible for r in reports),
        "held_out": sum(r.held_out for r in reports),
        "evaluated": sum(r.evaluated for r in reports),
        "filtered_answers": sum(r.filtered_answers for r in reports),
        "skipped": {reason: n for reason, n in sorted(skipped.items()) if n},
    }


def _only_type(report: EvaluationReport, link_type: str) -> EvaluationReport:
    return dataclasses.replace(report, rows=report.by_type.get(link_type, ()))


def run_evaluation(
    cases: Sequence[EvaluationCase],
    *,
    splits: Sequence[str] = SPLITS,
    holdout: float = 0.2,
    k: Sequence[int] = (5, 10),
    tie_weight: Literal["strength", "count"] = "strength",
    progress: Callable[[EvaluationCase, int, str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate every case under each of its seeds and each split; pool the reports.

    Parameters
    ----------
    cases : sequence of EvaluationCase
        The graphs (:func:`generated_cases`, :func:`seed_cases`, :func:`store_cases`).
    splits : sequence of {"random", "time"}
        The splits, each pooled on its own.
    holdout, k, tie_weight
        Passed to :func:`graph_service.analysis.evaluation.evaluate`.
    progress : callable, optional
        Called with the case, seed and split after each report.

    Returns
    -------
    dict
        ``parameters``; ``source`` and ``graphs`` (case names); per split under ``splits``:
        ``counts`` (graphs, reports, eligible, held_out, evaluated, filtered_answers,
        skipped — summed over reports), ``overall``, ``by_type`` (per link type) and, for
        generated counties, ``by_profile`` (each with its ``counts``). Every pooled block has
        ``rows`` (method, hits@k…, mrr, n; micro-averaged over queries), ``best_baseline``
        (the baseline with the highest MRR, ``None`` when nothing was evaluated) and
        ``margin`` (the recommender's difference and ratio to it, per metric; a ratio is
        ``None`` when the baseline scores 0). Deterministic: the same arguments give the
        same data.

    Raises ``ValueError`` for bad parameters before any graph is built.
    """
    split_list = list(dict.fromkeys(splits))
    if not split_list or any(s not in SPLITS for s in split_list):
        raise ValueError(f"splits are among {SPLITS}, got {list(splits)!r}")
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    ks = tuple(int(x) for x in k)
    if not ks or min(ks) < 1:
        raise ValueError(f"k must be positive cut-offs, got {k!r}")
    if tie_weight not in ("strength", "count"):
        raise ValueError(f"tie_weight is 'strength' or 'count', got {tie_weight!r}")
    if not cases:
        raise ValueError("nothing to evaluate: no graph")
    if any(not case.seeds or min(case.seeds) < 0 for case in cases):
        raise ValueError("every graph needs seeds, non-negative")

    reports: dict[str, list[tuple[EvaluationCase, EvaluationReport]]] = defaultdict(list)
    for case in cases:
        graph = case.build()
        for split in split_list:
            for seed in case.seeds:
                report = evaluate(
                    graph,
                    seed=seed,
                    holdout=holdout,
                    split="time" if split == "time" else "random",
                    k=ks,
                    tie_weight=tie_weight,
                )
                reports[split].append((case, report))
                if progress is not None:
                    progress(case, seed, split)
        del graph

    sources = sorted({case.source for case in cases})
    result: dict[str, Any] = {
        "source": sources[0] if len(sources) == 1 else sources,
        "graphs": list(dict.fromkeys(case.name for case in cases)),
        "parameters": {
            "seeds": sorted({s for case in cases for s in case.seeds}),
            "splits": split_list,
            "holdout": holdout,
            "k": list(ks),
            "tie_weight": tie_weight,
            "link_types": list(EVALUATED_LINK_TYPES),
        },
        "splits": {},
    }
    for split in split_list:
        pairs = reports[split]
        everything = [r for _, r in pairs]
        link_types = [t for t in EVALUATED_LINK_TYPES if any(t in r.by_type for r in everything)]
        out: dict[str, Any] = {
            "counts": _counts(len(cases), everything),
            "overall": _block(everything, ks),
            "by_type": {t: _block([_only_type(r, t) for r in everything], ks) for t in link_types},
        }
        profiles: dict[str, list[tuple[EvaluationCase, EvaluationReport]]] = defaultdict(list)
        for case, report in pairs:
            if case.profile is not None:
                profiles[case.profile].append((case, report))
        if profiles:
            out["by_profile"] = {
                name: {
                    "counts": _counts(len({id(c) for c, _ in group}), [r for _, r in group]),
                    **_block([r for _, r in group], ks),
                }
                for name, group in sorted(profiles.items())
            }
        result["splits"][split] = out
    return result


# ---------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------


def _table(rows: Sequence[Mapping[str, Any]], ks: Sequence[int]) -> list[str]:
    head = ["method", *(f"hits@{k}" for k in ks), "MRR", "n"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [
            str(row["method"]),
            *(f"{row[f'hits@{k}']:.3f}" for k in ks),
            f"{row['mrr']:.3f}",
            str(row["n"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _margin_line(block: Mapping[str, Any]) -> str:
    best = block["best_baseline"]
    rows = {r["method"]: r for r in block["rows"]}
    mrr = block["margin"]["mrr"]
    ratio = f"×{mrr['ratio']:.2f}" if mrr["ratio"] is not None else "× n/a"
    return (
        f"Recommender MRR {rows['recommender']['mrr']:.3f} vs best baseline {best} "
        f"{rows[best]['mrr']:.3f}: {mrr['difference']:+.3f} ({ratio})."
    )


def _section(title: str, block: Mapping[str, Any], ks: Sequence[int]) -> list[str]:
    if not any(row["n"] for row in block["rows"]):
        return ["", title, "", "Nothing evaluated: no held-out tie could be ranked."]
    return ["", title, "", *_table(block["rows"], ks), "", _margin_line(block)]


def render_markdown(result: Mapping[str, Any]) -> str:
    """The tables of a :func:`run_evaluation` result as Markdown.

    One section per split: overall, per link type and per county profile, each a
    ``| method | hits@5 | hits@10 | MRR | n |`` table followed by the recommender's margin
    over the best baseline by MRR.
    """
    params = result["parameters"]
    ks = params["k"]
    graphs = result["graphs"]
    seeds = params["seeds"]
    names = ", ".join(graphs) if len(graphs) <= 3 else f"{len(graphs)}"
    what = {
        "seed": "the seed graph",
        "generated": f"generated counties ({names})",
        "store": f"store regions ({names})",
    }.get(str(result["source"]), f"{result['source']} ({names})")
    seed_text = (
        f"{seeds[0]}–{seeds[-1]}"
        if seeds and seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2
        else ", ".join(map(str, seeds))
    )
    lines: list[str] = [
        f"# Recommender evaluation: {what}, seeds {seed_text}",
        "",
        f"holdout {params['holdout']}, tie weight {params['tie_weight']}; hits@k and MRR "
        "pooled over every held-out tie (micro-average).",
    ]
    for split, out in result["splits"].items():
        counts = out["counts"]
        skipped = ", ".join(f"{k} {v}" for k, v in counts["skipped"].items()) or "none"
        lines += [
            "",
            f"## {split} split",
            "",
            f"{counts['graphs']} graph(s), {counts['reports']} report(s): "
            f"{counts['eligible']} eligible ties, {counts['held_out']} held out, "
            f"{counts['evaluated']} evaluated ({counts['filtered_answers']} answers outside "
            f"the candidates); skipped: {skipped}.",
        ]
        lines += _section(f"### {split} split, all ties", out["overall"], ks)
        for link_type, block in out["by_type"].items():
            lines += _section(f"### {split} split, `{link_type}` only", block, ks)
        for profile, block in out.get("by_profile", {}).items():
            title = (
                f"### {split} split, {profile} profile "
                f"({block['counts']['graphs']} county graph(s))"
            )
            lines += _section(title, block, ks)
    return "\n".join(lines) + "\n"
