"""Helpers every backend shares: cursors, code ranges, coverage rows, search ranking."""

from __future__ import annotations

import base64

from graph_service.errors import InvalidInputError
from graph_service.models import NodeDoc
from graph_service.store.protocol import RegionCoverage, SearchHit

__all__ = [
    "child_code_length",
    "code_range",
    "coverage_row",
    "decode_cursor",
    "encode_cursor",
    "rank_match",
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


def rank_match(needle: str, doc: NodeDoc) -> SearchHit | None:
    """Rank one node against a lower-cased query: exact > prefix > substring.

    Within a class a closer length wins: 台头 matches 台头村 before 台头村党支部.
    """
    best: SearchHit | None = None
    for name in (doc["name"], *doc.get("aliases", ())):
        lowered = name.lower()
        if lowered == needle:
            match, base = "exact", 3.0
        elif lowered.startswith(needle):
            match, base = "prefix", 2.0
        elif needle in lowered:
            match, base = "substring", 1.0
        else:
            continue
        score = base + len(needle) / len(lowered)
        if best is None or score > best.score:
            best = SearchHit(doc, match, name, round(score, 4))  # type: ignore[arg-type]
    return best
