"""The FastAPI application: lifespan (one store per process), middleware, routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from starlette.responses import Response

from graph_service import __version__
from graph_service.api.encoding import Utf8Only
from graph_service.api.errors import install_error_handlers
from graph_service.api.limits import BodySizeLimit
from graph_service.api.openapi import install_openapi
from graph_service.api.query import refuse_control_characters, refuse_unknown_query
from graph_service.api.ratelimit import install_rate_limit
from graph_service.api.request_id import RequestId
from graph_service.api.responses import ORJSONResponse, problem
from graph_service.api.routes import (
    accounts,
    analysis,
    articles,
    dashboard,
    docs,
    explorer,
    exports,
    graph,
    history,
    imports,
    jobs,
    layout,
    links,
    meta,
    nodes,
    recommendations,
    regions,
    review,
)
from graph_service.api.work import install_work
from graph_service.keys import adopt_keys_file
from graph_service.services.analysis import AnalysisService
from graph_service.services.articles import ArticleService
from graph_service.services.dashboard import DashboardService
from graph_service.services.dashboard_warmup import PageWarmer
from graph_service.services.documents import SourceDocuments
from graph_service.services.graph import GraphService
from graph_service.services.imports import ImportService
from graph_service.services.index_warmup import IndexWarmer
from graph_service.services.recommendations import RecommendationService
from graph_service.services.resolution import NameResolver
from graph_service.services.review import ReviewService
from graph_service.services.saved_views import SavedViews
from graph_service.settings import Settings, get_settings
from graph_service.store.factory import create_store
from graph_service.store.protocol import GraphStore

__all__ = ["create_app"]

log = logging.getLogger("graph_service")

DESCRIPTION = """
Knowledge graph of 党建联建 (joint party-building) networks: party organizations, villages,
enterprises, cooperatives, institutions and banks, and the links between them.

Errors are `application/problem+json` with a stable `code` and the `field` at fault.
A query parameter a route does not take is refused (422) with the route's closest own name
for it, never ignored.
Reads are open unless configured otherwise; personal data needs a key. Keys belong to
accounts with a role (viewer < planner < editor < admin) and a region scope: planners judge
and run what-if, editors write inside their scope, admins manage accounts and restore.
Every change is recorded in the edit history (`/v1/history`).
"""


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """Build the app. A given ``store`` is used as is (tests); otherwise one is made from
    ``settings`` and opened in the lifespan."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        the_store = store or create_store(settings)
        await the_store.open()
        await adopt_keys_file(the_store, settings)
        log.info("graph-service %s on the %s store", __version__, the_store.backend)
        app.state.service = GraphService(the_store, SourceDocuments(settings.seed_dir))
        # Every read goes through a caller's view; one graph cache behind all of them, so
        # analyses, exports and recommendations export a county once per audience. CPU-bound
        # work runs in a bounded worker pool (app.state.work, .views, .jobs).
        stop_work = install_work(app, settings, the_store)
        app.state.analysis = AnalysisService(settings.seed_dir / "rules" / "joint_body_rules.json")
        app.state.recommendations = RecommendationService(the_store, settings.recommend_tie_weight)
        app.state.dashboard = DashboardService(app.state.analysis, app.state.recommendations)
        app.state.saved_views = SavedViews(the_store)
        _start_warm_ups(app, settings)
        # A planner's own data: names resolved against the graph, a review queue, merges,
        # spreadsheet imports and articles (each registers how its items are applied).
        app.state.resolver = NameResolver()
        app.state.review = ReviewService(the_store, app.state.resolver)
        app.state.imports = ImportService(the_store, app.state.resolver, app.state.review)
        app.state.articles = ArticleService(the_store, app.state.resolver, app.state.review)
        try:
            yield
        finally:
            await app.state.page_warmer.stop()
            await app.state.warmer.stop()
            await stop_work()
            if store is None:
                await the_store.close()

    app = FastAPI(
        title="graph-service 党建联建知识图谱",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        docs_url=None,  # routes/docs.py: the same pages, with vendored files
        redoc_url=None,
        # Before every route: a query parameter it does not take is a 422, not ignored; so is
        # a parameter holding a control character.
        dependencies=[Depends(refuse_unknown_query), Depends(refuse_control_characters)],
    )
    app.state.settings = settings
    install_error_handlers(app)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return problem(
            500,
            "internal_error",
            "unexpected error",
            title="Internal error",
            instance=request.url.path,
        )

    routers = (meta.router, nodes.router, links.router, graph.router, regions.router)
    extra = (analysis.router, recommendations.router, exports.router, jobs.router, explorer.router)
    intake = (review.router, imports.router, articles.router)
    for router in (
        *routers,
        *extra,
        *intake,
        accounts.router,
        history.router,
        layout.router,
        dashboard.router,
    ):
        app.include_router(router)
    app.include_router(docs.router)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/imports": settings.max_import_bytes},
    )
    app.add_middleware(Utf8Only)
    install_rate_limit(app, settings)  # outside the body limit: a 429 reads no body
    app.add_middleware(RequestId)
    install_openapi(app)
    return app


def _start_warm_ups(app: FastAPI, settings: Settings) -> None:
    """Recommender indexes of the regions in use, built before /readyz says ready and rebuilt
    right after the writes that touch them (services/index_warmup.py); then the situation
    pages opened before, computed once the indexes are warm (services/dashboard_warmup.py,
    not blocking /readyz)."""
    app.state.warmer = IndexWarmer(
        app.state.recommendations,
        app.state.views,
        settings.recommend_warm_regions,
        settings.recommend_warm_max,
        settings.data_dir / "recommend_regions.json",
        settings.recommend_warm_poll_s,
    )
    app.state.warmer.start()
    app.state.page_warmer = PageWarmer(
        app.state.dashboard,
        app.state.views,
        app.state.warmer,
        settings.dashboard_warm_max,
        settings.data_dir / "dashboard_regions.json",
    )
    app.state.page_warmer.start()
