"""Neo4j failing fast: driver timeouts, a retry for what is worth retrying, a circuit breaker.

Without these a request waited 6-8 s for its 503 when the server was down (the driver retried
the refused connection with back-off for ``max_transaction_retry_time``) and 21 s to forever
when it hung (a pooled connection to a stopped server has no read timeout). Now:

- **Down** (connection refused or reset): a call fails at once; a broken pooled connection is
  retried once, on a new connection, because after a restart the pool still holds the old
  ones. The failure makes the breaker probe the server, the probe is refused as well, and the
  circuit opens: every later call is refused at once, with no network round trip.
- **Hung** (the process stopped, a network that drops packets): a call running longer than
  ``probe_after`` makes the breaker check that the server answers at all: a new connection of
  its own (not the pool's, which a crowd of slow queries may hold), handshake and login, no
  query (a server just started takes seconds to plan its first one, and is not hung). No
  answer within ``probe_timeout``, and the circuit opens: the calls running are ended (their
  timeouts fire now) and answer 503 like the new ones. A slow query on a healthy server costs
  one such check a ``probe_interval`` at most.
- **Back**: while open, the breaker asks the database ``RETURN 1`` every ``probe_interval``
  in the background and closes when it is answered; such a probe waits as long as a call may
  (a server just started takes seconds over its first query; a stopped one that resumes
  answers it at once). ``/readyz`` reports the same state.

``call`` (``neo4j_call_timeout_seconds``) bounds any one call on top of this (a query stuck
behind a lock on a healthy server). A call ended by a timeout may still have committed on the
server: its caller got a 503, never an acknowledgement, so no acknowledged write is lost, but
an unacknowledged one may be there (a create retried after it answers 409; a PUT or a batch
of upserts is simply applied again).

The breaker is per store object, so per worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from neo4j import AsyncDriver
from neo4j.exceptions import (
    DatabaseUnavailable,
    DriverError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph_service.errors import StoreUnavailableError

__all__ = [
    "CircuitBreaker",
    "Neo4jTimeouts",
    "close_driver",
    "driver_options",
    "is_outage",
    "retry_transient",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
#: ``timeout=`` of :meth:`CircuitBreaker.call` when the call takes the breaker's own.
DEFAULT: Literal["default"] = "default"


@dataclass(frozen=True, slots=True)
class Neo4jTimeouts:
    """Seconds; the ``neo4j_*`` fields of ``Settings`` (documented there)."""

    connection: float = 1.0
    acquisition: float = 2.0
    retry: float = 2.0
    call: float = 30.0
    probe_after: float = 0.5
    probe_timeout: float = 2.0
    probe_interval: float = 1.0


def driver_options(timeouts: Neo4jTimeouts) -> dict[str, Any]:
    """``AsyncGraphDatabase.driver`` keywords (documented options of driver 5.x and 6.x)."""
    return {
        "connection_timeout": timeouts.connection,
        # Covers connecting too, so it is at least the connection timeout.
        "connection_acquisition_timeout": max(timeouts.acquisition, timeouts.connection),
        # One attempt per managed transaction: retry_transient decides what is retried.
        "max_transaction_retry_time": 0,
    }


async def close_driver(driver: AsyncDriver, seconds: float) -> None:
    """Close ``driver`` without waiting more than ``seconds`` on a server that does not answer
    (it is going away either way)."""
    try:
        async with asyncio.timeout(seconds):
            await driver.close()
    except (TimeoutError, DriverError, OSError) as exc:
        log.debug("closing a Neo4j driver: %r", exc)


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the server may be unreachable (worth a probe), rather than that
    this one statement failed."""
    return isinstance(exc, ServiceUnavailable | SessionExpired | DatabaseUnavailable | OSError)


async def retry_transient(
    work: Callable[[], Awaitable[T]],
    budget: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``work()``, again once at once after a broken connection (the pool may hold several a
    restarted server closed: the driver drops the idle ones on the first failure), and again
    with back-off (50 ms doubling, ±20 %) for ``budget`` seconds after a transient server
    error such as a deadlock. A refused connection fails at the second attempt: that is an
    outage, for the breaker, not something to wait out here."""
    started = clock()
    delay = 0.05
    reconnected = False
    while True:
        try:
            return await work()
        except (ServiceUnavailable, SessionExpired) as exc:
            if reconnected or not exc.is_retryable():
                raise
            reconnected = True
        except TransientError as exc:
            pause = delay * random.uniform(0.8, 1.2)
            if not exc.is_retryable() or clock() - started + pause > budget:
                raise
            await sleep(pause)
            delay *= 2


class CircuitBreaker:
    """Closed: calls pass. A call that fails for want of the server, or runs longer than
    ``probe_after``, makes the breaker ask whether the server ``answers`` at all (a new
    connection: no query, so a cold or busy server passes); no answer within ``probe_timeout``
    opens it. Open: calls fail at once with ``StoreUnavailableError`` and calls in flight are
    ended; a background task checks every ``probe_interval`` whether the server ``serves``
    (a query) and closes the breaker when it does. See the module docstring.

    ``clock`` only dates the state for messages; timing is the event loop's.
    """

    def __init__(
        self,
        answers: Callable[[], Awaitable[object]],
        serves: Callable[[], Awaitable[object]],
        timeouts: Neo4jTimeouts,
        *,
        is_outage: Callable[[BaseException], bool] = is_outage,
        name: str = "Neo4j",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._answers = answers
        self._serves = serves
        self.timeouts = timeouts
        self._is_outage = is_outage
        self.name = name
        self._clock = clock
        self._opened_at: float | None = None
        self._last_error = ""
        self._prober: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Timeout] = set()
        #: When a probe was last answered (event loop time).
        self._answered_at: float | None = None

    @property
    def state(self) -> Literal["closed", "open"]:
        return "closed" if self._opened_at is None else "open"

    async def call(
        self,
        work: Callable[[], Awaitable[T]],
        timeout: float | Literal["default"] | None = DEFAULT,
    ) -> T:
        """``work()`` under the breaker and a timeout (``None``: none; migrations)."""
        if self._opened_at is not None:
            self._ensure_prober()
            raise self._refusal()
        seconds = self.timeouts.call if timeout == DEFAULT else timeout
        loop = asyncio.get_running_loop()
        watchdog: asyncio.TimerHandle

        def watch() -> None:
            nonlocal watchdog
            if not self._suspect("a slow call"):
                # A probe was answered a moment ago (the server may have hung since, as a
                # stopped one does): look again once that answer is old, rather than wait
                # out the whole call timeout.
                watchdog = loop.call_later(self.timeouts.probe_interval, watch)

        watchdog = loop.call_later(self.timeouts.probe_after, watch)
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                self._in_flight.add(scope)
                try:
                    return await work()
                finally:
                    self._in_flight.discard(scope)
        except TimeoutError as exc:
            if not scope.expired():  # the work's own, not this call's
                self._suspect(f"{type(exc).__name__}: {exc}")
                raise
            if self._opened_at is not None:
                raise self._refusal() from exc
            self._suspect(f"no answer within {seconds} s")
            raise StoreUnavailableError(f"{self.name} did not answer within {seconds} s") from exc
        except Exception as exc:
            if self._is_outage(exc):
                self._suspect(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            watchdog.cancel()

    async def close(self) -> None:
        """Stop probing (the store is closing)."""
        prober, self._prober = self._prober, None
        if prober is not None and not prober.done():
            prober.cancel()
            await asyncio.wait([prober])

    # ------------------------------------------------------------------ internals

    def _refusal(self) -> StoreUnavailableError:
        opened = self._clock() - (self._opened_at or 0.0)
        # The driver's messages run over several lines; the first says what happened.
        reason = (self._last_error.splitlines() or [""])[0].rstrip(":")
        return StoreUnavailableError(
            f"{self.name} is unavailable ({reason}) since {opened:.1f} s; the service "
            f"checks it every {self.timeouts.probe_interval} s and answers again when it is back"
        )

    def _suspect(self, reason: str) -> bool:
        """Something looked like an outage: probe now, unless a probe is running already or
        one was answered within ``probe_interval`` (many slow queries, one probe a while).
        ``False`` in that last case: the suspicion was set aside, not looked into."""
        now = asyncio.get_running_loop().time()
        if self._answered_at is not None and now - self._answered_at < self.timeouts.probe_interval:
            return False
        if self._opened_at is None and (self._prober is None or self._prober.done()):
            log.info("%s: %s; probing the server", self.name, reason)
            self._last_error = reason
            self._prober = asyncio.get_running_loop().create_task(self._verify())
        return True

    def _ensure_prober(self) -> None:
        # The prober may have ended with the event loop it ran in (one asyncio.run each).
        loop = asyncio.get_running_loop()
        if self._prober is None or self._prober.done() or self._prober.get_loop() is not loop:
            self._prober = loop.create_task(self._probe_until_answered())

    async def _probe_once(
        self, probe: Callable[[], Awaitable[object]], seconds: float
    ) -> str | None:
        """``None`` if ``probe`` succeeded within ``seconds``, else why not."""
        try:
            async with asyncio.timeout(seconds):
                await probe()
        except TimeoutError:
            return f"no answer within {seconds} s"
        except Exception as exc:  # any failure of the probe is the server's
            return f"{type(exc).__name__}: {exc}"
        self._answered_at = asyncio.get_running_loop().time()
        return None

    async def _verify(self) -> None:
        failure = await self._probe_once(self._answers, self.timeouts.probe_timeout)
        if failure is None:
            log.info("%s answered the probe: the circuit stays closed", self.name)
            return
        self._open(failure)
        await self._probe_until_answered()

    def _open(self, reason: str) -> None:
        self._opened_at = self._clock()
        self._last_error = reason
        log.warning("%s is unavailable (%s): circuit open", self.name, reason)
        now = asyncio.get_running_loop().time()
        for scope in list(self._in_flight):
            # Their callers answer 503 now, not at their own timeout.
            with contextlib.suppress(RuntimeError):  # one expiring already
                scope.reschedule(now)

    async def _probe_until_answered(self) -> None:
        while self._opened_at is not None:
            await asyncio.sleep(self.timeouts.probe_interval)
            # As long as a call may take: a server just started takes seconds over its first
            # query, and a stopped one that resumes answers this probe at once.
            failure = await self._probe_once(self._serves, self.timeouts.call)
            if failure is None:
                log.warning(
                    "%s answers again after %.1f s: circuit closed",
                    self.name,
                    self._clock() - self._opened_at,
                )
                self._opened_at = None
            else:
                log.debug("%s probe: %s", self.name, failure)
                self._last_error = failure
