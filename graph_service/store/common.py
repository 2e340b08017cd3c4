"""Helpers every backend shares: stored fields, cursors and pages, code ranges, coverage
roll-up, search ranking."""

from __future__ import annotations

import base64
import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from graph_service.domain import DIVISION_CODE_LENGTHS, VILLAGE_CODE_LENGTH, child_code_length
from graph_service.errors import InvalidInputError, NotFoundError
from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import NODE_LABELS
from graph_service.search_text import clean, fold
from graph_service.store.protocol import (
    AccountDoc,
    CoverageReport,
    HistoryDoc,
    JudgementDoc,
    KeyDoc,
    Page,
    RecordDoc,
    RegionCoverage,
    SearchHit,
)

__all__ = [
    "ACCOUNT_FIELDS",
    "HISTORY_FIELDS",
    "JUDGEMENT_FIELDS",
    "KEY_FIELDS",
    "LINK_FIELDS",
    "NODE_FIELDS",
    "OWN_CODE_LABELS",
    "RECORD_FIELDS",
    "PageRequest",
    "SearchText",
    "account_fields",
    "child_region_length",
    "chunks",
    "code_range",
    "coverage_report",
    "coverage_row",
    "decode_cursor",
    "encode_cursor",
    "history_fields",
    "judgement_fields",
    "key_fields",
    "key_match",
    "link_fields",
    "match_score",
    "node_fields",
    "record_fields",
    "require_region",
    "top_hits",
]

T = TypeVar("T")

# ---------------------------------------------------------------------- stored fields

#: What a backend keeps of a document beside the whole of it, to filter and sort by:
#: columns (embedded) or properties (Neo4j), in this order.
NODE_FIELDS = ("id", "label", "kind", "name", "region_code", "valid_from", "valid_to")
LINK_FIELDS = ("id", "type", "source", "target", "valid_from", "valid_to")
JUDGEMENT_FIELDS = ("id", "pair", "target", "partner", "decision", "decided_by", "decided_at")
ACCOUNT_FIELDS = ("name", "role", "scope")
KEY_FIELDS = ("id", "account", "hash")
RECORD_FIELDS = ("id", "kind", "key", "at", "status", "region")
HISTORY_FIELDS = (
    "id",
    "at",
    "account",
    "operation",
    "entity",
    "entity_id",
    "region_a",
    "region_b",
)


def node_fields(doc: NodeDoc) -> tuple[Any, ...]:
    """The :data:`NODE_FIELDS` of a node."""
    return (
        doc["id"],
        doc["label"],
        doc.get("kind"),
        doc["name"],
        doc.get("region_code"),
        doc.get("valid_from"),
        doc.get("valid_to"),
    )


def link_fields(doc: LinkDoc) -> tuple[Any, ...]:
    """The :data:`LINK_FIELDS` of a link."""
    return (
        doc["id"],
        doc["type"],
        doc["source"],
        doc["target"],
        doc.get("valid_from"),
        doc.get("valid_to"),
    )


def judgement_fields(doc: JudgementDoc) -> tuple[Any, ...]:
    """The :data:`JUDGEMENT_FIELDS` of a judgement."""
    return (
        doc["id"],
        doc["pair"],
        doc["target"],
        doc["partner"],
        doc["decision"],
        doc.get("decided_by"),
        doc["decided_at"],
    )


def record_fields(doc: RecordDoc) -> tuple[Any, ...]:
    """The :data:`RECORD_FIELDS` of a record."""
    return (
        doc["id"],
        doc["kind"],
        doc["key"],
        doc["at"],
        doc.get("status"),
        doc.get("region"),
    )


def account_fields(doc: AccountDoc) -> tuple[Any, ...]:
    """The :data:`ACCOUNT_FIELDS` of an account."""
    return (doc["name"], doc["role"], doc["scope"])


def key_fields(doc: KeyDoc) -> tuple[Any, ...]:
    """The :data:`KEY_FIELDS` of a key."""
    return (doc["id"], doc["account"], doc["hash"])


def history_fields(doc: HistoryDoc) -> tuple[Any, ...]:
    """The :data:`HISTORY_FIELDS` of a history entry: an entry touches one region or two
    (a node's old and new region, a link's ends)."""
    regions = [*doc["regions"], None, None]
    return (
        doc["id"],
        doc["at"],
        doc["account"],
        doc["operation"],
        doc["entity"],
        doc["entity_id"],
        regions[0],
        regions[1],
    )


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``: one statement each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------- pages


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


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of a list in id order: the rows after ``after``, ``limit`` of them."""

    after: str
    limit: int

    @classmethod
    def of(cls, cursor: str | None, limit: int) -> PageRequest:
        return cls(decode_cursor(cursor), limit)

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page says whether another page follows."""
        return self.limit + 1

    def page(self, rows: Sequence[tuple[str, str | bytes]]) -> Page:
        """The page of ``(id, JSON document)`` rows read in id order, at most :attr:`fetch`."""
        items = [orjson.loads(doc) for _, doc in rows[: self.limit]]
        next_cursor = encode_cursor(rows[self.limit - 1][0]) if len(rows) > self.limit else None
        return Page(items, next_cursor)


