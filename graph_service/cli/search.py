"""``graph-service search TEXT``: find nodes by name, alias, id or division code, as
``GET /v1/search`` does, and print them as a table (or JSON)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from graph_service.cli.runtime import (
    AsOfOption,
    bad_option,
    parse_date,
    print_json,
    print_nodes,
    run,
    view_of,
)
from graph_service.schema import NODE_LABELS
from graph_service.services.references import region_names
from graph_service.store.protocol import GraphStore

__all__ = ["register"]

#: Hits of one search at most (as the HTTP route allows).
_MAX_HITS = 200


def register(app: typer.Typer) -> None:
    app.command()(search)


def search(
    text: Annotated[
        str, typer.Argument(help="A name or alias (or part of one), a node id or a division code.")
    ],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Only this label (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=_MAX_HITS, help="Hits at most.")] = 20,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
) -> None:
    """Find nodes: exact before prefix before substring matches. Traditional characters
    find simplified ones; full-width forms and invisible characters do not count."""
    unknown = [name for name in label or () if name not in NODE_LABELS]
    if unknown:
        raise bad_option(f"--label {unknown[0]!r} is none of {', '.join(NODE_LABELS)}")
    if not text.strip():
        raise bad_option("TEXT is blank")
    day = parse_date(as_of, "--as-of")

    async def work(store: GraphStore) -> list[dict[str, Any]]:
        view = view_of(store)
        hits = await view.search(text, label or (), limit, day)
        places = await region_names(view, [hit.node for hit in hits])
        return [
            {
                "id": hit.node["id"],
                "name": hit.node["name"],
                "label": hit.node["label"],
                "kind": hit.node.get("kind"),
                "region_code": hit.node.get("region_code"),
                "region": places.get(hit.node["id"]),
                "match": hit.match,
                "matched": hit.matched,
                "score": hit.score,
            }
            for hit in hits
        ]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo(f"no node matches {text}", err=True)
        raise typer.Exit(1)
    for row in rows:
        if row["matched"] != row["name"]:
            row["match"] = f"{row['match']} ({row['matched']})"
    # Piped or captured output is not cut at 80 columns: the rows are meant to be read whole.
    print_nodes(rows, match=True, to=Console(width=None if sys.stdout.isatty() else 160))
