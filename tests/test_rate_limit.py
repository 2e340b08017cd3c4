"""Rate limits: token buckets per key and per address, 429 problem+json with Retry-After.

Time is a fake clock (``app.state.rate_limiter.clock``), never a sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.api.ratelimit import (
    KEY_CHECK_SECONDS,
    TokenBuckets,
    client_address,
    is_exempt,
)
from graph_service.settings import hash_api_key

KEY_A = "rate-limit-key-a"
KEY_B = "rate-limit-key-b"
#: A route that needs no store, so the clients below need no lifespan.
ROUTE = "/v1/schema"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limited_app(tmp_path: Path, clock: Clock, **overrides: Any) -> FastAPI:
    values: dict[str, Any] = {
        "api_key_hashes": [f"a={hash_api_key(KEY_A)}", f"b={hash_api_key(KEY_B)}"],
        "rate_limit_anonymous_per_second": 1.0,
        "rate_limit_anonymous_burst": 3,
        "rate_limit_key_per_second": 2.0,
        "rate_limit_key_burst": 5,
        **overrides,
    }
    app = create_app(make_settings("embedded", tmp_path / "data", **values))
    if values.get("rate_limit_enabled", True):
        app.state.rate_limiter.clock = clock
    return app


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> FastAPI:
    return limited_app(tmp_path, clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=("192.0.2.10", 40000)) as test_client:
        yield test_client


def statuses(client: TestClient, count: int, path: str = ROUTE, **kwargs: Any) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(count)]


# ------------------------------------------------------------------ the buckets


def test_a_bucket_gives_its_burst_then_the_time_to_the_next_token() -> None:
    buckets = TokenBuckets(per_second=2.0, burst=3, max_buckets=100)
    assert [buckets.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", 0.0) == pytest.approx(0.5)
    assert buckets.take("a", 0.25) == pytest.approx(0.25)  # refilled half a token meanwhile
    assert buckets.take("a", 0.5) == 0.0  # one token: taken
    assert buckets.take("a", 0.5) == pytest.approx(0.5)
    assert buckets.take("a", 100.0) == 0.0  # full again, never more than the burst
    assert [buckets.take("a", 100.0) for _ in range(3)][-1] == pytest.approx(0.5)


def test_buckets_are_forgotten_when_full_again_and_bounded_in_number() -> None:
    buckets = TokenBuckets(per_second=1.0, burst=2, max_buckets=100)
    for n in range(50):
        buckets.take(f"caller-{n}", 0.0)
    assert len(buckets) == 50
    buckets.take("late", 1.9)  # the others are not full yet (2 s to refill)
    assert len(buckets) == 51
    buckets.take("later", 2.0)  # now they are: nothing to remember
    assert len(buckets) == 2
    for n in range(500):
        buckets.take(f"flood-{n}", 2.0)
    assert len(buckets) == 100  # least recently used dropped first
    # A dropped bucket starts full: never stricter than the limit, only as lenient.
    assert buckets.take("flood-0", 2.0) == 0.0


def test_client_addresses_ipv6_by_its_64() -> None:
    def address(host: str) -> str:
        return client_address({"type": "http", "client": (host, 1)})

    assert address("192.0.2.7") == "192.0.2.7"
    assert address("2001:db8:1:2:aaaa::1") == address("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address("2001:db8:1:3::1") != address("2001:db8:1:2::1")
    assert address("::ffff:192.0.2.7") == "192.0.2.7"
    assert address("testclient") == "testclient"
    assert client_address({"type": "http"}) == "unknown"


# ------------------------------------------------------------------ through the app


def test_burst_then_429_problem_with_retry_after(client: TestClient) -> None:
    assert statuses(client, 3) == [200, 200, 200]
    refused = client.get(ROUTE)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "1"
    body = refused.json()
    assert body["type"] == "/problems/rate_limited"
    assert body["status"] == 429
    assert body["code"] == "rate_limited"
    assert body["title"] == "Too many requests"
    assert body["instance"] == ROUTE
    assert "address" in body["detail"]
    assert body["details"] == {"limit": "address", "per_second": 1.0, "burst": 3}


def test_recovery_after_retry_after(client: TestClient, clock: Clock) -> None:
    assert statuses(client, 4) == [200, 200, 200, 429]
    clock.now += 0.5
    refused = client.get(ROUTE)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"  # 0.5 s, rounded up to whole seconds
    clock.now += int(refused.headers["Retry-After"])
    assert statuses(client, 2) == [200, 429]  # one token back, not the burst
    clock.now += 3
    assert statuses(client, 4) == [200, 200, 200, 429]  # 3 s: the whole burst


def test_retry_after_counts_the_wait_in_whole_seconds(tmp_path: Path, clock: Clock) -> None:
    app = limited_app(tmp_path, clock, rate_limit_anonymous_per_second=0.2)
    with TestClient(app) as client:
        assert statuses(client, 3) == [200, 200, 200]
        assert client.get(ROUTE).headers["Retry-After"] == "5"
        clock.now += 4
        assert client.get(ROUTE).headers["Retry-After"] == "1"
        clock.now += 1
        assert client.get(ROUTE).status_code == 200


def test_each_key_has_its_own_bucket(client: TestClient) -> None:
    assert statuses(client, 6, headers={"X-API-Key": KEY_A}) == [200] * 5 + [429]
    refused = client.get(ROUTE, headers={"X-API-Key": KEY_A})
    assert refused.json()["details"]["limit"] == "key"
    assert "API key" in refused.json()["detail"]
    assert statuses(client, 5, headers={"Authorization": f"Bearer {KEY_B}"}) == [200] * 5
    # Neither key's bucket is the address's: anonymous callers there still have theirs.
    assert statuses(client, 4) == [200, 200, 200, 429]


def test_an_account_s_key_has_its_own_bucket_until_revoked(
    client: TestClient, clock: Clock
) -> None:
    admin = {"X-API-Key": KEY_A}
    account = {"name": "甲", "role": "viewer"}
    assert client.post("/v1/accounts", json=account, headers=admin).status_code == 201
    made = client.post("/v1/accounts/甲/keys", headers=admin).json()
    viewer = {"X-API-Key": made["key"]}
    assert statuses(client, 6, headers=viewer) == [200] * 5 + [429]
    assert client.get(ROUTE, headers=viewer).json()["details"]["limit"] == "key"
    assert statuses(client, 1) == [200]  # the address's bucket is another

    assert client.post(f"/v1/keys/{made['id']}/revoke", headers=admin).status_code == 200
    clock.now += KEY_CHECK_SECONDS  # the check is remembered that long; all buckets refill
    # A revoked key is no key: it counts against the address like a made-up one.
    assert statuses(client, 4, headers=viewer) == [200, 200, 200, 429]
    assert client.get(ROUTE, headers=viewer).json()["details"]["limit"] == "address"


def test_made_up_keys_count_against_the_address(client: TestClient) -> None:
    answers = [client.get(ROUTE, headers={"X-API-Key": f"guess-{n}"}) for n in range(5)]
    # The route needs no key, so the guesses pass until the address's bucket is empty.
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert statuses(client, 1, "/v1/stats", headers={"X-API-Key": "guess-9"}) == [429]


def test_each_address_has_its_own_bucket(app: FastAPI, client: TestClient) -> None:
    assert statuses(client, 4) == [200, 200, 200, 429]
    other = TestClient(app, client=("192.0.2.11", 40000))
    assert statuses(other, 4) == [200, 200, 200, 429]


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(tmp_path: Path, clock: Clock) -> None:
    app = limited_app(tmp_path, clock)
    proxy = TestClient(app, client=("10.0.0.2", 40000))
    forwarded = [
        proxy.get(ROUTE, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(4)
    ]
    assert forwarded == [200, 200, 200, 429]  # one bucket: the peer's

    app = limited_app(tmp_path, clock, trusted_proxies=["10.0.0.0/24"])
    proxy = TestClient(app, client=("10.0.0.2", 40000))
    for n in range(3):
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert statuses(proxy, 3, headers=headers) == [200, 200, 200]
    # The client is the right-most address the trusted proxies did not add.
    spoofed = {"X-Forwarded-For": "203.0.113.99, 198.51.100.0"}
    assert statuses(proxy, 1, headers=spoofed) == [429]
    # A caller that is not a trusted proxy cannot pick its address.
    direct = TestClient(app, client=("192.0.2.50", 40000))
    headers = {"X-Forwarded-For": "198.51.100.77"}
    assert statuses(direct, 4, headers=headers) == [200, 200, 200, 429]


def test_probes_explorer_and_docs_are_never_limited(client: TestClient) -> None:
    assert statuses(client, 4) == [200, 200, 200, 429]
    exempt = [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/docs",
        "/redoc",
        "/explorer/",
        "/explorer/config.json",
        "/explorer/static/vendor/swagger-ui.css",
    ]
    for path in exempt:
        assert is_exempt(path)
        assert statuses(client, 10, path) == [200] * 10, path
    assert not is_exempt("/v1/nodes")
    assert not is_exempt("/explorer/other")


def test_limits_can_be_turned_off(tmp_path: Path, clock: Clock) -> None:
    app = limited_app(tmp_path, clock, rate_limit_enabled=False)
    assert not hasattr(app.state, "rate_limiter")
    assert statuses(TestClient(app), 20) == [200] * 20


def test_the_key_is_never_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        statuses(client, 7, headers={"X-API-Key": KEY_A})
    assert "rate limited: key:" in caplog.text
    assert KEY_A not in caplog.text


def test_the_document_declares_429_where_limits_apply(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert "429" in paths["/v1/nodes"]["get"]["responses"]
    assert "429" in paths["/v1/nodes"]["post"]["responses"]
    assert "429" not in paths["/healthz"]["get"]["responses"]
    assert "429" not in paths["/readyz"]["get"]["responses"]
