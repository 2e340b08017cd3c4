"""JSON responses rendered with orjson, and problem+json bodies (RFC 9457)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

__all__ = ["ORJSONResponse", "ProblemResponse", "problem"]


class ORJSONResponse(JSONResponse):
    # A JSONResponse, so that FastAPI documents routes' response models as JSON schemas.
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ProblemResponse(ORJSONResponse):
    media_type = "application/problem+json"


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str,
    field: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if instance is not None:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return ProblemResponse(body, status_code=status, headers=headers)
