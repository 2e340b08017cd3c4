"""Helpers every backend shares: cursors, code ranges, coverage rows, search ranking."""

from __future__ import annotations

import base64
import heapq
from collections.abc import Iterable

from graph_service.errors import InvalidInputError
from graph_service.models import NodeDoc
from graph_service.store.protocol import RegionCoverage, SearchHit

__all__ = [
    "child_code_length",
    "code_range",
    "coverage_row",
    "decode_cursor",
    "encode_cursor",
    "match_score",
    "rank_match",
    "top_hits",
]

#: Region code length of the next level down: province → city → county → town → village.
_CHILD_LENGTH = {2: 4, 4: 6, 6: 9, 9: 12}


def child_code_length(code: str) -> int | None:
    return _CHILD_LENGTH.get(len(code))


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str:
    if not cursor:
        return ""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError("malformed cursor", field="cursor") from exc


def code_range(prefix: str) -> tuple[str, str]:
    # Codes are digits; ':' sorts right after '9', so [p, p + ':') is "starts with p".
    return prefix, prefix + ":"


def coverage_row(code: str, name: str, villages: list[str], covered: set[str]) -> RegionCoverage:
    return RegionCoverage(
        region_code=code,
        name=name,
        villages=len(villages),
        covered=sum(1 for v in villages if v in covered),
        uncovered_village_ids=[v for v in villages if v not in covered],
    )


def match_score(needle: str, names: Iterable[str]) -> tuple[float, str, str] | None:
    """``(score, match, matched name)`` of the best of ``names`` for a lower-cased query.

    exact (3) > prefix (2) > substring (1); within a class a closer length wins, so 台头
    finds 台头村 before 台头村党支部.
    """
    best: tuple[float, str, str] | None = None
    for name in names:
        lowered = name.lower()
        if lowered == needle:
            match, base = "exact", 3.0
        elif lowered.startswith(needle):
            match, base = "prefix", 2.0
        elif needle in lowered:
            match, base = "substring", 1.0
        else:
            continue
        score = round(base + len(needle) / len(lowered), 4)
        if best is None or score > best[0]:
            best = (score, match, name)
    return best


def rank_match(needle: str, doc: NodeDoc) -> SearchHit | None:
    """A search hit for one node, or ``None`` when no name or alias contains the query."""
    found = match_score(needle, (doc["name"], *doc.get("aliases", ())))
    if found is None:
        return None
    score, match, matched = found
    return SearchHit(doc, match, matched, score)  # type: ignore[arg-type]


def top_hits(needle: str, docs: Iterable[NodeDoc], limit: int) -> list[SearchHit]:
    """The ``limit`` best hits among ``docs``, ranked by score, then name, then id."""
    scored = []
    for doc in docs:
        found = match_score(needle, (doc["name"], *doc.get("aliases", ())))
        if found is not None:
            scored.append((-found[0], doc["name"], doc["id"], found, doc))
    best = heapq.nsmallest(limit, scored, key=lambda item: item[:3])
    return [SearchHit(doc, found[1], found[2], found[0]) for *_, found, doc in best]  # type: ignore[arg-type]
