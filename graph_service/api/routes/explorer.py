"""The explorer page: ``/explorer`` and its static files, served from ``graph_service/static``;
the review page ``/review`` (the review queue: evidence and candidates side by side) and the
situation page ``/dashboard`` (ECharts, vendored as Cytoscape.js is) likewise.

Everything the page loads comes from this service: its own script and style sheet and the
vendored Cytoscape.js (``graph_service/static/vendor``, copied from the npm registry by
``scripts/build-frontend`` and committed). A Content-Security-Policy of ``'self'`` makes the
browser refuse anything else, so the page works offline and never calls a CDN. The same static
route serves the vendored Swagger UI and ReDoc of ``/docs`` and ``/redoc`` (routes/docs.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from starlette.responses import FileResponse

from graph_service.api.query import open_query
from graph_service.api.responses import ORJSONResponse
from graph_service.domain import DEFAULT_NEIGHBOURHOOD, MAX_TOP, MEASURE_LABELS_ZH
from graph_service.errors import NotFoundError
from graph_service.schema import JOINT_BODY_KINDS
from graph_service.visual.formats import KIND_COLOURS, LABEL_COLOURS, LINK_COLOURS

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR: Final[Path] = Path(__file__).resolve().parents[2] / "static"
_TYPES: Final[dict[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".LICENSE": "text/plain; charset=utf-8",
    ".NOTICE": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
#: Only this service: scripts, styles, fetches. Images may be data:/blob: (cy.png()).
CSP: Final[str] = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)

router = APIRouter(tags=["explorer"], include_in_schema=False)
# Every route here is a page or a file of one: a browser (or a cache-buster) may add any query
# parameter, so each is marked open_query.


def _page(name: str = "index.html", folder: str = "explorer") -> FileResponse:
    return FileResponse(
        STATIC_DIR / folder / name,
        media_type=_TYPES[".html"],
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


@router.api_route("/explorer", methods=["GET", "HEAD"])
@open_query
async def explorer_page() -> FileResponse:
    """图谱浏览: search, neighbourhoods, provenance, 推荐结对."""
    return _page()


@router.get("/explorer/")
@open_query
async def explorer_page_slash() -> FileResponse:
    return _page()


@router.api_route("/review", methods=["GET", "HEAD"])
@open_query
async def review_page() -> FileResponse:
    """审核队列: duplicates, import rows and extracted proposals, judged one by one."""
    return _page("review.html")


@router.api_route("/dashboard", methods=["GET", "HEAD"])
@open_query
async def dashboard_page() -> FileResponse:
    """态势总览: a region's cards, charts and action lists (docs/dashboard.md)."""
    return _page(folder="dashboard")


@router.get("/explorer/config.json")
@open_query
async def explorer_config() -> ORJSONResponse:
    """The palette the exports use (so the page and exported files share colours), the
    measures' Chinese names and the limits the page asks with (from ``graph_service.domain``)."""
    return ORJSONResponse(
        {
            "label_colours": LABEL_COLOURS,
            "kind_colours": KIND_COLOURS,
            "link_colours": LINK_COLOURS,
            "joint_body_kinds": list(JOINT_BODY_KINDS),
            "measures": MEASURE_LABELS_ZH,
            "limits": {"top": MAX_TOP, "neighbourhood": DEFAULT_NEIGHBOURHOOD},
        },
        headers={"Cache-Control": "no-cache"},
    )


@router.api_route("/explorer/static/{path:path}", methods=["GET", "HEAD"])
@open_query
async def explorer_static(path: str) -> FileResponse:
    """A file under ``graph_service/static`` (``explorer/…``, ``vendor/…``)."""
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    suffix = ".LICENSE" if target.name.endswith(".LICENSE") else target.suffix
    if not target.is_relative_to(root) or not target.is_file() or suffix not in _TYPES:
        raise NotFoundError(f"no static file {path}", field="path")
    vendored = target.is_relative_to(root / "vendor")
    return FileResponse(
        target,
        media_type=_TYPES[suffix],
        headers={
            # Vendored libraries change only with a new lockfile; the page's own files often.
            "Cache-Control": "public, max-age=86400" if vendored else "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )
