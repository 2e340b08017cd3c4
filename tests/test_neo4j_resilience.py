"""The circuit breaker and the retry policy of the Neo4j store, without a server.

Timings are the event loop's, in tens of milliseconds; ``tests/test_neo4j_outage.py`` runs
the same against a real server killed and stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from neo4j.exceptions import (
    ConstraintError,
    IncompleteCommit,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph_service.errors import StoreUnavailableError
from graph_service.store.neo4j_resilience import (
    CircuitBreaker,
    Neo4jTimeouts,
    driver_options,
    retry_transient,
)

FAST = Neo4jTimeouts(call=2.0, probe_after=0.05, probe_timeout=0.05, probe_interval=0.05, retry=1.0)


class Server:
    """What the probe finds: up, down (refused) or hung (no answer)."""

    def __init__(self) -> None:
        self.state = "up"
        self.probes = 0
        self.resumed: asyncio.Event | None = None

    async def probe(self) -> None:
        self.probes += 1
        if self.state == "down":
            raise ServiceUnavailable("connection refused")
        if self.state == "hung":
            self.resumed = self.resumed or asyncio.Event()
            await self.resumed.wait()  # a stopped server answers when it resumes

    def resume(self) -> None:
        self.state = "up"
        if self.resumed is not None:
            self.resumed.set()


def breaker_of(server: Server, timeouts: Neo4jTimeouts) -> CircuitBreaker:
    return CircuitBreaker(server.probe, server.probe, timeouts)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


async def settle(breaker: CircuitBreaker, state: str, seconds: float = 1.0) -> None:
    deadline = time.monotonic() + seconds
    while breaker.state != state:
        assert time.monotonic() < deadline, f"the breaker is not {state} within {seconds} s"
        await asyncio.sleep(0.005)


async def refused() -> None:
    raise ServiceUnavailable("connection refused")


async def answer() -> str:
    return "rows"


def test_a_closed_breaker_passes_results_and_statement_errors() -> None:
    async def test() -> None:
        server = Server()
        breaker = breaker_of(server, FAST)
        assert await breaker.call(answer) == "rows"

        async def constraint() -> None:
            raise ConstraintError("exists")

        with pytest.raises(ConstraintError):
            await breaker.call(constraint)
        await asyncio.sleep(0.1)
        assert server.probes == 0  # a statement's error says nothing about the server
        assert breaker.state == "closed"
        await breaker.close()

    run(test)


def test_a_refused_connection_opens_the_circuit_and_calls_fail_at_once() -> None:
    async def test() -> None:
        server = Server()
        server.state = "down"
        breaker = breaker_of(server, FAST)
        with pytest.raises(ServiceUnavailable):
            await breaker.call(refused)
        await settle(breaker, "open")
        calls = 0

        async def counted() -> str:
            nonlocal calls
            calls += 1
            return "rows"

        started = time.monotonic()
        for _ in range(100):
            with pytest.raises(StoreUnavailableError, match="Neo4j is unavailable"):
                await breaker.call(counted)
        assert time.monotonic() - started < 0.5
        assert calls == 0  # the server is not even tried
        await breaker.close()

    run(test)


def test_an_outage_error_with_the_server_answering_keeps_the_circuit_closed() -> None:
    async def test() -> None:
        server = Server()
        breaker = breaker_of(server, FAST)
        with pytest.raises(ServiceUnavailable):
            await breaker.call(refused)  # one broken connection, the server is fine
        await asyncio.sleep(0.1)
        assert server.probes == 1
        assert breaker.state == "closed"
        assert await breaker.call(answer) == "rows"
        await breaker.close()

    run(test)


def test_a_hung_server_ends_the_calls_in_flight_long_before_their_timeout() -> None:
    async def test() -> None:
        server = Server()
        server.state = "hung"
        breaker = breaker_of(server, FAST)

        async def hangs() -> None:
            await asyncio.Event().wait()

        started = time.monotonic()
        results = await asyncio.gather(
            *(breaker.call(hangs) for _ in range(5)), return_exceptions=True
        )
        seconds = time.monotonic() - started
        assert all(isinstance(r, StoreUnavailableError) for r in results), results
        # probe_after + probe_timeout (0.1 s), not the call timeout (2 s).
        assert seconds < 1.0
        assert breaker.state == "open"
        await breaker.close()

    run(test)


def test_a_server_that_hangs_right_after_answering_a_probe_is_found_out() -> None:
    """A probe answered a moment before the server hung (a slow call on a busy machine
    probed it, then it was stopped) must not leave the next call to its whole timeout."""

    async def test() -> None:
        server = Server()
        timeouts = Neo4jTimeouts(
            call=5.0, probe_after=0.05, probe_timeout=0.05, probe_interval=0.3, retry=1.0
        )
        breaker = breaker_of(server, timeouts)

        async def slow() -> str:
            await asyncio.sleep(0.1)  # past probe_after: the server is probed, and answers
            return "rows"

        assert await breaker.call(slow) == "rows"
        assert server.probes == 1
        server.state = "hung"

        async def hangs() -> None:
            await asyncio.Event().wait()

        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            await breaker.call(hangs)
        # Within the probe interval's wait and a probe, not the call timeout (5 s).
        assert time.monotonic() - started < 2.0
        assert breaker.state == "open"
        server.resume()
        await breaker.close()

    run(test)


def test_a_slow_call_on_a_healthy_server_finishes() -> None:
    async def test() -> None:
        server = Server()
        breaker = breaker_of(server, FAST)

        async def slow() -> str:
            await asyncio.sleep(0.3)  # six times probe_after
            return "rows"

        assert await breaker.call(slow) == "rows"
        assert breaker.state == "closed"
        assert server.probes == 1  # one probe a probe_interval, however many slow calls
        await breaker.close()

    run(test)


def test_the_call_timeout_bounds_a_call_the_server_is_slow_to_answer() -> None:
    async def test() -> None:
        breaker = breaker_of(Server(), FAST)

        async def stuck() -> None:
            await asyncio.sleep(10)

        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=r"did not answer within 0\.2 s"):
            await breaker.call(stuck, timeout=0.2)
        assert time.monotonic() - started < 1.0
        assert breaker.state == "closed"  # the probe was answered: only that call was slow
        await breaker.close()

    run(test)


def test_migrations_run_without_the_call_timeout() -> None:
    async def test() -> None:
        timeouts = Neo4jTimeouts(call=0.1, probe_after=0.05, probe_timeout=0.05)
        breaker = breaker_of(Server(), timeouts)

        async def migration() -> str:
            await asyncio.sleep(0.3)
            return "migrated"

        with pytest.raises(StoreUnavailableError):
            await breaker.call(migration)
        assert await breaker.call(migration, timeout=None) == "migrated"
        await breaker.close()

    run(test)


def test_the_breaker_probes_in_the_background_and_closes_when_answered() -> None:
    async def test() -> None:
        server = Server()
        server.state = "down"
        breaker = breaker_of(server, FAST)
        with pytest.raises(ServiceUnavailable):
            await breaker.call(refused)
        await settle(breaker, "open")
        await asyncio.sleep(0.3)
        assert server.probes >= 3  # every probe_interval, with nobody calling
        server.state = "up"
        await settle(breaker, "closed")
        assert await breaker.call(answer) == "rows"
        await breaker.close()

    run(test)


def test_a_hung_server_that_resumes_closes_the_circuit_at_its_first_answer() -> None:
    async def test() -> None:
        server = Server()
        server.state = "hung"
        breaker = breaker_of(server, FAST)

        async def hangs() -> None:
            await asyncio.Event().wait()

        with pytest.raises(StoreUnavailableError):
            await breaker.call(hangs)
        assert breaker.state == "open"
        await asyncio.sleep(0.2)  # a recovery probe is waiting on the stopped server
        started = time.monotonic()
        server.resume()
        await settle(breaker, "closed", 0.5)
        assert time.monotonic() - started < 0.05  # that probe's answer, not the next probe
        await breaker.close()

    run(test)


def test_a_cold_server_slow_to_plan_queries_is_not_taken_for_a_hung_one() -> None:
    async def test() -> None:
        connections = Server()  # takes connections at once
        queries = Server()
        queries.state = "hung"  # its first query takes longer than any probe_timeout
        breaker = CircuitBreaker(connections.probe, queries.probe, FAST)

        async def slow() -> str:
            await asyncio.sleep(0.3)
            return "rows"

        assert await breaker.call(slow) == "rows"
        assert connections.probes == 1
        assert queries.probes == 0  # deciding to open asks for a connection, not a query
        assert breaker.state == "closed"
        await breaker.close()

    run(test)


def test_the_circuit_closes_when_the_database_answers_a_query() -> None:
    async def test() -> None:
        connections, queries = Server(), Server()
        connections.state = queries.state = "down"
        breaker = CircuitBreaker(connections.probe, queries.probe, FAST)
        with pytest.raises(ServiceUnavailable):
            await breaker.call(refused)
        await settle(breaker, "open")
        connections.state = "up"  # the server is back, its database not yet
        await asyncio.sleep(0.2)
        assert breaker.state == "open"
        assert queries.probes >= 2
        queries.state = "up"
        await settle(breaker, "closed")
        await breaker.close()

    run(test)


def test_close_stops_the_probing() -> None:
    async def test() -> None:
        server = Server()
        server.state = "down"
        breaker = breaker_of(server, FAST)
        with pytest.raises(ServiceUnavailable):
            await breaker.call(refused)
        await settle(breaker, "open")
        await breaker.close()
        probes = server.probes
        await asyncio.sleep(0.2)
        assert server.probes == probes

    run(test)


# ------------------------------------------------------------------ retries


class Attempts:
    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.count = 0

    async def __call__(self) -> str:
        self.count += 1
        if self.failures:
            raise self.failures.pop(0)
        return "committed"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def retry(work: Callable[[], Awaitable[Any]], budget: float, fake: FakeTime) -> Any:
    return asyncio.run(retry_transient(work, budget, clock=fake.clock, sleep=fake.sleep))


def test_a_broken_connection_is_tried_once_more_at_once() -> None:
    fake = FakeTime()
    work = Attempts(SessionExpired("closed by the server"))
    assert retry(work, 2.0, fake) == "committed"
    assert work.count == 2
    assert fake.pauses == []


def test_a_refused_connection_fails_at_the_second_attempt() -> None:
    fake = FakeTime()
    work = Attempts(*(ServiceUnavailable("refused") for _ in range(10)))
    with pytest.raises(ServiceUnavailable):
        retry(work, 2.0, fake)
    assert work.count == 2
    assert fake.pauses == []


def test_an_unknown_commit_outcome_is_not_retried() -> None:
    work = Attempts(IncompleteCommit("connection lost during commit"))
    with pytest.raises(IncompleteCommit):
        retry(work, 2.0, FakeTime())
    assert work.count == 1


def test_transient_errors_are_retried_with_back_off_within_the_budget() -> None:
    fake = FakeTime()
    work = Attempts(*(TransientError("deadlock") for _ in range(3)))
    assert retry(work, 2.0, fake) == "committed"
    assert work.count == 4
    for pause, base in zip(fake.pauses, (0.05, 0.1, 0.2), strict=True):
        assert 0.8 * base <= pause <= 1.2 * base

    fake = FakeTime()
    work = Attempts(*(TransientError("deadlock") for _ in range(100)))
    with pytest.raises(TransientError):
        retry(work, 1.0, fake)
    assert fake.now <= 1.0
    assert 4 <= work.count <= 6  # 0.05 + 0.1 + 0.2 + 0.4 = 0.75 s; 0.8 more is too much


def test_the_driver_retries_nothing_itself() -> None:
    options = driver_options(Neo4jTimeouts(connection=1.5, acquisition=1.0))
    assert options["max_transaction_retry_time"] == 0
    assert options["connection_timeout"] == 1.5
    assert options["connection_acquisition_timeout"] == 1.5  # at least the connect timeout
