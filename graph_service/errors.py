"""The domain's one error hierarchy. HTTP status codes are attached at the edge only."""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "GraphServiceError",
    "InvalidInputError",
    "NotFoundError",
    "PayloadTooLargeError",
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
