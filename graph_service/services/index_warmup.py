"""Recommender indexes built off the request path: at start-up, and again right after writes.

A county's recommender index takes 0.1-1.5 s of CPU to build (its scope export included);
built on the first request after a start or a write, that request pays for it. The warm-up
builds the indexes of the regions in use before the service reports ready (``/readyz``),
and keeps them current: after a write, :meth:`ScopedGraphs.follow
<graph_service.services.analysis_scope.ScopedGraphs.follow>` keeps every index the write did
not touch (most writes touch one county), and the warm-up rebuilds the touched ones at once
in the background, so a request after the write finds them or joins their build.

The regions in use: the setting ``recommend_warm_regions`` and the regions recommendations
were asked for, recorded per audience in ``recommend_regions.json`` in the data directory
(most recent first, at most ``recommend_warm_max`` pairs).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from graph_service.errors import GraphServiceError
from graph_service.services.recommendations import RecommendationService
from graph_service.services.view import GraphViews
from graph_service.visibility import Caller

__all__ = ["AUDIENCES", "IndexWarmer"]

log = logging.getLogger("graph_service")

#: The audiences an index is built for, and a caller of each (the warm-up reads as them).
AUDIENCES: dict[str, Caller] = {
    "public": Caller(),
    "full": Caller(authenticated=True, name="index-warm-up"),
}

WarmState = Literal["off", "warming", "warm"]


class IndexWarmer:
    """Builds and keeps the recommender indexes of the regions in use (module docstring).

    ``state`` is ``off`` (nothing to warm, or ``limit`` 0), ``warming`` until every planned
    index is built once, then ``warm``; a region that fails to build (a code no longer in
    the store) is skipped and logged.
    """

    def __init__(
        self,
        service: RecommendationService,
        views: GraphViews,
        regions: Sequence[str],
        limit: int,
        used_path: Path | None,
        poll_s: float,
    ) -> None:
        self.service = service
        self.views = views
        self.limit = limit
        self.used_path = used_path
        self.poll_s = poll_s
        self.state: WarmState = "off" if limit <= 0 else "warming"
        self.planned: list[tuple[str, str]] = []
        for region in regions:
            for audience in AUDIENCES:
                self._add(self.planned, (region, audience))
        for pair in self._recorded():
            self._add(self.planned, pair)
        #: Indexes of the current version built (or found) by the last round.
        self.warm = 0
        #: Seconds the first round took (``None`` until it ends).
        self.warmed_in_s: float | None = None
        self._task: asyncio.Task[None] | None = None

    def _add(self, into: list[tuple[str, str]], pair: tuple[str, str]) -> bool:
        if pair in into or len(into) >= self.limit or pair[1] not in AUDIENCES:
            return False
        into.append(pair)
        return True

    def _recorded(self) -> list[tuple[str, str]]:
        if self.used_path is None or not self.used_path.exists():
            return []
        try:
            pairs = json.loads(self.used_path.read_text(encoding="utf-8"))
            return [(str(region), str(audience)) for region, audience in pairs]
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring %s: %s", self.used_path, exc)
            return []

    def record(self, region: str, audience: str) -> None:
        """A recommendation of ``region`` was asked for ``audience``: warm it from now on
        (rebuilt after writes) and at the next start, if there is room."""
        if self.limit <= 0 or not self._add(self.planned, (region, audience)):
            return
        if self.used_path is not None:
            with contextlib.suppress(OSError):
                self.used_path.parent.mkdir(parents=True, exist_ok=True)
                self.used_path.write_text(json.dumps(self.planned), encoding="utf-8")

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        if self.state == "off":
            return
        self.service.on_index = self.record
        self.views.graphs.following = True
        self._task = asyncio.create_task(self._run(), name="index-warm-up")

    async def stop(self) -> None:
        self.service.on_index = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._thaw()  # what this app froze may all be garbage now

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "planned": len(self.planned),
            "warm": self.warm,
            "builds": dict(self.service.index_builds),
            "warmed_in_s": self.warmed_in_s,
        }

    async def _run(self) -> None:
        started = time.perf_counter()
        while True:
            try:
                # Where the history ends: the writes after it are read from here.
                await self.views.graphs.follow()
                await self._round()
                version = await self.views.store.version()
                break
            except GraphServiceError as exc:  # the store is down: /readyz says so too
                log.warning("index warm-up: %s", exc)
                await asyncio.sleep(self.poll_s)
        self._settle_memory()
        self.warmed_in_s = round(time.perf_counter() - started, 2)
        self.state = "warm"
        log.info("%d recommender indexes warm in %.2f s", self.warm, self.warmed_in_s)
        while True:
            await asyncio.sleep(self.poll_s)
            if not self.planned:  # nothing to keep warm (yet): no need to read the store
                continue
            try:
                if await self.views.store.version() == version:
                    continue
                # Keeps what the writes did not touch; the round rebuilds the rest.
                await self.views.graphs.follow()
                version = await self.views.store.version()
                builds = sum(self.service.index_builds.values())
                await self._round()
                if sum(self.service.index_builds.values()) != builds:
                    self._thaw()
            except GraphServiceError as exc:  # the store is down: look again later
                log.warning("index warm-up: %s", exc)

    async def _round(self) -> None:
        await self._build_all()

    @staticmethod
    def _settle_memory() -> None:
        """Collect once and leave what is alive out of later collections (at start-up).

        A county's graphs and indexes are millions of objects: the next full collection
        after they are built walks all of them (0.4 s of CPU for the benchmark's county and
        region, BENCHMARKS.md), inside whichever request allocates next: the first after
        start. Before ready, it costs no request; ``gc.freeze`` keeps later collections
        from walking them again.
        """
        gc.collect()
        gc.freeze()

    @staticmethod
    def _thaw() -> None:
        """After a write's rebuild: what was frozen may be garbage now (a replaced index,
        whose graph holds reference cycles): give it back to the collector. No collection
        here (it would pause the event loop for as long); the next one happens as always."""
        gc.unfreeze()

    async def _build_all(self) -> None:
        warm = 0
        for region, audience in list(self.planned):
            view = self.views.view(AUDIENCES[audience])
            try:
                await self.service.warm(view, region)
                warm += 1
                if self.state == "warming":
                    self.warm = warm
            except GraphServiceError as exc:
                log.warning("no recommender index for %s (%s): %s", region, audience, exc)
            except Exception:  # a bug must not end the warm-up of the other regions
                log.exception("recommender index of %s (%s) failed", region, audience)
        self.warm = warm
