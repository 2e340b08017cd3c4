// Ids are unique across the whole graph (:Entity) and within every registry label.
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT {{label}}_id IF NOT EXISTS FOR (n:{{label}}) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT schema_migration_version IF NOT EXISTS FOR (m:SchemaMigration) REQUIRE m.version IS UNIQUE;
// Link ids: unique per relationship type (Neo4j 5.7+ relationship key constraints are
// Enterprise-only; a uniqueness constraint is Community).
CREATE CONSTRAINT {{type}}_id IF NOT EXISTS FOR ()-[r:{{type}}]-() REQUIRE r.id IS UNIQUE
