"""The edge: domain errors and request-validation errors become problem+json."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from graph_service.api.responses import problem
from graph_service.errors import (
    AuthenticationError,
    BusyError,
    ConflictError,
    ForbiddenError,
    GraphServiceError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    StoreUnavailableError,
)
from graph_service.models import LINK_MODELS, NODE_MODELS

__all__ = ["STATUS_OF", "install_error_handlers"]

STATUS_OF: dict[type[GraphServiceError], tuple[int, str]] = {
    NotFoundError: (404, "Not found"),
    ConflictError: (409, "Conflict"),
    InvalidInputError: (422, "Invalid input"),
    PayloadTooLargeError: (413, "Payload too large"),
    AuthenticationError: (401, "Unauthorized"),
    ForbiddenError: (403, "Forbidden"),
    RateLimitedError: (429, "Too many requests"),
    BusyError: (503, "Busy"),
    StoreUnavailableError: (503, "Store unavailable"),
}
_TAGS = frozenset(NODE_MODELS) | frozenset(LINK_MODELS)
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _status(exc: GraphServiceError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500, "Internal error"


def _request_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not (isinstance(p, str) and p in _TAGS)]
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        ctx = err.get("ctx") or {}
        if err.get("type") == "json_invalid":
            # Its location is a character offset, not a field.
            out.append(
                {
                    "field": "body",
                    "message": f"{err.get('msg')} at character {loc[-1] if loc else '?'}",
                }
            )
            continue
        if ctx.get("field"):
            loc.append(str(ctx["field"]))
        elif err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc.append(str(ctx.get("discriminator", "")).strip("'"))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"field": ".".join(loc) or None, "message": message})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GraphServiceError)
    async def domain_error(request: Request, exc: GraphServiceError) -> Response:
        status, title = _status(exc)
        errors = getattr(exc, "errors", None)
        headers = {"Retry-After": "5"} if status == 503 else None
        if isinstance(exc, RateLimitedError):
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        if status == 401:
            headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
        return problem(
            status,
            exc.code,
            exc.message,
            title=title,
            field=exc.field,
            instance=request.url.path,
            errors=errors,
            extra={"details": exc.details} if exc.details else None,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = _request_errors(exc)
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return problem(
            422,
            "invalid_input",
            f"{len(errors)} invalid field(s): {first['field']}: {first['message']}",
            title="Invalid input",
            field=first["field"],
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return problem(
            exc.status_code,
            # An HTTPException of the service's own (api/encoding.py) carries code, title and
            # field; starlette's and FastAPI's are named by their status.
            getattr(exc, "code", None) or codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            title=getattr(exc, "title", None) or str(exc.detail),
            field=getattr(exc, "field", None),
            instance=request.url.path,
            headers=_allow(request) if exc.status_code == 405 else dict(exc.headers or {}),
        )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes themselves, through the wrappers of included routers (FastAPI's)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(inner.routes)
        else:
            yield route


def _allow(request: Request) -> dict[str, str]:
    """The Allow header of a 405 (RFC 9110): every method some route takes at this path.
    Starlette's names only the first route's methods, and FastAPI has a route per method.
    A path a route names literally (``/v1/accounts/me``) is that route's: templated routes
    it also fits (``/v1/accounts/{name}``) do not count, as its documentation says (no
    account is named ``me``)."""
    routes = request.app.router.routes
    path = request.scope.get("path")
    routes = [r for r in _leaf_routes(routes) if getattr(r, "path", None) == path] or routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return {"Allow": ", ".join(allowed)}
