"""The embedded store: SQLite (standard library) as the system of record, an in-memory graph
for traversal.

Why this shape:

- SQLite in WAL mode with ``synchronous=FULL`` makes every acknowledged batch durable (it
  survives ``kill -9`` and power loss) and atomic, and lets readers in other processes read
  while a writer writes.
- Traversals (neighbourhoods, paths, coverage, exports) and search run on a lean graph in
  memory (``store.compact``: labels, validity, names, adjacency as integer arrays), rebuilt
  from SQLite on open; documents are read from SQLite when a read returns them, with a small
  cache. Memory is never the record: nothing is pickled. (Until issue 16 every document was
  held in memory as a dict: about 1.5 KB per node or link, too much for the national
  network.)
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
from collections import OrderedDict, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import orjson

from graph_service.models import LinkDoc, NodeDoc
from graph_service.schema import JOINT_BODY_KINDS, NODE_LABELS, STRUCTURAL_LINK_TYPES
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
from graph_service.store.compact import CompactGraph, LinkHead
from graph_service.store.integrity import check_batch_ids
from graph_service.store.neighbourhood import NeighbourhoodWalk

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
#: Documents kept decoded per kind (nodes, links) after a read: the working set of the
#: neighbourhoods and point reads in use; everything else is read from SQLite on demand.
_DOC_CACHE = 50_000

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


def _day(as_of: dt.date | None) -> str | None:
    """The date as stored validity dates compare with it (``valid_on``)."""
    return None if as_of is None else as_of.isoformat()


def _head_valid(head: LinkHead, day: str) -> bool:
    start, end = head[3], head[4]
    return (start is None or start <= day) and (end is None or day <= end)


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
        #: Heads, adjacency and names in memory (``store.compact``); documents in SQLite.
        self._graph = CompactGraph()
        #: Recently read documents (``_DOC_CACHE`` of each), dropped when they change.
        self._node_cache: OrderedDict[str, NodeDoc] = OrderedDict()
        self._link_cache: OrderedDict[str, LinkDoc] = OrderedDict()
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
        try:
            self._data_version = reader.execute("PRAGMA data_version").fetchone()[0]
            self._load_all(reader)
        finally:
            reader.execute("COMMIT")

    def _load_all(self, conn: sqlite3.Connection) -> None:
        """Memory from the tables as ``conn`` sees them: node documents are read once for
        their names and dropped; links are read as columns, without their documents."""
        data_version = self._data_version
        # Millions of new objects would trigger the cyclic collector over and over; none of
        # them are garbage yet.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._reset_memory()
            self._data_version = data_version
            self._seq = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
            graph = self._graph
            for (doc,) in conn.execute("SELECT doc FROM nodes"):
                graph.put_node(orjson.loads(doc))
            graph.defer_rows = True
            try:
                rows = conn.execute(
                    "SELECT id, type, source, target, valid_from, valid_to FROM links"
                )
                for row in rows:
                    graph.put_link_fields(*row)
            finally:
                graph.defer_rows = False
                graph.rebuild_rows()
        finally:
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
        stays in until the block ends: documents read from SQLite in the block are exactly
        those memory describes. Without it, another process may commit between the catch-up
        and the query, and a read name a node memory does not have yet (or miss one it has).
        Re-entrant: an inner block joins the outer one's transaction."""
        with self._mem_lock:
            reader = self._conn_reader()
            if reader.in_transaction:
                yield
                return
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
            self._load_all(conn)
            return
        try:
            for _, entity, item_id in rows:
                table = "nodes" if entity == "node" else "links"
                row = conn.execute(f"SELECT doc FROM {table} WHERE id = ?", (item_id,)).fetchone()  # noqa: S608
                doc = None if row is None else orjson.loads(row[0])
                if entity == "node":
                    self._take_node(item_id, doc)
                else:
                    self._take_link(item_id, doc)
        except KeyError:
            # A link whose end this replay has not seen (a node deleted and created again
            # between two reads): start from the tables instead.
            self._load_all(conn)
            return
        self._seq = rows[-1][0]

    def _take_node(self, node_id: str, doc: NodeDoc | None) -> None:
        """A node as it now is (``None``: deleted) into memory."""
        self._node_cache.pop(node_id, None)
        if doc is None:
            self._graph.drop_node(node_id)
        else:
            self._graph.put_node(doc)

    def _take_link(self, link_id: str, doc: LinkDoc | None) -> None:
        self._link_cache.pop(link_id, None)
        if doc is None:
            self._graph.drop_link(link_id)
        else:
            self._graph.put_link(doc)

    # ------------------------------------------------------------------ documents

    def _node_docs(self, ids: Sequence[str]) -> dict[str, NodeDoc]:
        """Documents of stored nodes among ``ids``, in their order. Caller is in a snapshot
        read (``_snapshot_read``) or the write transaction."""
        return self._docs("nodes", self._node_cache, ids)

    def _link_docs(self, ids: Sequence[str]) -> dict[str, LinkDoc]:
        return self._docs("links", self._link_cache, ids)

    def _docs(self, table: str, cache: OrderedDict[str, Doc], ids: Sequence[str]) -> dict[str, Doc]:
        # Large reads (exports, coverage) go past the cache: they would only flush it.
        cached = len(ids) <= _DOC_CACHE // 4
        found: dict[str, Doc] = {}
        missing: list[str] = []
        for item_id in ids:
            doc = cache.get(item_id) if cached else None
            if doc is None:
                missing.append(item_id)
            else:
                cache.move_to_end(item_id)
                found[item_id] = doc
        read: dict[str, Doc] = {}
        conn = self._conn_reader()
        for chunk in chunks(missing, _SQL_CHUNK):
            sql = f"SELECT id, doc FROM {table} WHERE id IN ({_marks(len(chunk))})"  # noqa: S608
            read.update((row[0], orjson.loads(row[1])) for row in conn.execute(sql, chunk))
        if cached:
            cache.update(read)
            while len(cache) > _DOC_CACHE:
                cache.popitem(last=False)
        if not read:
            return found
        found.update(read)
        return {i: found[i] for i in ids if i in found}

    def _node_doc(self, node_id: str) -> NodeDoc | None:
        return self._node_docs([node_id]).get(node_id)

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
        for node_id, node in batch.node_changes.items():
            self._take_node(node_id, node)
        for link_id, link in batch.link_changes.items():
            self._take_link(link_id, link)
        self._seq = batch.last_seq

    # ------------------------------------------------------------------ point reads

    async def get_nodes(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, NodeDoc]:
        day = _day(as_of)
        with self._snapshot_read():
            return self._node_docs([i for i in ids if self._graph.node_valid(i, day)])

    async def get_links(
        self, ids: Sequence[str], as_of: dt.date | None = None
    ) -> dict[str, LinkDoc]:
        day = _day(as_of)
        with self._snapshot_read():
            graph = self._graph
            live = []
            for link_id in ids:
                head = graph.link_head(link_id)
                if head is not None and (day is None or _head_valid(head, day)):
                    live.append(link_id)
            return self._link_docs(live)

    async def count_links(self, node_id: str) -> int:
        with self._mem_lock:
            self._refresh()
            return len(self._graph.incident(node_id, "both"))

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
        needle, day, graph = text.needle, _day(as_of), self._graph
        with self._snapshot_read():
            keyed = [i for i in self._keyed(text) if graph.visible(i, labels, day)]
            if min(graph.char_nodes(ch) for ch in set(needle)) > _BROAD_QUERY:
                found = self._broad_search(needle, labels, day, limit)
                return list(
                    self._node_docs([*found, *(i for i in keyed if i not in found)]).values()
                )
            candidates = set(graph.name_candidates(needle, labels, day))
            candidates.update(keyed)
            return list(self._node_docs(sorted(candidates)).values())

    def _keyed(self, text: SearchText) -> set[str]:
        """The nodes whose id or own division code is the whole query."""
        graph = self._graph
        found = set(graph.nodes_coded(text.code)) if text.code is not None else set()
        found.update(node_id for node_id in text.ids if node_id in graph)
        return found

    def _broad_search(
        self, needle: str, labels: Sequence[str], day: str | None, limit: int
    ) -> dict[str, None]:
        """A query matching a large part of the graph (村, 社区): walk the distinct names,
        far fewer than the nodes, best class first and shortest first, and stop as soon as
        no later name can outrank what was found. The ids found, in order."""
        by_name, by_length = self._name_orders()
        graph = self._graph
        found: dict[str, None] = {}

        def take(name: str) -> None:
            for node_id in graph.nodes_named(name):
                if node_id not in found and graph.visible(node_id, labels, day):
                    found[node_id] = None

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
                if found_length is None and len(found) >= limit:
                    found_length = len(name)
        return found

    def _name_orders(self) -> tuple[list[str], list[str]]:
        """Distinct names sorted as text and by length, rebuilt after names changed."""
        changed = self._graph.names_changed
        if self._sorted_names is None or self._sorted_names[0] != changed:
            names = self._graph.names()
            self._sorted_names = (
                changed,
                sorted(names),
                sorted(names, key=lambda n: (len(n), n)),
            )
        return self._sorted_names[1], self._sorted_names[2]

    # ------------------------------------------------------------------ traversal

    def _links_at_ring(
        self, ring: Iterable[str], query: protocol.NeighbourhoodQuery
    ) -> list[tuple[str, str, str, str]]:
        """The links at each node of ``ring`` usable for ``query``, in link id order, as rows
        for a ``NeighbourhoodWalk`` (the link and the other end as ids: the walk loads what
        it keeps)."""
        heads, day = self._graph.incident_heads, _day(query.as_of)
        return [
            (link_id, link_id, other, other)
            for node_id in ring
            for link_id, _, other in heads(node_id, query.direction, query.link_types, day)
        ]

    def _links_within(
        self, walk: NeighbourhoodWalk[str, str], query: protocol.NeighbourhoodQuery
    ) -> Iterator[tuple[str, str, str, str]]:
        """The usable links from the walk's outer ring to nodes that joined it. A hub in the
        outer ring (a county's region: tens of thousands of links) is reached from the
        joined nodes' side instead, which has far fewer links to look at."""
        graph, day, joined = self._graph, _day(query.as_of), walk.depth_of
        direction, types = query.direction, query.link_types
        small = 4 * len(joined) + 64
        hubs = {n for n in joined if graph.degree(n) > small}
        reverse = {"out": "in", "in": "out"}.get(direction, "both")
        for node_id in walk.outer_ring:
            if node_id not in hubs or len(hubs) > 1:
                for link_id, _, other in graph.incident_heads(
                    node_id, direction, types, day, ordered=False
                ):
                    if other in joined:
                        yield link_id, link_id, other, other
                continue
            # No other hub among them: each has few links. (A link never joins a node to
            # itself: models.py refuses it.)
            for other in joined:
                if other == node_id:
                    continue
                for link_id, _, end in graph.incident_heads(
                    other, reverse, types, day, ordered=False
                ):
                    if end == node_id:
                        yield link_id, link_id, other, other

    def _usable_rows(
        self,
        walk: NeighbourhoodWalk[str, str],
        rows: list[tuple[str, str, str, str]],
        query: protocol.NeighbourhoodQuery,
    ) -> list[tuple[str, str, str, str]]:
        """The rows the walk can use, in order: to nodes joined already or joining in this
        ring (the first ones its room allows among those its filters pass), and the first
        row past the room (it marks the answer truncated). The walk would look at and turn
        away every other one; a ring at a hub has tens of thousands."""
        graph, day, joined = self._graph, _day(query.as_of), walk.depth_of
        room = max(query.limit - len(joined), 0)
        joining: set[str] = set()
        kept: list[tuple[str, str, str, str]] = []
        past_room = False
        for row in rows:
            other = row[2]
            if other in joined or other in joining:
                kept.append(row)
            elif past_room or not graph.visible(other, query.node_labels, day):
                continue
            elif len(joining) < room:
                joining.add(other)
                kept.append(row)
            elif not past_room:
                past_room = True
                kept.append(row)
        return kept

    def _ring_loader(
        self,
        walk: NeighbourhoodWalk[str, str],
        rows: list[tuple[str, str, str, str]],
        query: protocol.NeighbourhoodQuery,
    ) -> None:
        """Read, in one statement, the documents of the nodes this ring can still join: the
        first ones (in row order) the walk's room allows among those its filters pass."""
        graph, day, joined = self._graph, _day(query.as_of), walk.depth_of
        room = max(query.limit - len(joined), 0)
        wanted: dict[str, None] = {}
        for *_, other in rows:
            if len(wanted) >= room:
                break
            if other not in joined and graph.visible(other, query.node_labels, day):
                wanted[other] = None
        self._node_docs(list(wanted))

    def _walk_node(
        self, walk: NeighbourhoodWalk[str, str], query: protocol.NeighbourhoodQuery, node_id: str
    ) -> NodeDoc:
        """A node the walk looks at. One it will turn away (filtered out, or no room left)
        is not read: what the walk looks at (label, validity) comes from memory."""
        doc = self._node_cache.get(node_id)
        if doc is not None:
            return doc
        graph = self._graph
        full = len(walk.depth_of) >= query.limit
        if full or not graph.visible(node_id, query.node_labels, _day(query.as_of)):
            return graph.stub(node_id)
        found = self._node_doc(node_id)
        return found if found is not None else graph.stub(node_id)

    async def _neighbourhood(self, query: protocol.NeighbourhoodQuery) -> protocol.Subgraph:
        with self._snapshot_read():
            centre = self._node_doc(query.node_id) if query.node_id in self._graph else None
            links: dict[str, LinkDoc] = {}
            walk: NeighbourhoodWalk[str, str] = NeighbourhoodWalk(
                query,
                centre,
                lambda node_id: self._walk_node(walk, query, node_id),
                links.__getitem__,
            )
            for ring in walk.rings():
                rows = self._usable_rows(walk, self._links_at_ring(ring, query), query)
                self._ring_loader(walk, rows, query)
                walk.reach(rows)
            walk.close(self._links_within(walk, query))
            links.update(self._link_docs(walk.kept_links))
            return walk.subgraph()

    async def _shortest_paths(self, query: protocol.PathQuery) -> list[protocol.GraphPath]:
        graph, day = self._graph, _day(query.as_of)
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
                for link_id, _, other_id in graph.incident_heads(
                    node_id, "both", query.link_types, day
                ):
                    if not graph.node_valid(other_id, day):
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
        return [node_id for node_id, _, _ in self._rows_under(code, label)]

    def _rows_under(self, code: str, label: str) -> list[tuple[str, str, str]]:
        """``(id, region code, name)`` of the nodes of ``label`` under ``code``."""
        low, high = code_range(code)
        rows = self._conn_reader().execute(
            "SELECT id, region_code, name FROM nodes "
            "WHERE label = ? AND region_code >= ? AND region_code < ?",
            (label, low, high),
        )
        return rows.fetchall()

    def _joint_body_member(self, actor_id: str, day: str | None) -> bool:
        graph = self._graph
        for _, _, body in graph.incident_heads(actor_id, "out", ("MEMBER_OF",), day):
            if graph.node_kind(body) in JOINT_BODY_KINDS and graph.node_valid(body, day):
                return True
        return False

    def _village_covered(self, village_id: str, day: str | None) -> bool:
        """In a joint body itself, or through its own party organization."""
        if self._joint_body_member(village_id, day):
            return True
        return any(
            self._joint_body_member(organization, day)
            for _, _, organization in self._graph.incident_heads(
                village_id, "in", ("ORGANIZATION_OF",), day
            )
        )

    async def _village_coverage(self, region_code: str, as_of: dt.date | None) -> VillageCoverage:
        day, graph = _day(as_of), self._graph
        with self._snapshot_read():
            village_codes = {
                v: code
                for v, code, _ in self._rows_under(region_code, "Village")
                if graph.node_valid(v, day)
            }
            covered = {v for v in village_codes if self._village_covered(v, day)}
            length = child_region_length(region_code)
            children = [
                (code, name)
                for _, code, name in sorted(self._rows_under(region_code, "Region"))
                if len(code) == length
            ]
            return village_codes, covered, children

    # ------------------------------------------------------------------ export

    def _scope_members(self, scope: protocol.Scope) -> set[str]:
        graph = self._graph
        if scope.node_ids is not None:
            members = {i for i in scope.node_ids if i in graph}
        elif scope.region_code is not None:
            members = set()
            for label in NODE_LABELS:
                members.update(self._ids_under(scope.region_code, label))
            # Placeless nodes (industries, programs) belong to a scope through its links.
            for node_id in list(members):
                for _, _, other in graph.incident_heads(node_id, "both", (), None):
                    if not graph.node_placed(other):
                        members.add(other)
        else:
            members = set(graph.node_ids())
        day = _day(scope.as_of)
        return {i for i in members if graph.node_valid(i, day)}

    async def export_graph(self, scope: protocol.Scope) -> nx.MultiDiGraph:
        graph, day = self._graph, _day(scope.as_of)
        with self._snapshot_read():
            members = sorted(self._scope_members(scope))
            kept = set(members)
            link_ids = []
            for node_id in members:
                for link_id, link_type, other in graph.incident_heads(
                    node_id, "out", scope.link_types, day
                ):
                    if other not in kept:
                        continue
                    if not scope.include_structural and link_type in STRUCTURAL_LINK_TYPES:
                        continue
                    link_ids.append(link_id)
            nodes = self._node_docs(members)
            links = self._link_docs(link_ids)
        exported = nx.MultiDiGraph()
        exported.add_nodes_from(nodes.items())
        for link_id, link in links.items():
            exported.add_edge(link["source"], link["target"], key=link_id, **link)
        return exported

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
            graph = self._graph
            return protocol.StoreStats(
                self.backend, graph.label_counts(), graph.type_counts(), self._seq
            )

    # ------------------------------------------------------------------ record-time reads

    async def links_at_nodes(self, node_ids: Sequence[str]) -> dict[str, list[LinkDoc]]:
        with self._snapshot_read():
            at = {i: sorted(set(self._graph.incident(i, "both"))) for i in node_ids}
            docs = self._link_docs(sorted({link for ids in at.values() for link in ids}))
            return {i: [docs[link] for link in ids if link in docs] for i, ids in at.items()}
