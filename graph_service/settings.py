"""The one settings object. Every value can be set by environment (``GRAPH_SERVICE_*``,
Neo4j's by ``NEO4J_*``) or a ``.env`` file."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "hash_api_key"]

ROOT = Path(__file__).resolve().parent.parent


def hash_api_key(key: str) -> str:
    """The stored form of an API key: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRAPH_SERVICE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default=ROOT / "data", description="Where the embedded store lives.")
    seed_dir: Path = Field(default=ROOT / "seed")
    cache_dir: Path = Field(default=ROOT / ".cache", description="Downloaded packages.")
    host: str = "127.0.0.1"
    port: int = 8000
    #: Processes serving the port (``graph-service serve --workers``; docs/workers.md): at
    #: most the machine's cores.
    workers: int = Field(default=1, ge=1, le=64)

    neo4j_uri: str | None = Field(default=None, validation_alias="NEO4J_URI")
    neo4j_user: str = Field(default="neo4j", validation_alias="NEO4J_USER")
    neo4j_password: SecretStr = Field(default=SecretStr(""), validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field(default="neo4j", validation_alias="NEO4J_DATABASE")

    #: Hashes (``sha256:<hex>``, see ``graph-service hash-key``) of the keys allowed to write,
    #: each optionally named (``<name>=sha256:<hex>``): the name is who wrote, in audit
    #: records such as judgements.
    api_key_hashes: list[str] = Field(default_factory=list)
    #: Close reads to anonymous callers as well.
    read_requires_key: bool = False

    max_body_bytes: int = 5_000_000
    #: A spreadsheet upload (``POST /v1/imports``): the file and the form around it.
    max_import_bytes: int = 20_000_000
    max_batch_size: int = 5_000
    max_page_size: int = 1_000
    max_neighbourhood_nodes: int = 5_000
    max_paths: int = 50

    #: Weight of a tie in the recommender's structural signals: its explained link strength,
    #: or 1 per tie. ``count`` builds a county's index ~6x faster (淄川区: 0.09 vs 0.55 s, the
    #: cost of the first recommendation in a county after a start or a write) and ranked as
    #: well on the generated counties (docs/recommendations.md); ``strength`` lets strong
    #: ties count for more.
    recommend_tie_weight: Literal["strength", "count"] = "strength"
    #: Regions (division codes, usually counties) whose recommender indexes are built at
    #: start-up, for both audiences, before /readyz says ready, and rebuilt right after a
    #: write that touches them (graph_service/services/index_warmup.py). Besides these, the
    #: regions recommendations were asked for are recorded (``recommend_regions.json`` in
    #: ``data_dir``) and warmed at the next start. A JSON list in the environment.
    recommend_warm_regions: list[str] = Field(default_factory=list)
    #: At most this many (region, audience) indexes are kept warm (0: no warm-up at all);
    #: each is a scope graph in the graph cache (``graph_cache_entries``).
    recommend_warm_max: int = Field(default=8, ge=0, le=64)
    #: Whether /readyz answers 503 (Retry-After) while the indexes are being built; without
    #: it the service is ready at once and the first requests may build indexes themselves.
    recommend_warm_wait: bool = True
    #: Seconds between two looks at the store's version, to rebuild the warm indexes a
    #: write (by this process or another) touched; requests look themselves as well.
    recommend_warm_poll_s: float = Field(default=0.2, gt=0, le=60)
    #: Situation pages (/dashboard) opened with their default settings are recorded
    #: (``dashboard_regions.json`` in ``data_dir``) and computed after the next start, once
    #: the indexes are warm (graph_service/services/dashboard_warmup.py); at most this many
    #: (region, audience) pages (0: none).
    dashboard_warm_max: int = Field(default=8, ge=0, le=64)

    # ---- Rate limits (graph_service/api/ratelimit.py). Token buckets: a caller may send
    # ``burst`` requests at once, then ``per_second`` on average. A key holder (a valid key,
    # counted by its hash) has a bucket of its own wherever it calls from; everyone else is
    # counted by client address (an IPv6 address by its /64). Buckets live in each worker
    # process: with ``serve --workers N`` a caller may get up to N times these figures.
    # /healthz, /readyz, the explorer's page and files, /docs, /redoc and /openapi.json are
    # never limited. A refusal is 429 problem+json with Retry-After.
    #: Off for load benchmarks, or when a proxy in front limits already.
    rate_limit_enabled: bool = True
    #: Anonymous callers, per address: the explorer opening a county makes 5-10 requests and
    #: typing in its search box 1-2 a second; 10/s with bursts of 100 leaves a department's
    #: office (many people behind one NAT address) room, and stops one address from taking a
    #: large share of the server (~100s of requests/s).
    rate_limit_anonymous_per_second: float = Field(default=10.0, gt=0)
    rate_limit_anonymous_burst: int = Field(default=100, ge=1)
    #: Key holders, per key: scripts and imports as well as people (a batch of up to
    #: max_batch_size items is one request).
    rate_limit_key_per_second: float = Field(default=50.0, gt=0)
    rate_limit_key_burst: int = Field(default=250, ge=1)
    #: Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``) of reverse proxies whose
    #: ``X-Forwarded-For`` (and ``-Proto``) is believed: the client is the right-most address
    #: in it that is not one of these (for rate limits and the access log). Empty (the
    #: default): the headers are ignored, so no caller picks its own address.
    trusted_proxies: list[str] = Field(default_factory=list)
    #: Buckets kept at most per process (~200 bytes each); a bucket idle long enough to be full
    #: again is dropped anyway, and past this the least recently used go first.
    rate_limit_max_buckets: int = Field(default=100_000, ge=100)

    # ---- Neo4j failing fast (graph_service/store/neo4j_resilience.py). When the server is
    # down a request gets its 503 at once; when it hangs, within about
    # neo4j_probe_after_seconds + neo4j_probe_timeout_seconds: a call running longer than the
    # first makes the service open a connection of its own to the server; not answered within
    # the second, the circuit opens (calls running are ended with 503, new ones refused at
    # once) until the database answers a query again, asked every
    # neo4j_probe_interval_seconds.
    #: TCP connect to the server (the driver's ``connection_timeout``).
    neo4j_connection_timeout_seconds: float = Field(default=1.0, gt=0)
    #: Waiting for a pooled connection, connecting included (``connection_acquisition_timeout``).
    neo4j_acquisition_timeout_seconds: float = Field(default=2.0, gt=0)
    #: How long transient server errors (deadlocks, lock timeouts) are retried. The driver's
    #: own retry (``max_transaction_retry_time``) is off: it would retry a refused connection for
    #: seconds too.
    neo4j_retry_seconds: float = Field(default=2.0, ge=0)
    #: The longest one store call may take (reads and writes; migrations are not limited):
    #: a backstop below the request's time budget. Loading the national register writes
    #: batches of ~2 s; the seed graph's reads take milliseconds.
    neo4j_call_timeout_seconds: float = Field(default=30.0, gt=0)
    #: A call running this long makes the service check the server (a new connection, once a
    #: probe interval at most, however many calls are slow).
    neo4j_probe_after_seconds: float = Field(default=0.5, gt=0)
    #: A check not answered within this opens the circuit. A server just started took up to
    #: ~1 s over a new connection's handshake and login on a busy 2-core machine.
    neo4j_probe_timeout_seconds: float = Field(default=2.0, gt=0)
    #: While the circuit is open, the database is asked this often (in the background).
    neo4j_probe_interval_seconds: float = Field(default=1.0, gt=0)
    # -------------------------------------------------------------- CPU-bound work and jobs
    # (graph_service.services.work: why threads, what is cached, how the budget works)

    #: Worker threads for CPU-bound work (analyses, recommendation indexes and answers,
    #: exports); a request waits for a free one within its time budget.
    work_threads: int = Field(default=2, ge=1, le=64)
    #: Seconds a request may wait for its work (a free worker included). Past it the answer
    #: is 503 busy with Retry-After; the work goes on and its result is cached.
    request_budget_seconds: float = Field(default=5.0, gt=0, le=600)
    #: Finished answers kept (per scope, parameters, store version and audience).
    result_cache_entries: int = Field(default=256, ge=0, le=100_000)
    #: Scope graphs kept with what is derived from them (a county's is ~100 MB with its
    #: recommender index).
    graph_cache_entries: int = Field(default=16, ge=1, le=1_000)
    #: Jobs one server process runs at once; fewer than ``work_threads`` leaves workers to
    #: requests that wait within their budget.
    job_concurrency: int = Field(default=1, ge=1, le=64)
    #: Jobs queued or running at once, over every server process, and per caller (an
    #: account, or an address for anonymous callers): more is 503 busy.
    job_max_active: int = Field(default=16, ge=1, le=10_000)
    job_max_active_per_caller: int = Field(default=2, ge=1, le=10_000)
    #: Hours a finished job and its result are kept.
    job_retention_hours: float = Field(default=24.0, gt=0)

    # -------------------------------------------------------------- caps below admin
    # What one request of a caller without an admin key may ask for (an admin key or a job
    # lifts them; graph_service.api.caps applies them). The routes' own bounds still hold.

    #: Largest graph whose betweenness, closeness and harmonic centrality are exact
    #: (``exact_max``: O(nm) up to it; a 4,950-node county takes ~3 s).
    cap_exact_max: int = Field(default=5_000, ge=10)
    #: Sampled sources of betweenness (``k``: O(km)).
    cap_sample_k: int = Field(default=1_000, ge=2)
    #: Nodes of one analysed or exported scope (``scope``: ``all`` or a region, with
    #: ``include_structural`` or not, costs in proportion).
    cap_scope_nodes: int = Field(default=50_000, ge=1)
    #: Rows one list of an answer holds (``limit`` of coverage and communities).
    cap_listed: int = Field(default=10_000, ge=0)
    #: Villages one helper takes in an assignment (``k``: the min-cost flow's size).
    cap_assignment_k: int = Field(default=50, ge=0)
    #: Candidate partners per village in an assignment (``top_candidates``).
    cap_assignment_candidates: int = Field(default=200, ge=1)
    #: Villages or helpers named in one assignment (``villages``, ``helpers``).
    cap_assignment_actors: int = Field(default=5_000, ge=1)
    #: Pairs one what-if run applies (``proposed``).
    cap_proposed_pairs: int = Field(default=500, ge=1)
    #: Seconds a scope's exported graph, and what is derived from it (recommender indexes,
    #: analysis inputs), may be used after a write changed the store version: 0 rebuilds
    #: after every write (exact). With 0, writes every few milliseconds make every request
    #: rebuild (docs/workers.md, BENCHMARKS.md "Load": 2.5x fewer requests served at 200
    #: clients); a second keeps recommendations and analyses as current as workers are kept
    #: (a write is seen everywhere within 1 s). Node, neighbourhood, search and coverage
    #: reads are exact whatever this is.
    scope_graph_max_stale_s: float = Field(default=1.0, ge=0, le=60)

    @property
    def embedded_path(self) -> Path:
        return self.data_dir / "graph.sqlite3"

    @property
    def jobs_path(self) -> Path:
        """Jobs and their results, shared by every server process on this data directory."""
        return self.data_dir / "jobs.sqlite3"

    @property
    def store_backend(self) -> str:
        return "neo4j" if self.neo4j_uri else "embedded"

    def key_name(self, key: str | None) -> str | None:
        """The name of the configured key ``key`` is (``"api-key"`` for an unnamed one), or
        ``None`` if it is none of them. Every configured hash is compared, in constant time."""
        if not key:
            return None
        presented = hash_api_key(key)
        found: str | None = None
        for stored in self.api_key_hashes:
            name, _, digest = stored.rpartition("=")
            if hmac.compare_digest(presented, digest) and found is None:
                found = name or "api-key"
        return found

    def key_is_valid(self, key: str | None) -> bool:
        """Constant-time comparison of a presented key against every configured hash."""
        return self.key_name(key) is not None


@lru_cache
def get_settings() -> Settings:
    return Settings()
