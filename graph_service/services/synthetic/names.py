"""Short forms of region and village names, as generated names use them (平原县 → 平原)."""

from __future__ import annotations

from collections.abc import Sequence

from graph_service.models import NodeDoc

__all__ = ["city_base", "short_county", "short_province", "short_town", "stem", "strip_suffix"]


def strip_suffix(name: str, suffixes: Sequence[str], keep: int = 2) -> str:
    """``name`` without the first of ``suffixes`` it ends with, if ``keep`` characters remain."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= keep:
            return name[: -len(suffix)]
    return name


def short_county(name: str) -> str:
    """平原县 → 平原; an autonomous county keeps its first two characters."""
    if "自治" in name and len(name) > 4:
        return name[:2]
    return strip_suffix(
        name, ("经济技术开发区", "高新技术产业开发区", "开发区", "新区", "县", "区", "市", "旗")
    )


def short_province(name: str) -> str:
    """山东省 → 山东, 内蒙古自治区 → 内蒙古."""
    if name.startswith(("内蒙古", "黑龙江")):
        return name[:3]
    return strip_suffix(name, ("省", "市", "自治区", "特别行政区"))[:2]


def short_town(name: str) -> str:
    """龙泉镇 → 龙泉, 城关街道 → 城关."""
    return strip_suffix(name, ("街道办事处", "街道", "民族乡", "镇", "乡", "苏木"), keep=1)


def stem(village_name: str) -> str:
    """台头村 → 台头, 东关社区 → 东关."""
    return strip_suffix(village_name, ("社区", "村"), keep=1)


def city_base(city: NodeDoc, province: NodeDoc) -> str:
    """The name city institutions are named after: the province for a municipality's 市辖区."""
    name = str(city["name"])
    return str(province["name"]) if "直辖" in name or name in ("市辖区", "县") else name
