"""The embedded store: SQLite (standard library) as the system of record, an in-memory graph
for traversal.

Why this shape:

- SQLite in WAL mode with ``synchronous=FULL`` makes every acknowledged batch durable (it
  survives ``kill -9`` and power loss) and atomic, and lets readers in other processes read
  while a writer writes.
- Traversals (neighbourhoods, paths, coverage, exports) run on adjacency dictionaries in
  memory, rebuilt from SQLite on open. They are never the record: nothing is pickled.
- Another process (the CLI importing while the server runs) may write the same file. Every
  write appends to a ``changes`` log; each read compares SQLite's ``data_version`` and, when
  it moved, replays the log (or reloads when the log was pruned) before answering.
- Within a process, writes run in a worker thread under a lock; the in-memory graph is
  swapped entry by entry under another lock that readers hold while they traverse, so a
  reader sees a batch either entirely or not at all.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import gc
import itertools
import sqlite3
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import orjson

from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import JOINT_BODY_KINDS, NODE_LABELS, STRUCTURAL_LINK_TYPES
from graph_service.search_text import fold
from graph_service.store import protocol
from graph_service.store.base import BaseGraphStore, PageRows, VillageCoverage
from graph_service.store.batch import NodeHead, StoredLinks, apply_batch, run_inline
from graph_service.store.common import (
    ACCOUNT_FIELDS,
    HISTORY_FIELDS,
    JUDGEMENT_FIELDS,
    KEY_FIELDS,
    LINK_FIELDS,
    NODE_FIELDS,
    OWN_CODE_LABELS,
    RECORD_FIELDS,
    PageRequest,
    SearchText,
    account_fields,
    child_region_length,
    chunks,
    code_range,
    history_fields,
    judgement_fields,
    key_fields,
    link_fields,
    node_fields,
    record_fields,
)
from graph_service.store.integrity import check_batch_ids
from graph_service.store.neighbourhood import NeighbourhoodWalk
from graph_service.store.protocol import valid_on

__all__ = ["EmbeddedGraphStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    kind TEXT,
    name TEXT NOT NULL,
    region_code TEXT,
    valid_from TEXT,
    valid_to TEXT,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nodes_label_kind ON nodes (label, kind, id);
-- Lists of one label page in id order without sorting (region ids embed their codes).
CREATE INDEX IF NOT EXISTS nodes_label_id ON nodes (label, id);
CREATE INDEX IF NOT EXISTS nodes_region ON nodes (region_code);
-- The nodes of one label under a region (coverage, region exports) without reading the rows:
-- without it SQLite walked every node of the label (5,374 villages for a county's 436).
CREATE INDEX IF NOT EXISTS nodes_label_region ON nodes (label, region_code);
CREATE TABLE IF NOT EXISTS links (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source TEXT NOT NULL REFERENCES nodes (id),
    target TEXT NOT NULL REFERENCES nodes (id),
    valid_from TEXT,
    valid_to TEXT,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_source ON links (source, type);
CREATE INDEX IF NOT EXISTS links_target ON links (target, type);
CREATE INDEX IF NOT EXISTS links_type ON links (type, id);
-- Planners' judgements of recommended pairs: append-only records about the graph.
CREATE TABLE IF NOT EXISTS judgements (
    id TEXT PRIMARY KEY,
    pair TEXT NOT NULL,
    target TEXT NOT NULL,
    partner TEXT NOT NULL,
    decision TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT NOT NULL,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS judgements_pair ON judgements (pair, id);
CREATE INDEX IF NOT EXISTS judgements_target ON judgements (target, id);
CREATE INDEX IF NOT EXISTS judgements_partner ON judgements (partner, id);
-- Accounts and their API keys (graph_service.access): beside the graph, never in it.
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name),
    hash TEXT NOT NULL UNIQUE,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_keys_account ON api_keys (account, id);
-- The edit history: one row per changed entity, written in the change's transaction.
CREATE TABLE IF NOT EXISTS history (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    account TEXT NOT NULL,
    operation TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    region_a TEXT,
    region_b TEXT,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_entity ON history (entity, entity_id, id);
CREATE INDEX IF NOT EXISTS history_account ON history (account, id);
CREATE INDEX IF NOT EXISTS history_at ON history (at, id);
CREATE INDEX IF NOT EXISTS history_region_a ON history (region_a, id);
CREATE INDEX IF NOT EXISTS history_region_b ON history (region_b, id);
-- Append-only, whatever connects to the file.
CREATE TRIGGER IF NOT EXISTS history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'the edit history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'the edit history is append-only'); END;
-- Records beside the graph (review queue, identity judgements, merges, imports, mappings):
-- append-only versions of a (kind, key); the latest is in force.
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT,
    region TEXT,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_key ON records (kind, key, id);
CREATE INDEX IF NOT EXISTS records_status ON records (kind, status, id);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,   -- 'node', 'link' or '*' (reload everything)
    id TEXT NOT NULL
);
"""
SCHEMA_VERSION = "1"
#: Batches larger than this log one reload marker instead of one change row per entry.
_BULK_CHANGE_THRESHOLD = 5_000
_CHANGES_KEPT = 100_000
_SQL_CHUNK = 10_000
#: A query whose rarest character is in more nodes than this ranks distinct names instead.
_BROAD_QUERY = 20_000

