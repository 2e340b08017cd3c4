"""The app under a real uvicorn in a thread: HTTP as a client sends it, bytes and all.

The service's own HTTP protocol (``ProblemH11Protocol``: the h11 parser's refusals as
problem+json) on an ephemeral port of 127.0.0.1. For tests that need what an in-process
client cannot send (a header that is not UTF-8) or a server a tool such as schemathesis
talks to.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from graph_service.api.server import ProblemH11Protocol

__all__ = ["raw_request", "serving"]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` (its lifespan included) until the block ends; yields the base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=ProblemH11Protocol, log_level="critical"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def raw_request(base_url: str, request: bytes) -> tuple[int, bytes, bytes]:
    """Send ``request`` as it is (one request, ``Connection: close``); the status, the
    header block and the body of the answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head, body
