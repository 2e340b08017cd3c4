"""Serving the app with uvicorn, the HTTP parser's own refusals included as problem+json.

A request uvicorn's parser (h11) cannot read never reaches FastAPI: uvicorn answers it
itself, with ``400 text/plain``. The usual case is a URL with raw Chinese in it
(``curl "http://127.0.0.1:8000/v1/search?q=台头"``): a request line holds ASCII only, and
curl, unlike a browser, sends the UTF-8 bytes as they are. httptools, uvicorn's other parser,
refuses it the same way, so the service keeps h11 and makes its answer a problem like every
other error, saying what to do.
"""

from __future__ import annotations

import h11
import orjson
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["INVALID_HTTP_DETAIL", "ProblemH11Protocol", "serve"]

INVALID_HTTP_DETAIL = (
    "the request is not valid HTTP/1.1, so the service could not read it. A common cause is "
    "text outside ASCII, such as Chinese, in the URL: percent-encode it (台头 is "
    "%E5%8F%B0%E5%A4%B4), or let curl do it: curl -G http://HOST/v1/search "
    "--data-urlencode q=台头"
)


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering an unreadable request with problem+json."""

    def send_400_response(self, msg: str) -> None:
        body = orjson.dumps(
            {
                "type": "/problems/invalid_http_request",
                "title": "Bad request",
                "status": 400,
                "detail": INVALID_HTTP_DETAIL,
                "code": "invalid_http_request",
            }
        )
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run ``app`` until interrupted (what ``graph-service serve`` does)."""
    # No proxy headers here: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default,
    # letting any local caller pick its address; the app does it for trusted_proxies only.
    uvicorn.run(
        app, host=host, port=port, log_level="info", http=ProblemH11Protocol, proxy_headers=False
    )
