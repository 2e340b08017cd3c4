"""Rate limits per API key and per client address: token buckets, 429 with ``Retry-After``.

A bucket holds up to ``burst`` tokens and refills at ``per_second``; a request takes one, and
finds none: 429 problem+json, ``Retry-After`` the whole seconds until the next token. A request
with a valid key (``services.accounts.authenticate``, remembered ``KEY_CHECK_SECONDS``) is
counted in that key's bucket (named by a prefix of the key's SHA-256, never the key), from
wherever it comes; any other request, an invalid, revoked or expired key's included (or a
stream of made-up keys would each get a full bucket), in its client address's bucket, an IPv6
address by its /64 (a host usually has a whole /64 to pick addresses from). A made-up key
costs one key lookup (an index seek, as authenticating it would) before its address's 429.
The client address is the connection's peer; ``X-Forwarded-For`` counts only from the proxies
``trusted_proxies`` names (uvicorn's ``ProxyHeadersMiddleware``, installed here, not by
uvicorn itself: see ``server.serve``). Figures and switches: the ``rate_limit_*`` settings.

Buckets live in the process: with several workers each keeps its own, so a caller may get up
to N times the figures (the kernel spreads connections over the workers). Memory is bounded: a
bucket idle long enough to be full again carries nothing and is dropped; past
``rate_limit_max_buckets`` per kind the least recently used goes first.

Why not the ``limits`` package (flask-limiter's core, well kept): its strategies are fixed and
moving windows, with no token bucket, so "a burst, then a sustained rate" takes two limits
per caller and its Retry-After is a window's end rather than the next token; its memory
storage reads the wall clock itself (tests would patch time) and expires keys from a timer
thread. A token bucket is twenty lines here, keyed and bounded the way this service needs.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from graph_service.api.errors import STATUS_OF
from graph_service.api.responses import problem
from graph_service.errors import GraphServiceError, RateLimitedError
from graph_service.services.accounts import authenticate
from graph_service.settings import Settings

__all__ = [
    "EXEMPT_PATHS",
    "RateLimit",
    "RateLimiter",
    "TokenBuckets",
    "client_address",
    "install_rate_limit",
    "is_exempt",
]

log = logging.getLogger(__name__)
#: Seconds a key's check is remembered. It decides only which bucket a request is counted in
#: (the request itself is authenticated on its own), so a key revoked a moment ago is counted
#: as a key a little longer; what it saves is a store lookup per request.
KEY_CHECK_SECONDS: Final[float] = 10.0

#: Never limited: probes, and what a browser loads to show the explorer and the API docs.
EXEMPT_PATHS: Final[frozenset[str]] = frozenset(
    {
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/explorer",
        "/explorer/",
        "/explorer/config.json",
        "/review",
    }
)
_EXEMPT_PREFIXES: Final[tuple[str, ...]] = ("/explorer/static/",)


def is_exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith(_EXEMPT_PREFIXES)


class TokenBuckets:
    """One token bucket per name, all with the same rate and burst; bounded in number."""

    def __init__(self, per_second: float, burst: int, max_buckets: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self.max_buckets = max_buckets
        #: name → (tokens, when counted), least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        #: An untouched bucket is full again after this long.
        self._refill_seconds = burst / per_second

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, name: str, now: float) -> float:
        """Take a token from ``name``'s bucket at time ``now`` (seconds, monotonic): ``0.0``
        if there was one, else the seconds until there is."""
        tokens, counted = self._buckets.pop(name, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - counted) * self.per_second)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.per_second
        self._buckets[name] = (tokens, now)
        self._forget(now)
        return wait

    def _forget(self, now: float) -> None:
        # Oldest first: stop at the first bucket that may not be full yet.
        while self._buckets:
            name, (_, counted) = next(iter(self._buckets.items()))
            if now - counted < self._refill_seconds and len(self._buckets) <= self.max_buckets:
                break
            del self._buckets[name]


def client_address(scope: Scope) -> str:
    """The caller's address as buckets count it: IPv4 as is, IPv6 by its /64."""
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a Unix socket, a test client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _presented_key(scope: Scope) -> str | None:
    """The key a request presents, read as ``api.deps`` reads it."""
    headers: dict[bytes, bytes] = dict(scope.get("headers", ()))
    key = headers.get(b"x-api-key")
    if key:
        return key.decode("latin-1")
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


