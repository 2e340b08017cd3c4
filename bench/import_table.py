"""Spreadsheet import (台账) at scale: a generated 100 000-row ledger previewed and committed
through :class:`~graph_service.services.imports.ImportService` on a fresh embedded store
holding the seed graph, as the system caller.

    .venv/bin/python bench/import_table.py                      # 100 000 rows, xlsx
    .venv/bin/python bench/import_table.py --rows 20000 --format csv --json
    .venv/bin/python bench/import_table.py --profile 30         # and the top 30 hotspots

The ledger comes from ``scripts/make_ledger.py`` (with its merged title row, as the example
in ``seed/examples``) into a temporary folder. Timed with ``time.perf_counter``:

- *read+plan*: ``ImportService.plan`` (read the sheet, map it, resolve every row);
- *commit*: ``ImportService.commit`` with the preview's digest, which plans again (so that a
  commit never writes what the preview did not show) and writes the accepted rows, the import
  record and the review items in one transaction.

The goal (issue): a 100 000-row sheet imports in 60 s or less on the embedded store. The peak
RSS is sampled with psutil while the import runs when it is installed, else the process's
peak from ``resource.getrusage``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from graph_service.access import SYSTEM  # noqa: E402
from graph_service.errors import GraphServiceError  # noqa: E402
from graph_service.services.imports import ImportOptions, ImportService  # noqa: E402
from graph_service.services.loading import load_seed  # noqa: E402
from graph_service.services.resolution import NameResolver  # noqa: E402
from graph_service.services.review import ReviewService  # noqa: E402
from graph_service.services.view import GraphViews  # noqa: E402
from graph_service.store.embedded import EmbeddedGraphStore  # noqa: E402

GOAL_SECONDS = 60.0
REGION = "371426"


class PeakRss:
    """The largest resident set seen while running (psutil, sampled every 20 ms), or the
    process's peak so far (``getrusage``) without psutil."""

    def __init__(self) -> None:
        self.peak = 0
        self.source = "getrusage"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import psutil  # type: ignore[import-untyped]

            self._process: Any = psutil.Process()
            self.source = "psutil"
        except ImportError:  # pragma: no cover - psutil is a dev dependency
            self._process = None

    def __enter__(self) -> PeakRss:
        if self._process is not None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.peak = max(self.peak, self._process.memory_info().rss)
        else:
            self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_ledger(rows: int, fmt: str, folder: Path) -> Path:
    out = folder / f"ledger-{rows}.{fmt}"
    command = [
        sys.executable,
        str(ROOT / "scripts" / "make_ledger.py"),
        "--rows",
        str(rows),
        "--title",
        "--format",
        fmt,
        "--out",
        str(out),
    ]
    if fmt == "csv":
        command += ["--encoding", "gb18030"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


async def run(rows: int, fmt: str, profile: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        ledger = make_ledger(rows, fmt, folder)
        generated = time.perf_counter() - started
        data = ledger.read_bytes()
        store = EmbeddedGraphStore(folder / "data" / "graph.sqlite3")
        (folder / "data").mkdir()
        await store.open()
        try:
            await load_seed(store, ROOT / "seed")
            before = await store.stats()
            resolver = NameResolver()
            review = ReviewService(store, resolver)
            imports = ImportService(store, resolver, review)
            view = GraphViews(store).view(SYSTEM)
            options = ImportOptions(filename=ledger.name, region_code=REGION)
            max_bytes = max(len(data) + 1, 20_000_000)
            profiler = cProfile.Profile() if profile else None
            with PeakRss() as rss:
                if profiler:
                    profiler.enable()
                t0 = time.perf_counter()
                plan = await imports.plan(view, data, options, max_bytes)
                t1 = time.perf_counter()
                error: str | None = None
                try:
                    result = await imports.commit(
                        view, SYSTEM, data, options, max_bytes, plan.digest(), None
                    )
                except GraphServiceError as exc:  # reported, not hidden: the plan's numbers stand
                    error = f"{exc.code}: {exc.message} ({exc.field})"
                    result = {"nodes_created": 0, "nodes_updated": 0, "links_created": 0}
                    result["review_items"] = []
                t2 = time.perf_counter()
                if profiler:
                    profiler.disable()
            after = await store.stats()
        finally:
            await store.close()
    counts = plan.counts()
    report: dict[str, Any] = {
        "rows": counts["rows"],
        "format": fmt,
        "file_bytes": len(data),
        "generate_s": round(generated, 2),
        "read_plan_s": round(t1 - t0, 2),
        "commit_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "rows_per_s": round(counts["rows"] / (t2 - t0)),
        "counts": counts,
        "nodes_created": result["nodes_created"],
        "nodes_updated": result["nodes_updated"],
        "links_created": result["links_created"],
        "review_items": len(result["review_items"]),
        "links_before": sum(before.links_by_type.values()),
        "links_after": sum(after.links_by_type.values()),
        "rss_peak_mb": round(rss.peak / 2**20),
        "rss_source": rss.source,
        "goal_s": GOAL_SECONDS,
        "within_goal": error is None and (t2 - t0) <= GOAL_SECONDS,
        "commit_error": error,
    }
    if profiler:
        for key in ("tottime", "cumulative"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(profile)
            report[f"profile_{key}"] = text.getvalue()
    return report


def markdown(report: dict[str, Any]) -> str:
    counts = report["counts"]
    head = (
        "| rows | format | read+plan s | commit s (re-plan + write) | total s | rows/s | "
        "matched | new | ambiguous | rejected | links written | review items | RSS peak MB |"
    )
    line = "|" + "---|" * (head.count("|") - 1)
    body = (
        f"| {report['rows']:,} | {report['format']} | {report['read_plan_s']:.1f} | "
        f"{report['commit_s']:.1f} | {report['total_s']:.1f} | {report['rows_per_s']:,} | "
        f"{counts['matched']:,} | {counts['new']:,} | {counts['ambiguous']:,} | "
        f"{counts['rejected']:,} | {report['links_created']:,} | {report['review_items']:,} | "
        f"{report['rss_peak_mb']:,} ({report['rss_source']}) |"
    )
    verdict = "within" if report["within_goal"] else "NOT within"
    failed = f"\n\nthe commit FAILED: {report['commit_error']}" if report["commit_error"] else ""
    return (
        f"{head}\n{line}\n{body}\n\n{verdict} the {report['goal_s']:.0f} s goal "
        f"(file {report['file_bytes'] / 2**20:.1f} MB, generated in {report['generate_s']} s)"
        f"{failed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="ledger rows (100 000)")
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile the import: top N"
    )
    args = parser.parse_args()
    report = asyncio.run(run(args.rows, args.format, args.profile))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(markdown(report))
    for key in ("profile_tottime", "profile_cumulative"):
        if key in report:
            print(f"\n{key}:\n{report[key]}")


if __name__ == "__main__":
    main()
