"""Response shapes of the ways in for a planner's own data: name resolution, the review
queue and merges, spreadsheet imports and extraction from articles."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DedupScan",
    "DocumentExtraction",
    "ImportCommitted",
    "ImportListed",
    "ImportPage",
    "ImportPreview",
    "ImportUndone",
    "MergeDone",
    "MergeListed",
    "MergePage",
    "MergeUndone",
    "Resolved",
    "ReviewDecided",
    "ReviewItem",
    "ReviewPage",
    "SavedMapping",
    "SavedMappings",
]


class _Out(BaseModel):
    """A closed response shape (extra input ignored)."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class MatchedNode(_Open):
    id: str
    name: str
    label: str
    kind: str | None = None
    region_code: str | None = None


class NameMatch(_Out):
    """One candidate: the node, a score in [0, 1], the name or alias that gave it, the
    features behind it and a planner's explanation (Chinese)."""

    node: MatchedNode
    score: float = Field(ge=0, le=1)
    matched: str
    features: dict[str, Any]
    explanation: list[str]


class ResolveQuery(_Out):
    name: str
    normalised: str = Field(description="The name as compared: folded, without punctuation.")
    core: str = Field(description="Without its organisation suffix and region prefix.")
    label: str | None
    region_code: str | None


class Resolved(_Out):
    query: ResolveQuery
    candidates: list[NameMatch]


class ReviewItem(_Out):
    """A queue item: what is proposed (``subject``), why (``evidence``), and its decision."""

    id: str
    type: str = Field(description="duplicate, import_row, entity or link.")
    status: str = Field(description="open, accepted, rejected or unsure.")
    region_code: str | None
    origin: dict[str, Any] | None
    subject: dict[str, Any] | None
    evidence: dict[str, Any] | None
    created_by: str | None
    created_at: str | None
    updated_at: str
    decision: dict[str, Any] | None


class ReviewPage(_Out):
    items: list[ReviewItem]
    next_cursor: str | None


class MergeDone(_Out):
    merge_id: str
    canonical: str
    merged: str
    links_moved: int
    links_combined: int
    history_recorded: int
    item: ReviewItem | None = None


class ReviewDecided(_Out):
    item: ReviewItem
    merge: MergeDone | None = None
    nodes_written: int | None = None
    links_written: int | None = None
    node: str | None = Field(default=None, description="The node the item now stands for.")


class DedupScan(_Out):
    region_code: str
    scanned: int
    pairs: int
    already_judged: int
    already_queued: int
    proposed: int
    items: list[ReviewItem]


class MergeUndone(_Out):
    merge_id: str
    status: str
    canonical: str
    merged: str
    history_recorded: int


class MergeListed(_Out):
    merge_id: str
    status: str
    canonical: str | None
    merged: str | None
    merged_name: str | None
    by: str | None
    at: str
    links_moved: int | None
    links_combined: int | None
    item: str | None


class MergePage(_Out):
    items: list[MergeListed]
    next_cursor: str | None


class ImportPreview(_Out):
    file: str
    sha256: str
    sheet: str | None
    sheets: list[str]
    header_row: int
    region_code: str
    table_kind: str = Field(description="nodes or links.")
    mapping: dict[str, Any]
    unmapped: list[str]
    skipped_empty_rows: int
    notes: list[str]
    counts: dict[str, int]
    plan_digest: str = Field(description="Give it to the commit: it refuses a changed plan.")
    rows: list[dict[str, Any]]
    rows_shown: int


class ImportCommitted(_Out):
    import_id: str
    status: str
    counts: dict[str, int]
    nodes_created: int
    nodes_updated: int
    links_created: int
    links_updated: int
    review_items: list[str]
    rejected: list[dict[str, Any]]
    plan_digest: str


class ImportUndone(_Out):
    import_id: str
    status: str
    nodes_deleted: int
    links_deleted: int
    nodes_restored: int
    links_restored: int


class ImportListed(_Out):
    import_id: str
    status: str
    file: str | None
    sha256: str | None
    sheet: str | None
    region_code: str | None
    table_kind: str | None
    counts: dict[str, int] | None
    nodes_written: int | None
    links_written: int | None
    review_items: list[str] | None
    by: str | None
    at: str


class ImportPage(_Out):
    items: list[ImportListed]
    next_cursor: str | None


class SavedMapping(_Out):
    name: str
    mapping: dict[str, Any] | None
    by: str | None
    at: str
    fields: list[str] = Field(description="The import fields a column may map to.")


class SavedMappings(_Out):
    items: list[SavedMapping]


class DocumentExtraction(_Out):
    document_id: str
    title: str | None
    sentences: int
    entities: list[dict[str, Any]]
    links: list[dict[str, Any]]
    review_items: list[str]
