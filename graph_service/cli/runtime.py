"""What every command shares: the console, running work against the configured store as
the operator, and the options and parsing of dates, scopes and region codes."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from graph_service.domain import is_region_code
from graph_service.errors import GraphServiceError
from graph_service.keys import adopt_keys_file
from graph_service.services.analysis import parse_scope
from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.view import GraphView, GraphViews
from graph_service.settings import Settings, get_settings
from graph_service.store.factory import create_store
from graph_service.store.protocol import GraphStore
from graph_service.visibility import Caller

__all__ = [
    "AsOfOption",
    "LinkTypeOption",
    "ScopeOption",
    "bad_option",
    "check_region_codes",
    "console",
    "get_settings",
    "operator",
    "parse_date",
    "parse_day",
    "parse_scope_option",
    "print_json",
    "print_nodes",
    "run",
    "view_of",
]

#: Messages and progress go to stderr; results (JSON, exports) to stdout.
console = Console(stderr=True)
T = TypeVar("T")

ScopeOption = Annotated[
    str,
    typer.Option(
        help="all | region:<code> | body:<joint body> | node:<node>; the body or node by id, "
        "division code or name."
    ),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Only what was valid on this date (YYYY-MM-DD).")
]
LinkTypeOption = Annotated[
    list[str] | None, typer.Option("--link-type", help="Link types to count (repeatable).")
]


def run(work: Callable[[GraphStore], Awaitable[T]], settings: Settings | None = None) -> T:
    settings = settings or get_settings()

    async def runner() -> T:
        store = create_store(settings)
        await store.open()
        await adopt_keys_file(store, settings)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(runner())
    except GraphServiceError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        errors = getattr(exc, "errors", [])
        for err in errors[:50]:
            console.print(f"  {err.get('field')}: {err.get('message')}")
        if not errors and exc.field:
            console.print(f"  {exc.field}: {exc.message}")
        if candidates := exc.details.get("candidates"):
            print_nodes(candidates, title="candidates")
        raise typer.Exit(1) from exc


def print_nodes(
    rows: list[dict[str, Any]],
    title: str | None = None,
    match: bool = False,
    to: Console = console,
) -> None:
    """Nodes as a table (on stderr unless ``to`` says otherwise): name, label, kind, region,
    id, and how each matched. Ids are never wrapped: they are what a reader copies."""
    table = Table(title=title, title_justify="left")
    for column in ("name", "label", "kind", "region"):
        table.add_column(column, overflow="fold")
    longest = max((len(str(r["id"])) for r in rows), default=2)
    table.add_column("id", no_wrap=True, min_width=longest)
    columns = ["name", "label", "kind", "region", "id"]
    if match:
        table.add_column("match", overflow="fold")
        columns.append("match")
    for row in rows:
        table.add_row(*(str(row.get(c) or "") for c in columns))
    to.print(table)


def operator(public: bool = False) -> Caller:
    """Who a CLI command reads and writes as: the operator who runs it (they hold the data
    files), or the public view of it for output meant to be passed on."""
    if public:
        return Caller(authenticated=False, name="cli:public")
    return Caller(authenticated=True, name=f"cli:{getpass.getuser()}", role="admin")


def view_of(store: GraphStore, public: bool = False) -> GraphView:
    """The view a command reads the graph through (see :func:`operator`)."""
    return GraphViews(store).view(operator(public))


def parse_date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        console.print(f"[red]error[/red] {option} is a date YYYY-MM-DD")
        raise typer.Exit(2) from exc


def parse_day(text: str, option: str) -> dt.date:
    """A required date option."""
    day = parse_date(text, option)
    assert day is not None  # parse_date returns None only for None
    return day


def parse_scope_option(
    scope: str, link_type: list[str] | None, as_of: str | None, depth: int = 2
) -> AnalysisScope:
    try:
        return parse_scope(scope, depth, link_type or (), False, parse_date(as_of, "--as-of"))
    except GraphServiceError as exc:
        console.print(f"[red]error[/red] {exc.message}")
        raise typer.Exit(2) from exc


def bad_option(message: str) -> typer.Exit:
    console.print(f"[red]error[/red] {message}")
    return typer.Exit(2)


def check_region_codes(codes: list[str], option: str) -> None:
    for code in codes:
        if not is_region_code(code):
            raise bad_option(f"{option} {code!r} is not a division code of 2/4/6/9 digits")


def print_json(result: Any) -> None:
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
