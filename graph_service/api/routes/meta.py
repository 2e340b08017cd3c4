"""Health, readiness, the schema registry, statistics and source documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParameter

from graph_service.api.deps import ServiceDep, SettingsDep, ViewDep
from graph_service.api.openapi import READ, problems
from graph_service.api.query import open_query
from graph_service.api.responses import ORJSONResponse, problem
from graph_service.api.schemas import (
    DocumentList,
    DocumentText,
    Health,
    Ready,
    SchemaDocument,
    Stats,
)
from graph_service.errors import NotFoundError, StoreUnavailableError
from graph_service.schema import schema_document
from graph_service.services.documents import SourceDocuments

router = APIRouter(tags=["meta"])


@router.get("/healthz", summary="Liveness: the process answers", response_model=Health)
@open_query  # probes and monitors may add cache-busting parameters
async def healthz() -> ORJSONResponse:
    return ORJSONResponse({"status": "ok"})


@router.get(
    "/readyz",
    summary="Readiness: the store answers and the recommender indexes are warm",
    response_model=Ready,
    responses=problems(
        (
            503,
            "The store does not answer, or the recommender indexes of the regions in use are "
            "still being built (code indexes_warming); retry after Retry-After seconds.",
        )
    ),
)
@open_query  # as /healthz
async def readyz(request: Request, service: ServiceDep, settings: SettingsDep) -> ORJSONResponse:
    backend = service.store.backend
    indexes = request.app.state.warmer.status()
    try:
        await service.store.ping()
    except StoreUnavailableError as exc:
        return problem(
            503,
            exc.code,
            exc.message,
            title="Store unavailable",
            instance=request.url.path,
            extra={"store": backend, "indexes": indexes},
            headers={"Retry-After": "5"},
        )
    if indexes["state"] == "warming" and settings.recommend_warm_wait:
        # Not ready until the first recommendations need not build their indexes: a load
        # balancer sends no traffic yet (settings recommend_warm_wait).
        return problem(
            503,
            "indexes_warming",
            f"building recommender indexes: {indexes['warm']} of {indexes['planned']} warm",
            title="Warming up",
            instance=request.url.path,
            extra={"store": backend, "indexes": indexes},
            headers={"Retry-After": "1"},
        )
    return ORJSONResponse({"status": "ready", "store": backend, "indexes": indexes})


@router.get(
    "/v1/schema",
    summary="The schema registry: labels, kinds, link types, attributes",
    response_model=SchemaDocument,
    responses=problems(400, 422),
)
async def schema() -> ORJSONResponse:
    return ORJSONResponse(schema_document())


@router.get(
    "/v1/stats",
    summary="Node and link counts by label and type",
    response_model=Stats,
    responses=problems(*READ),
)
async def stats(view: ViewDep) -> ORJSONResponse:
    result = await view.stats()
    labels, types = result.nodes_by_label, result.links_by_type
    return ORJSONResponse(
        {
            "store": result.backend,
            "nodes": sum(labels.values()),
            "links": sum(types.values()),
            "nodes_by_label": labels,
            "links_by_type": types,
            "version": result.version,
        }
    )


@router.get(
    "/v1/documents",
    summary="Source documents the seed graph quotes",
    response_model=DocumentList,
    responses=problems(400, 401, 422),
)
async def documents(settings: SettingsDep, view: ViewDep) -> ORJSONResponse:
    policy = await view.policy()
    items = list(SourceDocuments(settings.seed_dir).all().values())
    return ORJSONResponse({"items": policy.value(items)})


@router.get(
    "/v1/documents/{document_id}",
    summary="One source document with its text",
    response_model=DocumentText,
    responses=problems(400, 401, (404, "No document with this id."), 422),
)
async def document(
    document_id: Annotated[str, PathParameter(description="A document id from /v1/documents.")],
    settings: SettingsDep,
    view: ViewDep,
) -> ORJSONResponse:
    documents = SourceDocuments(settings.seed_dir)
    meta, text = documents.all().get(document_id), documents.text(document_id)
    if meta is None or text is None:
        raise NotFoundError(f"no document {document_id}", field="document_id")
    # Articles name people: the public reads them with the names masked.
    policy = await view.policy()
    return ORJSONResponse(policy.value({**meta, "text": text}))
