"""The command line, one module per command group.

``graph-service serve | migrate | stats | hash-key`` (:mod:`.admin`), ``accounts …`` and
``keys …`` (:mod:`.accounts`), ``load-seed |
load-divisions | generate | import | export | export-graph`` (:mod:`.data`), ``analyse …``
(:mod:`.analyse`), ``recommend …`` (:mod:`.recommend`), ``evaluate`` (:mod:`.evaluate`),
``search`` (:mod:`.search`), ``history | restore`` (:mod:`.history`), ``analyse-national``
(:mod:`.national`), ``export-neo4j-csv`` (:mod:`.bulk`) and ``report`` (:mod:`.report`).
Every command reads the graph through the caller-aware view (:mod:`.runtime`), as the HTTP
API does; none imports an HTTP route module.
"""

from __future__ import annotations

import typer

from graph_service.cli import (
    accounts,
    admin,
    bulk,
    data,
    evaluate,
    history,
    intake,
    national,
    report,
    search,
)
from graph_service.cli.analyse import analyse_app
from graph_service.cli.recommend import recommend_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="graph-service",
    help="Knowledge-graph service for 党建联建 networks.",
    no_args_is_help=True,
    add_completion=False,
)
admin.register(app)
accounts.register(app)
data.register(app)
bulk.register(app)  # export-neo4j-csv
evaluate.register(app)
search.register(app)
history.register(app)
intake.register(app)  # resolve, import-table, extract, review …, dedup-scan, merge
national.register(app)  # analyse-national
report.register(app)  # report (.xlsx)
app.add_typer(analyse_app, name="analyse")
app.add_typer(recommend_app, name="recommend")


def main() -> None:
    app()
