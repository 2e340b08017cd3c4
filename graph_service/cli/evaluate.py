"""``graph-service evaluate``: held-out evaluation of the partner recommender against
link-prediction baselines, on generated counties, the seed graph or regions of the store."""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph_service.cli import runtime
from graph_service.cli.runtime import (
    bad_option,
    check_region_codes,
    console,
    print_json,
    run,
    view_of,
)
from graph_service.services import evaluation as ev
from graph_service.settings import Settings
from graph_service.store.protocol import GraphStore

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)


def evaluate_command(
    graph: Annotated[
        str, typer.Option(help="generated (register extract + generator) | seed | store")
    ] = "generated",
    county: Annotated[
        list[str] | None,
        typer.Option(help="County code of the register extract (repeatable; default: all)."),
    ] = None,
    region: Annotated[
        list[str] | None, typer.Option(help="Region code in the store, for --graph store.")
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(help="A range 3-7 or a list 0,2,5 (default 3-7 / 0-19 / 0-4 by --graph)."),
    ] = None,
    split: Annotated[str, typer.Option(help="random | time | both")] = "both",
    holdout: Annotated[float, typer.Option(help="Share of ties hidden, in (0, 1).")] = 0.2,
    k: Annotated[str, typer.Option("--k", help="Cut-offs of hits@k, comma-separated.")] = "5,10",
    fmt: Annotated[str, typer.Option("--format", help="json | markdown")] = "json",
    tie_weight: Annotated[
        str, typer.Option(help="Recommender tie weights: strength | count.")
    ] = "strength",
) -> None:
    """Offline evaluation of the partner recommender against link-prediction baselines."""
    _check_choices(graph, split, fmt, tie_weight, holdout)
    try:
        ks = ev.parse_cutoffs(k)
    except ValueError as exc:
        raise bad_option(f"--k: {exc}") from exc
    try:
        seed_list = ev.parse_seeds(seeds) if seeds is not None else ev.DEFAULT_SEEDS[graph]
    except ValueError as exc:
        raise bad_option(f"--seeds: {exc}") from exc
    _check_sources(graph, county, region)

    settings = runtime.get_settings()
    cases = _cases(settings, graph, county, region, list(seed_list))
    splits = list(ev.SPLITS) if split == "both" else [split]
    result = _evaluate_with_progress(cases, splits, holdout, ks, tie_weight)
    if fmt == "markdown":
        sys.stdout.write(ev.render_markdown(result))
    else:
        print_json(result)


def _check_choices(graph: str, split: str, fmt: str, tie_weight: str, holdout: float) -> None:
    if graph not in ev.GRAPH_SOURCES:
        raise bad_option(f"--graph is one of {', '.join(ev.GRAPH_SOURCES)}")
    if split not in ("random", "time", "both"):
        raise bad_option("--split is random, time or both")
    if fmt not in ("json", "markdown"):
        raise bad_option("--format is json or markdown")
    if tie_weight not in ("strength", "count"):
        raise bad_option("--tie-weight is strength or count")
    if not 0 < holdout < 1:
        raise bad_option(f"--holdout is a share in (0, 1), got {holdout}")


def _check_sources(graph: str, county: list[str] | None, region: list[str] | None) -> None:
    if county and graph != "generated":
        raise bad_option("--county is for --graph generated (use --region with --graph store)")
    if region and graph != "store":
        raise bad_option("--region is for --graph store")
    if graph == "store" and not region:
        raise bad_option("--graph store needs --region CODE")
    check_region_codes(list(region or ()), "--region")


def _cases(
    settings: Settings,
    graph: str,
    county: list[str] | None,
    region: list[str] | None,
    seed_list: list[int],
) -> list[ev.EvaluationCase]:
    """The graphs to evaluate on: generated counties of the register extract, the seed
    graph, or regions exported from the store."""
    register_dir = settings.seed_dir / "register"
    if graph == "generated":
        try:
            known = ev.register_counties(register_dir)
        except OSError as exc:
            console.print(f"[red]error[/red] cannot read the register extract: {exc}")
            raise typer.Exit(1) from exc
        counties = list(dict.fromkeys(county)) if county else known
        unknown = [c for c in counties if c not in known]
        if unknown:
            raise bad_option(
                f"--county {', '.join(unknown)} has no village in the register extract "
                f"{register_dir} (counties: {', '.join(known)})"
            )
        return ev.generated_cases(register_dir, counties, seed_list)
    if graph == "seed":
        return ev.seed_cases(settings.seed_dir, seed_list)
    codes = list(dict.fromkeys(region or ()))

    async def work(store: GraphStore) -> dict[str, Any]:
        with console.status("exporting " + ", ".join(codes)):
            view = view_of(store)
            return {code: await ev.region_graph(view, code) for code in codes}

    return ev.store_cases(run(work, settings), seed_list)


def _evaluate_with_progress(
    cases: list[ev.EvaluationCase],
    splits: list[str],
    holdout: float,
    ks: Any,
    tie_weight: str,
) -> dict[str, Any]:
    total = sum(len(case.seeds) for case in cases) * len(splits)
    started = time.perf_counter()
    with Progress(
        TextColumn("evaluating {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=total)

        def advance(case: ev.EvaluationCase, seed: int, split_name: str) -> None:
            progress.update(task, advance=1, description=f"{case.name} seed {seed} {split_name}")

        result: dict[str, Any] = ev.run_evaluation(
            cases,
            splits=splits,
            holdout=holdout,
            k=ks,
            tie_weight="count" if tie_weight == "count" else "strength",
            progress=advance,
        )
    console.print(
        f"{total} evaluation(s) of {len(cases)} graph(s) in {time.perf_counter() - started:.1f} s"
    )
    return result
