"""Sentence splitting with character offsets."""

from __future__ import annotations

import re
from typing import Final

from graph_service.extraction.model import Evidence

__all__ = ["split_sentences"]

#: A sentence ends after one of these (closing quotes and brackets stay with it).
_END: Final = re.compile(r"[。！？；!?;\n]+[”’」』）)]*")


def split_sentences(text: str) -> list[Evidence]:
    """Split ``text`` into sentences on ``。！？；`` and line breaks, keeping offsets.

    Parameters
    ----------
    text : str
        The document text.

    Returns
    -------
    list of Evidence
        One per non-blank sentence, stripped of surrounding whitespace and of the closing
        punctuation; ``text[e.start:e.end] == e.sentence`` for each.
    """
    out: list[Evidence] = []
    pos = 0
    for match in _END.finditer(text):
        _add(out, text, pos, match.start())
        pos = match.end()
    _add(out, text, pos, len(text))
    return out


def _add(out: list[Evidence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Evidence(text[start:end], start, end))
