"""The OpenAPI document's error responses: ``application/problem+json`` bodies (ProblemDetails).

Routes declare the statuses they can return with :func:`problems`; :func:`install_openapi`
adds the ProblemDetails schema the responses refer to. Because every route with parameters
declares its 422, FastAPI's own ``HTTPValidationError`` (which the server never sends) is
left out of the document.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI

from graph_service.api.ratelimit import is_exempt
from graph_service.api.schemas import ProblemDetails

__all__ = ["GUARDED", "PROBLEM_MEDIA_TYPE", "READ", "WRITE", "install_openapi", "problems"]

PROBLEM_MEDIA_TYPE: Final[str] = "application/problem+json"
_REF_PREFIX: Final[str] = "#/components/schemas/"

#: What each status means here, unless a route says more precisely.
_MEANING: Final[dict[int, str]] = {
    400: "Text in the request is not valid UTF-8 (the path or a query parameter once "
    "percent-decoded, a header the service reads, the body): code invalid_utf8, field where.",
    401: "The API key is missing (writes, and reads when configured), unknown, revoked or expired.",
    403: "The account's role or region scope does not allow this (the problem names the "
    "role or region and the account's scope).",
    404: "Something the request names does not exist.",
    406: "The Accept header names no format served here.",
    409: "The request conflicts with what is stored.",
    413: "The request body is larger than the limit.",
    422: "Invalid input, or a query parameter the route does not take: every invalid or "
    "unknown field is listed in errors (an unknown one with the route's closest own name).",
    429: "Too many requests from this API key or address; retry after Retry-After seconds.",
    503: "The store is unavailable; retry after Retry-After seconds.",
}

#: The statuses of any route that reads the store for a caller.
READ: Final[tuple[int, ...]] = (400, 401, 422, 503)
#: The statuses of any route that writes the store from a body.
WRITE: Final[tuple[int, ...]] = (400, 401, 403, 413, 422, 503)
#: The statuses of a route only some roles may call.
GUARDED: Final[tuple[int, ...]] = (400, 401, 403, 422, 503)


def problems(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for error statuses: ``404`` or ``(404, "No such node.")``."""
    out: dict[int | str, dict[str, Any]] = {}
    for entry in statuses:
        status, description = entry if isinstance(entry, tuple) else (entry, _MEANING[entry])
        out[status] = {
            "description": description,
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"{_REF_PREFIX}{ProblemDetails.__name__}"}}
            },
        }
    return dict(sorted(out.items(), key=lambda item: str(item[0])))


def _document_rate_limit(document: dict[str, Any]) -> None:
    """Every operation the rate limit applies to may answer 429 (``api.ratelimit``)."""
    too_many = {str(status): entry for status, entry in problems(429).items()}
    for path, operations in document.get("paths", {}).items():
        if is_exempt(path):
            continue
        for operation in operations.values():
            responses = {**operation.get("responses", {}), **too_many}
            operation["responses"] = dict(sorted(responses.items()))


def install_openapi(app: FastAPI) -> None:
    """Build the document once, with the ProblemDetails schema the error responses use."""

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            problem = ProblemDetails.model_json_schema(
                ref_template=_REF_PREFIX + "{model}", mode="serialization"
            )
            schemas.update(problem.pop("$defs", {}))
            schemas[ProblemDetails.__name__] = problem
            document["components"]["schemas"] = dict(sorted(schemas.items()))
            _document_rate_limit(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
