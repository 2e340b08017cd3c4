"""Named Cypher statements from ``cypher/``, loaded once and cached.

Only ``{{label}}`` and ``{{type}}`` are ever substituted, and only with names of the schema
registry; everything else a statement needs is a ``$parameter``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from graph_service.schema import LINK_TYPES, NODE_LABELS

__all__ = ["CYPHER_DIR", "for_label", "for_type", "migrations", "statement", "union_over_types"]

CYPHER_DIR = Path(__file__).resolve().parent.parent.parent / "cypher"
_NAME = re.compile(r"^[a-z0-9_]+$")
_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


@cache
def statement(name: str) -> str:
    """The statement in ``cypher/<name>.cypher``."""
    if not _NAME.match(name):
        raise ValueError(f"bad statement name {name!r}")
    return (CYPHER_DIR / f"{name}.cypher").read_text(encoding="utf-8").strip()


def _render(text: str, placeholder: str, value: str, allowed: object) -> str:
    if value not in allowed:  # type: ignore[operator]
        raise ValueError(f"{value!r} is not in the schema registry")
    return text.replace(placeholder, value)


@cache
def for_label(name: str, label: str) -> str:
    """``name`` with ``{{label}}`` set to a registry label."""
    return _render(statement(name), "{{label}}", label, NODE_LABELS)


@cache
def for_type(name: str, type_: str) -> str:
    """``name`` with ``{{type}}`` set to a registry link type."""
    return _render(statement(name), "{{type}}", type_, LINK_TYPES)


@cache
def union_over_types(name: str, wrapper: str) -> str:
    """``name`` rendered for every registry link type, joined by ``UNION ALL`` and put in
    place of ``{{union}}`` in the ``wrapper`` statement."""
    parts = [_COMMENT.sub("", for_type(name, t)).strip() for t in LINK_TYPES]
    return statement(wrapper).replace("{{union}}", "\nUNION ALL\n".join(parts))


def _expand(text: str) -> list[str]:
    if "{{label}}" in text:
        return [text.replace("{{label}}", label) for label in NODE_LABELS]
    if "{{type}}" in text:
        return [text.replace("{{type}}", t) for t in LINK_TYPES]
    return [text]


@cache
def migrations() -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """``(version, name, statements)`` for every migration file, in order."""
    found = []
    for path in sorted((CYPHER_DIR / "migrations").glob("*.cypher")):
        version, _, name = path.stem.partition("_")
        body = _COMMENT.sub("", path.read_text(encoding="utf-8"))
        statements = [s.strip() for s in re.split(r";\s*$", body, flags=re.MULTILINE) if s.strip()]
        expanded = tuple(rendered for s in statements for rendered in _expand(s))
        found.append((int(version), name, expanded))
    return tuple(found)
