"""``graph-service analyse-national``: the batch analyses of every county of a province (or
of the country) on a Dask cluster, stored for the routes to serve (``services.national``).
Prints the run's report as JSON; a progress bar on stderr."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from graph_service.cli import runtime
from graph_service.cli.runtime import AsOfOption, bad_option, console, parse_date, print_json, run
from graph_service.domain import CENTRALITY_MEASURES, COUNTY_CODE_LENGTH, is_region_code
from graph_service.errors import GraphServiceError
from graph_service.services.national import BatchPlan, CountyResult, run_national
from graph_service.services.stored_analyses import STORED_ANALYSES
from graph_service.store.protocol import GraphStore

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("analyse-national")(analyse_national)


def analyse_national(
    region: Annotated[
        str | None,
        typer.Option(help="Province, city or county code; every county of the store if omitted."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=256, help="Worker processes of the local Dask cluster.")
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler's address (tcp://host:port) instead of a local one."),
    ] = None,
    analysis: Annotated[
        list[str] | None,
        typer.Option(help=f"Analyses (repeatable): {', '.join(STORED_ANALYSES)}; default all."),
    ] = None,
    measure: Annotated[
        list[str] | None,
        typer.Option(help=f"Centrality measures (repeatable): {', '.join(CENTRALITY_MEASURES)}."),
    ] = None,
    as_of: AsOfOption = None,
    people: Annotated[
        bool,
        typer.Option(
            "--people/--public-only",
            help="Also store answers for key holders (the graph with people in it).",
        ),
    ] = False,
) -> None:
    """Centrality, coverage, rule checks and recommendations for every county, stored for
    the analysis routes to answer from while the graph is unchanged."""
    if region is not None and (not is_region_code(region) or len(region) > COUNTY_CODE_LENGTH):
        raise bad_option(f"--region {region!r} is not a province, city or county code")
    try:
        plan = BatchPlan(
            analyses=tuple(analysis or STORED_ANALYSES),
            measures=tuple(measure or CENTRALITY_MEASURES),
            as_of=parse_date(as_of, "--as-of"),
            audiences=("public", "full") if people else ("public",),
        )
    except GraphServiceError as exc:
        raise bad_option(exc.message) from exc
    settings = runtime.get_settings()

    async def work(store: GraphStore) -> dict[str, Any]:
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("counties", total=None)

            def advance(done: int, total: int, result: CountyResult) -> None:
                bar.update(task, completed=done, total=total, description=result.region)

            report = await run_national(
                settings, store, region, plan, workers, scheduler, progress=advance
            )
        return report.describe()

    print_json(run(work, settings))
