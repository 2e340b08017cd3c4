"""The interactive API documentation, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), offline.

FastAPI's own pages load Swagger UI and ReDoc (and Google Fonts) from CDNs, so on an office
network without internet they stay blank. These pages are FastAPI's, built by
``get_swagger_ui_html`` / ``get_redoc_html``, but every file they load is vendored in
``graph_service/static/vendor`` (copied from the npm registry by ``scripts/build-frontend`` and
committed) and served by the explorer's static route. A Content-Security-Policy of ``'self'``
(plus the hash of Swagger UI's inline start-up script) makes the browser refuse anything else;
the one CDN file ReDoc would still load, its side menu's logo, is patched out of the copy.
The app is created with ``docs_url=None, redoc_url=None`` so these replace FastAPI's.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.responses import HTMLResponse

from graph_service.api.query import open_query
from graph_service.errors import NotFoundError

__all__ = ["DOCS_URL", "OAUTH2_REDIRECT_URL", "REDOC_URL", "router"]

DOCS_URL: Final[str] = "/docs"
REDOC_URL: Final[str] = "/redoc"
OAUTH2_REDIRECT_URL: Final[str] = "/docs/oauth2-redirect"
#: The vendored files, under the explorer's static route ``/explorer/static/vendor/``.
SWAGGER_JS: Final[str] = "vendor/swagger-ui-bundle.js"
SWAGGER_CSS: Final[str] = "vendor/swagger-ui.css"
REDOC_JS: Final[str] = "vendor/redoc.standalone.js"
FAVICON: Final[str] = "vendor/swagger-ui-favicon-32x32.png"
#: Swagger UI's online validator badge would fetch an image from the internet; no validator.
SWAGGER_UI_PARAMETERS: Final[dict[str, object]] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    "validatorUrl": None,
}
_INLINE_SCRIPT: Final[re.Pattern[str]] = re.compile(r"<script>(.*?)</script>", re.DOTALL)

router = APIRouter(include_in_schema=False)


def _policy(inline_scripts: list[str]) -> str:
    """Only this service, and only the inline scripts of the page itself (by hash). Styles
    may be inline (both libraries inject them); ReDoc's search runs in a blob: worker."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in inline_scripts
    )
    return (
        f"default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'self'; form-action 'self'"
    )


def _offline(page: HTMLResponse) -> HTMLResponse:
    """``page`` marked Chinese (so CJK text gets Chinese glyphs) with the strict policy."""
    html = bytes(page.body).decode("utf-8").replace("<html>", '<html lang="zh-CN">', 1)
    return HTMLResponse(
        html,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _policy(_INLINE_SCRIPT.findall(html)),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


def _urls(request: Request) -> dict[str, str]:
    """The URLs a page needs (the OpenAPI document, the vendored files), behind any
    ``root_path`` as FastAPI's own pages are."""
    if request.app.openapi_url is None:
        raise NotFoundError("the OpenAPI document is switched off", field="path")
    root = str(request.scope.get("root_path", "")).rstrip("/")
    urls = {"openapi": request.app.openapi_url, "oauth2_redirect": OAUTH2_REDIRECT_URL}
    for name, path in (
        ("swagger_js", SWAGGER_JS),
        ("swagger_css", SWAGGER_CSS),
        ("redoc_js", REDOC_JS),
        ("favicon", FAVICON),
    ):
        urls[name] = request.app.url_path_for("explorer_static", path=path)
    return {name: root + url for name, url in urls.items()}


@router.api_route(DOCS_URL, methods=["GET", "HEAD"])
@open_query  # a page: a browser may add anything to its address
async def swagger_ui(request: Request) -> HTMLResponse:
    """接口调试: Swagger UI over ``/openapi.json``."""
    urls = _urls(request)
    return _offline(
        get_swagger_ui_html(
            openapi_url=urls["openapi"],
            title=f"{request.app.title} · 接口调试 (Swagger UI)",
            swagger_js_url=urls["swagger_js"],
            swagger_css_url=urls["swagger_css"],
            swagger_favicon_url=urls["favicon"],
            oauth2_redirect_url=urls["oauth2_redirect"],
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
    )


@router.get(OAUTH2_REDIRECT_URL)
@open_query  # the OAuth2 provider returns with code, state and what else it sends
async def swagger_ui_oauth2_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 return page (self-contained, as FastAPI serves it)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.api_route(REDOC_URL, methods=["GET", "HEAD"])
@open_query  # a page
async def redoc(request: Request) -> HTMLResponse:
    """接口文档: ReDoc over ``/openapi.json``."""
    urls = _urls(request)
    return _offline(
        get_redoc_html(
            openapi_url=urls["openapi"],
            title=f"{request.app.title} · 接口文档 (ReDoc)",
            redoc_js_url=urls["redoc_js"],
            redoc_favicon_url=urls["favicon"],
            with_google_fonts=False,
        )
    )
