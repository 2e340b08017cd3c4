"""``graph-service analyse …``: network analyses over a scope, through the same service and
the same caller-aware view as the HTTP API. Prints JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from graph_service.cli import runtime
from graph_service.cli.runtime import (
    AsOfOption,
    LinkTypeOption,
    ScopeOption,
    parse_date,
    parse_day,
    parse_scope_option,
    print_json,
    run,
    view_of,
)
from graph_service.domain import (
    CENTRALITY_MEASURES,
    MAX_LISTED,
    MAX_LISTED_MEMBERS,
    MAX_TOP,
    MIN_BETWEENNESS_SAMPLE,
    STRONG_LINK_THRESHOLD,
)
from graph_service.services.analysis import AnalysisService
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.references import resolve_scope
from graph_service.services.view import GraphView
from graph_service.store.protocol import GraphStore

__all__ = ["analyse_app"]

analyse_app = typer.Typer(help="Network analyses over a scope; prints JSON.", no_args_is_help=True)


def _analyse(
    analysis: Callable[[AnalysisService, GraphView, AnalysisScope], Awaitable[Any]],
    scope: AnalysisScope | None = None,
) -> None:
    """Run one analysis as the operator and print its JSON; ``scope``'s body or node may be
    given by id, division code or name (resolved before the analysis runs)."""
    settings = runtime.get_settings()

    async def work(store: GraphStore) -> Any:
        service = AnalysisService(settings.seed_dir / "rules" / "joint_body_rules.json")
        view = view_of(store)
        resolved = await resolve_scope(view, scope or AnalysisScope())
        return await analysis(service, view, resolved)

    print_json(run(work, settings))


@analyse_app.command("centrality")
def analyse_centrality(
    scope: ScopeOption = "all",
    measure: Annotated[list[str] | None, typer.Option(help="Measures (repeatable).")] = None,
    top: Annotated[int, typer.Option(min=1, max=MAX_TOP)] = 20,
    k: Annotated[
        int | None, typer.Option(min=MIN_BETWEENNESS_SAMPLE, help="Betweenness sample size.")
    ] = None,
    seed: int = 0,
    link_type: LinkTypeOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Degree, betweenness, closeness, harmonic, eigenvector and PageRank: top-N."""
    measures = measure or list(CENTRALITY_MEASURES)
    target = parse_scope_option(scope, link_type, as_of)
    _analyse(lambda s, v, t: s.centrality(v, t, measures, top, k, seed, 5000), target)


@analyse_app.command("communities")
def analyse_communities(
    scope: ScopeOption = "all",
    seed: int = 0,
    resolution: float = 1.0,
    link_type: LinkTypeOption = None,
    as_of: AsOfOption = None,
    limit: Annotated[
        int, typer.Option(min=0, max=MAX_LISTED_MEMBERS, help="Members listed per community.")
    ] = 50,
) -> None:
    """Louvain communities and how they sit against the joint bodies."""
    target = parse_scope_option(scope, link_type, as_of)
    _analyse(lambda s, v, t: s.communities(v, t, seed, resolution, limit), target)


@analyse_app.command("brokers")
def analyse_brokers(
    scope: ScopeOption = "all",
    top: Annotated[int, typer.Option(min=1, max=MAX_TOP)] = 20,
    link_type: LinkTypeOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Burt's constraint and effective size."""
    target = parse_scope_option(scope, link_type, as_of)
    _analyse(lambda s, v, t: s.brokers(v, t, top), target)


@analyse_app.command("fragility")
def analyse_fragility(
    scope: ScopeOption = "all", link_type: LinkTypeOption = None, as_of: AsOfOption = None
) -> None:
    """Bridges and articulation points, and the villages they would cut off."""
    target = parse_scope_option(scope, link_type, as_of)
    _analyse(lambda s, v, t: s.fragility(v, t), target)


@analyse_app.command("strength")
def analyse_strength(
    source: Annotated[str, typer.Option(help="Node id, division code or name.")],
    target: Annotated[str, typer.Option(help="Node id, division code or name.")],
    as_of: AsOfOption = None,
) -> None:
    """Explainable strength of the link between two nodes, component by component."""
    day = parse_date(as_of, "--as-of")
    _analyse(lambda s, v, _: s.link_strength(v, source, target, day, None))


@analyse_app.command("links")
def analyse_links(
    scope: ScopeOption = "all",
    weakest: Annotated[bool, typer.Option("--weakest/--strongest")] = True,
    top: Annotated[int, typer.Option(min=1, max=MAX_TOP)] = 20,
    as_of: AsOfOption = None,
) -> None:
    """The weakest (or strongest) links of a scope."""
    target = parse_scope_option(scope, None, as_of)
    _analyse(lambda s, v, t: s.extreme_links(v, t, top, strongest=not weakest), target)


@analyse_app.command("coverage")
def analyse_coverage(
    region: Annotated[str, typer.Option(help="Division code.")],
    as_of: AsOfOption = None,
    strong_threshold: float = STRONG_LINK_THRESHOLD,
    limit: Annotated[
        int, typer.Option(min=0, max=MAX_LISTED, help="Villages listed per list at most.")
    ] = 200,
) -> None:
    """Villages covered by a joint body, a pairing, both or nothing; weak villages alone."""
    day = parse_date(as_of, "--as-of")
    _analyse(lambda s, v, _: s.coverage(v, region, day, strong_threshold, limit=limit))


@analyse_app.command("rules")
def analyse_rules(scope: ScopeOption = "all", as_of: AsOfOption = None) -> None:
    """Joint bodies that break the rules in seed/rules, with the evidence."""
    target = parse_scope_option(scope, None, as_of)
    _analyse(lambda s, v, t: s.rule_check(v, t), target)


@analyse_app.command("change")
def analyse_change(
    date_from: Annotated[str, typer.Option("--from")],
    date_to: Annotated[str, typer.Option("--to")],
    scope: ScopeOption = "all",
    top: Annotated[
        int, typer.Option(min=1, max=MAX_TOP, help="PageRank risers and fallers listed.")
    ] = 10,
) -> None:
    """New and lost links, centrality movers and coverage change between two dates."""
    target = parse_scope_option(scope, None, None)
    a, b = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    _analyse(lambda s, v, t: s.change(v, t, a, b, top), target)
