"""Pick the store from configuration: Neo4j when ``NEO4J_URI`` is set, else embedded."""

from __future__ import annotations

from graph_service.settings import Settings
from graph_service.store.protocol import GraphStore

__all__ = ["create_store"]


def create_store(settings: Settings) -> GraphStore:
    if settings.neo4j_uri:
        from graph_service.store.neo4j import Neo4jGraphStore
        from graph_service.store.neo4j_resilience import Neo4jTimeouts

        timeouts = Neo4jTimeouts(
            connection=settings.neo4j_connection_timeout_seconds,
            acquisition=settings.neo4j_acquisition_timeout_seconds,
            retry=settings.neo4j_retry_seconds,
            call=settings.neo4j_call_timeout_seconds,
            probe_after=settings.neo4j_probe_after_seconds,
            probe_timeout=settings.neo4j_probe_timeout_seconds,
            probe_interval=settings.neo4j_probe_interval_seconds,
        )
        store: GraphStore = Neo4jGraphStore(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password.get_secret_value(),
            settings.neo4j_database,
            timeouts=timeouts,
        )
        return store
    from graph_service.store.embedded import EmbeddedGraphStore

    return EmbeddedGraphStore(settings.embedded_path)
