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

    #: Seconds a scope's exported graph, and what is derived from it (recommender indexes,
    #: analysis inputs), may be used after a write changed the store version: 0 rebuilds
    #: after every write (exact). Writes every few milliseconds make every request rebuild
    #: (docs/workers.md, BENCHMARKS.md "Load"); a bound of a second keeps recommendations
    #: and analyses as current as the issue asks of workers (a write is seen within 1 s).
    scope_graph_max_stale_s: float = Field(default=0.0, ge=0, le=60)

    @property
    def embedded_path(self) -> Path:
        return self.data_dir / "graph.sqlite3"

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
