"""Situation pages computed at start-up, so the first planner after a restart does not wait.

A county's page takes seconds to compute cold (coverage, rules, centrality, communities,
trends; BENCHMARKS.md, "The situation page"), past the request's time budget: the first page
after a start would be a 503 and a retry. The regions whose page was opened with its default
settings (today, no comparison, PageRank) are recorded per audience in
``dashboard_regions.json`` in the data directory (most recent first, at most ``limit``); once
the recommender indexes are warm (``services.index_warmup``: the pages' pairings use them),
those pages are computed once, in the background, into the page cache. Not after writes: every
write makes a new store version, and recomputing every recorded page for each would keep the
workers busy for pages nobody may ask for; the next request computes its page on warm graphs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path

from graph_service.errors import GraphServiceError
from graph_service.services.dashboard import DashboardRequest, DashboardService
from graph_service.services.index_warmup import AUDIENCES, IndexWarmer
from graph_service.services.view import GraphViews

__all__ = ["PageWarmer"]

log = logging.getLogger("graph_service")


class PageWarmer:
    """Records the regions whose default page is opened; computes them after a start."""

    def __init__(
        self,
        service: DashboardService,
        views: GraphViews,
        indexes: IndexWarmer,
        limit: int,
        used_path: Path | None,
    ) -> None:
        self.service = service
        self.views = views
        self.indexes = indexes
        self.limit = limit
        self.used_path = used_path
        self.recorded: list[tuple[str, str]] = self._read()
        #: Pages computed by the start-up round; ``None`` until it ends.
        self.warmed: int | None = None
        self._task: asyncio.Task[None] | None = None

    def _read(self) -> list[tuple[str, str]]:
        if self.used_path is None or not self.used_path.exists():
            return []
        try:
            pairs = json.loads(self.used_path.read_text(encoding="utf-8"))
            found = [(str(region), str(audience)) for region, audience in pairs]
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring %s: %s", self.used_path, exc)
            return []
        return [pair for pair in found if pair[1] in AUDIENCES][: self.limit]

    def record(self, request: DashboardRequest, audience: str) -> None:
        """A page was answered: when it is a region's default page, warm it at next start."""
        if self.limit <= 0 or audience not in AUDIENCES:
            return
        if request != DashboardRequest(request.region):
            return
        pair = (request.region, audience)
        if self.recorded[:1] == [pair]:
            return
        self.recorded = [pair, *(p for p in self.recorded if p != pair)][: self.limit]
        if self.used_path is not None:
            with contextlib.suppress(OSError):
                self.used_path.parent.mkdir(parents=True, exist_ok=True)
                self.used_path.write_text(json.dumps(self.recorded), encoding="utf-8")

    def start(self) -> None:
        if self.limit <= 0:
            self.warmed = 0
            return
        self.service.on_page = self.record
        self._task = asyncio.create_task(self._run(), name="page-warm-up")

    async def stop(self) -> None:
        self.service.on_page = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        # After the indexes (readiness waits for them, and the pages' pairings use them).
        while self.indexes.state == "warming":
            await asyncio.sleep(self.indexes.poll_s)
        warmed = 0
        for region, audience in list(self.recorded):
            view = self.views.view(AUDIENCES[audience])
            try:
                await self.service.situation(view, DashboardRequest(region))
                warmed += 1
            except GraphServiceError as exc:  # a region gone, the store down: skip it
                log.warning("no situation page warmed for %s (%s): %s", region, audience, exc)
            except Exception:  # a bug must not end the warm-up of the other pages
                log.exception("situation page of %s (%s) failed", region, audience)
        self.warmed = warmed
        log.info("%d situation pages warm", warmed)