# ---------------------------------------------------------------------- regions and coverage


def code_range(prefix: str) -> tuple[str, str]:
    # Codes are digits; ':' sorts right after '9', so [p, p + ':') is "starts with p".
    return prefix, prefix + ":"


def coverage_row(code: str, name: str, villages: list[str], covered: Set[str]) -> RegionCoverage:
    return RegionCoverage(
        region_code=code,
        name=name,
        villages=len(villages),
        covered=sum(1 for v in villages if v in covered),
        uncovered_village_ids=[v for v in villages if v not in covered],
    )


def child_region_length(code: str) -> int | None:
    """Code length of the regions one level below ``code``; ``None`` for a town, whose
    children are villages."""
    length = child_code_length(code)
    return length if length is not None and length < VILLAGE_CODE_LENGTH else None


def require_region(region: NodeDoc | None, code: str) -> NodeDoc:
    if region is None or region["label"] != "Region":
        raise NotFoundError(f"no region with code {code}", field="code")
    return region


def coverage_report(
    region: NodeDoc,
    code: str,
    village_codes: Mapping[str, str],
    covered: Set[str],
    children: Iterable[tuple[str, str]],
) -> CoverageReport:
    """Roll villages up to the region and to each child region.

    ``village_codes`` maps the region's villages (valid on the day asked) to their codes,
    ``covered`` holds those covered, ``children`` is ``(code, name)`` of each region of
    :func:`child_region_length` under it, in code order.
    """
    villages = sorted(village_codes)
    by_child: defaultdict[str, list[str]] = defaultdict(list)
    length = child_region_length(code)
    if length is not None:
        for village in villages:
            by_child[village_codes[village][:length]].append(village)
    rows = [coverage_row(c, name, by_child.get(c, []), covered) for c, name in children]
    return CoverageReport(region, coverage_row(code, region["name"], villages, covered), rows)


# ---------------------------------------------------------------------- search

#: Labels whose ``region_code`` is the node's own division code (Region, Village): a search
#: for the code finds the node itself, not everything located there.
OWN_CODE_LABELS: frozenset[str] = frozenset(
    label for label, spec in NODE_LABELS.items() if spec.official_code
)
#: The score of an exact match: a whole name, alias, id or own division code.
_EXACT = 4.0


@dataclass(frozen=True, slots=True)
class SearchText:
    """What a search looks for: ``needle``, the folded text, in names and aliases (exact,
    prefix or substring), and the text as typed (cleaned) as a whole node id (``ids``: as
    typed and lower-cased) or division code (``code``: 2, 4, 6, 9 or 12 digits)."""

    needle: str
    ids: tuple[str, ...] = ()
    code: str | None = None

    @classmethod
    def of(cls, text: str) -> SearchText:
        key = clean(text)
        # Ids are ASCII without spaces: other text is looked for in names only.
        if not key or not key.isascii() or " " in key:
            return cls(fold(text))
        ids = (key,) if key == key.lower() else (key, key.lower())
        code = key if key.isdigit() and len(key) in DIVISION_CODE_LENGTHS else None
        return cls(fold(text), ids, code)


def match_score(needle: str, names: Iterable[str]) -> tuple[float, str, str] | None:
    """``(score, match, matched name)`` of the best of ``names`` for a folded query.

    exact (3) > prefix (2) > substring (1); within a class a closer length wins, so 台头
    finds 台头村 before 台头村党支部. Names are compared folded (``search_text.fold``).
    """
    best: tuple[float, str, str] | None = None
    for name in names:
        folded = fold(name)
        # One test rules out the names that do not match at all (most aliases).
        if needle not in folded:
            continue
        if len(folded) == len(needle):
            match, base = "exact", 3.0
        elif folded.startswith(needle):
            match, base = "prefix", 2.0
        else:
            match, base = "substring", 1.0
        score = round(base + len(needle) / len(folded), 4)
        if best is None or score > best[0]:
            best = (score, match, name)
    return best


def key_match(text: SearchText, doc: NodeDoc) -> tuple[float, str, str] | None:
    """An exact match of the whole query on the node's id or its own division code."""
    if doc["id"] in text.ids:
        return _EXACT, "exact", doc["id"]
    code = text.code
    if code is not None and doc["label"] in OWN_CODE_LABELS and doc.get("region_code") == code:
        return _EXACT, "exact", code
    return None


def top_hits(text: SearchText, docs: Iterable[NodeDoc], limit: int) -> list[SearchHit]:
    """The ``limit`` best hits among ``docs``, ranked by score, then name, then id."""
    scored = []
    # Text that cannot be an id or a code (most names) skips the key test of every node.
    keyed = bool(text.ids)
    needle = text.needle
    for doc in docs:
        found = (keyed and key_match(text, doc)) or match_score(
            needle, (doc["name"], *doc.get("aliases", ()))
        )
        if found is not None:
            scored.append((-found[0], doc["name"], doc["id"], found, doc))
    best = heapq.nsmallest(limit, scored, key=lambda item: item[:3])
    return [SearchHit(doc, found[1], found[2], found[0]) for *_, found, doc in best]  # type: ignore[arg-type]
