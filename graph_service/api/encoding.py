"""Text in a request is UTF-8: anything else is a 400, before a route reads it.

Percent-decoding (uvicorn for the path, starlette for the query) and starlette's header
decoding replace bytes that do not decode with U+FFFD or read them as Latin-1, so a request
with invalid UTF-8 used to be answered as if it had asked for something else (``q=%FF``
searched for "�"). :class:`Utf8Only` refuses it instead, naming where it is:

- the path, percent-decoded (``/v1/nodes/%FF``): field ``path``;
- each query parameter's name and value, percent-decoded (``q=%FF``): field ``q``, or
  ``query`` when the name itself does not decode;
- the headers the service reads (:data:`READ_HEADERS`): field the header's name;
- a body that is text (JSON, which must be UTF-8, or ``text/*``), checked as it streams in:
  field ``body``.

Each is a 400 problem+json with code ``invalid_utf8``. Other headers (User-Agent, Cookie, …)
are not read, so not checked: a browser's odd header never costs a request.
"""

from __future__ import annotations

import codecs
from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.api.responses import problem

__all__ = ["INVALID_UTF8", "READ_HEADERS", "InvalidUtf8Error", "Utf8Only"]

INVALID_UTF8: Final[str] = "invalid_utf8"
#: The headers the service reads (the API key, content negotiation, the body's type), by
#: their name in a request and as a problem names them.
READ_HEADERS: Final[dict[bytes, str]] = {
    b"x-api-key": "X-API-Key",
    b"authorization": "Authorization",
    b"accept": "Accept",
    b"content-type": "Content-Type",
}


class InvalidUtf8Error(HTTPException):
    """A body that is not UTF-8. An HTTPException, so that it passes through FastAPI's body
    parsing (which turns any other error into a generic 400) to the problem+json handler."""

    code = INVALID_UTF8
    title = "Bad request"
    field = "body"

    def __init__(self) -> None:
        super().__init__(400, "the body is not valid UTF-8 text (JSON is UTF-8: RFC 8259)")


_PERCENT_ENCODE = "percent-encode text as UTF-8 (台 is %E5%8F%B0)"


def _decodes(raw: bytes, *, form: bool = False) -> bool:
    """Whether percent-encoded ``raw`` is UTF-8 once decoded (``+`` is a space in a query)."""
    try:
        unquote_to_bytes(raw.replace(b"+", b" ") if form else raw).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def invalid_text(scope: Scope) -> tuple[str, str] | None:
    """The field and a message when the request's path, query or read headers are not UTF-8,
    else ``None``."""
    raw_path = scope.get("raw_path")
    if raw_path is not None and not _decodes(raw_path):
        return "path", f"the path is not valid UTF-8 once percent-decoded: {_PERCENT_ENCODE}"
    query: bytes = scope.get("query_string", b"")
    for pair in query.split(b"&") if query else ():
        name, _, value = pair.partition(b"=")
        if not _decodes(name, form=True):
            return "query", f"a query parameter's name is not valid UTF-8: {_PERCENT_ENCODE}"
        if not _decodes(value, form=True):
            field = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8")
            return field, f"query parameter {field} is not valid UTF-8: {_PERCENT_ENCODE}"
    for name, value in scope.get("headers", ()):
        header = READ_HEADERS.get(name.lower())
        if header is not None:
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return header, f"the {header} header is not valid UTF-8 text"
    return None


def _is_text(scope: Scope) -> bool:
    """Whether the body is read as text: JSON (also when no type is given: FastAPI reads it
    as JSON) or ``text/*``."""
    declared: bytes | None = dict(scope.get("headers", ())).get(b"content-type")
    if declared is None:
        return True
    media = declared.split(b";")[0].strip().lower()
    return media.startswith(b"text/") or media == b"application/json" or media.endswith(b"+json")


class Utf8Only:
    """ASGI middleware: 400 problem+json for invalid UTF-8 in a request (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        invalid = invalid_text(scope)
        if invalid is not None:
            field, detail = invalid
            response = problem(
                400,
                INVALID_UTF8,
                detail,
                title="Bad request",
                field=field,
                # The path as sent: the decoded one is what did not decode.
                instance=scope.get("raw_path", b"").decode("latin-1") or None,
            )
            await response(scope, receive, send)
            return
        if not _is_text(scope):
            await self.app(scope, receive, send)
            return
        decoder = codecs.getincrementaldecoder("utf-8")()

        async def checked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                final = not message.get("more_body", False)
                try:
                    decoder.decode(message.get("body", b""), final=final)
                except UnicodeDecodeError:
                    raise InvalidUtf8Error from None
            return message

        await self.app(scope, checked_receive, send)
