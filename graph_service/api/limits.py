"""A body-size limit enforced while the body streams in, before anything parses it."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.api.responses import problem

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """``max_bytes`` a body, or the limit of the first path prefix of ``larger`` the request's
    path starts with (uploads: spreadsheets)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = max_bytes
        self.larger = dict(larger or {})

    def limit(self, path: str) -> int:
        return next((n for p, n in self.larger.items() if path.startswith(p)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit(str(scope.get("path", "")))
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._reject(scope, receive, send, max_bytes)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    # An HTTPException passes through FastAPI's body parsing (which would
                    # turn any other error into a 400) to the problem+json handler.
                    raise HTTPException(413, f"request body is larger than {max_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = problem(
            413,
            "payload_too_large",
            f"request body is larger than {max_bytes} bytes",
            title="Payload too large",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)
