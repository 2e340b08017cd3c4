"""``graph-service report --region CODE``: the situation page of a region as an Excel workbook,
the same workbook ``GET /v1/dashboard/report.xlsx`` sends (``docs/dashboard.md``).

A report is handed on (to a meeting, a higher department): it is written from the public view
unless ``--people`` asks for the operator's full view.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from graph_service.cli import runtime
from graph_service.cli.runtime import AsOfOption, console, parse_date, run, view_of
from graph_service.domain import CENTRALITY_MEASURES, MAX_TOP, REGION_CODE_PATTERN
from graph_service.services.analysis import AnalysisService
from graph_service.services.dashboard import DashboardRequest, DashboardService
from graph_service.services.recommendations import RecommendationService
from graph_service.services.report import dashboard_workbook
from graph_service.store.protocol import GraphStore

__all__ = ["register"]


def report(
    region: Annotated[str, typer.Option(help="Division code of a province, city, county or town.")],
    as_of: AsOfOption = None,
    since: Annotated[
        str | None, typer.Option(help="An earlier date (YYYY-MM-DD): each card's change since.")
    ] = None,
    measure: Annotated[str, typer.Option(help="Centrality measure of the top-N table.")] = (
        "pagerank"
    ),
    top: Annotated[
        int, typer.Option(min=1, max=MAX_TOP, help="Rows of the centrality table.")
    ] = 20,
    pairings: Annotated[
        int, typer.Option(min=0, max=100, help="Weak villages to propose a partner for.")
    ] = 20,
    out: Annotated[
        Path | None,
        typer.Option(help="The .xlsx file to write (default dashboard-<region>-<date>.xlsx)."),
    ] = None,
    people: Annotated[
        bool, typer.Option(help="Include people and personal fields (the operator's view).")
    ] = False,
) -> None:
    """Write a region's situation report (cards, charts' tables, action lists) as .xlsx."""
    if not re.fullmatch(REGION_CODE_PATTERN, region):
        console.print("[red]error[/red] --region is a division code (2, 4, 6, 9 or 12 digits)")
        raise typer.Exit(2)
    if measure not in CENTRALITY_MEASURES:
        console.print(f"[red]error[/red] --measure is one of {', '.join(CENTRALITY_MEASURES)}")
        raise typer.Exit(2)
    asked = DashboardRequest(
        region,
        parse_date(as_of, "--as-of"),
        parse_date(since, "--since"),
        measure,
        top,
        pairings,
    )
    settings = runtime.get_settings()

    async def work(store: GraphStore) -> tuple[bytes, str]:
        analysis = AnalysisService(settings.seed_dir / "rules" / "joint_body_rules.json")
        recommendations = RecommendationService(store, settings.recommend_tie_weight)
        service = DashboardService(analysis, recommendations)
        data = await service.situation(view_of(store, public=not people), asked)
        return dashboard_workbook(data), str(data["as_of"])

    workbook, day = run(work, settings)  # a domain error: its message, exit 1
    target = out or Path(f"dashboard-{region}-{day}.xlsx")
    target.write_bytes(workbook)
    console.print(f"wrote {target} ({len(workbook):,} bytes)")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
