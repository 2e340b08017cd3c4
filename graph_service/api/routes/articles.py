"""New articles: extraction of entities and links into the review queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from graph_service.api.deps import RequestIdDep, ViewDep, WriterDep
from graph_service.api.intake_schemas import DocumentExtraction
from graph_service.api.openapi import WRITE, problems
from graph_service.api.responses import ORJSONResponse
from graph_service.models import FREE_TEXT, ONE_LINE, StrictModel
from graph_service.services.articles import MAX_TEXT, ArticleService

router = APIRouter(tags=["review"])


async def get_articles(request: Request) -> ArticleService:
    articles: ArticleService = request.app.state.articles
    return articles


ArticlesDep = Annotated[ArticleService, Depends(get_articles)]


class DocumentIn(StrictModel):
    text: Annotated[str, FREE_TEXT] = Field(
        min_length=1, max_length=MAX_TEXT, description="The article's text (UTF-8)."
    )
    title: Annotated[str, ONE_LINE] | None = Field(default=None, max_length=200)
    region_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{2,12}$",
        description="Where the article is about: its villages are looked up under it.",
    )


@router.post(
    "/v1/documents",
    status_code=201,
    summary="Read a new article: proposed entities and links go to the review queue",
    response_model=DocumentExtraction,
    responses=problems(*WRITE),
)
async def propose_from_document(
    body: DocumentIn,
    view: ViewDep,
    caller: WriterDep,
    articles: ArticlesDep,
    request_id: RequestIdDep,
) -> ORJSONResponse:
    result = await articles.propose(
        view, caller, body.text, body.title, body.region_code, request_id
    )
    return ORJSONResponse(result, status_code=201)
