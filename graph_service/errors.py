"""The domain's one error hierarchy. HTTP status codes are attached at the edge only."""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "BusyError",
    "ConflictError",
    "ForbiddenError",
    "GraphServiceError",
    "InvalidInputError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "StoreUnavailableError",
]


class GraphServiceError(Exception):
    """Base of every error the service raises on purpose.

    ``code`` is a stable machine-readable identifier; ``field`` names the input at fault as a
    dotted path (``nodes.3.region_code``) when there is one.
    """

    code = "graph_service_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.details = details or {}


class NotFoundError(GraphServiceError):
    code = "not_found"


class ConflictError(GraphServiceError):
    code = "conflict"


class InvalidInputError(GraphServiceError):
    code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, field=field, code=code, details=details)
        #: Every problem found, each ``{"field": ..., "message": ...}``.
        self.errors = errors or ([{"field": field, "message": message}] if field else [])


class PayloadTooLargeError(GraphServiceError):
    code = "payload_too_large"


class AuthenticationError(GraphServiceError):
    code = "unauthorized"


class StoreUnavailableError(GraphServiceError):
    """The backing store cannot be reached (Neo4j down); callers may retry later."""

    code = "store_unavailable"


class ForbiddenError(GraphServiceError):
    """The caller is known but its role or region scope does not allow this."""

    code = "forbidden"


class RateLimitedError(GraphServiceError):
    """Too many requests from one key or address; ``retry_after`` seconds until the next."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BusyError(GraphServiceError):
    """The work did not finish within the request's time budget, or the worker pool is full;
    the caller may retry (a finished result is cached) or start a job."""

    code = "busy"
