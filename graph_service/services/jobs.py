"""Jobs: long work started by one request, polled and fetched by later ones, on any server
process.

A job is the computation of a route (``graph_service.services.work``: in the worker pool,
cached like any answer) run in the background, without the request's time budget and
without the caps below admin. Its record and result live in a small SQLite file in the
data directory (``Settings.jobs_path``), not in memory, so that every server process of
``graph-service serve --workers N`` reads them: the process that accepted a job runs it and
writes its state, progress and a heartbeat every second; any process answers for it. A job
whose process stopped (no heartbeat for :data:`LOST_AFTER` seconds) reads as failed.

Who may read a job (record and result): a job started without a key was computed on the
public view, so its result holds no personal data and anyone with its id may read it (ids
are 128-bit random). A job started with a key was computed on that caller's view: only the
same account and admins may read it; to anyone else it answers as an unknown id does (404).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from graph_service.access import Caller
from graph_service.errors import (
    BusyError,
    ConflictError,
    GraphServiceError,
    NotFoundError,
    RateLimitedError,
)
from graph_service.services.work import Computation, Flight, Payload, Work

__all__ = ["LOST_AFTER", "JobStore", "Jobs", "new_job_id"]

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]
#: Seconds between two heartbeats of a queued or running job.
HEARTBEAT: Final[float] = 1.0
#: Seconds without a heartbeat after which a queued or running job counts as lost.
LOST_AFTER: Final[float] = 30.0
#: Retry-After of a refused job, in seconds.
_RETRY_AFTER: Final[float] = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    parameters TEXT NOT NULL,
    state TEXT NOT NULL,
    progress REAL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    heartbeat_at REAL NOT NULL,
    account TEXT NOT NULL,
    personal INTEGER NOT NULL,
    starter TEXT NOT NULL,
    error TEXT,
    media_type TEXT,
    headers TEXT,
    result BLOB
);
CREATE INDEX IF NOT EXISTS jobs_active ON jobs (state, starter);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
"""
#: The columns of a job's record (its result apart).
_RECORD = (
    "id, operation, parameters, state, progress, created_at, started_at, finished_at, "
    "heartbeat_at, account, personal, error"
)


def new_job_id() -> str:
    return f"job-{secrets.token_hex(16)}"


def _stamp(moment: dt.datetime | None = None) -> str:
    """A time as jobs show it: UTC, microseconds, ``Z``."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JobStore:
    """Job records and results in one SQLite file (WAL: readers never wait for the writer).

    Each call is short; they run on a thread (``asyncio.to_thread``) over one connection
    guarded by a lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return await asyncio.to_thread(self._run, sql, params)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    async def create(self, row: Mapping[str, Any]) -> None:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        await self.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", tuple(row.values()))  # noqa: S608

    async def update(self, job_id: str, **values: Any) -> None:
        sets = ", ".join(f"{name} = ?" for name in values)
        await self.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*values.values(), job_id))  # noqa: S608

    async def record(self, job_id: str) -> dict[str, Any] | None:
        rows = await self.execute(f"SELECT {_RECORD} FROM jobs WHERE id = ?", (job_id,))  # noqa: S608
        return dict(rows[0]) if rows else None

    async def result(self, job_id: str) -> Payload | None:
        rows = await self.execute(
            "SELECT result, media_type, headers FROM jobs WHERE id = ? AND state = 'done'",
            (job_id,),
        )
        if not rows:
            return None
        headers = json.loads(rows[0]["headers"] or "{}")
        return Payload(bytes(rows[0]["result"]), rows[0]["media_type"], tuple(headers.items()))

    async def active(self, starter: str) -> tuple[int, int]:
        """Jobs queued or running (and not lost): all of them, and ``starter``'s."""
        rows = await self.execute(
            "SELECT count(*), coalesce(sum(starter = ?), 0) FROM jobs "
            "WHERE state IN ('queued', 'running') AND heartbeat_at >= ?",
            (starter, time.time() - LOST_AFTER),
        )
        return int(rows[0][0]), int(rows[0][1])

    async def prune(self, finished_before: str) -> None:
        await self.execute(
            "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?",
            (finished_before,),
        )


@dataclass(frozen=True, slots=True)
class JobLimits:
    """How many jobs may be active at once, in all and per caller, and how long a finished
    one is kept (``Settings.job_*``)."""

    concurrency: int = 1
    max_active: int = 16
    max_active_per_caller: int = 2
    retention_hours: float = 24.0


def _readable(caller: Caller, record: Mapping[str, Any]) -> bool:
    if not record["personal"]:
        return True
    return caller.sees_personal and (caller.is_admin or caller.name == record["account"])


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, GraphServiceError):
        return {"code": exc.code, "detail": exc.message, "field": exc.field}
    return {"code": "internal_error", "detail": "unexpected error", "field": None}


