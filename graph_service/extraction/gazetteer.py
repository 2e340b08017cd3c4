"""Known names (the division register, the graph) and the segmenter that knows them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Final

import jieba
import jieba.posseg

from graph_service.extraction.model import GazetteerEntry
from graph_service.search_text import fold
from graph_service.vocabulary import ORGANISATION_SUFFIXES, REGION_SUFFIXES

__all__ = ["Gazetteer", "Token"]

#: jieba logs the building of its prefix dictionary at DEBUG on stderr: keep it quiet.
logging.getLogger("jieba").setLevel(logging.WARNING)

#: Part-of-speech tag given to the names of each label in the gazetteer's dictionary.
_LABEL_TAGS: Final[dict[str, str]] = {
    "Region": "ns",
    "Village": "ns",
    "PartyOrganization": "nt",
    "Enterprise": "nt",
    "Institution": "nt",
    "Industry": "nz",
    "Program": "nz",
    "Person": "nr",
}
#: Frequency of a known name: high enough that the segmenter keeps it in one piece.
_NAME_FREQ: Final = 2_000_000
_QUOTES: Final = "“”\"‘’'「」『』"
_VILLAGE_SUFFIXES: Final = ORGANISATION_SUFFIXES["village"]

#: A token of the segmenter: word, part-of-speech tag, start and end offsets.
Token = tuple[str, str, int, int]


def _unquote(name: str) -> str:
    return "".join(ch for ch in name if ch not in _QUOTES)


def _strip(name: str, suffixes: Iterable[str]) -> str:
    for suffix in sorted(suffixes, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one substitution or insertion."""
    if a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1 and a[0] == b[0]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(1, len(long_)))


def village_stem(name: str) -> str:
    """``台头村委会`` → ``台头``; ``许铺社区林庄村`` → ``林庄``."""
    stem = _strip(name, _VILLAGE_SUFFIXES)
    if "社区" in stem[1:]:
        stem = stem.rsplit("社区", 1)[1] or stem
    return stem


def region_stem(name: str) -> str:
    """``恩城镇`` → ``恩城``; ``龙门街道`` → ``龙门``."""
    return _strip(name, REGION_SUFFIXES)


