"""Texts people read: Chinese for the planners, English beside it.

Every explanation an analysis returns is built as a :class:`Wording` and leaves the analysis
as two strings: the Chinese one under the field a planner reads (``explanation``,
``evidence``, ``summary``) and the English one under the same name with ``_en``. A number in
a text says what it measures and on what scale (``0.75 分 (0–1 分, 1 为最高)``, ``前 16%``),
and a missing value is left out of the sentence or said to be missing, never printed as
``None``.

The helpers format what several analyses print alike: amounts with their unit, shares of a
ranking, lists of names, a node's kind.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

__all__ = [
    "UNSTATED_ZH",
    "Wording",
    "amount",
    "join",
    "listing",
    "number",
    "percent",
    "rank_share",
    "value_text",
]

#: What a text says where a value (a kind, a name) is not recorded.
UNSTATED_ZH = "未注明"


class Wording(NamedTuple):
    """One text in Chinese (``zh``, what planners read) and English (``en``)."""

    zh: str
    en: str


def join(parts: Iterable[Wording], sep: str = "; ") -> Wording:
    """The parts one after another, in both languages.

    Examples
    --------
    >>> join([Wording("甲", "a"), Wording("乙", "b")])
    Wording(zh='甲; 乙', en='a; b')
    """
    items = list(parts)
    return Wording(sep.join(p.zh for p in items), sep.join(p.en for p in items))


def number(x: float) -> str:
    """A number as texts print it: thousands separated from 100 on, else as short as exact.

    Examples
    --------
    >>> number(800000.0), number(4.0), number(0.5)
    ('800,000', '4', '0.5')
    """
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:g}"


def amount(value: float, unit: str) -> str:
    """An amount with its unit; yuan from 10,000 on in 万元.

    Examples
    --------
    >>> amount(228000, "元"), amount(300, "人"), amount(5000, "元")
    ('22.8万元', '300人', '5,000元')
    """
    if unit == "元" and abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}万元"
    return f"{number(value)}{unit}"


def percent(share: float) -> str:
    """A share in ``[0, 1]`` as a percentage: whole from 10% on, one decimal below (so a
    small change still shows).

    Examples
    --------
    >>> percent(0.4), percent(1 / 3), percent(1 / 474), percent(0.0)
    ('40%', '33%', '0.2%', '0%')
    """
    if 0 < share < 0.1:
        return f"{100 * share:.1f}%"
    return f"{round(100 * share)}%"


def rank_share(percentile: float) -> Wording:
    """Where a mid-rank percentile (the share ranked below, ties counted half) puts a node:
    in the top ``k%`` from the middle up, else in the bottom ``k%``.

    Examples
    --------
    >>> rank_share(0.98)
    Wording(zh='前 2%', en='top 2%')
    >>> rank_share(0.16)
    Wording(zh='后 16%', en='bottom 16%')
    >>> rank_share(0.5)
    Wording(zh='居中', en='in the middle')
    """
    if math.isclose(percentile, 0.5):
        return Wording("居中", "in the middle")
    # Rounded before the ceiling: 100 · (1 − 0.98) is 2.0000000000000018 in floats.
    if percentile > 0.5:
        top = max(1, math.ceil(round(100 * (1 - percentile), 6)))
        return Wording(f"前 {top}%", f"top {top}%")
    bottom = max(1, math.ceil(round(100 * percentile, 6)))
    return Wording(f"后 {bottom}%", f"bottom {bottom}%")


def listing(names: Sequence[str], limit: int, sep: str = "、") -> str:
    """The first ``limit`` names joined by ``sep``, with ``…`` when there are more.

    Examples
    --------
    >>> listing(["甲", "乙", "丙"], 2)
    '甲、乙…'
    """
    return sep.join(names[:limit]) + ("…" if len(names) > limit else "")


def value_text(value: Any) -> Wording:
    """A recorded value as a text reads it: 是/否 for booleans, lists joined, a missing
    value as :data:`UNSTATED_ZH`.

    Examples
    --------
    >>> value_text(True)
    Wording(zh='是', en='true')
    >>> value_text(["资金", "技术"])
    Wording(zh='资金、技术', en='资金, 技术')
    >>> value_text(None)
    Wording(zh='未注明', en='not recorded')
    """
    if value is None:
        return Wording(UNSTATED_ZH, "not recorded")
    if isinstance(value, bool):
        return Wording("是" if value else "否", "true" if value else "false")
    if isinstance(value, int | float):
        return Wording(number(float(value)), number(float(value)))
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
        return Wording("、".join(items), ", ".join(items))
    return Wording(str(value), str(value))
