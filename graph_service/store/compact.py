"""The embedded store's graph in memory, lean enough for the national network.

What the embedded store keeps in memory is what traversal, search and counting need, and no
more: per node its label, validity and folded names; per link its type, ends and validity;
adjacency as integer arrays. Documents (every other property) stay in SQLite and are read on
demand (``EmbeddedGraphStore`` keeps a small cache of recently read ones).

Why this shape (issue 16): holding every document as a Python dict cost about 1.5 KB per node
or link, and the generated national network (2.6 M nodes, 6.5 M links with the register) did
not fit in 12 GB. Here:

- Nodes and links are numbered in the order they arrive; their ids, validity dates and names
  are interned strings (dates and names repeat across millions of entries), their labels and
  link types small integer codes in ``array`` columns.
- Adjacency is compressed sparse rows (numpy ``int32``: an offset per node into the link
  numbers sorted by end) built in one pass on load, plus a per-node overflow list for links
  added since; a deleted link is a tombstone the traversal skips. When the overflow grows to a
  quarter of the rows, the rows are rebuilt (linear, about a second nationally).
- The name index maps each character to the numbers of the nodes whose folded names hold it,
  as ``array('i')``; a node renamed leaves its old entries behind, and a lookup checks the
  current names, so a stale entry costs a comparison, never a wrong hit.

Nothing here touches SQLite: the store calls ``put_node``/``put_link``/``drop_*`` as batches
commit or the change log replays.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from graph_service.models import LinkDoc, NodeDoc
from graph_service.search_text import fold
from graph_service.store.common import OWN_CODE_LABELS

__all__ = ["CompactGraph", "LinkHead"]

#: (type, source id, target id, valid_from, valid_to) of a stored link.
LinkHead = tuple[str, str, str, str | None, str | None]

_DEAD = -1
#: Overflow entries, as a share of the rows, past which the rows are rebuilt.
_OVERFLOW_SHARE = 0.25
_OVERFLOW_MIN = 50_000


def _interned(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


def _valid(start: str | None, end: str | None, day: str | None) -> bool:
    return day is None or ((start is None or start <= day) and (end is None or day <= end))


class _Rows:
    """Compressed sparse rows of link numbers by one end, with an overflow per node."""

    __slots__ = ("extra", "extra_count", "links", "offsets")

    def __init__(self) -> None:
        self.offsets = np.zeros(1, dtype=np.int64)
        self.links = np.zeros(0, dtype=np.int32)
        self.extra: dict[int, list[int]] = {}
        self.extra_count = 0

    def build(self, ends: np.ndarray, alive: np.ndarray, node_count: int) -> None:
        numbers = np.flatnonzero(alive).astype(np.int32)
        at = ends[numbers]
        order = np.argsort(at, kind="stable")
        self.links = numbers[order]
        counts = np.bincount(at, minlength=node_count)
        self.offsets = np.zeros(node_count + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self.extra = {}
        self.extra_count = 0

    def add(self, node: int, link: int) -> None:
        self.extra.setdefault(node, []).append(link)
        self.extra_count += 1

    def count(self, node: int) -> int:
        base = 0
        if node + 1 < len(self.offsets):
            base = int(self.offsets[node + 1] - self.offsets[node])
        extra = self.extra.get(node)
        return base + (len(extra) if extra else 0)

    def at(self, node: int) -> list[int]:
        found: list[int] = []
        if node + 1 < len(self.offsets):
            start, end = self.offsets[node], self.offsets[node + 1]
            if end > start:
                found = self.links[start:end].tolist()
        extra = self.extra.get(node)
        return found + extra if extra else found


class CompactGraph:
    """Heads of nodes and links, adjacency and the name index (module docstring)."""

    def __init__(self) -> None:
        # Nodes, by number.
        self._node_ids: list[str] = []
        self._node_number: dict[str, int] = {}
        self._node_label = array("b")
        self._node_from: list[str | None] = []
        self._node_to: list[str | None] = []
        self._node_kind: list[str | None] = []
        #: Each node's region code (``None``: placeless, like industries and programs).
        self._node_region: list[str | None] = []
        #: Folded name and aliases of each node: one string, or a tuple when it has aliases.
        self._node_names: list[str | tuple[str, ...] | None] = []
        self._labels: list[str] = []
        self._label_code: dict[str, int] = {}
        # Links, by number.
        self._link_ids: list[str] = []
        self._link_number: dict[str, int] = {}
        self._link_type = array("b")
        self._link_source = array("i")
        self._link_target = array("i")
        self._link_from: list[str | None] = []
        self._link_to: list[str | None] = []
        self._types: list[str] = []
        self._type_code: dict[str, int] = {}
        self._out = _Rows()
        self._in = _Rows()
        #: A reload adds millions of links: the rows are built once at its end.
        self.defer_rows = False
        # Names.
        self._chars: dict[str, array[int]] = {}
        #: Folded name → node numbers (an int, or a list when several share it).
        self._name_nodes: dict[str, int | list[int]] = {}
        self._code_nodes: dict[str, int | list[int]] = {}
        #: The own division code of the nodes that have one (Region, Village).
        self._node_code: dict[int, str] = {}
        self._dead_nodes = 0
        self.names_changed = 0
        self._label_counts: Counter[int] = Counter()
        self._type_counts: Counter[int] = Counter()

    # ------------------------------------------------------------------ sizes

    @property
    def node_count(self) -> int:
        return len(self._node_number) - self._dead_nodes

    def __contains__(self, node_id: object) -> bool:
        number = self._node_number.get(node_id) if isinstance(node_id, str) else None
        return number is not None and self._node_label[number] != _DEAD

    def node_ids(self) -> Iterator[str]:
        label = self._node_label
        return (i for n, i in enumerate(self._node_ids) if label[n] != _DEAD)

    def has_link(self, link_id: str) -> bool:
        number = self._link_number.get(link_id)
        return number is not None and self._link_type[number] != _DEAD

    def label_counts(self) -> dict[str, int]:
        return {self._labels[c]: k for c, k in self._label_counts.items() if k}

    def type_counts(self) -> dict[str, int]:
        return {self._types[c]: k for c, k in self._type_counts.items() if k}

    # ------------------------------------------------------------------ nodes

    def _code(self, table: dict[str, int], names: list[str], value: str) -> int:
        code = table.get(value)
        if code is None:
            code = table[value] = len(names)
            names.append(sys.intern(value))
        return code

    def put_node(self, doc: NodeDoc) -> None:
        node_id = doc["id"]
        number = self._node_number.get(node_id)
        label = self._code(self._label_code, self._labels, doc["label"])
        folded = sorted({fold(n) for n in (doc["name"], *doc.get("aliases", ()))})
        names: str | tuple[str, ...] = (
            sys.intern(folded[0]) if len(folded) == 1 else tuple(map(sys.intern, folded))
        )
        code = doc.get("region_code") if doc["label"] in OWN_CODE_LABELS else None
        if number is None:
            node_id = sys.intern(node_id)
            number = self._node_number[node_id] = len(self._node_ids)
            self._node_ids.append(node_id)
            self._node_label.append(label)
            self._node_from.append(_interned(doc.get("valid_from")))
            self._node_to.append(_interned(doc.get("valid_to")))
            self._node_kind.append(_interned(doc.get("kind")))
            self._node_region.append(_interned(doc.get("region_code")))
            self._node_names.append(None)
        else:
            if self._node_label[number] == _DEAD:
                self._dead_nodes -= 1
            else:
                self._label_counts[self._node_label[number]] -= 1
                self._unindex_names(number)
            self._node_label[number] = label
            self._node_from[number] = _interned(doc.get("valid_from"))
            self._node_to[number] = _interned(doc.get("valid_to"))
            self._node_kind[number] = _interned(doc.get("kind"))
            self._node_region[number] = _interned(doc.get("region_code"))
        self._label_counts[label] += 1
        self._index_names(number, names, code)

    def _index_names(self, number: int, names: str | tuple[str, ...], code: str | None) -> None:
        old = self._node_names[number]
        self._node_names[number] = names
        listed = (names,) if isinstance(names, str) else names
        old_listed = () if old is None else ((old,) if isinstance(old, str) else old)
        for name in listed:
            if name not in self._name_nodes:
                self.names_changed += 1
            _add(self._name_nodes, name, number)
            if name in old_listed:
                continue  # its characters are indexed already
            for ch in set(name):
                chars = self._chars.get(ch)
                if chars is None:
                    chars = self._chars[ch] = array("i")
                chars.append(number)
        if code is not None:
            code = sys.intern(code)
            self._node_code[number] = code
            _add(self._code_nodes, code, number)

    def _unindex_names(self, number: int) -> None:
        names = self._node_names[number]
        listed = () if names is None else ((names,) if isinstance(names, str) else names)
        for name in listed:
            if _remove(self._name_nodes, name, number):
                self.names_changed += 1
        code = self._node_code.pop(number, None)
        if code is not None:
            _remove(self._code_nodes, code, number)

    def drop_node(self, node_id: str) -> bool:
        number = self._node_number.get(node_id)
        if number is None or self._node_label[number] == _DEAD:
            return False
        self._label_counts[self._node_label[number]] -= 1
        self._unindex_names(number)
        # The name entries stay (stale, checked on lookup); the node number is kept for the
        # id, so a node created again with this id takes its place.
        self._node_label[number] = _DEAD
        self._dead_nodes += 1
        return True

    def node_label(self, node_id: str) -> str | None:
        number = self._node_number.get(node_id)
        if number is None or self._node_label[number] == _DEAD:
            return None
        return self._labels[self._node_label[number]]

    def node_kind(self, node_id: str) -> str | None:
        number = self._node_number.get(node_id)
        return None if number is None else self._node_kind[number]

    def node_placed(self, node_id: str) -> bool:
        """Whether the node has a region code."""
        number = self._node_number.get(node_id)
        return number is not None and self._node_region[number] is not None

    def stub(self, node_id: str) -> NodeDoc:
        """What memory knows of a node, as a document: id, label and validity. For a reader
        that looks at no more than that (a walk turning the node away)."""
        number = self._node_number[node_id]
        label = self._node_label[number]
        return {
            "id": node_id,
            "label": self._labels[label] if label != _DEAD else "",
            "valid_from": self._node_from[number],
            "valid_to": self._node_to[number],
        }

    def node_valid(self, node_id: str, day: str | None) -> bool:
        """Stored and valid on ``day`` (ISO date; ``None``: any)."""
        number = self._node_number.get(node_id)
        if number is None or self._node_label[number] == _DEAD:
            return False
        return _valid(self._node_from[number], self._node_to[number], day)

    # ------------------------------------------------------------------ links

    def put_link(self, doc: LinkDoc) -> None:
        self.put_link_fields(
            doc["id"],
            doc["type"],
            doc["source"],
            doc["target"],
            doc.get("valid_from"),
            doc.get("valid_to"),
        )

    def put_link_fields(
        self,
        link_id: str,
        link_type: str,
        source_id: str,
        target_id: str,
        valid_from: str | None,
        valid_to: str | None,
    ) -> None:
        """``put_link`` from the columns of a row (a reload reads no documents).

        Raises
        ------
        KeyError
            If an end is not a stored node.
        """
        number = self._link_number.get(link_id)
        source = self._node_number[source_id]
        target = self._node_number[target_id]
        kind = self._code(self._type_code, self._types, link_type)
        if number is not None and self._link_type[number] != _DEAD:
            if (self._link_source[number], self._link_target[number]) == (source, target):
                self._type_counts[self._link_type[number]] -= 1
                self._type_counts[kind] += 1
                self._link_type[number] = kind
                self._link_from[number] = _interned(valid_from)
                self._link_to[number] = _interned(valid_to)
                return
            self.drop_link(link_id)
        link_id = sys.intern(link_id)
        number = self._link_number[link_id] = len(self._link_ids)
        self._link_ids.append(link_id)
        self._link_type.append(kind)
        self._link_source.append(source)
        self._link_target.append(target)
        self._link_from.append(_interned(valid_from))
        self._link_to.append(_interned(valid_to))
        self._type_counts[kind] += 1
        self._out.add(source, number)
        self._in.add(target, number)
        if not self.defer_rows and self._out.extra_count > max(
            _OVERFLOW_MIN, _OVERFLOW_SHARE * len(self._link_ids)
        ):
            self.rebuild_rows()

    def drop_link(self, link_id: str) -> bool:
        number = self._link_number.get(link_id)
        if number is None or self._link_type[number] == _DEAD:
            return False
        self._type_counts[self._link_type[number]] -= 1
        self._link_type[number] = _DEAD
        del self._link_number[link_id]
        return True

    def rebuild_rows(self) -> None:
        """Adjacency rows from scratch: every live link in the arrays, none in overflow."""
        alive = np.frombuffer(self._link_type, dtype=np.int8) != _DEAD
        count = len(self._node_ids)
        self._out.build(np.frombuffer(self._link_source, dtype=np.int32), alive, count)
        self._in.build(np.frombuffer(self._link_target, dtype=np.int32), alive, count)

    def link_head(self, link_id: str) -> LinkHead | None:
        number = self._link_number.get(link_id)
        if number is None or self._link_type[number] == _DEAD:
            return None
        return self._head(number)

    def _head(self, number: int) -> LinkHead:
        return (
            self._types[self._link_type[number]],
            self._node_ids[self._link_source[number]],
            self._node_ids[self._link_target[number]],
            self._link_from[number],
            self._link_to[number],
        )

    def incident(self, node_id: str, direction: str = "both") -> list[str]:
        """Ids of the live links at ``node_id``: ``out``, ``in`` or ``both`` (unsorted)."""
        number = self._node_number.get(node_id)
        if number is None:
            return []
        numbers: list[int] = []
        if direction in ("out", "both"):
            numbers += self._out.at(number)
        if direction in ("in", "both"):
            numbers += self._in.at(number)
        kinds, ids = self._link_type, self._link_ids
        return [ids[n] for n in numbers if kinds[n] != _DEAD]

    def degree(self, node_id: str) -> int:
        """Link entries at the node, in and out (dead ones included: an upper bound)."""
        number = self._node_number.get(node_id)
        return 0 if number is None else self._out.count(number) + self._in.count(number)

    def incident_heads(
        self,
        node_id: str,
        direction: str,
        types: Sequence[str],
        day: str | None,
        ordered: bool = True,
    ) -> list[tuple[str, str, str]]:
        """``(link id, type, other end)`` of the live links at ``node_id`` in ``direction``,
        of ``types`` (any, when empty) and valid on ``day``, sorted by link id unless not
        ``ordered``. A link from a node to itself appears once."""
        number = self._node_number.get(node_id)
        if number is None:
            return []
        codes = None if not types else {self._type_code.get(t, _DEAD - 1) for t in types}
        kinds, ids, sources, targets = (
            self._link_type,
            self._link_ids,
            self._link_source,
            self._link_target,
        )
        starts, ends, node_ids = self._link_from, self._link_to, self._node_ids
        numbers: list[int] = []
        if direction in ("out", "both"):
            numbers += self._out.at(number)
        if direction in ("in", "both"):
            numbers += self._in.at(number)
        found = []
        seen: set[int] = set()
        for n in numbers:
            kind = kinds[n]
            if kind == _DEAD or (codes is not None and kind not in codes):
                continue
            if day is not None and not _valid(starts[n], ends[n], day):
                continue
            if n in seen:
                continue
            seen.add(n)
            other = targets[n] if sources[n] == number else sources[n]
            found.append((ids[n], self._types[kind], node_ids[other]))
        if ordered:
            found.sort()
        return found

    # ------------------------------------------------------------------ names

    def char_nodes(self, ch: str) -> int:
        """How many index entries the character has (an upper bound of its nodes)."""
        chars = self._chars.get(ch)
        return 0 if chars is None else len(chars)

    def name_candidates(self, needle: str, labels: Sequence[str], day: str | None) -> list[str]:
        """Ids of live nodes with ``labels`` (any, when empty), valid on ``day``, a current
        folded name of which holds every character of ``needle``."""
        chars = sorted(set(needle), key=self.char_nodes)
        if not chars or self.char_nodes(chars[0]) == 0:
            return []
        rarest = set(self._chars[chars[0]])
        rest = chars[1:]
        label_codes = None if not labels else {self._label_code.get(x, _DEAD - 1) for x in labels}
        found = []
        for number in rarest:
            if not self._alive_with(number, label_codes, day):
                continue
            names = self._node_names[number]
            listed = (names,) if isinstance(names, str) else (names or ())
            if any(all(ch in name for ch in rest) and chars[0] in name for name in listed):
                found.append(self._node_ids[number])
        return found

    def _alive_with(self, number: int, label_codes: set[int] | None, day: str | None) -> bool:
        label = self._node_label[number]
        if label == _DEAD or (label_codes is not None and label not in label_codes):
            return False
        return _valid(self._node_from[number], self._node_to[number], day)

    def visible(self, node_id: str, labels: Sequence[str], day: str | None) -> bool:
        number = self._node_number.get(node_id)
        if number is None:
            return False
        codes = None if not labels else {self._label_code.get(x, _DEAD - 1) for x in labels}
        return self._alive_with(number, codes, day)

    def names(self) -> list[str]:
        """The distinct folded names and aliases of live nodes."""
        return list(self._name_nodes)

    def name_count(self) -> int:
        return len(self._name_nodes)

    def nodes_named(self, name: str) -> list[str]:
        return self._ids(self._name_nodes.get(name))

    def nodes_coded(self, code: str) -> list[str]:
        return self._ids(self._code_nodes.get(code))

    def _ids(self, value: int | list[int] | None) -> list[str]:
        if value is None:
            return []
        numbers = [value] if isinstance(value, int) else value
        return [self._node_ids[n] for n in numbers if self._node_label[n] != _DEAD]

    # ------------------------------------------------------------------ memory

    def approximate_bytes(self) -> dict[str, int]:
        """Sizes of the large columns (not counting shared strings), for benchmarks."""
        arrays: list[Any] = [self._node_label, self._link_type, self._link_source]
        arrays += [self._link_target, self._out.links, self._in.links]
        return {
            "arrays": sum(a.itemsize * len(a) for a in arrays),
            "chars": sum(a.itemsize * len(a) for a in self._chars.values()),
            "nodes": len(self._node_ids),
            "links": len(self._link_ids),
        }


def _add(table: dict[str, int | list[int]], key: str, number: int) -> None:
    value = table.get(key)
    if value is None:
        table[key] = number
    elif isinstance(value, int):
        if value != number:
            table[key] = [value, number]
    elif number not in value:
        value.append(number)


def _remove(table: dict[str, int | list[int]], key: str, number: int) -> bool:
    """Remove ``number`` under ``key``; whether the key went."""
    value = table.get(key)
    if value is None:
        return False
    if isinstance(value, int):
        if value == number:
            del table[key]
            return True
        return False
    if number in value:
        value.remove(number)
    if len(value) == 1:
        table[key] = value[0]
    elif not value:
        del table[key]
        return True
    return False
