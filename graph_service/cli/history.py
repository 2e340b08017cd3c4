"""``graph-service history`` and ``graph-service restore``: the edit history as
``GET /v1/history`` lists it, and restores as ``POST /v1/{nodes,links}/{id}/restore`` make
them, run as the operator (an admin, :func:`~graph_service.cli.runtime.operator`)."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from graph_service.cli.runtime import (
    bad_option,
    check_region_codes,
    operator,
    print_json,
    run,
    view_of,
)
from graph_service.domain import MAX_PAGE
from graph_service.errors import InvalidInputError
from graph_service.services.history import HistoryService, parse_recorded_time
from graph_service.store.protocol import GraphStore, HistoryQuery

__all__ = ["register"]

#: Entries one ``history`` command lists at most (it reads them a page at a time).
_MAX_ENTRIES = 100_000


def register(app: typer.Typer) -> None:
    app.command("history")(history)
    app.command("restore")(restore)


def _moment(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        return parse_recorded_time(text, option)
    except InvalidInputError as exc:
        raise bad_option(exc.message) from exc


def history(
    node: Annotated[str | None, typer.Option(help="Only changes of this node (its id).")] = None,
    link: Annotated[str | None, typer.Option(help="Only changes of this link (its id).")] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="Only changes this account made.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="Only changes touching this division code or under it."),
    ] = None,
    operation: Annotated[
        str | None, typer.Option(help="Only this operation (node.update, batch, restore …).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Recorded at or after this moment (with a time zone)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Recorded at or before this moment (with a time zone)."),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=_MAX_ENTRIES, help="Entries at most, newest first.")
    ] = 50,
    output: Annotated[
        str, typer.Option("--format", help="table (what changed, one line each) or json.")
    ] = "table",
) -> None:
    """The edit history, newest first: who changed what, and when."""
    if output not in ("table", "json"):
        raise bad_option(f"--format is table or json, not {output!r}")
    if node is not None and link is not None:
        raise bad_option("give --node or --link, not both")
    if region is not None:
        check_region_codes([region], "--region")
    query = HistoryQuery(
        entity="node" if node is not None else "link" if link is not None else None,
        entity_id=node if node is not None else link,
        account=account,
        region=region,
        operation=operation,
        since=_moment(since, "--since"),
        until=_moment(until, "--until"),
        newest_first=True,
    )

    async def work(store: GraphStore) -> list[Any]:
        view = view_of(store)
        service = HistoryService(store)
        entries: list[Any] = []
        cursor: str | None = None
        while len(entries) < limit:
            page = await service.page(view, query, cursor, min(MAX_PAGE, limit - len(entries)))
            entries += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        return entries

    entries = run(work)
    if output == "json":
        print_json(entries)
        return
    if not entries:
        typer.echo("no history entry matches", err=True)
        return
    table = Table()
    for column in ("at", "account", "operation", "entity", "action", "changed", "version"):
        table.add_column(column, overflow="fold")
    table.columns[-1].no_wrap = True
    for entry in entries:
        changed = ", ".join(c["field"] for c in entry["changes"])
        table.add_row(
            entry["at"],
            entry["account"],
            entry["operation"],
            f"{entry['entity']} {entry['entity_id']}",
            entry["action"],
            changed if entry["action"] == "update" else "",
            entry["id"],
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def restore(
    entity: Annotated[str, typer.Argument(help="node or link.")],
    entity_id: Annotated[str, typer.Argument(metavar="ID", help="The node's or link's id.")],
    version: Annotated[
        str | None,
        typer.Option("--version", help="A history entry (its id): restore what it was after it."),
    ] = None,
    recorded_as_of: Annotated[
        str | None,
        typer.Option(
            "--recorded-as-of", help="Or a moment (with a time zone): restore what it was then."
        ),
    ] = None,
    links: Annotated[
        bool, typer.Option("--links", help="A node: restore the links its deletion removed too.")
    ] = False,
) -> None:
    """Restore a node or link to an earlier version; the restore is recorded in the history."""
    if entity not in ("node", "link"):
        raise bad_option(f"restore node ID or restore link ID, not {entity!r}")
    if links and entity != "node":
        raise bad_option("--links restores a node's links; a link has none")
    kind: Literal["node", "link"] = "node" if entity == "node" else "link"
    moment = _moment(recorded_as_of, "--recorded-as-of")

    async def work(store: GraphStore) -> dict[str, Any]:
        return await HistoryService(store).restore(
            operator(), kind, entity_id, version, moment, links
        )

    print_json(run(work))