Doc = TypeVar("Doc", NodeDoc, LinkDoc)


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _enter_wal(conn: sqlite3.Connection, timeout: float = 30.0) -> None:
    """Put the file in WAL mode. On a new file, a process doing the same at that moment
    holds the lock the switch needs, and SQLite refuses at once instead of waiting (the busy
    timeout does not cover it): several workers starting on a new data directory. So wait
    here, as the busy timeout would."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _dumps(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc)


def _valid_among(
    docs: Mapping[str, Doc], ids: Sequence[str], as_of: dt.date | None
) -> dict[str, Doc]:
    """Those of ``ids`` in ``docs`` valid on ``as_of``, in the order of ``ids``."""
    found = {}
    for item_id in ids:
        doc = docs.get(item_id)
        if doc is not None and valid_on(doc, as_of):
            found[item_id] = doc
    return found


def _insert_sql(table: str, fields: Sequence[str]) -> str:
    """An INSERT of ``fields`` and the whole ``doc`` (names from the code, never from input)."""
    columns = ", ".join([*fields, "doc"])
    return f"INSERT INTO {table} ({columns}) VALUES ({_marks(len(fields) + 1)})"  # noqa: S608


# A stored node keeps its label and a stored link its type and ends (``integrity``).
_UPSERT_NODES = _insert_sql("nodes", NODE_FIELDS) + (
    " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, "
    "region_code = excluded.region_code, valid_from = excluded.valid_from, "
    "valid_to = excluded.valid_to, doc = excluded.doc"
)
_UPSERT_LINKS = _insert_sql("links", LINK_FIELDS) + (
    " ON CONFLICT (id) DO UPDATE SET valid_from = excluded.valid_from, "
    "valid_to = excluded.valid_to, doc = excluded.doc"
)
_INSERT_JUDGEMENTS = _insert_sql("judgements", JUDGEMENT_FIELDS)
_UPSERT_ACCOUNTS = _insert_sql("accounts", ACCOUNT_FIELDS) + (
    " ON CONFLICT (name) DO UPDATE SET role = excluded.role, scope = excluded.scope, "
    "doc = excluded.doc"
)
# A key keeps its account and hash (``batch``); only its document (revocation) changes.
_UPSERT_KEYS = _insert_sql("api_keys", KEY_FIELDS) + (
    " ON CONFLICT (id) DO UPDATE SET doc = excluded.doc"
)
_INSERT_HISTORY = _insert_sql("history", HISTORY_FIELDS)
_INSERT_RECORDS = _insert_sql("records", RECORD_FIELDS)


class _SqliteBatch:
    """The SQL of one write transaction (see ``batch.apply_batch``), and the documents it
    changed, for the in-memory graph to take once it commits (``None``: deleted)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.node_changes: dict[str, NodeDoc | None] = {}
        self.link_changes: dict[str, LinkDoc | None] = {}
        #: The log's last change once this batch's are in (``log_changes``).
        self.last_seq = 0

    def _stored(self, table: str, columns: str, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        found: dict[str, tuple[Any, ...]] = {}
        for chunk in chunks(ids, _SQL_CHUNK):
            sql = f"SELECT id, {columns} FROM {table} WHERE id IN ({_marks(len(chunk))})"  # noqa: S608
            for row in self.conn.execute(sql, chunk):
                found[row[0]] = row[1:]
        return found

    async def lock_nodes(self, ids: Sequence[str]) -> None:
        """Nothing: ``BEGIN IMMEDIATE`` makes write transactions serial."""

    async def node_docs(self, ids: Sequence[str]) -> dict[str, NodeDoc]:
        return {k: orjson.loads(v[0]) for k, v in self._stored("nodes", "doc", ids).items()}

    async def node_heads(self, ids: Sequence[str]) -> dict[str, NodeHead]:
        return {
            k: (v[0], v[1]) for k, v in self._stored("nodes", "label, region_code", ids).items()
        }

    async def stored_links(self, ids: Sequence[str], types: Sequence[str] = ()) -> StoredLinks:
        return {
            k: {"type": v[0], "source": v[1], "target": v[2], "doc": orjson.loads(v[3])}
            for k, v in self._stored("links", "type, source, target, doc", ids).items()
        }

    async def upsert_nodes(self, nodes: Sequence[NodeDoc]) -> None:
        self.conn.executemany(_UPSERT_NODES, [(*node_fields(n), _dumps(n)) for n in nodes])
        self.node_changes.update((n["id"], n) for n in nodes)

    async def upsert_links(self, links: Sequence[LinkDoc]) -> None:
        self.conn.executemany(_UPSERT_LINKS, [(*link_fields(k), _dumps(k)) for k in links])
        self.link_changes.update((k["id"], k) for k in links)

    async def delete_links(self, stored: StoredLinks) -> None:
        ids = list(stored)
        for chunk in chunks(ids, _SQL_CHUNK):
            self.conn.execute(f"DELETE FROM links WHERE id IN ({_marks(len(chunk))})", chunk)  # noqa: S608
        self.link_changes.update(dict.fromkeys(ids))

    async def links_at(self, node_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT id FROM links WHERE source = ? UNION SELECT id FROM links WHERE target = ?",
            (node_id, node_id),
        )
        return [row[0] for row in rows]

    async def delete_nodes(self, ids: Sequence[str], links: Sequence[str]) -> None:
        for node_id in ids:
            self.conn.execute(
                "DELETE FROM links WHERE source = ? OR target = ?", (node_id, node_id)
            )
            self.conn.execute("DELETE FROM nodes WHERE id = ?", (node_id,))
        self.link_changes.update(dict.fromkeys(links))
        self.node_changes.update(dict.fromkeys(ids))

    async def judgement_ids(self, ids: Sequence[str]) -> set[str]:
        return set(self._stored("judgements", "pair", ids))

    async def append_judgements(self, judgements: Sequence[protocol.JudgementDoc]) -> None:
        rows = [(*judgement_fields(j), _dumps(j)) for j in judgements]
        self.conn.executemany(_INSERT_JUDGEMENTS, rows)

    def _docs(self, table: str, key: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunks(ids, _SQL_CHUNK):
            sql = f"SELECT {key}, doc FROM {table} WHERE {key} IN ({_marks(len(chunk))})"  # noqa: S608
            found.update((row[0], orjson.loads(row[1])) for row in self.conn.execute(sql, chunk))
        return found

    async def account_docs(self, names: Sequence[str]) -> dict[str, protocol.AccountDoc]:
        return self._docs("accounts", "name", names)

    async def key_docs(self, ids: Sequence[str]) -> dict[str, protocol.KeyDoc]:
        return self._docs("api_keys", "id", ids)

    async def upsert_accounts(self, accounts: Sequence[protocol.AccountDoc]) -> None:
        rows = [(*account_fields(a), _dumps(a)) for a in accounts]
        self.conn.executemany(_UPSERT_ACCOUNTS, rows)

    async def upsert_keys(self, keys: Sequence[protocol.KeyDoc]) -> None:
        self.conn.executemany(_UPSERT_KEYS, [(*key_fields(k), _dumps(k)) for k in keys])

    async def append_history(self, entries: Sequence[protocol.HistoryDoc]) -> None:
        rows = [(*history_fields(e), _dumps(e)) for e in entries]
        self.conn.executemany(_INSERT_HISTORY, rows)

    async def record_ids(self, ids: Sequence[str]) -> set[str]:
        return set(self._stored("records", "id", ids))

    async def append_records(self, records: Sequence[protocol.RecordDoc]) -> None:
        self.conn.executemany(_INSERT_RECORDS, [(*record_fields(r), _dumps(r)) for r in records])

    def log_changes(self) -> None:
        """Append what the batch changed to the log other processes replay (see the module
        docstring), and prune the log now and then."""
        conn, changed = self.conn, len(self.node_changes) + len(self.link_changes)
        if changed > _BULK_CHANGE_THRESHOLD:
            conn.execute("INSERT INTO changes (entity, id) VALUES ('*', '*')")
        else:
            conn.executemany(
                "INSERT INTO changes (entity, id) VALUES (?, ?)",
                [("node", i) for i in self.node_changes] + [("link", i) for i in self.link_changes],
            )
        last = conn.execute("SELECT max(seq) FROM changes").fetchone()[0]
        self.last_seq = last or 0
        if last and last % 1000 < changed + 1:
            conn.execute("DELETE FROM changes WHERE seq <= ?", (last - _CHANGES_KEPT,))


class EmbeddedGraphStore(BaseGraphStore):
    """SQLite-backed store with an in-memory graph. See the module docstring."""

    backend = "embedded"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._write_lock = threading.Lock()
        self._mem_lock = threading.RLock()
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._reset_memory()

    # ------------------------------------------------------------------ lifecycle

    def _reset_memory(self) -> None:
        self._nodes: dict[str, NodeDoc] = {}
        self._links: dict[str, LinkDoc] = {}
        self._out: defaultdict[str, set[str]] = defaultdict(set)
        self._in: defaultdict[str, set[str]] = defaultdict(set)
        self._chars: defaultdict[str, set[str]] = defaultdict(set)
        #: Folded name or alias (``search_text.fold``) → ids: the distinct names, for very
        #: broad queries.
        self._name_ids: defaultdict[str, set[str]] = defaultdict(set)
        #: Own division code of a Region or Village → ids: a search for the code finds it.
        self._code_ids: defaultdict[str, set[str]] = defaultdict(set)
        self._sorted_names: tuple[int, list[str], list[str]] | None = None
        self._seq = 0
        self._data_version: int | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        _enter_wal(conn)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        # A larger page cache keeps the B-trees of a bulk load in memory (256 MB at most).
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    async def open(self) -> None:
        await asyncio.to_thread(self.open_sync)

    def open_sync(self) -> None:
        if self._writer is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._connect()
        self._writer.executescript(_SCHEMA)
        self._writer.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (SCHEMA_VERSION,),
        )
        self._writer.execute("PRAGMA optimize")
        self._reader = self._connect()
        with self._mem_lock:
            self._reload()

    async def close(self) -> None:
        with self._write_lock, self._mem_lock:
            for conn in (self._writer, self._reader):
                if conn is not None:
                    conn.close()
            self._writer = self._reader = None
            self._reset_memory()

    async def ping(self) -> None:
        self._conn_reader().execute("SELECT 1").fetchone()

    async def version(self) -> int:
        with self._mem_lock:
            self._refresh()
            return self._seq

    def _conn_reader(self) -> sqlite3.Connection:
        if self._reader is None:
            raise RuntimeError("store is not open")
        return self._reader

    def _conn_writer(self) -> sqlite3.Connection:
        if self._writer is None:
            raise RuntimeError("store is not open")
        return self._writer

    # ------------------------------------------------------------------ memory

    def _reload(self) -> None:
        """Rebuild the in-memory graph from SQLite (on open, or when the log was pruned)."""
        reader = self._conn_reader()
        reader.execute("BEGIN")
        # Millions of new dicts would trigger the cyclic collector over and over; none of
        # them are garbage yet.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._reset_memory()
            self._data_version = reader.execute("PRAGMA data_version").fetchone()[0]
            self._seq = reader.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
            for (doc,) in reader.execute("SELECT doc FROM nodes"):
                self._put_node(orjson.loads(doc))
            links, out_ids, in_ids = self._links, self._out, self._in
            for (raw,) in reader.execute("SELECT doc FROM links"):
                # The fresh-load form of _put_link: nothing to replace yet.
                doc = orjson.loads(raw)
                links[doc["id"]] = doc
                out_ids[doc["source"]].add(doc["id"])
                in_ids[doc["target"]].add(doc["id"])
        finally:
            reader.execute("COMMIT")
            if gc_was_enabled:
                gc.enable()

    def _refresh(self) -> None:
        """Catch up with writes by other connections (other processes). Caller holds mem lock."""
        reader = self._conn_reader()
        version = reader.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        reader.execute("BEGIN")
        try:
            self._data_version = reader.execute("PRAGMA data_version").fetchone()[0]
            self._catch_up(reader)
        finally:
            reader.execute("COMMIT")

    @contextlib.contextmanager
    def _snapshot_read(self) -> Iterator[None]:
        """The mem lock, and memory caught up to the snapshot of a read transaction the reader
        stays in until the block ends: SQL run in the block (``_ids_under``) sees exactly what
        memory holds. Without it, another process may commit between the catch-up and the
        query, and the query name a node memory does not have yet."""
        with self._mem_lock:
            reader = self._conn_reader()
            reader.execute("BEGIN")
            try:
                # Inside the transaction this starts the snapshot and gives its version.
                version = reader.execute("PRAGMA data_version").fetchone()[0]
                if version != self._data_version:
                    self._data_version = version
                    self._catch_up(reader)
                yield
            finally:
                reader.execute("COMMIT")

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT seq, entity, id FROM changes WHERE seq > ? ORDER BY seq", (self._seq,)
        ).fetchall()
        if not rows:
            return
        oldest = conn.execute("SELECT min(seq) FROM changes").fetchone()[0]
        if oldest > self._seq + 1 or any(entity == "*" for _, entity, _ in rows):
            self._reset_and_reload_from(conn)
            return
        for _, entity, item_id in rows:
            table = "nodes" if entity == "node" else "links"
            row = conn.execute(f"SELECT doc FROM {table} WHERE id = ?", (item_id,)).fetchone()  # noqa: S608
            if entity == "node":
                self._drop_node(item_id)
                if row:
                    self._put_node(orjson.loads(row[0]))
            else:
                self._drop_link(item_id)
                if row:
                    self._put_link(orjson.loads(row[0]))
        self._seq = rows[-1][0]

    def _reset_and_reload_from(self, conn: sqlite3.Connection) -> None:
        data_version = self._data_version
        self._reset_memory()
        self._data_version = data_version
        self._seq = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        for (doc,) in conn.execute("SELECT doc FROM nodes"):
            self._put_node(orjson.loads(doc))
        for (doc,) in conn.execute("SELECT doc FROM links"):
            self._put_link(orjson.loads(doc))

    @staticmethod
    def _folded_names(doc: NodeDoc) -> set[str]:
        return {fold(name) for name in (doc["name"], *doc.get("aliases", ()))}

    @staticmethod
    def _own_code(doc: NodeDoc) -> str | None:
        return doc.get("region_code") if doc["label"] in OWN_CODE_LABELS else None

    def _put_node(self, doc: NodeDoc) -> None:
        old = self._nodes.get(doc["id"])
        if old is not None:
            self._unindex_names(old)
        self._nodes[doc["id"]] = doc
        for name in self._folded_names(doc):
            if name not in self._name_ids:
                self._sorted_names = None
            self._name_ids[name].add(doc["id"])
            for ch in name:
                self._chars[ch].add(doc["id"])
        if (code := self._own_code(doc)) is not None:
            self._code_ids[code].add(doc["id"])

    def _unindex_names(self, doc: NodeDoc) -> None:
        if (code := self._own_code(doc)) is not None:
            ids = self._code_ids.get(code)
            if ids is not None:
                ids.discard(doc["id"])
                if not ids:
                    del self._code_ids[code]
        for name in self._folded_names(doc):
            ids = self._name_ids.get(name)
            if ids is not None:
                ids.discard(doc["id"])
                if not ids:
                    del self._name_ids[name]
                    self._sorted_names = None
            for ch in name:
                chars = self._chars.get(ch)
                if chars is not None:
                    chars.discard(doc["id"])

    def _drop_node(self, node_id: str) -> None:
        old = self._nodes.pop(node_id, None)
        if old is None:
            return
        self._unindex_names(old)
        self._out.pop(node_id, None)
        self._in.pop(node_id, None)

    def _put_link(self, doc: LinkDoc) -> None:
        self._drop_link(doc["id"])
        self._links[doc["id"]] = doc
        self._out[doc["source"]].add(doc["id"])
        self._in[doc["target"]].add(doc["id"])

    def _drop_link(self, link_id: str) -> None:
        old = self._links.pop(link_id, None)
        if old is None:
            return
        self._out[old["source"]].discard(link_id)
        self._in[old["target"]].discard(link_id)

    # ------------------------------------------------------------------ writes

    async def _write(self, batch: protocol.WriteBatch) -> protocol.WriteResult:
        return await asyncio.to_thread(self._write_in_thread, batch)

    def write_sync(self, batch: protocol.WriteBatch) -> protocol.WriteResult:
        """``write`` for callers without an event loop."""
        check_batch_ids(batch)
        return self._write_in_thread(batch)

    def _write_in_thread(self, batch: protocol.WriteBatch) -> protocol.WriteResult:
        with self._write_lock:
            conn = self._conn_writer()
            target = _SqliteBatch(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                counts = run_inline(apply_batch(target, batch))
                with self._mem_lock:
                    # Changes other processes made before this transaction come first.
                    self._catch_up(conn)
                    target.log_changes()
                    conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            with self._mem_lock:
                self._apply_committed(target)
                return protocol.WriteResult(**counts, version=self._seq)

    def _apply_committed(self, batch: _SqliteBatch) -> None:
        """Swap a committed batch into memory. Caller holds the write and mem locks.

        Another process may commit right after this batch. Memory moves to this batch's own
        last change, not to the log's end, and ``data_version`` is left for the next read to
        see moved: that read replays whatever came after (taking the log's end here lost such
        a write from memory for good: the load benchmark's 500s on two workers). A read of
        this process that ran since the commit already replayed this batch from the log."""
        if self._seq >= batch.last_seq:
            return
        for node_id, doc in batch.node_changes.items():
            self._drop_node(node_id) if doc is None else self._put_node(doc)
        for link_id, doc in batch.link_changes.items():
            self._drop_link(link_id) if doc is None else self._put_link(doc)
        self._seq = batch.last_seq

    # ------------------------------------------------------------------ point reads

    async def get_nodes(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, NodeDoc]:
        with self._mem_lock:
            self._refresh()
            return _valid_among(self._nodes, ids, as_of)

    async def get_links(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, LinkDoc]:
        with self._mem_lock:
            self._refresh()
            return _valid_among(self._links, ids, as_of)

    async def count_links(self, node_id: str) -> int:
        with self._mem_lock:
            self._refresh()
            return len(self._out.get(node_id, ())) + len(self._in.get(node_id, ()))

    # ------------------------------------------------------------------ lists

    @staticmethod
    def _as_of_sql(as_of: dt.date | None, where: list[str], params: list[Any]) -> None:
        if as_of is not None:
            day = as_of.isoformat()
            where.append(
                "(valid_from IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to >= ?)"
            )
            params += [day, day]

    def _page_rows(
        self,
        table: str,
        where: list[str],
        params: list[Any],
        request: PageRequest,
        newest_first: bool = False,
    ) -> PageRows:
        if newest_first:
            # The first page starts at the newest; the next ones before the last id seen.
            # The first page binds its empty cursor too ("" = ""): every filter keeps its
            # place among the parameters (a numbered "?1" would take the first filter's).
            bound, order = ("id < ?" if request.after else "? = ''"), "DESC"
        else:
            bound, order = "id > ?", "ASC"
        conditions = " AND ".join([*where, bound])
        sql = f"SELECT id, doc FROM {table} WHERE {conditions} ORDER BY id {order} LIMIT ?"  # noqa: S608
        with self._mem_lock:
            self._refresh()
            return (
                self._conn_reader().execute(sql, [*params, request.after, request.fetch]).fetchall()
            )

    async def _node_rows(self, query: protocol.NodeQuery, request: PageRequest) -> PageRows:
        where, params = self._node_where(query)
        return self._page_rows("nodes", where, params, request)

    async def count_nodes(self, query: protocol.NodeQuery) -> dict[str, int]:
        where, params = self._node_where(query)
        sql = (
            f"SELECT label, count(*) FROM nodes WHERE {' AND '.join(where) or '1'} "  # noqa: S608
            "GROUP BY label"
        )
        with self._mem_lock:
            self._refresh()
            return dict(self._conn_reader().execute(sql, params).fetchall())

    def _node_where(self, query: protocol.NodeQuery) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if query.labels:
            where.append(f"label IN ({_marks(len(query.labels))})")
            params += list(query.labels)
        if query.kinds:
            where.append(f"kind IN ({_marks(len(query.kinds))})")
            params += list(query.kinds)
        if query.region_code:
            where.append("region_code >= ? AND region_code < ?")
            params += list(code_range(query.region_code))
        self._as_of_sql(query.as_of, where, params)
        return where, params

    async def _link_rows(self, query: protocol.LinkQuery, request: PageRequest) -> PageRows:
        where: list[str] = []
        params: list[Any] = []
        if query.types:
            where.append(f"type IN ({_marks(len(query.types))})")
            params += list(query.types)
        if query.source:
            where.append("source = ?")
            params.append(query.source)
        if query.target:
            where.append("target = ?")
            params.append(query.target)
        if query.node:
            where.append("(source = ? OR target = ?)")
            params += [query.node, query.node]
        self._as_of_sql(query.as_of, where, params)
        return self._page_rows("links", where, params, request)

    # ------------------------------------------------------------------ search

    async def _search_candidates(
        self, text: SearchText, labels: Sequence[str], limit: int, as_of: dt.date | None
    ) -> list[NodeDoc]:
        needle = text.needle
        with self._mem_lock:
            self._refresh()
            candidate_sets = [self._chars.get(ch, set()) for ch in set(needle)]
            candidate_sets.sort(key=len)

            def visible(doc: NodeDoc) -> bool:
                return (not labels or doc["label"] in labels) and valid_on(doc, as_of)

            keyed = self._keyed(text)
            if len(candidate_sets[0]) > _BROAD_QUERY:
                found = self._broad_search(needle, visible, limit)
                keyed.difference_update(d["id"] for d in found)
                return [*found, *(d for d in map(self._nodes.__getitem__, keyed) if visible(d))]
            candidates = set(candidate_sets[0])
            for other in candidate_sets[1:]:
                candidates &= other
                if not candidates:
                    break
            candidates |= keyed
            docs = (self._nodes[node_id] for node_id in candidates)
            return [doc for doc in docs if visible(doc)]

    def _keyed(self, text: SearchText) -> set[str]:
        """The nodes whose id or own division code is the whole query."""
        found = set(self._code_ids.get(text.code, ())) if text.code is not None else set()
        found.update(node_id for node_id in text.ids if node_id in self._nodes)
        return found

    def _broad_search(
        self, needle: str, visible: Callable[[NodeDoc], bool], limit: int
    ) -> list[NodeDoc]:
        """A query matching a large part of the graph (村, 社区): walk the distinct names,
        far fewer than the nodes, best class first and shortest first, and stop as soon as
        no later name can outrank what was found."""
        by_name, by_length = self._name_orders()
        docs: dict[str, NodeDoc] = {}

        def take(name: str) -> None:
            for node_id in self._name_ids.get(name, ()):
                doc = self._nodes[node_id]
                if node_id not in docs and visible(doc):
                    docs[node_id] = doc

        # Exact and prefix matches: a contiguous run of the names sorted as text.
        start = bisect.bisect_left(by_name, needle)
        for name in itertools.islice(by_name, start, None):
            if not name.startswith(needle):
                break
            take(name)
        # Substring matches: shortest names score highest; finish the length reached.
        found_length = None
        for name in by_length:
            if found_length is not None and len(name) > found_length:
                break
            if needle in name and not name.startswith(needle):
                take(name)
                if found_length is None and len(docs) >= limit:
                    found_length = len(name)
        return list(docs.values())

    def _name_orders(self) -> tuple[list[str], list[str]]:
        """Distinct names sorted as text and by length, rebuilt after names changed."""
        if self._sorted_names is None or self._sorted_names[0] != len(self._name_ids):
            names = list(self._name_ids)
            self._sorted_names = (
                len(names),
                sorted(names),
                sorted(names, key=lambda n: (len(n), n)),
            )
        return self._sorted_names[1], self._sorted_names[2]

    # ------------------------------------------------------------------ traversal

    def _incident(self, node_id: str, direction: str) -> Iterable[str]:
        if direction in ("out", "both"):
            yield from self._out.get(node_id, ())
        if direction in ("in", "both"):
            yield from self._in.get(node_id, ())

    def _usable_link(self, link: LinkDoc, types: Sequence[str], as_of: dt.date | None) -> bool:
        return (not types or link["type"] in types) and valid_on(link, as_of)

    def _adjacency(self, direction: str) -> tuple[Mapping[str, set[str]], ...]:
        """Where the links at a node in ``direction`` are: ``_incident`` as dictionaries."""
        return {"out": (self._out,), "in": (self._in,)}.get(direction, (self._out, self._in))

    def _links_at_ring(
        self, ring: Iterable[str], query: protocol.NeighbourhoodQuery
    ) -> Iterator[tuple[str, LinkDoc, str, str]]:
        """The links at each node of ``ring`` usable for ``query``, in link id order, as rows
        for a ``NeighbourhoodWalk`` (the other end as an id: the walk looks it up)."""
        # _incident and _usable_link, inline: this runs for every link of every ring.
        links, adjacency = self._links, self._adjacency(query.direction)
        types, as_of = query.link_types, query.as_of
        for node_id in ring:
            incident = [i for at in adjacency for i in at.get(node_id, ())]
            incident.sort()
            for link_id in incident:
                link = links[link_id]
                if (not types or link["type"] in types) and (
                    as_of is None or valid_on(link, as_of)
                ):
                    other_id = link["target"] if link["source"] == node_id else link["source"]
                    yield link_id, link, other_id, other_id

    def _links_within(
        self, walk: NeighbourhoodWalk[str, LinkDoc], query: protocol.NeighbourhoodQuery
    ) -> Iterator[tuple[str, LinkDoc, str, str]]:
        """The usable links from the walk's outer ring to nodes that joined it. Most links at
        the outer ring lead elsewhere: they are passed over before anything else."""
        links, adjacency, joined = self._links, self._adjacency(query.direction), walk.depth_of
        types, as_of = query.link_types, query.as_of
        for node_id in walk.outer_ring:
            for at in adjacency:
                for link_id in at.get(node_id, ()):
                    link = links[link_id]
                    other_id = link["target"] if link["source"] == node_id else link["source"]
                    if (
                        other_id in joined
                        and (not types or link["type"] in types)
                        and (as_of is None or valid_on(link, as_of))
                    ):
                        yield link_id, link, other_id, other_id

    async def _neighbourhood(self, query: protocol.NeighbourhoodQuery) -> protocol.Subgraph:
        with self._mem_lock:
            self._refresh()
            centre = self._nodes.get(query.node_id)
            walk = NeighbourhoodWalk[str, LinkDoc](query, centre, self._nodes.__getitem__)
            for ring in walk.rings():
                walk.reach(self._links_at_ring(ring, query))
            walk.close(self._links_within(walk, query))
            return walk.subgraph()

    async def _shortest_paths(self, query: protocol.PathQuery) -> list[protocol.GraphPath]:
        with self._mem_lock:
            self._refresh()
            # Breadth-first from the source, keeping every predecessor on a shortest path.
            dist = {query.source: 0}
            preds: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
            queue = deque([query.source])
            while queue:
                node_id = queue.popleft()
                d = dist[node_id]
                if d >= query.max_depth or (query.target in dist and d >= dist[query.target]):
                    continue
                for link_id in sorted(self._incident(node_id, "both")):
                    link = self._links[link_id]
                    if not self._usable_link(link, query.link_types, query.as_of):
                        continue
                    other_id = link["target"] if link["source"] == node_id else link["source"]
                    if not valid_on(self._nodes[other_id], query.as_of):
                        continue
                    if other_id not in dist:
                        dist[other_id] = d + 1
                        queue.append(other_id)
                    if dist[other_id] == d + 1:
                        preds[other_id].append((node_id, link_id))
            if query.target not in dist:
                return []
            paths: list[protocol.GraphPath] = []

            def walk(node_id: str, nodes: list[str], links: list[str]) -> None:
                if len(paths) >= query.limit:
                    return
                if node_id == query.source:
                    paths.append(protocol.GraphPath(nodes[::-1], links[::-1]))
                    return
                for prev_id, link_id in preds[node_id]:
                    walk(prev_id, [*nodes, prev_id], [*links, link_id])

            walk(query.target, [query.target], [])
            return paths

    # ------------------------------------------------------------------ regions

    def _ids_under(self, code: str, label: str) -> list[str]:
        low, high = code_range(code)
        rows = self._conn_reader().execute(
            "SELECT id FROM nodes WHERE label = ? AND region_code >= ? AND region_code < ?",
            (label, low, high),
        )
        return [row[0] for row in rows]

    def _joint_body_member(self, actor_id: str, as_of: dt.date | None) -> bool:
        for link_id in self._out.get(actor_id, ()):
            link = self._links[link_id]
            if link["type"] != "MEMBER_OF" or not valid_on(link, as_of):
                continue
            body = self._nodes[link["target"]]
            if body.get("kind") in JOINT_BODY_KINDS and valid_on(body, as_of):
                return True
        return False

    def _village_covered(self, village_id: str, as_of: dt.date | None) -> bool:
        """In a joint body itself, or through its own party organization."""
        if self._joint_body_member(village_id, as_of):
            return True
        for link_id in self._in.get(village_id, ()):
            link = self._links[link_id]
            if (
                link["type"] == "ORGANIZATION_OF"
                and valid_on(link, as_of)
                and self._joint_body_member(link["source"], as_of)
            ):
                return True
        return False

    async def _village_coverage(self, region_code: str, as_of: dt.date | None) -> VillageCoverage:
        with self._snapshot_read():
            village_codes = {
                v: self._nodes[v]["region_code"]
                for v in self._ids_under(region_code, "Village")
                if valid_on(self._nodes[v], as_of)
            }
            covered = {v for v in village_codes if self._village_covered(v, as_of)}
            length = child_region_length(region_code)
            children = [
                (child["region_code"], child["name"])
                for child in (
                    self._nodes[i] for i in sorted(self._ids_under(region_code, "Region"))
                )
                if len(child["region_code"]) == length
            ]
            return village_codes, covered, children

    # ------------------------------------------------------------------ export

    async def export_graph(self, scope: protocol.Scope) -> nx.MultiDiGraph:
        with self._snapshot_read():
            if scope.node_ids is not None:
                members = {i for i in scope.node_ids if i in self._nodes}
            elif scope.region_code is not None:
                members = set()
                for label in NODE_LABELS:
                    members.update(self._ids_under(scope.region_code, label))
                # Placeless nodes (industries, programs) belong to a scope through its links.
                for node_id in list(members):
                    for link_id in self._incident(node_id, "both"):
                        link = self._links[link_id]
                        other = link["target"] if link["source"] == node_id else link["source"]
                        if self._nodes[other].get("region_code") is None:
                            members.add(other)
            else:
                members = set(self._nodes)
            members = {i for i in members if valid_on(self._nodes[i], scope.as_of)}
            graph = nx.MultiDiGraph()
            for node_id in sorted(members):
                graph.add_node(node_id, **self._nodes[node_id])
            for node_id in sorted(members):
                for link_id in sorted(self._out.get(node_id, ())):
                    link = self._links[link_id]
                    if link["target"] not in members:
                        continue
                    if not scope.include_structural and link["type"] in STRUCTURAL_LINK_TYPES:
                        continue
                    if not self._usable_link(link, scope.link_types, scope.as_of):
                        continue
                    graph.add_edge(link["source"], link["target"], key=link_id, **link)
            return graph

    async def _judgement_rows(
        self, query: protocol.JudgementQuery, request: PageRequest
    ) -> PageRows:
        where: list[str] = []
        params: list[Any] = []
        if query.current:
            where.append("id IN (SELECT max(id) FROM judgements GROUP BY pair)")
        if query.ids:
            where.append(f"id IN ({_marks(len(query.ids))})")
            params += list(query.ids)
        for column, value in (
            ("target", query.target),
            ("partner", query.partner),
            ("decided_by", query.decided_by),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.node is not None:
            where.append("(target = ? OR partner = ?)")
            params += [query.node, query.node]
        if query.decisions:
            where.append(f"decision IN ({_marks(len(query.decisions))})")
            params += list(query.decisions)
        if query.since is not None:
            where.append("decided_at >= ?")
            params.append(query.since)
        if query.until is not None:
            where.append("decided_at <= ?")
            params.append(query.until)
        return self._page_rows("judgements", where, params, request)

    async def _history_rows(self, query: protocol.HistoryQuery, request: PageRequest) -> PageRows:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("entity", query.entity),
            ("entity_id", query.entity_id),
            ("account", query.account),
            ("operation", query.operation),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.region is not None:
            low, high = code_range(query.region)
            where.append("((region_a >= ? AND region_a < ?) OR (region_b >= ? AND region_b < ?))")
            params += [low, high, low, high]
        if query.since is not None:
            where.append("at >= ?")
            params.append(query.since)
        if query.until is not None:
            where.append("at <= ?")
            params.append(query.until)
        return self._page_rows("history", where, params, request, newest_first=query.newest_first)

    async def _record_rows(self, query: protocol.RecordQuery, request: PageRequest) -> PageRows:
        where, params = ["kind = ?"], [query.kind]
        if query.current:
            where.append("id IN (SELECT max(id) FROM records WHERE kind = ? GROUP BY key)")
            params.append(query.kind)
        if query.keys:
            where.append(f"key IN ({_marks(len(query.keys))})")
            params += list(query.keys)
        if query.statuses:
            where.append(f"status IN ({_marks(len(query.statuses))})")
            params += list(query.statuses)
        if query.region is not None:
            low, high = code_range(query.region)
            where.append("region >= ? AND region < ?")
            params += [low, high]
        return self._page_rows("records", where, params, request, newest_first=query.newest_first)

    def _read_docs(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Documents beside the graph (accounts, keys), read from SQLite as they are now."""
        with self._mem_lock:
            return [orjson.loads(row[0]) for row in self._conn_reader().execute(sql, params)]

    async def get_accounts(self, names: Sequence[str]) -> dict[str, protocol.AccountDoc]:
        found: dict[str, protocol.AccountDoc] = {}
        for chunk in chunks(list(names), _SQL_CHUNK):
            sql = f"SELECT doc FROM accounts WHERE name IN ({_marks(len(chunk))})"  # noqa: S608
            found.update((doc["name"], doc) for doc in self._read_docs(sql, chunk))
        return found

    async def list_accounts(self) -> list[protocol.AccountDoc]:
        return self._read_docs("SELECT doc FROM accounts ORDER BY name")

    async def find_key(self, key_hash: str) -> tuple[protocol.KeyDoc, protocol.AccountDoc] | None:
        with self._mem_lock:
            row = (
                self._conn_reader()
                .execute(
                    "SELECT k.doc, a.doc FROM api_keys k JOIN accounts a ON a.name = k.account "
                    "WHERE k.hash = ?",
                    (key_hash,),
                )
                .fetchone()
            )
        return (orjson.loads(row[0]), orjson.loads(row[1])) if row else None

    async def list_keys(self, account: str | None = None) -> list[protocol.KeyDoc]:
        if account is None:
            return self._read_docs("SELECT doc FROM api_keys ORDER BY id")
        return self._read_docs("SELECT doc FROM api_keys WHERE account = ? ORDER BY id", (account,))

    async def stats(self) -> protocol.StoreStats:
        with self._mem_lock:
            self._refresh()
            labels = Counter(doc["label"] for doc in self._nodes.values())
            types = Counter(doc["type"] for doc in self._links.values())
            return protocol.StoreStats(self.backend, dict(labels), dict(types), self._seq)

    # ------------------------------------------------------------------ record-time reads

    async def links_at_nodes(self, node_ids: Sequence[str]) -> dict[str, list[LinkDoc]]:
        with self._mem_lock:
            self._refresh()
            found: dict[str, list[LinkDoc]] = {}
            for node_id in node_ids:
                ids = set(self._out.get(node_id, ())) | set(self._in.get(node_id, ()))
                found[node_id] = [self._links[i] for i in sorted(ids)]
            return found
