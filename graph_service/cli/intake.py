"""A planner's own data from the command line: ``resolve``, ``import-table``,
``undo-import``, ``imports``, ``extract``, ``review list | show | decide``, ``dedup-scan``,
``merge``, ``undo-merge`` and ``merges``.

Each command calls the service the HTTP API calls (name resolution, spreadsheet imports,
articles, the review queue and merges: ``/v1/resolve``, ``/v1/imports``, ``/v1/documents``,
``/v1/review``, ``/v1/dedup/scan``, ``/v1/merges``), on the configured store, as the operator
(:func:`~graph_service.cli.runtime.operator`, an admin) unless ``--account`` names a store
account to act as. Results go to stdout, progress and errors to stderr; errors of the domain
exit 1 through :func:`~graph_service.cli.runtime.run`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph_service.access import ROLES, Caller
from graph_service.cli import runtime
from graph_service.cli.runtime import (
    bad_option,
    check_region_codes,
    console,
    operator,
    print_json,
    run,
    view_of,
)
from graph_service.domain import MAX_PAGE
from graph_service.errors import ForbiddenError, InvalidInputError, NotFoundError
from graph_service.schema import NODE_LABELS
from graph_service.services.articles import ArticleService
from graph_service.services.imports import ImportOptions, ImportPlan, ImportService
from graph_service.services.references import resolve_node
from graph_service.services.resolution import NameResolver
from graph_service.services.review import DECISIONS, ITEM_STATUSES, PENDING, ReviewService
from graph_service.services.view import GraphView, GraphViews
from graph_service.store.protocol import GraphStore
from graph_service.tables import FIELD_NAMES

__all__ = ["register", "review_app"]

#: Item types and origins of the review queue (as ``GET /v1/review`` takes them).
_ITEM_TYPES = ("duplicate", "import_row", "entity", "link")
_ORIGINS = ("dedup", "import", "extraction")
#: Rejected rows printed in full by ``import-table`` (the counts cover all).
_REJECTED_SHOWN = 200
#: Ambiguous rows printed with their candidates.
_AMBIGUOUS_SHOWN = 5
#: Entries of a listing at most.
_MAX_LISTED = 10_000

review_app = typer.Typer(
    help="The review queue: duplicate pairs, ambiguous import rows, extracted proposals.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command()(resolve)
    app.command("import-table")(import_table)
    app.command("undo-import")(undo_import)
    app.command()(imports)
    app.command()(extract)
    app.command("dedup-scan")(dedup_scan)
    app.command()(merge)
    app.command("undo-merge")(undo_merge)
    app.command()(merges)
    app.add_typer(review_app, name="review")


# ---------------------------------------------------------------------------- shared


@dataclass(frozen=True, slots=True)
class _Services:
    """The intake services of one command, wired as the API's lifespan wires them (the
    import and article services register themselves as appliers of the review service)."""

    resolver: NameResolver
    review: ReviewService
    imports: ImportService
    articles: ArticleService


def _services(store: GraphStore) -> _Services:
    resolver = NameResolver()
    review = ReviewService(store, resolver)
    return _Services(
        resolver,
        review,
        ImportService(store, resolver, review),
        ArticleService(store, resolver, review),
    )


def _out() -> Console:
    """Where results go: stdout, not cut at 80 columns when piped or captured."""
    return Console(width=None if sys.stdout.isatty() else 200)


@contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for a ``progress(done, total)`` callback; none when stderr is
    not a terminal (a pipe, a log, a test), where a bar would only garble the output."""
    with Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task(what, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def _check_label(label: str | None) -> None:
    if label is not None and label not in NODE_LABELS:
        raise bad_option(f"--label {label!r} is none of {', '.join(NODE_LABELS)}")


async def _caller(store: GraphStore, account: str | None) -> Caller:
    """The operator, or the store account ``--account`` names (its role and scope)."""
    if account is None:
        return operator()
    found = (await store.get_accounts([account])).get(account)
    if found is None:
        raise NotFoundError(f"no account {account!r}", field="account")
    if found.get("disabled"):
        raise ForbiddenError(f"account {account!r} is disabled", field="account")
    role = next(r for r in ROLES if r == found["role"])
    return Caller(authenticated=True, name=account, role=role, scope=found.get("scope") or "")


def _read_file(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (at most ``limit`` + 1: the service refuses what is over); an
    ``InvalidInputError`` on field ``file`` when it cannot be read."""
    try:
        with path.open("rb") as fh:
            return fh.read() if limit is None else fh.read(limit + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidInputError(f"cannot read {path}: {reason}", field="file") from exc


def _score(value: Any) -> str:
    return f"{float(value):.2f}" if value is not None else ""


def _candidates_table(candidates: list[dict[str, Any]], title: str | None = None) -> Table:
    """Ranked candidates (``match_json`` form): id, name, label, score, explanation."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    longest = max((len(str(c["node"]["id"])) for c in candidates), default=2)
    table.add_column("id", no_wrap=True, min_width=longest)
    for column in ("name", "label", "score", "explanation"):
        table.add_column(column, overflow="fold", justify="right" if column == "score" else "left")
    for rank, candidate in enumerate(candidates, 1):
        node = candidate["node"]
        name = str(node["name"])
        if candidate.get("matched") and candidate["matched"] != name:
            name = f"{name} ({candidate['matched']})"
        table.add_row(
            str(rank),
            str(node["id"]),
            name,
            str(node.get("label") or ""),
            _score(candidate.get("score")),
            "; ".join(candidate.get("explanation") or ()),
        )
    return table


# ---------------------------------------------------------------------------- resolve


def resolve(
    name: Annotated[str, typer.Argument(help="A name as written (王果铺镇).")],
    label: Annotated[str | None, typer.Option("--label", help="Only nodes of this label.")] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="Compare within this division code (a county or town)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=50, help="Candidates at most.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Which nodes a name may mean: ranked candidates with scores and the reasons."""
    _check_label(label)
    if region is not None:
        check_region_codes([region], "--region")

    async def work(store: GraphStore) -> dict[str, Any]:
        result = await NameResolver().resolve(
            view_of(store), name, label=label, region_code=region, limit=limit
        )
        return result.shown()

    answer = run(work)
    if as_json:
        print_json(answer)
        return
    if not answer["candidates"]:
        typer.echo(f"no candidate for {name} (nothing resembles it: a new node)", err=True)
        return
    where = f" in {region}" if region else ""
    _out().print(_candidates_table(answer["candidates"], title=f"{name}{where}"))


# ---------------------------------------------------------------------------- imports


def _overrides(pairs: list[str] | None) -> dict[str, str | None]:
    """``--map 表头=field`` (``表头=`` or ``表头=-``: ignore the column)."""
    found: dict[str, str | None] = {}
    for pair in pairs or ():
        header, sep, name = pair.rpartition("=")
        if not sep or not header.strip():
            raise bad_option(
                f"--map is 表头=field, not {pair!r} (fields: {', '.join(FIELD_NAMES)})"
            )
        name = name.strip()
        found[header.strip()] = None if name in ("", "-", "none", "null") else name
    return found


def _print_plan(shown: Mapping[str, Any], plan: ImportPlan, out: Console) -> None:
    counts = shown["counts"]
    sheet = f" · sheet {shown['sheet']}" if shown.get("sheet") else ""
    out.print(
        f"[bold]{shown['file']}[/bold]{sheet} · header row {shown['header_row']} · "
        f"{shown['table_kind']} table · region {shown['region_code']}"
    )
    skipped = shown.get("skipped_empty_rows") or 0
    out.print(
        f"rows {counts['rows']}: matched {counts['matched']}, new {counts['new']}, "
        f"ambiguous {counts['ambiguous']}, rejected {counts['rejected']}"
        + (f" ({skipped} empty row(s) skipped)" if skipped else "")
    )
    mapping = Table(title="mapping", title_justify="left")
    for column in ("header", "field", "confidence"):
        mapping.add_column(column, overflow="fold")
    columns = shown["mapping"]["columns"]
    confidence = shown["mapping"].get("confidence") or {}
    for header, name in columns.items():
        mapping.add_row(header, name or "(ignored)", _score(confidence.get(header)))
    out.print(mapping)
    for note in shown.get("notes") or ():
        out.print(f"note: {note}")
    rejected = [r for r in plan.rows if r.status == "rejected"]
    if rejected:
        table = Table(title=f"rejected rows ({len(rejected)})", title_justify="left")
        for column in ("row", "field", "header", "reason"):
            table.add_column(
                column, overflow="fold", justify="right" if column == "row" else "left"
            )
        for row in rejected[:_REJECTED_SHOWN]:
            for error in row.errors or [{"message": "rejected"}]:
                table.add_row(
                    str(row.row),
                    str(error.get("field") or ""),
                    str(error.get("header") or ""),
                    str(error.get("message") or ""),
                )
        out.print(table)
        if len(rejected) > _REJECTED_SHOWN:
            out.print(f"… and {len(rejected) - _REJECTED_SHOWN} more rejected rows (--json)")
    ambiguous = [r for r in plan.rows if r.status == "ambiguous" and r.ambiguous]
    for row in ambiguous[:_AMBIGUOUS_SHOWN]:
        about = row.ambiguous or {}
        out.print(
            _candidates_table(
                list(about.get("candidates") or ()),
                title=f"ambiguous row {row.row}: {about.get('name')} ({about.get('end')})",
            )
        )
    if len(ambiguous) > _AMBIGUOUS_SHOWN:
        out.print(f"… and {len(ambiguous) - _AMBIGUOUS_SHOWN} more ambiguous rows (--json)")


def import_table(
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="The sheet: .xlsx, .xls, .csv (UTF-8, GB18030).")
    ],
    region: Annotated[
        str, typer.Option("--region", help="The county (6 digits) or town (9) it describes.")
    ],
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet name.")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Correct the guessed mapping: 表头=field (表头= ignores it). Repeatable.",
        ),
    ] = None,
    mapping_name: Annotated[
        str | None, typer.Option("--mapping", help="Start from this saved mapping.")
    ] = None,
    save_mapping: Annotated[
        str | None,
        typer.Option("--save-mapping", help="Save the mapping used under this name (on commit)."),
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", help="Label of a node sheet's names.")
    ] = None,
    link_type: Annotated[
        str | None, typer.Option("--link-type", help="Relation of rows without 联建类型.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Preview only: write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the preview (and commit).")
    ] = False,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Import as this store account (its role and scope)."),
    ] = None,
) -> None:
    """Import a 台账 (spreadsheet of nodes or links): preview, then commit as one unit.

    The preview resolves every row's names against the graph: matched, new, ambiguous (queued
    for review on commit) or rejected (row number and reason). ``undo-import`` takes a commit
    back."""
    _check_label(label)
    overrides = _overrides(map_)
    settings = runtime.get_settings()
    options = ImportOptions(
        filename=path.name[-200:],
        region_code=region,
        sheet=sheet,
        overrides=overrides,
        mapping_name=mapping_name,
        save_mapping_as=save_mapping,
        label=label,
        link_type=link_type,
    )
    out = _out()

    async def work(store: GraphStore) -> dict[str, Any]:
        data = _read_file(path, settings.max_import_bytes)
        services = _services(store)
        caller = await _caller(store, account)
        view = GraphViews(store).view(caller)
        started = time.perf_counter()
        with _progress("resolving rows") as progress:
            plan = await services.imports.plan(
                view, data, options, settings.max_import_bytes, progress
            )
        shown = plan.shown()
        if not as_json:
            _print_plan(shown, plan, out)
            console.print(f"planned in {time.perf_counter() - started:.1f} s")
        if dry_run:
            if not as_json:
                out.print("dry run: nothing written")
            return {"preview": shown, "committed": None}
        with _progress("committing") as progress:
            result = await services.imports.commit(
                view,
                caller,
                data,
                options,
                settings.max_import_bytes,
                shown["plan_digest"],
                None,
                progress,
            )
        return {"preview": shown, "committed": result}

    answer = run(work, settings)
    if as_json:
        print_json(answer)
        return
    result = answer["committed"]
    if result is None:
        return
    out.print(
        f"committed [bold]{result['import_id']}[/bold]: nodes {result['nodes_created']} "
        f"created, {result['nodes_updated']} updated; links {result['links_created']} created, "
        f"{result['links_updated']} updated"
    )
    items = result["review_items"]
    out.print(f"{len(items)} review item(s)" + (f": {', '.join(items)}" if items else ""))
    out.print(f"undo with: graph-service undo-import {result['import_id']}")


def undo_import(
    import_id: Annotated[str, typer.Argument(metavar="IMPORT_ID", help="The import's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Take a committed import back as one unit (refused if what it wrote changed since)."""

    async def work(store: GraphStore) -> dict[str, Any]:
        return await _services(store).imports.undo(operator(), import_id, None)

    result = run(work)
    if as_json:
        print_json(result)
        return
    _out().print(
        f"undone {result['import_id']}: {result['nodes_deleted']} nodes and "
        f"{result['links_deleted']} links deleted, {result['nodes_restored']} nodes and "
        f"{result['links_restored']} links restored"
    )


async def _listed(read: Callable[[str | None, int], Any], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` items of a paged listing."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(items) < limit:
        page = await read(cursor, min(MAX_PAGE, limit - len(items)))
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return items[:limit]


def imports(
    limit: Annotated[int, typer.Option(min=1, max=_MAX_LISTED, help="Imports at most.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """Committed (and undone) imports, newest first."""

    async def work(store: GraphStore) -> list[dict[str, Any]]:
        return await _listed(_services(store).imports.imports, limit)

    items = run(work)
    if as_json:
        print_json(items)
        return
    if not items:
        typer.echo("no import yet", err=True)
        return
    table = Table()
    for column in ("import", "status", "at", "file", "region", "rows", "matched", "new"):
        table.add_column(column, overflow="fold")
    for column in ("ambiguous", "rejected", "nodes", "links", "by"):
        table.add_column(column, overflow="fold")
    table.columns[0].no_wrap = True
    for item in items:
        counts = item.get("counts") or {}
        table.add_row(
            item["import_id"],
            item["status"],
            item["at"],
            str(item.get("file") or ""),
            str(item.get("region_code") or ""),
            *(str(counts.get(k, "")) for k in ("rows", "matched", "new", "ambiguous", "rejected")),
            str(item.get("nodes_written", "")),
            str(item.get("links_written", "")),
            str(item.get("by") or ""),
        )
    _out().print(table)


# ---------------------------------------------------------------------------- extract


def extract(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="A UTF-8 text file: the article.")],
    title: Annotated[str | None, typer.Option("--title", help="The article's title.")] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="Where it is about: villages are looked up under it."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the proposals as JSON.")] = False,
) -> None:
    """Read an article and propose its entities and links to the review queue (nothing is
    written to the graph until a person accepts them: ``review decide``)."""
    if region is not None:
        check_region_codes([region], "--region")

    async def work(store: GraphStore) -> dict[str, Any]:
        data = _read_file(path)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"{path} is not UTF-8 text (byte {exc.start}): {exc.reason}", field="file"
            ) from exc
        caller = operator()
        return await _services(store).articles.propose(
            GraphViews(store).view(caller), caller, text, title or path.stem, region, None
        )

    result = run(work)
    if as_json:
        print_json(result)
        return
    out = _out()
    out.print(
        f"document {result['document_id']} ({result['title']}): {len(result['entities'])} "
        f"entities and {len(result['links'])} links proposed"
    )
    if result["entities"]:
        table = Table(title="entities", title_justify="left")
        for column in ("review item", "name", "label", "best candidate", "evidence"):
            table.add_column(column, overflow="fold", no_wrap=column == "review item")
        for entity in result["entities"]:
            best = (entity.get("candidates") or [None])[0]
            table.add_row(
                entity["review_item"],
                entity["name"],
                entity["label"],
                f"{best['node']['name']} {best['node']['id']} ({_score(best['score'])})"
                if best
                else "(new)",
                entity["evidence"]["sentence"],
            )
        out.print(table)
    if result["links"]:
        table = Table(title="links", title_justify="left")
        for column in ("review item", "source", "type", "target", "evidence"):
            table.add_column(column, overflow="fold", no_wrap=column == "review item")
        for link in result["links"]:
            table.add_row(
                link["review_item"],
                str(link.get("source_name") or link["source"]),
                link["type"],
                str(link.get("target_name") or link["target"]),
                link["evidence"]["sentence"],
            )
        out.print(table)
    if result["entities"]:
        out.print("accept with: graph-service review decide ITEM positive --node ID|new")


# ---------------------------------------------------------------------------- review


def _what(item: Mapping[str, Any]) -> str:
    """One line saying what an item is about."""
    subject = item.get("subject") or {}
    kind = item.get("type")
    if kind == "duplicate":
        a, b = subject.get("a") or {}, subject.get("b") or {}
        score = (subject.get("match") or {}).get("score")
        return f"{a.get('name')} {a.get('id')} ≟ {b.get('name')} {b.get('id')} ({_score(score)})"
    if kind == "import_row":
        return (
            f"row {subject.get('row')}: {subject.get('name')} ({subject.get('end')}), "
            f"{len(subject.get('candidates') or ())} candidate(s)"
        )
    proposal = subject.get("proposal") or {}
    if kind == "entity":
        return (
            f"{proposal.get('name')} ({proposal.get('label')}), "
            f"{len(subject.get('candidates') or ())} candidate(s)"
        )
    if kind == "link":
        return (
            f"{proposal.get('source_name')} —{proposal.get('type')}→ {proposal.get('target_name')}"
        )
    return ""


@review_app.command("list")
def review_list(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="open | accepted | rejected | unsure (repeatable)."),
    ] = None,
    item_type: Annotated[
        str | None, typer.Option("--item-type", help="duplicate | import_row | entity | link.")
    ] = None,
    origin: Annotated[
        str | None, typer.Option("--origin", help="dedup | import | extraction.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Items under this division code.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=_MAX_LISTED, help="Items at most.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the items as JSON.")] = False,
) -> None:
    """Items of the queue, oldest first (open and unsure ones unless --status says)."""
    for value in status or ():
        if value not in ITEM_STATUSES:
            raise bad_option(f"--status is one of {', '.join(ITEM_STATUSES)}, not {value!r}")
    if item_type is not None and item_type not in _ITEM_TYPES:
        raise bad_option(f"--item-type is one of {', '.join(_ITEM_TYPES)}, not {item_type!r}")
    if origin is not None and origin not in _ORIGINS:
        raise bad_option(f"--origin is one of {', '.join(_ORIGINS)}, not {origin!r}")
    if region is not None:
        check_region_codes([region], "--region")
    statuses = list(status or PENDING)

    async def work(store: GraphStore) -> list[dict[str, Any]]:
        review = _services(store).review

        async def read(cursor: str | None, size: int) -> Any:
            return await review.page(statuses, region, item_type, origin, cursor, size)

        return await _listed(read, limit)

    items = run(work)
    if as_json:
        print_json(items)
        return
    if not items:
        typer.echo("no review item matches", err=True)
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    for column in ("type", "status", "region", "origin", "what", "created"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            item["id"],
            str(item["type"]),
            item["status"],
            str(item.get("region_code") or ""),
            str((item.get("origin") or {}).get("source") or ""),
            _what(item),
            str(item.get("created_at") or ""),
        )
    _out().print(table)


@review_app.command("show")
def review_show(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="The item's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the item as JSON.")] = False,
) -> None:
    """One item: what it proposes, its candidates and evidence, and any decision."""

    async def work(store: GraphStore) -> dict[str, Any]:
        return await _services(store).review.item(item_id)

    item = run(work)
    if as_json:
        print_json(item)
        return
    out = _out()
    origin = item.get("origin") or {}
    out.print(f"[bold]{item['id']}[/bold] {item['type']} · {item['status']}")
    out.print(f"region {item.get('region_code') or '-'} · from {origin.get('source')}", end="")
    for key in ("import_id", "file", "row", "document_id", "title"):
        if origin.get(key) is not None:
            out.print(f" · {key} {origin[key]}", end="")
    out.print(f"\ncreated {item.get('created_at')} by {item.get('created_by')}")
    out.print(_what(item))
    subject = item.get("subject") or {}
    if item["type"] == "duplicate":
        match = subject.get("match") or {}
        pair = [
            {**match, "node": subject.get("a") or {}, "matched": None},
            {**match, "node": subject.get("b") or {}, "matched": None},
        ]
        out.print(_candidates_table(pair, title="the pair"))
    elif subject.get("candidates"):
        out.print(_candidates_table(list(subject["candidates"]), title="candidates"))
    if item["type"] == "import_row" and subject.get("values"):
        values = ", ".join(f"{k}={v}" for k, v in subject["values"].items())
        out.print(f"row values: {values}")
    evidence = item.get("evidence") or {}
    if evidence.get("sentence"):
        out.print(f"evidence: {evidence['sentence']}")
    elif evidence.get("explanation"):
        out.print(f"evidence: {'; '.join(evidence['explanation'])}")
    elif evidence.get("row") is not None:
        out.print(f"evidence: {evidence.get('file')} {evidence.get('sheet')} row {evidence['row']}")
    decision = item.get("decision")
    if decision:
        out.print(
            f"decision: {decision.get('decision')} by {decision.get('by')} at {decision.get('at')}"
            + (f" · node {decision['node']}" if decision.get("node") else "")
            + (f" · canonical {decision['canonical']}" if decision.get("canonical") else "")
            + (f" · note {decision['note']}" if decision.get("note") else "")
            + (f" · undone by {decision['undone']}" if decision.get("undone") else "")
        )


@review_app.command("decide")
def review_decide(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="The item's id.")],
    decision: Annotated[str, typer.Argument(help="positive | negative | unsure.")],
    node: Annotated[
        str | None,
        typer.Option("--node", help="Import rows and entities: the candidate meant (id), or new."),
    ] = None,
    canonical: Annotated[
        str | None,
        typer.Option("--canonical", help="Duplicates: the node kept (default: better connected)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept with it).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Judge an item: positive merges a pair or writes a row or proposal; negative writes
    nothing (a pair is never proposed again); unsure keeps it in the queue."""
    if decision not in DECISIONS:
        raise bad_option(f"the decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    choice = {"node": node, "canonical": canonical, "note": note}

    async def work(store: GraphStore) -> dict[str, Any]:
        caller = operator()
        return await _services(store).review.decide(
            GraphViews(store).view(caller), caller, item_id, decision, choice, None
        )

    result = run(work)
    if as_json:
        print_json(result)
        return
    out = _out()
    out.print(f"{result['item']['id']}: {result['item']['status']}")
    if result.get("merge"):
        done = result["merge"]
        out.print(
            f"merged {done['merged']} into {done['canonical']} ({done['merge_id']}): "
            f"{done['links_moved']} links moved, {done['links_combined']} combined"
        )
        out.print(f"undo with: graph-service undo-merge {done['merge_id']}")
    elif "nodes_written" in result:
        out.print(
            f"{result['nodes_written']} nodes and {result['links_written']} links written"
            + (f"; node {result['node']}" if result.get("node") else "")
        )


# ---------------------------------------------------------------------------- merges


def dedup_scan(
    region: Annotated[str, typer.Option("--region", help="Scan the nodes under this code.")],
    label: Annotated[str | None, typer.Option("--label", help="Only nodes of this label.")] = None,
    threshold: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="Least match score of a proposed pair.")
    ] = 0.85,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Propose the likely duplicate nodes of a region to the review queue (pairs judged or
    queued before are left out)."""
    _check_label(label)
    check_region_codes([region], "--region")

    async def work(store: GraphStore) -> dict[str, Any]:
        caller = operator()
        return await _services(store).review.scan(
            GraphViews(store).view(caller), caller, region, label, threshold, None
        )

    result = run(work)
    if as_json:
        print_json(result)
        return
    out = _out()
    out.print(
        f"{result['scanned']} nodes scanned under {result['region_code']}: {result['pairs']} "
        f"likely pairs, {result['already_judged']} judged before, {result['already_queued']} "
        f"queued already, {result['proposed']} proposed"
    )
    if not result["items"]:
        return
    table = Table(title="proposed", title_justify="left")
    table.add_column("review item", no_wrap=True)
    for column in ("a", "b", "score", "explanation"):
        table.add_column(column, overflow="fold")
    for item in result["items"]:
        subject = item["subject"]
        match = subject.get("match") or {}
        table.add_row(
            item["id"],
            f"{subject['a']['name']} {subject['a']['id']}",
            f"{subject['b']['name']} {subject['b']['id']}",
            _score(match.get("score")),
            "; ".join(match.get("explanation") or ()),
        )
    out.print(table)
    out.print("judge with: graph-service review decide ITEM positive|negative|unsure")


def merge(
    canonical: Annotated[
        str, typer.Argument(metavar="CANONICAL", help="The node kept (id, code or unique name).")
    ],
    merged: Annotated[str, typer.Argument(metavar="MERGED", help="The node merged into it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Merge a duplicate node into a canonical one: its links, names and sources move over,
    and its id keeps resolving to the canonical node. ``undo-merge`` takes it back."""

    async def work(store: GraphStore) -> dict[str, Any]:
        caller = operator()
        view: GraphView = GraphViews(store).view(caller)
        keep = await resolve_node(view, canonical, "canonical")
        gone = await resolve_node(view, merged, "merged")
        result = await _services(store).review.merge(view, caller, keep, gone, None)
        result.pop("item", None)
        return result

    result = run(work)
    if as_json:
        print_json(result)
        return
    out = _out()
    out.print(
        f"merged {result['merged']} into {result['canonical']} ({result['merge_id']}): "
        f"{result['links_moved']} links moved, {result['links_combined']} combined"
    )
    out.print(f"undo with: graph-service undo-merge {result['merge_id']}")


def undo_merge(
    merge_id: Annotated[str, typer.Argument(metavar="MERGE_ID", help="The merge's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Undo a merge as one unit: the merged node and its links come back."""

    async def work(store: GraphStore) -> dict[str, Any]:
        return await _services(store).review.undo_merge(operator(), merge_id, None)

    result = run(work)
    if as_json:
        print_json(result)
        return
    _out().print(
        f"undone {result['merge_id']}: {result['merged']} is back beside {result['canonical']}"
    )


def merges(
    limit: Annotated[int, typer.Option(min=1, max=_MAX_LISTED, help="Merges at most.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """Merges, newest first."""

    async def work(store: GraphStore) -> list[dict[str, Any]]:
        return await _listed(_services(store).review.merges, limit)

    items = run(work)
    if as_json:
        print_json(items)
        return
    if not items:
        typer.echo("no merge yet", err=True)
        return
    table = Table()
    table.add_column("merge", no_wrap=True)
    for column in ("status", "at", "canonical", "merged", "links moved", "item", "by"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            item["merge_id"],
            item["status"],
            item["at"],
            str(item.get("canonical") or ""),
            f"{item.get('merged_name') or ''} {item.get('merged') or ''}".strip(),
            str(item.get("links_moved") or 0),
            str(item.get("item") or ""),
            str(item.get("by") or ""),
        )
    _out().print(table)
