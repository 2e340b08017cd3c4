"""Figures (``2000万元``) and dates (``2020年4月28日``) stated in a sentence."""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["find_date", "find_figures"]

_MULTIPLIERS: Final[dict[str, int]] = {"": 1, "万": 10_000, "亿": 100_000_000, "千": 1000}
_UNITS: Final = (
    "平方米|平方公里|公里|万吨|吨|万斤|斤|元|亩|人次|人|户|个|家|名|次|项|场次|场|宗|份|米|%"
)
_FIGURE: Final = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?)(?P<mult>[万亿千]?)(?P<unit>{_UNITS})(?P<more>余|多)?"
)
_LABEL: Final = re.compile(r"([\u4e00-\u9fff]{1,4})(?:资金|共计|累计|达到?|超过?|近|约|了)?$")
_DATE: Final = re.compile(r"((?:19|20)\d{2})年(?:(\d{1,2})月(?:(\d{1,2})[日号])?)?")
_LABEL_STOP: Final = frozenset("的了和与及在为对向给从以共计达超近约余")
#: Verbs written before what is counted (发放贷款 → 贷款, 投入资金 → 资金).
_LABEL_VERBS: Final = (
    "发放",
    "提供",
    "投入",
    "获得",
    "实现",
    "完成",
    "带动",
    "吸纳",
    "落实",
    "争取",
)


def find_figures(sentence: str) -> list[dict[str, Any]]:
    """The figures stated in ``sentence``, with 万/亿 multiplied out.

    Parameters
    ----------
    sentence : str
        One sentence.

    Returns
    -------
    list of dict
        ``{"label": "贷款", "value": 20000000, "unit": "元", "text": "2000万元"}`` for each;
        ``label`` is the word written before the number (may be empty). Years and dates
        are not figures.
    """
    out: list[dict[str, Any]] = []
    for match in _FIGURE.finditer(sentence):
        after = sentence[match.end() : match.end() + 1]
        if match["unit"] == "年" or after in ("年", "月", "日"):
            continue
        number = float(match["num"]) * _MULTIPLIERS[match["mult"]]
        unit = match["unit"]
        if match["mult"] and unit in ("吨", "斤"):
            unit = match["unit"]
        value: float | int = int(number) if number.is_integer() else round(number, 4)
        label_match = _LABEL.search(sentence[max(0, match.start() - 8) : match.start()])
        label = ""
        if label_match:
            label = label_match.group(1)
            while label and label[0] in _LABEL_STOP:
                label = label[1:]
            label = label[-4:]
            for verb in _LABEL_VERBS:
                if label.startswith(verb) and len(label) - len(verb) >= 2:
                    label = label[len(verb) :]
        out.append({"label": label, "value": value, "unit": unit, "text": match.group(0)})
    return out


def find_date(sentence: str) -> str | None:
    """The first date ``sentence`` states, as ISO (first day when only year or month).

    Parameters
    ----------
    sentence : str
        One sentence.

    Returns
    -------
    str or None
        ``2020-04-28`` for ``2020年4月28日``, ``2021-01-01`` for ``2021年``.
    """
    for match in _DATE.finditer(sentence):
        year = int(match.group(1))
        month = int(match.group(2) or 1)
        day = int(match.group(3) or 1)
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None
