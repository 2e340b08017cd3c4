"""Serving the app with uvicorn, in one process or several, the HTTP parser's own refusals
included as problem+json.

A request uvicorn's parser (h11) cannot read never reaches FastAPI: uvicorn answers it
itself, with ``400 text/plain``. The usual case is a URL with raw Chinese in it
(``curl "http://127.0.0.1:8000/v1/search?q=台头"``): a request line holds ASCII only, and
curl, unlike a browser, sends the UTF-8 bytes as they are. httptools, uvicorn's other parser,
refuses it the same way, so the service keeps h11 and makes its answer a problem like every
other error, saying what to do.

Several workers (``graph-service serve --workers N``) are uvicorn's: N processes accept on
one socket, each with its own app and store (docs/workers.md). What must happen once per data
directory (the seed load, the schema, Neo4j's migrations) happens in the parent before any
worker starts, so that N workers do not race to do it (each would be safe, being idempotent
in a transaction, but N at once only wait on each other).
"""

from __future__ import annotations

import asyncio
import multiprocessing

import h11
import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from graph_service.keys import adopt_keys_file
from graph_service.settings import Settings
from graph_service.store.factory import create_store

__all__ = ["APP_FACTORY", "INVALID_HTTP_DETAIL", "ProblemH11Protocol", "prepare_store", "serve"]

#: What each worker process imports and calls to build its app (from the environment's
#: settings, as the parent's were).
APP_FACTORY = "graph_service.api.app:create_app"

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


def _open_and_close(settings: Settings) -> None:
    async def work() -> None:
        store = create_store(settings)
        await store.open()
        try:
            # Once, before the workers: each would otherwise race to adopt the same keys.
            await adopt_keys_file(store, settings)
        finally:
            await store.close()

    asyncio.run(work())


def prepare_store(settings: Settings) -> None:
    """Open and close the configured store once: the embedded store creates its file (in WAL
    mode) and schema, Neo4j applies its migrations, a keys file is adopted, so that workers
    starting together find them made. In a child process: opening the embedded store loads
    the whole graph, which the supervisor, holding no graph afterwards, would otherwise keep
    in its heap."""
    child = multiprocessing.get_context("spawn").Process(
        target=_open_and_close, args=(settings,), name="graph-service prepare"
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"opening the store failed (exit code {child.exitcode}): see above")


#: Seconds an idle keep-alive connection stays open. Longer than the idle timeout of the
#: balancers in front of a deployment (60 s on the common ones), so a balancer never sends a
#: request on a connection the server is closing (a 502); uvicorn's 5 s default also closed
#: the connections tests/test_workers.py pins to each worker while a CLI command ran.
KEEP_ALIVE_S = 75


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Run the service until interrupted (what ``graph-service serve`` does): in this process,
    or in ``workers`` processes, each building its own app from the environment."""
    # No proxy headers here: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default,
    # letting any local caller pick its address; the app does it for trusted_proxies only.
    if workers == 1:
        from graph_service.api.app import create_app

        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level="info",
            http=ProblemH11Protocol,
            proxy_headers=False,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        return
    prepare_store(settings)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        http=ProblemH11Protocol,
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        # A spawned worker imports the package again (the CLI's modules with it) before it
        # answers the supervisor's first health ping; uvicorn's 5 s default killed workers
        # over and over on a loaded 2-core machine, where those imports took 8-15 s.
        timeout_worker_healthcheck=60,
    )
