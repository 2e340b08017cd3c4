"""Analyses computed ahead of time (the national batch run) and kept as records beside the graph.

A batch run (``graph_service.services.national``) computes the answers of some routes for
every county and appends each as a record of kind :data:`RECORD_KIND`: its key names the
analysis, the audience it was computed for and a digest of every parameter that decides the
answer (scope, date, measures, limits …); the record holds the answer and the store version
it was computed at. A route asked the same question answers from the record only while the
store is still at that version (:func:`stored_answer`): a write makes every stored answer
stale, and the route computes again as if none were stored.

Both sides build the parameters with the functions here, so what a batch stores is found
by exactly the requests it answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from graph_service.services.analysis_scope import AnalysisScope
from graph_service.services.changes import new_record
from graph_service.store.protocol import GraphStore, RecordDoc, RecordQuery

__all__ = [
    "RECORD_KIND",
    "STORED_ANALYSES",
    "centrality_parameters",
    "coverage_parameters",
    "record_key",
    "rules_parameters",
    "stored_answer",
    "stored_record",
]

#: The kind of the records that hold stored answers.
RECORD_KIND: Final[str] = "analysis"
#: What a batch run can store, in the order it computes them for a county.
STORED_ANALYSES: Final[tuple[str, ...]] = ("centrality", "coverage", "rules", "recommendations")


def _day(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def centrality_parameters(
    scope: AnalysisScope,
    measures: Sequence[str],
    top: int,
    k: int | None,
    seed: int,
    exact_max: int,
) -> dict[str, Any]:
    """What decides a centrality answer (``AnalysisService.centrality``)."""
    return {
        "scope": scope.describe(),
        "measures": list(measures),
        "top": top,
        "k": k,
        "seed": seed,
        "exact_max": exact_max,
    }


def coverage_parameters(
    region: str,
    as_of: dt.date | None,
    strong_threshold: float,
    details: bool,
    limit: int,
) -> dict[str, Any]:
    """What decides a coverage answer (``AnalysisService.coverage``)."""
    return {
        "region": region,
        "as_of": _day(as_of),
        "strong_threshold": float(strong_threshold),
        "details": details,
        "limit": limit,
    }


def rules_parameters(scope: AnalysisScope) -> dict[str, Any]:
    """What decides a rule check (``AnalysisService.rule_check``) besides the rules file."""
    return {"scope": scope.describe()}


def record_key(analysis: str, parameters: Mapping[str, Any], audience: str) -> str:
    """``analysis:audience:digest``: the digest covers every parameter, canonically ordered."""
    canonical = orjson.dumps(parameters, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(canonical).hexdigest()[:32]
    return f"{analysis}:{audience}:{digest}"


def stored_record(
    analysis: str,
    parameters: Mapping[str, Any],
    audience: str,
    region: str,
    version: int,
    answer: Mapping[str, Any],
    run: str,
) -> RecordDoc:
    """A new record holding ``answer``, computed at store ``version`` by batch ``run``."""
    return new_record(
        RECORD_KIND,
        record_key(analysis, parameters, audience),
        status="stored",
        region=region,
        analysis=analysis,
        audience=audience,
        parameters=dict(parameters),
        version=version,
        run=run,
        answer=dict(answer),
    )


async def stored_answer(
    store: GraphStore, analysis: str, parameters: Mapping[str, Any], audience: str
) -> dict[str, Any] | None:
    """The stored answer to this question if one was computed at the store's current
    version, with its ``provenance``; ``None`` when there is none or it is stale."""
    key = record_key(analysis, parameters, audience)
    # The newest version of one key: an index range on both stores, however many runs and
    # counties are stored (``current=True`` would group every record of the kind).
    page = await store.list_records(
        RecordQuery(RECORD_KIND, keys=[key], newest_first=True), None, 1
    )
    found = page.items[0] if page.items else None
    if found is None or found.get("version") != await store.version():
        return None
    answer: dict[str, Any] = dict(found["answer"])
    answer["provenance"] = {
        "source": "stored",
        "run": found.get("run"),
        "computed_at": found.get("at"),
        "version": found.get("version"),
    }
    return answer