class RateLimiter:
    """Who a request counts against, and whether it may pass. One per app
    (``app.state.rate_limiter``); ``clock`` may be replaced (tests)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.by_key = TokenBuckets(
            settings.rate_limit_key_per_second,
            settings.rate_limit_key_burst,
            settings.rate_limit_max_buckets,
        )
        self.by_address = TokenBuckets(
            settings.rate_limit_anonymous_per_second,
            settings.rate_limit_anonymous_burst,
            settings.rate_limit_max_buckets,
        )
        #: Key digest → (valid, when checked), least recently checked first.
        self._checked: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    async def _key_bucket(self, scope: Scope, key: str) -> str | None:
        """The bucket of a valid key: ``key:`` and 16 hex digits of its SHA-256; ``None`` for
        a key that is none (or cannot be checked: the store is down)."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        now = self.clock()
        valid, checked = self._checked.pop(digest, (False, -math.inf))
        if now - checked >= KEY_CHECK_SECONDS:
            valid = await self._authenticates(scope, key)
            checked = now
        self._checked[digest] = (valid, checked)
        while len(self._checked) > self.settings.rate_limit_max_buckets:
            self._checked.popitem(last=False)
        return "key:" + digest[:16] if valid else None

    async def _authenticates(self, scope: Scope, key: str) -> bool:
        """Whether ``key`` authenticates, as the routes' dependency decides it."""
        service = getattr(scope["app"].state, "service", None) if "app" in scope else None
        if service is None:  # not started (yet)
            return False
        try:
            await authenticate(service.store, self.settings, key)
        except GraphServiceError:
            return False
        return True

    async def check(self, scope: Scope) -> RateLimitedError | None:
        """Take a token for the request of ``scope``; the error to answer if there was none."""
        key = _presented_key(scope)
        bucket = await self._key_bucket(scope, key) if key else None
        kind, buckets = "key", self.by_key
        if bucket is None:
            bucket, kind, buckets = client_address(scope), "address", self.by_address
        wait = buckets.take(bucket, self.clock())
        if wait <= 0.0:
            return None
        log.info("rate limited: %s (%s)", bucket, scope["path"])
        who = "API key" if kind == "key" else "address"
        return RateLimitedError(
            f"too many requests from this {who}: {buckets.per_second:g} a second on average, "
            f"{buckets.burst} at once; retry after Retry-After seconds",
            retry_after=wait,
            details={"limit": kind, "per_second": buckets.per_second, "burst": buckets.burst},
        )


class RateLimit:
    """The ASGI middleware: exempt paths pass, others ask the limiter."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        error = await self.limiter.check(scope)
        if error is None:
            await self.app(scope, receive, send)
            return
        # Built here, not raised: middleware runs outside the app's exception handlers. The
        # same problem+json as api.errors makes of a RateLimitedError.
        response = problem(
            429,
            error.code,
            error.message,
            title=STATUS_OF[RateLimitedError][1],
            instance=scope["path"],
            extra={"details": error.details},
            headers={"Retry-After": str(max(1, math.ceil(error.retry_after)))},
        )
        await response(scope, receive, send)


def install_rate_limit(app: Starlette, settings: Settings) -> None:
    """The rate limit (when enabled) and, outside it, the trusted proxies' client address."""
    if settings.rate_limit_enabled:
        app.state.rate_limiter = RateLimiter(settings)
        app.add_middleware(RateLimit, limiter=app.state.rate_limiter)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
