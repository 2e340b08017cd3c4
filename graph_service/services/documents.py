"""The source documents the graph quotes: the seed's articles (metadata and text).

An ``article`` source names one of them, and its quote must occur in its text; the check
compares whitespace-free text, as the seed's own quote check does
(``graph_service.services.seed.normalise_text``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from graph_service.services.seed import normalise_text

__all__ = ["SourceDocuments"]


class SourceDocuments:
    def __init__(self, seed_dir: Path) -> None:
        self.seed_dir = seed_dir

    def all(self) -> dict[str, dict[str, Any]]:
        """Document id → its metadata."""
        return _metadata(self.seed_dir)

    def text(self, document_id: str) -> str | None:
        if document_id not in self.all():
            return None
        return _text(self.seed_dir, document_id)

    def quotes(self, document_id: str, quote: str) -> bool:
        """Whether ``quote`` occurs in the document (whitespace aside)."""
        text = self.text(document_id)
        return text is not None and normalise_text(quote) in _normalised(self.seed_dir, document_id)


@lru_cache(maxsize=4)
def _metadata(seed_dir: Path) -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted((seed_dir / "curated").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8")).get("document") or {}
        if document.get("id"):
            documents[document["id"]] = document
    return documents


@lru_cache(maxsize=32)
def _text(seed_dir: Path, document_id: str) -> str:
    return (seed_dir / "documents" / document_id).read_text(encoding="utf-8")


@lru_cache(maxsize=32)
def _normalised(seed_dir: Path, document_id: str) -> str:
    return normalise_text(_text(seed_dir, document_id))
