"""The one form in which names and what people type are compared.

Search (both stores: the indexed names and the query) and node references (a name given
where a node is wanted) compare text through :func:`fold`, so that what a person types finds
what is stored however either was written:

- full-width and half-width forms are one (NFKC: ``ＡＢＣ１２３`` is ``abc123``, the
  ideographic space is a space);
- invisible characters are dropped: every Unicode format character (category ``Cf``: the
  zero-width space, non-joiner and joiner U+200B–U+200D, the direction marks U+200E–U+200F,
  the word joiner U+2060, the byte-order mark U+FEFF, the soft hyphen U+00AD …) and the
  variation selectors;
- runs of whitespace are one space, and none leads or trails;
- traditional characters are simplified (OpenCC ``t2s``: ``臺頭村`` is ``台头村``);
- letters are lower-cased.

:func:`clean` does all but the last two: the form in which an id or a division code given
by a person is looked up as it is stored.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

__all__ = ["FOLD_VERSION", "clean", "fold"]

#: What :func:`fold` does, numbered: names a store folded with another version are folded
#: again (the Neo4j store keeps them folded; the embedded store folds them when it opens).
FOLD_VERSION = 1

#: Characters of the CJK blocks that OpenCC's t2s rewrites, found once by converting each.
#: Text without any of them is left alone: one set test instead of a conversion per name.
_CJK_BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2A6E0))


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.cache
def _traditional() -> frozenset[str]:
    # One conversion of every character, a line each: no phrase spans two lines, and one
    # call is four times faster than one per character (60 ms against 220 ms).
    chars = [chr(code) for start, stop in _CJK_BLOCKS for code in range(start, stop)]
    converted = _t2s().convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - a line broke apart: test each
        return frozenset(ch for ch in chars if _t2s().convert(ch) != ch)
    return frozenset(ch for ch, out in zip(chars, converted, strict=True) if out != ch)


@functools.cache
def _invisible() -> re.Pattern[str]:
    """Format characters of the basic plane (scanned once), the tag characters, and the
    variation selectors, which are marks, not format characters, but as invisible."""
    basic = "".join(ch for ch in map(chr, range(0x10000)) if unicodedata.category(ch) == "Cf")
    return re.compile(
        f"[{re.escape(basic)}\\U000E0000-\\U000E007F\\uFE00-\\uFE0F\\U000E0100-\\U000E01EF]"
    )


def clean(text: str) -> str:
    """``text`` with full-width forms as half-width, invisible characters dropped and
    whitespace collapsed: how an id or a code a person typed is looked up."""
    if text.isascii():
        return " ".join(text.split())
    text = unicodedata.normalize("NFKC", text)
    return " ".join(_invisible().sub("", text).split())


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """The form names and queries are compared in (see the module docstring).

    Cached: the same names are folded when they are indexed, ranked and asked for.
    """
    text = clean(text)
    if not text.isascii() and not _traditional().isdisjoint(text):
        text = _t2s().convert(text)
    return text.lower()