class Gazetteer:
    """Known names, looked up as written (after :func:`~graph_service.search_text.fold`).

    Built once and reused: it holds a jieba tokenizer of its own whose dictionary knows
    every name (the global jieba dictionary is never touched).

    Parameters
    ----------
    entries : iterable of GazetteerEntry
        The known names: register divisions and graph nodes.
    """

    def __init__(self, entries: Iterable[GazetteerEntry]) -> None:
        self.entries: tuple[GazetteerEntry, ...] = tuple(entries)
        self._names: dict[str, list[GazetteerEntry]] = {}
        self._village_stems: dict[str, list[GazetteerEntry]] = {}
        self._region_stems: dict[str, list[GazetteerEntry]] = {}
        self._words: dict[str, str] = {}
        for entry in self.entries:
            self._index(entry)
        self.max_length = max((len(name) for name in self._names), default=0)
        self._lock = threading.Lock()
        self._tokenizer: jieba.posseg.POSTokenizer | None = None

    # -- indexing ---------------------------------------------------------------------

    def _add_name(self, surface: str, entry: GazetteerEntry, word: bool = True) -> None:
        key = fold(_unquote(surface))
        if len(key) < 2:
            return
        bucket = self._names.setdefault(key, [])
        if entry not in bucket:
            bucket.append(entry)
        if word and len(key) >= 3:
            self._words.setdefault(key, _LABEL_TAGS.get(entry.label, "nz"))

    def _index(self, entry: GazetteerEntry) -> None:
        for surface in (entry.name, *entry.aliases):
            if not surface:
                continue
            if entry.label == "Village":
                stem = fold(village_stem(_unquote(surface)))
                if len(stem) >= 2:
                    self._village_stems.setdefault(stem, [])
                    if entry not in self._village_stems[stem]:
                        self._village_stems[stem].append(entry)
                    suffix = "社区" if entry.kind == "社区" or surface.endswith("社区") else "村"
                    self._add_name(stem + suffix, entry)
                self._add_name(surface, entry, word=not surface.endswith("委员会"))
            elif entry.label == "Region":
                stem = fold(region_stem(surface))
                if len(stem) >= 2 and stem != fold(surface):
                    self._region_stems.setdefault(stem, []).append(entry)
                    # A region is named with its suffix: 平原 alone is a plain, not 平原县.
                    self._add_name(surface, entry)
            else:
                self._add_name(surface, entry)

    # -- lookups ----------------------------------------------------------------------

    def lookup(self, surface: str) -> list[GazetteerEntry]:
        """The entries a name refers to.

        Parameters
        ----------
        surface : str
            A name as written (``台头村``, ``台头``, ``臺頭村委會``).

        Returns
        -------
        list of GazetteerEntry
            Exact matches of a name or alias first; failing those, villages whose name
            differs only by the village suffix (``台头`` / ``台头村`` / ``台头村委会``).
        """
        key = fold(_unquote(surface))
        found = list(self._names.get(key, []))
        if found:
            return found
        stem = village_stem(key)
        return list(self._village_stems.get(stem, []))

    def villages_by_stem(self, stem: str) -> list[GazetteerEntry]:
        """Villages whose name without its suffix is ``stem`` (``台头`` → 台头村)."""
        return list(self._village_stems.get(fold(stem), []))

    def regions_by_stem(self, stem: str) -> list[GazetteerEntry]:
        """Regions whose name without its suffix is ``stem`` (``恩城`` → 恩城镇)."""
        return list(self._region_stems.get(fold(stem), []))

    def near_names(self, surface: str, label: str, scope: str) -> list[GazetteerEntry]:
        """Entries of ``label`` with a code under ``scope`` whose name (or village stem)
        differs from ``surface`` by one substituted character or one extra character."""
        key = fold(_unquote(surface))
        if label == "Village":
            key = village_stem(key)
            pool = self._village_stems
        else:
            pool = {fold(e.name): [e] for es in self._region_stems.values() for e in es}
        out: list[GazetteerEntry] = []
        for name, entries in pool.items():
            if abs(len(name) - len(key)) > 1 or len(key) < 2 or not _one_edit(name, key):
                continue
            for entry in entries:
                inside = (entry.region_code or "").startswith(scope)
                if entry.label == label and inside and entry not in out:
                    out.append(entry)
        return out

    def exact(self, surface: str) -> list[GazetteerEntry]:
        """Entries whose name or alias is exactly ``surface`` (after folding)."""
        return list(self._names.get(fold(_unquote(surface)), []))

    # -- segmentation -----------------------------------------------------------------

    def _segmenter(self) -> jieba.posseg.POSTokenizer:
        with self._lock:
            if self._tokenizer is None:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word, tag in self._words.items():
                    tokenizer.add_word(word, _NAME_FREQ, tag)
                self._tokenizer = jieba.posseg.POSTokenizer(tokenizer)
            return self._tokenizer

    def tokens(self, text: str) -> list[Token]:
        """Segment ``text`` with the gazetteer's dictionary.

        Parameters
        ----------
        text : str
            A sentence.

        Returns
        -------
        list of Token
            ``(word, tag, start, end)`` with offsets into ``text``.
        """
        segmenter = self._segmenter()
        out: list[Token] = []
        pos = 0
        for pair in segmenter.cut(text):
            word, tag = pair.word, pair.flag
            out.append((word, tag, pos, pos + len(word)))
            pos += len(word)
        return out

    def is_dictionary_word(self, word: str) -> bool:
        """Whether ``word`` is a word of the segmenter's dictionary (a common word)."""
        freq = self._segmenter().tokenizer.FREQ.get(word, 0)
        return bool(freq) and fold(word) not in self._words
