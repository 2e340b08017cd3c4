"""Running the service and its upkeep: ``serve``, ``migrate``, ``stats``, ``hash-key``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from graph_service.cli import runtime
from graph_service.cli.data import load_seed_command
from graph_service.cli.runtime import console, run, view_of
from graph_service.settings import hash_api_key
from graph_service.store.protocol import GraphStore, StoreStats

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(migrate)
    app.command()(stats)
    app.command("hash-key")(hash_key)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    seed: Annotated[bool, typer.Option(help="Load the seed graph first (idempotent).")] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Processes serving the port (docs/workers.md)."),
    ] = None,
) -> None:
    """Run the HTTP API (docs at /docs)."""
    from graph_service.api.server import serve as serve_app

    settings = runtime.get_settings()
    if seed:
        load_seed_command()
    workers = workers or settings.workers
    console.print(f"serving on the {settings.store_backend} store with {workers} worker(s)")
    serve_app(settings, host or settings.host, port or settings.port, workers)


def migrate() -> None:
    """Apply pending Neo4j schema migrations (the service also does this at start-up)."""
    settings = runtime.get_settings()
    if not settings.neo4j_uri:
        console.print("the embedded store needs no migrations (set NEO4J_URI for Neo4j)")
        return

    async def work(store: GraphStore) -> list[int]:
        versions: list[int] = await store.migrate()  # type: ignore[attr-defined]
        return versions

    versions = run(work, settings)
    console.print(f"Neo4j schema at version {max(versions, default=0)} (applied: {versions})")


def stats() -> None:
    """Node and link counts by label and type."""

    async def work(store: GraphStore) -> StoreStats:
        return await view_of(store).stats()

    result = run(work)
    table = Table(title=f"graph ({result.backend} store, version {result.version})")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, count in sorted(result.nodes_by_label.items()):
        table.add_row("node", label, str(count))
    for type_, count in sorted(result.links_by_type.items()):
        table.add_row("link", type_, str(count))
    Console().print(table)


def hash_key(
    key: Annotated[str, typer.Argument(help="The API key to hash.")],
    name: Annotated[
        str | None,
        typer.Option(help="Who holds the key (recorded with their judgements)."),
    ] = None,
) -> None:
    """Print the stored form of an API key for GRAPH_SERVICE_API_KEY_HASHES: the bootstrap
    admin's key (``keys create`` makes the keys of store accounts)."""
    if not key.isascii() or not key.isprintable() or len(key) < 8:
        # Keys travel in HTTP headers, which carry ASCII.
        console.print("[red]error[/red] an API key is at least 8 printable ASCII characters")
        raise typer.Exit(2)
    if name is not None and (not name.strip() or "=" in name or len(name) > 100):
        console.print("[red]error[/red] a key name is 1-100 characters without '='")
        raise typer.Exit(2)
    print(f"{name.strip()}={hash_api_key(key)}" if name else hash_api_key(key))