class Jobs:
    """Starts jobs in this process, and answers for any process's jobs."""

    def __init__(self, store: JobStore, work: Work, limits: JobLimits | None = None) -> None:
        self.store = store
        self.work = work
        self.limits = limits or JobLimits()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.limits.concurrency))
        return self._slots[1]

    async def start(
        self,
        caller: Caller,
        starter: str,
        operation: str,
        parameters: Mapping[str, Any],
        computation: Computation,
    ) -> dict[str, Any]:
        """Record a job and run it in the background; its record as :meth:`get` shows it.

        ``starter`` is whom the per-caller limit counts (an account, or an address).
        """
        kept = dt.timedelta(hours=self.limits.retention_hours)
        await self.store.prune(_stamp(dt.datetime.now(dt.UTC) - kept))
        active, mine = await self.store.active(starter)
        if active >= self.limits.max_active:
            raise BusyError(
                f"{active} jobs are queued or running, the most the service takes: start "
                "this one after Retry-After seconds",
                details={"active_jobs": active},
            )
        if mine >= self.limits.max_active_per_caller:
            raise RateLimitedError(
                f"you have {mine} jobs queued or running, the most one caller may: wait "
                "for one to finish",
                retry_after=_RETRY_AFTER,
                details={"active_jobs": mine},
            )
        job_id = new_job_id()
        await self.store.create(
            {
                "id": job_id,
                "operation": operation,
                "parameters": json.dumps(dict(parameters), ensure_ascii=False),
                "state": "queued",
                "created_at": _stamp(),
                "heartbeat_at": time.time(),
                "account": caller.name,
                "personal": int(caller.sees_personal),
                "starter": starter,
            }
        )
        task = asyncio.get_running_loop().create_task(self._run(job_id, computation))
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))
        return await self.get(caller, job_id)

    async def _run(self, job_id: str, computation: Computation) -> None:
        flights: list[Flight[Payload]] = []
        beat = asyncio.get_running_loop().create_task(self._beat(job_id, flights))
        try:
            async with self._semaphore():
                await self.store.update(job_id, state="running", started_at=_stamp())
                cached = computation.cached
                payload = self.work.results.get(computation.key) if cached else None
                if payload is None:
                    flights.append(computation.flight(self.work))
                    payload = await flights[0].wait()
            await self.store.update(
                job_id,
                state="done",
                progress=1.0,
                finished_at=_stamp(),
                result=payload.body,
                media_type=payload.media_type,
                headers=json.dumps(dict(payload.headers)),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not isinstance(exc, GraphServiceError):
                log.exception("job %s failed", job_id, exc_info=exc)
            error = json.dumps(_error(exc), ensure_ascii=False)
            await self.store.update(job_id, state="failed", finished_at=_stamp(), error=error)
        finally:
            beat.cancel()

    async def _beat(self, job_id: str, flights: list[Flight[Payload]]) -> None:
        """Tell every process this job is alive, with its progress, once a second."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            done = flights[0].progress if flights else None
            await self.store.execute(
                "UPDATE jobs SET heartbeat_at = ?, progress = ? "
                "WHERE id = ? AND state IN ('queued', 'running')",
                (time.time(), done, job_id),
            )

    async def get(self, caller: Caller, job_id: str) -> dict[str, Any]:
        """A job's record, if ``caller`` may read it (else as an unknown id: 404)."""
        record = await self.store.record(job_id)
        if record is None or not _readable(caller, record):
            raise NotFoundError(f"no job {job_id}", field="job_id")
        lost = time.time() - record["heartbeat_at"] > LOST_AFTER
        if record["state"] in ("queued", "running") and lost and job_id not in self._tasks:
            error = {
                "code": "job_lost",
                "detail": "the server process running this job stopped before it finished",
                "field": None,
            }
            record.update(state="failed", finished_at=_stamp(), error=json.dumps(error))
            await self.store.update(
                job_id, state="failed", finished_at=record["finished_at"], error=record["error"]
            )
        return {
            "id": record["id"],
            "operation": record["operation"],
            "parameters": json.loads(record["parameters"]),
            "state": record["state"],
            "progress": record["progress"],
            "created_at": record["created_at"],
            "started_at": record["started_at"],
            "finished_at": record["finished_at"],
            "account": record["account"],
            "public": not record["personal"],
            "error": json.loads(record["error"]) if record["error"] else None,
        }

    async def result(self, caller: Caller, job_id: str) -> Payload:
        """A finished job's result; a job not done (or failed) is a conflict."""
        job = await self.get(caller, job_id)
        if job["state"] == "failed":
            raise ConflictError(
                f"job {job_id} failed: {job['error']['detail']}",
                field="job_id",
                code="job_failed",
                details={"error": job["error"]},
            )
        payload = await self.store.result(job_id) if job["state"] == "done" else None
        if payload is None:
            raise ConflictError(
                f"job {job_id} is {job['state']}: poll /v1/jobs/{job_id} until it is done",
                field="job_id",
                code="job_not_done",
                details={"state": job["state"], "progress": job["progress"]},
            )
        return payload

    async def close(self) -> None:
        """Stop this process's jobs (the server stops): each is recorded as failed."""
        tasks = dict(self._tasks)
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        error = json.dumps(
            {
                "code": "job_lost",
                "detail": "the server stopped before the job finished",
                "field": None,
            }
        )
        for job_id in tasks:
            await self.store.update(job_id, state="failed", finished_at=_stamp(), error=error)
        await asyncio.to_thread(self.store.close)
